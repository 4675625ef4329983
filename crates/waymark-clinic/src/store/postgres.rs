//! The clinic on PostgreSQL, for a service that runs several clinic servers
//! over one database a hosting team already runs, backs up and fails over.
//! The same guarantees as the SQLCipher store: every method is one
//! transaction; those that give feed positions, audit lines or numbers, or
//! check before they write, hold one write lock (a transaction-scoped
//! advisory lock) across every server, so positions become visible in order
//! and a reader's cursor never passes one still to commit.
//!
//! The database never sees what names people. The clinic seals it first
//! (`Sealer`: XChaCha20-Poly1305 under a key derived from the clinic's
//! database key, bound to the row it belongs to) and keys its content hashes,
//! so a dump holds ids, codes, times and ciphertext. Which columns stay plain,
//! and why, is in docs/postgres.md.
//!
//! The `postgres` client runs its own runtime and must not be called from
//! one: each call runs on a short-lived thread of its own, with a
//! connection from the pool, so handlers may call the store as they call
//! the SQLCipher one.

use super::*;
use ::postgres::types::{FromSql, ToSql};
use ::postgres::{Client, NoTls, Row, Statement};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use waymark_sqlcipher::Migration;
use zeroize::Zeroizing;

/// Append-only: add a file and its line in `pg_migrations.lock`, never edit one that has landed.
const MIGRATIONS: &[Migration] = &[
    Migration { name: "0001_clinic", sql: include_str!("pg_migrations/0001_clinic.sql") },
    Migration { name: "0002_key_check", sql: include_str!("pg_migrations/0002_key_check.sql") },
    Migration { name: "0003_row_integrity", sql: include_str!("pg_migrations/0003_row_integrity.sql") },
];

/// What the key check seals, and where.
const KEY_CHECK: (&str, &[u8]) = ("key-check", b"waymark clinic");

/// The class of the store's advisory locks; the second key is the schema's.
const LOCK_CLASS: i32 = 0x5741_594d; // "WAYM"
/// Connections one server keeps open at most.
const POOL_SIZE: usize = 16;
/// How long a call waits for a connection before it says the database is busy.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a tombstone keeps instead of a content hash.
const ERASED_HASH: &[u8] = b"erased";

/// Seals what names people before it reaches the database, and keys the
/// content hashes the store compares (a plain hash of an op whose other
/// fields are plain would let a reader test guesses of a small value).
pub(crate) struct Sealer {
    aead: XChaCha20Poly1305,
    mac_key: Zeroizing<[u8; 32]>,
}

const SEALED_V1: u8 = 1;

impl Sealer {
    pub(crate) fn new(db_key: &[u8; 32]) -> Self {
        let derive = |label: &str| {
            let mut hash = <sha2::Sha256 as sha2::Digest>::new();
            sha2::Digest::update(&mut hash, b"waymark-clinic postgres ");
            sha2::Digest::update(&mut hash, label.as_bytes());
            sha2::Digest::update(&mut hash, db_key);
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&sha2::Digest::finalize(hash));
            key
        };
        let content = derive("content");
        Sealer {
            aead: XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(content.as_slice())),
            mac_key: derive("hash"),
        }
    }

    /// A version byte, a random 24-byte nonce, then the ciphertext with its tag.
    /// `row` names where the value belongs, so it cannot be moved to another row.
    pub(crate) fn seal(&self, row: &str, plain: &[u8]) -> StoreResult<Vec<u8>> {
        let mut nonce = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let sealed = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: row.as_bytes() })
            .map_err(|_| ClinicError::Store("a value could not be sealed".into()))?;
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a sealed value of `row`. Anything else (a value written by
    /// another key, moved from another row, or put there by hand) is refused.
    pub(crate) fn open(&self, row: &str, sealed: &[u8]) -> StoreResult<Zeroizing<Vec<u8>>> {
        let refused = || ClinicError::Store("the database holds a value the clinic did not seal".into());
        if sealed.len() < 1 + 24 + 16 || sealed[0] != SEALED_V1 {
            return Err(refused());
        }
        let (nonce, body) = sealed[1..].split_at(24);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: row.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| refused())
    }

    /// HMAC-SHA256 of an op's canonical bytes under the clinic's key.
    pub(crate) fn content_hash(&self, canonical: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.mac_key.as_ref())
            .expect("HMAC takes a key of any length");
        mac.update(canonical);
        mac.finalize().into_bytes().to_vec()
    }

    /// A MAC over a row's plain columns that decide who may see or do what
    /// (a device's advocate and keys, an enrolment's advocate, an audit
    /// line's hash), so a database holder who edits one is found out.
    pub(crate) fn row_mac(&self, label: &str, parts: &[&[u8]]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.mac_key.as_ref())
            .expect("HMAC takes a key of any length");
        // Canonical JSON never starts with a zero byte, so these never equal a content hash.
        mac.update(b"\0row\0");
        mac.update(label.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// What the store keeps for a token's hash (an enrolment code's, a
    /// session's, a sign-in failure key): keyed, so whoever holds the database
    /// can neither make one that works nor test guesses of what it hashes.
    pub(crate) fn token(&self, label: &str, hash: &str) -> String {
        hex::encode(self.row_mac(label, &[hash.as_bytes()]))
    }

    fn check_mac(&self, label: &str, parts: &[&[u8]], kept: &[u8]) -> StoreResult<()> {
        if crate::signin::constant_time_eq(&self.row_mac(label, parts), kept) {
            Ok(())
        } else {
            Err(ClinicError::Store("the database holds a row the clinic did not write".into()))
        }
    }

    fn open_json<T: serde::de::DeserializeOwned>(&self, row: &str, sealed: &[u8]) -> StoreResult<T> {
        let plain = self.open(row, sealed)?;
        serde_json::from_slice(&plain).map_err(|_| ClinicError::Store("an unreadable sealed value".into()))
    }

    fn seal_json(&self, row: &str, value: &impl Serialize) -> StoreResult<Vec<u8>> {
        let plain = Zeroizing::new(
            serde_json::to_vec(value).map_err(|_| ClinicError::Store("a value could not be kept".into()))?,
        );
        self.seal(row, &plain)
    }
}

/// The plain columns of a feed op that route it: bound to its sealed content,
/// so changing one (to send a case to another advocate, or an op to every
/// laptop as an erasure) leaves the op unopenable rather than misrouted.
pub(crate) struct OpPlace<'a> {
    pub op_id: Uuid,
    pub origin: Uuid,
    pub seq: i64,
    pub case_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub kind: &'a str,
    pub action: &'a str,
    pub old_advocate: Option<&'a str>,
}

/// Where each sealed value belongs (its associated data).
mod row {
    use uuid::Uuid;
    fn or_none(id: Option<Uuid>) -> String {
        id.map_or_else(|| "-".to_owned(), |i| i.to_string())
    }
    pub fn op(place: &super::OpPlace<'_>) -> String {
        format!(
            "ops/{}/{}/{}/{}/{}/{}/{}/{}",
            place.op_id,
            place.origin,
            place.seq,
            or_none(place.case_id),
            or_none(place.record_id),
            place.kind,
            place.action,
            place.old_advocate.unwrap_or("-")
        )
    }
    pub fn refused(origin: Uuid, seq: i64, op_id: Uuid) -> String {
        format!("refused/{origin}/{seq}/{op_id}")
    }
    pub fn quarantine(id: i64, origin: Uuid, seq: i64, op_id: Uuid) -> String {
        format!("quarantine/{id}/{origin}/{seq}/{op_id}")
    }
    pub fn reason(id: i64) -> String {
        format!("quarantine-reason/{id}")
    }
    pub fn staff(code: &str, role: &str, active: bool) -> String {
        format!("staff/{code}/{role}/{active}")
    }
    pub fn password(code: &str) -> String {
        format!("password/{code}")
    }
    pub fn totp(code: &str) -> String {
        format!("totp/{code}")
    }
    pub fn csrf(session: &str, staff_code: &str, started_micros: i64) -> String {
        format!("csrf/{session}/{staff_code}/{started_micros}")
    }
    pub fn referral(id: Uuid, submitted_by: &str) -> String {
        format!("referral/{id}/{submitted_by}")
    }
    pub fn meeting(id: Uuid) -> String {
        format!("meeting/{id}")
    }
    pub fn panel(kind: &str, id: &str, case_id: Option<Uuid>, meeting_id: Option<Uuid>) -> String {
        format!("panel/{kind}/{}/{}/{id}", or_none(case_id), or_none(meeting_id))
    }
    pub fn release(request: Uuid, key: &str) -> String {
        format!("release/{request}/{key}")
    }
}

/// The sealed part of a staff member: the name and agency stay at the clinic.
#[derive(Serialize, serde::Deserialize)]
struct StaffSealed {
    name: String,
    agency: Option<waymark_domain::Agency>,
}

struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

struct Pool {
    idle: Vec<Conn>,
    /// Connections open, idle or leased.
    open: usize,
}

struct Lease<'a> {
    store: &'a PostgresStore,
    conn: Option<Conn>,
}

impl Lease<'_> {
    fn conn_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a lease holds its connection until it ends")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.store.pool.lock() {
            match self.conn.take() {
                Some(conn) if !conn.client.is_closed() => pool.idle.push(conn),
                // A connection lost, or never made: its slot is free again.
                _ => pool.open = pool.open.saturating_sub(1),
            }
        }
        self.store.freed.notify_one();
    }
}

