//! The vault's side of sync: the link to the clinic and the device keys, the
//! outbox as wire ops, durable acknowledgements, and merging ops that came
//! from the clinic. Network code lives in `waymark-sync`; this is only state,
//! and every change to it is one transaction.

use crate::audit::{self, AuditAction, AuditEntry};
use crate::error::{Result, VaultError};
use crate::heads::Head;
pub use crate::problems::ProblemCode;
use crate::vault::{append_op, check_references, meta_get, meta_set, NewOp, Vault};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use uuid::Uuid;
use waymark_domain::hlc::Hlc;
use waymark_domain::merge::{field_class, merge_field, FieldChange, FieldClass, FieldOutcome};
use waymark_domain::records::Ctx;
use waymark_domain::{DeviceId, Record, RecordKind};
use waymark_protocol::keys::SecretKeysText;
use waymark_protocol::{DeviceKeys, DevicePublic, OpAction, RefusedOp, WireOp};

const LINK: &str = "sync_link";
const KEYS: &str = "sync_keys";
const PENDING_KEYS: &str = "sync_pending_keys";
const PENDING_DEVICE: &str = "sync_pending_device";
/// The local op sequence just before this enrolment's first: the clinic
/// numbers a device's ops from 1, and a vault that enrolled again (after a
/// restore) has ops from before. Wire sequence = local sequence − base.
const SEQ_BASE: &str = "sync_seq_base";
const ACKED: &str = "sync_acked_through";
const CURSOR: &str = "sync_pull_cursor";
const LAST_OK: &str = "sync_last_ok_at";
const LAST_ATTEMPT: &str = "sync_last_attempt_at";
const LAST_ERROR: &str = "sync_last_error";
const DRIFT: &str = "sync_drift_ms";
/// Written in the vault folder after a clinic-ordered wipe. It holds a time
/// and a reason code only.
pub const WIPED_NOTICE: &str = "wiped-by-clinic.json";

/// Where the clinic is and how this device knows it is the real one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicLink {
    pub url: String,
    /// Hex SHA-256 of the pinned certificate, or `None` for a CA-issued one.
    pub fingerprint: Option<String>,
    pub clinic_id: Uuid,
    pub clinic: DevicePublic,
    pub enrolled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncStatus {
    pub enrolled: bool,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The code of the last failure, cleared by a successful sync.
    pub last_error: Option<String>,
    pub pending: i64,
    pub open_conflicts: i64,
    pub problems: i64,
    pub held: i64,
    /// How far ahead the clinic's or another device's clock was, when beyond the warning level.
    pub drift_warning_ms: Option<u64>,
    pub acked_through: u64,
    pub pull_cursor: u64,
}

/// A safety-critical field two writers changed at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Conflict {
    pub id: String,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub case_id: Option<Uuid>,
    pub case_reference: Option<String>,
    pub field: String,
    pub local_value: Value,
    pub remote_value: Value,
    pub remote_actor: String,
    pub detected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Local,
    Remote,
}

/// Something sync will not decide alone and will never drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub code: ProblemCode,
    pub direction: String,
    pub op_id: Option<String>,
    pub seq: Option<i64>,
    /// What happened and what to do, in words (from `code`).
    pub advice: String,
    /// A change from the clinic that may apply now (`retry_problem`).
    pub retryable: bool,
    /// The clinic does not recognise this laptop's log: it must rejoin with a new code.
    pub needs_rejoin: bool,
}

/// An op waiting for the clinic's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PendingOp {
    pub seq: i64,
    pub kind: RecordKind,
    pub action: String,
    pub made_at: DateTime<Utc>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    pub applied: u32,
    pub duplicates: u32,
    pub conflicts: u32,
    pub held: u32,
    pub failed: u32,
    pub quarantined: u32,
    pub drift_ms: Option<u64>,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| VaultError::DatabaseUnreadable)
}

