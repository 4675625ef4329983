//! Referrals the advocate makes to other services.

use super::*;
use crate::record::{ids_and, Asked, KindRules, Presented};
use serde_json::json;

pub(crate) const RULES: KindRules = KindRules {
    new_doc: |n| ids_and(n, json!({"made_on": n.today.to_string(), "status": "sent"})),
    presented: &[
        Presented::new("target", "Referred to").shown_as(ReferralTarget::show),
        Presented::new("made_on", "Made on"),
        Presented::new("status", "Status").asked(Asked::WhenMadeAndLater).shown_as(ReferralStatus::show),
        Presented::new("outcome", "Outcome").later(),
        Presented::new("outcome_on", "Outcome on").later(),
    ],
    about: crate::access::About::Victim,
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Referral {
    pub id: ReferralId,
    pub case_id: CaseId,
    pub target: ReferralTarget,
    pub made_on: NaiveDate,
    pub status: ReferralStatus,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub outcome_on: Option<NaiveDate>,
}

impl Referral {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_before(self.outcome_on, Some(self.made_on), "outcome_on", "made_on");
    }
}