pub struct PostgresStore {
    config: ::postgres::Config,
    pool: Mutex<Pool>,
    freed: Condvar,
    sealer: Sealer,
    /// The schema's key for the advisory locks, so stores in two schemas of one database do not wait on each other.
    lock_key: i32,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing a connection blocks on the client's runtime, which cannot run inside the server's.
        let idle = self.pool.get_mut().map(|pool| std::mem::take(&mut pool.idle)).unwrap_or_default();
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One consistent snapshot, writing nothing.
    Read,
    /// Row-level writes that stand alone (a session's last use, a request id).
    Row,
    /// Holds the store's write lock until commit.
    Write,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An instant cut to the microsecond, as PostgreSQL keeps it.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> StoreResult<T> {
    row.try_get(index).map_err(|_| ClinicError::Store("an unreadable row".into()))
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One transaction on one connection, with the connection's prepared statements.
struct Tx<'c> {
    tx: ::postgres::Transaction<'c>,
    statements: &'c mut HashMap<&'static str, Statement>,
    sealer: &'c Sealer,
    next_position: Option<i64>,
}

impl Tx<'_> {
    fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
    fn query(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query(&statement, params)?)
    }
    fn opt(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_opt(&statement, params)?)
    }
    fn one(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Row> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_one(&statement, params)?)
    }
    fn execute(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, params)?)
    }
    fn exists(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<bool> {
        Ok(self.opt(sql, params)?.is_some())
    }

    /// Opens a feed op from the nine columns `OP_COLUMNS` names, starting at `at`.
    fn open_op_at(&self, r: &Row, at: usize) -> StoreResult<WireOp> {
        let (kind, action, old_advocate): (String, String, Option<String>) =
            (get(r, at + 5)?, get(r, at + 6)?, get(r, at + 7)?);
        let place = OpPlace {
            op_id: get(r, at)?,
            origin: get(r, at + 1)?,
            seq: get(r, at + 2)?,
            case_id: get(r, at + 3)?,
            record_id: get(r, at + 4)?,
            kind: &kind,
            action: &action,
            old_advocate: old_advocate.as_deref(),
        };
        self.sealer.open_json(&row::op(&place), &get::<Vec<u8>>(r, at + 8)?)
    }

    /// A feed op to serve: one that does not open (its routing columns were
    /// changed behind the clinic's back) is left out and logged, by id only.
    fn servable_op(&self, r: &Row, at: usize) -> Option<WireOp> {
        match self.open_op_at(r, at) {
            Ok(op) => Some(op),
            Err(_) => {
                let op_id: Option<Uuid> = r.try_get(at).ok();
                tracing::error!(op = ?op_id, "a stored op does not open with its columns; left out of the feed");
                None
            }
        }
    }

    fn read_staff(&mut self, code: &str) -> StoreResult<Option<StaffMember>> {
        let Some(r) = self.opt("SELECT code, sealed, role, active, added_at FROM staff WHERE code = $1", &[&code])?
        else {
            return Ok(None);
        };
        staff_of(self.sealer, &r).map(Some)
    }

    fn read_device(&mut self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        self.opt(
            "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through, confirmed, mac FROM devices WHERE id = $1",
            &[&id],
        )?
        .map(|r| device_of(self.sealer, &r))
        .transpose()
    }

    /// An enrolment code's row by the hash of the code, its MAC checked: the
    /// stored key, when it expires, the device that used it and the advocate
    /// it is bound to. A row that does not check, or that no advocate is
    /// bound to, is as good as none.
    fn read_enrolment(&mut self, token_hash: &str) -> StoreResult<Option<Enrolment>> {
        let key = self.sealer.token("enrolment", token_hash);
        let Some(r) =
            self.opt("SELECT expires_at, used_by, advocate, mac FROM enrolments WHERE token_hash = $1", &[&key])?
        else {
            return Ok(None);
        };
        let (expires, used_by, advocate, mac): (DateTime<Utc>, Option<Uuid>, Option<String>, Option<Vec<u8>>) =
            (get(&r, 0)?, get(&r, 1)?, get(&r, 2)?, get(&r, 3)?);
        let (Some(advocate), Some(mac)) = (advocate, mac) else { return Ok(None) };
        if !crate::signin::constant_time_eq(&enrolment_mac(self.sealer, &key, &advocate, expires), &mac) {
            tracing::error!("an enrolment code's row does not check; refused");
            return Ok(None);
        }
        Ok(Some((key, expires, used_by, advocate)))
    }

    /// Writes a device's trusted columns with their MAC.
    fn write_device(&mut self, device: &DeviceRecord) -> StoreResult<()> {
        let keys = serde_json::to_string(&device.keys).map_err(|_| ClinicError::Store("a device's keys".into()))?;
        let status = device_status(device.status);
        let mac = device_mac(self.sealer, device.id, &device.advocate, &keys, status, device.confirmed);
        self.execute(
            "INSERT INTO devices (id, advocate, keys, status, enrolled_at, revoked_at, acked_through, confirmed, mac)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)
             ON CONFLICT (id) DO UPDATE SET advocate = excluded.advocate, keys = excluded.keys, status = excluded.status,
                revoked_at = coalesce(devices.revoked_at, excluded.revoked_at), confirmed = excluded.confirmed, mac = excluded.mac",
            &[
                &device.id,
                &device.advocate,
                &keys,
                &status,
                &device.enrolled_at,
                &device.revoked_at,
                &device.confirmed,
                &mac,
            ],
        )?;
        Ok(())
    }

    /// The next feed position, given under the write lock.
    fn position(&mut self) -> StoreResult<i64> {
        let next = match self.next_position {
            Some(next) => next,
            None => get::<i64>(&self.one("SELECT coalesce(max(position), 0) + 1 FROM ops", &[])?, 0)?,
        };
        self.next_position = Some(next + 1);
        Ok(next)
    }

    /// Adds an accepted op to the feed with what it teaches the clinic: its
    /// record's home and, for a case op naming an advocate, an assignment.
    fn append_to_feed(&mut self, op: &WireOp, origin: &Origin<'_>, text: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
        let position = self.position()?;
        let old_advocate = op.changes.old.as_ref().and_then(|o| o.get("advocate")).and_then(|a| a.as_str());
        let place = OpPlace {
            op_id: op.op_id,
            origin: op.origin,
            seq: to_i64(op.seq),
            case_id: op.case_id,
            record_id: Some(op.record_id),
            kind: &op.kind,
            action: op.action.as_str(),
            old_advocate,
        };
        let sealed = self.sealer.seal(&row::op(&place), text)?;
        let hash = self.sealer.content_hash(text);
        self.execute(
            "INSERT INTO ops (position, op_id, origin, seq, case_id, record_id, kind, action, hlc, old_advocate, content_hash, op, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                &position,
                &op.op_id,
                &op.origin,
                &to_i64(op.seq),
                &op.case_id,
                &op.record_id,
                &op.kind,
                &op.action.as_str(),
                &op.hlc,
                &old_advocate,
                &hash,
                &sealed,
                &at,
            ],
        )?;
        let (home, assignment) = crate::authority::learned(op, origin);
        self.execute(
            "INSERT INTO record_homes (record_id, case_id, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&op.record_id, &home.case_id, &home.owner],
        )?;
        if let Some((case, advocate)) = assignment {
            self.execute(
                "INSERT INTO assignments (case_id, hlc, advocate) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&case, &op.hlc, &advocate],
            )?;
            let previous: Option<String> = self
                .opt("SELECT advocate FROM case_advocates WHERE case_id = $1", &[&case])?
                .map(|r| get(&r, 0))
                .transpose()?;
            if previous.as_deref() != Some(advocate.as_str()) {
                if previous.is_some() {
                    self.execute(
                        "INSERT INTO replays (advocate, case_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        &[&advocate, &case, &position],
                    )?;
                }
                self.execute(
                    "INSERT INTO case_advocates (case_id, advocate) VALUES ($1, $2)
                     ON CONFLICT (case_id) DO UPDATE SET advocate = excluded.advocate",
                    &[&case, &advocate],
                )?;
            }
        }
        Ok(())
    }

    /// Appends the clinic's own ops (already numbered) to the feed.
    fn append_clinic_ops(&mut self, ops: &[WireOp], at: DateTime<Utc>) -> StoreResult<()> {
        for op in ops {
            // Another of the clinic's changes took this number meanwhile: nothing is written.
            if self.clinic_slot_taken(op)? {
                return Err(ClinicError::ClinicBusy);
            }
            let text = op.canonical_bytes();
            self.append_to_feed(op, &Origin::Clinic(op.origin), &text, at)?;
        }
        Ok(())
    }

    /// Whether anything holds the op's slot or id already.
    fn clinic_slot_taken(&mut self, op: &WireOp) -> StoreResult<bool> {
        self.exists(
            "SELECT 1 FROM ops WHERE (origin = $1 AND seq = $2) OR op_id = $3
             UNION ALL SELECT 1 FROM refused WHERE origin = $1 AND seq = $2
             UNION ALL SELECT 1 FROM recognised WHERE origin = $1 AND seq = $2
             UNION ALL SELECT 1 FROM quarantine WHERE origin = $1 AND seq = $2",
            &[&op.origin, &to_i64(op.seq), &op.op_id],
        )
    }

    /// Appends a chained line to the audit (under the write lock, so no
    /// other line slips in between reading the last hash and writing this one).
    fn audit_line(&mut self, line: &AuditLine<'_>, at: DateTime<Utc>) -> StoreResult<()> {
        let previous: Option<String> = self
            .opt("SELECT hash FROM admin_audit ORDER BY seq DESC LIMIT 1", &[])?
            .map(|r| get::<Option<String>>(&r, 0))
            .transpose()?
            .flatten();
        let hash = audit_hash(previous.as_deref(), at, line.actor, line.action, line.target, &line.detail);
        let seq: i64 = get(&self.one("UPDATE audit_counter SET highest = highest + 1 RETURNING highest", &[])?, 0)?;
        // The chain alone can be recomputed by whoever holds the database; these MACs need the clinic's key.
        let counter_mac = audit_counter_mac(self.sealer, seq);
        self.execute("UPDATE audit_counter SET mac = $1", &[&counter_mac])?;
        let mac = audit_line_mac(self.sealer, seq, &hash);
        self.execute(
            "INSERT INTO admin_audit (seq, at, actor, action, target, detail, hash, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &seq,
                &at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                &line.actor,
                &line.action.as_str(),
                &line.target,
                &line.detail.to_string(),
                &hash,
                &mac,
            ],
        )?;
        Ok(())
    }

    /// The op id held in an origin's slot: from the feed, else the recognised slots, the refused list or the quarantine.
    fn slot_op_id(&mut self, origin: Uuid, seq: i64) -> StoreResult<Option<Uuid>> {
        if seq == 0 {
            return Ok(None);
        }
        self.opt(
            "SELECT op_id FROM (SELECT op_id, 0 AS rank FROM ops WHERE origin = $1 AND seq = $2
                                UNION ALL SELECT op_id, 1 FROM recognised WHERE origin = $1 AND seq = $2
                                UNION ALL SELECT op_id, 2 FROM refused WHERE origin = $1 AND seq = $2
                                UNION ALL SELECT op_id, 3 FROM quarantine WHERE origin = $1 AND seq = $2) AS held
             ORDER BY rank LIMIT 1",
            &[&origin, &seq],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    /// Whether `op`, sent by a device of `advocate` in a slot of its own, is
    /// an op the feed already holds from another device of the same advocate.
    fn recognised_elsewhere(&mut self, op: &WireOp, advocate: &str) -> StoreResult<bool> {
        let Some(r) = self.opt(
            "SELECT op_id, origin, seq, case_id, record_id, kind, action, old_advocate, op FROM ops
             WHERE op_id = $1 AND NOT erased",
            &[&op.op_id],
        )?
        else {
            return Ok(false);
        };
        let held = self.open_op_at(&r, 0)?;
        let held_advocate = match self.read_device(held.origin)? {
            Some(device) if device.confirmed => device.advocate,
            Some(_) => return Ok(false),
            // No device row: the clinic's own op, as a released change is, which keeps its laptop's actor.
            None => held.actor.clone(),
        };
        Ok(held_advocate == advocate && held.origin != op.origin && held.meaning_hash() == op.meaning_hash())
    }
}

impl crate::authority::AuthorityView for Tx<'_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<crate::authority::RecordHome>> {
        self.opt("SELECT case_id, owner FROM record_homes WHERE record_id = $1", &[&record])?
            .map(|r| Ok(crate::authority::RecordHome { case_id: get(&r, 0)?, owner: get(&r, 1)? }))
            .transpose()
    }

    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        self.opt(
            "SELECT advocate FROM assignments WHERE case_id = $1 AND hlc <= $2 ORDER BY hlc DESC LIMIT 1",
            &[&case, &hlc],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    fn clock_owner(&mut self, node: Uuid) -> StoreResult<crate::authority::ClockOwner> {
        use crate::authority::ClockOwner;
        Ok(match self.read_device(node)? {
            Some(device) if device.confirmed => ClockOwner::Advocate(device.advocate),
            Some(_) => ClockOwner::Other,
            None if self.exists("SELECT 1 FROM ops WHERE origin = $1 LIMIT 1", &[&node])? => ClockOwner::Other,
            None => ClockOwner::Unknown,
        })
    }

    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
        self.exists("SELECT 1 FROM erasures WHERE case_id = $1", &[&case])
    }
}

fn staff_of(sealer: &Sealer, r: &Row) -> StoreResult<StaffMember> {
    let code: String = get(r, 0)?;
    let (role, active): (String, bool) = (get(r, 2)?, get(r, 3)?);
    // The role and whether the member is active are bound to the sealed name: neither can be changed by hand.
    let sealed: StaffSealed = sealer.open_json(&row::staff(&code, &role, active), &get::<Vec<u8>>(r, 1)?)?;
    Ok(StaffMember {
        role: StaffRole::parse(&role).ok_or_else(|| ClinicError::Store("unreadable staff row".into()))?,
        active,
        added_at: get(r, 4)?,
        name: sealed.name,
        agency: sealed.agency,
        code,
    })
}

fn device_status(status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Active => "active",
        DeviceStatus::Revoked => "revoked",
    }
}

/// What binds a device to its advocate, keys and standing: a database holder
/// cannot add a laptop of their own, give one another advocate, or bring a revoked one back.
fn device_mac(sealer: &Sealer, id: Uuid, advocate: &str, keys: &str, status: &str, confirmed: bool) -> Vec<u8> {
    sealer.row_mac(
        "device",
        &[id.as_bytes(), advocate.as_bytes(), keys.as_bytes(), status.as_bytes(), &[u8::from(confirmed)]],
    )
}

fn audit_line_mac(sealer: &Sealer, seq: i64, hash: &str) -> Vec<u8> {
    sealer.row_mac("audit", &[&seq.to_be_bytes(), hash.as_bytes()])
}

fn audit_counter_mac(sealer: &Sealer, highest: i64) -> Vec<u8> {
    sealer.row_mac("audit-counter", &[&highest.to_be_bytes()])
}

/// An enrolment code's row: the stored key, when it expires, the device
/// that used it, and the advocate it is bound to.
type Enrolment = (String, DateTime<Utc>, Option<Uuid>, String);

/// What binds an enrolment code to its advocate and its expiry.
fn enrolment_mac(sealer: &Sealer, key: &str, advocate: &str, expires: DateTime<Utc>) -> Vec<u8> {
    sealer.row_mac("enrolment", &[key.as_bytes(), advocate.as_bytes(), &expires.timestamp_micros().to_be_bytes()])
}

/// A device from the ten columns `read_device` selects, its MAC checked.
fn device_of(sealer: &Sealer, r: &Row) -> StoreResult<DeviceRecord> {
    let (id, advocate, keys, status, confirmed): (Uuid, String, String, String, bool) =
        (get(r, 0)?, get(r, 1)?, get(r, 2)?, get(r, 3)?, get(r, 8)?);
    sealer.check_mac(
        "device",
        &[id.as_bytes(), advocate.as_bytes(), keys.as_bytes(), status.as_bytes(), &[u8::from(confirmed)]],
        &get::<Vec<u8>>(r, 9)?,
    )?;
    Ok(DeviceRecord {
        id,
        advocate,
        keys: serde_json::from_str(&keys).map_err(|_| ClinicError::Store("unreadable device row".into()))?,
        status: if status == "revoked" { DeviceStatus::Revoked } else { DeviceStatus::Active },
        enrolled_at: get(r, 4)?,
        revoked_at: get(r, 5)?,
        last_seen_at: get(r, 6)?,
        acked_through: to_u64(get(r, 7)?),
        confirmed,
    })
}

/// What the clinic keeps of a change to an erased case it was sent: which kind and case, nothing else.
fn erased_text(op: &WireOp) -> Vec<u8> {
    serde_json::json!({"erased": true, "kind": op.kind, "case_id": op.case_id}).to_string().into_bytes()
}

impl PostgresStore {
    /// Connects with a libpq-style connection string (`host=… dbname=…`)
    /// and brings the schema up to date, one server at a time. `key` is the
    /// clinic's database key, from which the sealing keys are derived.
    pub fn open(connection: &str, key: &[u8; 32]) -> StoreResult<Self> {
        let config: ::postgres::Config = connection
            .parse()
            .map_err(|_| ClinicError::Setup("the PostgreSQL connection string does not read".into()))?;
        let store = PostgresStore {
            config,
            pool: Mutex::new(Pool { idle: Vec::new(), open: 0 }),
            freed: Condvar::new(),
            sealer: Sealer::new(key),
            lock_key: 0,
        };
        let lock_key = store.on_worker(|| {
            let mut lease = store.lease()?;
            let client = &mut lease.conn_mut().client;
            let key: i32 = get(&client.query_one("SELECT hashtext(current_schema())", &[])?, 0)?;
            migrate(client, key)?;
            store.check_key(client)?;
            Ok(key)
        })?;
        let mut store = store;
        store.lock_key = lock_key;
        Ok(store)
    }

