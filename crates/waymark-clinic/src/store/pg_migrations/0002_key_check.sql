-- A value sealed under the clinic's key when a clinic first opens the
-- database: a server with another clinic's key file is refused at start,
-- before it writes anything the right clinic could not open.
CREATE TABLE key_check (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    sealed bytea NOT NULL
);
