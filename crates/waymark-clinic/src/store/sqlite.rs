//! The default store: an embedded SQLCipher database whose random key is
//! wrapped with age in the clinic's key file and unlocked at start.

use super::*;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

/// Append-only, like the vault's: add a new entry, never edit one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE enrolments (
    token_hash TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    used_by TEXT
) STRICT;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    advocate TEXT NOT NULL,
    keys TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT,
    acked_through INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE requests (
    device TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (device, request_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The feed: every op from every device, in arrival order.
CREATE TABLE ops (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    case_id TEXT,
    content_hash TEXT NOT NULL,
    op TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (origin, seq)
) STRICT;
CREATE INDEX ops_case ON ops (case_id, position);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op_id TEXT NOT NULL,
    op TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX quarantine_slot ON quarantine (origin, seq);
CREATE TABLE case_advocates (
    case_id TEXT PRIMARY KEY,
    advocate TEXT NOT NULL
) STRICT;
CREATE TRIGGER ops_append_only_update BEFORE UPDATE ON ops BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
CREATE TRIGGER ops_append_only_delete BEFORE DELETE ON ops BEGIN SELECT RAISE(ABORT, 'the feed is append-only'); END;
"#,
    r#"
-- A case reassigned at feed position `position`: the new advocate's laptops
-- receive the case's earlier history when their pull passes that position.
CREATE TABLE replays (
    advocate TEXT NOT NULL,
    case_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (advocate, case_id, position)
) STRICT, WITHOUT ROWID;
"#,
];

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc))
}

impl SqliteStore {
    /// Opens (creating if asked) the database with its 32-byte raw key.
    pub fn open(path: &Path, key: &[u8; 32], create: bool) -> StoreResult<Self> {
        if !create && !path.exists() {
            return Err(ClinicError::Setup("no clinic database".into()));
        }
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
        let pragma = zeroize::Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex::encode(key)));
        conn.execute_batch(&pragma)?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(|_| ClinicError::WrongPassphrase)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;
             PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 10000;",
        )?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let found = usize::try_from(found).unwrap_or(usize::MAX);
        if found > MIGRATIONS.len() {
            return Err(ClinicError::Setup("the database is from a newer waymark-clinic".into()));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            conn.execute_batch(&format!("BEGIN; {sql} PRAGMA user_version = {}; COMMIT;", index + 1))?;
        }
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| ClinicError::Store("poisoned".into()))
    }
}

fn read_device(conn: &Connection, id: &str) -> StoreResult<Option<DeviceRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through FROM devices WHERE id = ?1",
        )?
        .query_row([id], device_row)
        .optional()?;
    row.transpose()
}

type DeviceRow = StoreResult<DeviceRecord>;

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    let id: String = r.get(0)?;
    let keys: String = r.get(2)?;
    let status: String = r.get(3)?;
    let enrolled: String = r.get(4)?;
    let acked: i64 = r.get(7)?;
    let bad = || ClinicError::Store("unreadable device row".into());
    Ok((|| {
        Ok(DeviceRecord {
            id: id.parse().map_err(|_| bad())?,
            advocate: r.get(1).map_err(|_| bad())?,
            keys: serde_json::from_str(&keys).map_err(|_| bad())?,
            status: if status == "revoked" { DeviceStatus::Revoked } else { DeviceStatus::Active },
            enrolled_at: time(Some(enrolled)).ok_or_else(bad)?,
            revoked_at: time(r.get(5).map_err(|_| bad())?),
            last_seen_at: time(r.get(6).map_err(|_| bad())?),
            acked_through: u64::try_from(acked).unwrap_or(0),
        })
    })())
}

impl ClinicStore for SqliteStore {
    fn add_enrolment(&self, token_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.conn()?
            .execute("INSERT INTO enrolments (token_hash, expires_at) VALUES (?1, ?2)", params![token_hash, expires_at.to_rfc3339()])?;
        Ok(())
    }