    /// Whether the database already holds a clinic (its key check, staff,
    /// devices or feed), without claiming it: `Clinic::init_on` asks before
    /// it writes anything, and the first `open` with the new key claims it.
    pub fn holds_a_clinic(connection: &str) -> StoreResult<bool> {
        let config: ::postgres::Config = connection
            .parse()
            .map_err(|_| ClinicError::Setup("the PostgreSQL connection string does not read".into()))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut client = config
                    .connect(NoTls)
                    .map_err(|_| ClinicError::Store("the clinic's database could not be reached".into()))?;
                let key: i32 = get(&client.query_one("SELECT hashtext(current_schema())", &[])?, 0)?;
                migrate(&mut client, key)?;
                let held: bool = get(
                    &client.query_one(
                        "SELECT EXISTS (SELECT 1 FROM key_check) OR EXISTS (SELECT 1 FROM staff)
                             OR EXISTS (SELECT 1 FROM devices) OR EXISTS (SELECT 1 FROM ops)",
                        &[],
                    )?,
                    0,
                )?;
                Ok(held)
            })
            .join()
            .unwrap_or_else(|_| Err(ClinicError::Store("a database worker stopped".into())))
        })
    }

    /// Drops every table and function of the clinic's, once this clinic's
    /// key has opened the database (so no other clinic's is dropped by mistake).
    pub fn wipe(self) -> StoreResult<()> {
        self.on_worker(|| {
            let mut lease = self.lease()?;
            let mut tx = lease.conn_mut().client.transaction()?;
            tx.batch_execute(
                "DROP TABLE IF EXISTS enrolments, devices, requests, batches, ops, quarantine, case_advocates, replays,
                     staff, record_homes, assignments, refused, recognised, admin_audit, audit_counter, text_warnings,
                     credentials, sign_in_failures, sessions, referrals, panel_meetings, panel_docs, erasures,
                     access_requests, access_decisions, key_check, referral_counter, waymark_migrations CASCADE;
                 DROP FUNCTION IF EXISTS ops_append_only(), audit_append_only();",
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The first clinic to open the database seals a known value in it; every
    /// later opening must open it, or this is another clinic's key.
    fn check_key(&self, client: &mut Client) -> StoreResult<()> {
        let (place, expected) = KEY_CHECK;
        let sealed = self.sealer.seal(place, expected)?;
        client.execute("INSERT INTO key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING", &[&sealed])?;
        let kept: Vec<u8> = get(&client.query_one("SELECT sealed FROM key_check", &[])?, 0)?;
        match self.sealer.open(place, &kept) {
            Ok(plain) if plain.as_slice() == expected => Ok(()),
            _ => Err(ClinicError::Setup(
                "this clinic's key does not open the PostgreSQL database: it holds another clinic".into(),
            )),
        }
    }

    /// Runs `f` on a thread of its own: the client's runtime cannot run inside the server's.
    fn on_worker<T: Send>(&self, f: impl FnOnce() -> StoreResult<T> + Send) -> StoreResult<T> {
        std::thread::scope(|s| {
            s.spawn(f).join().unwrap_or_else(|_| Err(ClinicError::Store("a database worker stopped".into())))
        })
    }

    fn connect(&self) -> StoreResult<Conn> {
        let mut client = self.config.connect(NoTls).map_err(|e| {
            tracing::warn!(code = ?e.code().map(|c| c.code()), "could not connect to PostgreSQL");
            ClinicError::Store("the clinic's database could not be reached".into())
        })?;
        // A server that stalls holding the write lock, or waits on it too long,
        // gives up rather than holding every other server's writes.
        client.batch_execute("SET lock_timeout = '15s'; SET idle_in_transaction_session_timeout = '60s'")?;
        Ok(Conn { client, statements: HashMap::new() })
    }

    /// A connection from the pool (or a new one, up to `POOL_SIZE`), given
    /// back when the lease ends, however it ends.
    fn lease(&self) -> StoreResult<Lease<'_>> {
        let mut pool = self.pool.lock().map_err(|_| ClinicError::Store("poisoned".into()))?;
        let deadline = std::time::Instant::now() + POOL_WAIT;
        loop {
            if let Some(conn) = pool.idle.pop() {
                if conn.client.is_closed() {
                    pool.open = pool.open.saturating_sub(1);
                    continue;
                }
                return Ok(Lease { store: self, conn: Some(conn) });
            }
            if pool.open < POOL_SIZE {
                pool.open += 1;
                drop(pool);
                // Counted before it exists; a lease with no connection gives the slot back.
                let mut lease = Lease { store: self, conn: None };
                lease.conn = Some(self.connect()?);
                return Ok(lease);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(ClinicError::Store("every connection to the clinic's database is busy".into()));
            }
            pool = self.freed.wait_timeout(pool, left).map_err(|_| ClinicError::Store("poisoned".into()))?.0;
        }
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    fn run<T: Send>(&self, mode: Mode, f: impl FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send) -> StoreResult<T> {
        self.on_worker(|| {
            let mut lease = self.lease()?;
            let result = (|| {
                let Conn { client, statements } = lease.conn_mut();
                let mut builder = client.build_transaction();
                if mode == Mode::Read {
                    builder = builder.isolation_level(::postgres::IsolationLevel::RepeatableRead).read_only(true);
                }
                let mut tx = Tx { tx: builder.start()?, statements, sealer: &self.sealer, next_position: None };
                if mode == Mode::Write {
                    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_CLASS, &self.lock_key])?;
                }
                let out = f(&mut tx)?;
                tx.tx.commit()?;
                Ok(out)
            })();
            drop(lease);
            result
        })
    }

    fn set_credential(
        &self,
        code: &str,
        secret: Credential<'_>,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            if tx.read_staff(code)?.is_none() {
                return Err(ClinicError::UnknownStaff);
            }
            match secret {
                Credential::Password(password) => {
                    let sealed = tx.sealer.seal(&row::password(code), password.as_bytes())?;
                    tx.execute(
                        "INSERT INTO credentials (staff_code, password) VALUES ($1, $2)
                         ON CONFLICT (staff_code) DO UPDATE SET password = excluded.password",
                        &[&code, &sealed],
                    )?;
                }
                Credential::Totp(secret) => {
                    let sealed = tx.sealer.seal(&row::totp(code), secret)?;
                    // Codes from the new secret start afresh.
                    tx.execute(
                        "INSERT INTO credentials (staff_code, totp_secret) VALUES ($1, $2)
                         ON CONFLICT (staff_code) DO UPDATE SET totp_secret = excluded.totp_secret, totp_last_step = NULL",
                        &[&code, &sealed],
                    )?;
                }
            }
            tx.execute("DELETE FROM sessions WHERE staff_code = $1", &[&code])?;
            tx.audit_line(&AuditLine { actor: by, action, target: Some(code), detail: serde_json::json!({}) }, now)
        })
    }

    fn read_meeting(sealer: &Sealer, r: &Row) -> StoreResult<PanelMeeting> {
        let id: Uuid = get(r, 0)?;
        sealer.open_json(&row::meeting(id), &get::<Vec<u8>>(r, 1)?)
    }
}

