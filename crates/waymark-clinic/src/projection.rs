//! The clinic's copy of the records. Every op the clinic accepts joins the
//! feed; the projection applies the feed, in order, into a replica vault
//! (`waymark_vault::Replica`) with the laptop's own apply and merge, so the
//! clinic holds each case as the assigned advocate's laptop does, from one
//! implementation of every record kind. It is a copy of the feed, encrypted
//! under a key derived from the clinic's database key: one that cannot be
//! opened (another key, a newer schema, damage) is removed and rebuilt.
//! This is the only module of the clinic that uses the vault crate (tidy).

use crate::error::ClinicError;
use crate::store::ClinicStore;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;
use waymark_vault::{DbKey, Env, Replica, VaultError};
use zeroize::Zeroizing;

pub use waymark_vault::queries::{CaseFile, CaseloadFilter, CaseloadRow, SortBy};
/// What the copy records as the actor of every op it applies; no staff code may be it.
pub use waymark_vault::REPLICA_ACTOR;

/// Ops applied per transaction while catching up: large enough to amortise
/// the commit, small enough that a reader waits only briefly for the lock.
const PAGE: u32 = 2_000;

/// What one catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaughtUp {
    pub applied: u64,
    /// Ops the replica could not apply (they clash with a record it holds);
    /// kept whole on its problems list, as a laptop keeps them.
    pub failed: u64,
    /// The feed position the copy now covers.
    pub through: u64,
}

/// The clinic's clock as the vault's `Clock`.
struct ClinicClock(crate::server::Clock);

impl waymark_domain::time::Clock for ClinicClock {
    fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

pub struct Projection {
    replica: Mutex<Replica>,
    change: tokio::sync::Notify,
}

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Projection")
    }
}

impl Projection {
    /// Opens the copy in `dir`, or builds an empty one (the next catch-up
    /// fills it from the feed). `key` is the clinic's database key; the
    /// replica's own key is derived from it, so neither file opens the other.
    pub fn open(
        dir: &Path,
        key: &[u8; 32],
        clinic: Uuid,
        clock: crate::server::Clock,
        rng: Box<dyn rand::RngCore + Send>,
    ) -> Result<Projection, ClinicError> {
        let env = Env { clock: Arc::new(ClinicClock(clock.clone())), rng };
        match Replica::open(dir, replica_key(key), clinic, env) {
            Ok(replica) => Ok(Projection { replica: Mutex::new(replica), change: tokio::sync::Notify::new() }),
            Err(VaultError::KeyMismatch | VaultError::DatabaseUnreadable | VaultError::NewerSchema { .. }) => {
                tracing::warn!("the clinic's copy of the records could not be opened; rebuilding it from the feed");
                remove_unreadable(dir)?;
                let env = Env {
                    clock: Arc::new(ClinicClock(clock)),
                    rng: Box::new(<rand::rngs::StdRng as rand::SeedableRng>::from_entropy()),
                };
                let replica = Replica::open(dir, replica_key(key), clinic, env).map_err(replica_error)?;
                Ok(Projection { replica: Mutex::new(replica), change: tokio::sync::Notify::new() })
            }
            Err(e) => Err(replica_error(e)),
        }
    }

    /// Applies every op the feed holds past the copy's cursor, a page per
    /// transaction, so a reader after this sees every accepted change. The
    /// copy is held a page at a time: a reader waits for one page, not for
    /// a whole first build.
    pub fn catch_up(&self, store: &dyn ClinicStore) -> Result<CaughtUp, ClinicError> {
        let mut done = CaughtUp::default();
        loop {
            let mut replica = self.lock()?;
            // Another catch-up may have moved the cursor since this one last held the copy.
            let from = replica.cursor().map_err(replica_error)?;
            done.through = from;
            let page = store.feed_all(from, PAGE)?;
            if page.through <= from {
                return Ok(done);
            }
            let report = replica.apply(&page.ops, page.through).map_err(replica_error)?;
            done.applied += u64::from(report.applied);
            done.failed += u64::from(report.failed + report.quarantined);
            done.through = page.through;
            if report.failed + report.quarantined > 0 {
                tracing::warn!(
                    failed = report.failed,
                    quarantined = report.quarantined,
                    "ops in the feed could not be applied to the clinic's copy; kept on its problems list"
                );
            }
        }
    }

    /// Tells the follower the feed has grown.
    pub fn changed(&self) {
        self.change.notify_one();
    }

    /// Waits until `changed` is called (at once if it was called since the last wait).
    pub async fn wait_for_change(&self) {
        self.change.notified().await;
    }

    /// Reads the copy. Callers audit the read in the clinic's own trail.
    pub fn read<T>(&self, read: impl FnOnce(&Replica) -> Result<T, VaultError>) -> Result<T, ClinicError> {
        let replica = self.lock()?;
        read(&replica).map_err(replica_error)
    }

    /// The cases that may hold a referral's victim or perpetrator, from
    /// every victim and perpetrator the copy holds.
    pub fn possible_duplicates(
        &self,
        referral: &waymark_domain::intake::ReferralRecords,
    ) -> Result<Vec<waymark_domain::intake::PossibleDuplicate>, ClinicError> {
        let (victims, perpetrators) = self.read(|copy| {
            Ok((copy.list_all::<waymark_domain::Victim>()?, copy.list_all::<waymark_domain::Perpetrator>()?))
        })?;
        Ok(waymark_domain::intake::possible_duplicates(referral, &victims, &perpetrators))
    }

    fn lock(&self) -> Result<MutexGuard<'_, Replica>, ClinicError> {
        self.replica.lock().map_err(|_| ClinicError::Store("the clinic's copy of the records is unavailable".into()))
    }
}

/// The replica's key: its own, so a copy of one file never opens the other.
/// Public so a test can read the copy's pages back with it.
pub fn replica_key(clinic_key: &[u8; 32]) -> DbKey {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"waymark-clinic-replica-key-v1");
    hash.update(clinic_key);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&hash.finalize());
    DbKey::from_bytes(key)
}

/// Moves an unreadable copy out of the way; it holds nothing the feed does not.
/// Removes a copy that cannot be opened. It is only ever a cache of the feed,
/// and a copy kept aside would hold a case the clinic erases later, beyond
/// the erasure's reach.
fn remove_unreadable(dir: &Path) -> Result<(), ClinicError> {
    let mut aside = PathBuf::from(dir);
    aside.set_extension("old");
    // A copy an earlier build set aside as `.old` goes too.
    for old in [aside.as_path(), dir] {
        if old.exists() {
            std::fs::remove_dir_all(old)
                .map_err(|e| ClinicError::Setup(format!("remove the unreadable copy: {}", e.kind())))?;
        }
    }
    Ok(())
}

/// Vault errors name codes and record kinds, never values.
fn replica_error(e: VaultError) -> ClinicError {
    match e {
        VaultError::NotFound { .. } => ClinicError::NotFound,
        other => ClinicError::Store(format!("the clinic's copy of the records: {}", other.code().as_str())),
    }
}
