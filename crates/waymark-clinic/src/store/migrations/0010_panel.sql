-- The panel's agencies and meetings. A panel member (and a referrer) works
-- for an agency; what of a victim their agency may see follows the
-- victim's consents and recorded lawful bases (`Victim::shares_with`).
ALTER TABLE staff ADD COLUMN agency TEXT;

-- A meeting: its date, chair, invited members and agenda (cases in order,
-- minutes each), as one JSON document (`store::PanelMeeting`). Invited
-- members see its cases from publication until its follow-up is closed.
CREATE TABLE panel_meetings (
    id TEXT PRIMARY KEY,
    meets_on TEXT NOT NULL,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    published_at TEXT,
    closed_at TEXT
) STRICT;
