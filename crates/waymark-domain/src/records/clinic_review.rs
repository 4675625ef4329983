//! The clinic panel's review of a case.

use super::*;
use crate::record::{ids_and, KindRules, Presented};
use serde_json::json;

/// The panel's record of a review: only the clinic writes it.
pub(crate) const RULES: KindRules = KindRules {
    clinic_only: true,
    new_doc: |n| ids_and(n, json!({"meeting_on": n.today.to_string()})),
    // Recorded at the clinic; a laptop shows it.
    presented: &[
        Presented::new("meeting_on", "Panel met on").own_screen(),
        Presented::new("agencies_present", "Agencies present").own_screen().shown_as(Agency::show),
        Presented::new("typology", "Typology").own_screen().shown_as(Typology::show),
        Presented::new("srp", "Stalking Risk Profile").own_screen().shown_as(show_srp),
        Presented::new("decisions", "Decided").own_screen().shown_as(PanelDecision::show),
        Presented::new("actions", "Actions agreed").own_screen().shown_as(show_actions),
    ],
    // What the panel's agencies brought and decided.
    about: crate::access::About::Others,
    never_to_perpetrator: &["actions"],
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
    /// What the panel decided (record schema 9).
    #[serde(default)]
    pub decisions: Vec<PanelDecision>,
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
    /// The person at the owning agency who does it (record schema 9).
    #[serde(default)]
    pub named_owner: Option<String>,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
}

/// Each SRP domain with its rating and why.
fn show_srp(value: &serde_json::Value) -> String {
    let srp: BTreeMap<String, SrpJudgement> = serde_json::from_value(value.clone()).unwrap_or_default();
    srp.iter()
        .map(|(domain, j)| format!("{domain}: {} ({})", j.rating.label(), j.rationale))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each action with who owns it, when it is due and where it stands.
fn show_actions(value: &serde_json::Value) -> String {
    let actions: Vec<AgreedAction> = serde_json::from_value(value.clone()).unwrap_or_default();
    actions
        .iter()
        .map(|a| {
            let owner = match &a.named_owner {
                Some(name) => format!("{}, {name}", a.owner.label()),
                None => a.owner.label().to_owned(),
            };
            format!("{} ({owner}, due {}, {})", a.action, crate::time::show_date(a.due_on), a.status.label())
        })
        .collect::<Vec<_>>()
        .join("; ")
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
