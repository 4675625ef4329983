//! Who may write what. The clinic judges every op a laptop sends before it
//! enters the feed, from what the clinic itself holds: the advocate it bound
//! the device to at enrolment, the assignment of each case over time, and
//! the case each record belongs to. Nothing the laptop says about itself is
//! taken on trust. Each store calls `judge` inside the transaction that
//! stores the batch, so no reassignment can slip between the check and the write.
//!
//! The rules, in the order they are checked (the first broken one is the code):
//!
//! 1. The HLC is in the fixed form `wall-counter-origin`, names the sending
//!    device, another device the clinic bound to the same advocate (a laptop
//!    that rejoined after a restore sends the changes it made under its
//!    earlier identity) or an id the clinic never saw (a vault's id from
//!    before its first enrolment), never another advocate's device or the
//!    clinic, is at most `max_ahead_ms` ahead of the clinic's clock, and is
//!    after the HLC of the device's previous op (`bad_hlc`, `hlc_ahead`,
//!    `hlc_backwards`).
//! 2. `actor` is the advocate the device was enrolled for (`actor_mismatch`).
//! 3. The kind is known and not one only the clinic writes (`unknown_kind`, `clinic_owned`).
//! 4. A case op's `case_id` is its own id; an op on a known record carries
//!    that record's case; an update names a record the clinic holds
//!    (`case_mismatch`, `unknown_record`).
//! 5. No clinic-owned field is set, except `advocate` on a new case, which
//!    must be the sender's own advocate (`clinic_owned`).
//! 6. The case was assigned to the sender's advocate at the op's HLC: the
//!    assignment in force is the latest one whose HLC is not after the op's.
//!    So an op made on the old advocate's laptop before the reassignment's
//!    HLC is accepted, and one stamped after it is refused, even when the
//!    laptop had not yet heard of the move (`not_your_case`). A record with
//!    no case belongs to the advocate who created it.
//! 7. The op's schema is one this clinic reads (`newer_schema` otherwise:
//!    held, out of the feed, and let in by `ClinicStore::release_understood`
//!    when an updated clinic starts).
//! 8. The content keeps the domain rules, judged by the same code and the
//!    same service rules as the laptop's (`judge_content`): a new record
//!    reads as its kind, carries the op's ids and passes validation; an
//!    update names fields of its kind that an edit may set, each with a value
//!    of its type, and no update touches a kind that is corrected rather than
//!    edited (`invalid__<kind>__<field>`, naming the field and never the
//!    value). So a hand-made op is refused here rather than relayed to every
//!    laptop that pulls it. An update's rules that relate one field to
//!    another need the whole record, which the clinic does not yet project.

use crate::error::ClinicError;
use crate::store::{Origin, StoreResult};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;
use waymark_domain::hlc::Hlc;
use waymark_domain::records::ServiceRules;
use waymark_domain::{Record, RecordKind};
use waymark_protocol::{OpAction, OpRefusal, WireOp};

/// How far ahead of the clinic's clock a laptop's HLC may be. Laptop clocks
/// drift; one far ahead would win every last-writer-wins field everywhere.
pub const MAX_HLC_AHEAD_MS: u64 = 60 * 60 * 1000;

/// Where a record lives: its case (or none), and the advocate who created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHome {
    pub case_id: Option<Uuid>,
    pub owner: String,
}

/// What a store tells the judge, read inside its write transaction.
pub trait AuthorityView {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<RecordHome>>;
    /// The advocate a case was assigned to at `hlc`, or `None` when the case
    /// is unknown or was not yet assigned then.
    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>>;
    /// Whose clock an HLC's node is, as far as the clinic knows.
    fn clock_owner(&mut self, node: Uuid) -> StoreResult<ClockOwner>;
    /// Whether the clinic erased the case.
    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool>;
}

/// What a store has already told the judge while storing one batch, so it
/// asks once per clock node and per case rather than once per op. Neither
/// answer can change inside the batch's transaction: storing a batch adds no
/// device and no erasure, and the clock nodes asked about are never the
/// sender's own, the only origin the batch adds ops for. Record homes and
/// assignments do change as the batch's ops are stored, so they are asked
/// each time.
#[derive(Debug, Default)]
pub struct BatchMemo {
    clock_owners: std::collections::HashMap<Uuid, ClockOwner>,
    erased: std::collections::HashMap<Uuid, bool>,
}

impl BatchMemo {
    /// `view`, answering from this memo where it can.
    pub fn over<'a>(&'a mut self, view: &'a mut dyn AuthorityView) -> Remembering<'a> {
        Remembering { memo: self, view }
    }
}

/// A store's view through a `BatchMemo`.
pub struct Remembering<'a> {
    memo: &'a mut BatchMemo,
    view: &'a mut dyn AuthorityView,
}

impl AuthorityView for Remembering<'_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<RecordHome>> {
        self.view.record_home(record)
    }
    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        self.view.assignee_at(case, hlc)
    }
    fn clock_owner(&mut self, node: Uuid) -> StoreResult<ClockOwner> {
        if let Some(owner) = self.memo.clock_owners.get(&node) {
            return Ok(owner.clone());
        }
        let owner = self.view.clock_owner(node)?;
        self.memo.clock_owners.insert(node, owner.clone());
        Ok(owner)
    }
    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
        if let Some(erased) = self.memo.erased.get(&case) {
            return Ok(*erased);
        }
        let erased = self.view.case_erased(case)?;
        self.memo.erased.insert(case, erased);
        Ok(erased)
    }
}

