-- The clinic on PostgreSQL: the same tables as the SQLCipher store's
-- migrations 1 to 14, in one. What names people is sealed by the clinic
-- before it arrives (`bytea` columns, XChaCha20-Poly1305 under a key the
-- database never sees); content hashes are keyed. What stays plain is
-- listed, with why, in docs/postgres.md. Append-only: add a file and its
-- line in pg_migrations.lock, never edit one that has landed.

CREATE TABLE enrolments (
    token_hash text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    used_by uuid,
    advocate text
);

CREATE TABLE devices (
    id uuid PRIMARY KEY,
    advocate text NOT NULL,
    keys text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_at timestamptz NOT NULL,
    revoked_at timestamptz,
    last_seen_at timestamptz,
    acked_through bigint NOT NULL DEFAULT 0,
    confirmed boolean NOT NULL DEFAULT false,
    head_hlc text
);

CREATE TABLE requests (
    device uuid NOT NULL,
    request_id uuid NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (device, request_id)
);
CREATE INDEX requests_at ON requests (at);

CREATE TABLE batches (
    batch_id uuid PRIMARY KEY,
    device uuid NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX batches_at ON batches (at);

-- The feed. `position` is given under the store's write lock, so positions
-- become visible in order and a reader's cursor never passes one still to commit.
CREATE TABLE ops (
    position bigint PRIMARY KEY,
    op_id uuid NOT NULL UNIQUE,
    origin uuid NOT NULL,
    seq bigint NOT NULL,
    case_id uuid,
    record_id uuid,
    kind text NOT NULL,
    action text NOT NULL,
    hlc text,
    old_advocate text,
    content_hash bytea NOT NULL,
    op bytea NOT NULL,
    received_at timestamptz NOT NULL,
    erased boolean NOT NULL DEFAULT false,
    UNIQUE (origin, seq)
);
CREATE INDEX ops_case ON ops (case_id, position);

-- The feed is append-only. The one change allowed: an erased case's op
-- becomes a tombstone (its slot, id, case and time stay; what it said goes).
CREATE FUNCTION ops_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT OLD.erased AND NEW.erased
       AND NEW.position = OLD.position AND NEW.op_id = OLD.op_id AND NEW.origin = OLD.origin
       AND NEW.seq = OLD.seq AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id
       AND NEW.received_at = OLD.received_at AND NEW.hlc IS NULL AND NEW.old_advocate IS NULL
       AND EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = OLD.case_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the feed is append-only';
END $$;
CREATE TRIGGER ops_append_only BEFORE UPDATE OR DELETE ON ops FOR EACH ROW EXECUTE FUNCTION ops_append_only();

CREATE TABLE quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin uuid NOT NULL,
    seq bigint NOT NULL,
    op_id uuid NOT NULL,
    kind text NOT NULL,
    case_id uuid,
    record_id uuid,
    content_hash bytea NOT NULL,
    op bytea NOT NULL,
    at timestamptz NOT NULL,
    decided_at timestamptz,
    decision text CHECK (decision IN ('released', 'discarded')),
    decided_by text,
    reason bytea,
    released_as uuid,
    erased boolean NOT NULL DEFAULT false
);
CREATE INDEX quarantine_slot ON quarantine (origin, seq);
CREATE INDEX quarantine_op ON quarantine (op_id);

CREATE TABLE case_advocates (
    case_id uuid PRIMARY KEY,
    advocate text NOT NULL
);

CREATE TABLE replays (
    advocate text NOT NULL,
    case_id uuid NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (advocate, case_id, position)
);

CREATE TABLE staff (
    code text PRIMARY KEY,
    sealed bytea NOT NULL,
    role text NOT NULL CHECK (role IN ('administrator', 'coordinator', 'manager', 'panel_member', 'advocate', 'referrer')),
    active boolean NOT NULL,
    added_at timestamptz NOT NULL
);

CREATE TABLE record_homes (
    record_id uuid PRIMARY KEY,
    case_id uuid,
    owner text NOT NULL
);

