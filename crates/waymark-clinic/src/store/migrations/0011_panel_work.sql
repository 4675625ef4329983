-- The panel's work around its meetings (`crate::panel`): the coordinator's
-- hand on the selection, agencies' research returns, what a meeting recorded
-- of each case, and the actions it agreed. Each is one JSON document under
-- its kind and id; the case and meeting columns are for finding them.
-- The review and tasks a case record makes go to the feed as the clinic's
-- ops in the same transaction (`ClinicStore::save_panel`).
CREATE TABLE panel_docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    case_id TEXT,
    meeting_id TEXT,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX panel_docs_case ON panel_docs (case_id);
CREATE INDEX panel_docs_meeting ON panel_docs (meeting_id);
