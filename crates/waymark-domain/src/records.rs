//! Every entity of `shared/domain.md`, as typed records. Each record is also
//! stored as a JSON document, so field names here are the wire and storage
//! names too: renaming one needs a migration.

use crate::ids::*;
use crate::instruments::{Instruments, Scale};
use crate::rules::Rules;
use crate::validation::{Checker, ValidationErrors};
use crate::vocab::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What validation may consult besides the record itself.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub rules: &'a Rules,
    pub instruments: &'a Instruments,
}

fn yes() -> bool {
    true
}

// ---------------------------------------------------------------- case

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct PoliceReference {
    pub crime_reference: String,
    #[serde(default)]
    pub force: Option<String>,
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
        c.not_before(Some(self.opened_on), Some(self.referral.received_on), "opened_on", "referral.received_on");
        match (&self.status, &self.closure) {
            (CaseStatus::Open, Some(_)) => c.fail("closure", "must be empty while the case is open"),
            (CaseStatus::Closed, None) => c.fail("closure", "is required to close a case (date and reason)"),
            (_, Some(closure)) => c.not_before(Some(closure.closed_on), Some(self.opened_on), "closure.closed_on", "opened_on"),
            _ => {}
        }
        c.require(self.risk_review_on.is_none() || self.risk_level.is_some(), "risk_review_on", "needs a risk level");
        for (i, p) in self.police_references.iter().enumerate() {
            c.not_blank(&p.crime_reference, &format!("police_references[{i}].crime_reference"));
        }
    }
}

