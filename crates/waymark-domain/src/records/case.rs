//! A case: who holds it, how it came in, and how it closed.

use super::*;
use crate::record::{KindRules, Presented};
use serde_json::json;

/// Who holds a case is the clinic's to set; its risk is safety-critical.
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id", "advocate"],
    clinic_owned: &["advocate"],
    // Lifting a hold on one laptop while another sets it must reach a person.
    safety_critical: &["risk_level", "risk_review_on", "legal_hold"],
    sets: &["police_references", "court_cases"],
    // A case is its own case: it has no case_id.
    internal: &["id"],
    presented: &[
        Presented::new("reference", "Case reference"),
        Presented::new("status", "Status").own_screen().shown_as(CaseStatus::show),
        Presented::new("referral.received_on", "Referral received on"),
        Presented::new("referral.source", "Referred by").shown_as(ReferralSource::show),
        Presented::new("referral.referrer", "Referrer"),
        Presented::new("referral.reason", "Reason for referral"),
        Presented::new("referral.consent_recorded", "Consent to the referral is recorded"),
        // What a partner agency's referral form adds (the clinic's intake, `intake.rs`).
        Presented::new("referral.referrer_contact", "Referrer's phone or e-mail").later(),
        Presented::new("referral.their_reference", "Referrer's own reference").later(),
        Presented::new("referral.criteria", "Criteria met").later().shown_as(ReferralCriterion::show),
        Presented::new("referral.victim_aware", "The victim knows of the referral").later(),
        Presented::new("referral.afraid_of", "Who the victim is afraid of").later(),
        Presented::new("referral.previous_referral", "Previous referrals").later(),
        Presented::new("opened_on", "Opened on"),
        Presented::new("advocate", "Advocate"),
        // Set from the latest risk assessment.
        Presented::new("risk_level", "Risk level").own_screen().shown_as(RiskLevel::show),
        Presented::new("risk_review_on", "Risk review due").own_screen(),
        Presented::new("police_references", "Police references").own_screen(),
        Presented::new("court_cases", "Court case numbers").later(),
        Presented::new("persistently_targeted", "Persistently targeted").later(),
        // Asked by closing the case (`operations::close_case`).
        Presented::new("closure.closed_on", "Closed on").own_screen(),
        Presented::new("closure.reason", "Why the case is closing").own_screen().shown_as(ClosureReason::show),
        Presented::new("closure.feels_safer", "The victim feels safer").own_screen(),
        Presented::new("closure.behaviour_stopped", "The stalking behaviour stopped").own_screen(),
        Presented::new("closure.quality_of_life_improved", "Quality of life improved").own_screen(),
        Presented::new("closure.better_able_to_cope", "Better able to cope and recover").own_screen(),
        // Asked on the retention screen (schema 11).
        Presented::new("legal_hold.reason", "Kept under a legal hold because").own_screen().shown_as(HoldReason::show),
        Presented::new("legal_hold.since", "Legal hold since").own_screen(),
    ],
    new_doc: |n| {
        let today = n.today.to_string();
        json!({
            "id": n.id.to_string(), "status": "open", "advocate": n.actor, "opened_on": today,
            "referral": {"received_on": today, "consent_recorded": false}
        })
    },
    // Her case as the service ran it; the referrer is someone else.
    about_fields: &[
        ("referral.referrer", crate::access::About::Others),
        ("referral.referrer_contact", crate::access::About::Others),
    ],
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: CaseId,
    /// The service's own reference, e.g. `HSC-2026-0142`.
    pub reference: String,
    pub status: CaseStatus,
    #[serde(default)]
    pub closure: Option<Closure>,
    pub referral: IntakeReferral,
    /// The assigned advocate's staff code (not a name).
    pub advocate: String,
    pub opened_on: NaiveDate,
    #[serde(default)]
    pub risk_level: Option<RiskLevel>,
    #[serde(default)]
    pub risk_review_on: Option<NaiveDate>,
    #[serde(default)]
    pub police_references: Vec<PoliceReference>,
    #[serde(default)]
    pub court_cases: Vec<String>,
    /// Victims' Code: persistently targeted victims get enhanced rights.
    #[serde(default)]
    pub persistently_targeted: bool,
    /// Stops the retention schedule while proceedings or a review need the
    /// case (schema 11): a held case is never due for deletion.
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    pub reason: HoldReason,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct IntakeReferral {
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    #[serde(default)]
    pub referrer: Option<String>,
    pub reason: String,
    pub consent_recorded: bool,
    /// How the clinic can reach the referrer (a work phone or e-mail).
    #[serde(default)]
    pub referrer_contact: Option<String>,
    /// The referring agency's own reference (a crime or case number), so the
    /// referrer can tell their referrals apart without the victim's name.
    #[serde(default)]
    pub their_reference: Option<String>,
    #[serde(default)]
    pub criteria: Vec<ReferralCriterion>,
    /// `None` when the form did not say.
    #[serde(default)]
    pub victim_aware: Option<bool>,
    /// Who the victim is afraid of, in the referrer's words.
    #[serde(default)]
    pub afraid_of: Option<String>,
    /// Any earlier referral of this victim or about this perpetrator.
    #[serde(default)]
    pub previous_referral: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub closed_on: NaiveDate,
    pub reason: ClosureReason,
    /// Victim-reported outcomes at exit, for the quarterly return.
    #[serde(default)]
    pub feels_safer: Option<bool>,
    #[serde(default)]
    pub behaviour_stopped: Option<bool>,
    #[serde(default)]
    pub quality_of_life_improved: Option<bool>,
    /// The Ministry of Justice's outcome measure for victims' services (schema 10).
    #[serde(default)]
    pub better_able_to_cope: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PoliceReference {
    pub crime_reference: String,
    #[serde(default)]
    pub force: Option<String>,
}

impl IntakeReferral {
    /// A referral with only what every case holds; the rest is a referral form's.
    pub fn new(received_on: NaiveDate, source: ReferralSource, reason: &str, consent_recorded: bool) -> Self {
        Self {
            received_on,
            source,
            referrer: None,
            reason: reason.to_owned(),
            consent_recorded,
            referrer_contact: None,
            their_reference: None,
            criteria: Vec::new(),
            victim_aware: None,
            afraid_of: None,
            previous_referral: None,
        }
    }
}

impl Case {
    /// The latest risk assessment sets the case's current level and review date.
    pub fn apply_assessment(&mut self, assessment: &RiskAssessment) {
        self.risk_level = Some(assessment.judged_level);
        self.risk_review_on = Some(assessment.next_review_on);
    }

    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.reference, "reference");
        c.require(
            self.reference.len() <= 40 && !self.reference.chars().any(char::is_whitespace),
            "reference",
            "must be at most 40 characters with no spaces",
        );
        c.not_blank(&self.advocate, "advocate");
        c.not_blank(&self.referral.reason, "referral.reason");
        c.not_blank_opt(self.referral.referrer_contact.as_deref(), "referral.referrer_contact");
        c.require(
            self.referral.their_reference.as_deref().is_none_or(|r| r.chars().count() <= 40),
            "referral.their_reference",
            "must be at most 40 characters",
        );
        c.not_before(Some(self.opened_on), Some(self.referral.received_on), "opened_on", "referral.received_on");
        match (&self.status, &self.closure) {
            (CaseStatus::Open, Some(_)) => c.fail("closure", "must be empty while the case is open"),
            (CaseStatus::Closed, None) => c.fail("closure", "is required to close a case (date and reason)"),
            (_, Some(closure)) => {
                c.not_before(Some(closure.closed_on), Some(self.opened_on), "closure.closed_on", "opened_on")
            }
            _ => {}
        }
        c.require(self.risk_review_on.is_none() || self.risk_level.is_some(), "risk_review_on", "needs a risk level");
        for (i, p) in self.police_references.iter().enumerate() {
            c.not_blank(&p.crime_reference, &format!("police_references[{i}].crime_reference"));
        }
    }
}
