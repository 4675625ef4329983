//! Sync from the app. A background thread syncs while the vault is
//! unlocked and enrolled: at unlock, every few minutes, when the network
//! changes, and when asked. Failures back off exponentially with jitter.
//! Each step holds the vault only briefly, never across network I/O.

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use serde::Serialize;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use waymark_domain::codes::ErrorCode;
use waymark_sync::{sync_once, SyncError};
use waymark_vault::sync::{Conflict, PendingOp, Problem, Resolution, SyncStatus};
use waymark_vault::Vault;

/// Between successful rounds.
const INTERVAL: Duration = Duration::from_secs(5 * 60);
/// How often the network is looked at for a change.
const NETWORK_POLL: Duration = Duration::from_secs(15);
const PENDING_SHOWN: u32 = 200;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SyncView {
    pub status: SyncStatus,
    /// Where the clinic is, once enrolled (an address, no personal data).
    pub clinic_url: Option<String>,
    pub pending: Vec<PendingOp>,
    pub conflicts: Vec<Conflict>,
    pub problems: Vec<Problem>,
    /// A round is running in the background now.
    pub running: bool,
}

pub(crate) enum Nudge {
    Now,
    Stop,
}

/// The handle to the background thread.
#[derive(Debug)]
pub(crate) struct Background {
    nudge: Sender<Nudge>,
    running: Arc<Mutex<bool>>,
}

impl Background {
    pub(crate) fn nudge(&self) {
        let _ = self.nudge.send(Nudge::Now);
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.nudge.send(Nudge::Stop);
    }
}

/// Said next to the code box when the code was issued to someone else.
const ANOTHER_ADVOCATES_CODE: &str =
    "was issued for another staff code than this laptop's; ask the clinic for a code issued to you";

impl From<SyncError> for DeskError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Vault(e) => e.into(),
            SyncError::Locked => DeskError::locked(),
            other => DeskError::new(other.code(), other.to_string()),
        }
    }
}

/// A cheap summary of the machine's network addresses; a change means a new network.
fn network_fingerprint() -> String {
    let mut addresses: Vec<String> = if_addrs::get_if_addrs()
        .map(|list| list.into_iter().filter(|i| !i.is_loopback()).map(|i| format!("{}={}", i.name, i.ip())).collect())
        .unwrap_or_default();
    addresses.sort();
    addresses.join(",")
}

fn backoff() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(5))
        .with_max_delay(Duration::from_secs(10 * 60))
        .with_jitter()
        .without_max_times()
        .build()
}

