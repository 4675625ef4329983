-- Waymark vault schema 5. Landed migrations are never edited.

-- Entries of consents, sharing decisions, dependants and vehicles get ids,
-- so an entry edited on two laptops at once merges as one entry instead of
-- becoming two. An existing entry's id is derived from its record, its
-- list, its content and its place among identical entries
-- (`waymark_entry_ids`, the domain's `identify_entries`), so every laptop
-- gives an entry it holds in common with another the same id.
UPDATE victims SET doc = json_set(doc,
    '$.consents', json(waymark_entry_ids(id, 'consents', json_extract(doc, '$.consents'))),
    '$.sharing_without_consent', json(waymark_entry_ids(id, 'sharing_without_consent', json_extract(doc, '$.sharing_without_consent'))),
    '$.dependants', json(waymark_entry_ids(id, 'dependants', json_extract(doc, '$.dependants'))));
UPDATE perpetrators SET doc = json_set(doc,
    '$.vehicles', json(waymark_entry_ids(id, 'vehicles', json_extract(doc, '$.vehicles'))));

-- The concurrent writes a field keeps are shown the same way.
UPDATE field_heads SET value = waymark_entry_ids(record_id, field, value)
WHERE field IN ('consents', 'sharing_without_consent', 'dependants', 'vehicles');
