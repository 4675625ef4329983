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
    /// Slot → (op id, content hash, refusal).
    refused: HashMap<(Uuid, u64), (Uuid, String, OpRefusal)>,
    requests: HashMap<(Uuid, Uuid), DateTime<Utc>>,
    batches: HashMap<Uuid, DateTime<Utc>>,
    /// Feed: position → op.
    feed: Vec<WireOp>,
    by_id: HashMap<Uuid, (String, u64)>,
    slots: HashMap<(Uuid, u64), Uuid>,
    /// Slot → the op id first quarantined there.
    quarantine: HashMap<(Uuid, u64), Uuid>,
    case_advocate: HashMap<Uuid, String>,
    /// (advocate, case, feed position) of each reassignment.
    replays: Vec<(String, Uuid, u64)>,
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
}

impl crate::authority::AuthorityView for View<'_> {
    fn record_home(&mut self, record: Uuid) -> StoreResult<Option<crate::authority::RecordHome>> {
        Ok(self.homes.get(&record).cloned())
    }
    fn assignee_at(&mut self, case: Uuid, hlc: &str) -> StoreResult<Option<String>> {
        Ok(self.assignments.get(&case).and_then(|a| a.range(..=hlc.to_owned()).next_back()).map(|(_, advocate)| advocate.clone()))
    }
}

/// The op id held in a slot: from the feed, else the refused list, else the quarantine.
fn slot_id(inner: &Inner, origin: Uuid, seq: u64) -> Option<Uuid> {
    inner
        .slots
        .get(&(origin, seq))
        .or_else(|| inner.refused.get(&(origin, seq)).map(|(id, _, _)| id))
        .or_else(|| inner.quarantine.get(&(origin, seq)))
        .copied()
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
        Ok(self.lock()?.staff.get_mut(code).map(|m| m.active = active).is_some())
    }

    fn add_enrolment(&self, token_hash: &str, advocate: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut inner = self.lock()?;
        enrollable(inner.staff.get(advocate).cloned())?;
        inner.tokens.insert(token_hash.to_owned(), (expires_at, None, advocate.to_owned()));
        Ok(())
    }

    fn enrol(&self, token_hash: &str, device: &DeviceRecord, claimed: Option<&str>, now: DateTime<Utc>) -> StoreResult<DeviceRecord> {
        let mut inner = self.lock()?;
        let (expires, used_by, advocate) = inner.tokens.get(token_hash).cloned().ok_or(ClinicError::EnrolmentRefused)?;
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

    fn store_batch(&self, origin: Origin<'_>, batch_id: Uuid, ops: &[WireOp], now: DateTime<Utc>) -> StoreResult<Stored> {
        let mut inner = self.lock()?;
        if inner.batches.contains_key(&batch_id) {
            return Err(ClinicError::Replayed);
        }
        let device = origin.id();
        let acked = inner.devices.get(&device).map_or(0, |d| d.acked_through);
        if matches!(origin, Origin::Device { .. }) && ops.first().is_some_and(|o| o.seq > acked + 1) {
            return Err(ClinicError::OutOfOrder);
        }
        inner.batches.insert(batch_id, now);
        let mut stored = Stored::default();
        for op in ops {
            let hash = op.content_hash();
            let by_id = inner.by_id.get(&op.op_id).cloned();
            let slot = inner.slots.get(&(op.origin, op.seq)).copied();
            let refused = inner.refused.get(&(op.origin, op.seq)).cloned();
            // A slot held only in the quarantine is not free either (as in the SQLite store).
            let slot = slot.or_else(|| inner.quarantine.get(&(op.origin, op.seq)).copied().filter(|_| refused.is_none()));
            match (by_id, slot, refused) {
                (Some((h, _)), Some(id), None) if h == hash && id == op.op_id => stored.duplicates += 1,
                (None, None, Some((id, h, code))) if h == hash && id == op.op_id => {
                    stored.duplicates += 1;
                    stored.refused.push(RefusedOp { seq: op.seq, code });
                }
                (None, None, None) => {
                    let refusal = match origin {
                        Origin::Clinic(_) => None,
                        Origin::Device { id, advocate, max_ahead_ms } => {
                            let previous = inner.heads.get(&id).cloned();
                            let sender =
                                crate::authority::Sender { device: id, advocate, previous_hlc: previous.as_deref(), now, max_ahead_ms };
                            crate::authority::judge(op, &sender, &mut View { homes: &inner.homes, assignments: &inner.assignments })?
                        }
                    };
                    if crate::authority::clock_counts(refusal.as_ref()) {
                        inner.heads.insert(device, op.hlc.clone());
                    }
                    if let Some(code) = refusal {
                        inner.refused.insert((op.origin, op.seq), (op.op_id, hash, code.clone()));
                        stored.refused.push(RefusedOp { seq: op.seq, code });
                        continue;
                    }
                    inner.feed.push(op.clone());
                    let position = inner.feed.len() as u64;
                    inner.by_id.insert(op.op_id, (hash, position));
                    inner.slots.insert((op.origin, op.seq), op.op_id);
                    let (home, assignment) = crate::authority::learned(op, &origin);
                    inner.homes.entry(op.record_id).or_insert(home);
                    if let Some((case, advocate)) = assignment {
                        inner.assignments.entry(case).or_default().entry(op.hlc.clone()).or_insert(advocate.clone());
                        if let Some(previous) = inner.case_advocate.insert(case, advocate.clone()) {
                            if previous != advocate {
                                inner.replays.push((advocate, case, position));
                            }
                        }
                    }
                    stored.inserted += 1;
                }
                _ => {
                    inner.quarantine.entry((op.origin, op.seq)).or_insert(op.op_id);
                    stored.quarantined.push(op.seq);
                }
            }
        }
        let Inner { devices, slots, quarantine, refused, .. } = &mut *inner;
        let held = |seq: u64| {
            slots.contains_key(&(device, seq)) || refused.contains_key(&(device, seq)) || quarantine.contains_key(&(device, seq))
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
        let moved_away = |op: &WireOp| op.changes.pointer("/old/advocate").and_then(serde_json::Value::as_str) == Some(advocate);
        let visible = |op: &WireOp| {
            op.origin != device && (op.case_id.and_then(|c| inner.case_advocate.get(&c)).is_some_and(|a| a == advocate) || moved_away(op))
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
                ops.extend(passed.iter().filter(|o| o.case_id == Some(*case) && o.origin != device).cloned());
            }
        }
        ops.extend(page.into_iter().map(|(_, op)| op));
        Ok(FeedPage { ops, through })
    }

    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.lock()?.case_advocate.get(&case).cloned())
    }

    fn case_latest_hlc(&self, case: Uuid) -> StoreResult<Option<String>> {
        Ok(self.lock()?.feed.iter().filter(|o| o.case_id == Some(case)).map(|o| o.hlc.clone()).max())
    }

    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)> {
        let inner = self.lock()?;
        Ok(inner.feed.iter().filter(|o| o.origin == origin).max_by_key(|o| o.seq).map_or((0, None), |o| (o.seq, Some(o.hlc.clone()))))
    }

    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>> {
        Ok(slot_id(&*self.lock()?, origin, seq))
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
            refused: inner.refused.len() as u64,
            feed_head: inner.feed.len() as u64,
        })
    }
}
