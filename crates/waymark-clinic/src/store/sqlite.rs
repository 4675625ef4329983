//! The default store: an embedded SQLCipher database whose random key is
//! wrapped with age in the clinic's key file and unlocked at start.

use super::*;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::borrow::Cow;
use std::path::Path;
use std::sync::Mutex;
use waymark_sqlcipher::{Migration, Tuning};

/// Append-only, like the vault's: add a file and its line in
/// `migrations.lock`, never edit one that has landed.
const MIGRATIONS: &[Migration] = &[
    Migration { name: "0001_feed", sql: include_str!("migrations/0001_feed.sql") },
    Migration { name: "0002_replays", sql: include_str!("migrations/0002_replays.sql") },
    Migration { name: "0003_authority", sql: include_str!("migrations/0003_authority.sql") },
    Migration { name: "0004_recognised", sql: include_str!("migrations/0004_recognised.sql") },
    Migration { name: "0005_text_warnings", sql: include_str!("migrations/0005_text_warnings.sql") },
    Migration { name: "0006_sign_in", sql: include_str!("migrations/0006_sign_in.sql") },
    Migration { name: "0007_audit_chain", sql: include_str!("migrations/0007_audit_chain.sql") },
    Migration { name: "0008_audit_chain_start", sql: include_str!("migrations/0008_audit_chain_start.sql") },
    Migration { name: "0009_referrals", sql: include_str!("migrations/0009_referrals.sql") },
    Migration { name: "0010_panel", sql: include_str!("migrations/0010_panel.sql") },
    Migration { name: "0011_panel_work", sql: include_str!("migrations/0011_panel_work.sql") },
    Migration { name: "0012_erasure", sql: include_str!("migrations/0012_erasure.sql") },
    Migration { name: "0013_subject_access", sql: include_str!("migrations/0013_subject_access.sql") },
    Migration { name: "0014_access_identity", sql: include_str!("migrations/0014_access_identity.sql") },
    Migration { name: "0015_op_kinds", sql: include_str!("migrations/0015_op_kinds.sql") },
];

/// The page cache holds the largest batch the limits allow (16 MiB of ops)
/// with its indexes, so a push does not evict and re-read its own pages.
const TUNING: Tuning = Tuning { busy_timeout_ms: 10_000, cache_kib: Some(32 * 1024), foreign_keys: false };

/// For the sync benchmark's floor: a plain, unkeyed SQLite database with the
/// store's schema and settings, into which it inserts the rows a push stores.
#[cfg(feature = "test-kit")]
pub fn plain_with_schema(path: &Path) -> StoreResult<Connection> {
    let mut conn = waymark_sqlcipher::open(path, None, true, TUNING).map_err(from_store)?;
    waymark_sqlcipher::migrate_to(&mut conn, MIGRATIONS, u32::MAX).map_err(from_store)?;
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
    Ok(conn)
}

/// How often the write-ahead log is copied back when no push asked for it.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// A backstop: past this many pages of log the store's own connection
/// checkpoints in a request after all, should the thread fall behind.
const WAL_BACKSTOP_PAGES: u32 = 10_000;

pub struct SqliteStore {
    conn: Mutex<Connection>,
    checkpoints: Checkpointer,
}

/// Copies the write-ahead log back into the database on a connection and
/// thread of its own, between requests, so no push waits on one. Passive, so
/// it never holds up a writer. An erasure empties the log itself, in its
/// request, holding `one_at_a_time` so it waits for the thread's checkpoint
/// instead of finding the log busy.
struct Checkpointer {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    one_at_a_time: std::sync::Arc<Mutex<()>>,
}

impl Checkpointer {
    fn start(conn: Connection) -> StoreResult<Self> {
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let one_at_a_time = std::sync::Arc::new(Mutex::new(()));
        let gate = one_at_a_time.clone();
        let thread = std::thread::Builder::new()
            .name("clinic-checkpoint".into())
            .spawn(move || loop {
                match woken.recv_timeout(CHECKPOINT_EVERY) {
                    Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        let _turn = gate.lock();
                        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                            tracing::warn!(code = ?e.sqlite_error_code(), "a checkpoint failed; will try again");
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| ClinicError::Setup(format!("start the checkpoint thread: {}", e.kind())))?;
        Ok(Self { wake: Some(wake), thread: Some(thread), one_at_a_time })
    }

    /// Empties the log on `conn` (an erasure's), after any checkpoint the thread is running.
    fn empty_log(&self, conn: &Connection) -> StoreResult<()> {
        let _turn = self.one_at_a_time.lock().map_err(|_| ClinicError::Store("poisoned".into()))?;
        checkpoint(conn)
    }

    /// Asks for a checkpoint soon; one already asked for covers this one too.
    fn nudge(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
        let literal = zeroize::Zeroizing::new(format!("x'{}'", hex::encode(key)));
        let mut conn = waymark_sqlcipher::open(path, Some(literal.as_str()), create, TUNING).map_err(from_store)?;
        waymark_sqlcipher::migrate_to(&mut conn, MIGRATIONS, u32::MAX).map_err(from_store)?;
        conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES};"))?;
        let checkpointing = waymark_sqlcipher::open(path, Some(literal.as_str()), false, TUNING).map_err(from_store)?;
        let store = Self { conn: Mutex::new(conn), checkpoints: Checkpointer::start(checkpointing)? };
        // An erasure whose checkpoint failed (the server stopped, or another
        // reader held the log) left older page versions in the log: empty it
        // now, once, without waiting on a server that is reading it.
        let emptied: i64 = store.conn()?.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).unwrap_or(1);
        if emptied != 0 {
            tracing::debug!("the write-ahead log was in use at start; the running server's checkpoints will empty it");
        }
        Ok(store)
    }

    fn conn(&self) -> StoreResult<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| ClinicError::Store("poisoned".into()))
    }

    /// Sets one credential column for a staff member, ends their sessions
    /// and audits the act by `by`, in one transaction.
    fn set_credential(
        &self,
        code: &str,
        column: &'static str,
        value: rusqlite::types::Value,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if read_staff(&tx, code)?.is_none() {
            return Err(ClinicError::UnknownStaff);
        }
        // The column is one of two constants, never input.
        tx.execute(
            &format!(
                "INSERT INTO credentials (staff_code, {column}) VALUES (?1, ?2)
                 ON CONFLICT (staff_code) DO UPDATE SET {column} = excluded.{column}"
            ),
            params![code, value],
        )?;
        if column == "totp_secret" {
            // Codes from the new secret start afresh.
            tx.execute("UPDATE credentials SET totp_last_step = NULL WHERE staff_code = ?1", [code])?;
        }
        tx.execute("DELETE FROM sessions WHERE staff_code = ?1", [code])?;
        audit_admin(&tx, &now.to_rfc3339(), by, action, code, serde_json::json!({}))?;
        tx.commit()?;
        Ok(())
    }
}

fn parse_time(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ClinicError::Store("unreadable time".into()))
}

fn from_store(e: waymark_sqlcipher::Error) -> ClinicError {
    match e {
        waymark_sqlcipher::Error::WrongKey => ClinicError::WrongPassphrase,
        waymark_sqlcipher::Error::NewerSchema { .. } => {
            ClinicError::Setup("the database is from a newer waymark-clinic".into())
        }
        waymark_sqlcipher::Error::Sql(e) => e.into(),
    }
}

fn read_device(conn: &Connection, id: &str) -> StoreResult<Option<DeviceRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through, confirmed FROM devices WHERE id = ?1",
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
    let confirmed: i64 = r.get(8)?;
    let bad = || ClinicError::Store("unreadable device row".into());
    Ok((|| {
        Ok(DeviceRecord {
            id: id.parse().map_err(|_| bad())?,
            advocate: r.get(1).map_err(|_| bad())?,
            confirmed: confirmed == 1,
            keys: serde_json::from_str(&keys).map_err(|_| bad())?,
            status: if status == "revoked" { DeviceStatus::Revoked } else { DeviceStatus::Active },
            enrolled_at: time(Some(enrolled)).ok_or_else(bad)?,
            revoked_at: time(r.get(5).map_err(|_| bad())?),
            last_seen_at: time(r.get(6).map_err(|_| bad())?),
            acked_through: u64::try_from(acked).unwrap_or(0),
        })
    })())
}

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoreResult<StaffMember>> {
    let role: String = r.get(2)?;
    let active: i64 = r.get(3)?;
    let added: String = r.get(4)?;
    let (code, name): (String, String) = (r.get(0)?, r.get(1)?);
    let agency: Option<String> = r.get(5)?;
    let bad = || ClinicError::Store("unreadable staff row".into());
    Ok((|| {
        Ok(StaffMember {
            code,
            name,
            role: StaffRole::parse(&role).ok_or_else(bad)?,
            active: active == 1,
            added_at: time(Some(added)).ok_or_else(bad)?,
            agency: agency.map(|a| serde_json::from_str(&a)).transpose().map_err(|_| bad())?,
        })
    })())
}

fn read_staff(conn: &Connection, code: &str) -> StoreResult<Option<StaffMember>> {
    conn.prepare_cached("SELECT code, name, role, active, added_at, agency FROM staff WHERE code = ?1")?
        .query_row([code], staff_row)
        .optional()?
        .transpose()
}

/// The authority rules' view of the store, inside the batch's transaction.
struct TxView<'a> {
    tx: &'a Connection,
}