/// Whether `op` is about a case the clinic erased: by its own `case_id`, or
/// by the case of the record it names. Its content is then never kept.
pub fn of_erased_case(op: &WireOp, view: &mut dyn AuthorityView) -> StoreResult<bool> {
    if let Some(case) = op.case_id {
        if view.case_erased(case)? {
            return Ok(true);
        }
    }
    match view.record_home(op.record_id)? {
        Some(RecordHome { case_id: Some(case), .. }) => view.case_erased(case),
        _ => Ok(false),
    }
}

/// Whose clock an HLC's node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockOwner {
    /// A confirmed device, bound to this advocate.
    Advocate(String),
    /// A device not confirmed, or an origin of ops in the feed that is no device (the clinic).
    Other,
    /// Nothing the clinic knows: a vault's id from before its first enrolment
    /// (every enrolment gives the vault a new device id).
    Unknown,
}

/// The sender as the clinic knows it.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub device: Uuid,
    /// The advocate bound at enrolment.
    pub advocate: &'a str,
    /// The HLC of the device's previous op, when it has sent one.
    pub previous_hlc: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub max_ahead_ms: u64,
    /// The service's rules and instruments, as its laptops have them.
    pub service: &'a ServiceRules,
    /// The newest op schema the clinic reads (`waymark_protocol::SCHEMA_VERSION`).
    pub schema: u32,
}

/// What an op is before any store is read: its canonical text and, for a
/// device's op, whether its content keeps the domain rules (rule 7). Both
/// depend on the op alone, so a push's are worked out, on every core, before
/// the batch waits its turn behind the device's batch before it and before
/// the store's write lock: that work overlaps the storing of the batch before.
pub struct Ready<'a> {
    pub op: &'a WireOp,
    pub text: Vec<u8>,
    /// Rule 7's verdict, when the batch is a device's.
    content: Option<Option<OpRefusal>>,
}

/// A batch's readied ops, in order, for the one origin they were readied for.
pub struct Readied<'a> {
    origin: Uuid,
    ops: Vec<Ready<'a>>,
}

impl<'a> Readied<'a> {
    /// The readied ops, when they were readied for `origin`'s id: a batch
    /// readied for one device is never stored as another's. (A clinic has one
    /// set of service rules for all its devices, and a clinic's own batch is
    /// never judged, so the id is what can differ.)
    pub fn for_origin(&self, origin: &Origin<'_>) -> StoreResult<&[Ready<'a>]> {
        if self.origin != origin.id() {
            return Err(ClinicError::Store("a batch readied for another sender".into()));
        }
        Ok(&self.ops)
    }
}

/// Below this many ops a batch is readied on the calling thread: handing a
/// few ops to the pool would cost more, and wait behind a large batch there.
const READY_ALONE: usize = 256;

/// Readies a batch's ops, in order.
pub fn ready<'a>(ops: &'a [WireOp], origin: &Origin<'_>) -> Readied<'a> {
    use rayon::prelude::*;
    let service = match origin {
        Origin::Device { service, .. } => Some(*service),
        Origin::Clinic(_) => None,
    };
    let one = |op: &'a WireOp| Ready { op, text: op.canonical_bytes(), content: service.map(|s| judge_content(op, s)) };
    let ops = if ops.len() < READY_ALONE {
        ops.iter().map(one).collect()
    } else {
        ops.par_iter().with_min_len(64).map(one).collect()
    };
    Readied { origin: origin.id(), ops }
}

/// The first rule `op` breaks, or `None` when the clinic accepts it. Who
/// may write comes first, so a refusal never says more about a record's
/// content to someone who may not write it.
pub fn judge(op: &WireOp, sender: &Sender<'_>, view: &mut dyn AuthorityView) -> StoreResult<Option<OpRefusal>> {
    judge_with(op, sender, view, || judge_content(op, sender.service))
}

/// `judge` of a readied op, with the content verdict it was readied with.
pub fn judge_ready(
    ready: &Ready<'_>,
    sender: &Sender<'_>,
    view: &mut dyn AuthorityView,
) -> StoreResult<Option<OpRefusal>> {
    judge_with(ready.op, sender, view, || match &ready.content {
        Some(verdict) => verdict.clone(),
        None => judge_content(ready.op, sender.service),
    })
}

fn judge_with(
    op: &WireOp,
    sender: &Sender<'_>,
    view: &mut dyn AuthorityView,
    content: impl FnOnce() -> Option<OpRefusal>,
) -> StoreResult<Option<OpRefusal>> {
    Ok(match judge_authority(op, sender, view)? {
        Some(refusal) => Some(refusal),
        // Content from a newer schema may hold fields this build does not know.
        None if op.schema_version > sender.schema => Some(OpRefusal::NewerSchema),
        None => content(),
    })
}