    fn enrol(&self, token_hash: &str, device: &DeviceRecord, now: DateTime<Utc>) -> StoreResult<DeviceRecord> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let token: Option<(String, Option<String>)> = tx
            .query_row("SELECT expires_at, used_by FROM enrolments WHERE token_hash = ?1", [token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (expires, used_by) = token.ok_or(ClinicError::EnrolmentRefused)?;
        if time(Some(expires)).is_none_or(|e| e <= now) {
            return Err(ClinicError::EnrolmentRefused);
        }
        let id = device.id.to_string();
        let result = match used_by {
            Some(used) if used == id => {
                let existing = read_device(&tx, &id)?.ok_or(ClinicError::EnrolmentRefused)?;
                if existing.keys != device.keys || existing.status != DeviceStatus::Active {
                    return Err(ClinicError::EnrolmentRefused);
                }
                existing
            }
            Some(_) => return Err(ClinicError::EnrolmentRefused),
            None => {
                if read_device(&tx, &id)?.is_some() {
                    return Err(ClinicError::DeviceKnown);
                }
                tx.execute("UPDATE enrolments SET used_by = ?2 WHERE token_hash = ?1", params![token_hash, id])?;
                tx.execute(
                    "INSERT INTO devices (id, advocate, keys, status, enrolled_at, acked_through) VALUES (?1, ?2, ?3, 'active', ?4, 0)",
                    params![id, device.advocate, serde_json::to_string(&device.keys).unwrap_or_default(), device.enrolled_at.to_rfc3339()],
                )?;
                device.clone()
            }
        };
        tx.commit()?;
        Ok(result)
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        read_device(&*self.conn()?, &id.to_string())
    }

    fn devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through FROM devices ORDER BY enrolled_at, id",
        )?;
        let rows = stmt.query_map([], device_row)?;
        rows.map(|r| r.map_err(ClinicError::from).and_then(|d| d)).collect()
    }

    fn revoke(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE devices SET status = 'revoked', revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            params![id.to_string(), now.to_rfc3339()],
        )?;
        Ok(changed > 0)
    }

    fn use_request_id(&self, device: Uuid, request_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO requests (device, request_id, at) VALUES (?1, ?2, ?3)",
            params![device.to_string(), request_id.to_string(), now.to_rfc3339()],
        )?;
        if inserted == 0 {
            return Err(ClinicError::Replayed);
        }
        tx.execute("UPDATE devices SET last_seen_at = ?2 WHERE id = ?1", params![device.to_string(), now.to_rfc3339()])?;
        tx.commit()?;
        Ok(())
    }

    fn store_batch(&self, device: Uuid, batch_id: Uuid, ops: &[WireOp], now: DateTime<Utc>) -> StoreResult<Stored> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO batches (batch_id, device, at) VALUES (?1, ?2, ?3)",
            params![batch_id.to_string(), device.to_string(), at],
        )?;
        if fresh == 0 {
            return Err(ClinicError::Replayed);
        }
        let mut stored = Stored::default();
        for op in ops {
            let text = op.canonical_bytes();
            let hash = WireOp::hash_of(&text);
            let text = String::from_utf8(text).map_err(|_| ClinicError::BadRequest("op"))?;
            let (op_id, origin) = (op.op_id.to_string(), op.origin.to_string());
            // The common case is a new op: insert, and let the unique keys on
            // the id and the slot say when it is not new.
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO ops (op_id, origin, seq, case_id, content_hash, op, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![op_id, origin, to_i64(op.seq), op.case_id.map(|c| c.to_string()), hash, text, at])?;
            if inserted == 1 {
                if let (Some(advocate), Some(case)) = (advocate_of(op), op.case_id) {
                    let previous: Option<String> = tx
                        .prepare_cached("SELECT advocate FROM case_advocates WHERE case_id = ?1")?
                        .query_row([case.to_string()], |r| r.get(0))
                        .optional()?;
                    if previous.as_deref() != Some(advocate) {
                        if previous.is_some() {
                            tx.prepare_cached("INSERT OR IGNORE INTO replays (advocate, case_id, position) VALUES (?1, ?2, ?3)")?
                                .execute(params![advocate, case.to_string(), tx.last_insert_rowid()])?;
                        }
                        // Most ops leave the advocate as it was; writing only on a change spares a row update per op.
                        tx.prepare_cached(
                            "INSERT INTO case_advocates (case_id, advocate) VALUES (?1, ?2)
                             ON CONFLICT (case_id) DO UPDATE SET advocate = excluded.advocate",
                        )?
                        .execute(params![case.to_string(), advocate])?;
                    }
                }
                stored.inserted += 1;
                continue;
            }
            let held: Vec<(String, String, String, i64)> = tx
                .prepare_cached("SELECT op_id, content_hash, origin, seq FROM ops WHERE op_id = ?1 OR (origin = ?2 AND seq = ?3)")?
                .query_map(params![op_id, origin, to_i64(op.seq)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?;
            let same = |(i, h, o, s): &(String, String, String, i64)| *i == op_id && *h == hash && *o == origin && *s == to_i64(op.seq);
            match held.as_slice() {
                [one] if same(one) => stored.duplicates += 1,
                _ => {
                    tx.prepare_cached("INSERT INTO quarantine (origin, seq, op_id, op, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                        .execute(params![origin, to_i64(op.seq), op_id, text, at])?;
                    tracing::warn!(device = %device, seq = op.seq, "an op id or sequence arrived again with different content; quarantined");
                    stored.quarantined.push(op.seq);
                }
            }
        }
        let id = device.to_string();
        // The clinic's own ops have no device row and no acknowledgement.
        let acked: i64 = tx.query_row("SELECT acked_through FROM devices WHERE id = ?1", [&id], |r| r.get(0)).optional()?.unwrap_or(0);
        // Walk the held slots past the acknowledgement until the first gap.
        let mut next = acked + 1;
        {
            let mut slots = tx.prepare_cached(
                "SELECT seq FROM ops WHERE origin = ?1 AND seq >= ?2 UNION SELECT seq FROM quarantine WHERE origin = ?1 AND seq >= ?2 ORDER BY seq",
            )?;
            let mut rows = slots.query(params![id, next])?;
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                if seq != next {
                    break;
                }
                next += 1;
            }
        }
        let acked = next - 1;
        tx.execute("UPDATE devices SET acked_through = ?2, last_seen_at = ?3 WHERE id = ?1", params![id, acked, at])?;
        tx.commit()?;
        stored.acked_through = u64::try_from(acked).unwrap_or(0);
        Ok(stored)
    }

    fn feed(&self, device: Uuid, advocate: &str, after: u64, limit: u32) -> StoreResult<FeedPage> {
        let mut conn = self.conn()?;
        // One read transaction, so the head and the page agree.
        let tx = conn.transaction()?;
        let head: i64 = tx.query_row("SELECT coalesce(max(position), 0) FROM ops", [], |r| r.get(0))?;
        let mut stmt = tx.prepare_cached(
            "SELECT ops.position, ops.op FROM ops JOIN case_advocates ca ON ca.case_id = ops.case_id
             WHERE ops.position > ?1 AND ops.position <= ?2 AND ops.origin <> ?3
               AND (ca.advocate = ?4 OR json_extract(ops.op, '$.changes.old.advocate') = ?4)
             ORDER BY ops.position LIMIT ?5",
        )?;
        let rows = stmt.query_map(params![to_i64(after), head, device.to_string(), advocate, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut page: Vec<(i64, String)> = Vec::new();
        for row in rows {
            page.push(row?);
        }
        drop(stmt);
        let last = page.last().map_or(0, |(p, _)| *p);
        // A full page covers up to its last op; a short page covers the whole feed.
        let through = if page.len() as u32 >= limit { last } else { head.max(to_i64(after)) };
        let replays: Vec<(String, i64)> = tx
            .prepare_cached(
                "SELECT case_id, position FROM replays WHERE advocate = ?1 AND position > ?2 AND position <= ?3 ORDER BY position",
            )?
            .query_map(params![advocate, to_i64(after), through], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        // A reassigned case's history (all before the cursor) goes first, so
        // every later op of it in the page lands on records that exist.
        let mut texts: Vec<String> = Vec::with_capacity(page.len());
        for (case, _) in &replays {
            let mut stmt =
                tx.prepare_cached("SELECT op FROM ops WHERE case_id = ?1 AND position <= ?2 AND origin <> ?3 ORDER BY position")?;
            for text in stmt.query_map(params![case, to_i64(after), device.to_string()], |r| r.get::<_, String>(0))? {
                texts.push(text?);
            }
        }
        texts.extend(page.into_iter().map(|(_, text)| text));
        let mut ops = Vec::with_capacity(texts.len());
        for text in texts {
            ops.push(serde_json::from_str(&text).map_err(|_| ClinicError::Store("unreadable op".into()))?);
        }
        Ok(FeedPage { ops, through: u64::try_from(through).unwrap_or(0) })
    }

    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.conn()?.query_row("SELECT advocate FROM case_advocates WHERE case_id = ?1", [case.to_string()], |r| r.get(0)).optional()?)
    }

    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)> {
        let row: Option<(i64, Option<String>)> = self
            .conn()?
            .query_row(
                "SELECT seq, json_extract(op, '$.hlc') FROM ops WHERE origin = ?1 ORDER BY seq DESC LIMIT 1",
                [origin.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map_or((0, None), |(seq, hlc)| (u64::try_from(seq).unwrap_or(0), hlc)))
    }

    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>> {
        let id: Option<String> = self
            .conn()?
            .query_row(
                "SELECT op_id FROM (SELECT op_id, 0 AS rank FROM ops WHERE origin = ?1 AND seq = ?2
                                    UNION ALL SELECT op_id, 1 FROM quarantine WHERE origin = ?1 AND seq = ?2)
                 ORDER BY rank LIMIT 1",
                params![origin.to_string(), to_i64(seq)],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|i| i.parse().map_err(|_| ClinicError::Store("unreadable op id".into()))).transpose()
    }

    fn feed_head(&self) -> StoreResult<u64> {
        let head: i64 = self.conn()?.query_row("SELECT coalesce(max(position), 0) FROM ops", [], |r| r.get(0))?;
        Ok(u64::try_from(head).unwrap_or(0))
    }

    fn stats(&self) -> StoreResult<Stats> {
        let conn = self.conn()?;
        let count = |sql: &str| -> StoreResult<u64> { Ok(u64::try_from(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?).unwrap_or(0)) };
        Ok(Stats {
            devices_active: count("SELECT count(*) FROM devices WHERE status = 'active'")?,
            devices_revoked: count("SELECT count(*) FROM devices WHERE status = 'revoked'")?,
            ops: count("SELECT count(*) FROM ops")?,
            quarantined: count("SELECT count(*) FROM quarantine")?,
            feed_head: count("SELECT coalesce(max(position), 0) FROM ops")?,
        })
    }
}