impl crate::authority::AuthorityView for TxView<'_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<crate::authority::RecordHome>> {
        let row: Option<(Option<String>, String)> = self
            .tx
            .prepare_cached("SELECT case_id, owner FROM record_homes WHERE record_id = ?1")?
            .query_row([record.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(case, owner)| {
            let case_id =
                case.map(|c| c.parse().map_err(|_| ClinicError::Store("unreadable record home".into()))).transpose()?;
            Ok(crate::authority::RecordHome { case_id, owner })
        })
        .transpose()
    }

    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT advocate FROM assignments WHERE case_id = ?1 AND hlc <= ?2 ORDER BY hlc DESC LIMIT 1",
            )?
            .query_row(params![case.to_string(), hlc], |r| r.get(0))
            .optional()?)
    }

    fn clock_owner(&mut self, node: Uuid) -> StoreResult<crate::authority::ClockOwner> {
        use crate::authority::ClockOwner;
        let device: Option<(String, bool)> = self
            .tx
            .prepare_cached("SELECT advocate, confirmed FROM devices WHERE id = ?1")?
            .query_row([node.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match device {
            Some((advocate, true)) => ClockOwner::Advocate(advocate),
            Some(_) => ClockOwner::Other,
            None if self
                .tx
                .prepare_cached("SELECT 1 FROM ops WHERE origin = ?1 LIMIT 1")?
                .exists([node.to_string()])? =>
            {
                ClockOwner::Other
            }
            None => ClockOwner::Unknown,
        })
    }

    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
        Ok(self.tx.prepare_cached("SELECT 1 FROM erasures WHERE case_id = ?1")?.exists([case.to_string()])?)
    }
}

/// Whether `op`, sent by a device of `advocate` in a slot of its own, is an
/// op the feed already holds from another device of the same advocate, with
/// the same meaning: a laptop restored from a backup and enrolled again
/// sends what the clinic may already have from its earlier identity.
fn recognised_elsewhere(tx: &Connection, op: &WireOp, advocate: &str) -> StoreResult<bool> {
    let held: Option<(String, Option<String>, Option<bool>)> = tx
        .prepare_cached(
            "SELECT ops.op, devices.advocate, devices.confirmed FROM ops LEFT JOIN devices ON devices.id = ops.origin WHERE ops.op_id = ?1",
        )?
        .query_row([op.op_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((text, device_advocate, confirmed)) = held else { return Ok(false) };
    let held: WireOp = serde_json::from_str(&text).map_err(|_| ClinicError::Store("unreadable op".into()))?;
    let held_advocate = match (device_advocate, confirmed) {
        (Some(advocate), Some(true)) => advocate,
        (Some(_), _) => return Ok(false),
        // No device row: the clinic's own op, as a released change is, which keeps its laptop's actor.
        (None, _) => held.actor.clone(),
    };
    Ok(held_advocate == advocate && held.origin != op.origin && held.meaning_hash() == op.meaning_hash())
}

/// Adds an accepted op to the feed with what it teaches the clinic: its
/// record's home and, for a case op naming an advocate, an assignment.
/// Empties the write-ahead log into the database, so no earlier version of an
/// erased page is left in it. Another reader (an administrator's command) can
/// hold it back: it is tried again, briefly, and a store that still cannot is
/// an error the caller sees, never a silent success.
fn checkpoint(conn: &Connection) -> StoreResult<()> {
    for attempt in 0..20u64 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50 * (attempt + 1)));
    }
    Err(ClinicError::Store(
        "the write-ahead log could not be emptied after an erasure; close other clinic commands and erase again".into(),
    ))
}

/// What a tombstone keeps instead of an op's content hash.
const ERASED_HASH: &str = "erased";

/// What the clinic keeps of a change to an erased case it was sent: which kind and case, nothing else.
fn erased_text(op: &WireOp) -> String {
    serde_json::json!({"erased": true, "kind": op.kind, "case_id": op.case_id}).to_string()
}

fn append_to_feed(
    tx: &Connection,
    op: &WireOp,
    origin: &Origin<'_>,
    text: &str,
    hash: &str,
    at: &str,
) -> StoreResult<()> {
    tx.prepare_cached("INSERT INTO ops (op_id, origin, seq, case_id, kind, content_hash, op, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
        .execute(params![op.op_id.to_string(), op.origin.to_string(), to_i64(op.seq), op.case_id.map(|c| c.to_string()), op.kind, hash, text, at])?;
    let position = tx.last_insert_rowid();
    let (home, assignment) = crate::authority::learned(op, origin);
    tx.prepare_cached("INSERT OR IGNORE INTO record_homes (record_id, case_id, owner) VALUES (?1, ?2, ?3)")?
        .execute(params![op.record_id.to_string(), home.case_id.map(|c| c.to_string()), home.owner])?;
    if let Some((case, advocate)) = assignment {
        tx.prepare_cached("INSERT OR IGNORE INTO assignments (case_id, hlc, advocate) VALUES (?1, ?2, ?3)")?
            .execute(params![case.to_string(), op.hlc, advocate])?;
        let previous: Option<String> = tx
            .prepare_cached("SELECT advocate FROM case_advocates WHERE case_id = ?1")?
            .query_row([case.to_string()], |r| r.get(0))
            .optional()?;
        if previous.as_deref() != Some(advocate.as_str()) {
            if previous.is_some() {
                tx.prepare_cached("INSERT OR IGNORE INTO replays (advocate, case_id, position) VALUES (?1, ?2, ?3)")?
                    .execute(params![advocate, case.to_string(), position])?;
            }
            // Most ops leave the advocate as it was; writing only on a change spares a row update per op.
            tx.prepare_cached(
                "INSERT INTO case_advocates (case_id, advocate) VALUES (?1, ?2)
                 ON CONFLICT (case_id) DO UPDATE SET advocate = excluded.advocate",
            )?
            .execute(params![case.to_string(), advocate])?;
        }
    }
    Ok(())
}

/// One line of the administrative audit, in the caller's transaction.
fn audit_admin(
    tx: &Connection,
    at: &str,
    actor: &str,
    action: AdminAction,
    target: &str,
    detail: serde_json::Value,
) -> StoreResult<()> {
    let at = parse_instant(at)?;
    audit_line(tx, &AuditLine { actor, action, target: Some(target), detail }, at)
}

/// Appends a chained line in the caller's transaction (which must hold the
/// write lock, so no other line slips in between reading the last hash and
/// writing this one).
fn audit_line(tx: &Connection, line: &AuditLine<'_>, at: DateTime<Utc>) -> StoreResult<()> {
    let previous: Option<String> = tx
        .prepare_cached("SELECT hash FROM admin_audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    let hash = audit_hash(previous.as_deref(), at, line.actor, line.action, line.target, &line.detail);
    tx.prepare_cached(
        "INSERT INTO admin_audit (at, actor, action, target, detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        line.actor,
        line.action.as_str(),
        line.target,
        line.detail.to_string(),
        hash
    ])?;
    Ok(())
}

fn parse_uuid(text: &str) -> StoreResult<Uuid> {
    text.parse().map_err(|_| ClinicError::Store("unreadable id".into()))
}

fn parse_instant(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ClinicError::Store("unreadable time".into()))
}

/// The op id held in an origin's slot: from the feed, else the refused list, else the quarantine.
fn slot_op_id(conn: &Connection, origin: &str, seq: i64) -> StoreResult<Option<Uuid>> {
    if seq == 0 {
        return Ok(None);
    }
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT op_id FROM (SELECT op_id, 0 AS rank FROM ops WHERE origin = ?1 AND seq = ?2
                                UNION ALL SELECT op_id, 1 FROM recognised WHERE origin = ?1 AND seq = ?2
                                UNION ALL SELECT op_id, 2 FROM refused WHERE origin = ?1 AND seq = ?2
                                UNION ALL SELECT op_id, 3 FROM quarantine WHERE origin = ?1 AND seq = ?2)
             ORDER BY rank LIMIT 1",
        )?
        .query_row(params![origin, seq], |r| r.get(0))
        .optional()?;
    id.map(|i| i.parse().map_err(|_| ClinicError::Store("unreadable op id".into()))).transpose()
}

