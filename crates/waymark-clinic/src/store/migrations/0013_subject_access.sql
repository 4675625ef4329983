-- Subject access requests about the clinic's records (clinic.md, "Data
-- protection": they go to the coordinator). A request names its case, whose
-- it is and its dates; each decision on an item is a release of a withheld
-- item (with the SHA-256 of the words released, so changed words are
-- withheld again) or an exemption on one of the requester's own. Item keys
-- are a record or panel document id and a field; no words are kept here.
CREATE TABLE access_requests (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    subject TEXT NOT NULL CHECK (subject IN ('victim', 'perpetrator')),
    perpetrator_id TEXT,
    received_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    made_at TEXT NOT NULL,
    made_by TEXT NOT NULL,
    CHECK ((subject = 'perpetrator') = (perpetrator_id IS NOT NULL))
) STRICT;
CREATE INDEX access_requests_case ON access_requests (case_id);

CREATE TABLE access_decisions (
    request_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    released_sha256 TEXT,
    exemption TEXT CHECK (exemption IN ('crime', 'serious_harm', 'identifies_someone', 'legal_privilege')),
    decided_at TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    PRIMARY KEY (request_id, item_key),
    CHECK ((released_sha256 IS NULL) <> (exemption IS NULL))
) STRICT;