CREATE TABLE assignments (
    case_id uuid NOT NULL,
    hlc text NOT NULL,
    advocate text NOT NULL,
    PRIMARY KEY (case_id, hlc)
);

CREATE TABLE refused (
    origin uuid NOT NULL,
    seq bigint NOT NULL,
    op_id uuid NOT NULL,
    kind text NOT NULL,
    case_id uuid,
    record_id uuid,
    content_hash bytea NOT NULL,
    code text NOT NULL,
    op bytea NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (origin, seq)
);

CREATE TABLE recognised (
    origin uuid NOT NULL,
    seq bigint NOT NULL,
    op_id uuid NOT NULL,
    content_hash bytea NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (origin, seq)
);

-- Ids, codes and counts only, by design (the SQLCipher store's too); chained.
CREATE TABLE admin_audit (
    seq bigint PRIMARY KEY,
    at text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    detail text NOT NULL,
    hash text
);
-- The highest line number ever given: a line taken off the end leaves it behind.
CREATE TABLE audit_counter (highest bigint NOT NULL);
INSERT INTO audit_counter (highest) VALUES (0);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit is append-only';
END $$;
CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE text_warnings (
    op_id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    kind text NOT NULL,
    record_id uuid NOT NULL,
    fields text NOT NULL,
    at timestamptz NOT NULL
);

CREATE TABLE credentials (
    staff_code text PRIMARY KEY,
    password bytea,
    totp_secret bytea,
    totp_last_step bigint
);

CREATE TABLE sign_in_failures (
    key text PRIMARY KEY,
    failures bigint NOT NULL,
    last_failure_at timestamptz NOT NULL
);

CREATE TABLE sessions (
    id text PRIMARY KEY,
    staff_code text NOT NULL,
    csrf bytea NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_by_staff ON sessions (staff_code);

CREATE TABLE referrals (
    number bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    case_id uuid,
    submitted_by text NOT NULL,
    submitted_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('submitted', 'accepted', 'declined')),
    form bytea NOT NULL,
    decided_by text,
    decided_at timestamptz,
    decline_reason text,
    advocate text
);
CREATE INDEX referrals_by_submitter ON referrals (submitted_by);

CREATE TABLE panel_meetings (
    id uuid PRIMARY KEY,
    meets_on date NOT NULL,
    doc bytea NOT NULL,
    published_at timestamptz,
    closed_at timestamptz
);

CREATE TABLE panel_docs (
    kind text NOT NULL,
    id text NOT NULL,
    case_id uuid,
    meeting_id uuid,
    doc bytea NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX panel_docs_case ON panel_docs (case_id);
CREATE INDEX panel_docs_meeting ON panel_docs (meeting_id);

CREATE TABLE erasures (
    case_id uuid PRIMARY KEY,
    erased_at timestamptz NOT NULL,
    erased_by text NOT NULL,
    reason text NOT NULL CHECK (reason IN ('retention_due', 'erasure_request')),
    op_id uuid NOT NULL
);

CREATE TABLE access_requests (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    subject text NOT NULL CHECK (subject IN ('victim', 'perpetrator')),
    perpetrator_id uuid,
    received_on date NOT NULL,
    due_on date NOT NULL,
    made_at timestamptz NOT NULL,
    made_by text NOT NULL,
    identity_checked_on date,
    identity_checked_by text,
    CHECK ((subject = 'perpetrator') = (perpetrator_id IS NOT NULL))
);
CREATE INDEX access_requests_case ON access_requests (case_id);

CREATE TABLE access_decisions (
    request_id uuid NOT NULL,
    item_key text NOT NULL,
    released_sha256 bytea,
    exemption text CHECK (exemption IN ('crime', 'serious_harm', 'identifies_someone', 'legal_privilege')),
    decided_at timestamptz NOT NULL,
    decided_by text NOT NULL,
    PRIMARY KEY (request_id, item_key),
    CHECK ((released_sha256 IS NULL) <> (exemption IS NULL))
);