impl ClinicStore for SqliteStore {
    fn add_staff(&self, member: &StaffMember) -> StoreResult<()> {
        let inserted = self.conn()?.execute(
            "INSERT OR IGNORE INTO staff (code, name, role, active, added_at, agency) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                member.code,
                member.name,
                member.role.as_str(),
                i64::from(member.active),
                member.added_at.to_rfc3339(),
                member.agency.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()),
            ],
        )?;
        if inserted == 0 {
            return Err(ClinicError::StaffKnown);
        }
        Ok(())
    }

    fn staff(&self, code: &str) -> StoreResult<Option<StaffMember>> {
        read_staff(&*self.conn()?, code)
    }

    fn staff_list(&self) -> StoreResult<Vec<StaffMember>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT code, name, role, active, added_at, agency FROM staff ORDER BY code")?;
        let rows = stmt.query_map([], staff_row)?;
        rows.map(|r| r.map_err(ClinicError::from).and_then(|m| m)).collect()
    }

    fn set_staff_active(&self, code: &str, active: bool) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute("UPDATE staff SET active = ?2 WHERE code = ?1", params![code, i64::from(active)])? > 0;
        if !active {
            // Reactivating someone must not bring back a browser left signed in.
            tx.execute("DELETE FROM sessions WHERE staff_code = ?1", [code])?;
        }
        tx.commit()?;
        Ok(changed)
    }

    fn credentials(&self, code: &str) -> StoreResult<Option<Credentials>> {
        let conn = self.conn()?;
        if read_staff(&conn, code)?.is_none() {
            return Ok(None);
        }
        let row = conn
            .query_row(
                "SELECT password, totp_secret, totp_last_step FROM credentials WHERE staff_code = ?1",
                [code],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<Vec<u8>>>(1)?, r.get::<_, Option<i64>>(2)?)),
            )
            .optional()?;
        Ok(Some(match row {
            None => Credentials::default(),
            Some((password, totp_secret, step)) => Credentials {
                password,
                totp_secret: totp_secret.map(zeroize::Zeroizing::new),
                totp_last_step: step.and_then(|s| u64::try_from(s).ok()),
            },
        }))
    }

    fn set_password(&self, code: &str, password: &str, by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_credential(
            code,
            "password",
            rusqlite::types::Value::Text(password.to_owned()),
            by,
            AdminAction::PasswordSet,
            now,
        )
    }

    fn set_totp_secret(&self, code: &str, secret: &[u8], by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.set_credential(
            code,
            "totp_secret",
            rusqlite::types::Value::Blob(secret.to_vec()),
            by,
            AdminAction::SecondFactorReset,
            now,
        )
    }

    fn start_sign_in(
        &self,
        keys: &[&str],
        wait: SignInWait<'_>,
        forget_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<chrono::Duration>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut longest: Option<chrono::Duration> = None;
        for key in keys {
            let row: Option<(i64, String)> = tx
                .query_row("SELECT failures, last_failure_at FROM sign_in_failures WHERE key = ?1", [key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((failures, last)) = row {
                let last = parse_time(&last)?;
                if last >= forget_before {
                    let left = wait(key, u32::try_from(failures).unwrap_or(u32::MAX), last);
                    longest = longest.max(left);
                }
            }
        }
        if longest.is_some() {
            return Ok(longest);
        }
        let (at, forget) = (now.to_rfc3339(), forget_before.to_rfc3339());
        for key in keys {
            tx.execute(
                "INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES (?1, 1, ?2)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN last_failure_at < ?3 THEN 1 ELSE failures + 1 END,
                   last_failure_at = excluded.last_failure_at",
                params![key, at, forget],
            )?;
        }
        tx.commit()?;
        Ok(None)
    }

    fn sign_in_succeeded(&self, good: &GoodSignIn<'_>, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !read_staff(&tx, good.staff_code)?.is_some_and(|m| m.active) {
            return Ok(false);
        }
        let step = i64::try_from(good.totp_step).map_err(|_| ClinicError::BadRequest("a code's time step"))?;
        // Only a step after the last one used, and only with what was checked:
        // two requests racing with one code, or a reset in between, sign in nobody.
        let recorded = tx.execute(
            "UPDATE credentials SET totp_last_step = ?2
             WHERE staff_code = ?1 AND password = ?3 AND totp_secret = ?4
               AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![good.staff_code, step, good.password, good.totp_secret],
        )?;
        if recorded == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM sign_in_failures WHERE key = ?1", [good.account_key])?;
        tx.execute("UPDATE sign_in_failures SET failures = max(failures - 1, 0) WHERE key = ?1", [good.address_key])?;
        let at = now.to_rfc3339();
        tx.execute(
            "INSERT INTO sessions (id, staff_code, csrf, started_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![good.session_id, good.staff_code, good.csrf, at],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn session(&self, id: &str, now: DateTime<Utc>, policy: SessionPolicy) -> StoreResult<Option<StoredSession>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, String, String)> = tx
            .query_row("SELECT staff_code, csrf, started_at, last_seen_at FROM sessions WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((staff_code, csrf, started, seen)) = row else { return Ok(None) };
        let session =
            crate::signin::Session { staff_code, started_at: parse_time(&started)?, last_seen_at: parse_time(&seen)? };
        let active = read_staff(&tx, &session.staff_code)?.is_some_and(|m| m.active);
        if !(active && session.is_live(now, policy)) {
            tx.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
            tx.commit()?;
            return Ok(None);
        }
        tx.execute("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", params![id, now.to_rfc3339()])?;
        tx.commit()?;
        Ok(Some(StoredSession { session: crate::signin::Session { last_seen_at: now, ..session }, csrf }))
    }

    fn end_session(&self, id: &str) -> StoreResult<()> {
        self.conn()?.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
        Ok(())
    }

    fn add_enrolment(&self, token_hash: &str, advocate: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let conn = self.conn()?;
        enrollable(read_staff(&conn, advocate)?)?;
        conn.execute(
            "INSERT INTO enrolments (token_hash, expires_at, advocate) VALUES (?1, ?2, ?3)",
            params![token_hash, expires_at.to_rfc3339(), advocate],
        )?;
        Ok(())
    }

    fn enrolment_open(&self, token_hash: &str, device: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let token: Option<(String, Option<String>, Option<String>)> = self
            .conn()?
            .query_row(
                "SELECT expires_at, used_by, advocate FROM enrolments WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(token.is_some_and(|(expires, used_by, advocate)| {
            advocate.is_some()
                && time(Some(expires)).is_some_and(|e| e > now)
                && used_by.is_none_or(|u| u == device.to_string())
        }))
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: &DeviceRecord,
        claimed: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let token: Option<(String, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT expires_at, used_by, advocate FROM enrolments WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (expires, used_by, advocate) = token.ok_or(ClinicError::EnrolmentRefused)?;
        // A code issued before codes were bound to an advocate is refused: nobody can say whose it was.
        let advocate = advocate.ok_or(ClinicError::EnrolmentRefused)?;
        if time(Some(expires)).is_none_or(|e| e <= now) {
            return Err(ClinicError::EnrolmentRefused);
        }
        if claimed.is_some_and(|c| c != advocate) {
            return Err(ClinicError::AdvocateMismatch);
        }
        enrollable(read_staff(&tx, &advocate)?)?;
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
                    "INSERT INTO devices (id, advocate, keys, status, enrolled_at, acked_through, confirmed) VALUES (?1, ?2, ?3, 'active', ?4, 0, 1)",
                    params![id, advocate, serde_json::to_string(&device.keys).unwrap_or_default(), device.enrolled_at.to_rfc3339()],
                )?;
                DeviceRecord { advocate, confirmed: true, ..device.clone() }
            }
        };
        tx.commit()?;
        Ok(result)
    }

    fn confirm_device(&self, id: Uuid, advocate: &str) -> StoreResult<bool> {
        let conn = self.conn()?;
        enrollable(read_staff(&conn, advocate)?)?;
        Ok(conn.execute(
            "UPDATE devices SET advocate = ?2, confirmed = 1 WHERE id = ?1",
            params![id.to_string(), advocate],
        )? > 0)
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        read_device(&*self.conn()?, &id.to_string())
    }

    fn devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, advocate, keys, status, enrolled_at, revoked_at, last_seen_at, acked_through, confirmed FROM devices ORDER BY enrolled_at, id",
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
        tx.execute(
            "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
            params![device.to_string(), now.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = before.to_rfc3339();
        let requests = tx.execute("DELETE FROM requests WHERE at < ?1", [&at])?;
        let batches = tx.execute("DELETE FROM batches WHERE at < ?1", [&at])?;
        tx.commit()?;
        Ok(u64::try_from(requests + batches).unwrap_or(u64::MAX))
    }

    fn prune_sign_in(
        &self,
        now: DateTime<Utc>,
        policy: SessionPolicy,
        forget_failures_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sessions = tx.execute(
            "DELETE FROM sessions WHERE last_seen_at <= ?1 OR started_at <= ?2",
            params![(now - policy.idle).to_rfc3339(), (now - policy.absolute).to_rfc3339()],
        )?;
        let failures = tx.execute(
            "DELETE FROM sign_in_failures WHERE last_failure_at < ?1",
            [forget_failures_before.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(u64::try_from(sessions + failures).unwrap_or(u64::MAX))
    }

    fn store_ready(
        &self,
        origin: Origin<'_>,
        batch_id: Uuid,
        readied: &crate::authority::Readied<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored> {
        let readied = readied.for_origin(&origin)?;
        let ops: Vec<&WireOp> = readied.iter().map(|r| r.op).collect();
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        let id = origin.id().to_string();
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO batches (batch_id, device, at) VALUES (?1, ?2, ?3)",
            params![batch_id.to_string(), id, at],
        )?;
        if fresh == 0 {
            return Err(ClinicError::Replayed);
        }
        // The clinic's own ops are numbered before they are stored: one whose
        // number or id is taken meanwhile is refused whole, never quarantined.
        if matches!(origin, Origin::Clinic(_)) {
            for op in &ops {
                if clinic_slot_taken(&tx, op)? {
                    return Err(ClinicError::ClinicBusy);
                }
            }
        }
        // The clinic's own ops have no device row and no acknowledgement.
        let device_row: Option<(i64, Option<String>)> = tx
            .query_row("SELECT acked_through, head_hlc FROM devices WHERE id = ?1", [&id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (acked, mut head_hlc) = device_row.unwrap_or((0, None));
        if matches!(origin, Origin::Device { .. }) && ops.first().is_some_and(|o| to_i64(o.seq) > acked + 1) {
            return Err(ClinicError::OutOfOrder);
        }
        let mut stored = Stored::default();
        let mut memo = crate::authority::BatchMemo::default();
        for ready in readied {
            let op = ready.op;
            let text = std::str::from_utf8(&ready.text).map_err(|_| ClinicError::BadRequest("op"))?;
            let hash = WireOp::hash_of(&ready.text);
            let hash = hash.as_str();
            let (op_id, op_origin, seq) = (op.op_id.to_string(), op.origin.to_string(), to_i64(op.seq));
            let slot_taken = seq <= acked
                || tx
                    .prepare_cached(
                        "SELECT 1 FROM ops WHERE origin = ?1 AND seq = ?2 UNION ALL SELECT 1 FROM refused WHERE origin = ?1 AND seq = ?2
                         UNION ALL SELECT 1 FROM recognised WHERE origin = ?1 AND seq = ?2",
                    )?
                    .exists(params![op_origin, seq])?;
            let id_taken = tx.prepare_cached("SELECT 1 FROM ops WHERE op_id = ?1")?.exists([&op_id])?;
            // A change to an erased case in a new slot (a laptop that has not heard, or one
            // restored from before the erasure) holds its slot and keeps nothing, not even a hash.
            let erased = crate::authority::of_erased_case(op, &mut memo.over(&mut TxView { tx: &tx }))?;
            if erased && !slot_taken && matches!(origin, Origin::Device { .. }) {
                tx.prepare_cached(
                    "INSERT INTO refused (origin, seq, op_id, content_hash, code, op, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![op_origin, seq, op_id, ERASED_HASH, OpRefusal::CaseErased.as_str(), erased_text(op), at])?;
                stored.refused.push(RefusedOp { seq: op.seq, code: OpRefusal::CaseErased });
                continue;
            }
            if let (false, true, Origin::Device { advocate, .. }) = (slot_taken, id_taken, origin) {
                if recognised_elsewhere(&tx, op, advocate)? {
                    tx.prepare_cached(
                        "INSERT INTO recognised (origin, seq, op_id, content_hash, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![op_origin, seq, op_id, hash, at])?;
                    stored.recognised += 1;
                    head_hlc = Some(op.hlc.clone());
                    continue;
                }
            }
            // A change an administrator discarded stays out when it comes back
            // in a new slot (its laptop rejoined): it goes back to the quarantine.
            let discarded = !slot_taken
                && !id_taken
                && tx
                    .prepare_cached("SELECT op FROM quarantine WHERE op_id = ?1 AND decision = 'discarded'")?
                    .query_map([&op_id], |r| r.get::<_, String>(0))?
                    .filter_map(Result::ok)
                    .filter_map(|t| serde_json::from_str::<WireOp>(&t).ok())
                    .any(|kept| kept.meaning_hash() == op.meaning_hash());
            let text = if erased { Cow::Owned(erased_text(op)) } else { Cow::Borrowed(text) };
            if discarded {
                tx.prepare_cached("INSERT INTO quarantine (origin, seq, op_id, op, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                    .execute(params![op_origin, seq, op_id, text, at])?;
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
                        crate::authority::judge_ready(ready, &sender, &mut memo.over(&mut TxView { tx: &tx }))?
                    }
                };
                if crate::authority::clock_counts(refusal.as_ref()) {
                    head_hlc = Some(op.hlc.clone());
                }
                if let Some(code) = refusal {
                    // An erased case's change holds its slot; its content is not kept.
                    let (kept, kept_hash) = match code {
                        OpRefusal::CaseErased => (Cow::Owned(erased_text(op)), ERASED_HASH),
                        _ => (text.clone(), hash),
                    };
                    tx.prepare_cached(
                        "INSERT INTO refused (origin, seq, op_id, content_hash, code, op, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![op_origin, seq, op_id, kept_hash, code.as_str(), kept, at])?;
                    tracing::warn!(device = %origin.id(), seq = op.seq, code = code.as_str(), "an op broke a rule; refused and kept");
                    stored.refused.push(RefusedOp { seq: op.seq, code });
                    continue;
                }
                append_to_feed(&tx, op, &origin, &text, hash, &at)?;
                stored.inserted += 1;
                continue;
            }
            // Sent before: the same op again is answered as before; anything else is quarantined.
            let recognised: Option<(String, String)> = tx
                .prepare_cached("SELECT op_id, content_hash FROM recognised WHERE origin = ?1 AND seq = ?2")?
                .query_row(params![op_origin, seq], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if recognised.as_ref().is_some_and(|(i, h)| *i == op_id && *h == hash) {
                stored.duplicates += 1;
                continue;
            }
            let held: Vec<(String, String, String, i64, Option<String>)> = tx
                .prepare_cached(
                    "SELECT op_id, content_hash, origin, seq, NULL FROM ops WHERE op_id = ?1 OR (origin = ?2 AND seq = ?3)
                     UNION ALL SELECT op_id, content_hash, origin, seq, code FROM refused WHERE origin = ?2 AND seq = ?3",
                )?
                .query_map(params![op_id, op_origin, seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<Result<_, _>>()?;
            let same = |(i, h, o, s, _): &(String, String, String, i64, Option<String>)| {
                *i == op_id && *h == hash && *o == op_origin && *s == seq
            };
            // A laptop resends a change of an erased case as its tombstone: the slot is the one the clinic holds.
            let resent_erased = |(i, _, o, s, _): &(String, String, String, i64, Option<String>)| {
                erased && *i == op_id && *o == op_origin && *s == seq
            };
            match held.as_slice() {
                [one] if same(one) || resent_erased(one) => {
                    stored.duplicates += 1;
                    if let Some(code) = &one.4 {
                        stored.refused.push(RefusedOp { seq: op.seq, code: refusal_of(code) });
                    }
                }
                _ => {
                    // Nothing of an erased case's change is left to decide: it is discarded as it arrives.
                    let (decision, by, decided_at) = match erased {
                        true => (Some("discarded"), Some("erasure"), Some(at.as_str())),
                        false => (None, None, None),
                    };
                    tx.prepare_cached(
                        "INSERT INTO quarantine (origin, seq, op_id, op, at, decision, decided_by, decided_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![op_origin, seq, op_id, text, at, decision, by, decided_at])?;
                    tracing::warn!(device = %origin.id(), seq = op.seq, "an op id or sequence arrived again with different content; quarantined");
                    stored.quarantined.push(op.seq);
                }
            }
        }
        // Walk the held slots past the acknowledgement until the first gap.
        let mut next = acked + 1;
        {
            let mut slots = tx.prepare_cached(
                "SELECT seq FROM ops WHERE origin = ?1 AND seq >= ?2 UNION SELECT seq FROM quarantine WHERE origin = ?1 AND seq >= ?2
                 UNION SELECT seq FROM refused WHERE origin = ?1 AND seq >= ?2
                 UNION SELECT seq FROM recognised WHERE origin = ?1 AND seq >= ?2 ORDER BY seq",
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
        tx.execute(
            "UPDATE devices SET acked_through = ?2, last_seen_at = ?3, head_hlc = ?4 WHERE id = ?1",
            params![id, acked, at, head_hlc],
        )?;
        stored.acked_op = slot_op_id(&tx, &id, acked)?;
        tx.commit()?;
        self.checkpoints.nudge();
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
             WHERE ops.position > ?1 AND ops.position <= ?2 AND ops.origin <> ?3 AND ops.erased = 0
               AND (ca.advocate = ?4 OR json_extract(ops.op, '$.changes.old.advocate') = ?4
                    OR json_extract(ops.op, '$.action') = 'erase')
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
            let mut stmt = tx.prepare_cached(
                "SELECT op FROM ops WHERE case_id = ?1 AND position <= ?2 AND origin <> ?3 AND erased = 0 ORDER BY position",
            )?;
            for text in stmt.query_map(params![case, to_i64(after), device.to_string()], |r| r.get::<_, String>(0))? {
                texts.push(text?);
            }
        }
        texts.extend(page.into_iter().map(|(_, text)| text));
        let mut ops = Vec::with_capacity(texts.len());
        for text in texts {
            match serde_json::from_str(&text) {
                Ok(op) => ops.push(op),
                // Stored before `changes` was typed, in a shape no laptop can
                // apply: left out of the page rather than stopping every pull.
                Err(_) => tracing::warn!("a stored op no longer reads as an op; left out of the feed"),
            }
        }
        Ok(FeedPage { ops, through: u64::try_from(through).unwrap_or(0) })
    }

    fn feed_all(&self, after: u64, limit: u32) -> StoreResult<FeedPage> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let head: i64 = tx.query_row("SELECT coalesce(max(position), 0) FROM ops", [], |r| r.get(0))?;
        let mut stmt = tx.prepare_cached(
            "SELECT position, op FROM ops WHERE position > ?1 AND position <= ?2 AND erased = 0 ORDER BY position LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![to_i64(after), head, limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        let through =
            if rows.len() as u32 >= limit { rows.last().map_or(head, |(p, _)| *p) } else { head.max(to_i64(after)) };
        let mut ops = Vec::with_capacity(rows.len());
        for (_, text) in rows {
            match serde_json::from_str(&text) {
                Ok(op) => ops.push(op),
                Err(_) => tracing::warn!("a stored op no longer reads as an op; left out of the clinic's copy"),
            }
        }
        Ok(FeedPage { ops, through: u64::try_from(through).unwrap_or(0) })
    }

    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT advocate FROM case_advocates WHERE case_id = ?1", [case.to_string()], |r| r.get(0))
            .optional()?)
    }

    fn case_latest_hlc(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.conn()?.query_row(
            "SELECT max(json_extract(op, '$.hlc')) FROM ops WHERE case_id = ?1",
            [case.to_string()],
            |r| r.get(0),
        )?)
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
        slot_op_id(&*self.conn()?, &origin.to_string(), to_i64(seq))
    }

    fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, origin, seq, op_id, json_extract(op, '$.kind'), json_extract(op, '$.case_id'), at,
                    EXISTS (SELECT 1 FROM ops WHERE ops.op_id = quarantine.op_id AND ops.op <> quarantine.op), decision, decided_by, decided_at
             FROM quarantine ORDER BY id",
        )?;
        type Row = (
            i64,
            String,
            i64,
            String,
            String,
            Option<String>,
            String,
            bool,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            })?
            .collect::<Result<Vec<Row>, _>>()?;
        rows.into_iter()
            .map(|(id, origin, seq, op_id, kind, case_id, at, id_taken, decision, decided_by, decided_at)| {
                Ok(Quarantined {
                    id,
                    origin: parse_uuid(&origin)?,
                    seq: u64::try_from(seq).unwrap_or(0),
                    op_id: parse_uuid(&op_id)?,
                    kind,
                    case_id: case_id.as_deref().map(parse_uuid).transpose()?,
                    at: parse_instant(&at)?,
                    id_taken,
                    decision: decision.as_deref().and_then(decision_of),
                    decided_by,
                    decided_at: decided_at.as_deref().map(parse_instant).transpose()?,
                })
            })
            .collect()
    }

    fn quarantined_op(&self, id: i64) -> StoreResult<Option<WireOp>> {
        let text: Option<String> =
            self.conn()?.query_row("SELECT op FROM quarantine WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|_| ClinicError::Store("unreadable op".into()))).transpose()
    }

    fn rejudge_held(&self, understood: u32, service: &ServiceRules, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        let held: Vec<(String, i64, String)> = tx
            .prepare("SELECT origin, seq, op, code FROM refused ORDER BY at, origin, seq")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?)))?
            .filter(|row| row.as_ref().map_or(true, |(_, _, _, code)| refusal_of(code).may_pass_later()))
            .map(|row| row.map(|(origin, seq, op, _)| (origin, seq, op)))
            .collect::<Result<_, _>>()?;
        let mut released = 0;
        for (origin, seq, text) in held {
            let op: WireOp =
                serde_json::from_str(&text).map_err(|_| ClinicError::Store("unreadable held op".into()))?;
            if op.schema_version > understood {
                continue;
            }
            // Only from a device that may still sync, for an advocate still active, and never a second copy.
            let advocate: Option<String> = tx
                .query_row(
                    "SELECT d.advocate FROM devices d JOIN staff s ON s.code = d.advocate
                     WHERE d.id = ?1 AND d.confirmed = 1 AND d.status = 'active' AND s.active = 1",
                    [&origin],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(advocate) = advocate else { continue };
            if tx.prepare_cached("SELECT 1 FROM ops WHERE op_id = ?1")?.exists([op.op_id.to_string()])? {
                continue;
            }
            let verdict =
                crate::authority::judge_held(&op, &advocate, understood, service, now, &mut TxView { tx: &tx })?;
            match verdict {
                Some(refusal) => {
                    tx.execute(
                        "UPDATE refused SET code = ?3 WHERE origin = ?1 AND seq = ?2",
                        params![origin, seq, refusal.as_str()],
                    )?;
                }
                None => {
                    let hash = WireOp::hash_of(text.as_bytes());
                    tx.execute("DELETE FROM refused WHERE origin = ?1 AND seq = ?2", params![origin, seq])?;
                    let device = Origin::Device {
                        id: op.origin,
                        advocate: &advocate,
                        max_ahead_ms: crate::authority::MAX_HLC_AHEAD_MS,
                        service,
                    };
                    append_to_feed(&tx, &op, &device, &text, &hash, &at)?;
                    released += 1;
                }
            }
        }
        tx.commit()?;
        Ok(released)
    }

    fn decide_quarantined(&self, id: i64, decision: Decision<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        let held: Option<String> = tx
            .query_row("SELECT op FROM quarantine WHERE id = ?1 AND decision IS NULL", [id], |r| r.get(0))
            .optional()?;
        let held: WireOp = serde_json::from_str(&held.ok_or(ClinicError::NotQuarantined)?)
            .map_err(|_| ClinicError::Store("unreadable op".into()))?;
        check_decision(&held, &decision)?;
        let verdict = match decision.release {
            None => QuarantineDecision::Discarded,
            Some(release) => {
                if tx.prepare_cached("SELECT 1 FROM ops WHERE op_id = ?1")?.exists([release.op_id.to_string()])? {
                    return Err(ClinicError::BadRequest(
                        "the feed already holds a change with this op id; discard this one",
                    ));
                }
                let device: Option<String> = tx
                    .query_row(
                        "SELECT advocate FROM devices WHERE id = ?1 AND confirmed = 1",
                        [held.origin.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?;
                crate::authority::judge_release(
                    &held,
                    device.as_deref(),
                    now,
                    decision.service,
                    &mut TxView { tx: &tx },
                )?;
                let text = release.canonical_bytes();
                let hash = WireOp::hash_of(&text);
                let text = String::from_utf8(text).map_err(|_| ClinicError::BadRequest("op"))?;
                append_to_feed(&tx, release, &Origin::Clinic(release.origin), &text, &hash, &at)?;
                QuarantineDecision::Released
            }
        };
        tx.execute(
            "UPDATE quarantine SET decision = ?2, decided_by = ?3, decided_at = ?4, reason = ?5, released_as = ?6 WHERE id = ?1",
            params![id, verdict.as_str(), decision.by, at, decision.reason.trim(), decision.release.map(|r| r.op_id.to_string())],
        )?;
        // The reason stays with the op; the audit names the op and the decision, never the words.
        audit_admin(
            &tx,
            &at,
            decision.by,
            AdminAction::of(verdict),
            &held.op_id.to_string(),
            serde_json::json!({ "quarantine": id, "origin": held.origin.to_string(), "seq": held.seq }),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn case_ops(&self, case: Uuid, kind: Option<&str>) -> StoreResult<Vec<WireOp>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT op FROM ops WHERE case_id = ?1 AND erased = 0 AND (?2 IS NULL OR kind = ?2) ORDER BY position",
        )?;
        let texts = stmt
            .query_map(params![case.to_string(), kind], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        texts.iter().map(|t| serde_json::from_str(t).map_err(|_| ClinicError::Store("unreadable op".into()))).collect()
    }

    fn add_text_warning(&self, warning: &TextWarning) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO text_warnings (op_id, case_id, kind, record_id, fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (op_id) DO NOTHING",
            params![
                warning.op_id.to_string(),
                warning.case_id.to_string(),
                warning.kind,
                warning.record_id.to_string(),
                serde_json::to_string(&warning.fields).unwrap_or_else(|_| "[]".into()),
                warning.at.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    fn text_warnings(&self) -> StoreResult<Vec<TextWarning>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT op_id, case_id, kind, record_id, fields, at FROM text_warnings ORDER BY at, op_id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let bad = || ClinicError::Store("unreadable warning".into());
        rows.into_iter()
            .map(|(op, case, kind, record, fields, at)| {
                Ok(TextWarning {
                    op_id: op.parse().map_err(|_| bad())?,
                    case_id: case.parse().map_err(|_| bad())?,
                    kind,
                    record_id: record.parse().map_err(|_| bad())?,
                    fields: serde_json::from_str(&fields).map_err(|_| bad())?,
                    at: parse_instant(&at)?,
                })
            })
            .collect()
    }

    fn audit(&self, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        audit_line(&tx, line, now)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_bounds(&self) -> StoreResult<AuditBounds> {
        let conn = self.conn()?;
        let chain_starts_after: i64 = conn.query_row("SELECT seq FROM audit_chain_start", [], |r| r.get(0))?;
        let highest_issued: i64 = conn
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'admin_audit'", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        Ok(AuditBounds { chain_starts_after, highest_issued })
    }

    fn admin_audit(&self) -> StoreResult<Vec<AdminEvent>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare("SELECT seq, at, actor, action, target, detail, hash FROM admin_audit ORDER BY seq")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                    r.get(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(seq, at, actor, action, target, detail, hash)| {
                Ok(AdminEvent {
                    seq,
                    at: parse_instant(&at)?,
                    actor,
                    action: AdminAction::from_wire(&action),
                    target,
                    detail: serde_json::from_str(&detail).map_err(|_| ClinicError::Store("unreadable audit".into()))?,
                    hash,
                })
            })
            .collect()
    }

    fn feed_head(&self) -> StoreResult<u64> {
        let head: i64 = self.conn()?.query_row("SELECT coalesce(max(position), 0) FROM ops", [], |r| r.get(0))?;
        Ok(u64::try_from(head).unwrap_or(0))
    }

    fn stats(&self) -> StoreResult<Stats> {
        let conn = self.conn()?;
        let count = |sql: &str| -> StoreResult<u64> {
            Ok(u64::try_from(conn.query_row(sql, [], |r| r.get::<_, i64>(0))?).unwrap_or(0))
        };
        Ok(Stats {
            devices_active: count("SELECT count(*) FROM devices WHERE status = 'active'")?,
            devices_revoked: count("SELECT count(*) FROM devices WHERE status = 'revoked'")?,
            devices_unconfirmed: count("SELECT count(*) FROM devices WHERE confirmed = 0")?,
            ops: count("SELECT count(*) FROM ops")?,
            quarantined: count("SELECT count(*) FROM quarantine")?,
            refused: count("SELECT count(*) FROM refused")?,
            recognised: count("SELECT count(*) FROM recognised")?,
            feed_head: count("SELECT coalesce(max(position), 0) FROM ops")?,
        })
    }

    fn add_referral(&self, id: Uuid, by: &str, form: &ReferralRecords, now: DateTime<Utc>) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let form =
            serde_json::to_string(form).map_err(|_| ClinicError::Store("a referral could not be kept".into()))?;
        tx.execute(
            "INSERT INTO referrals (id, submitted_by, submitted_at, status, form) VALUES (?1, ?2, ?3, 'submitted', ?4)",
            params![id.to_string(), by, now.to_rfc3339(), form],
        )?;
        let number = tx.last_insert_rowid();
        let target = id.to_string();
        let line = AuditLine {
            actor: by,
            action: AdminAction::ReferralSubmitted,
            target: Some(&target),
            detail: serde_json::json!({ "number": number }),
        };
        audit_line(&tx, &line, now)?;
        tx.commit()?;
        Ok(number)
    }

    fn referrals(&self, submitted_by: Option<&str>) -> StoreResult<Vec<StoredReferral>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {REFERRAL_COLUMNS} FROM referrals WHERE ?1 IS NULL OR submitted_by = ?1 ORDER BY number DESC"
        ))?;
        let rows = stmt.query_map([submitted_by], referral_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(stored_referral).collect()
    }

    fn referral(&self, id: Uuid) -> StoreResult<Option<StoredReferral>> {
        let conn = self.conn()?;
        let row = conn
            .prepare_cached(&format!("SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = ?1"))?
            .query_row([id.to_string()], referral_row)
            .optional()?;
        row.map(stored_referral).transpose()
    }

    fn decide_referral(&self, id: Uuid, by: &str, outcome: ReferralOutcome<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        let number: Option<i64> = tx
            .query_row("SELECT number FROM referrals WHERE id = ?1 AND status = 'submitted'", [id.to_string()], |r| {
                r.get(0)
            })
            .optional()?;
        let number = number.ok_or(ClinicError::ReferralDecided)?;
        let (status, reason, advocate) = match outcome {
            ReferralOutcome::Accepted { advocate, ops } => {
                append_clinic_ops(&tx, ops, &at)?;
                (IntakeStatus::Accepted, None, Some(advocate))
            }
            ReferralOutcome::Declined(reason) => (IntakeStatus::Declined, Some(reason.wire()), None),
        };
        tx.execute(
            "UPDATE referrals SET status = ?2, decided_by = ?3, decided_at = ?4, decline_reason = ?5, advocate = ?6 WHERE id = ?1",
            params![id.to_string(), status.as_str(), by, at, reason, advocate],
        )?;
        let target = id.to_string();
        audit_line(&tx, &referral_verdict_line(by, &target, number, &outcome), now)?;
        tx.commit()?;
        Ok(())
    }

    fn save_meeting(
        &self,
        meeting: &PanelMeeting,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let target = meeting.id.to_string();
        let closed: Option<Option<String>> =
            tx.query_row("SELECT closed_at FROM panel_meetings WHERE id = ?1", [&target], |r| r.get(0)).optional()?;
        if closed.flatten().is_some() {
            return Err(ClinicError::MeetingClosed);
        }
        Self::write_meeting(&tx, meeting)?;
        audit_line(&tx, &meeting_line(by, &target, action, meeting), now)?;
        tx.commit()?;
        Ok(())
    }

    fn meetings(&self) -> StoreResult<Vec<PanelMeeting>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT doc FROM panel_meetings ORDER BY meets_on DESC, id")?;
        let docs = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(|_| ClinicError::Store("an unreadable meeting".into())))
            .collect()
    }

    fn save_panel(
        &self,
        docs: &[PanelDoc],
        ops: &[WireOp],
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = now.to_rfc3339();
        append_clinic_ops(&tx, ops, &at)?;
        for doc in docs {
            tx.execute(
                "INSERT INTO panel_docs (kind, id, case_id, meeting_id, doc, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, id) DO UPDATE SET case_id = excluded.case_id, meeting_id = excluded.meeting_id,
                    doc = excluded.doc, updated_at = excluded.updated_at",
                params![
                    doc.kind.as_str(),
                    doc.id,
                    doc.case_id.map(|c| c.to_string()),
                    doc.meeting_id.map(|m| m.to_string()),
                    doc.doc.to_string(),
                    at
                ],
            )?;
        }
        audit_line(&tx, line, now)?;
        tx.commit()?;
        Ok(())
    }

    fn erase_case(&self, erasure: &Erasure, op: &WireOp, now: DateTime<Utc>) -> StoreResult<ErasedAtClinic> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case = erasure.case_id.to_string();
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO erasures (case_id, erased_at, erased_by, reason, op_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![case, now.to_rfc3339(), erasure.erased_by, erasure.reason.wire(), erasure.op_id.to_string()],
        )?;
        if fresh == 0 {
            drop(tx);
            // Erasing again finishes what an earlier erasure's failed checkpoint left.
            self.checkpoints.empty_log(&conn)?;
            return Err(ClinicError::CaseErased);
        }
        append_clinic_ops(&tx, std::slice::from_ref(op), &now.to_rfc3339())?;
        // The hash goes too: with every other field of the op kept, it would let someone
        // with the key test guesses of a small value (a yes or no, a date) offline.
        tx.execute(
            "UPDATE recognised SET content_hash = ?2 WHERE op_id IN (SELECT op_id FROM ops WHERE case_id = ?1)",
            params![case, ERASED_HASH],
        )?;
        let feed_ops = tx.execute(
            "UPDATE ops SET op = ?2, erased = 1, content_hash = ?4 WHERE case_id = ?1 AND erased = 0 AND op_id <> ?3",
            params![case, FEED_TOMBSTONE, op.op_id.to_string(), ERASED_HASH],
        )?;
        // What was refused or quarantined keeps its slot and hash; its text keeps only which kind and case it was.
        // Found by the case they name, or by the case their record belongs to (a change
        // refused for naming another case, or quarantined before it was judged).
        let kept = "json_object('erased', json('true'), 'kind', json_extract(op, '$.kind'), 'case_id', ?1)";
        let of_case = "(json_extract(op, '$.case_id') = ?1 OR json_extract(op, '$.record_id') IN
                        (SELECT record_id FROM record_homes WHERE case_id = ?1))";
        let refused = tx.execute(
            &format!("UPDATE refused SET op = {kept}, code = 'case_erased', content_hash = ?2 WHERE {of_case}"),
            params![case, ERASED_HASH],
        )?;
        let quarantined = tx.execute(
            &format!(
                "UPDATE quarantine SET op = {kept}, reason = NULL,
                   decision = coalesce(decision, 'discarded'), decided_by = coalesce(decided_by, ?2), decided_at = coalesce(decided_at, ?3)
                 WHERE {of_case}"
            ),
            params![case, erasure.erased_by, now.to_rfc3339()],
        )?;
        let referrals = tx.execute("DELETE FROM referrals WHERE json_extract(form, '$.case.id') = ?1", [&case])?;
        let panel_docs = tx.execute("DELETE FROM panel_docs WHERE case_id = ?1", [&case])?;
        let warnings = tx.execute("DELETE FROM text_warnings WHERE case_id = ?1", [&case])?;
        // A request stays (ids and dates): it is still owed an answer, that nothing is held now.
        tx.execute(
            "DELETE FROM access_decisions WHERE request_id IN (SELECT id FROM access_requests WHERE case_id = ?1)",
            [&case],
        )?;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let erased = ErasedAtClinic {
            feed_ops: count(feed_ops),
            refused: count(refused),
            quarantined: count(quarantined),
            referrals: count(referrals),
            panel_docs: count(panel_docs),
            warnings: count(warnings),
        };
        audit_line(&tx, &erasure_line(erasure, &case, &erased), now)?;
        tx.commit()?;
        // With secure_delete the freed space is zeroed; the log's older page versions go here.
        self.checkpoints.empty_log(&conn)?;
        Ok(erased)
    }

    fn erasures(&self) -> StoreResult<Vec<Erasure>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT case_id, erased_at, erased_by, reason, op_id FROM erasures ORDER BY erased_at")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let unreadable = || ClinicError::Store("an unreadable erasure".into());
        rows.into_iter()
            .map(|(case, at, by, reason, op)| {
                Ok(Erasure {
                    case_id: case.parse().map_err(|_| unreadable())?,
                    erased_at: DateTime::parse_from_rfc3339(&at).map_err(|_| unreadable())?.with_timezone(&Utc),
                    erased_by: by,
                    reason: waymark_domain::ErasureReason::from_wire(&reason).ok_or_else(unreadable)?,
                    op_id: op.parse().map_err(|_| unreadable())?,
                })
            })
            .collect()
    }

    fn case_erased(&self, case: Uuid) -> StoreResult<bool> {
        Ok(self.conn()?.prepare_cached("SELECT 1 FROM erasures WHERE case_id = ?1")?.exists([case.to_string()])?)
    }

    fn add_access_request(&self, request: &AccessRequest, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Checked in the transaction: an erasure committed since the caller looked wins.
        let added = tx.execute(
            "INSERT INTO access_requests (id, case_id, subject, perpetrator_id, received_on, due_on, made_at, made_by)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE NOT EXISTS (SELECT 1 FROM erasures WHERE case_id = ?2)",
            params![
                request.id.to_string(),
                request.case_id.to_string(),
                request.subject.wire(),
                request.perpetrator_id.map(|p| p.to_string()),
                request.received_on.to_string(),
                request.due_on.to_string(),
                request.made_at.to_rfc3339(),
                request.made_by
            ],
        )?;
        if added == 0 {
            return Err(ClinicError::CaseErased);
        }
        audit_line(&tx, line, now)?;
        tx.commit()?;
        Ok(())
    }

    fn access_requests(&self, case: Option<Uuid>) -> StoreResult<Vec<AccessRequest>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, case_id, subject, perpetrator_id, received_on, due_on, made_at, made_by,
                    identity_checked_on, identity_checked_by FROM access_requests
             WHERE ?1 IS NULL OR case_id = ?1 ORDER BY due_on, made_at",
        )?;
        let rows = stmt
            .query_map([case.map(|c| c.to_string())], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    (r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let unreadable = || ClinicError::Store("an unreadable subject access request".into());
        rows.into_iter()
            .map(|(id, case, subject, perpetrator, received, due, made_at, made_by, checked)| {
                let identity_checked = match checked {
                    (Some(on), Some(by)) => {
                        Some(waymark_domain::access::IdentityCheck { on: on.parse().map_err(|_| unreadable())?, by })
                    }
                    _ => None,
                };
                Ok(AccessRequest {
                    id: id.parse().map_err(|_| unreadable())?,
                    case_id: waymark_domain::CaseId(case.parse().map_err(|_| unreadable())?),
                    subject: waymark_domain::AccessSubject::from_wire(&subject).ok_or_else(unreadable)?,
                    perpetrator_id: perpetrator.map(|p| p.parse()).transpose().map_err(|_| unreadable())?,
                    received_on: received.parse().map_err(|_| unreadable())?,
                    due_on: due.parse().map_err(|_| unreadable())?,
                    made_at: DateTime::parse_from_rfc3339(&made_at).map_err(|_| unreadable())?.with_timezone(&Utc),
                    made_by,
                    identity_checked,
                })
            })
            .collect()
    }

    fn access_decisions(&self, request: Uuid) -> StoreResult<AccessDecisions> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT item_key, released_sha256, exemption FROM access_decisions WHERE request_id = ?1 ORDER BY item_key",
        )?;
        let rows = stmt
            .query_map([request.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let unreadable = || ClinicError::Store("an unreadable subject access decision".into());
        let mut out = AccessDecisions::default();
        for (key, digest, exemption) in rows {
            match (digest, exemption) {
                (Some(digest), None) => out.releases.push((key, digest)),
                (None, Some(reason)) => {
                    out.exempt.push((key, ExemptionReason::from_wire(&reason).ok_or_else(unreadable)?));
                }
                _ => return Err(unreadable()),
            }
        }
        Ok(out)
    }

    fn check_access_identity(
        &self,
        request: Uuid,
        check: &waymark_domain::access::IdentityCheck,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept = tx.execute(
            "UPDATE access_requests SET identity_checked_on = ?2, identity_checked_by = ?3
             WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM erasures WHERE erasures.case_id = access_requests.case_id)",
            params![request.to_string(), check.on.to_string(), check.by],
        )?;
        if kept == 0 {
            return Err(ClinicError::CaseErased);
        }
        audit_line(&tx, line, now)?;
        tx.commit()?;
        Ok(())
    }

    fn decide_access_item(
        &self,
        request: Uuid,
        key: &str,
        decision: &AccessDecision,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (digest, exemption) = match decision {
            AccessDecision::Release { digest } => (Some(digest.as_str()), None),
            AccessDecision::Exempt { reason } => (None, Some(reason.wire())),
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kept = tx.execute(
            "INSERT INTO access_decisions (request_id, item_key, released_sha256, exemption, decided_at, decided_by)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS
               (SELECT 1 FROM erasures JOIN access_requests ON access_requests.case_id = erasures.case_id
                WHERE access_requests.id = ?1)
             ON CONFLICT (request_id, item_key) DO UPDATE SET released_sha256 = excluded.released_sha256,
               exemption = excluded.exemption, decided_at = excluded.decided_at, decided_by = excluded.decided_by",
            params![request.to_string(), key, digest, exemption, now.to_rfc3339(), line.actor],
        )?;
        if kept == 0 {
            return Err(ClinicError::CaseErased);
        }
        audit_line(&tx, line, now)?;
        tx.commit()?;
        Ok(())
    }

    fn panel_docs(&self, kind: PanelDocKind, meeting: Option<Uuid>) -> StoreResult<Vec<PanelDoc>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, case_id, meeting_id, doc FROM panel_docs
             WHERE kind = ?1 AND (?2 IS NULL OR meeting_id = ?2) ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![kind.as_str(), meeting.map(|m| m.to_string())], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let unreadable = || ClinicError::Store("an unreadable panel document".into());
        rows.into_iter()
            .map(|(id, case_id, meeting_id, doc)| {
                Ok(PanelDoc {
                    kind,
                    id,
                    case_id: case_id.map(|c| c.parse()).transpose().map_err(|_| unreadable())?,
                    meeting_id: meeting_id.map(|m| m.parse()).transpose().map_err(|_| unreadable())?,
                    doc: serde_json::from_str(&doc).map_err(|_| unreadable())?,
                })
            })
            .collect()
    }
}

