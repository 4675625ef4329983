-- Waymark vault schema 3. Landed migrations are never edited.

-- Two laptops can each give a new case the same reference while offline.
-- Sync has to take both: refusing the second would hide a whole case from
-- this laptop. Uniqueness therefore moves from the index to the vault's own
-- check on local writes, and a clash that arrives by sync goes on the
-- problems list so a person renames one of the two.
DROP INDEX cases_reference;
CREATE INDEX cases_by_reference ON cases (reference);
