//! The audit trail: append-only, hash-chained, covering views, prints and
//! exports as well as edits. Triggers refuse UPDATE and DELETE; the chain and
//! the head kept in `meta` catch anyone who drops the triggers first.

use crate::error::{Result, VaultError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_KEY: &str = "audit_head";

/// What an audit event records. Stored as its name, which the chain's hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    List,
    View,
    Print,
    Export,
    Restore,
    VaultCreated,
    VaultRekeyed,
    PassphraseChanged,
    PassphraseRecovered,
    RecoveryRecipientAdded,
    AddressInTextConfirmed,
    SyncEnrolled,
    SyncRejoined,
    SyncApplied,
    SyncProblemDismissed,
    SyncProblemRetried,
    ConflictResolved,
    /// A reminder put off on the home screen, until a date.
    ReminderSnoozed,
    /// A caseload brought in from a spreadsheet, or checked in a dry run (counts and rows, never values).
    Import,
    /// A case the clinic erased, erased here: its id, who erased it, and counts of what went.
    CaseErased,
    /// A subject access request recorded (the request's id, whose, when due).
    AccessRequested,
    /// One withheld item of a subject access export released (the request and the item's key).
    AccessReleased,
    /// One of the requester's own items withheld under an exemption (the request, the key, the reason's code).
    AccessWithheld,
    /// A subject access requester's identity checked (the request and the day).
    AccessIdentityChecked,
    /// Written by a newer Waymark.
    Unrecognised,
}

impl AuditAction {
    pub const ALL: [AuditAction; 26] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::List,
        AuditAction::View,
        AuditAction::Print,
        AuditAction::Export,
        AuditAction::Restore,
        AuditAction::VaultCreated,
        AuditAction::VaultRekeyed,
        AuditAction::PassphraseChanged,
        AuditAction::PassphraseRecovered,
        AuditAction::RecoveryRecipientAdded,
        AuditAction::AddressInTextConfirmed,
        AuditAction::SyncEnrolled,
        AuditAction::SyncRejoined,
        AuditAction::SyncApplied,
        AuditAction::SyncProblemDismissed,
        AuditAction::SyncProblemRetried,
        AuditAction::ConflictResolved,
        AuditAction::ReminderSnoozed,
        AuditAction::Import,
        AuditAction::CaseErased,
        AuditAction::AccessRequested,
        AuditAction::AccessReleased,
        AuditAction::AccessWithheld,
        AuditAction::AccessIdentityChecked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::List => "list",
            AuditAction::View => "view",
            AuditAction::Print => "print",
            AuditAction::Export => "export",
            AuditAction::Restore => "restore",
            AuditAction::VaultCreated => "vault_created",
            AuditAction::VaultRekeyed => "vault_rekeyed",
            AuditAction::PassphraseChanged => "passphrase_changed",
            AuditAction::PassphraseRecovered => "passphrase_recovered",
            AuditAction::RecoveryRecipientAdded => "recovery_recipient_added",
            AuditAction::AddressInTextConfirmed => "address_in_text_confirmed",
            AuditAction::SyncEnrolled => "sync_enrolled",
            AuditAction::SyncRejoined => "sync_rejoined",
            AuditAction::SyncApplied => "sync_applied",
            AuditAction::SyncProblemDismissed => "sync_problem_dismissed",
            AuditAction::SyncProblemRetried => "sync_problem_retried",
            AuditAction::ConflictResolved => "conflict_resolved",
            AuditAction::ReminderSnoozed => "reminder_snoozed",
            AuditAction::Import => "import",
            AuditAction::CaseErased => "case_erased",
            AuditAction::AccessRequested => "access_requested",
            AuditAction::AccessReleased => "access_released",
            AuditAction::AccessWithheld => "access_withheld",
            AuditAction::AccessIdentityChecked => "access_identity_checked",
            AuditAction::Unrecognised => "unrecognised",
        }
    }

    pub fn from_wire(text: &str) -> AuditAction {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text).unwrap_or(AuditAction::Unrecognised)
    }
}

/// One audited action. `detail` never holds personal data: field names,
/// document types and counts only.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub action: AuditAction,
    pub kind: Option<&'a str>,
    pub record_id: Option<String>,
    pub case_id: Option<String>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: AuditAction,
    pub kind: Option<String>,
    pub record_id: Option<String>,
    pub case_id: Option<String>,
    pub detail: serde_json::Value,
    pub hash: String,
}