/// Appends the clinic's own ops (already numbered) to the feed inside the
/// caller's transaction.
fn append_clinic_ops(tx: &Connection, ops: &[WireOp], at: &str) -> StoreResult<()> {
    for op in ops {
        let text = op.canonical_bytes();
        let hash = WireOp::hash_of(&text);
        let text = String::from_utf8(text).map_err(|_| ClinicError::BadRequest("op"))?;
        // Another of the clinic's changes took this number meanwhile: nothing is written.
        if clinic_slot_taken(tx, op)? {
            return Err(ClinicError::ClinicBusy);
        }
        append_to_feed(tx, op, &Origin::Clinic(op.origin), &text, &hash, at)?;
    }
    Ok(())
}

impl SqliteStore {
    fn write_meeting(tx: &Connection, meeting: &PanelMeeting) -> StoreResult<()> {
        let doc =
            serde_json::to_string(meeting).map_err(|_| ClinicError::Store("a meeting could not be kept".into()))?;
        tx.execute(
            "INSERT INTO panel_meetings (id, meets_on, doc, published_at, closed_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET meets_on = excluded.meets_on, doc = excluded.doc,
                published_at = excluded.published_at, closed_at = excluded.closed_at",
            params![
                meeting.id.to_string(),
                meeting.meets_on.to_string(),
                doc,
                meeting.published_at.map(|t| t.to_rfc3339()),
                meeting.closed_at.map(|t| t.to_rfc3339()),
            ],
        )?;
        Ok(())
    }
}