enum Credential<'a> {
    Password(&'a str),
    Totp(&'a [u8]),
}

/// Brings the schema up to date under a session-level advisory lock, so two
/// servers starting together migrate it once. A schema from a newer
/// waymark-clinic is refused: this one would not know what it holds.
fn migrate(client: &mut Client, lock_key: i32) -> StoreResult<()> {
    client.execute("SELECT pg_advisory_lock($1, $2)", &[&(LOCK_CLASS + 1), &lock_key])?;
    let result = (|| {
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS waymark_migrations (
                 version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        )?;
        let applied: i32 = get(&client.query_one("SELECT coalesce(max(version), 0) FROM waymark_migrations", &[])?, 0)?;
        let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        if applied > known {
            return Err(ClinicError::Setup("the database is from a newer waymark-clinic".into()));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(applied).unwrap_or(0)) {
            let mut tx = client.transaction()?;
            tx.batch_execute(migration.sql)?;
            let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
            tx.execute("INSERT INTO waymark_migrations (version, name) VALUES ($1, $2)", &[&version, &migration.name])?;
            tx.commit()?;
        }
        Ok(())
    })();
    client.execute("SELECT pg_advisory_unlock($1, $2)", &[&(LOCK_CLASS + 1), &lock_key])?;
    result
}

impl ClinicStore for PostgresStore {
    fn add_staff(&self, member: &StaffMember) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            let sealed = tx.sealer.seal_json(
                &row::staff(&member.code, member.role.as_str(), member.active),
                &StaffSealed { name: member.name.clone(), agency: member.agency.clone() },
            )?;
            let inserted = tx.execute(
                "INSERT INTO staff (code, sealed, role, active, added_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&member.code, &sealed, &member.role.as_str(), &member.active, &member.added_at],
            )?;
            if inserted == 0 {
                return Err(ClinicError::StaffKnown);
            }
            Ok(())
        })
    }

    fn staff(&self, code: &str) -> StoreResult<Option<StaffMember>> {
        self.run(Mode::Read, |tx| tx.read_staff(code))
    }

    fn staff_list(&self) -> StoreResult<Vec<StaffMember>> {
        self.run(Mode::Read, |tx| {
            let rows = tx.query("SELECT code, sealed, role, active, added_at FROM staff ORDER BY code", &[])?;
            rows.iter().map(|r| staff_of(tx.sealer, r)).collect()
        })
    }

    fn set_staff_active(&self, code: &str, active: bool) -> StoreResult<bool> {
        // Under the write lock: a sign-in that read the member as active must not make a session after this.
        self.run(Mode::Write, |tx| {
            let Some(member) = tx.read_staff(code)? else { return Ok(false) };
            let sealed = tx.sealer.seal_json(
                &row::staff(code, member.role.as_str(), active),
                &StaffSealed { name: member.name, agency: member.agency },
            )?;
            let changed = tx
                .execute("UPDATE staff SET active = $2, sealed = $3 WHERE code = $1", &[&code, &active, &sealed])?
                > 0;
            if !active {
                // Reactivating someone must not bring back a browser left signed in.
                tx.execute("DELETE FROM sessions WHERE staff_code = $1", &[&code])?;
            }
            Ok(changed)
        })
    }

    fn credentials(&self, code: &str) -> StoreResult<Option<Credentials>> {
        self.run(Mode::Read, |tx| {
            if tx.read_staff(code)?.is_none() {
                return Ok(None);
            }
            let Some(r) = tx
                .opt("SELECT password, totp_secret, totp_last_step FROM credentials WHERE staff_code = $1", &[&code])?
            else {
                return Ok(Some(Credentials::default()));
            };
            let password = get::<Option<Vec<u8>>>(&r, 0)?
                .map(|sealed| {
                    let plain = tx.sealer.open(&row::password(code), &sealed)?;
                    String::from_utf8(plain.to_vec()).map_err(|_| ClinicError::Store("an unreadable password".into()))
                })
                .transpose()?;
            let totp_secret = get::<Option<Vec<u8>>>(&r, 1)?
                .map(|sealed| tx.sealer.open(&row::totp(code), &sealed).map(|s| Zeroizing::new(s.to_vec())))
                .transpose()?;
            Ok(Some(Credentials {
                password,
                totp_secret,
                totp_last_step: get::<Option<i64>>(&r, 2)?.and_then(|s| u64::try_from(s).ok()),
            }))
        })
    }

    fn set_password(&self, code: &str, password: &str, by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_credential(code, Credential::Password(password), by, AdminAction::PasswordSet, now)
    }

    fn set_totp_secret(&self, code: &str, secret: &[u8], by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_credential(code, Credential::Totp(secret), by, AdminAction::SecondFactorReset, now)
    }

    fn start_sign_in(
        &self,
        keys: &[&str],
        wait: SignInWait<'_>,
        forget_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<chrono::Duration>> {
        self.run(Mode::Write, |tx| {
            let mut longest: Option<chrono::Duration> = None;
            for key in keys {
                // Keyed: a plain SHA-256 of an address or a typed code could be reversed by trying them all.
                let stored = tx.sealer.token("sign-in", key);
                if let Some(r) =
                    tx.opt("SELECT failures, last_failure_at FROM sign_in_failures WHERE key = $1", &[&stored])?
                {
                    let (failures, last): (i64, DateTime<Utc>) = (get(&r, 0)?, get(&r, 1)?);
                    if last >= forget_before {
                        longest = longest.max(wait(key, u32::try_from(failures).unwrap_or(u32::MAX), last));
                    }
                }
            }
            if longest.is_some() {
                return Ok(longest);
            }
            for key in keys {
                let stored = tx.sealer.token("sign-in", key);
                tx.execute(
                    "INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES ($1, 1, $2)
                     ON CONFLICT (key) DO UPDATE SET
                       failures = CASE WHEN sign_in_failures.last_failure_at < $3 THEN 1 ELSE sign_in_failures.failures + 1 END,
                       last_failure_at = excluded.last_failure_at",
                    &[&stored, &now, &forget_before],
                )?;
            }
            Ok(None)
        })
    }

    fn sign_in_succeeded(&self, good: &GoodSignIn<'_>, now: DateTime<Utc>) -> StoreResult<bool> {
        self.run(Mode::Write, |tx| {
            if !tx.read_staff(good.staff_code)?.is_some_and(|m| m.active) {
                return Ok(false);
            }
            let step = i64::try_from(good.totp_step).map_err(|_| ClinicError::BadRequest("a code's time step"))?;
            let Some(r) = tx.opt(
                "SELECT password, totp_secret, totp_last_step FROM credentials WHERE staff_code = $1 FOR UPDATE",
                &[&good.staff_code],
            )?
            else {
                return Ok(false);
            };
            let open = |sealed: Option<Vec<u8>>, row: String| -> StoreResult<Option<Zeroizing<Vec<u8>>>> {
                sealed.map(|s| tx.sealer.open(&row, &s)).transpose()
            };
            let password = open(get(&r, 0)?, row::password(good.staff_code))?;
            let secret = open(get(&r, 1)?, row::totp(good.staff_code))?;
            let last: Option<i64> = get(&r, 2)?;
            // Only a step after the last one used, and only with what was checked:
            // two requests racing with one code, or a reset in between, sign in nobody.
            let still_theirs = password.as_deref().map(Vec::as_slice) == Some(good.password.as_bytes())
                && secret.as_deref().map(Vec::as_slice) == Some(good.totp_secret);
            if !still_theirs || last.is_some_and(|l| l >= step) {
                return Ok(false);
            }
            tx.execute("UPDATE credentials SET totp_last_step = $2 WHERE staff_code = $1", &[&good.staff_code, &step])?;
            let (account, address) =
                (tx.sealer.token("sign-in", good.account_key), tx.sealer.token("sign-in", good.address_key));
            tx.execute("DELETE FROM sign_in_failures WHERE key = $1", &[&account])?;
            tx.execute("UPDATE sign_in_failures SET failures = greatest(failures - 1, 0) WHERE key = $1", &[&address])?;
            // Kept to the microsecond, as PostgreSQL keeps it, since the token is bound to it.
            let started = micros(now);
            let id = tx.sealer.token("session", good.session_id);
            let csrf =
                tx.sealer.seal(&row::csrf(&id, good.staff_code, started.timestamp_micros()), good.csrf.as_bytes())?;
            tx.execute(
                "INSERT INTO sessions (id, staff_code, csrf, started_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
                &[&id, &good.staff_code, &csrf, &started],
            )?;
            Ok(true)
        })
    }

    fn session(&self, id: &str, now: DateTime<Utc>, policy: SessionPolicy) -> StoreResult<Option<StoredSession>> {
        self.run(Mode::Row, |tx| {
            let id = tx.sealer.token("session", id);
            let Some(r) = tx.opt(
                "SELECT staff_code, csrf, started_at, last_seen_at FROM sessions WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            else {
                return Ok(None);
            };
            let session =
                crate::signin::Session { staff_code: get(&r, 0)?, started_at: get(&r, 2)?, last_seen_at: get(&r, 3)? };
            // Bound to its member and start: a row pointed at someone else, or made older, does not open.
            let place = row::csrf(&id, &session.staff_code, session.started_at.timestamp_micros());
            let csrf = tx.sealer.open(&place, &get::<Vec<u8>>(&r, 1)?);
            let active = tx.read_staff(&session.staff_code)?.is_some_and(|m| m.active);
            let Ok(csrf) = csrf else {
                tx.execute("DELETE FROM sessions WHERE id = $1", &[&id])?;
                return Ok(None);
            };
            if !(active && session.is_live(now, policy)) {
                tx.execute("DELETE FROM sessions WHERE id = $1", &[&id])?;
                return Ok(None);
            }
            tx.execute("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", &[&id, &now])?;
            let csrf =
                String::from_utf8(csrf.to_vec()).map_err(|_| ClinicError::Store("an unreadable session".into()))?;
            Ok(Some(StoredSession { session: crate::signin::Session { last_seen_at: now, ..session }, csrf }))
        })
    }

    fn end_session(&self, id: &str) -> StoreResult<()> {
        self.run(Mode::Row, |tx| {
            let id = tx.sealer.token("session", id);
            tx.execute("DELETE FROM sessions WHERE id = $1", &[&id]).map(|_| ())
        })
    }

    fn prune_sign_in(
        &self,
        now: DateTime<Utc>,
        policy: SessionPolicy,
        forget_failures_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.run(Mode::Row, |tx| {
            let sessions = tx.execute(
                "DELETE FROM sessions WHERE last_seen_at <= $1 OR started_at <= $2",
                &[&(now - policy.idle), &(now - policy.absolute)],
            )?;
            let failures =
                tx.execute("DELETE FROM sign_in_failures WHERE last_failure_at < $1", &[&forget_failures_before])?;
            Ok(sessions + failures)
        })
    }

    fn add_enrolment(&self, token_hash: &str, advocate: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            enrollable(tx.read_staff(advocate)?)?;
            let key = tx.sealer.token("enrolment", token_hash);
            let expires_at = micros(expires_at);
            let mac = enrolment_mac(tx.sealer, &key, advocate, expires_at);
            tx.execute(
                "INSERT INTO enrolments (token_hash, expires_at, advocate, mac) VALUES ($1, $2, $3, $4)",
                &[&key, &expires_at, &advocate, &mac],
            )?;
            Ok(())
        })
    }

    fn enrolment_open(&self, token_hash: &str, device: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        self.run(Mode::Read, |tx| {
            let Some((_, expires, used_by, _)) = tx.read_enrolment(token_hash)? else { return Ok(false) };
            Ok(expires > now && used_by.is_none_or(|u| u == device))
        })
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: &DeviceRecord,
        claimed: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        self.run(Mode::Write, |tx| {
            let (key, expires, used_by, advocate) =
                tx.read_enrolment(token_hash)?.ok_or(ClinicError::EnrolmentRefused)?;
            if expires <= now {
                return Err(ClinicError::EnrolmentRefused);
            }
            if claimed.is_some_and(|c| c != advocate) {
                return Err(ClinicError::AdvocateMismatch);
            }
            enrollable(tx.read_staff(&advocate)?)?;
            match used_by {
                Some(used) if used == device.id => {
                    let existing = tx.read_device(device.id)?.ok_or(ClinicError::EnrolmentRefused)?;
                    if existing.keys != device.keys || existing.status != DeviceStatus::Active {
                        return Err(ClinicError::EnrolmentRefused);
                    }
                    Ok(existing)
                }
                Some(_) => Err(ClinicError::EnrolmentRefused),
                None => {
                    if tx.read_device(device.id)?.is_some() {
                        return Err(ClinicError::DeviceKnown);
                    }
                    tx.execute("UPDATE enrolments SET used_by = $2 WHERE token_hash = $1", &[&key, &device.id])?;
                    let enrolled = DeviceRecord {
                        advocate,
                        confirmed: true,
                        status: DeviceStatus::Active,
                        revoked_at: None,
                        acked_through: 0,
                        ..device.clone()
                    };
                    tx.write_device(&enrolled)?;
                    Ok(enrolled)
                }
            }
        })
    }

    fn confirm_device(&self, id: Uuid, advocate: &str) -> StoreResult<bool> {
        self.run(Mode::Write, |tx| {
            enrollable(tx.read_staff(advocate)?)?;
            let Some(device) = tx.read_device(id)? else { return Ok(false) };
            let confirmed = DeviceRecord { advocate: advocate.to_owned(), confirmed: true, ..device };
            tx.write_device(&confirmed)?;
            Ok(true)
        })
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        self.run(Mode::Read, |tx| tx.read_device(id))
    }

    fn devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through, confirmed, mac
                 FROM devices ORDER BY enrolled_at, id",
                &[],
            )?
            .iter()
            .map(|r| device_of(tx.sealer, r))
            .collect()
        })
    }

    fn revoke(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        self.run(Mode::Write, |tx| {
            let Some(device) = tx.read_device(id)? else { return Ok(false) };
            let revoked_at = device.revoked_at.or(Some(now));
            tx.write_device(&DeviceRecord { status: DeviceStatus::Revoked, revoked_at, ..device })?;
            Ok(true)
        })
    }

    fn use_request_id(&self, device: Uuid, request_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Row, |tx| {
            let inserted = tx.execute(
                "INSERT INTO requests (device, request_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&device, &request_id, &now],
            )?;
            if inserted == 0 {
                return Err(ClinicError::Replayed);
            }
            tx.execute("UPDATE devices SET last_seen_at = $2 WHERE id = $1", &[&device, &now])?;
            Ok(())
        })
    }

    fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.run(Mode::Row, |tx| {
            let requests = tx.execute("DELETE FROM requests WHERE at < $1", &[&before])?;
            let batches = tx.execute("DELETE FROM batches WHERE at < $1", &[&before])?;
            Ok(requests + batches)
        })
    }

    fn store_ready(
        &self,
        origin: Origin<'_>,
        batch_id: Uuid,
        readied: &crate::authority::Readied<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored> {
        let readied = readied.for_origin(&origin)?;
        self.run(Mode::Write, |tx| store_batch(tx, origin, batch_id, readied, now))
    }

    fn feed(&self, device: Uuid, advocate: &str, after: u64, limit: u32) -> StoreResult<FeedPage> {
        self.run(Mode::Read, |tx| {
            let head: i64 = get(&tx.one("SELECT coalesce(max(position), 0) FROM ops", &[])?, 0)?;
            let after = to_i64(after);
            let page = tx.query(
                "SELECT ops.position, ops.op_id, ops.origin, ops.seq, ops.case_id, ops.record_id, ops.kind, ops.action,
                        ops.old_advocate, ops.op
                 FROM ops JOIN case_advocates ca ON ca.case_id = ops.case_id
                 WHERE ops.position > $1 AND ops.position <= $2 AND ops.origin <> $3 AND NOT ops.erased
                   AND (ca.advocate = $4 OR ops.old_advocate = $4 OR ops.action = 'erase')
                 ORDER BY ops.position LIMIT $5",
                &[&after, &head, &device, &advocate, &i64::from(limit)],
            )?;
            let last = page.last().map(|r| get::<i64>(r, 0)).transpose()?.unwrap_or(0);
            // A full page covers up to its last op; a short page covers the whole feed.
            let through = if page.len() as u32 >= limit { last } else { head.max(after) };
            let replays = tx.query(
                "SELECT case_id, position FROM replays WHERE advocate = $1 AND position > $2 AND position <= $3 ORDER BY position",
                &[&advocate, &after, &through],
            )?;
            // A reassigned case's history (all before the cursor) goes first, so
            // every later op of it in the page lands on records that exist.
            let mut ops = Vec::with_capacity(page.len());
            for replay in &replays {
                let case: Uuid = get(replay, 0)?;
                for r in tx.query(
                    "SELECT op_id, origin, seq, case_id, record_id, kind, action, old_advocate, op
                     FROM ops WHERE case_id = $1 AND position <= $2 AND origin <> $3 AND NOT erased ORDER BY position",
                    &[&case, &after, &device],
                )? {
                    ops.extend(tx.servable_op(&r, 0));
                }
            }
            ops.extend(page.iter().filter_map(|r| tx.servable_op(r, 1)));
            Ok(FeedPage { ops, through: to_u64(through) })
        })
    }

    fn feed_all(&self, after: u64, limit: u32) -> StoreResult<FeedPage> {
        self.run(Mode::Read, |tx| {
            let head: i64 = get(&tx.one("SELECT coalesce(max(position), 0) FROM ops", &[])?, 0)?;
            let after = to_i64(after);
            let rows = tx.query(
                "SELECT position, op_id, origin, seq, case_id, record_id, kind, action, old_advocate, op
                 FROM ops WHERE position > $1 AND position <= $2 AND NOT erased ORDER BY position LIMIT $3",
                &[&after, &head, &i64::from(limit)],
            )?;
            let through = if rows.len() as u32 >= limit {
                rows.last().map(|r| get::<i64>(r, 0)).transpose()?.unwrap_or(head)
            } else {
                head.max(after)
            };
            let ops = rows.iter().filter_map(|r| tx.servable_op(r, 1)).collect();
            Ok(FeedPage { ops, through: to_u64(through) })
        })
    }

    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>> {
        self.run(Mode::Read, |tx| {
            tx.opt("SELECT advocate FROM case_advocates WHERE case_id = $1", &[&case])?.map(|r| get(&r, 0)).transpose()
        })
    }

    fn case_latest_hlc(&self, case: Uuid) -> StoreResult<Option<String>> {
        self.run(Mode::Read, |tx| get(&tx.one("SELECT max(hlc) FROM ops WHERE case_id = $1", &[&case])?, 0))
    }

    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)> {
        self.run(Mode::Read, |tx| {
            let r = tx.opt("SELECT seq, hlc FROM ops WHERE origin = $1 ORDER BY seq DESC LIMIT 1", &[&origin])?;
            r.map_or(Ok((0, None)), |r| Ok((to_u64(get(&r, 0)?), get(&r, 1)?)))
        })
    }

    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>> {
        self.run(Mode::Read, |tx| tx.slot_op_id(origin, to_i64(seq)))
    }

    fn feed_head(&self) -> StoreResult<u64> {
        self.run(Mode::Read, |tx| Ok(to_u64(get(&tx.one("SELECT coalesce(max(position), 0) FROM ops", &[])?, 0)?)))
    }

    fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT id, origin, seq, op_id, kind, case_id, at,
                        EXISTS (SELECT 1 FROM ops WHERE ops.op_id = q.op_id AND (ops.content_hash <> q.content_hash OR ops.erased)),
                        decision, decided_by, decided_at
                 FROM quarantine q ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(Quarantined {
                    id: get(r, 0)?,
                    origin: get(r, 1)?,
                    seq: to_u64(get(r, 2)?),
                    op_id: get(r, 3)?,
                    kind: get(r, 4)?,
                    case_id: get(r, 5)?,
                    at: get(r, 6)?,
                    id_taken: get(r, 7)?,
                    decision: get::<Option<String>>(r, 8)?.as_deref().and_then(decision_of),
                    decided_by: get(r, 9)?,
                    decided_at: get(r, 10)?,
                })
            })
            .collect()
        })
    }

    fn quarantined_op(&self, id: i64) -> StoreResult<Option<WireOp>> {
        self.run(Mode::Read, |tx| {
            let Some(r) = tx.opt("SELECT origin, seq, op_id, op FROM quarantine WHERE id = $1", &[&id])? else {
                return Ok(None);
            };
            let place = row::quarantine(id, get(&r, 0)?, get(&r, 1)?, get(&r, 2)?);
            tx.sealer.open_json(&place, &get::<Vec<u8>>(&r, 3)?).map(Some)
        })
    }

    fn decide_quarantined(&self, id: i64, decision: Decision<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            let r = tx
                .opt("SELECT origin, seq, op_id, op FROM quarantine WHERE id = $1 AND decision IS NULL", &[&id])?
                .ok_or(ClinicError::NotQuarantined)?;
            let held: WireOp =
                tx.sealer.open_json(&row::quarantine(id, get(&r, 0)?, get(&r, 1)?, get(&r, 2)?), &get::<Vec<u8>>(&r, 3)?)?;
            check_decision(&held, &decision)?;
            let verdict = match decision.release {
                None => QuarantineDecision::Discarded,
                Some(release) => {
                    if tx.exists("SELECT 1 FROM ops WHERE op_id = $1", &[&release.op_id])? {
                        return Err(ClinicError::BadRequest(
                            "the feed already holds a change with this op id; discard this one",
                        ));
                    }
                    let device = tx.read_device(held.origin)?.filter(|d| d.confirmed).map(|d| d.advocate);
                    crate::authority::judge_release(&held, device.as_deref(), now, decision.service, tx)?;
                    let text = release.canonical_bytes();
                    tx.append_to_feed(release, &Origin::Clinic(release.origin), &text, now)?;
                    QuarantineDecision::Released
                }
            };
            let reason = tx.sealer.seal(&row::reason(id), decision.reason.trim().as_bytes())?;
            tx.execute(
                "UPDATE quarantine SET decision = $2, decided_by = $3, decided_at = $4, reason = $5, released_as = $6 WHERE id = $1",
                &[&id, &verdict.as_str(), &decision.by, &now, &reason, &decision.release.map(|r| r.op_id)],
            )?;
            // The reason stays with the op; the audit names the op and the decision, never the words.
            let target = held.op_id.to_string();
            tx.audit_line(
                &AuditLine {
                    actor: decision.by,
                    action: AdminAction::of(verdict),
                    target: Some(&target),
                    detail: serde_json::json!({ "quarantine": id, "origin": held.origin.to_string(), "seq": held.seq }),
                },
                now,
            )
        })
    }

    fn rejudge_held(&self, understood: u32, service: &ServiceRules, now: DateTime<Utc>) -> StoreResult<u64> {
        self.run(Mode::Write, |tx| {
            let held = tx.query("SELECT origin, seq, op, code, op_id FROM refused ORDER BY at, origin, seq", &[])?;
            let mut released = 0;
            for r in held {
                let (origin, seq, code, op_id): (Uuid, i64, String, Uuid) =
                    (get(&r, 0)?, get(&r, 1)?, get(&r, 3)?, get(&r, 4)?);
                if !refusal_of(&code).may_pass_later() {
                    continue;
                }
                let text = tx.sealer.open(&row::refused(origin, seq, op_id), &get::<Vec<u8>>(&r, 2)?)?;
                let op: WireOp =
                    serde_json::from_slice(&text).map_err(|_| ClinicError::Store("unreadable held op".into()))?;
                if op.schema_version > understood {
                    continue;
                }
                // Only from a device that may still sync, for an advocate still active, and never a second copy.
                let Some(device) = tx.read_device(origin)? else { continue };
                if !device.confirmed || device.status != DeviceStatus::Active {
                    continue;
                }
                if !tx.read_staff(&device.advocate)?.is_some_and(|s| s.active) {
                    continue;
                }
                let advocate = device.advocate;
                if tx.exists("SELECT 1 FROM ops WHERE op_id = $1", &[&op.op_id])? {
                    continue;
                }
                match crate::authority::judge_held(&op, &advocate, understood, service, now, tx)? {
                    Some(refusal) => {
                        tx.execute(
                            "UPDATE refused SET code = $3 WHERE origin = $1 AND seq = $2",
                            &[&origin, &seq, &refusal.as_str()],
                        )?;
                    }
                    None => {
                        tx.execute("DELETE FROM refused WHERE origin = $1 AND seq = $2", &[&origin, &seq])?;
                        let device = Origin::Device {
                            id: op.origin,
                            advocate: &advocate,
                            max_ahead_ms: crate::authority::MAX_HLC_AHEAD_MS,
                            service,
                        };
                        tx.append_to_feed(&op, &device, &text, now)?;
                        released += 1;
                    }
                }
            }
            Ok(released)
        })
    }

    fn audit(&self, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Write, |tx| tx.audit_line(line, now))
    }

    fn admin_audit(&self) -> StoreResult<Vec<AdminEvent>> {
        self.run(Mode::Read, |tx| {
            tx.query("SELECT seq, at, actor, action, target, detail, hash, mac FROM admin_audit ORDER BY seq", &[])?
                .iter()
                .map(|r| {
                    let (seq, at, action, detail): (i64, String, String, String) =
                        (get(r, 0)?, get(r, 1)?, get(r, 3)?, get(r, 5)?);
                    let (hash, mac): (Option<String>, Option<Vec<u8>>) = (get(r, 6)?, get(r, 7)?);
                    // A line whose MAC does not check comes back without its hash, so verifying finds it.
                    let checked = match (&hash, &mac) {
                        (Some(hash), Some(mac)) => {
                            crate::signin::constant_time_eq(&audit_line_mac(tx.sealer, seq, hash), mac)
                        }
                        _ => false,
                    };
                    Ok(AdminEvent {
                        seq,
                        at: DateTime::parse_from_rfc3339(&at)
                            .map_err(|_| ClinicError::Store("unreadable audit".into()))?
                            .with_timezone(&Utc),
                        actor: get(r, 2)?,
                        action: AdminAction::from_wire(&action),
                        target: get(r, 4)?,
                        detail: serde_json::from_str(&detail)
                            .map_err(|_| ClinicError::Store("unreadable audit".into()))?,
                        hash: hash.filter(|_| checked),
                    })
                })
                .collect()
        })
    }

    fn audit_bounds(&self) -> StoreResult<AuditBounds> {
        self.run(Mode::Read, |tx| {
            let r = tx.one("SELECT highest, mac FROM audit_counter", &[])?;
            let (highest, mac): (i64, Option<Vec<u8>>) = (get(&r, 0)?, get(&r, 1)?);
            // A counter set back by hand does not check: no count of lines can then match it.
            let checked = highest == 0
                || mac.is_some_and(|m| crate::signin::constant_time_eq(&audit_counter_mac(tx.sealer, highest), &m));
            // The chain began with this store: no line was ever written without a hash.
            Ok(AuditBounds { chain_starts_after: 0, highest_issued: if checked { highest } else { i64::MAX } })
        })
    }

    fn case_ops(&self, case: Uuid, kind: Option<&str>) -> StoreResult<Vec<WireOp>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT op_id, origin, seq, case_id, record_id, kind, action, old_advocate, op
                 FROM ops WHERE case_id = $1 AND NOT erased AND ($2::text IS NULL OR kind = $2) ORDER BY position",
                &[&case, &kind],
            )?
            .iter()
            .map(|r| tx.open_op_at(r, 0))
            .collect()
        })
    }

    fn add_text_warning(&self, warning: &TextWarning) -> StoreResult<()> {
        self.run(Mode::Row, |tx| {
            tx.execute(
                "INSERT INTO text_warnings (op_id, case_id, kind, record_id, fields, at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (op_id) DO NOTHING",
                &[
                    &warning.op_id,
                    &warning.case_id,
                    &warning.kind,
                    &warning.record_id,
                    &serde_json::to_string(&warning.fields).unwrap_or_else(|_| "[]".into()),
                    &warning.at,
                ],
            )
            .map(|_| ())
        })
    }

    fn text_warnings(&self) -> StoreResult<Vec<TextWarning>> {
        self.run(Mode::Read, |tx| {
            tx.query("SELECT op_id, case_id, kind, record_id, fields, at FROM text_warnings ORDER BY at, op_id", &[])?
                .iter()
                .map(|r| {
                    let fields: String = get(r, 4)?;
                    Ok(TextWarning {
                        op_id: get(r, 0)?,
                        case_id: get(r, 1)?,
                        kind: get(r, 2)?,
                        record_id: get(r, 3)?,
                        fields: serde_json::from_str(&fields)
                            .map_err(|_| ClinicError::Store("unreadable warning".into()))?,
                        at: get(r, 5)?,
                    })
                })
                .collect()
        })
    }

    fn stats(&self) -> StoreResult<Stats> {
        self.run(Mode::Read, |tx| {
            let r = tx.one(
                "SELECT (SELECT count(*) FROM devices WHERE status = 'active'),
                        (SELECT count(*) FROM devices WHERE status = 'revoked'),
                        (SELECT count(*) FROM devices WHERE NOT confirmed),
                        (SELECT count(*) FROM ops),
                        (SELECT count(*) FROM quarantine),
                        (SELECT count(*) FROM refused),
                        (SELECT count(*) FROM recognised),
                        (SELECT coalesce(max(position), 0) FROM ops)",
                &[],
            )?;
            let n = |i: usize| -> StoreResult<u64> { Ok(to_u64(get(&r, i)?)) };
            Ok(Stats {
                devices_active: n(0)?,
                devices_revoked: n(1)?,
                devices_unconfirmed: n(2)?,
                ops: n(3)?,
                quarantined: n(4)?,
                refused: n(5)?,
                recognised: n(6)?,
                feed_head: n(7)?,
            })
        })
    }

    fn add_referral(&self, id: Uuid, by: &str, form: &ReferralRecords, now: DateTime<Utc>) -> StoreResult<i64> {
        self.run(Mode::Write, |tx| {
            let sealed = tx.sealer.seal_json(&row::referral(id, by), form)?;
            // A running number never given twice, even after the referral holding the last one is erased.
            let number: i64 =
                get(&tx.one("UPDATE referral_counter SET highest = highest + 1 RETURNING highest", &[])?, 0)?;
            tx.execute(
                "INSERT INTO referrals (number, id, case_id, submitted_by, submitted_at, status, form)
                 VALUES ($1, $2, $3, $4, $5, 'submitted', $6)",
                &[&number, &id, &form.case.id.0, &by, &now, &sealed],
            )?;
            let target = id.to_string();
            tx.audit_line(
                &AuditLine {
                    actor: by,
                    action: AdminAction::ReferralSubmitted,
                    target: Some(&target),
                    detail: serde_json::json!({ "number": number }),
                },
                now,
            )?;
            Ok(number)
        })
    }

    fn referrals(&self, submitted_by: Option<&str>) -> StoreResult<Vec<StoredReferral>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT id, number, submitted_by, submitted_at, status, form, decided_by, decided_at, decline_reason, advocate
                 FROM referrals WHERE $1::text IS NULL OR submitted_by = $1 ORDER BY number DESC",
                &[&submitted_by],
            )?
            .iter()
            .map(|r| referral_of(tx.sealer, r))
            .collect()
        })
    }

    fn referral(&self, id: Uuid) -> StoreResult<Option<StoredReferral>> {
        self.run(Mode::Read, |tx| {
            tx.opt(
                "SELECT id, number, submitted_by, submitted_at, status, form, decided_by, decided_at, decline_reason, advocate
                 FROM referrals WHERE id = $1",
                &[&id],
            )?
            .map(|r| referral_of(tx.sealer, &r))
            .transpose()
        })
    }

    fn decide_referral(&self, id: Uuid, by: &str, outcome: ReferralOutcome<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            let number: i64 = tx
                .opt("SELECT number FROM referrals WHERE id = $1 AND status = 'submitted'", &[&id])?
                .map(|r| get(&r, 0))
                .transpose()?
                .ok_or(ClinicError::ReferralDecided)?;
            let (status, reason, advocate) = match outcome {
                ReferralOutcome::Accepted { advocate, ops } => {
                    tx.append_clinic_ops(ops, now)?;
                    (IntakeStatus::Accepted, None, Some(advocate))
                }
                ReferralOutcome::Declined(reason) => (IntakeStatus::Declined, Some(reason.wire()), None),
            };
            tx.execute(
                "UPDATE referrals SET status = $2, decided_by = $3, decided_at = $4, decline_reason = $5, advocate = $6 WHERE id = $1",
                &[&id, &status.as_str(), &by, &now, &reason, &advocate],
            )?;
            let target = id.to_string();
            tx.audit_line(&referral_verdict_line(by, &target, number, &outcome), now)
        })
    }

    fn save_meeting(
        &self,
        meeting: &PanelMeeting,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            // Whether it is closed is read from the sealed document, which nobody can reopen by hand.
            let kept = tx.opt("SELECT id, doc FROM panel_meetings WHERE id = $1", &[&meeting.id])?;
            if kept.map(|r| Self::read_meeting(tx.sealer, &r)).transpose()?.is_some_and(|m| m.closed_at.is_some()) {
                return Err(ClinicError::MeetingClosed);
            }
            let doc = tx.sealer.seal_json(&row::meeting(meeting.id), meeting)?;
            tx.execute(
                "INSERT INTO panel_meetings (id, meets_on, doc, published_at, closed_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET meets_on = excluded.meets_on, doc = excluded.doc,
                    published_at = excluded.published_at, closed_at = excluded.closed_at",
                &[&meeting.id, &meeting.meets_on, &doc, &meeting.published_at, &meeting.closed_at],
            )?;
            let target = meeting.id.to_string();
            tx.audit_line(&meeting_line(by, &target, action, meeting), now)
        })
    }

    fn meetings(&self) -> StoreResult<Vec<PanelMeeting>> {
        self.run(Mode::Read, |tx| {
            tx.query("SELECT id, doc FROM panel_meetings ORDER BY meets_on DESC, id", &[])?
                .iter()
                .map(|r| Self::read_meeting(tx.sealer, r))
                .collect()
        })
    }

    fn save_panel(
        &self,
        docs: &[PanelDoc],
        ops: &[WireOp],
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            tx.append_clinic_ops(ops, now)?;
            for doc in docs {
                let place = row::panel(doc.kind.as_str(), &doc.id, doc.case_id, doc.meeting_id);
                let sealed = tx.sealer.seal_json(&place, &doc.doc)?;
                tx.execute(
                    "INSERT INTO panel_docs (kind, id, case_id, meeting_id, doc, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (kind, id) DO UPDATE SET case_id = excluded.case_id, meeting_id = excluded.meeting_id,
                        doc = excluded.doc, updated_at = excluded.updated_at",
                    &[&doc.kind.as_str(), &doc.id, &doc.case_id, &doc.meeting_id, &sealed, &now],
                )?;
            }
            tx.audit_line(line, now)
        })
    }

    fn panel_docs(&self, kind: PanelDocKind, meeting: Option<Uuid>) -> StoreResult<Vec<PanelDoc>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT id, case_id, meeting_id, doc FROM panel_docs
                 WHERE kind = $1 AND ($2::uuid IS NULL OR meeting_id = $2) ORDER BY id",
                &[&kind.as_str(), &meeting],
            )?
            .iter()
            .map(|r| {
                let id: String = get(r, 0)?;
                let (case_id, meeting_id) = (get(r, 1)?, get(r, 2)?);
                let place = row::panel(kind.as_str(), &id, case_id, meeting_id);
                let doc = tx.sealer.open_json(&place, &get::<Vec<u8>>(r, 3)?)?;
                Ok(PanelDoc { kind, id, case_id, meeting_id, doc })
            })
            .collect()
        })
    }

    fn erase_case(&self, erasure: &Erasure, op: &WireOp, now: DateTime<Utc>) -> StoreResult<ErasedAtClinic> {
        self.run(Mode::Write, |tx| {
            let case = erasure.case_id;
            let fresh = tx.execute(
                "INSERT INTO erasures (case_id, erased_at, erased_by, reason, op_id) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
                &[&case, &now, &erasure.erased_by, &erasure.reason.wire(), &erasure.op_id],
            )?;
            if fresh == 0 {
                return Err(ClinicError::CaseErased);
            }
            tx.append_clinic_ops(std::slice::from_ref(op), now)?;
            // The hash goes too: with every other field of the op kept, it would let someone
            // with the key test guesses of a small value (a yes or no, a date) offline.
            tx.execute(
                "UPDATE recognised SET content_hash = $2 WHERE op_id IN (SELECT op_id FROM ops WHERE case_id = $1)",
                &[&case, &ERASED_HASH],
            )?;
            // The tombstone is never opened (erased rows are never read), so it needs no seal.
            let feed_ops = tx.execute(
                "UPDATE ops SET op = convert_to($2, 'UTF8'), erased = true, content_hash = $4, hlc = NULL,
                        old_advocate = NULL, kind = 'erased', action = 'erased'
                 WHERE case_id = $1 AND NOT erased AND op_id <> $3",
                &[&case, &FEED_TOMBSTONE, &op.op_id, &ERASED_HASH],
            )?;
            // What was refused or quarantined keeps its slot; its text keeps only which kind and case it was.
            // Found by the case they name, or by the case their record belongs to.
            let refused = tx.execute(
                "UPDATE refused SET op = convert_to(json_build_object('erased', true, 'kind', kind, 'case_id', $1::text)::text, 'UTF8'),
                        code = 'case_erased', content_hash = $2
                 WHERE case_id = $1 OR record_id IN (SELECT record_id FROM record_homes WHERE case_id = $1)",
                &[&case, &ERASED_HASH],
            )?;
            let quarantined = tx.execute(
                "UPDATE quarantine SET op = convert_to(json_build_object('erased', true, 'kind', kind, 'case_id', $1::text)::text, 'UTF8'),
                        reason = NULL, erased = true, content_hash = $4, case_id = $1,
                        decision = coalesce(decision, 'discarded'), decided_by = coalesce(decided_by, $2),
                        decided_at = coalesce(decided_at, $3)
                 WHERE case_id = $1 OR record_id IN (SELECT record_id FROM record_homes WHERE case_id = $1)",
                &[&case, &erasure.erased_by, &now, &ERASED_HASH],
            )?;
            let referrals = tx.execute("DELETE FROM referrals WHERE case_id = $1", &[&case])?;
            let panel_docs = tx.execute("DELETE FROM panel_docs WHERE case_id = $1", &[&case])?;
            let warnings = tx.execute("DELETE FROM text_warnings WHERE case_id = $1", &[&case])?;
            // A request stays (ids and dates): it is still owed an answer, that nothing is held now.
            tx.execute(
                "DELETE FROM access_decisions WHERE request_id IN (SELECT id FROM access_requests WHERE case_id = $1)",
                &[&case],
            )?;
            let erased = ErasedAtClinic { feed_ops, refused, quarantined, referrals, panel_docs, warnings };
            let target = case.to_string();
            tx.audit_line(&erasure_line(erasure, &target, &erased), now)?;
            Ok(erased)
        })
    }

    fn erasures(&self) -> StoreResult<Vec<Erasure>> {
        self.run(Mode::Read, |tx| {
            tx.query("SELECT case_id, erased_at, erased_by, reason, op_id FROM erasures ORDER BY erased_at", &[])?
                .iter()
                .map(|r| {
                    let reason: String = get(r, 3)?;
                    Ok(Erasure {
                        case_id: get(r, 0)?,
                        erased_at: get(r, 1)?,
                        erased_by: get(r, 2)?,
                        reason: waymark_domain::ErasureReason::from_wire(&reason)
                            .ok_or_else(|| ClinicError::Store("an unreadable erasure".into()))?,
                        op_id: get(r, 4)?,
                    })
                })
                .collect()
        })
    }

    fn case_erased(&self, case: Uuid) -> StoreResult<bool> {
        self.run(Mode::Read, |tx| tx.exists("SELECT 1 FROM erasures WHERE case_id = $1", &[&case]))
    }

    fn add_access_request(&self, request: &AccessRequest, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            // Checked in the transaction: an erasure committed since the caller looked wins.
            let added = tx.execute(
                "INSERT INTO access_requests (id, case_id, subject, perpetrator_id, received_on, due_on, made_at, made_by)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (SELECT 1 FROM erasures WHERE case_id = $2)",
                &[
                    &request.id,
                    &request.case_id.0,
                    &request.subject.wire(),
                    &request.perpetrator_id,
                    &request.received_on,
                    &request.due_on,
                    &request.made_at,
                    &request.made_by,
                ],
            )?;
            if added == 0 {
                return Err(ClinicError::CaseErased);
            }
            tx.audit_line(line, now)
        })
    }

    fn access_requests(&self, case: Option<Uuid>) -> StoreResult<Vec<AccessRequest>> {
        self.run(Mode::Read, |tx| {
            tx.query(
                "SELECT id, case_id, subject, perpetrator_id, received_on, due_on, made_at, made_by,
                        identity_checked_on, identity_checked_by FROM access_requests
                 WHERE $1::uuid IS NULL OR case_id = $1 ORDER BY due_on, made_at",
                &[&case],
            )?
            .iter()
            .map(|r| {
                let unreadable = || ClinicError::Store("an unreadable subject access request".into());
                let subject: String = get(r, 2)?;
                let identity_checked = match (get::<Option<chrono::NaiveDate>>(r, 8)?, get::<Option<String>>(r, 9)?) {
                    (Some(on), Some(by)) => Some(waymark_domain::access::IdentityCheck { on, by }),
                    _ => None,
                };
                Ok(AccessRequest {
                    id: get(r, 0)?,
                    case_id: waymark_domain::CaseId(get(r, 1)?),
                    subject: waymark_domain::AccessSubject::from_wire(&subject).ok_or_else(unreadable)?,
                    perpetrator_id: get(r, 3)?,
                    received_on: get(r, 4)?,
                    due_on: get(r, 5)?,
                    made_at: get(r, 6)?,
                    made_by: get(r, 7)?,
                    identity_checked,
                })
            })
            .collect()
        })
    }

    fn access_decisions(&self, request: Uuid) -> StoreResult<AccessDecisions> {
        self.run(Mode::Read, |tx| {
            let rows = tx.query(
                "SELECT item_key, released_sha256, exemption FROM access_decisions WHERE request_id = $1 ORDER BY item_key",
                &[&request],
            )?;
            let unreadable = || ClinicError::Store("an unreadable subject access decision".into());
            let mut out = AccessDecisions::default();
            for r in rows {
                let key: String = get(&r, 0)?;
                match (get::<Option<Vec<u8>>>(&r, 1)?, get::<Option<String>>(&r, 2)?) {
                    (Some(sealed), None) => {
                        let digest = tx.sealer.open(&row::release(request, &key), &sealed)?;
                        let digest = String::from_utf8(digest.to_vec()).map_err(|_| unreadable())?;
                        out.releases.push((key, digest));
                    }
                    (None, Some(reason)) => {
                        out.exempt.push((key, ExemptionReason::from_wire(&reason).ok_or_else(unreadable)?));
                    }
                    _ => return Err(unreadable()),
                }
            }
            Ok(out)
        })
    }

    fn check_access_identity(
        &self,
        request: Uuid,
        check: &waymark_domain::access::IdentityCheck,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            let kept = tx.execute(
                "UPDATE access_requests SET identity_checked_on = $2, identity_checked_by = $3
                 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = access_requests.case_id)",
                &[&request, &check.on, &check.by],
            )?;
            if kept == 0 {
                return Err(ClinicError::CaseErased);
            }
            tx.audit_line(line, now)
        })
    }

    fn decide_access_item(
        &self,
        request: Uuid,
        key: &str,
        decision: &AccessDecision,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.run(Mode::Write, |tx| {
            let (digest, exemption) = match decision {
                AccessDecision::Release { digest } => {
                    (Some(tx.sealer.seal(&row::release(request, key), digest.as_bytes())?), None)
                }
                AccessDecision::Exempt { reason } => (None, Some(reason.wire())),
            };
            let kept = tx.execute(
                "INSERT INTO access_decisions (request_id, item_key, released_sha256, exemption, decided_at, decided_by)
                 SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS
                   (SELECT 1 FROM erasures JOIN access_requests ON access_requests.case_id = erasures.case_id
                    WHERE access_requests.id = $1)
                 ON CONFLICT (request_id, item_key) DO UPDATE SET released_sha256 = excluded.released_sha256,
                   exemption = excluded.exemption, decided_at = excluded.decided_at, decided_by = excluded.decided_by",
                &[&request, &key, &digest, &exemption, &now, &line.actor],
            )?;
            if kept == 0 {
                return Err(ClinicError::CaseErased);
            }
            tx.audit_line(line, now)
        })
    }
}

