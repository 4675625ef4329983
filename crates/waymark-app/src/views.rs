//! What the screens show and what the forms send.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use waymark_domain::alerts::Warning;
use waymark_domain::record::Presented;
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

/// The values every form chooses from.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Vocabularies {
    pub behaviours: Vec<Choice>,
    pub channels: Vec<Choice>,
    pub case_statuses: Vec<Choice>,
    pub risk_levels: Vec<Choice>,
    pub referral_sources: Vec<Choice>,
    pub relationships: Vec<Choice>,
    pub hearing_types: Vec<Choice>,
    pub order_types: Vec<Choice>,
    pub condition_kinds: Vec<Choice>,
    pub contact_methods: Vec<Choice>,
    pub plan_sections: Vec<Choice>,
    pub answers: Vec<Choice>,
    pub task_statuses: Vec<Choice>,
    pub closure_reasons: Vec<Choice>,
    pub referral_targets: Vec<Choice>,
    pub referral_statuses: Vec<Choice>,
    /// The fields each kind presents, with their labels (`KindRules::presented`):
    /// the forms take labels and fields from here instead of repeating them.
    pub presented: Vec<KindFields>,
}

/// A kind's presented fields, and which of them the core sets (never in a form).
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct KindFields {
    pub kind: RecordKind,
    pub fields: Vec<Presented>,
    pub set_by_core: Vec<&'static str>,
}

impl Vocabularies {
    pub fn all() -> Self {
        Self {
            behaviours: Behaviour::choices(),
            channels: Channel::choices(),
            case_statuses: CaseStatus::choices(),
            risk_levels: RiskLevel::choices(),
            referral_sources: ReferralSource::choices(),
            relationships: Relationship::choices(),
            hearing_types: HearingType::choices(),
            order_types: OrderType::choices(),
            condition_kinds: ConditionKind::choices(),
            contact_methods: ContactMethod::choices(),
            plan_sections: PlanSection::choices(),
            answers: Answer::choices(),
            task_statuses: TaskStatus::choices(),
            closure_reasons: ClosureReason::choices(),
            referral_targets: ReferralTarget::choices(),
            referral_statuses: ReferralStatus::choices(),
            presented: RecordKind::ALL
                .iter()
                .map(|&kind| KindFields {
                    kind,
                    fields: kind.rules().presented.to_vec(),
                    set_by_core: kind.rules().protected.to_vec(),
                })
                .collect(),
        }
    }
}
