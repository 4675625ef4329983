-- Waymark vault schema 6. Landed migrations are never edited.

-- field_clocks held a row for every field of every record, with text ids and
-- clocks: more bytes than the records themselves. A record now keeps one
-- clock (its first write) and a field a row only while its last write
-- differs from that. Ids are 16 bytes and clocks 28 (see clocks.rs).
CREATE TABLE record_clocks (
    record_id BLOB PRIMARY KEY,
    hlc BLOB NOT NULL,
    op_id BLOB NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE field_clocks_compact (
    record_id BLOB NOT NULL,
    field TEXT NOT NULL,
    hlc BLOB NOT NULL,
    op_id BLOB NOT NULL,
    PRIMARY KEY (record_id, field)
) STRICT, WITHOUT ROWID;

-- Existing clocks: a record's earliest write is its clock; the fields written
-- later keep theirs.
INSERT INTO record_clocks (record_id, hlc, op_id)
SELECT waymark_id_bytes(record_id), waymark_hlc_bytes(hlc), waymark_id_bytes(op_id)
FROM (SELECT record_id, hlc, op_id, row_number() OVER (PARTITION BY record_id ORDER BY hlc, op_id) AS n FROM field_clocks)
WHERE n = 1;

INSERT INTO field_clocks_compact (record_id, field, hlc, op_id)
SELECT r.record_id, f.field, waymark_hlc_bytes(f.hlc), waymark_id_bytes(f.op_id)
FROM field_clocks AS f JOIN record_clocks AS r ON r.record_id = waymark_id_bytes(f.record_id)
WHERE r.hlc <> waymark_hlc_bytes(f.hlc) OR r.op_id <> waymark_id_bytes(f.op_id);

DROP TABLE field_clocks;
ALTER TABLE field_clocks_compact RENAME TO field_clocks;
