-- Signing in to the workspace. The password is an argon2id PHC string; the
-- TOTP secret is kept as bytes in this encrypted store; a session is kept by
-- the SHA-256 of its token, never the token.
CREATE TABLE credentials (
    staff_code TEXT PRIMARY KEY,
    password TEXT,
    totp_secret BLOB,
    totp_last_step INTEGER
) STRICT;
-- Failed sign-ins by what they name: an address, or a staff code as typed
-- (whether or not anyone has it, so the delay does not tell who exists).
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
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