fn meta_u64(conn: &Connection, key: &str) -> Result<u64> {
    Ok(meta_get(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn meta_time(conn: &Connection, key: &str) -> Result<Option<DateTime<Utc>>> {
    meta_get(conn, key)?.map(|t| parse_time(&t)).transpose()
}

fn keys_from_meta(conn: &Connection, key: &str) -> Result<Option<DeviceKeys>> {
    let Some(text) = meta_get(conn, key)? else { return Ok(None) };
    let parsed: SecretKeysText = serde_json::from_str(&text).map_err(|_| VaultError::DatabaseUnreadable)?;
    Ok(Some(DeviceKeys::from_text(&parsed).map_err(|_| VaultError::DatabaseUnreadable)?))
}

/// The same conflict gets the same id on both devices: it is made from the
/// two ops that disagree, in a fixed order, and the field.
pub fn conflict_id(op_a: &str, op_b: &str, field: &str) -> String {
    crate::heads::conflict_id_of(&[op_a, op_b], field)
}

impl Vault {
    pub fn sync_link(&self) -> Result<Option<ClinicLink>> {
        meta_get(&self.conn, LINK)?
            .map(|t| serde_json::from_str(&t).map_err(|_| VaultError::DatabaseUnreadable))
            .transpose()
    }

    pub fn sync_keys(&self) -> Result<Option<DeviceKeys>> {
        keys_from_meta(&self.conn, KEYS)
    }

    /// The identity an enrolment registers: a new device id and new keys.
    /// Every enrolment is a new device, so a vault restored from a backup (or
    /// put back from an older copy) never speaks for the device it was
    /// copied from. Both are saved before the request goes out, so a retry
    /// after a lost reply registers the same ones.
    pub fn sync_enrolment(&mut self) -> Result<(DeviceId, DeviceKeys)> {
        let pending_device = meta_get(&self.conn, PENDING_DEVICE)?.and_then(|d| d.parse::<DeviceId>().ok());
        if let (Some(device), Some(keys)) = (pending_device, keys_from_meta(&self.conn, PENDING_KEYS)?) {
            return Ok((device, keys));
        }
        let device = DeviceId::new(self.env.clock.now(), self.env.rng.as_mut());
        let keys = DeviceKeys::generate(&mut rand::rngs::OsRng);
        let text = serde_json::to_string(&keys.to_text()).map_err(|_| VaultError::DatabaseUnreadable)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, PENDING_KEYS, &text)?;
        meta_set(&tx, PENDING_DEVICE, &device.to_string())?;
        tx.commit()?;
        Ok((device, keys))
    }

    /// Records a completed enrolment: the vault becomes the device the clinic
    /// registered. The changes the clinic has not acknowledged are numbered
    /// from 1 for the new device (a renumbering, not a rewrite: the op log is
    /// untouched), and the pull starts from the beginning of the feed, where
    /// whatever this vault already holds is recognised and skipped.
    pub fn sync_enrolled(&mut self, link: &ClinicLink) -> Result<()> {
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let keys = meta_get(&tx, PENDING_KEYS)?.ok_or(VaultError::DatabaseUnreadable)?;
        let device: DeviceId =
            meta_get(&tx, PENDING_DEVICE)?.and_then(|d| d.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        let earlier = self.device;
        let rejoin = meta_get(&tx, LINK)?.is_some();
        let base: i64 = tx.query_row(
            "SELECT coalesce((SELECT min(seq) - 1 FROM outbox), (SELECT max(seq) FROM ops), 0)",
            [],
            |r| r.get(0),
        )?;
        let renumbered: i64 = tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        meta_set(&tx, KEYS, &keys)?;
        tx.execute("DELETE FROM meta WHERE key IN (?1, ?2)", [PENDING_KEYS, PENDING_DEVICE])?;
        meta_set(&tx, LINK, &serde_json::to_string(link).map_err(|_| VaultError::DatabaseUnreadable)?)?;
        meta_set(&tx, "device_id", &device.to_string())?;
        let hlc = Hlc { device, ..self.hlc };
        meta_set(&tx, "hlc", &hlc.to_string())?;
        meta_set(&tx, SEQ_BASE, &base.to_string())?;
        meta_set(&tx, ACKED, "0")?;
        meta_set(&tx, CURSOR, "0")?;
        // The laptop is a new device now; what stopped the old one no longer applies.
        tx.execute(
            "UPDATE sync_problems SET resolved_at = ?1 WHERE resolved_at IS NULL AND op_id IS NULL AND code IN ('log_diverged', 'device_known', 'ack_stalled')",
            [now.to_rfc3339()],
        )?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: if rejoin { AuditAction::SyncRejoined } else { AuditAction::SyncEnrolled },
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({
                    "clinic": link.clinic_id.to_string(),
                    "device": device.to_string(),
                    "earlier_device": earlier.to_string(),
                    "renumbered": renumbered,
                }),
            },
        )?;
        tx.commit()?;
        self.device = device;
        self.hlc = hlc;
        tracing::info!(device = %device, earlier = %earlier, renumbered, "enrolled as a new device");
        Ok(())
    }

    /// Adds the clinic's recovery recipient to the key file, when the vault
    /// has none, so the clinic can reset a forgotten passphrase. Returns
    /// whether it was added; an existing recovery recipient is never replaced.
    pub fn add_recovery_if_missing(&mut self, recipient: &age::x25519::Recipient) -> Result<bool> {
        let keyfile = crate::keyfile::KeyFile::read(&self.dir)?;
        if keyfile.recovery_wrap.is_some() {
            return Ok(false);
        }
        keyfile.with_recovery(&self.key, recipient)?.write_atomic(&self.dir)?;
        self.record_event(AuditAction::RecoveryRecipientAdded, None, None, None, json!({ "source": "enrolment" }))?;
        Ok(true)
    }

    /// The next ops to send, in op-log order, after the clinic's acknowledgement.
    pub fn outbox_batch(&self, after: u64, limit: u32) -> Result<Vec<WireOp>> {
        let base = meta_u64(&self.conn, SEQ_BASE)?;
        let after = i64::try_from(after.saturating_add(base)).unwrap_or(i64::MAX);
        own_ops(
            &self.conn,
            "FROM outbox JOIN ops ON ops.seq = outbox.seq WHERE ops.seq > ?1 ORDER BY ops.seq LIMIT ?2",
            params![after, limit],
            self.device.as_uuid(),
            base,
        )
    }

    /// Makes the clinic's acknowledgement durable: ops up to `through` leave
    /// the outbox, and quarantined ones go on the problems list.
    pub fn sync_acknowledge(&mut self, through: u64, quarantined: &[u64], refused: &[RefusedOp]) -> Result<()> {
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        acknowledge(&tx, through, quarantined, now)?;
        let base = meta_u64(&tx, SEQ_BASE)?;
        for op in refused {
            list_own_op(&tx, &ProblemCode::Refused(op.code.clone()), op.seq.saturating_add(base), now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Checks the clinic's acknowledgement against this laptop's op log: the
    /// op in slot `through` must exist here and, when the clinic names it, be
    /// the same op. Otherwise the two histories differ and nothing may leave
    /// the outbox on the clinic's word.
    pub fn sync_check_acknowledgement(&self, through: u64, op_id: Option<Uuid>) -> Result<()> {
        if through == 0 {
            return Ok(());
        }
        let seq = i64::try_from(through.saturating_add(meta_u64(&self.conn, SEQ_BASE)?)).unwrap_or(i64::MAX);
        let held: Option<String> =
            self.conn.query_row("SELECT op_id FROM ops WHERE seq = ?1", [seq], |r| r.get(0)).optional()?;
        let agrees = match (held, op_id) {
            (None, _) => false,
            (Some(held), Some(named)) => held == named.to_string(),
            // A positive acknowledgement that names no op cannot be checked, so it is not trusted.
            (Some(_), None) => false,
        };
        if !agrees {
            tracing::warn!(through, "the clinic's acknowledgement does not match this laptop's op log; refused");
            return Err(VaultError::LogDiverged);
        }
        Ok(())
    }

    pub fn sync_acked_through(&self) -> Result<u64> {
        meta_u64(&self.conn, ACKED)
    }

    pub fn sync_pull_cursor(&self) -> Result<u64> {
        meta_u64(&self.conn, CURSOR)
    }

    /// Notes the end of a sync attempt: the time, and the failure code if any.
    pub fn sync_record_attempt(&mut self, error_code: Option<&str>) -> Result<()> {
        let now = self.env.clock.now().to_rfc3339();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, LAST_ATTEMPT, &now)?;
        match error_code {
            None => {
                meta_set(&tx, LAST_OK, &now)?;
                tx.execute("DELETE FROM meta WHERE key = ?1", [LAST_ERROR])?;
            }
            Some(code) => meta_set(&tx, LAST_ERROR, code)?,
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts a refusal the device cannot fix alone on the problems list.
    pub fn sync_record_problem(&mut self, code: &ProblemCode, direction: &str) -> Result<()> {
        let code = code.wire();
        let now = self.env.clock.now();
        let open: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM sync_problems WHERE code = ?1 AND op_id IS NULL AND resolved_at IS NULL",
                [&code],
                |r| r.get(0),
            )
            .optional()?;
        if open.is_none() {
            self.conn.execute(
                "INSERT INTO sync_problems (at, code, direction) VALUES (?1, ?2, ?3)",
                params![now.to_rfc3339(), code, direction],
            )?;
        }
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(SyncStatus {
            enrolled: meta_get(&self.conn, LINK)?.is_some(),
            last_sync_at: meta_time(&self.conn, LAST_OK)?,
            last_attempt_at: meta_time(&self.conn, LAST_ATTEMPT)?,
            last_error: meta_get(&self.conn, LAST_ERROR)?,
            pending: count("SELECT count(*) FROM outbox")?,
            open_conflicts: count("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL")?,
            problems: count("SELECT count(*) FROM sync_problems WHERE resolved_at IS NULL")?,
            held: count("SELECT count(*) FROM received_ops WHERE state = 'held'")?,
            drift_warning_ms: meta_get(&self.conn, DRIFT)?.and_then(|d| d.parse().ok()),
            acked_through: meta_u64(&self.conn, ACKED)?,
            pull_cursor: meta_u64(&self.conn, CURSOR)?,
        })
    }

    /// What is waiting to go, oldest first. Field names only, never values.
    pub fn sync_pending(&self, limit: u32) -> Result<Vec<PendingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ops.seq, kind, action, made_at, changes FROM outbox JOIN ops ON ops.seq = outbox.seq ORDER BY ops.seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, kind, action, made_at, changes) = row?;
            let changes: Value = serde_json::from_str(&changes).map_err(|_| VaultError::DatabaseUnreadable)?;
            let fields =
                changes.get("new").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            out.push(PendingOp {
                seq,
                kind: RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?,
                action,
                made_at: parse_time(&made_at)?,
                fields,
            });
        }
        Ok(out)
    }

    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.kind, c.record_id, c.case_id, cases.reference, c.field, c.local_value, c.remote_value, c.remote_actor, c.detected_at
             FROM sync_conflicts c LEFT JOIN cases ON cases.id = c.case_id
             WHERE c.resolved_at IS NULL ORDER BY c.detected_at, c.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let bad = |_| VaultError::DatabaseUnreadable;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, record_id, case_id, case_reference, field, local, remote, remote_actor, detected_at) = row?;
            out.push(Conflict {
                id,
                kind: RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?,
                record_id: record_id.parse().map_err(bad)?,
                case_id: case_id.map(|c| c.parse()).transpose().map_err(bad)?,
                case_reference,
                field,
                local_value: serde_json::from_str(&local).map_err(|_| VaultError::DatabaseUnreadable)?,
                remote_value: serde_json::from_str(&remote).map_err(|_| VaultError::DatabaseUnreadable)?,
                remote_actor,
                detected_at: parse_time(&detected_at)?,
            });
        }
        Ok(out)
    }

    pub fn sync_problems(&self) -> Result<Vec<Problem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, code, direction, op_id, seq, op IS NOT NULL FROM sync_problems WHERE resolved_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, code, direction, op_id, seq, kept) = row?;
            let code = ProblemCode::from_wire(&code);
            let retryable = direction == "down" && kept && code.is_retryable();
            let needs_rejoin = code.needs_rejoin();
            out.push(Problem {
                id,
                at: parse_time(&at)?,
                advice: code.advice(),
                code,
                direction,
                op_id,
                seq,
                retryable,
                needs_rejoin,
            });
        }
        Ok(out)
    }

    /// Sets a problem aside with a person's reason, kept with it and audited.
    /// The change it was about stays where it is (in the op log, or kept as received).
    pub fn dismiss_problem(&mut self, id: i64, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(waymark_domain::ValidationErrors::single(
                "reason",
                "is required, up to 500 characters: say why it can be set aside",
            )
            .into());
        }
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let code: Option<String> = tx
            .query_row("SELECT code FROM sync_problems WHERE id = ?1 AND resolved_at IS NULL", [id], |r| r.get(0))
            .optional()?;
        let Some(code) = code else {
            return Err(waymark_domain::ValidationErrors::single("problem", "is not open; refresh the list").into());
        };
        tx.execute(
            "UPDATE sync_problems SET resolved_at = ?2, resolution = 'dismissed', reason = ?3 WHERE id = ?1",
            params![id, now.to_rfc3339(), reason],
        )?;
        // The reason stays with the problem in the vault; the audit names the problem, never the words.
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::SyncProblemDismissed,
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({ "problem": id, "code": code }),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Tries a change from the clinic that could not apply again, for the
    /// problems where something may since have changed here (the record it
    /// needs has arrived, the clashing record was renamed, Waymark was
    /// updated). Returns whether it applied now; if not, the problem stays.
    pub fn retry_problem(&mut self, id: i64) -> Result<bool> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let clinic = self.sync_link()?.map(|link| link.clinic_id);
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT code, direction, op FROM sync_problems WHERE id = ?1 AND resolved_at IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((code, direction, Some(text))) = row.filter(|(code, direction, op)| {
            direction == "down" && op.is_some() && ProblemCode::from_wire(code).is_retryable()
        }) else {
            return Err(waymark_domain::ValidationErrors::single(
                "problem",
                "cannot be retried: it is not a change from the clinic that may now apply; dismiss it once it has been dealt with",
            )
            .into());
        };
        let op: WireOp = serde_json::from_str(&text).map_err(|_| VaultError::DatabaseUnreadable)?;
        let mut state = ApplyState {
            tx: &tx,
            ctx: &ctx,
            now,
            hlc: self.hlc,
            now_ms,
            actor: &self.actor,
            clinic,
            report: ApplyReport::default(),
        };
        let applied = matches!(state.apply_alone(&op)?, Applied::Done);
        let hlc = state.hlc;
        if applied {
            tx.execute("UPDATE received_ops SET state = 'applied' WHERE op_id = ?1", [op.op_id.to_string()])?;
            tx.execute(
                "UPDATE sync_problems SET resolved_at = ?2, resolution = 'retried' WHERE id = ?1",
                params![id, now.to_rfc3339()],
            )?;
        }
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::SyncProblemRetried,
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({ "problem": id, "code": code, "direction": direction, "applied": applied }),
            },
        )?;
        tx.commit()?;
        self.hlc = hlc;
        Ok(applied)
    }

    /// A person's decision on a conflict. The chosen value is written as a
    /// new op that names the conflict, so the other device closes the same
    /// conflict with the same value when it arrives.
    pub fn resolve_conflict(&mut self, id: &str, choice: Resolution) -> Result<()> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let op_id = waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()).to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, Option<String>, String, String, String)> = tx
            .query_row(
                "SELECT kind, record_id, case_id, field, local_value, remote_value FROM sync_conflicts WHERE id = ?1 AND resolved_at IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((kind, record_id, case_id, field, local, remote)) = row else {
            return Err(waymark_domain::ValidationErrors::single("conflict", "is not open; refresh the list").into());
        };
        let kind = RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?;
        let parse = |t: &str| serde_json::from_str::<Value>(t).map_err(|_| VaultError::DatabaseUnreadable);
        let (chosen, other) = match choice {
            Resolution::Local => (parse(&local)?, parse(&remote)?),
            Resolution::Remote => (parse(&remote)?, parse(&local)?),
        };
        let doc: String =
            tx.query_row(&format!("SELECT doc FROM {} WHERE id = ?1", kind.table()), [&record_id], |r| r.get(0))?;
        let mut doc: Value = serde_json::from_str(&doc).map_err(|_| VaultError::DatabaseUnreadable)?;
        doc[field.as_str()] = chosen.clone();
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        Record::from_doc(kind, doc.clone())?.validate(&ctx)?;
        let hlc = self.hlc.tick(now_ms);
        let hlc_text = hlc.to_string();
        tx.execute(
            &format!("UPDATE {} SET doc = ?2, updated_hlc = ?3 WHERE id = ?1", kind.table()),
            params![record_id, doc.to_string(), hlc_text],
        )?;
        let changes = json!({ "new": { field.as_str(): chosen }, "old": { field.as_str(): other }, "resolves": [id] });
        let seq = append_op(
            &tx,
            &NewOp {
                op_id: &op_id,
                hlc: &hlc_text,
                made_at: now,
                actor: &self.actor,
                kind,
                record_id: &record_id,
                case_id: case_id.as_deref(),
                action: "update",
                changes: &changes,
            },
        )?;
        let resolution = match choice {
            Resolution::Local => "local",
            Resolution::Remote => "remote",
        };
        tx.execute(
            "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1",
            params![id, now.to_rfc3339(), self.actor, resolution],
        )?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::ConflictResolved,
                kind: Some(kind.wire()),
                record_id: Some(record_id.clone()),
                case_id: case_id.clone(),
                detail: json!({ "conflict": id, "field": field, "choice": resolution, "op": seq }),
            },
        )?;
        meta_set(&tx, "hlc", &hlc_text)?;
        tx.commit()?;
        self.hlc = hlc;
        Ok(())
    }

    /// Applies ops from the clinic in one transaction and moves the pull
    /// cursor with them, so a crash applies all of them or none. Ops held
    /// back for a newer schema are retried first.
    pub fn sync_apply(&mut self, ops: &[WireOp], cursor: u64) -> Result<ApplyReport> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        let clinic = self.sync_link()?.map(|link| link.clinic_id);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut state = ApplyState {
            tx: &tx,
            ctx: &ctx,
            now,
            hlc: self.hlc,
            now_ms,
            actor: &self.actor,
            clinic,
            report: ApplyReport::default(),
        };
        state.retry_held()?;
        for op in ops {
            if op.origin == self.device.as_uuid() {
                continue;
            }
            state.receive(op)?;
        }
        if cursor > meta_u64(&tx, CURSOR)? {
            meta_set(&tx, CURSOR, &cursor.to_string())?;
        }
        settle_shared_references(&tx, now)?;
        let (hlc, report) = (state.hlc, state.report);
        if let Some(drift) = report.drift_ms {
            meta_set(&tx, DRIFT, &drift.to_string())?;
        }
        meta_set(&tx, "hlc", &hlc.to_string())?;
        tx.commit()?;
        self.hlc = hlc;
        Ok(report)
    }

    /// Destroys this device's copy of the caseload on the clinic's order:
    /// the key file first (without it the database is unreadable), then the
    /// database files. The open connection is swapped for an empty in-memory
    /// one, so nothing can be read afterwards; drop the vault next. A notice
    /// with the time and reason code is left so the app can say why.
    pub fn wipe(&mut self, reason: &str) -> Result<()> {
        let now = self.env.clock.now();
        let empty = Connection::open_in_memory()?;
        let old = std::mem::replace(&mut self.conn, empty);
        if let Err((_, e)) = old.close() {
            tracing::warn!(code = %VaultError::from(e).code(), "closing the database before the wipe reported an error");
        }
        self.key = crate::keyfile::DbKey::generate();
        wipe_files(&self.dir, self.env.rng.as_mut())?;
        let notice = json!({ "at": now.to_rfc3339(), "reason": reason });
        std::fs::write(self.dir.join(WIPED_NOTICE), notice.to_string())
            .map_err(VaultError::io("write the wipe notice"))?;
        tracing::warn!(reason, "vault wiped on the clinic's instruction");
        Ok(())
    }
}

