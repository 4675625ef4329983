-- The address guard at the clinic: an accepted op whose free text shows the
-- case's victim's address. A warning on the record (field paths only), never
-- a refusal of the op.
CREATE TABLE text_warnings (
    op_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fields TEXT NOT NULL CHECK (json_valid(fields)),
    at TEXT NOT NULL
) STRICT;
