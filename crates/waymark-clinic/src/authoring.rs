//! The clinic's own changes: a panel review (with SRP judgements and agreed
//! actions) and a case reassignment. They are ops from the clinic, checked by
//! the same domain rules as a laptop's, stored in the feed and pulled by the
//! laptops of the case's advocate.

use crate::error::ClinicError;
use crate::store::{enrollable, ClinicStore, Decision, Origin, StaffRole};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;
use waymark_domain::hlc::Hlc;
use waymark_domain::patch::{NewRecord, Patch};
use waymark_domain::records::ServiceRules;
use waymark_domain::time::london_date;
use waymark_domain::{CaseId, DeviceId, Record, RecordKind};
use waymark_protocol::{OpAction, OpChanges, WireOp};

/// The schema version of the clinic's changes that need nothing newer (a
/// reassignment): the vault schema that first knew sync. A panel review is
/// written at the current schema, whose fields it always carries.
pub const CLINIC_SCHEMA_VERSION: u32 = 2;

/// What the clinic changes: one of its own ops, stored in the feed like a device's.
#[derive(Clone)]
pub(crate) struct ClinicChange<'a> {
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub case: Uuid,
    pub action: OpAction,
    pub changes: OpChanges,
    pub actor: &'a str,
}

/// Gives the change the clinic's next sequence and a clock past its last op, and stores it.
fn record_change(
    store: &dyn ClinicStore,
    clinic: Uuid,
    change: ClinicChange<'_>,
    schema: u32,
    now: DateTime<Utc>,
) -> Result<WireOp, ClinicError> {
    // Numbered outside the store's lock: when another of the clinic's changes
    // takes the number first, the store refuses this one whole and it is numbered again.
    let mut attempts = 0;
    loop {
        let op = numbered(store, clinic, vec![change.clone()], schema, now)?.remove(0);
        match store.store_batch(Origin::Clinic(clinic), Uuid::now_v7(), std::slice::from_ref(&op), now) {
            Ok(stored) if stored.inserted == 1 => return Ok(op),
            Ok(_) => return Err(ClinicError::ClinicBusy),
            Err(ClinicError::ClinicBusy) if attempts < CLINIC_WRITE_ATTEMPTS => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// How often a clinic change is numbered again when another took its number.
pub(crate) const CLINIC_WRITE_ATTEMPTS: u32 = 3;

/// Makes the clinic's ops of `changes`, in order: the clinic's next
/// sequence numbers and clocks past its last op and past every clock their
/// cases hold. Stored by the caller; `schema` is the newest record schema
/// any of them needs, so a laptop that does not know it holds them.
pub(crate) fn numbered(
    store: &dyn ClinicStore,
    clinic: Uuid,
    changes: Vec<ClinicChange<'_>>,
    schema: u32,
    now: DateTime<Utc>,
) -> Result<Vec<WireOp>, ClinicError> {
    let (mut seq, last) = store.last_op_of(clinic)?;
    // A released change keeps its laptop's clock; the clinic's own clock carries on from it as the clinic's.
    let last = last
        .and_then(|h| h.parse::<Hlc>().ok())
        .map_or(Hlc::zero(DeviceId(clinic)), |h| Hlc { device: DeviceId(clinic), ..h });
    let mut last = last;
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let mut ops = Vec::with_capacity(changes.len());
    for change in changes {
        // After every clock the case holds, too: a laptop may stamp up to an hour
        // ahead, and a move stamped before its ops would let them outrank it.
        let case_latest = store.case_latest_hlc(change.case)?.and_then(|h| h.parse::<Hlc>().ok());
        if let Some(latest) = case_latest.filter(|l| (l.wall_ms, l.counter) >= (last.wall_ms, last.counter)) {
            last = Hlc { wall_ms: latest.wall_ms, counter: latest.counter, device: DeviceId(clinic) };
        }
        last = last.tick(now_ms);
        seq += 1;
        ops.push(WireOp {
            op_id: Uuid::now_v7(),
            origin: clinic,
            seq,
            hlc: last.to_string(),
            made_at: now,
            actor: change.actor.to_owned(),
            kind: change.kind.wire().into(),
            record_id: change.record_id,
            case_id: Some(change.case),
            action: change.action,
            changes: change.changes,
            schema_version: schema,
        });
    }
    Ok(ops)
}

fn known_case(store: &dyn ClinicStore, case: Uuid) -> Result<String, ClinicError> {
    if store.case_erased(case)? {
        return Err(ClinicError::CaseErased);
    }
    store
        .case_advocate(case)?
        .ok_or(ClinicError::BadRequest("no laptop has sent that case to the clinic; check the case id"))
}

/// Erases a case everywhere: the clinic's `erase` op (which every laptop
/// acts on when it next pulls, and the clinic's copy of the records as it
/// follows the feed) and, in the same transaction, the clinic's own copies.
/// Whether the case may be erased (closed, due or asked for, not held) is
/// the caller's to decide, from the records.
pub fn erase(
    store: &dyn ClinicStore,
    clinic: Uuid,
    case: Uuid,
    actor: &str,
    reason: waymark_domain::ErasureReason,
    now: DateTime<Utc>,
) -> Result<crate::store::ErasedAtClinic, ClinicError> {
    known_case(store, case)?;
    let change = ClinicChange {
        kind: RecordKind::Case,
        record_id: case,
        case,
        action: OpAction::Erase,
        changes: OpChanges::default(),
        actor,
    };
    let mut attempts = 0;
    loop {
        // The erase op is schema 11. A laptop from before cannot read the action at all,
        // so every laptop must be updated before the first erasure (docs/sync-protocol.md).
        let op = numbered(store, clinic, vec![change.clone()], waymark_protocol::ERASE_SCHEMA_VERSION, now)?.remove(0);
        let erasure = crate::store::Erasure {
            case_id: case,
            erased_at: now,
            erased_by: actor.to_owned(),
            reason,
            op_id: op.op_id,
        };
        match store.erase_case(&erasure, &op, now) {
            Err(ClinicError::ClinicBusy) if attempts < CLINIC_WRITE_ATTEMPTS => attempts += 1,
            done => return done,
        }
    }
}

/// A panel review of a case, from `field=value` assignments (meeting_on,
/// agencies_present+=police, srp.<domain>.rating=…, actions:=[…]).
pub fn clinic_review(
    store: &dyn ClinicStore,
    service: &ServiceRules,
    clinic: Uuid,
    case: Uuid,
    actor: &str,
    fields: &[String],
    now: DateTime<Utc>,
) -> Result<WireOp, ClinicError> {
    known_case(store, case)?;
    let patch = Patch::parse(fields).map_err(|e| ClinicError::Invalid(e.to_string()))?;
    let id = Uuid::now_v7();
    let mut doc = (RecordKind::ClinicReview.rules().new_doc)(&NewRecord {
        id,
        case_id: Some(CaseId(case)),
        now,
        today: london_date(now),
        actor,
    });
    patch
        .apply(&mut doc, RecordKind::ClinicReview.rules().protected)
        .map_err(|e| ClinicError::Invalid(e.to_string()))?;
    let record = Record::from_doc(RecordKind::ClinicReview, doc).map_err(|e| ClinicError::Invalid(e.to_string()))?;
    record.validate(&service.ctx()).map_err(|e| ClinicError::Invalid(e.to_string()))?;
    let change = ClinicChange {
        kind: RecordKind::ClinicReview,
        record_id: id,
        case,
        action: OpAction::Create,
        changes: OpChanges::created(record.to_doc().as_object().cloned().unwrap_or_default()),
        actor,
    };
    // A review carries every field of record schema 9 (decisions, named owners), even when empty.
    record_change(store, clinic, change, waymark_protocol::SCHEMA_VERSION, now)
}

/// Moves a case to another advocate. The new advocate's laptops receive the
/// case's whole history with it; the old advocate's stop receiving changes.
pub fn reassign(
    store: &dyn ClinicStore,
    clinic: Uuid,
    case: Uuid,
    to: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<WireOp, ClinicError> {
    let to = to.trim();
    // Only a registered, active advocate can hold a case: their laptops receive it whole.
    enrollable(store.staff(to)?)?;
    let from = known_case(store, case)?;
    if from == to {
        return Err(ClinicError::BadRequest("the case is already assigned to that advocate"));
    }
    let change = ClinicChange {
        kind: RecordKind::Case,
        record_id: case,
        case,
        action: OpAction::Update,
        changes: OpChanges::updated(
            serde_json::Map::from_iter([("advocate".to_owned(), Value::String(to.to_owned()))]),
            serde_json::Map::from_iter([("advocate".to_owned(), Value::String(from))]),
        ),
        actor,
    };
    record_change(store, clinic, change, CLINIC_SCHEMA_VERSION, now)
}

/// Only an active administrator in the staff register decides on
/// quarantined changes or resets someone's sign-in.
pub(crate) fn administrator(store: &dyn ClinicStore, by: &str) -> Result<(), ClinicError> {
    match store.staff(by)? {
        Some(m) if m.active && m.role == StaffRole::Administrator => Ok(()),
        Some(m) if !m.active => Err(ClinicError::StaffInactive),
        Some(_) => Err(ClinicError::BadRequest("only an administrator does that")),
        None => Err(ClinicError::UnknownStaff),
    }
}

/// Lets a quarantined change into the feed, as the clinic's op carrying the
/// device's change unaltered (same op id, clock and actor), once the
/// authority rules accept it as from its device. For a change whose slot was
/// taken (a laptop restored from an old copy that never rejoined); a change
/// whose op id the feed holds with other content cannot be released.
pub fn release_quarantined(
    store: &dyn ClinicStore,
    service: &ServiceRules,
    clinic: Uuid,
    id: i64,
    by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<WireOp, ClinicError> {
    administrator(store, by)?;
    let held = store.quarantined_op(id)?.ok_or(ClinicError::NotQuarantined)?;
    let (seq, _) = store.last_op_of(clinic)?;
    let release = WireOp { origin: clinic, seq: seq + 1, ..held };
    store.decide_quarantined(id, Decision { by, reason, release: Some(&release), service }, now)?;
    Ok(release)
}

/// Settles a quarantined change for good without letting it in. It stays kept.
pub fn discard_quarantined(
    store: &dyn ClinicStore,
    service: &ServiceRules,
    id: i64,
    by: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ClinicError> {
    administrator(store, by)?;
    store.decide_quarantined(id, Decision { by, reason, release: None, service }, now)
}