// ---------------------------------------------------------------- victim

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Victim {
    pub id: VictimId,
    pub case_id: CaseId,
    pub name: String,
    #[serde(default)]
    pub preferred_name: Option<String>,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    /// In the victim's own words.
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub interpreter_needed: bool,
    #[serde(default)]
    pub disabilities: Option<String>,
    #[serde(default)]
    pub dependants: Vec<Dependant>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub safe_contact: SafeContact,
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// Each decision to share without consent, with its lawful basis.
    #[serde(default)]
    pub sharing_without_consent: Vec<SharingDecision>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Dependant {
    /// Names this entry within its list, so edits of it on two laptops
    /// merge as one entry (`merge::merge_keyed_heads`). Given when first saved.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    pub name: String,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub lines: Vec<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    /// Defaults to true: an address is withheld unless someone decides otherwise.
    #[serde(default = "yes")]
    pub do_not_disclose: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SafeContact {
    #[serde(default)]
    pub phones: Vec<SafePhone>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_safe: bool,
    /// General safe times to make contact, e.g. "weekdays 10:00-14:00".
    #[serde(default)]
    pub safe_times: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SafePhone {
    pub number: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub voicemail_ok: bool,
    #[serde(default)]
    pub text_ok: bool,
    #[serde(default)]
    pub safe_times: Option<String>,
}

impl SafePhone {
    /// The rule shown beside the number wherever it appears.
    pub fn rules_text(&self) -> String {
        let voicemail = if self.voicemail_ok { "voicemail OK" } else { "NO voicemail" };
        let text = if self.text_ok { "texts OK" } else { "NO texts" };
        match &self.safe_times {
            Some(times) => format!("{voicemail}, {text}, safe times: {times}"),
            None => format!("{voicemail}, {text}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Names this entry within its list, so edits of it on two laptops
    /// merge as one entry (`merge::merge_keyed_heads`). Given when first saved.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    /// The agency or person the victim agreed information may go to.
    pub with: String,
    pub given_on: NaiveDate,
    #[serde(default)]
    pub withdrawn_on: Option<NaiveDate>,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct SharingDecision {
    /// Names this entry within its list, so edits of it on two laptops
    /// merge as one entry (`merge::merge_keyed_heads`). Given when first saved.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    pub with: String,
    pub shared_on: NaiveDate,
    pub lawful_basis: LawfulBasis,
    pub rationale: String,
    pub decided_by: String,
}

impl Victim {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.name, "name");
        c.not_blank_opt(self.preferred_name.as_deref(), "preferred_name");
        if let Some(a) = &self.address {
            c.require(a.lines.iter().any(|l| !l.trim().is_empty()), "address.lines", "needs at least one line");
        }
        for (i, p) in self.safe_contact.phones.iter().enumerate() {
            let ok = p.number.chars().filter(char::is_ascii_digit).count() >= 7
                && p.number.chars().all(|ch| ch.is_ascii_digit() || " +()-".contains(ch));
            c.require(ok, &format!("safe_contact.phones[{i}].number"), "must be a phone number (digits, spaces, + ( ) -)");
        }
        c.require(!self.safe_contact.email_safe || self.safe_contact.email.is_some(), "safe_contact.email_safe", "needs an email address");
        c.require(distinct(self.dependants.iter().map(|d| d.id)), "dependants", "has two entries with one id");
        c.require(distinct(self.consents.iter().map(|d| d.id)), "consents", "has two entries with one id");
        c.require(distinct(self.sharing_without_consent.iter().map(|d| d.id)), "sharing_without_consent", "has two entries with one id");
        for (i, d) in self.dependants.iter().enumerate() {
            c.not_blank(&d.name, &format!("dependants[{i}].name"));
        }
        for (i, k) in self.consents.iter().enumerate() {
            c.not_blank(&k.with, &format!("consents[{i}].with"));
            c.not_before(k.withdrawn_on, Some(k.given_on), &format!("consents[{i}].withdrawn_on"), "given_on");
        }
        for (i, s) in self.sharing_without_consent.iter().enumerate() {
            c.not_blank(&s.rationale, &format!("sharing_without_consent[{i}].rationale"));
            c.not_blank(&s.with, &format!("sharing_without_consent[{i}].with"));
        }
    }
}

/// Whether no two entries of a list share an id (entries not yet given one are not compared).
fn distinct(ids: impl Iterator<Item = Option<uuid::Uuid>>) -> bool {
    let mut seen = std::collections::HashSet::new();
    ids.flatten().all(|id| seen.insert(id))
}

// ---------------------------------------------------------------- perpetrator

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Perpetrator {
    pub id: PerpetratorId,
    pub case_id: CaseId,
    /// Known names, the usual one first.
    pub names: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub online_accounts: Vec<String>,
    pub relationship: Relationship,
    /// Set by the clinic.
    #[serde(default)]
    pub typology: Option<Typology>,
    /// `None` means not known.
    #[serde(default)]
    pub weapons_access: Option<bool>,
    #[serde(default)]
    pub weapons_notes: Option<String>,
    #[serde(default)]
    pub probation_status: Option<String>,
    #[serde(default)]
    pub mappa_status: Option<String>,
    #[serde(default)]
    pub mental_health: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    /// Names this entry within its list, so edits of it on two laptops
    /// merge as one entry (`merge::merge_keyed_heads`). Given when first saved.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub colour: Option<String>,
    #[serde(default)]
    pub registration: Option<String>,
}

impl Perpetrator {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.require(self.names.iter().any(|n| !n.trim().is_empty()), "names", "needs at least one name (\"unknown\" is allowed)");
        c.require(distinct(self.vehicles.iter().map(|v| v.id)), "vehicles", "has two entries with one id");
        for (i, v) in self.vehicles.iter().enumerate() {
            c.require(
                v.make.is_some() || v.colour.is_some() || v.registration.is_some(),
                &format!("vehicles[{i}]"),
                "needs a make, colour or registration",
            );
        }
    }
}

// ---------------------------------------------------------------- incident

/// One entry in the stalking diary. Never edited: see [`IncidentAmendment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub id: IncidentId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub location: Option<String>,
    /// What happened and the words used.
    pub account: String,
    pub channel: Channel,
    pub behaviours: Vec<Behaviour>,
    #[serde(default)]
    pub witnesses: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub reported_to_police: bool,
    #[serde(default)]
    pub crime_reference: Option<String>,
    #[serde(default)]
    pub officer: Option<String>,
    #[serde(default)]
    pub police_force: Option<String>,
    /// Impact on the victim, in their words (needed for "serious alarm or distress").
    #[serde(default)]
    pub impact: Option<String>,
    /// The order or bail condition this incident breaches, if any.
    #[serde(default)]
    pub breaches_order: Option<OrderId>,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub description: String,
    /// Where it is kept (e.g. "victim's phone", "police exhibit").
    #[serde(default)]
    pub kept_at: Option<String>,
}

/// How far ahead of the recording time an incident may be dated (a clock a
/// few minutes fast must not block a diary entry).
const INCIDENT_FUTURE_TOLERANCE_MINUTES: i64 = 10;

impl Incident {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.account, "account");
        c.require(!self.behaviours.is_empty(), "behaviours", "needs at least one behaviour");
        let mut seen = self.behaviours.clone();
        seen.sort();
        seen.dedup();
        c.require(seen.len() == self.behaviours.len(), "behaviours", "lists a behaviour twice");
        c.require(
            self.occurred_at <= self.recorded_at + Duration::minutes(INCIDENT_FUTURE_TOLERANCE_MINUTES),
            "occurred_at",
            "is in the future",
        );
        c.require(self.crime_reference.is_none() || self.reported_to_police, "crime_reference", "needs reported_to_police to be true");
        c.not_blank_opt(self.crime_reference.as_deref(), "crime_reference");
        for (i, e) in self.evidence.iter().enumerate() {
            c.not_blank(&e.description, &format!("evidence[{i}].description"));
        }
        for (i, b) in self.behaviours.iter().enumerate() {
            if let Behaviour::Other(text) = b {
                c.not_blank(text, &format!("behaviours[{i}].other"));
            }
        }
    }
}

/// A correction to an incident. The original stays as it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct IncidentAmendment {
    pub id: AmendmentId,
    pub incident_id: IncidentId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub made_at: DateTime<Utc>,
    pub made_by: String,
    pub reason: String,
    /// Corrected incident fields and their new values.
    pub changes: BTreeMap<String, serde_json::Value>,
}

