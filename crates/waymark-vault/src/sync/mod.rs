//! The vault's side of sync: the link to the clinic and the device keys, the
//! outbox as wire ops, durable acknowledgements, and merging ops that came
//! from the clinic. Network code lives in `waymark-sync`; this is only state,
//! and every change to it is one transaction.

use crate::audit::{self, AuditAction, AuditEntry};
use crate::error::{Result, VaultError};
use crate::heads::Head;
pub use crate::problems::{Flow, ProblemCode};
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

pub(super) const LINK: &str = "sync_link";
pub(super) const KEYS: &str = "sync_keys";
pub(super) const PENDING_KEYS: &str = "sync_pending_keys";
pub(super) const PENDING_DEVICE: &str = "sync_pending_device";
/// The local op sequence just before this enrolment's first: the clinic
/// numbers a device's ops from 1, and a vault that enrolled again (after a
/// restore) has ops from before. Wire sequence = local sequence − base.
pub(super) const SEQ_BASE: &str = "sync_seq_base";
pub(super) const ACKED: &str = "sync_acked_through";
pub(super) const CURSOR: &str = "sync_pull_cursor";
pub(super) const LAST_OK: &str = "sync_last_ok_at";
pub(super) const LAST_ATTEMPT: &str = "sync_last_attempt_at";
pub(super) const LAST_ERROR: &str = "sync_last_error";
pub(super) const DRIFT: &str = "sync_drift_ms";
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

impl Resolution {
    /// The name stored with a closed conflict.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Local => "local",
            Resolution::Remote => "remote",
        }
    }
}

/// Something sync will not decide alone and will never drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Problem {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub code: ProblemCode,
    pub direction: Flow,
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
    /// Cases the clinic erased, erased here.
    pub erased: u32,
    pub drift_ms: Option<u64>,
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| VaultError::DatabaseUnreadable)
}

pub(super) fn meta_u64(conn: &Connection, key: &str) -> Result<u64> {
    Ok(meta_get(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

pub(super) fn meta_time(conn: &Connection, key: &str) -> Result<Option<DateTime<Utc>>> {
    meta_get(conn, key)?.map(|t| parse_time(&t)).transpose()
}

pub(super) fn keys_from_meta(conn: &Connection, key: &str) -> Result<Option<DeviceKeys>> {
    let Some(text) = meta_get(conn, key)? else { return Ok(None) };
    let parsed: SecretKeysText = serde_json::from_str(&text).map_err(|_| VaultError::DatabaseUnreadable)?;
    Ok(Some(DeviceKeys::from_text(&parsed).map_err(|_| VaultError::DatabaseUnreadable)?))
}

/// The same conflict gets the same id on both devices: it is made from the
/// two ops that disagree, in a fixed order, and the field.
pub fn conflict_id(op_a: &str, op_b: &str, field: &str) -> String {
    crate::heads::conflict_id_of(&[op_a, op_b], field)
}

mod apply;
mod decisions;
mod erase;
pub use erase::TOMBSTONE;
mod link;
mod outbox;
mod wipe;

pub(crate) use self::apply::settle_shared_references;
use self::apply::{Applied, ApplyState};
pub use self::wipe::wiped_notice;
