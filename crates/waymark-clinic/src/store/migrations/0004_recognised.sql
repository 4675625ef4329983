-- A slot of a rejoined laptop's log filled by an op the feed already holds
-- from another device of the same advocate (the laptop's earlier identity,
-- before a restore). The op stays in the feed once.
CREATE TABLE recognised (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (origin, seq)
) STRICT, WITHOUT ROWID;
-- An administrator's decision on a quarantined op. A released op joins the
-- feed as the clinic's op `released_as`; the reason stays here, never in the audit.
ALTER TABLE quarantine ADD COLUMN decided_at TEXT;
ALTER TABLE quarantine ADD COLUMN decision TEXT CHECK (decision IN ('released', 'discarded'));
ALTER TABLE quarantine ADD COLUMN decided_by TEXT;
ALTER TABLE quarantine ADD COLUMN reason TEXT;
ALTER TABLE quarantine ADD COLUMN released_as TEXT;
-- Every new op is checked against discarded changes by its id.
CREATE INDEX quarantine_op ON quarantine (op_id);
-- What administrators did at the clinic: staff codes, ids and counts, never names or free text.
CREATE TABLE admin_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL CHECK (json_valid(detail))
) STRICT;
CREATE TRIGGER admin_audit_no_update BEFORE UPDATE ON admin_audit BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER admin_audit_no_delete BEFORE DELETE ON admin_audit BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