/// Incident fields an amendment may not change: identity and provenance.
pub const INCIDENT_FIXED_FIELDS: [&str; 4] = ["id", "case_id", "recorded_at", "recorded_by"];

impl IncidentAmendment {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.reason, "reason");
        c.require(!self.changes.is_empty(), "changes", "needs at least one corrected field");
        for field in self.changes.keys() {
            c.require(
                !INCIDENT_FIXED_FIELDS.contains(&field.as_str()),
                &format!("changes.{field}"),
                "cannot be amended (it records who made the entry and when)",
            );
        }
    }
}

impl Incident {
    /// The incident as it reads after its amendments, oldest first. The
    /// original is unchanged; this is the corrected reading.
    pub fn amended<'a>(&self, amendments: impl IntoIterator<Item = &'a IncidentAmendment>) -> Result<Incident, ValidationErrors> {
        let mut doc = serde_json::to_value(self).map_err(|_| ValidationErrors::single("incident", "could not be read"))?;
        for amendment in amendments {
            for (field, value) in &amendment.changes {
                if INCIDENT_FIXED_FIELDS.contains(&field.as_str()) {
                    return Err(ValidationErrors::single(format!("changes.{field}"), "cannot be amended"));
                }
                match doc.as_object_mut() {
                    Some(map) if map.contains_key(field) => {
                        map.insert(field.clone(), value.clone());
                    }
                    _ => return Err(ValidationErrors::single(format!("changes.{field}"), "is not an incident field")),
                }
            }
        }
        crate::record::from_doc_typed::<Incident>(doc, "changes.")
    }
}

