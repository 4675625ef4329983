//! Court hearings.

use super::*;
use crate::record::{Asked, KindRules, Presented};

/// The date of a hearing is safety-critical: a victim must not miss it.
pub(crate) const RULES: KindRules = KindRules {
    safety_critical: &["starts_at", "next_date"],
    sets: &["special_measures"],
    order: &["starts_at", "id"],
    presented: &[
        Presented::new("court", "Court"),
        Presented::new("hearing_type", "Hearing type").shown_as(HearingType::show),
        Presented::new("starts_at", "Date and time"),
        Presented::new("court_reference", "Court reference"),
        Presented::new("special_measures", "Special measures (one a line)"),
        Presented::new("witness_care_contact", "Witness Care contact").asked(Asked::WhenMadeAndLater),
        // After the hearing.
        Presented::new("outcome", "Outcome").later(),
        Presented::new("next_date", "Next date").later(),
        Presented::new("victim_attends", "The victim attended").later(),
        Presented::new("vps_read", "The Victim Personal Statement was read").later(),
    ],
    about: crate::access::About::Both,
    never_to_perpetrator: &["special_measures", "witness_care_contact", "victim_attends"],
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
