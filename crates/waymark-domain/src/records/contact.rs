//! Contacts with the victim and with others about the case.

use super::*;
use crate::record::{ids_and, AtClinic, KindRules, Presented};
use serde_json::json;

pub(crate) const RULES: KindRules = KindRules {
    order: &["at", "id"],
    // Notes of what the victim said to their advocate.
    at_clinic: AtClinic::WithholdAll,
    presented: &[
        Presented::new("at", "When"),
        Presented::new("method", "How"),
        Presented::new("with_victim", "With the victim"),
        Presented::new("party", "Agency or person (when not the victim)"),
        Presented::new("summary", "Summary"),
        Presented::new("victims_code_update", "A Victims' Code update was given"),
    ],
    new_doc: |n| ids_and(n, json!({"at": n.now.to_rfc3339(), "with_victim": true})),
    about: crate::access::About::Victim,
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub id: ContactId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub at: DateTime<Utc>,
    pub method: ContactMethod,
    /// True for contact with the victim (first contact is a commissioning measure).
    pub with_victim: bool,
    /// The agency or person, when not the victim.
    #[serde(default)]
    pub party: Option<String>,
    pub summary: String,
    /// A Victims' Code update on the case was given in this contact.
    #[serde(default)]
    pub victims_code_update: bool,
}

impl Contact {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.summary, "summary");
        c.require(
            self.with_victim || self.party.is_some(),
            "party",
            "is required when the contact is not with the victim",
        );
    }
}
