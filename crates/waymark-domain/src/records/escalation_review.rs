//! An advocate's review of what the escalation analysis flagged on a case.

use super::*;
use crate::record::{ids_and, AtClinic, KindRules, Presented};
use serde_json::json;

/// A review is history: a later change brings a new review, never an edit.
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id", "case_id", "reviewed_at", "reviewed_by"],
    order: &["reviewed_at", "id"],
    correction: Some("escalation review (a new review is made)"),
    new_doc: |n| ids_and(n, json!({"reviewed_at": n.now.to_rfc3339(), "reviewed_by": n.actor, "signs": []})),
    presented: &[
        Presented::new("reviewed_at", "Reviewed"),
        // Taken from the findings on screen when the review is made.
        Presented::new("signs", "What was reviewed").own_screen().shown_as(EscalationSign::show),
        Presented::new("note", "What was decided"),
        Presented::new("risk_assessment_id", "New risk assessment"),
        Presented::new("reviewed_by", "Reviewed by"),
    ],
    internal: &["id", "case_id"],
    // What was decided is written like a contact note, which stays on the
    // laptop; the clinic sees that the case was reviewed, when and by whom.
    at_clinic: AtClinic::Withhold(&["note"]),
    ..KindRules::PLAIN
};

/// Covers every finding whose evidence is no later than `reviewed_at`
/// (`escalation::analyse`); what happens afterwards is flagged afresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct EscalationReview {
    pub id: EscalationReviewId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: String,
    /// The signs on screen when it was reviewed.
    pub signs: Vec<EscalationSign>,
    pub note: String,
    /// The risk assessment made because of it, when one was.
    #[serde(default)]
    pub risk_assessment_id: Option<RiskAssessmentId>,
}

impl EscalationReview {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.note, "note");
        c.not_blank(&self.reviewed_by, "reviewed_by");
        c.require(!self.signs.is_empty(), "signs", "needs at least one sign reviewed");
        let mut seen = self.signs.clone();
        seen.sort();
        seen.dedup();
        c.require(seen.len() == self.signs.len(), "signs", "lists a sign twice");
    }
}
