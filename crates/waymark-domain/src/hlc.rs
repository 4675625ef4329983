//! A hybrid logical clock: physical milliseconds, a counter and the device.
//! Persisted by the store, so it never runs backwards across restarts, and
//! tolerant of drift: a remote clock far ahead is a warning, never a stop.

use crate::ids::DeviceId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub device: DeviceId,
}

/// Drift beyond this is reported (lessons-from-peers: drift must not block sync).
pub const DRIFT_WARNING_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub hlc: Hlc,
    /// How far the remote clock was ahead of ours, when beyond the warning level.
    pub drift_ms: Option<u64>,
}

impl Hlc {
    pub fn zero(device: DeviceId) -> Self {
        Self { wall_ms: 0, counter: 0, device }
    }

    /// The next timestamp for a local event.
    pub fn tick(&self, now_ms: u64) -> Hlc {
        if now_ms > self.wall_ms {
            Hlc { wall_ms: now_ms, counter: 0, device: self.device }
        } else {
            Hlc { wall_ms: self.wall_ms, counter: self.counter.saturating_add(1), device: self.device }
        }
    }

    /// Merges a timestamp received from another device.
    pub fn observe(&self, remote: &Hlc, now_ms: u64) -> Observed {
        let wall = self.wall_ms.max(remote.wall_ms).max(now_ms);
        let counter = if wall == self.wall_ms && wall == remote.wall_ms {
            self.counter.max(remote.counter).saturating_add(1)
        } else if wall == self.wall_ms {
            self.counter.saturating_add(1)
        } else if wall == remote.wall_ms {
            remote.counter.saturating_add(1)
        } else {
            0
        };
        let ahead = remote.wall_ms.saturating_sub(now_ms);
        Observed {
            hlc: Hlc { wall_ms: wall, counter, device: self.device },
            drift_ms: (ahead > DRIFT_WARNING_MS).then_some(ahead),
        }
    }
}

impl fmt::Display for Hlc {
    /// Fixed width, so the text sorts in the same order as the value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:010}-{}", self.wall_ms, self.counter, self.device)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a hybrid logical clock value")]
pub struct HlcParseError;

impl FromStr for Hlc {
    type Err = HlcParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '-');
        let wall_ms = parts.next().and_then(|p| p.parse().ok()).ok_or(HlcParseError)?;
        let counter = parts.next().and_then(|p| p.parse().ok()).ok_or(HlcParseError)?;
        let device = parts.next().and_then(|p| p.parse().ok()).ok_or(HlcParseError)?;
        Ok(Hlc { wall_ms, counter, device })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn device(n: u8) -> DeviceId {
        DeviceId(Uuid::from_bytes([n; 16]))
    }

    proptest! {
        #[test]
        fn ticks_strictly_increase_whatever_the_clock_does(clock in proptest::collection::vec(0u64..1_000_000, 1..200)) {
            // A clock that jumps backwards must never produce an earlier or equal timestamp.
            let mut hlc = Hlc::zero(device(1));
            for now in clock {
                let next = hlc.tick(now);
                prop_assert!(next > hlc);
                hlc = next;
            }
        }

        #[test]
        fn observing_a_remote_moves_past_both(local_wall in 0u64..1_000_000, local_counter in 0u32..1000,
                                                remote_wall in 0u64..1_000_000, remote_counter in 0u32..1000,
                                                now in 0u64..1_000_000) {
            // Causality: anything stamped after receiving must sort after what was received.
            let local = Hlc { wall_ms: local_wall, counter: local_counter, device: device(1) };
            let remote = Hlc { wall_ms: remote_wall, counter: remote_counter, device: device(2) };
            let merged = local.observe(&remote, now).hlc;
            prop_assert!((merged.wall_ms, merged.counter) > (local.wall_ms, local.counter));
            prop_assert!((merged.wall_ms, merged.counter) > (remote.wall_ms, remote.counter));
        }

        #[test]
        fn text_form_round_trips_and_sorts_like_the_value(a in 0u64..10_000_000_000_000u64, b in 0u64..10_000_000_000_000u64,
                                                         ca in 0u32..100_000, cb in 0u32..100_000) {
            let x = Hlc { wall_ms: a, counter: ca, device: device(1) };
            let y = Hlc { wall_ms: b, counter: cb, device: device(1) };
            prop_assert_eq!(x.to_string().parse::<Hlc>().unwrap(), x);
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
        }
    }

    #[test]
    fn a_remote_clock_far_ahead_is_a_warning_not_a_refusal() {
        let local = Hlc { wall_ms: 1_000, counter: 0, device: device(1) };
        let remote = Hlc { wall_ms: 1_000 + DRIFT_WARNING_MS + 1, counter: 3, device: device(2) };
        let observed = local.observe(&remote, 1_000);
        assert_eq!(observed.drift_ms, Some(DRIFT_WARNING_MS + 1));
        assert!(observed.hlc > remote);
    }
}