/// Reads the notice left by a wipe, if any: `(when, reason code)`.
pub fn wiped_notice(dir: &Path) -> Option<(DateTime<Utc>, String)> {
    let text = std::fs::read_to_string(dir.join(WIPED_NOTICE)).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    let at = parse_time(value.get("at")?.as_str()?).ok()?;
    Some((at, value.get("reason")?.as_str()?.to_owned()))
}

/// The key file is shredded first: without it the database is unreadable.
fn wipe_files(dir: &Path, rng: &mut dyn rand::RngCore) -> Result<()> {
    // Every key file a re-key may have left is shredded, not just unlinked.
    let key_files = [crate::keyfile::KEY_FILE, "vault.key.pending", "vault.key.old"];
    for name in key_files.into_iter().chain([
        "vault.db",
        "vault.db-wal",
        "vault.db-shm",
        "vault.db-journal",
        "unlock-attempts.json",
    ]) {
        let path = dir.join(name);
        if path.exists() {
            if key_files.contains(&name) {
                crate::fsutil::shred(&path, rng)?;
            } else {
                std::fs::remove_file(&path).map_err(VaultError::io("erase the vault"))?;
            }
        }
    }
    crate::fsutil::sync_dir(dir)
}

/// Closes the shared-reference problems whose cases no longer share a
/// reference (a person renamed one of them).
pub(crate) fn settle_shared_references(tx: &Connection, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE sync_problems SET resolved_at = ?1
         WHERE code = 'duplicate_reference' AND resolved_at IS NULL AND NOT EXISTS (
             SELECT 1 FROM received_ops r
             JOIN cases a ON a.id = json_extract(r.op, '$.record_id')
             JOIN cases b ON b.reference = a.reference AND b.id <> a.id
             WHERE r.op_id = sync_problems.op_id)",
        [now.to_rfc3339()],
    )?;
    Ok(())
}

