-- Waymark vault schema 4. Landed migrations are never edited.

-- A safety-critical field changed on two devices at once has two current
-- values ("heads"), each from an op that did not know of the other. While a
-- field has more than one head, every head is a row here; a change that knew
-- all of them (a person's decision, or an edit made after seeing the
-- conflict) replaces them with one. Every device that has received the same
-- ops holds the same heads, so the same conflict and the same shown value.
CREATE TABLE field_heads (
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    op_id TEXT NOT NULL,
    hlc TEXT NOT NULL,
    value TEXT NOT NULL CHECK (json_valid(value)),
    PRIMARY KEY (record_id, field, op_id)
) STRICT, WITHOUT ROWID;

-- A problem a person set aside keeps why; one retried until it applied says so.
ALTER TABLE sync_problems ADD COLUMN resolution TEXT CHECK (resolution IS NULL OR resolution IN ('dismissed', 'retried'));
ALTER TABLE sync_problems ADD COLUMN reason TEXT;

-- Open conflicts from before are two heads each.
INSERT OR IGNORE INTO field_heads (record_id, field, op_id, hlc, value)
SELECT record_id, field, local_op, local_hlc, local_value FROM sync_conflicts WHERE resolved_at IS NULL AND local_op <> '';
INSERT OR IGNORE INTO field_heads (record_id, field, op_id, hlc, value)
SELECT record_id, field, remote_op, remote_hlc, remote_value FROM sync_conflicts WHERE resolved_at IS NULL;
