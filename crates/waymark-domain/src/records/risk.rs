//! Risk assessments: answers to a versioned instrument and the judged level.

use super::*;
use crate::record::{ids_and, KindRules, Presented};
use serde_json::json;

/// An assessment is history: a new one is made, never an edit.
pub(crate) const RULES: KindRules = KindRules {
    order: &["assessed_on", "id"],
    correction: Some("risk assessment (history is kept)"),
    presented: &[
        Presented::new("instrument", "Instrument"),
        Presented::new("instrument_version", "Version"),
        Presented::new("assessed_on", "Assessed on"),
        Presented::new("assessor", "Assessor"),
        // Asked question by question from the instrument's file.
        Presented::new("answers", "Answers").own_screen().shown_as(show_answers),
        Presented::new("judged_level", "Risk level (professional judgement)").shown_as(RiskLevel::show),
        Presented::new("rationale", "Why this level"),
        Presented::new("next_review_on", "Review by"),
    ],
    new_doc: |n| ids_and(n, json!({"assessed_on": n.today.to_string(), "assessor": n.actor, "answers": {}})),
    about: crate::access::About::Victim,
    ..KindRules::PLAIN
};

/// The answers as a count: each answer and its comment belong to the
/// assessment's own screen and printout, not to a summary of the case.
fn show_answers(value: &serde_json::Value) -> String {
    let answers: BTreeMap<String, AnswerEntry> = serde_json::from_value(value.clone()).unwrap_or_default();
    if answers.is_empty() {
        return String::new();
    }
    let yes = answers.values().filter(|a| a.answer == Answer::Yes).count();
    format!("{} answered, {yes} yes", answers.len())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RiskAssessment {
    pub id: RiskAssessmentId,
    pub case_id: CaseId,
    /// Instrument id from `assets/instruments` (`dash`, `s-dash`, `srp`).
    pub instrument: String,
    pub instrument_version: String,
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub answers: BTreeMap<String, AnswerEntry>,
    pub judged_level: RiskLevel,
    /// Required when the judged level is below what the count suggests.
    #[serde(default)]
    pub rationale: Option<String>,
    pub next_review_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AnswerEntry {
    pub answer: Answer,
    #[serde(default)]
    pub comment: Option<String>,
}

impl RiskAssessment {
    pub fn yes_count(&self) -> u32 {
        let yes = self.answers.values().filter(|a| a.answer == Answer::Yes).count();
        u32::try_from(yes).unwrap_or(u32::MAX)
    }

    pub(crate) fn check(&self, c: &mut Checker, ctx: &Ctx<'_>) {
        c.not_blank(&self.assessor, "assessor");
        c.not_before(Some(self.next_review_on), Some(self.assessed_on), "next_review_on", "assessed_on");
        let Some(instrument) = ctx.instruments.get(&self.instrument) else {
            c.fail("instrument", "is not an instrument this vault knows");
            return;
        };
        c.require(
            instrument.version == self.instrument_version,
            "instrument_version",
            "does not match the installed instrument file",
        );
        for (id, entry) in &self.answers {
            if instrument.question(id).is_none() {
                c.fail(format!("answers.{id}"), "is not a question of this instrument");
            } else if !instrument.scale.accepts(entry.answer) {
                let allowed = match instrument.scale {
                    Scale::YesNo => "yes, no or not_known",
                    Scale::Rating => "low, moderate or high",
                };
                c.fail(format!("answers.{id}.answer"), format!("must be {allowed}"));
            }
        }
        for q in &instrument.questions {
            c.require(self.answers.contains_key(&q.id), &format!("answers.{}", q.id), "is unanswered (use not_known)");
        }
        if let Some(suggested) = instrument.suggested_level(self.yes_count()) {
            let explained = self.rationale.as_deref().is_some_and(|r| !r.trim().is_empty());
            c.require(
                self.judged_level >= suggested || explained,
                "rationale",
                "is required when the judged level is below the level the count suggests",
            );
        }
    }
}
