//! The vault session behind the desktop app. It holds the open vault, or
//! nothing while locked, so locking drops every decrypted byte it owns.

use crate::error::{DeskError, Result};
use crate::printing::PrintState;
use crate::views::*;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use uuid::Uuid;
use waymark_domain::codes::ErrorCode;
use waymark_domain::patch::Patch;
use waymark_domain::time::{london_date, Clock};
use waymark_domain::timeline::weekly;
use waymark_domain::{CaseId, Record, RecordKind};
use waymark_vault::queries::CaseloadFilter;
use waymark_vault::throttle::Attempts;
use waymark_vault::{Env, InitOptions, Vault, SHIPPED_WORK_FACTOR};

/// Makes a fresh random source for each vault session; tests pass a seeded one.
pub type EnvFactory = Box<dyn Fn() -> Box<dyn rand::RngCore + Send> + Send + Sync>;

/// Device settings. They hold no personal data, so they live in a plain file
/// beside the key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Settings {
    pub idle_lock_minutes: u32,
    /// A desktop notification at unlock with counts only (`ThisWeek::notice`).
    /// Off until the advocate turns it on: a notification can show on a
    /// screen someone else is looking at.
    #[serde(default)]
    pub unlock_notice: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { idle_lock_minutes: 5, unlock_notice: false }
    }
}

const SETTINGS_FILE: &str = "desktop-settings.json";
const CASE_AUDIT_ROWS: u32 = 200;

pub struct Desk {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    rng: EnvFactory,
    work_factor: u8,
    vault: Arc<Mutex<Option<Vault>>>,
    print: Mutex<PrintState>,
    background: Mutex<Option<crate::syncing::Background>>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").field("unlocked", &self.guard().is_some()).finish_non_exhaustive()
    }
}

impl Desk {
    pub fn new(dir: PathBuf, clock: Arc<dyn Clock>, rng: EnvFactory) -> Self {
        Self {
            dir,
            clock,
            rng,
            work_factor: SHIPPED_WORK_FACTOR,
            vault: Arc::new(Mutex::new(None)),
            print: Mutex::default(),
            background: Mutex::new(None),
        }
    }

    /// A lower scrypt work factor, for tests only: the shipped one is the measured decision.
    pub fn with_work_factor(mut self, work_factor: u8) -> Self {
        self.work_factor = work_factor;
        self
    }

    fn env(&self) -> Env {
        Env { clock: self.clock.clone(), rng: (self.rng)() }
    }

    fn guard(&self) -> MutexGuard<'_, Option<Vault>> {
        // A panic while holding the lock cannot leave the vault half-written
        // (every write is one transaction), so the session stays usable.
        self.vault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn vault_handle(&self) -> Arc<Mutex<Option<Vault>>> {
        self.vault.clone()
    }

    pub(crate) fn background(&self) -> MutexGuard<'_, Option<crate::syncing::Background>> {
        self.background.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn print_state(&self) -> MutexGuard<'_, PrintState> {
        self.print.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub(crate) fn with_vault<T>(&self, work: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        let mut guard = self.guard();
        let vault = guard.as_mut().ok_or_else(DeskError::locked)?;
        work(vault)
    }

