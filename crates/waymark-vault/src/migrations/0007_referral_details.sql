-- Waymark vault schema 7. Landed migrations are never edited.

-- A case's referral may now carry what a partner agency's referral form
-- holds (the referrer's contact and reference, the criteria met, whether the
-- victim knows, who the victim fears, earlier referrals), a dependant a
-- relationship and a school, and a consent or a decision to share without
-- consent the panel agency it covers. Records are JSON documents, so no table
-- changes; the schema version moves so that a laptop that does not know
-- these fields holds an op carrying them rather than failing to read it.
SELECT 1;
