//! An in-memory store: for tests and for checking that the handlers depend
//! only on the trait. Nothing survives a restart.

use super::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    staff: BTreeMap<String, StaffMember>,
    /// Token hash → (expiry, the device that used it, the advocate it is bound to).
    tokens: HashMap<String, (DateTime<Utc>, Option<Uuid>, String)>,
    devices: BTreeMap<Uuid, DeviceRecord>,
    /// Each device's latest accepted HLC.
    heads: HashMap<Uuid, String>,
    homes: HashMap<Uuid, crate::authority::RecordHome>,
    /// Case → (HLC, advocate) of each assignment.
    assignments: HashMap<Uuid, BTreeMap<String, String>>,
    /// Slot → (op id, content hash, refusal, the op kept whole).
    refused: HashMap<(Uuid, u64), (Uuid, String, OpRefusal, WireOp)>,
    requests: HashMap<(Uuid, Uuid), DateTime<Utc>>,
    batches: HashMap<Uuid, DateTime<Utc>>,
    /// Feed: position → op.
    feed: Vec<WireOp>,
    by_id: HashMap<Uuid, (String, u64)>,
    slots: HashMap<(Uuid, u64), Uuid>,
    /// Slot of a rejoined laptop → (op id, content hash) of an op the feed held from its earlier identity.
    recognised: HashMap<(Uuid, u64), (Uuid, String)>,
    /// Every quarantined op, in arrival order (its index + 1 is its id).
    quarantine: Vec<QuarantineEntry>,
    audit: Vec<AdminEvent>,
    warnings: Vec<TextWarning>,
    /// Every origin with ops in the feed (whose clocks are theirs alone).
    origins: std::collections::HashSet<Uuid>,
    case_advocate: HashMap<Uuid, String>,
    /// (advocate, case, feed position) of each reassignment.
    replays: Vec<(String, Uuid, u64)>,
    credentials: HashMap<String, Credentials>,
    /// Failure key → (failures, the last one).
    sign_in_failures: HashMap<String, (u32, DateTime<Utc>)>,
    sessions: HashMap<String, StoredSession>,
    /// Referrals in arrival order (index + 1 is the number).
    referrals: Vec<StoredReferral>,
    meetings: BTreeMap<Uuid, PanelMeeting>,
    panel: BTreeMap<(PanelDocKind, String), PanelDoc>,
    /// Case → its erasure. The case's ops stay in the feed as tombstones.
    erased: BTreeMap<Uuid, Erasure>,
    access_requests: Vec<AccessRequest>,
    /// (request, item key) → the decision.
    access_decisions: BTreeMap<(Uuid, String), AccessDecision>,
}

/// What a tombstone keeps instead of an op's content hash.
const ERASED_HASH: &str = "erased";

/// An op of an erased case as the store keeps it: ids, slot, kind and case; no content.
fn tombstoned(op: &WireOp) -> WireOp {
    let mut changes = waymark_protocol::OpChanges::default();
    changes.other.insert("erased".into(), serde_json::Value::Bool(true));
    WireOp { changes, ..op.clone() }
}

struct QuarantineEntry {
    op: WireOp,
    at: DateTime<Utc>,
    decision: Option<(QuarantineDecision, String, DateTime<Utc>)>,
}

impl Inner {
    fn append_audit(&mut self, line: &AuditLine<'_>, at: DateTime<Utc>) {
        let previous = self.audit.last().and_then(|l| l.hash.clone());
        let hash = audit_hash(previous.as_deref(), at, line.actor, line.action, line.target, &line.detail);
        self.audit.push(AdminEvent {
            seq: self.audit.len() as i64 + 1,
            at,
            actor: line.actor.to_owned(),
            action: line.action,
            target: line.target.map(str::to_owned),
            detail: line.detail.clone(),
            hash: Some(hash),
        });
    }

    /// Sets one credential, ends the member's sessions and audits the act.
    fn set_credential(
        &mut self,
        code: &str,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
        set: impl FnOnce(&mut Credentials),
    ) -> StoreResult<()> {
        if !self.staff.contains_key(code) {
            return Err(ClinicError::UnknownStaff);
        }
        let credentials = self.credentials.entry(code.to_owned()).or_default();
        set(credentials);
        self.sessions.retain(|_, s| s.session.staff_code != code);
        self.append_audit(&AuditLine { actor: by, action, target: Some(code), detail: serde_json::json!({}) }, now);
        Ok(())
    }

    /// Adds an accepted op to the feed with its record's home and any assignment.
    fn append_to_feed(&mut self, op: &WireOp, origin: &Origin<'_>, hash: String) {
        self.feed.push(op.clone());
        self.origins.insert(op.origin);
        let position = self.feed.len() as u64;
        self.by_id.insert(op.op_id, (hash, position));
        self.slots.insert((op.origin, op.seq), op.op_id);
        let (home, assignment) = crate::authority::learned(op, origin);
        self.homes.entry(op.record_id).or_insert(home);
        if let Some((case, advocate)) = assignment {
            self.assignments.entry(case).or_default().entry(op.hlc.clone()).or_insert(advocate.clone());
            if let Some(previous) = self.case_advocate.insert(case, advocate.clone()) {
                if previous != advocate {
                    self.replays.push((advocate, case, position));
                }
            }
        }
    }