/// This laptop's own ops as the wire carries them, numbered for `origin`
/// (local sequence − `base`). `tail` is the SQL after the column list.
fn own_ops(conn: &Connection, tail: &str, args: impl rusqlite::Params, origin: Uuid, base: u64) -> Result<Vec<WireOp>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ops.seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema_version {tail}"
    ))?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, String>(9)?,
            r.get::<_, i64>(10)?,
        ))
    })?;
    let bad = |_| VaultError::DatabaseUnreadable;
    let mut ops = Vec::new();
    for row in rows {
        let (seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema) = row?;
        ops.push(WireOp {
            op_id: op_id.parse().map_err(bad)?,
            origin,
            seq: u64::try_from(seq).unwrap_or(0).saturating_sub(base),
            hlc,
            made_at: parse_time(&made_at)?,
            actor,
            kind,
            record_id: record_id.parse().map_err(bad)?,
            case_id: case_id.map(|c| c.parse()).transpose().map_err(bad)?,
            action: if action == "create" { OpAction::Create } else { OpAction::Update },
            changes: serde_json::from_str(&changes).map_err(|_| VaultError::DatabaseUnreadable)?,
            schema_version: u32::try_from(schema).unwrap_or(0),
        });
    }
    Ok(ops)
}

/// `through` and `quarantined` are the clinic's numbers for this device's ops.
fn acknowledge(tx: &Connection, through: u64, quarantined: &[u64], now: DateTime<Utc>) -> Result<()> {
    let base = meta_u64(tx, SEQ_BASE)?;
    let through_i = i64::try_from(through.saturating_add(base)).unwrap_or(i64::MAX);
    // The clinic cannot hold changes this laptop never made. If it claims to,
    // the op log went back in time (a folder restored from an old copy), and
    // trusting the claim would drop new changes from the outbox unsent.
    let head: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
    if through_i > head {
        tracing::warn!(through, head, "the clinic acknowledged changes past this laptop's op log; refused");
        return Err(VaultError::LogDiverged);
    }
    for seq in quarantined {
        list_own_op(tx, &ProblemCode::QuarantinedByClinic, seq.saturating_add(base), now)?;
    }
    tx.execute("DELETE FROM outbox WHERE seq <= ?1", [through_i])?;
    if through > meta_u64(tx, ACKED)? {
        meta_set(tx, ACKED, &through.to_string())?;
    }
    Ok(())
}