// ---------------------------------------------------------------- risk

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
        c.require(instrument.version == self.instrument_version, "instrument_version", "does not match the installed instrument file");
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

// ---------------------------------------------------------------- safety plan

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
                c.not_before(a.review_on, Some(self.made_on), &format!("sections[{i}].actions[{j}].review_on"), "made_on");
            }
        }
        for (i, s) in self.support_network.iter().enumerate() {
            c.not_blank(&s.name, &format!("support_network[{i}].name"));
            c.not_blank(&s.neutral_label, &format!("support_network[{i}].neutral_label"));
        }
    }
}

// ---------------------------------------------------------------- court

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

/// When an order ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "date", rename_all = "snake_case")]
pub enum Expiry {
    On(NaiveDate),
    UntilFurtherOrder,
    /// An interim SPO lasts until the main application is decided.
    UntilApplicationDecided,
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ProtectiveOrder {
    pub id: OrderId,
    pub case_id: CaseId,
    pub order_type: OrderType,
    /// The court or body that issued it.
    pub issued_by: String,
    #[serde(default)]
    pub applied_on: Option<NaiveDate>,
    #[serde(default)]
    pub made_on: Option<NaiveDate>,
    #[serde(default)]
    pub served_on: Option<NaiveDate>,
    pub expiry: Expiry,
    #[serde(default)]
    pub protected_persons: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// For pre-charge bail: who authorised the current period.
    #[serde(default)]
    pub bail_authority: Option<BailAuthority>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub kind: ConditionKind,
    pub text: String,
}

impl ProtectiveOrder {
    /// The notification deadline, for orders that carry one (SPO and interim SPO, s9).
    pub fn notification_deadline(&self, rules: &Rules) -> Option<NaiveDate> {
        match self.order_type {
            OrderType::Spo | OrderType::InterimSpo => self.served_on.and_then(|s| rules.spo_notification_deadline(s)),
            _ => None,
        }
    }

    /// Whether the order has effect on a date (made, and not yet expired).
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        let started = self.made_on.is_some_and(|m| m <= date);
        let ended = matches!(self.expiry, Expiry::On(end) if end < date);
        started && !ended
    }

    pub(crate) fn check(&self, c: &mut Checker, ctx: &Ctx<'_>) {
        c.not_blank(&self.issued_by, "issued_by");
        c.not_before(self.made_on, self.applied_on, "made_on", "applied_on");
        c.not_before(self.served_on, self.made_on, "served_on", "made_on");
        if let Expiry::On(end) = self.expiry {
            c.not_before(Some(end), self.made_on, "expiry.date", "made_on");
        }
        for (i, k) in self.conditions.iter().enumerate() {
            c.not_blank(&k.text, &format!("conditions[{i}].text"));
        }
        match self.order_type {
            OrderType::Spo => match (&self.expiry, self.made_on) {
                (Expiry::On(end), Some(made)) => {
                    let earliest = ctx.rules.spo_earliest_expiry(made);
                    c.require(
                        earliest.is_some_and(|e| *end >= e),
                        "expiry.date",
                        &format!(
                            "is less than {} years after made_on (an SPO runs at least that long, or until further order)",
                            ctx.rules.spo_minimum_years
                        ),
                    );
                }
                (Expiry::UntilApplicationDecided, _) => {
                    c.fail("expiry", "cannot be \"until the application is decided\" for a full SPO (use interim_spo)")
                }
                _ => {}
            },
            OrderType::PreChargeBail => {
                let authority = self.bail_authority;
                c.require(authority.is_some(), "bail_authority", "is required for pre-charge bail");
                if let (Some(authority), Some(made), Expiry::On(end)) = (authority, self.made_on, &self.expiry) {
                    if let Some(limit) = ctx.rules.bail_limit(made, authority) {
                        c.require(
                            *end <= limit,
                            "expiry.date",
                            &format!("is beyond the limit for {} (record who extended the bail)", authority.label()),
                        );
                    }
                }
            }
            OrderType::ReleasedUnderInvestigation => {
                c.require(self.conditions.is_empty(), "conditions", "must be empty: released under investigation carries no conditions")
            }
            _ => {}
        }
        if self.bail_authority.is_some() && self.order_type != OrderType::PreChargeBail {
            c.fail("bail_authority", "applies only to pre-charge bail");
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Breach {
    pub id: BreachId,
    pub case_id: CaseId,
    pub order_id: OrderId,
    pub occurred_on: NaiveDate,
    #[serde(default)]
    pub incident_id: Option<IncidentId>,
    #[serde(default)]
    pub reported_to_police: bool,
    #[serde(default)]
    pub crime_reference: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
}

impl Breach {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.require(self.crime_reference.is_none() || self.reported_to_police, "crime_reference", "needs reported_to_police to be true");
    }
}

// ---------------------------------------------------------------- referrals, clinic, contacts, tasks

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
            c.require(srp.is_some_and(|i| i.question(domain).is_some()), &format!("srp.{domain}"), "is not a domain of the SRP record");
            c.not_blank(&judgement.rationale, &format!("srp.{domain}.rationale"));
        }
        for (i, a) in self.actions.iter().enumerate() {
            c.not_blank(&a.action, &format!("actions[{i}].action"));
        }
    }
}

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
        c.require(self.with_victim || self.party.is_some(), "party", "is required when the contact is not with the victim");
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: TaskId,
    #[serde(default)]
    pub case_id: Option<CaseId>,
    pub due_on: NaiveDate,
    pub what: String,
    #[serde(default)]
    pub linked: Option<RecordRef>,
    pub status: TaskStatus,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub kind: crate::record::RecordKind,
    pub id: uuid::Uuid,
}

