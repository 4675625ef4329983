//! The clinic panel's review of a case.

use super::*;
use crate::record::{ids_and, KindRules};
use serde_json::json;

/// The panel's record of a review: only the clinic writes it.
pub(crate) const RULES: KindRules = KindRules {
    clinic_only: true,
    new_doc: |n| ids_and(n, json!({"meeting_on": n.today.to_string()})),
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ClinicReview {
    pub id: ClinicReviewId,
    pub case_id: CaseId,
    pub meeting_on: NaiveDate,
    pub agencies_present: Vec<Agency>,
    #[serde(default)]
    pub typology: Option<Typology>,
    /// SRP outputs by domain id of the `srp` instrument.
    #[serde(default)]
    pub srp: BTreeMap<String, SrpJudgement>,
    #[serde(default)]
    pub actions: Vec<AgreedAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SrpJudgement {
    pub rating: SrpRating,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AgreedAction {
    pub action: String,
    pub owner: Agency,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
}

/// The instrument that names the SRP domains a clinic review rates.
pub const SRP_INSTRUMENT: &str = "srp";

impl ClinicReview {
    pub(crate) fn check(&self, c: &mut Checker, ctx: &Ctx<'_>) {
        c.require(!self.agencies_present.is_empty(), "agencies_present", "needs at least one agency");
        let srp = ctx.instruments.get(SRP_INSTRUMENT);
        for (domain, judgement) in &self.srp {
            c.require(
                srp.is_some_and(|i| i.question(domain).is_some()),
                &format!("srp.{domain}"),
                "is not a domain of the SRP record",
            );
            c.not_blank(&judgement.rationale, &format!("srp.{domain}.rationale"));
        }
        for (i, a) in self.actions.iter().enumerate() {
            c.not_blank(&a.action, &format!("actions[{i}].action"));
        }
    }
}
