-- That a subject access requester is who they say (a perpetrator may pose
-- as the victim): who checked and on which day. No answer is made before;
-- what was seen stays on paper.
ALTER TABLE access_requests ADD COLUMN identity_checked_on TEXT;
ALTER TABLE access_requests ADD COLUMN identity_checked_by TEXT;
