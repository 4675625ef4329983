-- Waymark vault schema 13: a subject access request records that the
-- requester's identity was checked (a perpetrator may pose as the victim),
-- by whom and on which day; no answer is made before. What was seen stays
-- on paper. Landed migrations are never edited: add a new file.
ALTER TABLE access_requests ADD COLUMN identity_checked_on TEXT;
ALTER TABLE access_requests ADD COLUMN identity_checked_by TEXT;