fn referral_of(sealer: &Sealer, r: &Row) -> StoreResult<StoredReferral> {
    let id: Uuid = get(r, 0)?;
    let status: String = get(r, 4)?;
    // Bound to who sent it: a row moved to another referrer's list does not open.
    let submitted_by: String = get(r, 2)?;
    let unreadable = || ClinicError::Store("an unreadable referral".into());
    Ok(StoredReferral {
        id,
        number: get(r, 1)?,
        submitted_at: get(r, 3)?,
        status: IntakeStatus::parse(&status).ok_or_else(unreadable)?,
        form: sealer.open_json(&row::referral(id, &submitted_by), &get::<Vec<u8>>(r, 5)?)?,
        submitted_by,
        decided_by: get(r, 6)?,
        decided_at: get(r, 7)?,
        decline_reason: get::<Option<String>>(r, 8)?.and_then(|r| DeclineReason::from_wire(&r)),
        advocate: get(r, 9)?,
    })
}

/// What one batch's per-op lookups would find, each read for the whole
/// batch in one query before its ops are judged, and kept up as the batch
/// stores them (`stored_in_feed`, `held_slot`). PostgreSQL is a network round
/// trip away, and asking per op cost a 2,000-op batch several thousand.
/// Anything not read here (a record or case no op of the batch names) is
/// asked as before.
struct BatchLookups {
    /// `(origin, seq)` slots the feed, the refused list or the recognised slots hold.
    slots: std::collections::HashSet<(Uuid, i64)>,
    /// Op ids the feed holds.
    in_feed: std::collections::HashSet<Uuid>,
    /// Op ids an administrator discarded from the quarantine (not erased).
    discarded: std::collections::HashSet<Uuid>,
    /// Each named record's home, `None` while it has none.
    homes: HashMap<Uuid, Option<crate::authority::RecordHome>>,
    /// Each named case's assignments, by HLC.
    assignments: HashMap<Uuid, std::collections::BTreeMap<String, String>>,
}

