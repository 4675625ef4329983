-- Waymark vault schema 9. Landed migrations are never edited.

-- The clinic panel's review (clinic_review) gains what the panel decided
-- (`decisions`) and each action's named owner (`actions[].named_owner`).
-- Records are JSON documents, so no table changes; the number is what tells
-- a laptop of schema 8 to hold such a review until it is updated.
-- A task made from a panel action links to the review; the clinic's copy
-- looks tasks up by that link to show how the action stands on the laptop.
CREATE INDEX tasks_linked ON tasks (json_extract(doc, '$.linked.id'));
