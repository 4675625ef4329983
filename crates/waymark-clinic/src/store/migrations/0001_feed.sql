CREATE TABLE enrolments (
    token_hash TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    used_by TEXT
) STRICT;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    advocate TEXT NOT NULL,
    keys TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT,
    acked_through INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE requests (
    device TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (device, request_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The feed: every op from every device, in arrival order.
CREATE TABLE ops (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    case_id TEXT,
    content_hash TEXT NOT NULL,
    op TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (origin, seq)
) STRICT;
CREATE INDEX ops_case ON ops (case_id, position);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    op TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX quarantine_slot ON quarantine (origin, seq);
CREATE TABLE case_advocates (
    case_id TEXT PRIMARY KEY,
    advocate TEXT NOT NULL
) STRICT;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
CREATE TRIGGER ops_append_only_delete BEFORE DELETE ON ops BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