impl Task {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.what, "what");
        c.require((self.status == TaskStatus::Done) == self.done_on.is_some(), "done_on", "is set exactly when the task is done");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Entity;
    use uuid::Uuid;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn check<E: Entity>(record: &E) -> Vec<String> {
        let rules = Rules::shipped();
        let instruments = Instruments::shipped();
        match record.validate(&Ctx { rules: &rules, instruments: &instruments }) {
            Ok(()) => vec![],
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    fn order(order_type: OrderType, made: NaiveDate, expiry: Expiry) -> ProtectiveOrder {
        ProtectiveOrder {
            id: OrderId(Uuid::from_bytes([1; 16])),
            case_id: CaseId(Uuid::from_bytes([2; 16])),
            order_type,
            issued_by: "Court".into(),
            applied_on: None,
            made_on: Some(made),
            served_on: None,
            expiry,
            protected_persons: vec![],
            conditions: vec![],
            bail_authority: None,
        }
    }

    #[test]
    fn an_spo_runs_two_years_or_until_further_order() {
        let made = d(2026, 3, 1);
        assert!(check(&order(OrderType::Spo, made, Expiry::On(d(2028, 3, 1)))).is_empty());
        assert!(check(&order(OrderType::Spo, made, Expiry::UntilFurtherOrder)).is_empty());
        let short = check(&order(OrderType::Spo, made, Expiry::On(d(2028, 2, 29))));
        assert_eq!(short.len(), 1);
        assert!(short[0].starts_with("expiry.date is less than 2 years"), "{short:?}");
        // Only an interim SPO lasts until the application is decided.
        assert!(!check(&order(OrderType::Spo, made, Expiry::UntilApplicationDecided)).is_empty());
        assert!(check(&order(OrderType::InterimSpo, made, Expiry::UntilApplicationDecided)).is_empty());
    }

    #[test]
    fn pre_charge_bail_is_limited_by_who_authorised_it() {
        let made = d(2026, 1, 10);
        let mut bail = order(OrderType::PreChargeBail, made, Expiry::On(d(2026, 6, 10)));
        assert_eq!(check(&bail), vec!["bail_authority is required for pre-charge bail".to_owned()]);
        bail.bail_authority = Some(BailAuthority::FirstGrant);
        assert!(check(&bail)[0].starts_with("expiry.date is beyond the limit for First grant"));
        bail.bail_authority = Some(BailAuthority::Inspector);
        assert!(check(&bail).is_empty(), "an inspector may extend to 6 months");
        let mut rui = order(OrderType::ReleasedUnderInvestigation, made, Expiry::NotSet);
        rui.conditions.push(Condition { kind: ConditionKind::NoContact, text: "x".into() });
        assert!(check(&rui)[0].starts_with("conditions must be empty"));
    }

    #[test]
    fn the_notification_deadline_is_three_days_after_service() {
        let mut spo = order(OrderType::Spo, d(2026, 3, 1), Expiry::UntilFurtherOrder);
        assert_eq!(spo.notification_deadline(&Rules::shipped()), None, "no deadline before service");
        spo.served_on = Some(d(2026, 3, 2));
        assert_eq!(spo.notification_deadline(&Rules::shipped()), Some(d(2026, 3, 5)));
        let ro = order(OrderType::RestrainingOnConviction, d(2026, 3, 1), Expiry::UntilFurtherOrder);
        assert_eq!(ro.notification_deadline(&Rules::shipped()), None);
        assert!(spo.in_force_on(d(2026, 3, 1)) && !spo.in_force_on(d(2026, 2, 28)));
    }

    #[test]
    fn contacts_name_the_party_and_tasks_record_when_done() {
        let contact = Contact {
            id: ContactId(Uuid::from_bytes([3; 16])),
            case_id: CaseId(Uuid::from_bytes([2; 16])),
            at: chrono::DateTime::UNIX_EPOCH,
            method: ContactMethod::Phone,
            with_victim: false,
            party: None,
            summary: "Spoke to OIC".into(),
            victims_code_update: false,
        };
        assert_eq!(check(&contact), vec!["party is required when the contact is not with the victim".to_owned()]);
        let task = Task {
            id: TaskId(Uuid::from_bytes([4; 16])),
            case_id: None,
            due_on: d(2026, 12, 1),
            what: "Chase CPS".into(),
            linked: None,
            status: TaskStatus::Done,
            done_on: None,
        };
        assert_eq!(check(&task), vec!["done_on is set exactly when the task is done".to_owned()]);
    }

    #[test]
    fn a_closed_case_needs_a_closure_and_an_open_one_must_not_have_one() {
        let mut case = Case {
            id: CaseId(Uuid::from_bytes([2; 16])),
            reference: "HSC-2026-0142".into(),
            status: CaseStatus::Closed,
            closure: None,
            referral: IntakeReferral {
                received_on: d(2026, 1, 1),
                source: ReferralSource::Police,
                referrer: None,
                reason: "r".into(),
                consent_recorded: true,
            },
            advocate: "A".into(),
            opened_on: d(2026, 1, 2),
            risk_level: None,
            risk_review_on: None,
            police_references: vec![],
            court_cases: vec![],
            persistently_targeted: false,
        };
        assert_eq!(check(&case), vec!["closure is required to close a case (date and reason)".to_owned()]);
        case.closure = Some(Closure {
            closed_on: d(2025, 12, 1),
            reason: ClosureReason::SupportComplete,
            feels_safer: None,
            behaviour_stopped: None,
            quality_of_life_improved: None,
        });
        assert_eq!(check(&case), vec!["closure.closed_on is before opened_on".to_owned()]);
        case.reference = "HSC 2026".into();
        assert_eq!(check(&case).len(), 2);
    }

    #[test]
    fn safe_contact_rules_read_plainly_beside_a_number() {
        let phone = SafePhone {
            number: "07700 900123".into(),
            label: None,
            voicemail_ok: false,
            text_ok: true,
            safe_times: Some("10:00-14:00".into()),
        };
        assert_eq!(phone.rules_text(), "NO voicemail, texts OK, safe times: 10:00-14:00");
    }
}