/// Whether anything holds the op's slot or id already: the feed, the refused
/// list, a rejoined laptop's recognised slots or the quarantine.
fn clinic_slot_taken(tx: &Connection, op: &WireOp) -> StoreResult<bool> {
    let (origin, seq) = (op.origin.to_string(), to_i64(op.seq));
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM ops WHERE (origin = ?1 AND seq = ?2) OR op_id = ?3
             UNION ALL SELECT 1 FROM refused WHERE origin = ?1 AND seq = ?2
             UNION ALL SELECT 1 FROM recognised WHERE origin = ?1 AND seq = ?2
             UNION ALL SELECT 1 FROM quarantine WHERE origin = ?1 AND seq = ?2",
        )?
        .exists(params![origin, seq, op.op_id.to_string()])?)
}

const REFERRAL_COLUMNS: &str =
    "id, number, submitted_by, submitted_at, status, form, decided_by, decided_at, decline_reason, advocate";

type ReferralRow =
    (String, i64, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

fn referral_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReferralRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn stored_referral(row: ReferralRow) -> StoreResult<StoredReferral> {
    let (id, number, submitted_by, submitted_at, status, form, decided_by, decided_at, reason, advocate) = row;
    let unreadable = || ClinicError::Store("an unreadable referral".into());
    Ok(StoredReferral {
        id: id.parse().map_err(|_| unreadable())?,
        number,
        submitted_by,
        submitted_at: parse_time(&submitted_at)?,
        status: IntakeStatus::parse(&status).ok_or_else(unreadable)?,
        form: serde_json::from_str(&form).map_err(|_| unreadable())?,
        decided_by,
        decided_at: time(decided_at),
        decline_reason: reason.and_then(|r| DeclineReason::from_wire(&r)),
        advocate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasures_emptying_of_the_log_waits_for_a_checkpoint_in_progress_then_empties_it() {
        // Why: a checkpoint the thread is running makes a TRUNCATE at the same
        // moment fail busy, which would leave an erased case's pages in the
        // log; the erasure takes its turn after that checkpoint instead.
        use chrono::TimeZone;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clinic.db");
        let store = SqliteStore::open(&path, &[6u8; 32], true).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        for n in 0..50 {
            let line = AuditLine {
                actor: "CRD1",
                action: AdminAction::Viewed,
                target: None,
                detail: serde_json::json!({ "n": n }),
            };
            store.audit(&line, at).unwrap();
        }
        let log = dir.path().join("clinic.db-wal");
        assert!(std::fs::metadata(&log).unwrap().len() > 0, "the writes are in the log");
        let checkpoint_running = store.checkpoints.one_at_a_time.lock().unwrap();
        let emptied = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let erasing = scope.spawn(|| {
                let conn = store.conn().unwrap();
                store.checkpoints.empty_log(&conn).unwrap();
                emptied.store(true, Ordering::SeqCst);
            });
            std::thread::sleep(std::time::Duration::from_millis(200));
            assert!(!emptied.load(Ordering::SeqCst), "the log was emptied while a checkpoint was running");
            drop(checkpoint_running);
            erasing.join().unwrap();
        });
        assert!(emptied.load(Ordering::SeqCst));
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 0, "the log is empty once it had its turn");
    }

    #[test]
    fn the_audit_is_a_hash_chain_that_finds_a_line_changed_behind_the_triggers() {
        use chrono::TimeZone;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("clinic.db"), &[3u8; 32], true).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        for (n, target) in ["caseload", "0193a0a0-0000-7000-8000-000000000001", "caseload"].into_iter().enumerate() {
            let line = AuditLine {
                actor: "CRD1",
                action: AdminAction::Viewed,
                target: Some(target),
                detail: serde_json::json!({ "rows": n }),
            };
            store.audit(&line, at + chrono::Duration::seconds(n as i64)).unwrap();
        }
        let lines = store.admin_audit().unwrap();
        let bounds = store.audit_bounds().unwrap();
        assert_eq!(bounds, AuditBounds { chain_starts_after: 0, highest_issued: 3 });
        let found = verify_audit(&lines, bounds, None).unwrap();
        assert_eq!((found.chained, found.before_chain), (3, 0));
        let head = found.head.unwrap();
        assert!(verify_audit(&lines, bounds, Some((head.0, &head.1))).is_ok(), "its own head anchors it");
        let broken_at = |sql: &str| {
            let copy = tempfile::tempdir().unwrap();
            let path = copy.path().join("clinic.db");
            // The database with its write-ahead log, where the newest lines are until a checkpoint.
            for suffix in ["", "-wal", "-shm"] {
                let from = dir.path().join(format!("clinic.db{suffix}"));
                if from.exists() {
                    std::fs::copy(from, copy.path().join(format!("clinic.db{suffix}"))).unwrap();
                }
            }
            let tampered = SqliteStore::open(&path, &[3u8; 32], false).unwrap();
            tampered.conn().unwrap().execute_batch(sql).unwrap();
            let (lines, bounds) = (tampered.admin_audit().unwrap(), tampered.audit_bounds().unwrap());
            match verify_audit(&lines, bounds, Some((head.0, &head.1))) {
                Err(ClinicError::AuditBroken { seq }) => seq,
                other => panic!("{sql}: {other:?}"),
            }
        };
        // The triggers stop an UPDATE or DELETE; an insider with the key can drop them. The chain still tells.
        let unguarded = "DROP TRIGGER admin_audit_no_update; DROP TRIGGER admin_audit_no_delete;";
        assert_eq!(
            broken_at(&format!("{unguarded} UPDATE admin_audit SET detail = '{{\"rows\":9}}' WHERE seq = 2")),
            2
        );
        assert_eq!(
            broken_at(&format!("{unguarded} UPDATE admin_audit SET hash = NULL")),
            1,
            "no line may lose its hash"
        );
        assert_eq!(broken_at(&format!("{unguarded} DELETE FROM admin_audit WHERE seq = 3")), 3, "a line off the end");
        assert_eq!(
            broken_at(&format!("{unguarded} DELETE FROM admin_audit WHERE seq = 2")),
            2,
            "a line from the middle"
        );
        // Taking the last line and the counter back, then rewriting the chain, still fails the anchor.
        let rewound = format!("{unguarded} DELETE FROM admin_audit WHERE seq = 3; UPDATE sqlite_sequence SET seq = 2 WHERE name = 'admin_audit'");
        assert_eq!(broken_at(&rewound), 3, "the head kept elsewhere is gone");
    }

    #[test]
    fn landed_migrations_are_never_edited() {
        // As in the vault: editing a landed migration, or adding one without
        // its line in migrations.lock, fails here.
        waymark_sqlcipher::check_lock(MIGRATIONS, include_str!("migrations.lock")).unwrap();
    }

    /// A clinic database as the previous release left it: migrations 1 and 2,
    /// one device that claimed its advocate, a case and a victim record in the feed.
    fn previous_release(path: &Path, key: &[u8; 32]) -> (Uuid, Uuid, Uuid) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key))).unwrap();
        for (index, migration) in MIGRATIONS.iter().take(2).enumerate() {
            conn.execute_batch(&format!("BEGIN; {} PRAGMA user_version = {}; COMMIT;", migration.sql, index + 1))
                .unwrap();
        }
        let (device, case, victim) = (Uuid::from_u128(1), Uuid::from_u128(10), Uuid::from_u128(20));
        conn.execute(
            "INSERT INTO devices (id, advocate, keys, status, enrolled_at, acked_through) VALUES (?1, 'ISA01', ?2, 'active', '2026-11-01T09:00:00+00:00', 2)",
            [device.to_string(), serde_json::json!({"signing": "", "sealing": ""}).to_string()],
        )
        .unwrap();
        let op = |seq: u64, kind: &str, record: Uuid, new: serde_json::Value| {
            serde_json::json!({
                "op_id": Uuid::from_u128(100 + u128::from(seq)), "origin": device, "seq": seq,
                "hlc": format!("{:015}-{:010}-{device}", 1_795_000_000_000u64 + seq, 0),
                "made_at": "2026-11-01T09:00:00Z", "actor": "ISA01", "kind": kind, "record_id": record, "case_id": case,
                "action": "create", "changes": { "new": new }, "schema_version": 2
            })
        };
        for (seq, kind, record, new) in [
            (1, "case", case, serde_json::json!({"advocate": "ISA01"})),
            (2, "victim", victim, serde_json::json!({"name": "x"})),
        ] {
            conn.execute(
                "INSERT INTO ops (op_id, origin, seq, case_id, content_hash, op, received_at) VALUES (?1, ?2, ?3, ?4, 'h', ?5, '2026-11-01T09:00:00+00:00')",
                params![Uuid::from_u128(100 + seq).to_string(), device.to_string(), seq as i64, case.to_string(), op(seq as u64, kind, record, new).to_string()],
            )
            .unwrap();
        }
        (device, case, victim)
    }

    #[test]
    fn an_existing_clinic_database_upgrades_with_its_devices_unconfirmed_and_its_feed_known() {
        // Why: the authority rules judge from record homes and assignments; a
        // clinic that upgraded without them would refuse every honest op, and
        // a device whose advocate was only claimed must not sync until confirmed.
        let dir = tempfile::tempdir().unwrap();
        let (path, key) = (dir.path().join("clinic.db"), [3u8; 32]);
        let (device, case, victim) = previous_release(&path, &key);
        let store = SqliteStore::open(&path, &key, false).unwrap();
        let found = store.device(device).unwrap().unwrap();
        assert!(!found.confirmed, "a claimed advocate is not trusted until an administrator confirms it");
        assert_eq!(store.stats().unwrap().devices_unconfirmed, 1);
        let victims = store.case_ops(case, Some("victim")).unwrap();
        assert_eq!(
            victims.iter().map(|o| o.record_id).collect::<Vec<_>>(),
            [victim],
            "the ops held before each op's kind was kept beside it are found by their kind"
        );
        let conn = store.conn().unwrap();
        let mut view = TxView { tx: &conn };
        use crate::authority::AuthorityView;
        let home = view.record_home(victim).unwrap().unwrap();
        assert_eq!((home.case_id, home.owner.as_str()), (Some(case), "ISA01"));
        let during = format!("{:015}-{:010}-{device}", 1_795_000_000_005u64, 0);
        assert_eq!(view.assignee_at(case, &during).unwrap().as_deref(), Some("ISA01"));
        let head: Option<String> = conn.query_row("SELECT head_hlc FROM devices", [], |r| r.get(0)).unwrap();
        assert_eq!(
            head,
            Some(format!("{:015}-{:010}-{device}", 1_795_000_000_002u64, 0)),
            "the device's clock floor carries over"
        );
    }

    #[test]
    fn a_stored_op_that_no_longer_reads_is_left_out_of_the_feed_not_fatal_to_it() {
        // Why: before `changes` was typed, a hostile laptop's op of another
        // shape was stored as it came. After the upgrade it must not stop
        // every laptop's pull at its position.
        let dir = tempfile::tempdir().unwrap();
        let (path, key) = (dir.path().join("clinic.db"), [4u8; 32]);
        let (device, case, _) = previous_release(&path, &key);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key))).unwrap();
            let odd = serde_json::json!({
                "op_id": Uuid::from_u128(103), "origin": device, "seq": 3,
                "hlc": format!("{:015}-{:010}-{device}", 1_795_000_000_003u64, 0),
                "made_at": "2026-11-01T09:00:00Z", "actor": "ISA01", "kind": "case", "record_id": case, "case_id": case,
                "action": "update", "changes": { "new": {"status": "closed"}, "base": 5 }, "schema_version": 2
            });
            conn.execute(
                "INSERT INTO ops (op_id, origin, seq, case_id, content_hash, op, received_at) VALUES (?1, ?2, 3, ?3, 'h', ?4, '2026-11-01T09:00:00+00:00')",
                params![Uuid::from_u128(103).to_string(), device.to_string(), case.to_string(), odd.to_string()],
            )
            .unwrap();
            // The case is the advocate's, as storing its first op would have recorded.
            conn.execute("INSERT INTO case_advocates (case_id, advocate) VALUES (?1, 'ISA01')", [case.to_string()])
                .unwrap();
        }
        let store = SqliteStore::open(&path, &key, false).unwrap();
        let page = store.feed(Uuid::from_u128(2), "ISA01", 0, 100).unwrap();
        assert_eq!(page.ops.len(), 2, "the two ops that read are served");
        assert_eq!(page.through, 3, "and the cursor moves past the one that does not");
    }
}
