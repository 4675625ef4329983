//! The victim: contact, safety arrangements, consents and dependants.

use super::*;
use crate::record::{Asked, AtClinic, KindRules, Presented};

/// The address and the safe way to make contact are safety-critical.
pub(crate) const RULES: KindRules = KindRules {
    address_fields: &["address"],
    safety_critical: &["address", "safe_contact"],
    keyed: &["consents", "sharing_without_consent", "dependants"],
    presented: &[
        Presented::new("name", "Name").asked(Asked::WhenMadeAndLater),
        Presented::new("preferred_name", "Preferred name").asked(Asked::WhenMadeAndLater),
        Presented::new("date_of_birth", "Date of birth").later(),
        Presented::new("gender", "Gender").later(),
        Presented::new("language", "Language").later(),
        Presented::new("interpreter_needed", "Interpreter needed").asked(Asked::WhenMadeAndLater),
        Presented::new("disabilities", "Disabilities or support needs").later(),
        Presented::new("ethnicity", "Ethnic group").later().shown_as(Ethnicity::show),
        Presented::new("sexual_orientation", "Sexual orientation").later().shown_as(SexualOrientation::show),
        Presented::new("address.lines", "Address (one line each)").asked(Asked::WhenMadeAndLater),
        Presented::new("address.postcode", "Postcode").asked(Asked::WhenMadeAndLater),
        Presented::new("address.do_not_disclose", "Address: do not disclose").later(),
        Presented::new("safe_contact.phones", "Safe phones").own_screen(),
        Presented::new("safe_contact.email", "Email").later(),
        Presented::new("safe_contact.email_safe", "Email is safe to use").later(),
        Presented::new("safe_contact.safe_times", "Safe times to contact").later(),
        Presented::new("safe_contact.notes", "Safe contact notes").later(),
        Presented::new("dependants", "Dependants").own_screen(),
        Presented::new("consents", "Consents to share").own_screen(),
        Presented::new("sharing_without_consent", "Shared without consent").own_screen(),
    ],
    at_clinic: AtClinic::WithholdUnlessShared(&["address", "safe_contact", "dependants"]),
    about: crate::access::About::Victim,
    // Her children are their own people.
    about_fields: &[("dependants", crate::access::About::Others)],
    ..KindRules::PLAIN
};

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
    /// Asked for the commissioner's return; optional, with "prefers not to say" (schema 10).
    #[serde(default)]
    pub ethnicity: Option<Ethnicity>,
    #[serde(default)]
    pub sexual_orientation: Option<SexualOrientation>,
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
    /// How the child is related to the victim and to the perpetrator.
    #[serde(default)]
    pub relationship: Option<String>,
    #[serde(default)]
    pub school: Option<String>,
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
    /// When it is one of the clinic panel's agencies: what lets that agency's
    /// panel members see where the victim lives and how to reach them.
    #[serde(default)]
    pub agency: Option<Agency>,
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
    /// When shared with one of the clinic panel's agencies (see `Consent::agency`).
    #[serde(default)]
    pub agency: Option<Agency>,
    pub shared_on: NaiveDate,
    pub lawful_basis: LawfulBasis,
    pub rationale: String,
    pub decided_by: String,
}

impl Victim {
    /// Whether a consent in force on `today`, or a recorded lawful basis,
    /// covers sharing the victim's contact details with `agency` (clinic.md,
    /// "Panel members": each agency sees what it needs and no more).
    pub fn shares_with(&self, agency: &Agency, today: NaiveDate) -> bool {
        let consented = self.consents.iter().any(|c| {
            c.agency.as_ref() == Some(agency) && c.given_on <= today && c.withdrawn_on.is_none_or(|w| w > today)
        });
        // A decision to share holds from the day it was made; a new consent or decision changes it.
        // A decision recorded with consent as its basis is a consent: it counts only as one in `consents`.
        consented
            || self.sharing_without_consent.iter().any(|s| {
                s.agency.as_ref() == Some(agency) && s.shared_on <= today && s.lawful_basis != LawfulBasis::Consent
            })
    }

    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.name, "name");
        c.not_blank_opt(self.preferred_name.as_deref(), "preferred_name");
        if let Some(a) = &self.address {
            c.require(a.lines.iter().any(|l| !l.trim().is_empty()), "address.lines", "needs at least one line");
        }
        for (i, p) in self.safe_contact.phones.iter().enumerate() {
            let ok = p.number.chars().filter(char::is_ascii_digit).count() >= 7
                && p.number.chars().all(|ch| ch.is_ascii_digit() || " +()-".contains(ch));
            c.require(
                ok,
                &format!("safe_contact.phones[{i}].number"),
                "must be a phone number (digits, spaces, + ( ) -)",
            );
        }
        c.require(
            !self.safe_contact.email_safe || self.safe_contact.email.is_some(),
            "safe_contact.email_safe",
            "needs an email address",
        );
        c.require(distinct(self.dependants.iter().map(|d| d.id)), "dependants", "has two entries with one id");
        c.require(distinct(self.consents.iter().map(|d| d.id)), "consents", "has two entries with one id");
        c.require(
            distinct(self.sharing_without_consent.iter().map(|d| d.id)),
            "sharing_without_consent",
            "has two entries with one id",
        );
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
