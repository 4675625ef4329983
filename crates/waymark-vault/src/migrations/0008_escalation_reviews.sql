-- Waymark vault schema 8. Landed migrations are never edited.

-- An advocate's review of what the escalation analysis flagged on a case
-- (waymark_domain::escalation): history, never edited. The analysis itself
-- is derived on demand and not stored.
CREATE TABLE escalation_reviews (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_hlc TEXT NOT NULL,
    case_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.case_id')) VIRTUAL,
    reviewed_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.reviewed_at')) VIRTUAL
) STRICT;
CREATE INDEX escalation_reviews_case ON escalation_reviews (case_id, reviewed_at);

-- Reminders the advocate has put off, on this laptop only: the key names the
-- reminder (its kind, record and due date), never its words.
CREATE TABLE reminder_snoozes (
    reminder_key TEXT PRIMARY KEY,
    until_on TEXT NOT NULL
) STRICT;
