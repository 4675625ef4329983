-- Waymark vault schema 10. Landed migrations are never edited.

-- The commissioner's quarterly return asks what the records did not hold:
-- a victim's ethnic group and sexual orientation (`ethnicity`,
-- `sexual_orientation`) and, at closure, whether they are better able to cope
-- and recover (`closure.better_able_to_cope`). Records are JSON documents, so
-- no table changes; the number tells a laptop of schema 9 to hold such a
-- record until it is updated.
-- The return reads each case's first contact with its victim; the index on
-- (case_id, at) already serves that, so nothing is added for it.
