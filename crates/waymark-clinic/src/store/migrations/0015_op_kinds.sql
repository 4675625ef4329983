-- Each op's record kind beside its text, as PostgreSQL's feed keeps it: the
-- address guard reads a case's victim ops on every push, and finding them
-- by parsing every op of the case grew with the case. A kind is a code,
-- never content, so an erased op keeps it.
ALTER TABLE ops ADD COLUMN kind TEXT;
DROP TRIGGER ops_append_only_update;
UPDATE ops SET kind = json_extract(op, '$.kind') WHERE erased = 0;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops
WHEN NOT (
    OLD.erased = 0 AND NEW.erased = 1 AND NEW.op = '{"erased":true}'
    AND NEW.position = OLD.position AND NEW.op_id = OLD.op_id AND NEW.origin = OLD.origin
    AND NEW.seq = OLD.seq AND NEW.case_id IS OLD.case_id AND NEW.content_hash = 'erased'
    AND NEW.received_at = OLD.received_at AND NEW.kind IS OLD.kind
    AND EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = OLD.case_id)
)
BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