impl BatchLookups {
    fn read(tx: &mut Tx<'_>, ops: &[&WireOp]) -> StoreResult<Self> {
        let origins: Vec<Uuid> = ops.iter().map(|o| o.origin).collect();
        let seqs: Vec<i64> = ops.iter().map(|o| to_i64(o.seq)).collect();
        let ids: Vec<Uuid> = ops.iter().map(|o| o.op_id).collect();
        let records: Vec<Uuid> = ops.iter().map(|o| o.record_id).collect();
        let mut cases: Vec<Uuid> = ops.iter().filter_map(|o| o.case_id).collect();
        cases.sort_unstable();
        cases.dedup();
        let mut known = BatchLookups {
            slots: Default::default(),
            in_feed: Default::default(),
            discarded: Default::default(),
            homes: records.iter().map(|r| (*r, None)).collect(),
            assignments: cases.iter().map(|c| (*c, Default::default())).collect(),
        };
        for r in tx.query(
            "WITH sent AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS s (origin, seq))
             SELECT origin, seq FROM ops JOIN sent USING (origin, seq)
             UNION ALL SELECT origin, seq FROM refused JOIN sent USING (origin, seq)
             UNION ALL SELECT origin, seq FROM recognised JOIN sent USING (origin, seq)",
            &[&origins, &seqs],
        )? {
            known.slots.insert((get(&r, 0)?, get(&r, 1)?));
        }
        for r in tx.query("SELECT op_id FROM ops WHERE op_id = ANY($1)", &[&ids])? {
            known.in_feed.insert(get(&r, 0)?);
        }
        for r in tx.query(
            "SELECT op_id FROM quarantine WHERE op_id = ANY($1) AND decision = 'discarded' AND NOT erased",
            &[&ids],
        )? {
            known.discarded.insert(get(&r, 0)?);
        }
        for r in
            tx.query("SELECT record_id, case_id, owner FROM record_homes WHERE record_id = ANY($1)", &[&records])?
        {
            let home = crate::authority::RecordHome { case_id: get(&r, 1)?, owner: get(&r, 2)? };
            known.homes.insert(get(&r, 0)?, Some(home));
        }
        for r in tx.query("SELECT case_id, hlc, advocate FROM assignments WHERE case_id = ANY($1)", &[&cases])? {
            known.assignments.entry(get(&r, 0)?).or_default().insert(get(&r, 1)?, get(&r, 2)?);
        }
        Ok(known)
    }