/// Rules 1 to 6: who may write this, there and then.
fn judge_authority(op: &WireOp, sender: &Sender<'_>, view: &mut dyn AuthorityView) -> StoreResult<Option<OpRefusal>> {
    // Only the clinic erases; an erased case takes nothing more, whoever sends it.
    if op.action == OpAction::Erase {
        return Ok(Some(OpRefusal::ClinicOwned));
    }
    if of_erased_case(op, view)? {
        return Ok(Some(OpRefusal::CaseErased));
    }
    if let Some(refusal) = judge_clock(op, sender, view)? {
        return Ok(Some(refusal));
    }
    if op.actor != sender.advocate {
        return Ok(Some(OpRefusal::ActorMismatch));
    }
    let Some(kind) = RecordKind::from_wire(&op.kind) else { return Ok(Some(OpRefusal::UnknownKind)) };
    if kind.rules().clinic_only {
        return Ok(Some(OpRefusal::ClinicOwned));
    }
    if kind == RecordKind::Case && op.case_id != Some(op.record_id) {
        return Ok(Some(OpRefusal::CaseMismatch));
    }
    let home = view.record_home(op.record_id)?;
    match &home {
        Some(home) if home.case_id != op.case_id => return Ok(Some(OpRefusal::CaseMismatch)),
        None if op.action == OpAction::Update => return Ok(Some(OpRefusal::UnknownRecord)),
        _ => {}
    }
    let creating = op.action == OpAction::Create && home.is_none();
    let new_case = kind == RecordKind::Case && creating;
    let new = Some(&op.changes.new);
    // The feed tells an old advocate's laptops of a move by `old.advocate`: only the clinic may say that.
    let old = op.changes.old.as_ref();
    if kind.rules().clinic_owned.iter().any(|f| old.is_some_and(|o| o.contains_key(*f))) {
        return Ok(Some(OpRefusal::ClinicOwned));
    }
    // A new case is its creator's: it must name the sender's own advocate.
    if new_case && new.and_then(|n| n.get("advocate")).and_then(Value::as_str) != Some(sender.advocate) {
        return Ok(Some(OpRefusal::ClinicOwned));
    }
    for field in kind.rules().clinic_owned {
        let Some(value) = new.and_then(|n| n.get(*field)) else { continue };
        // A new record's document carries every field; unset ones are null.
        let unset_on_create = creating && value.is_null();
        if !(unset_on_create || (new_case && *field == "advocate")) {
            return Ok(Some(OpRefusal::ClinicOwned));
        }
    }
    let allowed = match (op.case_id, &home) {
        (None, Some(home)) => home.owner == sender.advocate,
        (None, None) => true,
        (Some(_), _) if new_case => true,
        (Some(case), _) => view.assignee_at(case, &op.hlc)?.as_deref() == Some(sender.advocate),
    };
    Ok((!allowed).then_some(OpRefusal::NotYourCase))
}

/// Rule 7: whether the op's content keeps the domain rules. Pure: it reads
/// only the op, so a change an administrator would release is judged alike.
pub fn judge_content(op: &WireOp, service: &ServiceRules) -> Option<OpRefusal> {
    let kind = RecordKind::from_wire(&op.kind)?;
    // The code names a field of the kind, or none: a key the op made up could hold anything, a name even.
    let invalid = |field: &str| {
        let top = field.split(['.', '[']).next().unwrap_or_default();
        Some(OpRefusal::invalid(kind.wire(), if kind.rules().has_field(top) { top } else { "unknown_field" }))
    };
    let first_field = |e: &waymark_domain::ValidationErrors| e.0.first().map(|f| f.field.clone()).unwrap_or_default();
    match op.action {
        // Only the clinic sends one, and it carries no content to judge.
        OpAction::Erase => Some(OpRefusal::ClinicOwned),
        OpAction::Create => {
            let record = match Record::from_fields(kind, &op.changes.new) {
                Ok(record) => record,
                Err(e) => return invalid(&first_field(&e)),
            };
            if record.id() != op.record_id {
                return invalid("id");
            }
            if record.case_id().map(|c| c.as_uuid()) != op.case_id {
                return Some(OpRefusal::CaseMismatch);
            }
            record.validate(&service.ctx()).err().and_then(|e| invalid(&first_field(&e)))
        }
        OpAction::Update => {
            let rules = kind.rules();
            let mut fields = op.changes.new.keys();
            if !kind.is_mutable() {
                return invalid(fields.next().map_or("record", String::as_str));
            }
            if let Some(protected) = fields.find(|f| rules.protected.contains(&f.as_str())) {
                return invalid(protected);
            }
            Record::check_fields(kind, &op.changes.new).err().and_then(|e| invalid(&first_field(&e)))
        }
    }
}

/// Judges a quarantined change an administrator would release, as if its
/// device (bound to `advocate`, when the clinic knows it) sent it now.
pub fn judge_release(
    held: &WireOp,
    advocate: Option<&str>,
    now: DateTime<Utc>,
    service: &ServiceRules,
    view: &mut dyn AuthorityView,
) -> Result<(), ClinicError> {
    let advocate = advocate.ok_or_else(|| ClinicError::ReleaseRefused("unknown_device".into()))?;
    match judge_held(held, advocate, waymark_protocol::SCHEMA_VERSION, service, now, view)? {
        Some(refusal) => Err(ClinicError::ReleaseRefused(refusal.as_str().to_owned())),
        None => Ok(()),
    }
}

