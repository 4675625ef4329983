-- Waymark vault schema 2: sync state. Landed migrations are never edited.

-- The last write to each field of each record: its HLC and op. Merging a
-- change from another device compares clocks per field, and a conflict names
-- the two ops that disagree.
CREATE TABLE field_clocks (
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    hlc TEXT NOT NULL,
    op_id TEXT NOT NULL,
    PRIMARY KEY (record_id, field)
) STRICT, WITHOUT ROWID;

-- Backfill from the op log, oldest first, so the latest write per field wins.
INSERT OR REPLACE INTO field_clocks (record_id, field, hlc, op_id)
SELECT ops.record_id, changed.key, ops.hlc, ops.op_id
FROM ops, json_each(ops.changes, '$.new') AS changed
ORDER BY ops.seq;

-- Ops received from the clinic (other devices' and the clinic's own). The
-- content hash makes a resend a no-op and a changed resend a quarantine.
-- `held` waits for a newer Waymark; `failed` is on the problems list.
CREATE TABLE received_ops (
    op_id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    op TEXT NOT NULL CHECK (json_valid(op)),
    received_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'held', 'failed'))
) STRICT;
CREATE INDEX received_ops_state ON received_ops (state);

-- Safety-critical fields changed on two devices at once. Both values stay
-- until a person chooses. The id is the same on both devices.
CREATE TABLE sync_conflicts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    case_id TEXT,
    field TEXT NOT NULL,
    local_value TEXT NOT NULL CHECK (json_valid(local_value)),
    local_hlc TEXT NOT NULL,
    local_op TEXT NOT NULL,
    remote_value TEXT NOT NULL CHECK (json_valid(remote_value)),
    remote_hlc TEXT NOT NULL,
    remote_op TEXT NOT NULL,
    remote_actor TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT CHECK (resolution IN ('local', 'remote'))
) STRICT;

-- Everything sync could not do on its own and will not drop: quarantined
-- ops (same id, different content), ops that cannot apply here, refusals.
CREATE TABLE sync_problems (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    code TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    op_id TEXT,
    seq INTEGER,
    -- The incoming op for a quarantined or failed one; never shown in logs.
    op TEXT CHECK (op IS NULL OR json_valid(op)),
    resolved_at TEXT
) STRICT;