fn hash_bytes(hex_hash: &str) -> Vec<u8> {
    hex::decode(hex_hash).unwrap_or_default()
}

/// The hash of one event: SHA-256 over the event and the previous event's hash
/// (all as hex text), so changing or removing any event breaks every later one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn chain_hash(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    kind: Option<&str>,
    record: Option<&str>,
    case: Option<&str>,
    detail: &str,
    prev: &str,
) -> String {
    let canonical = serde_json::json!([seq, at, actor, action, kind, record, case, detail, prev]).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

pub(crate) fn append(conn: &Connection, entry: &AuditEntry<'_>) -> Result<i64> {
    let head: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = head.map(|(s, h)| (s, hex::encode(h))).unwrap_or((0, GENESIS.to_owned()));
    let seq = prev_seq + 1;
    let at = entry.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let detail = entry.detail.to_string();
    let hash = chain_hash(
        seq,
        &at,
        entry.actor,
        entry.action.as_str(),
        entry.kind,
        entry.record_id.as_deref(),
        entry.case_id.as_deref(),
        &detail,
        &prev_hash,
    );
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, kind, record_id, case_id, detail, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        seq,
        at,
        entry.actor,
        entry.action.as_str(),
        entry.kind,
        entry.record_id,
        entry.case_id,
        detail,
        hash_bytes(&hash)
    ])?;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![HEAD_KEY, format!("{seq}:{hash}")])?;
    Ok(seq)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verified {
    pub events: i64,
    pub head: String,
}

/// Walks the whole chain. Reports the first row that fails by its number only.
pub fn verify(conn: &Connection) -> Result<Verified> {
    let mut stmt =
        conn.prepare("SELECT seq, at, actor, action, kind, record_id, case_id, detail, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1i64;
    let mut last_hash = GENESIS.to_owned();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        if seq != expected_seq {
            return Err(VaultError::AuditBroken(format!("event {expected_seq} is missing")));
        }
        let stored: String = hex::encode(r.get::<_, Vec<u8>>(8)?);
        let kind: Option<String> = r.get(4)?;
        let record: Option<String> = r.get(5)?;
        let case: Option<String> = r.get(6)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let action: String = r.get(3)?;
        let detail: String = r.get(7)?;
        let recomputed = chain_hash(
            seq,
            &at,
            &actor,
            &action,
            kind.as_deref(),
            record.as_deref(),
            case.as_deref(),
            &detail,
            &last_hash,
        );
        if recomputed != stored {
            return Err(VaultError::AuditBroken(format!("event {seq} was changed")));
        }
        last_hash = stored;
        expected_seq += 1;
    }
    let events = expected_seq - 1;
    let head: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [HEAD_KEY], |r| r.get(0)).optional()?;
    let expected_head = if events == 0 { None } else { Some(format!("{events}:{last_hash}")) };
    if head != expected_head {
        return Err(VaultError::AuditBroken("the latest events were removed".into()));
    }
    Ok(Verified { events, head: last_hash })
}

pub(crate) fn list(conn: &Connection, case_id: Option<&str>, limit: u32) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, kind, record_id, case_id, detail, hash FROM audit
         WHERE (?1 IS NULL OR case_id = ?1) ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![case_id, limit], |r| {
        let detail: String = r.get(7)?;
        Ok(AuditEvent {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: AuditAction::from_wire(&r.get::<_, String>(3)?),
            kind: r.get(4)?,
            record_id: r.get(5)?,
            case_id: r.get(6)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            hash: hex::encode(r.get::<_, Vec<u8>>(8)?),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod action_tests {
    use super::*;

    #[test]
    fn every_action_reads_back_as_itself() {
        // The name is what the chain hashes and what an older trail holds:
        // one that read back as another would misreport what happened.
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::from_wire(action.as_str()), action);
            assert_eq!(serde_json::to_value(action).unwrap(), serde_json::json!(action.as_str()));
        }
        assert_eq!(AuditAction::from_wire("wiped_by_a_newer_waymark"), AuditAction::Unrecognised);
    }
}