/// Judges again an op the clinic holds apart (quarantined, refused for its
/// content, held for a newer schema) as if its device, bound to `advocate`,
/// sent it now to a clinic reading schema `schema`. Its clock was judged when
/// it arrived and is not judged against newer ops again.
pub fn judge_held(
    held: &WireOp,
    advocate: &str,
    schema: u32,
    service: &ServiceRules,
    now: DateTime<Utc>,
    view: &mut dyn AuthorityView,
) -> StoreResult<Option<OpRefusal>> {
    let sender = Sender {
        device: held.origin,
        advocate,
        previous_hlc: None,
        now,
        max_ahead_ms: MAX_HLC_AHEAD_MS,
        service,
        schema,
    };
    Ok(judge(held, &sender, view)?.filter(|r| !matches!(r, OpRefusal::HlcAhead | OpRefusal::HlcBackwards)))
}

/// Rule 1: the op's clock.
fn judge_clock(op: &WireOp, sender: &Sender<'_>, view: &mut dyn AuthorityView) -> StoreResult<Option<OpRefusal>> {
    let Ok(hlc) = op.hlc.parse::<Hlc>() else { return Ok(Some(OpRefusal::BadHlc)) };
    // Only the canonical text sorts as the value does, and HLCs are compared as text.
    if hlc.to_string() != op.hlc || op.origin != sender.device {
        return Ok(Some(OpRefusal::BadHlc));
    }
    let node = hlc.device.as_uuid();
    // The sender's own clock, one it had under an earlier identity (the same
    // advocate's device, or an id the clinic never saw: ops made before the
    // first enrolment), but never another advocate's device or the clinic.
    let own_clock = node == sender.device
        || (!node.is_nil()
            && match view.clock_owner(node)? {
                ClockOwner::Advocate(advocate) => advocate == sender.advocate,
                ClockOwner::Unknown => true,
                ClockOwner::Other => false,
            });
    if !own_clock {
        return Ok(Some(OpRefusal::BadHlc));
    }
    let now_ms = u64::try_from(sender.now.timestamp_millis()).unwrap_or(0);
    if hlc.wall_ms > now_ms.saturating_add(sender.max_ahead_ms) {
        return Ok(Some(OpRefusal::HlcAhead));
    }
    if sender.previous_hlc.is_some_and(|previous| op.hlc.as_str() <= previous) {
        return Ok(Some(OpRefusal::HlcBackwards));
    }
    Ok(None)
}

/// Whether a refusal leaves the op's clock usable as the device's latest:
/// a refused clock must not become the bar the next honest op has to clear.
pub fn clock_counts(refusal: Option<&OpRefusal>) -> bool {
    !matches!(refusal, Some(OpRefusal::BadHlc | OpRefusal::HlcAhead | OpRefusal::HlcBackwards))
}