/// Lists one of this laptop's own ops (by its local sequence) the clinic
/// would not take, once however often the clinic says so. The op itself
/// stays in the op log.
fn list_own_op(tx: &Connection, code: &ProblemCode, seq: u64, now: DateTime<Utc>) -> Result<()> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    let op_id: Option<String> = tx.query_row("SELECT op_id FROM ops WHERE seq = ?1", [seq], |r| r.get(0)).optional()?;
    tx.execute(
        "INSERT INTO sync_problems (at, code, direction, op_id, seq)
         SELECT ?1, ?2, 'up', ?3, ?4 WHERE NOT EXISTS (
             SELECT 1 FROM sync_problems WHERE code = ?2 AND direction = 'up' AND seq = ?4 AND resolved_at IS NULL)",
        params![now.to_rfc3339(), code.wire(), op_id, seq],
    )?;
    Ok(())
}

/// A received write to one field, as the heads merge needs it.
struct Incoming<'a> {
    op: &'a WireOp,
    kind: RecordKind,
    class: FieldClass,
    /// The writes the op replaces (its `base`), when it names them.
    named: Option<&'a [&'a str]>,
    old: Option<&'a Value>,
    value: &'a Value,
    resolves: &'a [&'a str],
}

struct ApplyState<'a> {
    tx: &'a Connection,
    ctx: &'a Ctx<'a>,
    now: DateTime<Utc>,
    now_ms: u64,
    hlc: Hlc,
    actor: &'a str,
    /// The clinic this laptop is enrolled with: the only origin that may set clinic-owned fields.
    clinic: Option<Uuid>,
    report: ApplyReport,
}

enum Applied {
    Done,
    Failed(ProblemCode),
}

