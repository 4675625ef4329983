-- Signing in to the workspace. The password is an argon2id PHC string; the
-- TOTP secret is kept as bytes in this encrypted store; a session is kept by
-- the SHA-256 of its token, never the token.
CREATE TABLE credentials (
    staff_code TEXT PRIMARY KEY,
    password TEXT,
    totp_secret BLOB,
    totp_last_step INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT
) STRICT;
CREATE TABLE address_failures (
    address TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL
) STRICT;
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    staff_code TEXT NOT NULL,
    csrf TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_staff ON sessions (staff_code);
