//! Safety plans: each version is a new record that starts from the last.

use super::*;
use crate::record::{ids_and, AtClinic, KindRules, Presented};
use serde_json::json;

/// Each version is a new record that starts from the latest one's content.
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id", "case_id", "version"],
    // The code word, safe places and the victim's routines.
    at_clinic: AtClinic::WithholdAll,
    order: &["version"],
    correction: Some("safety plan version"),
    carries_forward: &["review_on", "code_word", "safe_places", "sections", "support_network"],
    // The plan has an editor of its own: sections, actions and people.
    presented: &[
        Presented::new("version", "Version"),
        Presented::new("made_on", "Made on"),
        Presented::new("made_by", "Made by"),
        Presented::new("review_on", "Review on").own_screen(),
        Presented::new("code_word", "Code word").own_screen().not_in_summaries(),
        Presented::new("safe_places", "Safe places").own_screen().not_in_summaries(),
        Presented::new("sections", "Sections").own_screen().not_in_summaries(),
        Presented::new("support_network", "Support network").own_screen().not_in_summaries(),
    ],
    new_doc: |n| ids_and(n, json!({"made_on": n.today.to_string(), "made_by": n.actor})),
    about: crate::access::About::Victim,
    ..KindRules::PLAIN
};

/// One version of a safety plan. A new version is a new record; old ones stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SafetyPlan {
    pub id: SafetyPlanId,
    pub case_id: CaseId,
    pub version: u32,
    pub made_on: NaiveDate,
    pub review_on: NaiveDate,
    pub made_by: String,
    #[serde(default)]
    pub code_word: Option<String>,
    #[serde(default)]
    pub safe_places: Vec<String>,
    #[serde(default)]
    pub sections: Vec<PlanSectionEntry>,
    #[serde(default)]
    pub support_network: Vec<Supporter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PlanSectionEntry {
    pub section: PlanSection,
    #[serde(default)]
    pub actions: Vec<PlanAction>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PlanAction {
    pub action: String,
    /// Who does it: "me", "advocate", "police", a named supporter.
    pub who: String,
    #[serde(default)]
    pub review_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Supporter {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// What this person knows and the signal agreed with them.
    #[serde(default)]
    pub knows: Option<String>,
    /// The label shown on a discreet printout instead of the name or service.
    pub neutral_label: String,
}

impl SafetyPlan {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.require(self.version >= 1, "version", "must be 1 or more");
        c.not_blank(&self.made_by, "made_by");
        c.not_before(Some(self.review_on), Some(self.made_on), "review_on", "made_on");
        let mut sections: Vec<PlanSection> = self.sections.iter().map(|s| s.section).collect();
        sections.sort();
        sections.dedup();
        c.require(sections.len() == self.sections.len(), "sections", "lists a section twice");
        for (i, s) in self.sections.iter().enumerate() {
            for (j, a) in s.actions.iter().enumerate() {
                c.not_blank(&a.action, &format!("sections[{i}].actions[{j}].action"));
                c.not_blank(&a.who, &format!("sections[{i}].actions[{j}].who"));
                c.not_before(
                    a.review_on,
                    Some(self.made_on),
                    &format!("sections[{i}].actions[{j}].review_on"),
                    "made_on",
                );
            }
        }
        for (i, s) in self.support_network.iter().enumerate() {
            c.not_blank(&s.name, &format!("support_network[{i}].name"));
            c.not_blank(&s.neutral_label, &format!("support_network[{i}].neutral_label"));
        }
    }
}