    /// A slot the batch just filled (in the feed, refused or recognised).
    fn held_slot(&mut self, op: &WireOp) {
        self.slots.insert((op.origin, to_i64(op.seq)));
    }

    /// What `Tx::append_to_feed` just wrote, as its inserts that do nothing on a conflict do.
    fn stored_in_feed(&mut self, op: &WireOp, origin: &Origin<'_>) {
        self.held_slot(op);
        self.in_feed.insert(op.op_id);
        let (home, assignment) = crate::authority::learned(op, origin);
        if let Some(unhomed @ None) = self.homes.get_mut(&op.record_id) {
            *unhomed = Some(home);
        }
        if let Some((case, advocate)) = assignment {
            if let Some(assignments) = self.assignments.get_mut(&case) {
                assignments.entry(op.hlc.clone()).or_insert(advocate);
            }
        }
    }
}

/// The authority's view of a batch's transaction, answering from `BatchLookups` where it can.
struct LookedUp<'a, 'c> {
    tx: &'a mut Tx<'c>,
    known: &'a BatchLookups,
}

impl crate::authority::AuthorityView for LookedUp<'_, '_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<crate::authority::RecordHome>> {
        match self.known.homes.get(&record) {
            Some(home) => Ok(home.clone()),
            None => self.tx.record_home(record),
        }
    }
    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        match self.known.assignments.get(&case) {
            Some(assignments) => Ok(assignments.range(..=hlc.to_owned()).next_back().map(|(_, a)| a.clone())),
            None => self.tx.assignee_at(case, hlc),
        }
    }
    fn clock_owner(&mut self, node: Uuid) -> StoreResult<crate::authority::ClockOwner> {
        self.tx.clock_owner(node)
    }
    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
        self.tx.case_erased(case)
    }
}

/// Stores a device's (or the clinic's) batch under the write lock: the same
/// rules, in the same order, as the SQLCipher store's `store_batch`.
fn store_batch(
    tx: &mut Tx<'_>,
    origin: Origin<'_>,
    batch_id: Uuid,
    readied: &[crate::authority::Ready<'_>],
    now: DateTime<Utc>,
) -> StoreResult<Stored> {
    let ops: Vec<&WireOp> = readied.iter().map(|r| r.op).collect();
    let id = origin.id();
    let fresh = tx.execute(
        "INSERT INTO batches (batch_id, device, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&batch_id, &id, &now],
    )?;
    if fresh == 0 {
        return Err(ClinicError::Replayed);
    }
    // The clinic's own ops are numbered before they are stored: one whose
    // number or id is taken meanwhile is refused whole, never quarantined.
    if matches!(origin, Origin::Clinic(_)) {
        for op in &ops {
            if tx.clinic_slot_taken(op)? {
                return Err(ClinicError::ClinicBusy);
            }
        }
    }
    // The clinic's own ops have no device row and no acknowledgement.
    let (acked, mut head_hlc): (i64, Option<String>) =
        match tx.opt("SELECT acked_through, head_hlc FROM devices WHERE id = $1", &[&id])? {
            Some(r) => (get(&r, 0)?, get(&r, 1)?),
            None => (0, None),
        };
    if matches!(origin, Origin::Device { .. }) && ops.first().is_some_and(|o| to_i64(o.seq) > acked + 1) {
        return Err(ClinicError::OutOfOrder);
    }
    let mut stored = Stored::default();
    let mut memo = crate::authority::BatchMemo::default();
    let mut known = BatchLookups::read(tx, &ops)?;
    for ready in readied {
        let (op, text) = (ready.op, &ready.text);
        let hash = &tx.sealer.content_hash(text);
        let seq = to_i64(op.seq);
        let slot_taken = seq <= acked || known.slots.contains(&(op.origin, seq));
        let id_taken = known.in_feed.contains(&op.op_id);
        // A change to an erased case in a new slot holds its slot and keeps nothing, not even a hash.
        let erased = crate::authority::of_erased_case(op, &mut memo.over(&mut LookedUp { tx, known: &known }))?;
        if erased && !slot_taken && matches!(origin, Origin::Device { .. }) {
            let kept = tx.sealer.seal(&row::refused(op.origin, seq, op.op_id), &erased_text(op))?;
            tx.execute(
                "INSERT INTO refused (origin, seq, op_id, kind, case_id, record_id, content_hash, code, op, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &op.origin,
                    &seq,
                    &op.op_id,
                    &op.kind,
                    &op.case_id,
                    &op.record_id,
                    &ERASED_HASH,
                    &OpRefusal::CaseErased.as_str(),
                    &kept,
                    &now,
                ],
            )?;
            known.held_slot(op);
            stored.refused.push(RefusedOp { seq: op.seq, code: OpRefusal::CaseErased });
            continue;
        }
        if let (false, true, Origin::Device { advocate, .. }) = (slot_taken, id_taken, origin) {
            if tx.recognised_elsewhere(op, advocate)? {
                tx.execute(
                    "INSERT INTO recognised (origin, seq, op_id, content_hash, at) VALUES ($1, $2, $3, $4, $5)",
                    &[&op.origin, &seq, &op.op_id, &hash, &now],
                )?;
                known.held_slot(op);
                stored.recognised += 1;
                head_hlc = Some(op.hlc.clone());
                continue;
            }
        }
        // A change an administrator discarded stays out when it comes back
        // in a new slot (its laptop rejoined): it goes back to the quarantine.
        let discarded = !slot_taken && !id_taken && known.discarded.contains(&op.op_id) && {
            let kept = tx.query(
                "SELECT id, origin, seq, op FROM quarantine WHERE op_id = $1 AND decision = 'discarded' AND NOT erased",
                &[&op.op_id],
            )?;
            let mut any = false;
            for r in kept {
                let place = row::quarantine(get(&r, 0)?, get(&r, 1)?, get(&r, 2)?, op.op_id);
                let held: WireOp = tx.sealer.open_json(&place, &get::<Vec<u8>>(&r, 3)?)?;
                any |= held.meaning_hash() == op.meaning_hash();
            }
            any
        };
        let kept_text = if erased { erased_text(op) } else { text.clone() };
        if discarded {
            quarantine(tx, op, &kept_text, hash, now, None, erased)?;
            stored.quarantined.push(op.seq);
            continue;
        }
        if !slot_taken && !id_taken {
            let refusal = match origin {
                Origin::Clinic(_) => None,
                Origin::Device { id: device, advocate, max_ahead_ms, service } => {
                    let sender = crate::authority::Sender {
                        device,
                        advocate,
                        previous_hlc: head_hlc.as_deref(),
                        now,
                        max_ahead_ms,
                        service,
                        schema: waymark_protocol::SCHEMA_VERSION,
                    };
                    crate::authority::judge_ready(ready, &sender, &mut memo.over(&mut LookedUp { tx, known: &known }))?
                }
            };
            if crate::authority::clock_counts(refusal.as_ref()) {
                head_hlc = Some(op.hlc.clone());
            }
            if let Some(code) = refusal {
                // An erased case's change holds its slot; its content is not kept.
                let (kept, kept_hash) = match code {
                    OpRefusal::CaseErased => (erased_text(op), ERASED_HASH.to_vec()),
                    _ => (kept_text.clone(), hash.clone()),
                };
                let sealed = tx.sealer.seal(&row::refused(op.origin, seq, op.op_id), &kept)?;
                tx.execute(
                    "INSERT INTO refused (origin, seq, op_id, kind, case_id, record_id, content_hash, code, op, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        &op.origin,
                        &seq,
                        &op.op_id,
                        &op.kind,
                        &op.case_id,
                        &op.record_id,
                        &kept_hash,
                        &code.as_str(),
                        &sealed,
                        &now,
                    ],
                )?;
                known.held_slot(op);
                tracing::warn!(device = %origin.id(), seq = op.seq, code = code.as_str(), "an op broke a rule; refused and kept");
                stored.refused.push(RefusedOp { seq: op.seq, code });
                continue;
            }
            tx.append_to_feed(op, &origin, text, now)?;
            known.stored_in_feed(op, &origin);
            stored.inserted += 1;
            continue;
        }
        // Sent before: the same op again is answered as before; anything else is quarantined.
        if let Some(r) =
            tx.opt("SELECT op_id, content_hash FROM recognised WHERE origin = $1 AND seq = $2", &[&op.origin, &seq])?
        {
            if get::<Uuid>(&r, 0)? == op.op_id && get::<Vec<u8>>(&r, 1)? == *hash {
                stored.duplicates += 1;
                continue;
            }
        }
        let held = tx.query(
            "SELECT op_id, content_hash, origin, seq, NULL::text FROM ops WHERE op_id = $1 OR (origin = $2 AND seq = $3)
             UNION ALL SELECT op_id, content_hash, origin, seq, code FROM refused WHERE origin = $2 AND seq = $3",
            &[&op.op_id, &op.origin, &seq],
        )?;
        let mut rows = Vec::with_capacity(held.len());
        for r in &held {
            rows.push((
                get::<Uuid>(r, 0)?,
                get::<Vec<u8>>(r, 1)?,
                get::<Uuid>(r, 2)?,
                get::<i64>(r, 3)?,
                get::<Option<String>>(r, 4)?,
            ));
        }
        let same = |(i, h, o, s, _): &(Uuid, Vec<u8>, Uuid, i64, Option<String>)| {
            *i == op.op_id && *h == *hash && *o == op.origin && *s == seq
        };
        // A laptop resends a change of an erased case as its tombstone: the slot is the one the clinic holds.
        let resent_erased = |(i, _, o, s, _): &(Uuid, Vec<u8>, Uuid, i64, Option<String>)| {
            erased && *i == op.op_id && *o == op.origin && *s == seq
        };
        match rows.as_slice() {
            [one] if same(one) || resent_erased(one) => {
                stored.duplicates += 1;
                if let Some(code) = &one.4 {
                    stored.refused.push(RefusedOp { seq: op.seq, code: refusal_of(code) });
                }
            }
            _ => {
                // Nothing of an erased case's change is left to decide: it is discarded as it arrives.
                let decided = erased.then_some(("discarded", "erasure"));
                quarantine(tx, op, &kept_text, hash, now, decided, erased)?;
                tracing::warn!(device = %origin.id(), seq = op.seq, "an op id or sequence arrived again with different content; quarantined");
                stored.quarantined.push(op.seq);
            }
        }
    }
    // Walk the held slots past the acknowledgement until the first gap.
    let mut next = acked + 1;
    for r in tx.query(
        "SELECT seq FROM ops WHERE origin = $1 AND seq >= $2 UNION SELECT seq FROM quarantine WHERE origin = $1 AND seq >= $2
         UNION SELECT seq FROM refused WHERE origin = $1 AND seq >= $2
         UNION SELECT seq FROM recognised WHERE origin = $1 AND seq >= $2 ORDER BY seq",
        &[&id, &next],
    )? {
        if get::<i64>(&r, 0)? != next {
            break;
        }
        next += 1;
    }
    let acked = next - 1;
    tx.execute(
        "UPDATE devices SET acked_through = $2, last_seen_at = $3, head_hlc = $4 WHERE id = $1",
        &[&id, &acked, &now, &head_hlc],
    )?;
    stored.acked_op = tx.slot_op_id(id, acked)?;
    stored.acked_through = to_u64(acked);
    Ok(stored)
}