    /// Whether anything holds the op's slot or id already.
    fn clinic_slot_taken(&self, op: &WireOp) -> bool {
        let slot = (op.origin, op.seq);
        self.by_id.contains_key(&op.op_id)
            || self.slots.contains_key(&slot)
            || self.refused.contains_key(&slot)
            || self.recognised.contains_key(&slot)
            || self.quarantined_at(slot).is_some()
    }

    fn quarantined_at(&self, slot: (Uuid, u64)) -> Option<Uuid> {
        self.quarantine.iter().find(|q| (q.op.origin, q.op.seq) == slot).map(|q| q.op.op_id)
    }
}

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, Inner>> {
        self.inner.lock().map_err(|_| ClinicError::Store("poisoned".into()))
    }
}

struct View<'a> {
    homes: &'a HashMap<Uuid, crate::authority::RecordHome>,
    assignments: &'a HashMap<Uuid, BTreeMap<String, String>>,
    devices: &'a BTreeMap<Uuid, DeviceRecord>,
    /// Every origin with ops in the feed.
    origins: &'a std::collections::HashSet<Uuid>,
    erased: &'a BTreeMap<Uuid, Erasure>,
}

impl crate::authority::AuthorityView for View<'_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<crate::authority::RecordHome>> {
        Ok(self.homes.get(&record).cloned())
    }
    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        Ok(self
            .assignments
            .get(&case)
            .and_then(|a| a.range(..=hlc.to_owned()).next_back())
            .map(|(_, advocate)| advocate.clone()))
    }
    fn clock_owner(&mut self, node: Uuid) -> StoreResult<crate::authority::ClockOwner> {
        use crate::authority::ClockOwner;
        Ok(match self.devices.get(&node) {
            Some(d) if d.confirmed => ClockOwner::Advocate(d.advocate.clone()),
            Some(_) => ClockOwner::Other,
            None if self.origins.contains(&node) => ClockOwner::Other,
            None => ClockOwner::Unknown,
        })
    }
    fn case_erased(&mut self, case: Uuid) -> StoreResult<bool> {
        Ok(self.erased.contains_key(&case))
    }
}

impl Inner {
    /// Whether a feed op is a tombstone of an erased case (the erase op itself is not).
    fn is_tombstone(&self, op: &WireOp) -> bool {
        op.action != waymark_protocol::OpAction::Erase && op.case_id.is_some_and(|c| self.erased.contains_key(&c))
    }
    fn view(&self) -> View<'_> {
        View {
            homes: &self.homes,
            assignments: &self.assignments,
            devices: &self.devices,
            origins: &self.origins,
            erased: &self.erased,
        }
    }
}

/// Whether the feed already holds `op` from another device of `advocate`, with the same meaning.
fn recognised_elsewhere(inner: &Inner, op: &WireOp, advocate: &str) -> bool {
    let Some((_, position)) = inner.by_id.get(&op.op_id) else { return false };
    let held = &inner.feed[usize::try_from(*position).unwrap_or(usize::MAX).saturating_sub(1)];
    // No device: the clinic's own op, as a released change is, which keeps its laptop's actor.
    let held_advocate = match inner.devices.get(&held.origin) {
        Some(d) => d.confirmed.then_some(d.advocate.as_str()),
        None => Some(held.actor.as_str()),
    };
    held_advocate == Some(advocate) && held.origin != op.origin && held.meaning_hash() == op.meaning_hash()
}

/// The op id held in a slot: from the feed, else the refused list, else the quarantine.
fn slot_id(inner: &Inner, origin: Uuid, seq: u64) -> Option<Uuid> {
    inner
        .slots
        .get(&(origin, seq))
        .or_else(|| inner.recognised.get(&(origin, seq)).map(|(id, _)| id))
        .or_else(|| inner.refused.get(&(origin, seq)).map(|(id, _, _, _)| id))
        .copied()
        .or_else(|| inner.quarantined_at((origin, seq)))
}

