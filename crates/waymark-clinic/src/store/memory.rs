//! An in-memory store: for tests and for checking that the handlers depend
//! only on the trait. Nothing survives a restart.

use super::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, (DateTime<Utc>, Option<Uuid>)>,
    devices: BTreeMap<Uuid, DeviceRecord>,
    requests: HashSet<(Uuid, Uuid)>,
    batches: HashSet<Uuid>,
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

impl ClinicStore for MemoryStore {
    fn add_enrolment(&self, token_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.lock()?.tokens.insert(token_hash.to_owned(), (expires_at, None));
        Ok(())
    }

    fn enrol(&self, token_hash: &str, device: &DeviceRecord, now: DateTime<Utc>) -> StoreResult<DeviceRecord> {
        let mut inner = self.lock()?;
        let (expires, used_by) = *inner.tokens.get(token_hash).ok_or(ClinicError::EnrolmentRefused)?;
        if expires <= now {
            return Err(ClinicError::EnrolmentRefused);
        }
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
                inner.tokens.insert(token_hash.to_owned(), (expires, Some(device.id)));
                inner.devices.insert(device.id, device.clone());
                Ok(device.clone())
            }
        }
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
        if !inner.requests.insert((device, request_id)) {
            return Err(ClinicError::Replayed);
        }
        if let Some(d) = inner.devices.get_mut(&device) {
            d.last_seen_at = Some(now);
        }
        Ok(())
    }

    fn store_batch(&self, device: Uuid, batch_id: Uuid, ops: &[WireOp], now: DateTime<Utc>) -> StoreResult<Stored> {
        let mut inner = self.lock()?;
        if inner.batches.contains(&batch_id) {
            return Err(ClinicError::Replayed);
        }
        inner.batches.insert(batch_id);
        let mut stored = Stored::default();
        for op in ops {
            let hash = op.content_hash();
            let by_id = inner.by_id.get(&op.op_id).cloned();
            let slot = inner.slots.get(&(op.origin, op.seq)).copied();
            match (by_id, slot) {
                (Some((h, _)), Some(id)) if h == hash && id == op.op_id => stored.duplicates += 1,
                (None, None) => {
                    inner.feed.push(op.clone());
                    let position = inner.feed.len() as u64;
                    inner.by_id.insert(op.op_id, (hash, position));
                    inner.slots.insert((op.origin, op.seq), op.op_id);
                    if let (Some(advocate), Some(case)) = (advocate_of(op), op.case_id) {
                        if let Some(previous) = inner.case_advocate.insert(case, advocate.to_owned()) {
                            if previous != advocate {
                                inner.replays.push((advocate.to_owned(), case, position));
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
        let Inner { devices, slots, quarantine, .. } = &mut *inner;
        if let Some(d) = devices.get_mut(&device) {
            while slots.contains_key(&(device, d.acked_through + 1)) || quarantine.contains_key(&(device, d.acked_through + 1)) {
                d.acked_through += 1;
            }
            d.last_seen_at = Some(now);
            stored.acked_through = d.acked_through;
        }
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

    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)> {
        let inner = self.lock()?;
        Ok(inner.feed.iter().filter(|o| o.origin == origin).max_by_key(|o| o.seq).map_or((0, None), |o| (o.seq, Some(o.hlc.clone()))))
    }

    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>> {
        let inner = self.lock()?;
        Ok(inner.slots.get(&(origin, seq)).or_else(|| inner.quarantine.get(&(origin, seq))).copied())
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
            ops: inner.feed.len() as u64,
            quarantined: inner.quarantine.len() as u64,
            feed_head: inner.feed.len() as u64,
        })
    }
}
