-- Waymark vault schema 11: the retention schedule and erasure. Landed
-- migrations are never edited: add a new file.
--
-- A case's legal hold (`legal_hold`, the reason and the day it began) is a
-- field of the case's document: nothing to add here.

-- Cases the clinic erased: the case id, when, and the clinic's erase op.
-- Nothing else of the case stays on this laptop.
CREATE TABLE erasures (
    case_id TEXT PRIMARY KEY,
    erased_at TEXT NOT NULL,
    op_id TEXT NOT NULL
) STRICT;

-- An erased case's ops keep their slot, id, clock, kind and record id, and
-- when they were erased; their changes become the tombstone. No hash of what
-- they held is kept: with every other field of the op known, it would let
-- someone test guesses of a small value (a yes or no, a date) offline. That
-- is the only change the op log allows, once, and only for a case erased in
-- the same transaction or before.
ALTER TABLE ops ADD COLUMN erased_at TEXT;
DROP TRIGGER ops_append_only_update;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops
WHEN NOT (
    OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
    AND NEW.changes = '{"erased":true,"new":{}}'
    AND NEW.seq = OLD.seq AND NEW.op_id = OLD.op_id AND NEW.hlc = OLD.hlc AND NEW.made_at = OLD.made_at
    AND NEW.actor = OLD.actor AND NEW.kind = OLD.kind AND NEW.record_id = OLD.record_id
    AND NEW.case_id IS OLD.case_id AND NEW.action = OLD.action AND NEW.schema_version = OLD.schema_version
    AND EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = OLD.case_id)
)
BEGIN SELECT RAISE(ABORT, 'the op log is append-only'); END;
