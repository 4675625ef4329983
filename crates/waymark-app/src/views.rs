//! What the screens show and what the forms send.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use waymark_domain::alerts::Warning;
use waymark_domain::timeline::Timeline;
use waymark_domain::*;
use waymark_vault::audit::AuditEvent;
use waymark_vault::queries::{CaseFile, SortBy};

/// Whether there is a vault, whether it is open, and how long the unlock screen must wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct VaultState {
    pub exists: bool,
    pub unlocked: bool,
    /// The advocate's staff code, once unlocked.
    pub advocate: Option<String>,
    /// Seconds before another passphrase may be tried.
    pub wait_secs: u64,
    pub failed_attempts: u32,
    pub idle_lock_minutes: u32,
    /// Whether a counts-only notification shows at unlock.
    pub unlock_notice: bool,
    /// Changes recorded here and not yet taken by the clinic.
    pub pending_changes: Option<i64>,
    /// When the clinic ordered this laptop's vault erased, if it did.
    pub wiped_by_clinic: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct CreateVault {
    pub advocate: String,
    pub passphrase: String,
    pub confirm: String,
    /// The clinic's `age1…` recovery recipient, if the service uses one.
    pub recovery_recipient: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct CaseloadQuery {
    pub status: Option<CaseStatus>,
    pub risk: Option<RiskLevel>,
    pub search: Option<String>,
    #[serde(default)]
    pub sort: SortBy,
}

/// Form fields by name, as `Patch::from_fields` reads them.
pub type Fields = Map<String, Value>;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct NewCase {
    pub case: Fields,
    pub victim: Fields,
}

/// One case as the case screen shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CaseView {
    pub file: CaseFile,
    /// Danger first.
    pub warnings: Vec<Warning>,
    pub timeline: Timeline,
    /// The newest audit events for this case.
    pub audit: Vec<AuditEvent>,
}

pub use waymark_domain::vocab::{KindFields, Vocabularies};
