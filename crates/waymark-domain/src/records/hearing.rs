//! Court hearings.

use super::*;
use crate::record::KindRules;

/// The date of a hearing is safety-critical: a victim must not miss it.
pub(crate) const RULES: KindRules = KindRules {
    safety_critical: &["starts_at", "next_date"],
    sets: &["special_measures"],
    order: &["starts_at", "id"],
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Hearing {
    pub id: HearingId,
    pub case_id: CaseId,
    pub court: String,
    pub hearing_type: HearingType,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub court_reference: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub next_date: Option<NaiveDate>,
    #[serde(default)]
    pub special_measures: Vec<String>,
    #[serde(default)]
    pub victim_attends: Option<bool>,
    #[serde(default)]
    pub vps_read: Option<bool>,
    #[serde(default)]
    pub witness_care_contact: Option<String>,
}

impl Hearing {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.court, "court");
        c.not_before(self.next_date, Some(crate::time::london_date(self.starts_at)), "next_date", "the hearing date");
    }
}
