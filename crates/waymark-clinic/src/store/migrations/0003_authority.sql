-- Authority: the clinic decides who a device is and what it may write.
-- The staff register: who may be enrolled, and later who signs in.
CREATE TABLE staff (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'coordinator', 'manager', 'panel_member', 'advocate', 'referrer')),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    added_at TEXT NOT NULL
) STRICT;
-- A code is bound to an advocate when issued; codes issued before carry none and are refused.
ALTER TABLE enrolments ADD COLUMN advocate TEXT;
-- Devices enrolled before carry the advocate they claimed: they pull and
-- push nothing until an administrator confirms it (`waymark-clinic confirm`).
ALTER TABLE devices ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1));
-- The HLC of the device's latest op whose clock was accepted.
ALTER TABLE devices ADD COLUMN head_hlc TEXT;
UPDATE devices SET head_hlc = (SELECT json_extract(op, '$.hlc') FROM ops WHERE ops.origin = devices.id ORDER BY seq DESC LIMIT 1);
-- The case each record belongs to, from the first op that named it, and
-- the advocate whose device created it.
CREATE TABLE record_homes (
    record_id TEXT PRIMARY KEY,
    case_id TEXT,
    owner TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO record_homes (record_id, case_id, owner)
SELECT json_extract(op, '$.record_id'), case_id, coalesce((SELECT advocate FROM devices WHERE devices.id = ops.origin), '')
FROM ops ORDER BY position;
-- Each case's advocate over time, keyed by the HLC of the op that set it.
CREATE TABLE assignments (
    case_id TEXT NOT NULL,
    hlc TEXT NOT NULL,
    advocate TEXT NOT NULL,
    PRIMARY KEY (case_id, hlc)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO assignments (case_id, hlc, advocate)
SELECT case_id, json_extract(op, '$.hlc'), json_extract(op, '$.changes.new.advocate') FROM ops
WHERE json_extract(op, '$.kind') = 'case' AND case_id IS NOT NULL AND json_type(op, '$.changes.new.advocate') = 'text'
ORDER BY position;
-- Ops the clinic would not accept: kept whole, out of the feed. Their slot
-- counts as held, so the device's later ops are acknowledged.
CREATE TABLE refused (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    code TEXT NOT NULL,
    op TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (origin, seq)
) STRICT, WITHOUT ROWID;
