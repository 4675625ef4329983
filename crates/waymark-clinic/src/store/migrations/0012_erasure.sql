-- Erasure: a case erased at the clinic (the retention schedule or the
-- person's request). Only ids, codes and times stay.
CREATE TABLE erasures (
    case_id TEXT PRIMARY KEY,
    erased_at TEXT NOT NULL,
    erased_by TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('retention_due', 'erasure_request')),
    op_id TEXT NOT NULL
) STRICT;

-- An erased case's ops keep their position, id, slot and case; their text
-- becomes the tombstone and their content hash the word `erased` (a hash of
-- an op whose other fields stay would let someone test guesses of a small
-- value offline). That is the only change the feed allows, once, and only
-- for a case erased in the same transaction or before.
ALTER TABLE ops ADD COLUMN erased INTEGER NOT NULL DEFAULT 0 CHECK (erased IN (0, 1));
DROP TRIGGER ops_append_only_update;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops
WHEN NOT (
    OLD.erased = 0 AND NEW.erased = 1 AND NEW.op = '{"erased":true}'
    AND NEW.position = OLD.position AND NEW.op_id = OLD.op_id AND NEW.origin = OLD.origin
    AND NEW.seq = OLD.seq AND NEW.case_id IS OLD.case_id AND NEW.content_hash = 'erased'
    AND NEW.received_at = OLD.received_at
    AND EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = OLD.case_id)
)
BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