fn run_loop(vault: Arc<Mutex<Option<Vault>>>, nudges: std::sync::mpsc::Receiver<Nudge>, running: Arc<Mutex<bool>>) {
    let mut delays = backoff();
    let mut wait = Duration::ZERO;
    let mut network = network_fingerprint();
    loop {
        let mut waited = Duration::ZERO;
        // Sleep in short steps so a network change starts a round at once.
        while waited < wait {
            let step = NETWORK_POLL.min(wait - waited);
            match nudges.recv_timeout(step) {
                Ok(Nudge::Now) => break,
                Ok(Nudge::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
            waited += step;
            let now = network_fingerprint();
            if now != network {
                network = now;
                tracing::info!("the network changed; syncing");
                break;
            }
        }
        let enrolled =
            vault.lock().ok().and_then(|g| g.as_ref().map(|v| v.sync_link().map(|l| l.is_some()).unwrap_or(false)));
        if enrolled != Some(true) {
            wait = INTERVAL;
            continue;
        }
        if let Ok(mut flag) = running.lock() {
            *flag = true;
        }
        let outcome = sync_once(&*vault);
        if let Ok(mut flag) = running.lock() {
            *flag = false;
        }
        wait = match outcome {
            Ok(report) => {
                tracing::info!(
                    pushed = report.pushed,
                    pulled = report.pulled,
                    conflicts = report.conflicts,
                    "sync round finished"
                );
                delays = backoff();
                INTERVAL
            }
            Err(SyncError::Wiped) => {
                // The vault erased itself on the clinic's order; drop what is left.
                if let Ok(mut guard) = vault.lock() {
                    guard.take();
                }
                INTERVAL
            }
            Err(SyncError::Locked) => INTERVAL,
            Err(e) if e.is_permanent() => {
                tracing::warn!(code = %e.code(), "sync refused; on the problems list");
                delays.next().unwrap_or(INTERVAL).max(INTERVAL)
            }
            Err(e) => {
                let next = delays.next().unwrap_or(INTERVAL);
                tracing::info!(code = %e.code(), retry_in_s = next.as_secs(), "sync failed; retrying later");
                next
            }
        };
    }
}

impl Desk {
    /// Starts the background sync thread. The shell calls it once at start.
    pub fn start_background_sync(&self) {
        let mut slot = self.background();
        if slot.is_some() {
            return;
        }
        let (nudge, nudges) = channel();
        let running = Arc::new(Mutex::new(false));
        let (vault, flag) = (self.vault_handle(), running.clone());
        let spawned =
            std::thread::Builder::new().name("waymark-sync".into()).spawn(move || run_loop(vault, nudges, flag));
        if spawned.is_ok() {
            *slot = Some(Background { nudge, running });
        }
    }

    pub fn sync_view(&self) -> Result<SyncView> {
        let running = self.background().as_ref().and_then(|b| b.running.lock().ok().map(|r| *r)).unwrap_or(false);
        self.with_vault(|v| {
            Ok(SyncView {
                status: v.sync_status()?,
                clinic_url: v.sync_link()?.map(|l| l.url),
                pending: v.sync_pending(PENDING_SHOWN)?,
                conflicts: v.sync_conflicts()?,
                problems: v.sync_problems()?,
                running,
            })
        })
    }

    /// Where this laptop asks for app updates: its clinic, reached with the
    /// same certificate check as a sync. `None` before it is enrolled.
    pub fn update_source(&self) -> Result<Option<UpdateSource>> {
        let link = self.with_vault(|v| Ok(v.sync_link()?))?;
        let Some(link) = link else { return Ok(None) };
        let tls = waymark_sync::tls_config(link.fingerprint.as_deref()).map_err(|_| {
            DeskError::new(ErrorCode::NotEnrolled, "This laptop's clinic link is damaged; enrol again.")
        })?;
        Ok(Some(UpdateSource { check_url: waymark_sync::update_check_url(&link.url), tls }))
    }

    /// Enrols with the code from the clinic administrator, then syncs.
    pub fn sync_enrol(&self, code: String) -> Result<SyncView> {
        self.register(code, waymark_sync::enrol)
    }

    /// Enrols again as a new device with a new code from the same clinic (a
    /// laptop put back from an older copy), then syncs: the clinic
    /// recognises what it already holds and the rest is sent.
    pub fn sync_rejoin(&self, code: String) -> Result<SyncView> {
        self.register(code, waymark_sync::rejoin)
    }

    fn register(
        &self,
        code: String,
        how: fn(&std::sync::Mutex<Option<waymark_vault::Vault>>, &str) -> std::result::Result<(), SyncError>,
    ) -> Result<SyncView> {
        if code.trim().is_empty() {
            return Err(DeskError::field("code", "is required: paste the code the clinic gave you"));
        }
        let vault = self.vault_handle();
        off_async(|| how(&vault, &code)).map_err(|e| match e {
            SyncError::Protocol(p) => DeskError::field("code", &p.to_string()),
            SyncError::AdvocateMismatch { .. } => DeskError::field("code", ANOTHER_ADVOCATES_CODE),
            SyncError::WrongServer => {
                DeskError::field("code", "is from another clinic: ask your own clinic's administrator for a code")
            }
            SyncError::Refused { code: ErrorCode::AdvocateMismatch, .. } => {
                DeskError::field("code", ANOTHER_ADVOCATES_CODE)
            }
            other => other.into(),
        })?;
        self.sync_now()
    }

    /// Sets a problem aside with the reason (kept; the dismissal is audited without it).
    pub fn dismiss_problem(&self, id: i64, reason: String) -> Result<SyncView> {
        self.with_vault(|v| Ok(v.dismiss_problem(id, &reason)?))?;
        self.sync_view()
    }

    /// Tries a change from the clinic again (after Waymark was updated, say).
    pub fn retry_problem(&self, id: i64) -> Result<SyncView> {
        self.with_vault(|v| Ok(v.retry_problem(id)?))?;
        self.sync_view()
    }

    /// Starts a round now: in the background when the thread runs, otherwise here.
    pub fn sync_now(&self) -> Result<SyncView> {
        match self.background().as_ref() {
            Some(background) => background.nudge(),
            None => match off_async(|| sync_once(&*self.vault_handle())) {
                Ok(_) => {}
                Err(SyncError::Wiped) => {
                    self.vault_handle().lock().map_err(|_| DeskError::locked())?.take();
                    return Err(SyncError::Wiped.into());
                }
                Err(e) => return Err(e.into()),
            },
        }
        self.sync_view()
    }

    /// A person's decision on a conflict.
    pub fn resolve_conflict(&self, id: String, keep: Resolution) -> Result<SyncView> {
        self.with_vault(|v| Ok(v.resolve_conflict(&id, keep)?))?;
        if let Some(background) = self.background().as_ref() {
            background.nudge();
        }
        self.sync_view()
    }

    /// Starts a round at unlock, when the background thread runs.
    pub(crate) fn sync_on_unlock(&self) {
        if let Some(background) = self.background().as_ref() {
            background.nudge();
        }
    }
}

/// Runs network work on its own thread. The shell's commands run on an async
/// runtime, where the blocking HTTP client refuses to start.
fn off_async<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| scope.spawn(work).join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Where and how the app's updater reaches the clinic.
pub struct UpdateSource {
    /// The check's address, with Tauri's updater's placeholders.
    pub check_url: String,
    /// The clinic's certificate pin, as the sync checks it.
    pub tls: rustls::ClientConfig,
}
