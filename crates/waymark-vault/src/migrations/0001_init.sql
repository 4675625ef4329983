-- Waymark vault schema 1. Landed migrations are never edited: add a new file.
--
-- Each record kind has its own table. `doc` is the record exactly as the
-- domain crate serialises it; the other columns are generated from it for
-- indexing, so they can never disagree with the document.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (id) VIRTUAL,
    reference TEXT GENERATED ALWAYS AS (json_extract(doc, '$.reference')) STORED,
    status TEXT GENERATED ALWAYS AS (json_extract(doc, '$.status')) STORED,
    risk_level TEXT GENERATED ALWAYS AS (json_extract(doc, '$.risk_level')) STORED,
    advocate TEXT GENERATED ALWAYS AS (json_extract(doc, '$.advocate')) STORED,
    risk_review_on TEXT GENERATED ALWAYS AS (json_extract(doc, '$.risk_review_on')) STORED
) STRICT;
CREATE UNIQUE INDEX cases_reference ON cases (reference);

CREATE TABLE victims (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    name TEXT GENERATED ALWAYS AS (json_extract(doc, '$.name')) STORED,
    preferred_name TEXT GENERATED ALWAYS AS (json_extract(doc, '$.preferred_name')) STORED
) STRICT;
CREATE UNIQUE INDEX victims_case ON victims (case_id);

CREATE TABLE perpetrators (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL
) STRICT;
CREATE INDEX perpetrators_case ON perpetrators (case_id);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    occurred_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.occurred_at')) VIRTUAL
) STRICT;
CREATE INDEX incidents_case_time ON incidents (case_id, occurred_at);

CREATE TABLE incident_amendments (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    incident_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.incident_id')) VIRTUAL
) STRICT;
CREATE INDEX incident_amendments_incident ON incident_amendments (incident_id);
CREATE INDEX incident_amendments_case ON incident_amendments (case_id);

CREATE TABLE risk_assessments (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    assessed_on TEXT GENERATED ALWAYS AS (json_extract(doc, '$.assessed_on')) VIRTUAL
) STRICT;
CREATE INDEX risk_assessments_case ON risk_assessments (case_id, assessed_on);

CREATE TABLE safety_plans (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    version INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.version')) VIRTUAL
) STRICT;
CREATE UNIQUE INDEX safety_plans_case_version ON safety_plans (case_id, version);

CREATE TABLE hearings (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    starts_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.starts_at')) VIRTUAL
) STRICT;
CREATE INDEX hearings_case_time ON hearings (case_id, starts_at);
CREATE INDEX hearings_time ON hearings (starts_at);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL
) STRICT;
CREATE INDEX orders_case ON orders (case_id);

CREATE TABLE breaches (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    order_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.order_id')) VIRTUAL
) STRICT;
CREATE INDEX breaches_case ON breaches (case_id);
CREATE INDEX breaches_order ON breaches (order_id);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL
) STRICT;
CREATE INDEX referrals_case ON referrals (case_id);

CREATE TABLE clinic_reviews (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL
) STRICT;
CREATE INDEX clinic_reviews_case ON clinic_reviews (case_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.at')) VIRTUAL
) STRICT;
CREATE INDEX contacts_case_time ON contacts (case_id, at);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    due_on TEXT GENERATED ALWAYS AS (json_extract(doc, '$.due_on')) VIRTUAL
) STRICT;
CREATE INDEX tasks_due ON tasks (due_on);
CREATE INDEX tasks_case ON tasks (case_id);

-- The device's op log: every mutation, numbered contiguously from 1. The
-- sync engine sends it in order; an op leaves the outbox only once the
-- clinic's acknowledgement is durable.
CREATE TABLE ops (
    seq INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE,
    hlc TEXT NOT NULL,
    made_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    case_id TEXT,
    action TEXT NOT NULL CHECK (action IN ('create', 'update')),
    -- {"new": {field: value}} for a create; {"new": {...}, "old": {...}} with
    -- only the changed fields for an update.
    changes TEXT NOT NULL CHECK (json_valid(changes)),
    schema_version INTEGER NOT NULL
) STRICT;
CREATE INDEX ops_record ON ops (record_id);

CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY REFERENCES ops (seq)
) STRICT;

-- Who did what to which record, when: views, prints and exports as well as
-- edits. Each row's hash covers the previous row's hash.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT,
    record_id TEXT,
    case_id TEXT,
    detail TEXT NOT NULL CHECK (json_valid(detail)),
    -- SHA-256 over this event and the previous event's hash.
    hash BLOB NOT NULL
) STRICT;
CREATE INDEX audit_case ON audit (case_id);

CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops
BEGIN SELECT RAISE(ABORT, 'the op log is append-only'); END;
CREATE TRIGGER ops_append_only_delete BEFORE DELETE ON ops
BEGIN SELECT RAISE(ABORT, 'the op log is append-only'); END;