/// What an accepted op changes in the clinic's knowledge: the record's home
/// (first op wins; its owner is the sender's advocate, or the clinic) and,
/// when it sets `advocate` on a case, an assignment at its HLC.
pub fn learned(op: &WireOp, origin: &Origin<'_>) -> (RecordHome, Option<(Uuid, String)>) {
    let owner = match origin {
        Origin::Clinic(_) => "clinic",
        Origin::Device { advocate, .. } => advocate,
    };
    let home = RecordHome { case_id: op.case_id, owner: owner.to_owned() };
    let assignment = crate::store::advocate_of(op).zip(op.case_id).map(|(advocate, case)| (case, advocate.to_owned()));
    (home, assignment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::HashMap;

    #[derive(Default)]
    struct View {
        homes: HashMap<Uuid, RecordHome>,
        assignments: Vec<(Uuid, String, String)>,
        devices: HashMap<Uuid, String>,
        erased: Vec<Uuid>,
    }

    impl AuthorityView for View {
        fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
            Ok(self.erased.contains(&case))
        }
        fn record_home(&mut self, record: Uuid) -> StoreResult<Option<RecordHome>> {
            Ok(self.homes.get(&record).cloned())
        }
        fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
            Ok(self
                .assignments
                .iter()
                .filter(|(c, at, _)| *c == case && at.as_str() <= hlc)
                .max_by(|a, b| a.1.cmp(&b.1))
                .map(|a| a.2.clone()))
        }
        fn clock_owner(&mut self, node: Uuid) -> StoreResult<ClockOwner> {
            Ok(self.devices.get(&node).cloned().map_or(ClockOwner::Unknown, ClockOwner::Advocate))
        }
    }

    const DEVICE: Uuid = Uuid::from_u128(1);
    const CASE: Uuid = Uuid::from_u128(10);
    const WALL: u64 = 1_795_000_000_000;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(i64::try_from(WALL).unwrap()).unwrap()
    }

    fn hlc(wall: u64) -> String {
        format!("{wall:015}-{:010}-{DEVICE}", 0)
    }

    fn op(kind: &str, record: u128, action: OpAction, new: Value) -> WireOp {
        WireOp {
            op_id: Uuid::now_v7(),
            origin: DEVICE,
            seq: 1,
            hlc: hlc(WALL - 1000),
            made_at: now(),
            actor: "ISA01".into(),
            kind: kind.into(),
            record_id: Uuid::from_u128(record),
            case_id: Some(CASE),
            action,
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({ "new": new })).unwrap(),
            schema_version: 2,
        }
    }

    fn sender(previous: Option<&str>) -> Sender<'_> {
        Sender {
            device: DEVICE,
            advocate: "ISA01",
            previous_hlc: previous,
            now: now(),
            max_ahead_ms: MAX_HLC_AHEAD_MS,
            service: shipped(),
            schema: waymark_protocol::SCHEMA_VERSION,
        }
    }

    fn shipped() -> &'static ServiceRules {
        static SHIPPED: std::sync::OnceLock<ServiceRules> = std::sync::OnceLock::new();
        SHIPPED.get_or_init(ServiceRules::shipped)
    }

    /// The authority rules alone: these ops carry only the fields each rule reads.
    fn verdict(op: &WireOp, view: &mut View) -> Option<OpRefusal> {
        judge_authority(op, &sender(None), view).unwrap()
    }

    fn assigned(to: &str, at: u64) -> View {
        let mut view = View::default();
        view.homes.insert(CASE, RecordHome { case_id: Some(CASE), owner: "ISA01".into() });
        view.assignments.push((CASE, format!("{at:015}-{:010}-{}", 0, Uuid::from_u128(0xC11)), to.into()));
        view
    }

    /// A view that counts what it is asked.
    #[derive(Default)]
    struct Counting {
        view: View,
        asked: HashMap<&'static str, usize>,
    }

    impl AuthorityView for Counting {
        fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
            *self.asked.entry("erased").or_default() += 1;
            self.view.case_erased(case)
        }
        fn record_home(&mut self, record: Uuid) -> StoreResult<Option<RecordHome>> {
            *self.asked.entry("home").or_default() += 1;
            self.view.record_home(record)
        }
        fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
            *self.asked.entry("assignee").or_default() += 1;
            self.view.assignee_at(case, hlc)
        }
        fn clock_owner(&mut self, node: Uuid) -> StoreResult<ClockOwner> {
            *self.asked.entry("clock").or_default() += 1;
            self.view.clock_owner(node)
        }
    }

    #[test]
    fn a_batch_asks_once_per_clock_node_and_case_and_gets_the_same_verdicts() {
        // Why: the store is asked inside the write lock for every op of a
        // 2,000-op batch; answers that cannot change within the batch are
        // asked once, and the verdicts must be the ones asking each time gives.
        let earlier = Uuid::from_u128(7);
        let erased_case = Uuid::from_u128(11);
        let mut base = assigned("ISA01", WALL - 5000);
        base.devices.insert(earlier, "ISA01".into());
        base.erased.push(erased_case);
        let mut ops = Vec::new();
        for n in 0..6u64 {
            let mut incident = op("incident", 100 + u128::from(n), OpAction::Create, serde_json::json!({}));
            incident.hlc = format!("{:015}-{:010}-{earlier}", WALL - 1000 + n, 0);
            ops.push(incident);
        }
        let mut on_erased = op("incident", 200, OpAction::Create, serde_json::json!({}));
        on_erased.case_id = Some(erased_case);
        ops.push(on_erased.clone());
        ops.push(on_erased);
        let mut counting = Counting { view: base, asked: HashMap::new() };
        let mut memo = BatchMemo::default();
        let mut remembered = Vec::new();
        for op in &ops {
            let mut view = memo.over(&mut counting);
            remembered
                .push((of_erased_case(op, &mut view).unwrap(), judge_authority(op, &sender(None), &mut view).unwrap()));
        }
        assert_eq!(counting.asked.get("clock"), Some(&1), "one clock node, asked once: {:?}", counting.asked);
        assert_eq!(counting.asked.get("erased"), Some(&2), "two cases, each asked once: {:?}", counting.asked);
        assert!(counting.asked.get("home").is_some_and(|n| *n >= ops.len()), "homes change as ops are stored");
        let mut fresh = counting.view;
        let asked_each_time: Vec<_> = ops
            .iter()
            .map(|op| {
                (of_erased_case(op, &mut fresh).unwrap(), judge_authority(op, &sender(None), &mut fresh).unwrap())
            })
            .collect();
        assert_eq!(remembered, asked_each_time);
        assert_eq!(remembered[0], (false, None), "an op on the sender's earlier clock is accepted");
        assert!(remembered[7].0, "an op on an erased case is seen as one");
    }

    #[test]
    fn a_new_case_is_the_senders_only_when_it_names_the_sender() {
        // Why: the advocate on a new case decides whose laptops receive it.
        let mut view = View::default();
        assert_eq!(
            verdict(&op("case", 10, OpAction::Create, serde_json::json!({"advocate": "ISA01"})), &mut view),
            None
        );
        let for_another = op("case", 10, OpAction::Create, serde_json::json!({"advocate": "ISA02"}));
        assert_eq!(verdict(&for_another, &mut view), Some(OpRefusal::ClinicOwned));
        let for_nobody = op("case", 10, OpAction::Create, serde_json::json!({"reference": "C1"}));
        assert_eq!(verdict(&for_nobody, &mut view), Some(OpRefusal::ClinicOwned));
    }

    #[test]
    fn only_the_clinic_erases_and_an_erased_case_takes_nothing_more_from_anyone() {
        // Why: an erasure must not be forged by a laptop, and a laptop that has
        // not yet heard of one must not bring the case's content back.
        let mut view = assigned("ISA01", WALL - 5000);
        let forged = WireOp { case_id: Some(CASE), ..op("case", 10, OpAction::Erase, serde_json::json!({})) };
        assert_eq!(verdict(&forged, &mut view), Some(OpRefusal::ClinicOwned), "its own advocate may not erase a case");
        let note = op("case", 10, OpAction::Update, serde_json::json!({"persistently_targeted": true}));
        assert_eq!(verdict(&note, &mut view), None);
        view.erased.push(CASE);
        assert_eq!(verdict(&note, &mut view), Some(OpRefusal::CaseErased));
        // A record of the case named without its case id is found by its home.
        view.homes.insert(Uuid::from_u128(30), RecordHome { case_id: Some(CASE), owner: "ISA01".into() });
        let hidden = WireOp { case_id: None, ..op("incident", 30, OpAction::Update, serde_json::json!({})) };
        assert_eq!(verdict(&hidden, &mut view), Some(OpRefusal::CaseErased));
    }

    #[test]
    fn only_the_clinic_moves_a_case_or_writes_its_fields() {
        let mut view = assigned("ISA01", WALL - 5000);
        let takeover = op("case", 10, OpAction::Update, serde_json::json!({"advocate": "ISA01"}));
        assert_eq!(verdict(&takeover, &mut view), Some(OpRefusal::ClinicOwned), "even naming the current advocate");
        let typology = op("perpetrator", 20, OpAction::Create, serde_json::json!({"typology": "rejected"}));
        assert_eq!(verdict(&typology, &mut view), Some(OpRefusal::ClinicOwned));
        let unset = op("perpetrator", 20, OpAction::Create, serde_json::json!({"typology": null}));
        assert_eq!(verdict(&unset, &mut view), None, "a new record's unset typology is not a claim to set it");
        // Naming another advocate as the case's old holder would route the op to their laptops.
        let planted = WireOp {
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"status": "open"}, "old": {"advocate": "ISA02"}}),
            )
            .unwrap(),
            ..op("case", 10, OpAction::Update, serde_json::json!({}))
        };
        assert_eq!(verdict(&planted, &mut view), Some(OpRefusal::ClinicOwned));
        let review = op("clinic_review", 21, OpAction::Create, serde_json::json!({}));
        assert_eq!(verdict(&review, &mut view), Some(OpRefusal::ClinicOwned));
    }

    #[test]
    fn an_op_is_judged_by_the_assignment_in_force_at_its_clock() {
        // Why: work done offline before a reassignment is kept; later writes are not the old advocate's to make.
        let moved_at = WALL - 2000;
        let mut view = assigned("ISA01", WALL - 9000);
        view.assignments.push((CASE, format!("{moved_at:015}-{:010}-{}", 0, Uuid::from_u128(0xC11)), "ISA02".into()));
        let before = WireOp { hlc: hlc(moved_at - 1), ..op("incident", 30, OpAction::Create, serde_json::json!({})) };
        let after = WireOp { hlc: hlc(moved_at + 1), ..op("incident", 31, OpAction::Create, serde_json::json!({})) };
        assert_eq!(verdict(&before, &mut view), None);
        assert_eq!(verdict(&after, &mut view), Some(OpRefusal::NotYourCase));
        let unknown_case = WireOp {
            case_id: Some(Uuid::from_u128(99)),
            ..op("incident", 32, OpAction::Create, serde_json::json!({}))
        };
        assert_eq!(verdict(&unknown_case, &mut view), Some(OpRefusal::NotYourCase));
    }

    #[test]
    fn identity_and_record_homes_come_from_the_clinic() {
        let mut view = assigned("ISA01", WALL - 9000);
        let forged_actor =
            WireOp { actor: "CLN1".into(), ..op("incident", 30, OpAction::Create, serde_json::json!({})) };
        assert_eq!(verdict(&forged_actor, &mut view), Some(OpRefusal::ActorMismatch));
        view.homes
            .insert(Uuid::from_u128(40), RecordHome { case_id: Some(Uuid::from_u128(11)), owner: "ISA02".into() });
        let moved_record = op("victim", 40, OpAction::Update, serde_json::json!({"name": "x"}));
        assert_eq!(verdict(&moved_record, &mut view), Some(OpRefusal::CaseMismatch));
        let case_elsewhere =
            WireOp { case_id: Some(Uuid::from_u128(11)), ..op("case", 10, OpAction::Update, serde_json::json!({})) };
        assert_eq!(verdict(&case_elsewhere, &mut view), Some(OpRefusal::CaseMismatch));
        let ghost = op("victim", 41, OpAction::Update, serde_json::json!({"name": "x"}));
        assert_eq!(verdict(&ghost, &mut view), Some(OpRefusal::UnknownRecord));
        assert_eq!(
            verdict(&op("spaceship", 42, OpAction::Create, serde_json::json!({})), &mut view),
            Some(OpRefusal::UnknownKind)
        );
        // A record with no case is its creator's alone.
        view.homes.insert(Uuid::from_u128(50), RecordHome { case_id: None, owner: "ISA02".into() });
        let task = WireOp { case_id: None, ..op("task", 50, OpAction::Update, serde_json::json!({"what": "x"})) };
        assert_eq!(verdict(&task, &mut view), Some(OpRefusal::NotYourCase));
    }

    #[test]
    fn a_clock_that_is_malformed_far_ahead_or_backwards_is_refused() {
        // Why: a far-future HLC would win every last-writer-wins field on every laptop, for good.
        let mut view = assigned("ISA01", WALL - 9000);
        let with = |text: String| WireOp { hlc: text, ..op("incident", 30, OpAction::Create, serde_json::json!({})) };
        assert_eq!(verdict(&with("not a clock".into()), &mut view), Some(OpRefusal::BadHlc));
        assert_eq!(
            verdict(&with(format!("{}-0-{DEVICE}", WALL - 1000)), &mut view),
            Some(OpRefusal::BadHlc),
            "not fixed width"
        );
        let other = format!("{:015}-{:010}-{}", WALL - 1000, 0, Uuid::from_u128(2));
        assert_eq!(
            verdict(&with(other.clone()), &mut view),
            None,
            "a clock the clinic never saw: the vault's from before its first enrolment"
        );
        view.devices.insert(Uuid::from_u128(2), "ISA02".into());
        assert_eq!(verdict(&with(other.clone()), &mut view), Some(OpRefusal::BadHlc), "another advocate's device");
        // A laptop that rejoined after a restore sends what it wrote under its earlier identity.
        view.devices.insert(Uuid::from_u128(2), "ISA01".into());
        assert_eq!(verdict(&with(other), &mut view), None, "the same advocate's earlier device");
        assert_eq!(verdict(&with(hlc(WALL + MAX_HLC_AHEAD_MS + 1)), &mut view), Some(OpRefusal::HlcAhead));
        assert_eq!(verdict(&with(hlc(WALL + MAX_HLC_AHEAD_MS)), &mut view), None, "drift within the allowance is fine");
        let previous = hlc(WALL - 500);
        let backwards = with(hlc(WALL - 600));
        assert_eq!(judge(&backwards, &sender(Some(&previous)), &mut view).unwrap(), Some(OpRefusal::HlcBackwards));
        assert!(
            !clock_counts(Some(&OpRefusal::HlcAhead))
                && clock_counts(Some(&OpRefusal::NotYourCase))
                && clock_counts(None)
        );
    }

    /// A whole incident as a laptop writes one, for op `record` in `CASE`.
    fn incident_doc(record: u128) -> Value {
        serde_json::json!({
            "id": Uuid::from_u128(record), "case_id": CASE,
            "occurred_at": "2026-11-20T09:00:00.000000Z", "recorded_at": "2026-11-20T10:00:00.000000Z",
            "recorded_by": "ISA01", "account": "Waited outside the house", "channel": "in_person",
            "behaviours": ["loitering"],
        })
    }

    fn content(op: &WireOp) -> Option<String> {
        judge_content(op, shipped()).map(|r| r.as_str().to_owned())
    }

    #[test]
    fn a_new_record_is_judged_whole_by_the_domain_rules() {
        // The clinic relays what it accepts to every laptop of the case: a
        // hand-made record that no laptop could have written must stop here.
        let whole = op("incident", 30, OpAction::Create, incident_doc(30));
        assert_eq!(content(&whole), None, "a record a laptop writes is accepted");
        let mut missing = incident_doc(30);
        missing.as_object_mut().unwrap().remove("account");
        assert_eq!(
            content(&op("incident", 30, OpAction::Create, missing)).as_deref(),
            Some("invalid__incident__account")
        );
        let mut no_behaviour = incident_doc(30);
        no_behaviour["behaviours"] = serde_json::json!([]);
        assert_eq!(
            content(&op("incident", 30, OpAction::Create, no_behaviour)).as_deref(),
            Some("invalid__incident__behaviours"),
            "a rule beyond the types is checked too"
        );
        let mut wrong_type = incident_doc(30);
        wrong_type["reported_to_police"] = serde_json::json!("yes");
        assert_eq!(
            content(&op("incident", 30, OpAction::Create, wrong_type)).as_deref(),
            Some("invalid__incident__reported_to_police")
        );
        // The document is the op's record: another id would put one record's content under another's.
        assert_eq!(
            content(&op("incident", 31, OpAction::Create, incident_doc(30))).as_deref(),
            Some("invalid__incident__id")
        );
        let elsewhere = WireOp { case_id: Some(Uuid::from_u128(11)), ..whole };
        assert_eq!(content(&elsewhere), Some(OpRefusal::CaseMismatch.as_str().to_owned()));
    }

    #[test]
    fn an_update_names_fields_of_its_kind_with_values_of_their_type() {
        let update = |kind: &str, new: Value| content(&op(kind, 40, OpAction::Update, new));
        assert_eq!(update("victim", serde_json::json!({"name": "A new name", "interpreter_needed": true})), None);
        assert_eq!(
            update("victim", serde_json::json!({"interpreter_needed": "yes"})).as_deref(),
            Some("invalid__victim__interpreter_needed")
        );
        // A key the op made up is never echoed: it could be a name.
        assert_eq!(
            update("victim", serde_json::json!({"jane smith acacia avenue": "x"})).as_deref(),
            Some("invalid__victim__unknown_field")
        );
        assert_eq!(
            update("victim", serde_json::json!({"address": {"lines": "1 Street"}})).as_deref(),
            Some("invalid__victim__address"),
            "a structure's parts are typed too"
        );
        // Ids and provenance are the core's; an incident is corrected by an amendment, never edited.
        assert_eq!(update("victim", serde_json::json!({"case_id": CASE})).as_deref(), Some("invalid__victim__case_id"));
        assert_eq!(
            update("incident", serde_json::json!({"account": "rewritten"})).as_deref(),
            Some("invalid__incident__account")
        );
    }

    #[test]
    fn a_readied_batch_is_judged_as_each_op_alone_and_in_order() {
        // Why: the stores judge a push from its readied ops (content judged
        // on every core before the lock). The verdicts must be the one-op
        // judge's, in the batch's order, and who may write must still come
        // before content, so an op refused for its authority never has its
        // content named.
        let mut missing = incident_doc(30);
        missing.as_object_mut().unwrap().remove("account");
        let mut ops = vec![
            op("incident", 30, OpAction::Create, incident_doc(30)),
            op("incident", 30, OpAction::Create, missing.clone()),
            WireOp { actor: "CLN1".into(), ..op("incident", 30, OpAction::Create, missing) },
            op("victim", 40, OpAction::Update, serde_json::json!({"interpreter_needed": "yes"})),
            WireOp { schema_version: u32::MAX, ..op("incident", 30, OpAction::Create, incident_doc(31)) },
        ];
        // Enough ops that the batch is shared out across threads, with a refusal in a later share.
        ops.extend((0..300u128).map(|n| op("incident", 1000 + n, OpAction::Create, incident_doc(1000 + n))));
        ops.push(op("victim", 40, OpAction::Update, serde_json::json!({"name": 7})));
        let mut view = assigned("ISA01", WALL - 9000);
        view.homes.insert(Uuid::from_u128(40), RecordHome { case_id: Some(CASE), owner: "ISA01".into() });
        let origin =
            Origin::Device { id: DEVICE, advocate: "ISA01", max_ahead_ms: MAX_HLC_AHEAD_MS, service: shipped() };
        let readied = ready(&ops, &origin);
        assert!(readied.for_origin(&Origin::Clinic(Uuid::from_u128(77))).is_err(), "another sender's verdicts");
        let readied = readied.for_origin(&origin).unwrap();
        let alone: Vec<_> = ops.iter().map(|op| judge(op, &sender(None), &mut view).unwrap()).collect();
        let together: Vec<_> = readied.iter().map(|r| judge_ready(r, &sender(None), &mut view).unwrap()).collect();
        assert_eq!(together, alone);
        assert_eq!(
            together[..5],
            [
                None,
                Some(OpRefusal::invalid("incident", "account")),
                Some(OpRefusal::ActorMismatch),
                Some(OpRefusal::invalid("victim", "interpreter_needed")),
                Some(OpRefusal::NewerSchema),
            ]
        );
        assert_eq!(together.last(), Some(&Some(OpRefusal::invalid("victim", "name"))));
        assert!(readied.iter().zip(&ops).all(|(r, op)| std::ptr::eq(r.op, op) && r.text == op.canonical_bytes()));
        // A small batch, readied on this thread as most pushes are, alike.
        let small = ready(&ops[..5], &origin);
        let small: Vec<_> = small
            .for_origin(&origin)
            .unwrap()
            .iter()
            .map(|r| judge_ready(r, &sender(None), &mut view).unwrap())
            .collect();
        assert_eq!(small, alone[..5]);
        // The clinic's own batch (and a small one, readied on this thread) is
        // not judged for content beforehand; judging it anyway still does.
        let clinic = ready(&ops[1..2], &Origin::Clinic(DEVICE));
        let clinic = clinic.for_origin(&Origin::Clinic(DEVICE)).unwrap();
        assert_eq!(judge_ready(&clinic[0], &sender(None), &mut view).unwrap(), alone[1]);
    }

    #[test]
    fn a_refusal_names_the_kind_and_field_in_a_code_a_receipt_can_carry() {
        let refusal = OpRefusal::invalid("incident", "evidence[0].description");
        assert_eq!(refusal.as_str(), "invalid__incident__evidence");
        assert_eq!(refusal.invalid_field(), Some(("incident", "evidence")));
        assert_eq!(OpRefusal::parse(refusal.as_str()), refusal, "it reads back as itself on the laptop");
        let long = OpRefusal::invalid("incident_amendment", &"x".repeat(100));
        assert!(long.as_str().len() <= 64);
        // A value never reaches the code, whatever the field path holds.
        let marked = OpRefusal::invalid("victim", "Name <b>1</b>");
        assert!(marked.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", marked.as_str());
    }
}