impl ApplyState<'_> {
    fn retry_held(&mut self) -> Result<()> {
        let supported = crate::db::schema_version();
        let held: Vec<String> = {
            let mut stmt =
                self.tx.prepare("SELECT op FROM received_ops WHERE state = 'held' ORDER BY received_at, seq")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        for text in held {
            let op: WireOp = serde_json::from_str(&text).map_err(|_| VaultError::DatabaseUnreadable)?;
            if op.schema_version <= supported {
                self.tx.execute("DELETE FROM received_ops WHERE op_id = ?1", [op.op_id.to_string()])?;
                self.receive(&op)?;
            }
        }
        Ok(())
    }

    fn receive(&mut self, op: &WireOp) -> Result<()> {
        let hash = op.content_hash();
        let op_id = op.op_id.to_string();
        let seen: Option<(String, String)> = self
            .tx
            .prepare_cached("SELECT content_hash, op FROM received_ops WHERE op_id = ?1")?
            .query_row([&op_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // A hash stored by an earlier Waymark may have been taken with another
        // key order; the op kept beside it, hashed now, is the fair comparison.
        let seen = seen.map(|(stored, text)| match serde_json::from_str::<WireOp>(&text) {
            Ok(kept) if stored != hash => kept.content_hash(),
            _ => stored,
        });
        // One of this laptop's own changes, back from the clinic under an
        // earlier identity (it enrolled again after a restore): the same
        // change, whatever slot carried it, is nothing new.
        let own = own_ops(self.tx, "FROM ops WHERE op_id = ?1", [&op_id], op.origin, 0)?.pop();
        if own.as_ref().is_some_and(|own| own.meaning_hash() == op.meaning_hash()) {
            self.report.duplicates += 1;
            return Ok(());
        }
        let own = own.is_some();
        let op_text = serde_json::to_string(op).map_err(|_| VaultError::DatabaseUnreadable)?;
        match seen {
            Some(h) if h == hash => {
                self.report.duplicates += 1;
                return Ok(());
            }
            Some(_) => return self.quarantine(op, &op_text, &ProblemCode::SameIdDifferentContent),
            None if own => return self.quarantine(op, &op_text, &ProblemCode::SameIdDifferentContent),
            None => {}
        }
        let observed =
            self.hlc.observe(&op.hlc.parse().unwrap_or(waymark_domain::hlc::Hlc::zero(self.hlc.device)), self.now_ms);
        self.hlc = observed.hlc;
        if let Some(drift) = observed.drift_ms {
            self.report.drift_ms = Some(self.report.drift_ms.unwrap_or(0).max(drift));
        }
        let state = if op.schema_version > crate::db::schema_version() {
            self.report.held += 1;
            "held"
        } else {
            match self.apply_alone(op)? {
                Applied::Done => {
                    self.report.applied += 1;
                    "applied"
                }
                Applied::Failed(code) => {
                    self.report.failed += 1;
                    self.tx.execute(
                        "INSERT INTO sync_problems (at, code, direction, op_id, seq, op) VALUES (?1, ?2, 'down', ?3, ?4, ?5)",
                        params![self.now.to_rfc3339(), code.wire(), op_id, i64::try_from(op.seq).unwrap_or(0), op_text],
                    )?;
                    "failed"
                }
            }
        };
        self.tx.execute(
            "INSERT INTO received_ops (op_id, origin, seq, content_hash, op, received_at, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![op_id, op.origin.to_string(), i64::try_from(op.seq).unwrap_or(0), hash, op_text, self.now.to_rfc3339(), state],
        )?;
        Ok(())
    }

    fn quarantine(&mut self, op: &WireOp, op_text: &str, code: &ProblemCode) -> Result<()> {
        self.report.quarantined += 1;
        tracing::warn!(op = %op.op_id, origin = %op.origin, "an op arrived again with different content; quarantined");
        self.tx.execute(
            "INSERT INTO sync_problems (at, code, direction, op_id, seq, op) VALUES (?1, ?2, 'down', ?3, ?4, ?5)",
            params![
                self.now.to_rfc3339(),
                code.wire(),
                op.op_id.to_string(),
                i64::try_from(op.seq).unwrap_or(0),
                op_text
            ],
        )?;
        Ok(())
    }

    /// Applies one op inside its own savepoint. An op that clashes with a
    /// record held here (a second victim for a case, a safety plan version
    /// made on two laptops) is undone alone and listed as failed, with its
    /// text kept; it must not roll back the whole pull, or every later sync
    /// would stop at the same op and the laptop would never catch up.
    fn apply_alone(&mut self, op: &WireOp) -> Result<Applied> {
        self.tx.execute_batch("SAVEPOINT apply_op")?;
        let applied = match self.apply(op) {
            Err(VaultError::Clash) => {
                self.tx.execute_batch("ROLLBACK TO apply_op")?;
                Applied::Failed(ProblemCode::ClashesWithLocal)
            }
            Err(e) => {
                self.tx.execute_batch("ROLLBACK TO apply_op; RELEASE apply_op")?;
                return Err(e);
            }
            // Whatever it touched before failing (heads, conflicts) is undone with it.
            Ok(Applied::Failed(code)) => {
                self.tx.execute_batch("ROLLBACK TO apply_op")?;
                Applied::Failed(code)
            }
            Ok(applied) => applied,
        };
        self.tx.execute_batch("RELEASE apply_op")?;
        if matches!(applied, Applied::Done) && op.kind == RecordKind::Case.wire() {
            self.flag_shared_reference(op)?;
        }
        Ok(applied)
    }

    /// Lists a case that now shares its reference with another case here,
    /// so a person renames one; both cases are kept.
    fn flag_shared_reference(&mut self, op: &WireOp) -> Result<()> {
        // One open problem per case, however many of its ops arrive.
        let shared: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM cases a JOIN cases b ON b.reference = a.reference AND b.id <> a.id WHERE a.id = ?1
                   AND NOT EXISTS (SELECT 1 FROM sync_problems p JOIN received_ops r ON r.op_id = p.op_id
                                   WHERE p.code = 'duplicate_reference' AND p.resolved_at IS NULL
                                     AND json_extract(r.op, '$.record_id') = ?1)",
            )?
            .query_row([op.record_id.to_string()], |r| r.get(0))?;
        if shared > 0 {
            tracing::warn!(record = %op.record_id, "a case from the clinic has the same reference as another case here; both kept");
            self.tx.execute(
                "INSERT INTO sync_problems (at, code, direction, op_id, seq) VALUES (?1, 'duplicate_reference', 'down', ?2, ?3)",
                params![self.now.to_rfc3339(), op.op_id.to_string(), i64::try_from(op.seq).unwrap_or(0)],
            )?;
        }
        Ok(())
    }

    fn apply(&mut self, op: &WireOp) -> Result<Applied> {
        let Some(kind) = RecordKind::from_wire(&op.kind) else { return Ok(Applied::Failed(ProblemCode::UnknownKind)) };
        let new = &op.changes.new;
        // Entries an older Waymark sent without ids get the ids every device derives for them.
        let identified;
        let new = if kind.rules().keyed.is_empty() {
            new
        } else {
            let mut copy = new.clone();
            waymark_domain::merge::identify_keyed_lists(kind, op.record_id, &mut copy);
            identified = copy;
            &identified
        };
        let old = op.changes.old.as_ref();
        let resolves: Vec<&str> = op.changes.resolves().iter().map(String::as_str).collect();
        let record_id = op.record_id.to_string();
        let existing: Option<(String, String)> = self
            .tx
            .prepare_cached(&format!("SELECT doc, updated_hlc FROM {} WHERE id = ?1", kind.table()))?
            .query_row([&record_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // Only the clinic moves a case or writes what the clinic owns; a
        // laptop may name its own advocate only on a case it creates.
        if self.clinic != Some(op.origin) {
            let creating = op.action == OpAction::Create && existing.is_none();
            // A new record's document carries every field; unset ones are null.
            let owned_field =
                kind.rules().clinic_owned.iter().any(|f| new.get(*f).is_some_and(|v| !(creating && v.is_null())));
            let own_new_case = creating && kind == RecordKind::Case;
            if kind.rules().clinic_only || (owned_field && !own_new_case) {
                return Ok(Applied::Failed(ProblemCode::ClinicOwned));
            }
        }
        let Some((doc_text, record_hlc)) = existing else {
            // The clinic tells every laptop of the old advocate that a case moved
            // away, including one that never held it: nothing to apply.
            let moved_away = self.clinic == Some(op.origin)
                && kind == RecordKind::Case
                && new.get("advocate").and_then(Value::as_str).is_some_and(|a| a != self.actor);
            if op.action == OpAction::Update && moved_away {
                return Ok(Applied::Done);
            }
            if op.action == OpAction::Update {
                return Ok(Applied::Failed(ProblemCode::UnknownRecord));
            }
            let doc = Value::Object(new.clone());
            let Ok(record) = Record::from_doc(kind, doc.clone()) else {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            };
            if record.id() != op.record_id {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            if record.case_id().map(|c| c.as_uuid()) != op.case_id {
                return Ok(Applied::Failed(ProblemCode::CaseMismatch));
            }
            if record.validate(self.ctx).is_err() {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            match check_references(self.tx, &record) {
                Ok(()) => {}
                Err(VaultError::Invalid(_)) => return Ok(Applied::Failed(ProblemCode::UnknownRecord)),
                Err(e) => return Err(e),
            }
            self.tx
                .prepare_cached(&format!("INSERT INTO {} (id, doc, updated_hlc) VALUES (?1, ?2, ?3)", kind.table()))?
                .execute(params![record_id, doc.to_string(), op.hlc])?;
            crate::clocks::set(self.tx, &record_id, new.keys().map(String::as_str), &op.hlc, &op.op_id.to_string())?;
            self.audit(op, kind, new.keys().map(String::as_str).collect())?;
            return Ok(Applied::Done);
        };
        if !kind.is_mutable() {
            return Ok(Applied::Failed(ProblemCode::Immutable));
        }
        let mut doc: Value = serde_json::from_str(&doc_text).map_err(|_| VaultError::DatabaseUnreadable)?;
        // An op must name the case its record belongs to here: otherwise a
        // writer could aim at one case and land in another's record.
        let stored_case = if kind == RecordKind::Case {
            Some(op.record_id)
        } else {
            doc.get("case_id").and_then(Value::as_str).and_then(|c| c.parse::<Uuid>().ok())
        };
        if stored_case != op.case_id {
            return Ok(Applied::Failed(ProblemCode::CaseMismatch));
        }
        let op_id = op.op_id.to_string();
        // Each written field with the clock its value now carries.
        let mut written: Vec<(&str, String, String)> = Vec::new();
        for (field, value) in new {
            if field == "id" || field == "case_id" {
                continue;
            }
            let local = doc.get(field).cloned().unwrap_or(Value::Null);
            let clock =
                crate::clocks::of_field(self.tx, &record_id, field)?.unwrap_or((record_hlc.clone(), String::new()));
            let named: Option<Vec<&str>> =
                op.changes.base_of(field).map(|ids| ids.iter().map(String::as_str).collect());
            let old_value = old.and_then(|o| o.get(field)).or(if op.action == OpAction::Create {
                None
            } else {
                Some(&Value::Null)
            });
            let class = field_class(kind, field);
            if matches!(class, FieldClass::SafetyCritical | FieldClass::Set | FieldClass::Keyed) {
                let incoming =
                    Incoming { op, kind, class, named: named.as_deref(), old: old_value, value, resolves: &resolves };
                let shown = self.settle_heads(&incoming, &record_id, field, &local, &clock)?;
                doc[field.as_str()] = shown.value;
                written.push((field.as_str(), shown.hlc, shown.op_id));
                continue;
            }
            // Two ops can carry one HLC (a restored copy ticking from the same
            // clock); the op id after it orders them the same way everywhere.
            let (local_order, remote_order) = (format!("{} {}", clock.0, clock.1), format!("{} {op_id}", op.hlc));
            let outcome = merge_field(FieldChange {
                class,
                local: &local,
                local_hlc: &local_order,
                old: old_value,
                new: value,
                remote_hlc: &remote_order,
                successor: named.map(|n| n.contains(&clock.1.as_str())),
            });
            if let FieldOutcome::Take(v) = outcome {
                doc[field.as_str()] = v;
                written.push((field.as_str(), op.hlc.clone(), op_id.clone()));
            }
        }
        if !written.is_empty() {
            let Ok(record) = Record::from_doc(kind, doc.clone()) else {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            };
            if record.validate(self.ctx).is_err() {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            let updated = if op.hlc > record_hlc { op.hlc.clone() } else { record_hlc.clone() };
            self.tx
                .prepare_cached(&format!("UPDATE {} SET doc = ?2, updated_hlc = ?3 WHERE id = ?1", kind.table()))?
                .execute(params![record_id, doc.to_string(), updated])?;
            for (field, hlc, by) in &written {
                crate::clocks::set(self.tx, &record_id, [*field], hlc, by)?;
            }
        }
        self.audit(op, kind, written.iter().map(|w| w.0).collect())?;
        Ok(Applied::Done)
    }

    /// Merges a received write into a field's heads (see `heads.rs`) and
    /// returns what is shown. For a safety-critical field, several heads with
    /// different values are one conflict, the same on every device; for a
    /// set, the heads' values merge (`merge_set_heads`).
    fn settle_heads(
        &mut self,
        incoming: &Incoming<'_>,
        record_id: &str,
        field: &str,
        local: &Value,
        clock: &(String, String),
    ) -> Result<Head> {
        let op = incoming.op;
        let op_id = op.op_id.to_string();
        let heads = crate::heads::current(self.tx, record_id, field, local, clock)?;
        // An op from an older Waymark (or the clinic) names no base: it
        // replaces the heads when it decides their conflict, or when it
        // changed the one value held here.
        let decides = incoming.resolves.iter().any(|r| self.is_conflict_for(r, record_id, field));
        let single = heads.len() == 1;
        let replaced = |h: &Head| {
            h.op_id.is_empty()
                || match incoming.named {
                    Some(named) => named.contains(&h.op_id.as_str()),
                    None => decides || (single && incoming.old == Some(&h.value)),
                }
        };
        // Two decisions of one conflict made at once: the later stands
        // everywhere. An earlier decision arriving late changes nothing, even
        // if the later one has since been edited over; a later one replaces
        // the earlier wherever that is still a head.
        let mut earlier_decisions: Vec<String> = Vec::new();
        if !incoming.resolves.is_empty() && incoming.class == FieldClass::SafetyCritical {
            let latest = crate::heads::latest_decision(self.tx, incoming.resolves, &op_id)?;
            if latest.as_ref().is_some_and(|l| *l > op.hlc) {
                let shown = heads
                    .iter()
                    .max_by(|a, b| a.order().cmp(&b.order()))
                    .cloned()
                    .ok_or(VaultError::DatabaseUnreadable)?;
                return Ok(shown);
            }
            for head in &heads {
                let decided = crate::heads::resolves_of(self.tx, &head.op_id)?;
                if decided.iter().any(|d| incoming.resolves.contains(&d.as_str())) {
                    earlier_decisions.push(head.op_id.clone());
                }
            }
        }
        let mut next: Vec<Head> =
            heads.iter().filter(|h| !replaced(h) && !earlier_decisions.contains(&h.op_id)).cloned().collect();
        next.push(Head { op_id: op_id.clone(), hlc: op.hlc.clone(), value: incoming.value.clone() });
        let shown = crate::heads::store(self.tx, record_id, field, &next)?;
        if matches!(incoming.class, FieldClass::Set | FieldClass::Keyed) {
            if next.len() == 1 {
                return Ok(shown);
            }
            let mut olds = Vec::with_capacity(next.len());
            for head in &next {
                olds.push(if head.op_id == op_id {
                    incoming.old.cloned()
                } else {
                    crate::heads::old_of(self.tx, &head.op_id, field)?
                });
            }
            let value = if incoming.class == FieldClass::Keyed {
                let record: Uuid = record_id.parse().map_err(|_| VaultError::DatabaseUnreadable)?;
                let orders: Vec<String> = next.iter().map(|h| format!("{} {}", h.hlc, h.op_id)).collect();
                let triples: Vec<(&Value, Option<&Value>, &str)> = next
                    .iter()
                    .zip(&olds)
                    .zip(&orders)
                    .map(|((h, o), order)| (&h.value, o.as_ref(), order.as_str()))
                    .collect();
                waymark_domain::merge::merge_keyed_heads(record, field, &triples)
            } else {
                let pairs: Vec<(&Value, Option<&Value>)> =
                    next.iter().zip(&olds).map(|(h, o)| (&h.value, o.as_ref())).collect();
                waymark_domain::merge::merge_set_heads(&pairs)
            };
            return Ok(Head { value, ..shown });
        }
        let disagree = next.iter().any(|h| h.value != shown.value);
        if !disagree {
            crate::heads::close_open(self.tx, record_id, field, None, self.now, &op.actor, "remote")?;
            return Ok(shown);
        }
        let ids: Vec<&str> = next.iter().map(|h| h.op_id.as_str()).collect();
        let id = crate::heads::conflict_id_of(&ids, field);
        crate::heads::close_open(self.tx, record_id, field, Some(&id), self.now, &op.actor, "remote")?;
        // The list shows this device's own write as "local" and the latest other as "remote".
        let mut own = None;
        for head in &next {
            if crate::heads::is_own(self.tx, &head.op_id)?
                && own.as_ref().is_none_or(|o: &Head| head.order() > o.order())
            {
                own = Some(head.clone());
            }
        }
        let mine = own.unwrap_or_else(|| shown.clone());
        let Some(theirs) = next.iter().filter(|h| h.op_id != mine.op_id).max_by(|a, b| a.order().cmp(&b.order()))
        else {
            return Ok(shown);
        };
        let actor = if theirs.op_id == op_id { op.actor.clone() } else { self.actor_of(&theirs.op_id)? };
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO sync_conflicts (id, kind, record_id, case_id, field, local_value, local_hlc, local_op,
                 remote_value, remote_hlc, remote_op, remote_actor, detected_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                incoming.kind.wire(),
                record_id,
                op.case_id.map(|c| c.to_string()),
                field,
                mine.value.to_string(),
                mine.hlc,
                mine.op_id,
                theirs.value.to_string(),
                theirs.hlc,
                theirs.op_id,
                actor,
                self.now.to_rfc3339()
            ],
        )?;
        if inserted > 0 {
            self.report.conflicts += 1;
            tracing::warn!(kind = incoming.kind.wire(), record = %op.record_id, field, "a safety-critical field was changed on two devices; kept both for a decision");
        }
        Ok(shown)
    }

    /// Who made a write this device holds: its own staff code, or the sender's of a received op.
    fn actor_of(&self, op_id: &str) -> Result<String> {
        if crate::heads::is_own(self.tx, op_id)? {
            return Ok(self.actor.to_owned());
        }
        let actor: Option<String> = self
            .tx
            .prepare_cached("SELECT json_extract(op, '$.actor') FROM received_ops WHERE op_id = ?1")?
            .query_row([op_id], |r| r.get(0))
            .optional()?;
        Ok(actor.unwrap_or_default())
    }

    fn is_conflict_for(&self, id: &str, record_id: &str, field: &str) -> bool {
        self.tx
            .query_row(
                "SELECT count(*) FROM sync_conflicts WHERE id = ?1 AND record_id = ?2 AND field = ?3",
                params![id, record_id, field],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .unwrap_or(false)
    }

    fn audit(&self, op: &WireOp, kind: RecordKind, fields: Vec<&str>) -> Result<()> {
        audit::append(
            self.tx,
            &AuditEntry {
                at: self.now,
                actor: self.actor,
                action: AuditAction::SyncApplied,
                kind: Some(kind.wire()),
                record_id: Some(op.record_id.to_string()),
                case_id: op.case_id.map(|c| c.to_string()),
                detail: json!({ "op": op.op_id.to_string(), "origin": op.origin.to_string(), "by": op.actor, "fields": fields }),
            },
        )?;
        Ok(())
    }
}