/// Keeps an op out of the feed, sealed, with any decision already made.
fn quarantine(
    tx: &mut Tx<'_>,
    op: &WireOp,
    text: &[u8],
    hash: &[u8],
    now: DateTime<Utc>,
    decided: Option<(&str, &str)>,
    erased: bool,
) -> StoreResult<()> {
    let seq = to_i64(op.seq);
    // Numbered here, under the write lock, so the seal can name its own row.
    let id: i64 = get(&tx.one("SELECT coalesce(max(id), 0) + 1 FROM quarantine", &[])?, 0)?;
    let sealed = tx.sealer.seal(&row::quarantine(id, op.origin, seq, op.op_id), text)?;
    let (decision, by, at) = match decided {
        Some((decision, by)) => (Some(decision), Some(by), Some(now)),
        None => (None, None, None),
    };
    // An erased case's change keeps nothing, not even its hash.
    let hash = if erased { ERASED_HASH } else { hash };
    tx.execute(
        "INSERT INTO quarantine (id, origin, seq, op_id, kind, case_id, record_id, content_hash, op, at, decision, decided_by, decided_at, erased)
         OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &id,
            &op.origin,
            &seq,
            &op.op_id,
            &op.kind,
            &op.case_id,
            &op.record_id,
            &hash,
            &sealed,
            &now,
            &decision,
            &by,
            &at,
            &erased,
        ],
    )?;
    Ok(())
}

/// A throwaway schema for tests, in the database `WAYMARK_TEST_POSTGRES`
/// names (`cargo xtask test` starts one); dropped when the guard goes.
#[cfg(any(test, feature = "test-kit"))]
pub mod test_kit {
    use super::*;

    pub const ENV: &str = "WAYMARK_TEST_POSTGRES";

    pub struct TestSchema {
        base: String,
        pub name: String,
    }

    impl TestSchema {
        /// The connection string a store (or a `waymark-clinic` process) uses for this schema.
        pub fn connection(&self) -> String {
            format!("{} options='-c search_path={}'", self.base, self.name)
        }
    }

    /// A fresh schema. Panics with what to do when no test database is set.
    pub fn schema() -> TestSchema {
        let base = std::env::var(ENV).unwrap_or_else(|_| {
            panic!("{ENV} is not set: run the tests through `cargo xtask test`, which starts PostgreSQL and sets it")
        });
        let name = format!("t_{}", Uuid::now_v7().simple());
        let (b, n) = (base.clone(), name.clone());
        std::thread::spawn(move || {
            let mut client = Client::connect(&b, NoTls).expect("the test database answers");
            client.batch_execute(&format!("CREATE SCHEMA {n}")).expect("a test schema");
        })
        .join()
        .expect("the test schema was made");
        TestSchema { base, name }
    }

    impl TestSchema {
        /// The schema as `pg_dump` (a tool nobody here wrote) writes it: what
        /// a hosting engineer or a stolen backup holds. `pg_dump` writes a
        /// `bytea` as hex (`\x…`), so each is decoded and added too: text put
        /// in a `bytea` column unsealed is then found like any other.
        pub fn dump(&self) -> Vec<u8> {
            let out = std::process::Command::new("pg_dump")
                .args(["--schema", &self.name, "--dbname", &self.base])
                .output()
                .expect("pg_dump is installed with PostgreSQL by `cargo xtask setup`");
            assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut all = out.stdout;
            for piece in text.split("\\x").skip(1) {
                let digits: String = piece.chars().take_while(char::is_ascii_hexdigit).collect();
                if let Ok(bytes) = hex::decode(&digits[..digits.len() / 2 * 2]) {
                    all.push(b'\n');
                    all.extend(bytes);
                }
            }
            all
        }

        /// Every sealed value the schema holds, opened with the clinic's
        /// key: what someone with the database and the key could read.
        pub fn opened(&self, key: &[u8; 32]) -> Vec<u8> {
            let (connection, key) = (self.connection(), *key);
            std::thread::spawn(move || {
                let sealer = Sealer::new(&key);
                let mut client = Client::connect(&connection, NoTls).expect("the test database answers");
                let mut out = Vec::new();
                // What does not open (a tombstone, or anything written unsealed) is kept as it is.
                let mut open = |place: String, sealed: Option<Vec<u8>>| {
                    if let Some(sealed) = sealed {
                        match sealer.open(&place, &sealed) {
                            Ok(plain) => out.extend_from_slice(&plain),
                            Err(_) => out.extend_from_slice(&sealed),
                        }
                        out.push(b'\n');
                    }
                };
                let rows = |client: &mut Client, sql: &str| client.query(sql, &[]).expect(sql);
                for r in rows(
                    &mut client,
                    "SELECT op_id, origin, seq, case_id, record_id, kind, action, old_advocate, op FROM ops",
                ) {
                    let (kind, action, old): (String, String, Option<String>) = (r.get(5), r.get(6), r.get(7));
                    let place = OpPlace {
                        op_id: r.get(0),
                        origin: r.get(1),
                        seq: r.get(2),
                        case_id: r.get(3),
                        record_id: r.get(4),
                        kind: &kind,
                        action: &action,
                        old_advocate: old.as_deref(),
                    };
                    open(row::op(&place), r.get(8));
                }
                for r in rows(&mut client, "SELECT origin, seq, op_id, op FROM refused") {
                    open(row::refused(r.get(0), r.get(1), r.get(2)), r.get(3));
                }
                for r in rows(&mut client, "SELECT id, origin, seq, op_id, op, reason FROM quarantine") {
                    open(row::quarantine(r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4));
                    open(row::reason(r.get(0)), r.get(5));
                }
                for r in rows(&mut client, "SELECT code, role, active, sealed FROM staff") {
                    open(row::staff(r.get(0), r.get(1), r.get(2)), r.get(3));
                }
                for r in rows(&mut client, "SELECT staff_code, password, totp_secret FROM credentials") {
                    let code: String = r.get(0);
                    open(row::password(&code), r.get(1));
                    open(row::totp(&code), r.get(2));
                }
                for r in rows(&mut client, "SELECT id, staff_code, started_at, csrf FROM sessions") {
                    let started: DateTime<Utc> = r.get(2);
                    open(row::csrf(r.get(0), r.get(1), started.timestamp_micros()), r.get(3));
                }
                for r in rows(&mut client, "SELECT id, submitted_by, form FROM referrals") {
                    open(row::referral(r.get(0), r.get(1)), r.get(2));
                }
                for r in rows(&mut client, "SELECT id, doc FROM panel_meetings") {
                    open(row::meeting(r.get(0)), r.get(1));
                }
                for r in rows(&mut client, "SELECT kind, id, case_id, meeting_id, doc FROM panel_docs") {
                    open(row::panel(r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4));
                }
                for r in rows(&mut client, "SELECT request_id, item_key, released_sha256 FROM access_decisions") {
                    open(row::release(r.get(0), r.get(1)), r.get(2));
                }
                out
            })
            .join()
            .expect("the sealed values were read")
        }
    }

    /// A store in a fresh schema.
    pub fn store(key: &[u8; 32]) -> (PostgresStore, TestSchema) {
        let schema = schema();
        let store = PostgresStore::open(&schema.connection(), key).expect("the PostgreSQL store opens");
        (store, schema)
    }

    impl Drop for TestSchema {
        fn drop(&mut self) {
            let (base, name) = (self.base.clone(), self.name.clone());
            let _ = std::thread::spawn(move || {
                if let Ok(mut client) = Client::connect(&base, NoTls) {
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
                }
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landed_migrations_are_never_edited() {
        waymark_sqlcipher::check_lock(MIGRATIONS, include_str!("pg_migrations.lock")).unwrap();
    }

    #[test]
    fn a_server_with_another_clinics_key_is_refused_before_it_writes() {
        // Why: every server over one database must share the clinic's key;
        // one started with another folder's key would write what no other could open.
        let (store, schema) = test_kit::store(&[1u8; 32]);
        drop(store);
        let err = PostgresStore::open(&schema.connection(), &[2u8; 32]).expect_err("refused");
        assert!(matches!(err, ClinicError::Setup(ref m) if m.contains("another clinic")), "{err:?}");
        assert!(PostgresStore::open(&schema.connection(), &[1u8; 32]).is_ok(), "its own key still opens it");
        // `init` asks without claiming; `wipe` drops it all, once the right key has opened it.
        assert!(PostgresStore::holds_a_clinic(&schema.connection()).unwrap());
        PostgresStore::open(&schema.connection(), &[1u8; 32]).unwrap().wipe().unwrap();
        assert!(!PostgresStore::holds_a_clinic(&schema.connection()).unwrap(), "wiped, it holds no clinic");
        assert!(PostgresStore::open(&schema.connection(), &[2u8; 32]).is_ok(), "and another clinic may claim it");
    }

    #[test]
    fn what_decides_access_cannot_be_changed_in_the_database_without_the_clinic_noticing() {
        // Why: a hosting engineer can write to the database as well as read
        // it. A laptop of their own, a device moved to another advocate, a
        // raised role or a trimmed audit must be refused, never obeyed.
        use chrono::TimeZone;
        let (store, schema) = test_kit::store(&[3u8; 32]);
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        for code in ["ISA01", "ISA02"] {
            let member = StaffMember {
                code: code.into(),
                name: format!("Name of {code}"),
                role: StaffRole::Advocate,
                active: true,
                added_at: at,
                agency: None,
            };
            store.add_staff(&member).unwrap();
        }
        let token = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"the clinic's code"));
        store.add_enrolment(&token, "ISA01", at + chrono::Duration::days(1)).unwrap();
        let device = DeviceRecord {
            id: Uuid::from_u128(1),
            advocate: String::new(),
            confirmed: false,
            keys: waymark_protocol::DeviceKeys::generate(&mut rand::rngs::OsRng).public(),
            status: DeviceStatus::Active,
            enrolled_at: at,
            revoked_at: None,
            last_seen_at: None,
            acked_through: 0,
        };
        store.enrol(&token, &device, Some("ISA01"), at).unwrap();
        for n in 0..3 {
            let line = AuditLine {
                actor: "ADM1",
                action: AdminAction::Viewed,
                target: None,
                detail: serde_json::json!({ "n": n }),
            };
            store.audit(&line, at).unwrap();
        }
        let sql = |text: String| {
            let connection = schema.connection();
            std::thread::spawn(move || Client::connect(&connection, NoTls).unwrap().batch_execute(&text).unwrap())
                .join()
                .unwrap();
        };
        assert_eq!(store.device(device.id).unwrap().unwrap().advocate, "ISA01");

        sql("UPDATE devices SET advocate = 'ISA02'".into());
        assert!(store.device(device.id).is_err(), "a laptop moved to another advocate is refused");
        sql("UPDATE devices SET advocate = 'ISA01'".into());
        assert!(store.device(device.id).unwrap().is_some(), "put back, it reads again: the check is the MAC");
        sql("UPDATE devices SET status = 'revoked'".into());
        store.revoke(device.id, at).unwrap_err();
        sql("UPDATE devices SET status = 'active'".into());
        store.revoke(device.id, at).unwrap();
        sql("UPDATE devices SET status = 'active'".into());
        assert!(store.device(device.id).is_err(), "a revoked laptop brought back by hand is refused");

        // A code of the database holder's own, even with the clinic's MAC copied onto it.
        let theirs = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"their own code"));
        sql(format!(
            "INSERT INTO enrolments (token_hash, expires_at, advocate, mac)
             SELECT '{theirs}', expires_at, 'ISA02', mac FROM enrolments"
        ));
        assert!(!store.enrolment_open(&theirs, Uuid::from_u128(2), at).unwrap());
        let rogue = DeviceRecord { id: Uuid::from_u128(2), ..device.clone() };
        assert!(matches!(store.enrol(&theirs, &rogue, None, at), Err(ClinicError::EnrolmentRefused)));

        sql("UPDATE staff SET role = 'administrator' WHERE code = 'ISA02'".into());
        assert!(store.staff("ISA02").is_err(), "a role raised by hand is refused");

        let lines = store.admin_audit().unwrap();
        let head = verify_audit(&lines, store.audit_bounds().unwrap(), None).unwrap().head.unwrap();
        assert_eq!(head.0, 3);
        // The last line taken off, the count set back, the chain still whole: the MACs tell.
        sql("ALTER TABLE admin_audit DISABLE TRIGGER USER; DELETE FROM admin_audit WHERE seq = 3;
             UPDATE audit_counter SET highest = 2; ALTER TABLE admin_audit ENABLE TRIGGER USER"
            .into());
        let trimmed = verify_audit(&store.admin_audit().unwrap(), store.audit_bounds().unwrap(), None);
        assert!(matches!(trimmed, Err(ClinicError::AuditBroken { .. })), "{trimmed:?}");
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_own_row_and_under_its_own_key() {
        // Why: the database's holder can move ciphertext between rows or write
        // their own; neither may pass for the clinic's.
        let sealer = Sealer::new(&[1u8; 32]);
        let sealed = sealer.seal(&row::staff("ISA01", "advocate", true), b"Advocate One").unwrap();
        assert_eq!(&**sealer.open(&row::staff("ISA01", "advocate", true), &sealed).unwrap(), b"Advocate One");
        assert!(sealer.open(&row::staff("ISA02", "advocate", true), &sealed).is_err(), "moved to another row");
        assert!(sealer.open(&row::staff("ISA01", "administrator", true), &sealed).is_err(), "its role changed by hand");
        assert!(
            Sealer::new(&[2u8; 32]).open(&row::staff("ISA01", "advocate", true), &sealed).is_err(),
            "another clinic's key"
        );
        assert!(
            sealer.open(&row::staff("ISA01", "advocate", true), b"{\"name\":\"x\"}").is_err(),
            "plain text put there by hand"
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&row::staff("ISA01", "advocate", true), &flipped).is_err(), "one bit changed");
        assert!(!sealed.windows(8).any(|w| w == b"Advocate"), "the name is not in the sealed bytes");
        assert_ne!(
            sealer.seal(&row::staff("ISA01", "advocate", true), b"Advocate One").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
        assert_ne!(
            sealer.content_hash(b"op"),
            Sealer::new(&[2u8; 32]).content_hash(b"op"),
            "content hashes are keyed, so a reader cannot test a guess"
        );
    }
}
