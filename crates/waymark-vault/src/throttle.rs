//! Wrong passphrases slow further attempts. The count is kept beside the key
//! file so it survives restarts. It holds no personal data, only a count and
//! a time. (scrypt is the real defence against offline guessing; this stops
//! someone at the keyboard trying passphrase after passphrase.)

use crate::error::{Result, VaultError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const STATE_FILE: &str = "unlock-attempts.json";
/// The longest wait between attempts.
pub const MAX_DELAY_SECS: u64 = 300;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempts {
    pub failures: u32,
    pub last_failure: Option<DateTime<Utc>>,
}

/// The wait after `failures` consecutive wrong passphrases: 1 s, 2 s, 4 s ... up to 5 minutes.
pub fn delay_secs(failures: u32) -> u64 {
    match failures {
        0 => 0,
        n => 1u64.checked_shl(n - 1).unwrap_or(u64::MAX).min(MAX_DELAY_SECS),
    }
}

impl Attempts {
    pub fn load(dir: &Path) -> Self {
        // An unreadable state file counts as the maximum, not as zero, so deleting
        // half of it is no way round the delay.
        match std::fs::read_to_string(dir.join(STATE_FILE)) {
            Ok(text) => serde_json::from_str(&text).unwrap_or(Attempts { failures: 32, last_failure: None }),
            Err(_) => Attempts::default(),
        }
    }

    /// Seconds still to wait before another attempt is allowed.
    pub fn wait_secs(&self, now: DateTime<Utc>) -> u64 {
        let Some(last) = self.last_failure else { return 0 };
        let delay = i64::try_from(delay_secs(self.failures)).unwrap_or(i64::MAX);
        let elapsed = (now - last).num_seconds().max(0);
        u64::try_from(delay.saturating_sub(elapsed)).unwrap_or(0)
    }

    pub fn check(&self, now: DateTime<Utc>) -> Result<()> {
        match self.wait_secs(now) {
            0 => Ok(()),
            wait_secs => Err(VaultError::TooSoon { wait_secs }),
        }
    }

    pub fn record_failure(dir: &Path, now: DateTime<Utc>) -> Result<VaultError> {
        let mut attempts = Self::load(dir);
        attempts.failures = attempts.failures.saturating_add(1);
        attempts.last_failure = Some(now);
        let text = serde_json::to_vec(&attempts).map_err(|_| VaultError::KeyFileCorrupt)?;
        crate::fsutil::write_atomic(dir, STATE_FILE, &text)?;
        Ok(VaultError::WrongPassphrase { failures: attempts.failures, wait_secs: delay_secs(attempts.failures) })
    }

    pub fn reset(dir: &Path) -> Result<()> {
        match std::fs::remove_file(dir.join(STATE_FILE)) {
            Ok(()) => crate::fsutil::sync_dir(dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(VaultError::io("reset unlock attempts")(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use waymark_domain::codes::ErrorCode;

    #[test]
    fn each_failure_waits_longer_up_to_the_cap() {
        let delays: Vec<u64> = (0..12).map(delay_secs).collect();
        assert_eq!(&delays[..5], &[0, 1, 2, 4, 8]);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(delay_secs(40), MAX_DELAY_SECS);
    }

    #[test]
    fn the_count_survives_a_restart_and_resets_on_success() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        Attempts::record_failure(dir.path(), t0).unwrap();
        let err = Attempts::record_failure(dir.path(), t0).unwrap_err_or_value();
        assert_eq!(err.code(), ErrorCode::WrongPassphrase);
        let reloaded = Attempts::load(dir.path());
        assert_eq!(reloaded.failures, 2);
        assert_eq!(reloaded.wait_secs(t0), 2);
        assert_eq!(reloaded.wait_secs(t0 + chrono::Duration::seconds(2)), 0);
        Attempts::reset(dir.path()).unwrap();
        assert_eq!(Attempts::load(dir.path()).failures, 0);
    }

    #[test]
    fn a_damaged_state_file_means_the_longest_wait() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"{garbage").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let attempts = Attempts::load(dir.path());
        assert_eq!(delay_secs(attempts.failures), MAX_DELAY_SECS);
        // With no failure time recorded, the next attempt is allowed but a wrong one waits the maximum.
        assert!(attempts.check(now).is_ok());
    }

    trait ErrOrValue {
        fn unwrap_err_or_value(self) -> VaultError;
    }
    impl ErrOrValue for Result<VaultError> {
        fn unwrap_err_or_value(self) -> VaultError {
            match self {
                Ok(e) | Err(e) => e,
            }
        }
    }
}