    pub fn settings(&self) -> Settings {
        std::fs::read_to_string(self.dir.join(SETTINGS_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn set_idle_lock_minutes(&self, minutes: u32) -> Result<VaultState> {
        if !(1..=60).contains(&minutes) {
            return Err(DeskError::field("idle_lock_minutes", "must be between 1 and 60 minutes"));
        }
        self.with_vault(|_| Ok(()))?;
        self.save_settings(Settings { idle_lock_minutes: minutes, ..self.settings() })
    }

    /// Turns the counts-only notification at unlock on or off.
    pub fn set_unlock_notice(&self, on: bool) -> Result<VaultState> {
        self.with_vault(|_| Ok(()))?;
        self.save_settings(Settings { unlock_notice: on, ..self.settings() })
    }

    fn save_settings(&self, settings: Settings) -> Result<VaultState> {
        let text = serde_json::to_vec(&settings).unwrap_or_default();
        std::fs::write(self.dir.join(SETTINGS_FILE), text).map_err(|_| {
            DeskError::new(ErrorCode::Io, "The settings could not be saved. Check the disk and try again.")
        })?;
        Ok(self.state())
    }

    /// What the notification at unlock says, when the advocate asked for
    /// one and there is something to say: counts only, never a name or a
    /// reference. Not audited: it shows no record.
    pub fn unlock_notice(&self) -> Option<String> {
        if !self.settings().unlock_notice {
            return None;
        }
        self.with_vault(|v| Ok(v.this_week_notice()?)).ok().flatten()
    }

    pub fn state(&self) -> VaultState {
        let guard = self.guard();
        let attempts = Attempts::load(&self.dir);
        VaultState {
            exists: waymark_vault::vault_exists(&self.dir),
            unlocked: guard.is_some(),
            advocate: guard.as_ref().map(|v| v.actor().to_owned()),
            wait_secs: attempts.wait_secs(self.clock.now()),
            failed_attempts: attempts.failures,
            idle_lock_minutes: self.settings().idle_lock_minutes,
            unlock_notice: self.settings().unlock_notice,
            pending_changes: guard.as_ref().and_then(|v| v.pending_ops().ok()),
            wiped_by_clinic: waymark_vault::sync::wiped_notice(&self.dir).map(|(at, _)| at),
        }
    }

    pub fn create(&self, form: CreateVault) -> Result<VaultState> {
        let CreateVault { advocate, passphrase, confirm, recovery_recipient } = form;
        let passphrase = SecretString::from(passphrase);
        let confirm = SecretString::from(confirm);
        use secrecy::ExposeSecret;
        if advocate.trim().is_empty() {
            return Err(DeskError::field("advocate", "is required: your staff code, recorded against every change"));
        }
        let strength = crate::passphrase_strength(passphrase.expose_secret());
        if !strength.acceptable {
            return Err(DeskError::field("passphrase", &strength.hint));
        }
        if passphrase.expose_secret() != confirm.expose_secret() {
            return Err(DeskError::field("confirm", "does not match the passphrase; type the same passphrase twice"));
        }
        let recovery =
            match recovery_recipient.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(text) => Some(waymark_vault::keyfile::parse_recipient(text).map_err(|_| {
                    DeskError::field("recovery_recipient", "is not an age recipient: it starts with age1")
                })?),
                None => None,
            };
        let options = InitOptions { advocate: advocate.trim().to_owned(), recovery, work_factor: self.work_factor };
        let mut guard = self.guard();
        if guard.is_some() {
            return Err(DeskError::new(ErrorCode::AlreadyUnlocked, "A vault is already open. Lock it first."));
        }
        *guard = Some(Vault::init(&self.dir, &passphrase, &options, self.env())?);
        drop(guard);
        // A new vault replaces one the clinic erased; the notice has been seen.
        let _ = std::fs::remove_file(self.dir.join(waymark_vault::sync::WIPED_NOTICE));
        Ok(self.state())
    }

    pub fn unlock(&self, passphrase: String) -> Result<VaultState> {
        let passphrase = SecretString::from(passphrase);
        let mut guard = self.guard();
        if guard.is_none() {
            *guard = Some(Vault::unlock(&self.dir, &passphrase, self.env())?);
        }
        drop(guard);
        self.sync_on_unlock();
        Ok(self.state())
    }

    /// Closes the vault and zeroises its key. Locking an already locked vault is fine.
    pub fn lock(&self) -> VaultState {
        if let Some(vault) = self.guard().take() {
            vault.lock();
        }
        self.print_state().clear();
        self.state()
    }

    pub fn caseload(&self, query: CaseloadQuery) -> Result<Vec<waymark_vault::queries::CaseloadRow>> {
        let filter = CaseloadFilter { status: query.status, risk: query.risk, search: query.search, sort: query.sort };
        self.with_vault(|v| Ok(v.caseload(&filter)?))
    }

    pub fn case_view(&self, case_id: CaseId) -> Result<CaseView> {
        self.with_vault(|v| {
            let file = v.case_file(case_id)?;
            let today = london_date(v.now());
            let warnings = file.warnings(today);
            let incidents: Vec<_> = file.incidents.iter().map(|i| &i.current).collect();
            let timeline = weekly(&incidents, today);
            let audit = v.audit_events(Some(case_id), CASE_AUDIT_ROWS)?;
            Ok(CaseView { file, warnings, timeline, audit })
        })
    }

    /// Opens a case with its victim, in one transaction.
    pub fn open_case(&self, form: NewCase, address_confirmed: bool) -> Result<CaseId> {
        let case = Patch::from_fields(&form.case)?;
        let victim = Patch::from_fields(&form.victim)?;
        self.with_vault(|v| {
            let (case, _) = guarded(v, address_confirmed, |v| v.open_case(&case, &victim))?;
            case.case_id()
                .ok_or_else(|| DeskError::new(ErrorCode::Database, "The case was saved without an id. Report this."))
        })
    }

    /// Saves a new record. `address_confirmed` is the advocate's answer to
    /// an `address_in_text` refusal of the same save.
    pub fn add_record(
        &self,
        kind: RecordKind,
        case_id: Option<CaseId>,
        fields: Fields,
        address_confirmed: bool,
    ) -> Result<Record> {
        let patch = Patch::from_fields(&fields)?;
        self.with_vault(|v| Ok(guarded(v, address_confirmed, |v| v.add(kind, case_id, &patch))?))
    }

    pub fn edit_record(&self, kind: RecordKind, id: Uuid, fields: Fields, address_confirmed: bool) -> Result<Record> {
        let patch = Patch::from_fields(&fields)?;
        self.with_vault(|v| Ok(guarded(v, address_confirmed, |v| v.edit(kind, id, &patch))?))
    }

    /// Corrects an incident with an amendment; the original stays as it was.
    pub fn amend_incident(
        &self,
        incident_id: Uuid,
        reason: String,
        changes: Fields,
        address_confirmed: bool,
    ) -> Result<Record> {
        let patch = Patch::from_fields(&changes)?;
        self.with_vault(|v| Ok(guarded(v, address_confirmed, |v| v.amend_incident(incident_id, &reason, &patch))?))
    }

    /// The home screen: escalating cases, then what is overdue, due today
    /// and due in the next seven days.
    pub fn this_week(&self) -> Result<waymark_vault::queries::ThisWeek> {
        self.with_vault(|v| Ok(v.this_week()?))
    }

    /// Every closed case against the service's retention schedule, the due
    /// ones first (a legal hold is set or lifted with `edit_record`). Audited.
    pub fn retention_review(&self) -> Result<Vec<waymark_domain::retention::RetentionRow>> {
        self.with_vault(|v| Ok(v.retention_review()?))
    }

    /// Puts a reminder off for `days` days (1 to 28) on this laptop; audited.
    pub fn snooze_reminder(&self, key: String, days: u32) -> Result<waymark_vault::queries::ThisWeek> {
        self.with_vault(|v| {
            let until = v.today().checked_add_days(chrono::Days::new(u64::from(days))).unwrap_or(v.today());
            v.snooze_reminder(&key, until)?;
            Ok(v.this_week()?)
        })
    }

    /// Marks a task done today.
    pub fn complete_task(&self, task_id: Uuid) -> Result<Record> {
        self.with_vault(|v| Ok(v.complete_task(task_id)?))
    }

    /// Closes a case with the closure's fields (`reason`, `closed_on`, outcomes at exit).
    pub fn close_case(&self, case_id: CaseId, closure: Fields, address_confirmed: bool) -> Result<Record> {
        let patch = Patch::from_fields(&closure)?;
        self.with_vault(|v| Ok(guarded(v, address_confirmed, |v| v.close_case(case_id, &patch))?))
    }

    pub fn instruments(&self) -> Result<Vec<waymark_domain::instruments::Instrument>> {
        self.with_vault(|v| Ok(v.instruments().iter().cloned().collect()))
    }
}

/// A save with the address guard's warning accepted or not.
fn guarded<T>(
    vault: &mut Vault,
    address_confirmed: bool,
    write: impl FnOnce(&mut Vault) -> waymark_vault::Result<T>,
) -> waymark_vault::Result<T> {
    if address_confirmed {
        vault.with_address_confirmed(write)
    } else {
        write(vault)
    }
}