impl ClinicStore for MemoryStore {
    fn add_staff(&self, member: &StaffMember) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if inner.staff.contains_key(&member.code) {
            return Err(ClinicError::StaffKnown);
        }
        inner.staff.insert(member.code.clone(), member.clone());
        Ok(())
    }

    fn staff(&self, code: &str) -> StoreResult<Option<StaffMember>> {
        Ok(self.lock()?.staff.get(code).cloned())
    }

    fn staff_list(&self) -> StoreResult<Vec<StaffMember>> {
        Ok(self.lock()?.staff.values().cloned().collect())
    }

    fn set_staff_active(&self, code: &str, active: bool) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        if !active {
            inner.sessions.retain(|_, s| s.session.staff_code != code);
        }
        Ok(inner.staff.get_mut(code).map(|m| m.active = active).is_some())
    }

    fn add_enrolment(&self, token_hash: &str, advocate: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        enrollable(inner.staff.get(advocate).cloned())?;
        inner.tokens.insert(token_hash.to_owned(), (expires_at, None, advocate.to_owned()));
        Ok(())
    }

    fn enrolment_open(&self, token_hash: &str, device: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let inner = self.lock()?;
        Ok(inner
            .tokens
            .get(token_hash)
            .is_some_and(|(expires, used_by, _)| *expires > now && used_by.is_none_or(|u| u == device)))
    }

    fn enrol(
        &self,
        token_hash: &str,
        device: &DeviceRecord,
        claimed: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord> {
        let mut inner = self.lock()?;
        let (expires, used_by, advocate) =
            inner.tokens.get(token_hash).cloned().ok_or(ClinicError::EnrolmentRefused)?;
        if expires <= now {
            return Err(ClinicError::EnrolmentRefused);
        }
        if claimed.is_some_and(|c| c != advocate) {
            return Err(ClinicError::AdvocateMismatch);
        }
        enrollable(inner.staff.get(&advocate).cloned())?;
        match used_by {
            Some(id) if id == device.id => {
                let existing = inner.devices.get(&id).cloned().ok_or(ClinicError::EnrolmentRefused)?;
                if existing.keys != device.keys || existing.status != DeviceStatus::Active {
                    return Err(ClinicError::EnrolmentRefused);
                }
                Ok(existing)
            }
            Some(_) => Err(ClinicError::EnrolmentRefused),
            None => {
                if inner.devices.contains_key(&device.id) {
                    return Err(ClinicError::DeviceKnown);
                }
                let record = DeviceRecord { advocate: advocate.clone(), confirmed: true, ..device.clone() };
                inner.tokens.insert(token_hash.to_owned(), (expires, Some(device.id), advocate));
                inner.devices.insert(device.id, record.clone());
                Ok(record)
            }
        }
    }

    fn confirm_device(&self, id: Uuid, advocate: &str) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        enrollable(inner.staff.get(advocate).cloned())?;
        Ok(inner
            .devices
            .get_mut(&id)
            .map(|d| {
                d.advocate = advocate.to_owned();
                d.confirmed = true;
            })
            .is_some())
    }

    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>> {
        Ok(self.lock()?.devices.get(&id).cloned())
    }

    fn devices(&self) -> StoreResult<Vec<DeviceRecord>> {
        Ok(self.lock()?.devices.values().cloned().collect())
    }

    fn revoke(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        Ok(match inner.devices.get_mut(&id) {
            Some(d) => {
                d.status = DeviceStatus::Revoked;
                d.revoked_at.get_or_insert(now);
                true
            }
            None => false,
        })
    }

    fn use_request_id(&self, device: Uuid, request_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if inner.requests.insert((device, request_id), now).is_some() {
            return Err(ClinicError::Replayed);
        }
        if let Some(d) = inner.devices.get_mut(&device) {
            d.last_seen_at = Some(now);
        }
        Ok(())
    }

    fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        let count = inner.requests.len() + inner.batches.len();
        inner.requests.retain(|_, at| *at >= before);
        inner.batches.retain(|_, at| *at >= before);
        Ok((count - inner.requests.len() - inner.batches.len()) as u64)
    }

    fn prune_sign_in(
        &self,
        now: DateTime<Utc>,
        policy: SessionPolicy,
        forget_failures_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        let count = inner.sessions.len() + inner.sign_in_failures.len();
        inner.sessions.retain(|_, s| s.session.is_live(now, policy));
        inner.sign_in_failures.retain(|_, (_, last)| *last >= forget_failures_before);
        Ok((count - inner.sessions.len() - inner.sign_in_failures.len()) as u64)
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
        let mut inner = self.lock()?;
        if inner.batches.contains_key(&batch_id) {
            return Err(ClinicError::Replayed);
        }
        // The clinic's own ops are numbered before they are stored: one whose
        // number or id is taken meanwhile is refused whole, never quarantined.
        if matches!(origin, Origin::Clinic(_)) && ops.iter().any(|op| inner.clinic_slot_taken(op)) {
            return Err(ClinicError::ClinicBusy);
        }
        let device = origin.id();
        let acked = inner.devices.get(&device).map_or(0, |d| d.acked_through);
        if matches!(origin, Origin::Device { .. }) && ops.first().is_some_and(|o| o.seq > acked + 1) {
            return Err(ClinicError::OutOfOrder);
        }
        inner.batches.insert(batch_id, now);
        let mut stored = Stored::default();
        for ready in readied {
            let (op, hash) = (ready.op, WireOp::hash_of(&ready.text));
            let erased = crate::authority::of_erased_case(op, &mut inner.view())?;
            let kept = if erased { tombstoned(op) } else { op.clone() };
            // Nothing of an erased case's change is left to decide: it is discarded as it arrives.
            let erased_decision = |at| erased.then(|| (QuarantineDecision::Discarded, "erasure".to_owned(), at));
            if let Some((id, h)) = inner.recognised.get(&(op.origin, op.seq)) {
                if *id == op.op_id && *h == hash {
                    stored.duplicates += 1;
                } else {
                    inner.quarantine.push(QuarantineEntry {
                        op: kept.clone(),
                        at: now,
                        decision: erased_decision(now),
                    });
                    stored.quarantined.push(op.seq);
                }
                continue;
            }
            let by_id = inner.by_id.get(&op.op_id).cloned();
            let slot = inner.slots.get(&(op.origin, op.seq)).copied();
            let refused = inner.refused.get(&(op.origin, op.seq)).cloned();
            // A slot held only in the quarantine is not free either (as in the SQLite store).
            let slot = slot.or_else(|| inner.quarantined_at((op.origin, op.seq)).filter(|_| refused.is_none()));
            // A change to an erased case in a new slot holds it and keeps nothing, not even a hash.
            let slot_free = slot.is_none() && refused.is_none() && op.seq > acked;
            if erased && slot_free && matches!(origin, Origin::Device { .. }) {
                inner.refused.insert((op.origin, op.seq), (op.op_id, ERASED_HASH.into(), OpRefusal::CaseErased, kept));
                stored.refused.push(RefusedOp { seq: op.seq, code: OpRefusal::CaseErased });
                continue;
            }
            if let (Some(_), None, None, Origin::Device { advocate, .. }) = (&by_id, slot, &refused, origin) {
                if recognised_elsewhere(&inner, op, advocate) {
                    inner.recognised.insert((op.origin, op.seq), (op.op_id, hash));
                    inner.heads.insert(device, op.hlc.clone());
                    stored.recognised += 1;
                    continue;
                }
            }
            match (by_id, slot, refused) {
                (Some((h, _)), Some(id), None) if h == hash && id == op.op_id => stored.duplicates += 1,
                // A laptop resends a change of an erased case as its tombstone: the slot is the one held.
                (Some(_), Some(id), None) if erased && id == op.op_id => stored.duplicates += 1,
                (None, None, Some((id, h, code, _))) if h == hash && id == op.op_id => {
                    stored.duplicates += 1;
                    stored.refused.push(RefusedOp { seq: op.seq, code });
                }
                // A change an administrator discarded stays out when it comes back in a new slot.
                (None, None, None)
                    if inner.quarantine.iter().any(|q| {
                        q.op.op_id == op.op_id
                            && matches!(q.decision, Some((QuarantineDecision::Discarded, _, _)))
                            && q.op.meaning_hash() == op.meaning_hash()
                    }) =>
                {
                    inner.quarantine.push(QuarantineEntry {
                        op: kept.clone(),
                        at: now,
                        decision: erased_decision(now),
                    });
                    stored.quarantined.push(op.seq);
                }
                (None, None, None) => {
                    let refusal = match origin {
                        Origin::Clinic(_) => None,
                        Origin::Device { id, advocate, max_ahead_ms, service } => {
                            let previous = inner.heads.get(&id).cloned();
                            let sender = crate::authority::Sender {
                                device: id,
                                advocate,
                                previous_hlc: previous.as_deref(),
                                now,
                                max_ahead_ms,
                                service,
                                schema: waymark_protocol::SCHEMA_VERSION,
                            };
                            crate::authority::judge_ready(ready, &sender, &mut inner.view())?
                        }
                    };
                    if crate::authority::clock_counts(refusal.as_ref()) {
                        inner.heads.insert(device, op.hlc.clone());
                    }
                    if let Some(code) = refusal {
                        inner.refused.insert((op.origin, op.seq), (op.op_id, hash, code.clone(), op.clone()));
                        stored.refused.push(RefusedOp { seq: op.seq, code });
                        continue;
                    }
                    inner.append_to_feed(op, &origin, hash);
                    stored.inserted += 1;
                }
                _ => {
                    inner.quarantine.push(QuarantineEntry {
                        op: kept.clone(),
                        at: now,
                        decision: erased_decision(now),
                    });
                    stored.quarantined.push(op.seq);
                }
            }
        }
        let Inner { devices, slots, quarantine, refused, recognised, .. } = &mut *inner;
        let held = |seq: u64| {
            slots.contains_key(&(device, seq))
                || refused.contains_key(&(device, seq))
                || quarantine.iter().any(|q| (q.op.origin, q.op.seq) == (device, seq))
                || recognised.contains_key(&(device, seq))
        };
        if let Some(d) = devices.get_mut(&device) {
            while held(d.acked_through + 1) {
                d.acked_through += 1;
            }
            d.last_seen_at = Some(now);
            stored.acked_through = d.acked_through;
        }
        stored.acked_op = slot_id(&inner, device, stored.acked_through);
        Ok(stored)
    }

    fn feed(&self, device: Uuid, advocate: &str, after: u64, limit: u32) -> StoreResult<FeedPage> {
        let inner = self.lock()?;
        // The old advocate's laptops still hear of a reassignment away from them.
        let moved_away = |op: &WireOp| {
            op.changes.old.as_ref().and_then(|o| o.get("advocate")).and_then(serde_json::Value::as_str)
                == Some(advocate)
        };
        let visible = |op: &WireOp| {
            op.origin != device
                && !inner.is_tombstone(op)
                && (op.case_id.and_then(|c| inner.case_advocate.get(&c)).is_some_and(|a| a == advocate)
                    || moved_away(op)
                    || op.action == waymark_protocol::OpAction::Erase)
        };
        let mut page = Vec::new();
        let mut through = after;
        for (index, op) in inner.feed.iter().enumerate().skip(usize::try_from(after).unwrap_or(usize::MAX)) {
            if page.len() as u32 >= limit {
                break;
            }
            through = index as u64 + 1;
            if visible(op) {
                page.push((through, op.clone()));
            }
        }
        // A reassigned case's history (all before the cursor) goes first, so
        // every later op of it in the page lands on records that exist.
        let mut ops: Vec<WireOp> = Vec::new();
        for (a, case, at) in &inner.replays {
            if a == advocate && *at > after && *at <= through {
                let passed = &inner.feed[..usize::try_from(after).unwrap_or(0).min(inner.feed.len())];
                ops.extend(
                    passed
                        .iter()
                        .filter(|o| o.case_id == Some(*case) && o.origin != device && !inner.is_tombstone(o))
                        .cloned(),
                );
            }
        }
        ops.extend(page.into_iter().map(|(_, op)| op));
        Ok(FeedPage { ops, through })
    }

    fn feed_all(&self, after: u64, limit: u32) -> StoreResult<FeedPage> {
        let inner = self.lock()?;
        let start = usize::try_from(after).unwrap_or(usize::MAX).min(inner.feed.len());
        let covered = inner.feed[start..].iter().take(limit as usize);
        let through = start as u64 + covered.len() as u64;
        let ops: Vec<WireOp> = covered.filter(|o| !inner.is_tombstone(o)).cloned().collect();
        Ok(FeedPage { through, ops })
    }

    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.lock()?.case_advocate.get(&case).cloned())
    }

    fn case_latest_hlc(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.lock()?.feed.iter().filter(|o| o.case_id == Some(case)).map(|o| o.hlc.clone()).max())
    }

    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)> {
        let inner = self.lock()?;
        Ok(inner
            .feed
            .iter()
            .filter(|o| o.origin == origin)
            .max_by_key(|o| o.seq)
            .map_or((0, None), |o| (o.seq, Some(o.hlc.clone()))))
    }

    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>> {
        Ok(slot_id(&*self.lock()?, origin, seq))
    }

    fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>> {
        let inner = self.lock()?;
        Ok(inner
            .quarantine
            .iter()
            .enumerate()
            .map(|(index, q)| Quarantined {
                id: index as i64 + 1,
                origin: q.op.origin,
                seq: q.op.seq,
                op_id: q.op.op_id,
                kind: q.op.kind.clone(),
                case_id: q.op.case_id,
                at: q.at,
                id_taken: inner.by_id.get(&q.op.op_id).is_some_and(|(h, _)| *h != q.op.content_hash()),
                decision: q.decision.as_ref().map(|d| d.0),
                decided_by: q.decision.as_ref().map(|d| d.1.clone()),
                decided_at: q.decision.as_ref().map(|d| d.2),
            })
            .collect())
    }

    fn quarantined_op(&self, id: i64) -> StoreResult<Option<WireOp>> {
        let inner = self.lock()?;
        Ok(usize::try_from(id - 1).ok().and_then(|i| inner.quarantine.get(i)).map(|q| q.op.clone()))
    }

    fn credentials(&self, code: &str) -> StoreResult<Option<Credentials>> {
        let inner = self.lock()?;
        Ok(inner.staff.contains_key(code).then(|| inner.credentials.get(code).cloned().unwrap_or_default()))
    }

    fn set_password(&self, code: &str, password: &str, by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.lock()?.set_credential(code, by, AdminAction::PasswordSet, now, |c| c.password = Some(password.to_owned()))
    }

    fn set_totp_secret(&self, code: &str, secret: &[u8], by: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.lock()?.set_credential(code, by, AdminAction::SecondFactorReset, now, |c| {
            c.totp_secret = Some(zeroize::Zeroizing::new(secret.to_vec()));
            c.totp_last_step = None;
        })
    }

    fn start_sign_in(
        &self,
        keys: &[&str],
        wait: SignInWait<'_>,
        forget_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<chrono::Duration>> {
        let mut inner = self.lock()?;
        let longest = keys
            .iter()
            .filter_map(|key| {
                let (failures, last) = inner.sign_in_failures.get(*key)?;
                (*last >= forget_before).then(|| wait(key, *failures, *last)).flatten()
            })
            .max();
        if longest.is_some() {
            return Ok(longest);
        }
        for key in keys {
            let entry = inner.sign_in_failures.entry((*key).to_owned()).or_insert((0, now));
            let failures = if entry.1 < forget_before { 1 } else { entry.0.saturating_add(1) };
            *entry = (failures, now);
        }
        Ok(None)
    }

    fn sign_in_succeeded(&self, good: &GoodSignIn<'_>, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        if !inner.staff.get(good.staff_code).is_some_and(|m| m.active) {
            return Ok(false);
        }
        let Some(credentials) = inner.credentials.get_mut(good.staff_code) else { return Ok(false) };
        let still_checked = credentials.password.as_deref() == Some(good.password)
            && credentials.totp_secret.as_deref().map(Vec::as_slice) == Some(good.totp_secret);
        if !still_checked || credentials.totp_last_step.is_some_and(|used| used >= good.totp_step) {
            return Ok(false);
        }
        credentials.totp_last_step = Some(good.totp_step);
        inner.sign_in_failures.remove(good.account_key);
        if let Some(entry) = inner.sign_in_failures.get_mut(good.address_key) {
            entry.0 = entry.0.saturating_sub(1);
        }
        let session =
            crate::signin::Session { staff_code: good.staff_code.to_owned(), started_at: now, last_seen_at: now };
        inner.sessions.insert(good.session_id.to_owned(), StoredSession { session, csrf: good.csrf.to_owned() });
        Ok(true)
    }

    fn session(&self, id: &str, now: DateTime<Utc>, policy: SessionPolicy) -> StoreResult<Option<StoredSession>> {
        let mut inner = self.lock()?;
        let Some(stored) = inner.sessions.get(id).cloned() else { return Ok(None) };
        let active = inner.staff.get(&stored.session.staff_code).is_some_and(|m| m.active);
        if !(active && stored.session.is_live(now, policy)) {
            inner.sessions.remove(id);
            return Ok(None);
        }
        let touched = StoredSession {
            session: crate::signin::Session { last_seen_at: now, ..stored.session },
            csrf: stored.csrf,
        };
        inner.sessions.insert(id.to_owned(), touched.clone());
        Ok(Some(touched))
    }

    fn end_session(&self, id: &str) -> StoreResult<()> {
        self.lock()?.sessions.remove(id);
        Ok(())
    }

    fn rejudge_held(&self, understood: u32, service: &ServiceRules, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        let mut held: Vec<WireOp> = inner
            .refused
            .values()
            .filter(|(_, _, code, op)| code.may_pass_later() && op.schema_version <= understood)
            .map(|(_, _, _, op)| op.clone())
            .collect();
        held.sort_by_key(|op| (op.origin, op.seq));
        let mut released = 0;
        for op in held {
            // Only from a device that may still sync, for an advocate still active, and never a second copy.
            let device = inner.devices.get(&op.origin).filter(|d| d.confirmed && d.status == DeviceStatus::Active);
            let Some(advocate) = device.map(|d| d.advocate.clone()) else { continue };
            if !inner.staff.get(&advocate).is_some_and(|m| m.active) || inner.by_id.contains_key(&op.op_id) {
                continue;
            }
            let mut view = inner.view();
            let verdict = crate::authority::judge_held(&op, &advocate, understood, service, now, &mut view)?;
            let slot = (op.origin, op.seq);
            match verdict {
                Some(refusal) => {
                    if let Some(entry) = inner.refused.get_mut(&slot) {
                        entry.2 = refusal;
                    }
                }
                None => {
                    if let Some((_, hash, _, _)) = inner.refused.remove(&slot) {
                        let device = Origin::Device {
                            id: op.origin,
                            advocate: &advocate,
                            max_ahead_ms: crate::authority::MAX_HLC_AHEAD_MS,
                            service,
                        };
                        inner.append_to_feed(&op, &device, hash);
                        released += 1;
                    }
                }
            }
        }
        Ok(released)
    }

    fn decide_quarantined(&self, id: i64, decision: Decision<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        let index =
            usize::try_from(id - 1).ok().filter(|i| inner.quarantine.get(*i).is_some_and(|q| q.decision.is_none()));
        let index = index.ok_or(ClinicError::NotQuarantined)?;
        let held = inner.quarantine[index].op.clone();
        check_decision(&held, &decision)?;
        let verdict = match decision.release {
            None => QuarantineDecision::Discarded,
            Some(release) => {
                if inner.by_id.contains_key(&release.op_id) {
                    return Err(ClinicError::BadRequest(
                        "the feed already holds a change with this op id; discard this one",
                    ));
                }
                let advocate = inner.devices.get(&held.origin).filter(|d| d.confirmed).map(|d| d.advocate.clone());
                let mut view = inner.view();
                crate::authority::judge_release(&held, advocate.as_deref(), now, decision.service, &mut view)?;
                inner.append_to_feed(release, &Origin::Clinic(release.origin), release.content_hash());
                QuarantineDecision::Released
            }
        };
        inner.quarantine[index].decision = Some((verdict, decision.by.to_owned(), now));
        let target = held.op_id.to_string();
        inner.append_audit(
            &AuditLine {
                actor: decision.by,
                action: AdminAction::of(verdict),
                target: Some(&target),
                detail: serde_json::json!({ "quarantine": id, "origin": held.origin.to_string(), "seq": held.seq }),
            },
            now,
        );
        Ok(())
    }

    fn audit(&self, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        self.lock()?.append_audit(line, now);
        Ok(())
    }

    fn audit_bounds(&self) -> StoreResult<AuditBounds> {
        Ok(AuditBounds { chain_starts_after: 0, highest_issued: self.lock()?.audit.len() as i64 })
    }

    fn admin_audit(&self) -> StoreResult<Vec<AdminEvent>> {
        Ok(self.lock()?.audit.clone())
    }

    fn case_ops(&self, case: Uuid, kind: Option<&str>) -> StoreResult<Vec<WireOp>> {
        let inner = self.lock()?;
        Ok(inner
            .feed
            .iter()
            .filter(|o| o.case_id == Some(case) && !inner.is_tombstone(o) && kind.is_none_or(|k| o.kind == k))
            .cloned()
            .collect())
    }

    fn add_text_warning(&self, warning: &TextWarning) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if !inner.warnings.iter().any(|w| w.op_id == warning.op_id) {
            inner.warnings.push(warning.clone());
        }
        Ok(())
    }

    fn text_warnings(&self) -> StoreResult<Vec<TextWarning>> {
        Ok(self.lock()?.warnings.clone())
    }

    fn feed_head(&self) -> StoreResult<u64> {
        Ok(self.lock()?.feed.len() as u64)
    }

    fn stats(&self) -> StoreResult<Stats> {
        let inner = self.lock()?;
        let revoked = inner.devices.values().filter(|d| d.status == DeviceStatus::Revoked).count() as u64;
        Ok(Stats {
            devices_active: inner.devices.len() as u64 - revoked,
            devices_revoked: revoked,
            devices_unconfirmed: inner.devices.values().filter(|d| !d.confirmed).count() as u64,
            ops: inner.feed.len() as u64,
            quarantined: inner.quarantine.len() as u64,
            recognised: inner.recognised.len() as u64,
            refused: inner.refused.len() as u64,
            feed_head: inner.feed.len() as u64,
        })
    }

    fn add_referral(&self, id: Uuid, by: &str, form: &ReferralRecords, now: DateTime<Utc>) -> StoreResult<i64> {
        let mut inner = self.lock()?;
        let number = inner.referrals.len() as i64 + 1;
        inner.referrals.push(StoredReferral {
            id,
            number,
            submitted_by: by.to_owned(),
            submitted_at: now,
            status: IntakeStatus::Submitted,
            form: form.clone(),
            decided_by: None,
            decided_at: None,
            decline_reason: None,
            advocate: None,
        });
        let target = id.to_string();
        let line = AuditLine {
            actor: by,
            action: AdminAction::ReferralSubmitted,
            target: Some(&target),
            detail: serde_json::json!({ "number": number }),
        };
        inner.append_audit(&line, now);
        Ok(number)
    }

    fn referrals(&self, submitted_by: Option<&str>) -> StoreResult<Vec<StoredReferral>> {
        let inner = self.lock()?;
        Ok(inner
            .referrals
            .iter()
            .rev()
            .filter(|r| submitted_by.is_none_or(|by| r.submitted_by == by))
            .cloned()
            .collect())
    }

    fn referral(&self, id: Uuid) -> StoreResult<Option<StoredReferral>> {
        Ok(self.lock()?.referrals.iter().find(|r| r.id == id).cloned())
    }

    fn decide_referral(&self, id: Uuid, by: &str, outcome: ReferralOutcome<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        let index = inner
            .referrals
            .iter()
            .position(|r| r.id == id && r.status == IntakeStatus::Submitted)
            .ok_or(ClinicError::ReferralDecided)?;
        if let ReferralOutcome::Accepted { ops, .. } = outcome {
            if ops.iter().any(|op| inner.clinic_slot_taken(op)) {
                return Err(ClinicError::ClinicBusy);
            }
            for op in ops {
                inner.append_to_feed(op, &Origin::Clinic(op.origin), op.content_hash());
            }
        }
        let referral = &mut inner.referrals[index];
        referral.decided_by = Some(by.to_owned());
        referral.decided_at = Some(now);
        match outcome {
            ReferralOutcome::Accepted { advocate, .. } => {
                referral.status = IntakeStatus::Accepted;
                referral.advocate = Some(advocate.to_owned());
            }
            ReferralOutcome::Declined(reason) => {
                referral.status = IntakeStatus::Declined;
                referral.decline_reason = Some(reason);
            }
        }
        let number = referral.number;
        let target = id.to_string();
        inner.append_audit(&referral_verdict_line(by, &target, number, &outcome), now);
        Ok(())
    }

    fn save_meeting(
        &self,
        meeting: &PanelMeeting,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if inner.meetings.get(&meeting.id).is_some_and(|m| m.closed_at.is_some()) {
            return Err(ClinicError::MeetingClosed);
        }
        inner.meetings.insert(meeting.id, meeting.clone());
        let target = meeting.id.to_string();
        inner.append_audit(&meeting_line(by, &target, action, meeting), now);
        Ok(())
    }

    fn meetings(&self) -> StoreResult<Vec<PanelMeeting>> {
        let mut all: Vec<PanelMeeting> = self.lock()?.meetings.values().cloned().collect();
        all.sort_by(|a, b| b.meets_on.cmp(&a.meets_on).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    fn save_panel(
        &self,
        docs: &[PanelDoc],
        ops: &[WireOp],
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if ops.iter().any(|op| inner.clinic_slot_taken(op)) {
            return Err(ClinicError::ClinicBusy);
        }
        for op in ops {
            inner.append_to_feed(op, &Origin::Clinic(op.origin), op.content_hash());
        }
        for doc in docs {
            inner.panel.insert((doc.kind, doc.id.clone()), doc.clone());
        }
        inner.append_audit(line, now);
        Ok(())
    }

    fn erase_case(&self, erasure: &Erasure, op: &WireOp, now: DateTime<Utc>) -> StoreResult<ErasedAtClinic> {
        let mut inner = self.lock()?;
        let case = erasure.case_id;
        if inner.erased.contains_key(&case) {
            return Err(ClinicError::CaseErased);
        }
        if inner.clinic_slot_taken(op) {
            return Err(ClinicError::ClinicBusy);
        }
        inner.append_to_feed(op, &Origin::Clinic(op.origin), op.content_hash());
        inner.erased.insert(case, erasure.clone());
        let mut erased = ErasedAtClinic::default();
        let of_case = |o: &WireOp| o.case_id == Some(case) && o.op_id != op.op_id;
        let Inner { feed, by_id, recognised, refused, quarantine, homes, .. } = &mut *inner;
        for held in feed.iter_mut().filter(|o| of_case(o)) {
            // The hash goes too: with the op's other fields kept, it would test guesses of a small value.
            if let Some((hash, _)) = by_id.get_mut(&held.op_id) {
                *hash = ERASED_HASH.into();
            }
            for (id, hash) in recognised.values_mut() {
                if *id == held.op_id {
                    *hash = ERASED_HASH.into();
                }
            }
            *held = tombstoned(held);
            erased.feed_ops += 1;
        }
        // Found by the case they name, or by the case their record belongs to.
        let named =
            |o: &WireOp| o.case_id == Some(case) || homes.get(&o.record_id).is_some_and(|h| h.case_id == Some(case));
        for (_, hash, code, held) in refused.values_mut().filter(|(_, _, _, o)| named(o)) {
            *held = tombstoned(held);
            *hash = ERASED_HASH.into();
            *code = OpRefusal::CaseErased;
            erased.refused += 1;
        }
        for q in quarantine.iter_mut().filter(|q| named(&q.op)) {
            q.op = tombstoned(&q.op);
            if q.decision.is_none() {
                q.decision = Some((QuarantineDecision::Discarded, erasure.erased_by.clone(), now));
            }
            erased.quarantined += 1;
        }
        let before = inner.referrals.len();
        inner.referrals.retain(|r| r.form.case.id.as_uuid() != case);
        erased.referrals = (before - inner.referrals.len()) as u64;
        let before = inner.panel.len();
        inner.panel.retain(|_, d| d.case_id != Some(case));
        erased.panel_docs = (before - inner.panel.len()) as u64;
        let before = inner.warnings.len();
        inner.warnings.retain(|w| w.case_id != case);
        erased.warnings = (before - inner.warnings.len()) as u64;
        // A request stays (ids and dates): it is still owed an answer, that nothing is held now.
        let requests: Vec<Uuid> =
            inner.access_requests.iter().filter(|r| r.case_id.as_uuid() == case).map(|r| r.id).collect();
        inner.access_decisions.retain(|(request, _), _| !requests.contains(request));
        let target = case.to_string();
        inner.append_audit(&erasure_line(erasure, &target, &erased), now);
        Ok(erased)
    }

    fn erasures(&self) -> StoreResult<Vec<Erasure>> {
        let mut all: Vec<Erasure> = self.lock()?.erased.values().cloned().collect();
        all.sort_by_key(|e| e.erased_at);
        Ok(all)
    }

    fn case_erased(&self, case: Uuid) -> StoreResult<bool> {
        Ok(self.lock()?.erased.contains_key(&case))
    }

    fn add_access_request(&self, request: &AccessRequest, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        if inner.erased.contains_key(&request.case_id.as_uuid()) {
            return Err(ClinicError::CaseErased);
        }
        inner.access_requests.push(request.clone());
        inner.append_audit(line, now);
        Ok(())
    }

    fn access_requests(&self, case: Option<Uuid>) -> StoreResult<Vec<AccessRequest>> {
        let mut out: Vec<AccessRequest> = self
            .lock()?
            .access_requests
            .iter()
            .filter(|r| case.is_none_or(|c| r.case_id.as_uuid() == c))
            .cloned()
            .collect();
        out.sort_by_key(|a| (a.due_on, a.made_at));
        Ok(out)
    }

    fn access_decisions(&self, request: Uuid) -> StoreResult<AccessDecisions> {
        let inner = self.lock()?;
        let mut out = AccessDecisions::default();
        let of_request =
            inner.access_decisions.range((request, String::new())..).take_while(|((r, _), _)| *r == request);
        for ((_, key), decision) in of_request {
            match decision {
                AccessDecision::Release { digest } => out.releases.push((key.clone(), digest.clone())),
                AccessDecision::Exempt { reason } => out.exempt.push((key.clone(), *reason)),
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
        let mut inner = self.lock()?;
        let Inner { access_requests, erased, .. } = &mut *inner;
        let Some(held) = access_requests.iter_mut().find(|r| r.id == request) else {
            return Err(ClinicError::NotFound);
        };
        if erased.contains_key(&held.case_id.as_uuid()) {
            return Err(ClinicError::CaseErased);
        }
        held.identity_checked = Some(check.clone());
        inner.append_audit(line, now);
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
        let mut inner = self.lock()?;
        let case = inner.access_requests.iter().find(|r| r.id == request).map(|r| r.case_id.as_uuid());
        if case.is_some_and(|c| inner.erased.contains_key(&c)) {
            return Err(ClinicError::CaseErased);
        }
        inner.access_decisions.insert((request, key.to_owned()), decision.clone());
        inner.append_audit(line, now);
        Ok(())
    }

    fn panel_docs(&self, kind: PanelDocKind, meeting: Option<Uuid>) -> StoreResult<Vec<PanelDoc>> {
        Ok(self
            .lock()?
            .panel
            .values()
            .filter(|d| d.kind == kind && meeting.is_none_or(|m| d.meeting_id == Some(m)))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_line_removed_or_changed_breaks_the_chain_from_there_on() {
        let store = MemoryStore::new();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        for action in [AdminAction::SignedIn, AdminAction::Viewed, AdminAction::Refused, AdminAction::SignedOut] {
            let line = AuditLine { actor: "PNL1", action, target: None, detail: serde_json::json!({}) };
            store.audit(&line, at).unwrap();
        }
        let lines = store.admin_audit().unwrap();
        let bounds = store.audit_bounds().unwrap();
        let verify = |lines: &[AdminEvent]| verify_audit(lines, bounds, None);
        assert_eq!(verify(&lines).unwrap().chained, 4);
        let mut removed = lines.clone();
        removed.remove(2);
        assert!(matches!(verify(&removed), Err(ClinicError::AuditBroken { seq: 3 })), "the gap itself");
        let mut changed = lines.clone();
        changed[1].actor = "CRD1".into();
        assert!(matches!(verify(&changed), Err(ClinicError::AuditBroken { seq: 2 })));
        let mut unhashed = lines;
        unhashed[3].hash = None;
        assert!(matches!(verify(&unhashed), Err(ClinicError::AuditBroken { seq: 4 })), "no hash after the chain began");
    }
}
