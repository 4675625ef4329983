//! The order of one device's pushes on this server. A laptop keeps a second
//! batch in flight while the clinic stores the first, so the clinic opens
//! one while it stores the other; the second can reach the store first. It
//! waits here, for a bounded time, for the batches before it rather than
//! being refused as out of order. The store's own check still decides: a
//! batch that starts past the next slot when its turn comes is refused
//! whole, as before. Nothing is shared between servers behind a load
//! balancer: a batch whose predecessor went to another server is refused as
//! out of order, and the laptop sends it again once that one is acknowledged.

use crate::error::ClinicError;
use crate::store::StoreResult;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;
use waymark_protocol::messages::PUSHES_IN_FLIGHT;

/// The longest a batch waits for the ones before it. A device's waits are
/// bounded by its push rate limit as well, so a device cannot hold many
/// workers waiting.
pub const MOST_WAIT: Duration = Duration::from_secs(10);

/// Each device's pushes being received or stored here.
#[derive(Debug, Default)]
pub struct PushOrder {
    devices: Mutex<HashMap<Uuid, Pushes>>,
    finished: Condvar,
}

#[derive(Debug, Default, Clone, Copy)]
struct Pushes {
    in_flight: usize,
    /// How many of the device's pushes have finished, so a waiter can tell
    /// whether one finished between its reading the store and its waiting.
    finished: u64,
}

/// A push in flight, from its signed headers until its reply; dropping it
/// lets the device's next batch go.
#[derive(Debug)]
pub struct InFlight {
    order: Arc<PushOrder>,
    device: Uuid,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut devices) = self.order.devices.lock() {
            if let Some(pushes) = devices.get_mut(&self.device) {
                pushes.in_flight = pushes.in_flight.saturating_sub(1);
                pushes.finished += 1;
                if pushes.in_flight == 0 {
                    devices.remove(&self.device);
                }
            }
        }
        self.order.finished.notify_all();
    }
}

impl PushOrder {
    fn devices(&self) -> StoreResult<MutexGuard<'_, HashMap<Uuid, Pushes>>> {
        self.devices.lock().map_err(|_| ClinicError::Store("push order lock poisoned".into()))
    }

    /// Counts a push of `device` as in flight until the guard is dropped.
    /// A device with `PUSHES_IN_FLIGHT` already in flight here is turned
    /// away before its body is read, so one device holds at most that many
    /// batches and one waiting worker.
    pub fn enter(order: &Arc<PushOrder>, device: Uuid) -> StoreResult<InFlight> {
        let mut devices = order.devices()?;
        let pushes = devices.entry(device).or_default();
        if pushes.in_flight >= PUSHES_IN_FLIGHT {
            return Err(ClinicError::RateLimited { retry_after_secs: 1 });
        }
        pushes.in_flight += 1;
        Ok(InFlight { order: order.clone(), device })
    }

    /// Returns once a batch of `device` starting at `first_seq` follows what
    /// the store holds (`acked` reads that), or no other push of the device
    /// is in flight here to fill the gap, or `most` has passed.
    pub fn wait_turn(
        &self,
        device: Uuid,
        first_seq: u64,
        most: Duration,
        acked: impl Fn() -> StoreResult<u64>,
    ) -> StoreResult<()> {
        let deadline = Instant::now() + most;
        loop {
            let seen = self.devices()?.get(&device).map_or(0, |p| p.finished);
            if first_seq <= acked()?.saturating_add(1) {
                return Ok(());
            }
            let mut devices = self.devices()?;
            loop {
                let pushes = devices.get(&device).copied().unwrap_or_default();
                if pushes.in_flight <= 1 {
                    return Ok(());
                }
                if pushes.finished != seen {
                    break;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                devices = self
                    .finished
                    .wait_timeout(devices, left)
                    .map_err(|_| ClinicError::Store("push order lock poisoned".into()))?
                    .0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    const DEVICE: Uuid = Uuid::from_u128(1);

    #[test]
    fn a_batch_that_overtook_the_one_before_it_waits_until_that_one_is_stored() {
        // Why: a laptop's second batch in flight must be stored after its
        // first, not refused, whichever the clinic finishes opening first.
        let order = Arc::new(PushOrder::default());
        let acked = Arc::new(AtomicU64::new(0));
        let first = PushOrder::enter(&order, DEVICE).unwrap();
        let _second = PushOrder::enter(&order, DEVICE).unwrap();
        let storing = {
            let acked = acked.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                acked.store(2000, Ordering::SeqCst);
                drop(first);
            })
        };
        order.wait_turn(DEVICE, 2001, Duration::from_secs(30), || Ok(acked.load(Ordering::SeqCst))).unwrap();
        assert_eq!(acked.load(Ordering::SeqCst), 2000, "the second went only once the first was stored");
        storing.join().unwrap();
    }

    #[test]
    fn a_gap_nothing_here_can_fill_goes_on_at_once_to_be_refused_by_the_store() {
        // Why: waiting helps only when another push of the device is in
        // flight on this server; otherwise the store's refusal is the answer.
        let order = Arc::new(PushOrder::default());
        let _only = PushOrder::enter(&order, DEVICE).unwrap();
        let _other_device = PushOrder::enter(&order, Uuid::from_u128(2)).unwrap();
        let started = Instant::now();
        order.wait_turn(DEVICE, 4001, Duration::from_secs(30), || Ok(0)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "it did not wait out the limit");
        assert_eq!(order.devices().unwrap().get(&DEVICE).unwrap().in_flight, 1);
    }

    #[test]
    fn a_predecessor_that_never_fills_the_gap_is_waited_for_only_up_to_the_limit() {
        // Why: a batch before it that fails, or a hostile device, must not
        // hold a worker for longer than the limit.
        let order = Arc::new(PushOrder::default());
        let _first = PushOrder::enter(&order, DEVICE).unwrap();
        let _second = PushOrder::enter(&order, DEVICE).unwrap();
        let reads = AtomicU64::new(0);
        order
            .wait_turn(DEVICE, 2001, Duration::from_millis(100), || {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(0)
            })
            .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1, "nothing finished, so the store was read once");
    }

    #[test]
    fn a_device_with_its_pushes_in_flight_has_a_further_one_turned_away() {
        // Why: each push holds a batch in memory and may hold a worker while
        // it waits; a hostile device must not hold more than its share.
        let order = Arc::new(PushOrder::default());
        let held: Vec<InFlight> = (0..PUSHES_IN_FLIGHT).map(|_| PushOrder::enter(&order, DEVICE).unwrap()).collect();
        assert!(matches!(PushOrder::enter(&order, DEVICE), Err(ClinicError::RateLimited { .. })));
        assert!(PushOrder::enter(&order, Uuid::from_u128(2)).is_ok(), "another device is not held up");
        drop(held);
        assert!(PushOrder::enter(&order, DEVICE).is_ok(), "the device may push again once one finished");
    }

    #[test]
    fn a_finished_push_leaves_no_entry_behind() {
        // Why: the map would otherwise grow with every device that ever pushed.
        let order = Arc::new(PushOrder::default());
        drop(PushOrder::enter(&order, DEVICE).unwrap());
        assert!(order.devices().unwrap().is_empty());
    }
}
