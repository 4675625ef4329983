-- Waymark vault schema 12: subject access. Landed migrations are never
-- edited: add a new file.

-- Subject access requests (UK GDPR article 15): whose, about which case,
-- received when and due when (a month later). What the advocate released of
-- other people's information, item by item (a record id and a field), by whom
-- and when. Ids, codes and dates only.
-- A perpetrator's request names his record: a case may hold more than one.
-- An advocate may withhold one of the requester's own items under an
-- exemption (a reason code); a release keeps the SHA-256 of the words it
-- released, so words changed since are asked about again.
CREATE TABLE access_requests (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    subject TEXT NOT NULL CHECK (subject IN ('victim', 'perpetrator')),
    perpetrator_id TEXT,
    received_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    made_at TEXT NOT NULL,
    made_by TEXT NOT NULL
) STRICT;
CREATE INDEX access_requests_case ON access_requests (case_id);
CREATE TABLE access_releases (
    request_id TEXT NOT NULL REFERENCES access_requests (id),
    item_key TEXT NOT NULL,
    released_at TEXT NOT NULL,
    released_by TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    PRIMARY KEY (request_id, item_key)
) STRICT, WITHOUT ROWID;
CREATE TABLE access_exemptions (
    request_id TEXT NOT NULL REFERENCES access_requests (id),
    item_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (request_id, item_key)
) STRICT, WITHOUT ROWID;
