//! A partner agency's referral before it is a case (clinic.md, "The flow of
//! a case", steps 1 and 2). The form is the three records accepting it makes
//! (the case with its referral, the victim, the perpetrator), so every field
//! keeps its record's own rules; this module adds what a referral must hold
//! beyond them, and finds the cases that may be about the same people.

use crate::disclosure::words;
use crate::records::{Case, Ctx, Perpetrator, Victim};
use crate::validation::{Checker, ValidationErrors};
use crate::{CaseId, Entity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The records a referral becomes when the clinic accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralRecords {
    pub case: Case,
    pub victim: Victim,
    pub perpetrator: Perpetrator,
}

impl ReferralRecords {
    /// Each record's own rules, then the referral's: who referred and how to
    /// reach them, why (at least one criterion), whether the victim knows,
    /// and the victim's consent or the lawful basis for sharing without it.
    /// Fields are named within the form (`victim.name`, `case.referral.reason`).
    pub fn check(&self, ctx: &Ctx<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        for (prefix, result) in [
            ("case.", self.case.validate(ctx)),
            ("victim.", self.victim.validate(ctx)),
            ("perpetrator.", self.perpetrator.validate(ctx)),
        ] {
            if let Err(errors) = result {
                c.merge(prefix, errors);
            }
        }
        let referral = &self.case.referral;
        c.require(
            referral.referrer.as_deref().is_some_and(|r| !r.trim().is_empty()),
            "case.referral.referrer",
            "must not be empty: who is referring",
        );
        c.require(
            referral.referrer_contact.as_deref().is_some_and(|r| !r.trim().is_empty()),
            "case.referral.referrer_contact",
            "must not be empty: how the clinic can reach the referrer",
        );
        c.require(!referral.criteria.is_empty(), "case.referral.criteria", "needs at least one criterion met");
        c.require(referral.victim_aware.is_some(), "case.referral.victim_aware", "must be answered");
        c.require(
            referral.consent_recorded || !self.victim.sharing_without_consent.is_empty(),
            "case.referral.consent_recorded",
            "needs the victim's consent, or the lawful basis for referring without it",
        );
        c.require(
            self.victim.case_id == self.case.id && self.perpetrator.case_id == self.case.id,
            "case.id",
            "must be the case of the victim and the perpetrator",
        );
        c.finish()
    }
}

/// The outward code of a UK postcode ("ZZ99" of "ZZ99 3LC"), which names a
/// district and not a street: enough for screening to see the area. `None`
/// for anything that does not read as a whole postcode, so a mistyped one
/// or text in the box is never shown for it.
pub fn outward_code(postcode: &str) -> Option<String> {
    let compact: String = postcode.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let (outward, inward) = compact.split_at(compact.len().checked_sub(3)?);
    let inward_ok = {
        let b = inward.as_bytes();
        b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
    };
    let outward_ok = (2..=4).contains(&outward.len())
        && outward.chars().all(|c| c.is_ascii_alphanumeric())
        && outward.starts_with(|c: char| c.is_ascii_alphabetic())
        && outward.chars().any(|c| c.is_ascii_digit());
    (inward_ok && outward_ok).then(|| outward.to_owned())
}

/// Which of the referral's people an existing case shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SamePerson {
    Victim,
    /// A perpetrator who stalks several people: the pattern a clinic must spot.
    Perpetrator,
}

impl SamePerson {
    pub const ALL: [SamePerson; 2] = [SamePerson::Victim, SamePerson::Perpetrator];
}

impl MatchedOn {
    pub const ALL: [MatchedOn; 3] = [MatchedOn::Name, MatchedOn::DateOfBirth, MatchedOn::Phone];
}

/// What made two people look the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MatchedOn {
    Name,
    DateOfBirth,
    Phone,
}

/// An existing case that may be about the referral's victim or perpetrator.
/// It names the case only: whoever reads it follows the case id under their
/// own need to know, so the other case's victim is never shown here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PossibleDuplicate {
    pub case_id: CaseId,
    /// Which of the referral's people.
    pub who: SamePerson,
    /// What they are in the other case: a victim there may be the
    /// perpetrator here (a counter-allegation), and the other way round.
    pub there: SamePerson,
    pub matched_on: Vec<MatchedOn>,
}

/// A name as a set of folded words: "SMITH, Jane" and "jane smith" match,
/// and so do names one of which adds a middle name.
fn same_name(a: &str, b: &str) -> bool {
    let (a, b): (BTreeSet<String>, BTreeSet<String>) = (words(a).into_iter().collect(), words(b).into_iter().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    // One word alone ("Dan") would match half a town.
    short.len() >= 2 && short.is_subset(long)
}

/// The last ten digits: "+44 7700 900123" and "07700 900123" are one number.
fn phone_key(number: &str) -> Option<String> {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| digits[digits.len().saturating_sub(10)..].iter().collect())
}

/// How two people match: a phone they share, or a name with dates of birth
/// that agree or are not both known. Different dates of birth are two people.
fn matching(
    names_a: &[&str],
    born_a: Option<chrono::NaiveDate>,
    phones_a: &[&str],
    names_b: &[&str],
    born_b: Option<chrono::NaiveDate>,
    phones_b: &[&str],
) -> Vec<MatchedOn> {
    let mut on = Vec::new();
    let name = names_a.iter().any(|a| names_b.iter().any(|b| same_name(a, b)));
    let born_differs = matches!((born_a, born_b), (Some(a), Some(b)) if a != b);
    if name && !born_differs {
        on.push(MatchedOn::Name);
        if born_a.is_some() && born_a == born_b {
            on.push(MatchedOn::DateOfBirth);
        }
    }
    let keys_b: BTreeSet<String> = phones_b.iter().filter_map(|p| phone_key(p)).collect();
    if phones_a.iter().filter_map(|p| phone_key(p)).any(|k| keys_b.contains(&k)) {
        on.push(MatchedOn::Phone);
    }
    on
}

fn victim_names(v: &Victim) -> Vec<&str> {
    std::iter::once(v.name.as_str()).chain(v.preferred_name.as_deref()).collect()
}

fn victim_phones(v: &Victim) -> Vec<&str> {
    v.safe_contact.phones.iter().map(|p| p.number.as_str()).collect()
}

fn perpetrator_names(p: &Perpetrator) -> Vec<&str> {
    p.names.iter().chain(&p.aliases).map(String::as_str).collect()
}

/// The cases that may already hold the referral's victim or perpetrator,
/// strongest match first. The referral's own case is never one of them.
pub fn possible_duplicates<'a>(
    referral: &ReferralRecords,
    victims: impl IntoIterator<Item = &'a Victim>,
    perpetrators: impl IntoIterator<Item = &'a Perpetrator>,
) -> Vec<PossibleDuplicate> {
    let (v, p) = (&referral.victim, &referral.perpetrator);
    let mut found: Vec<PossibleDuplicate> = Vec::new();
    let mut add = |case_id: CaseId, who: SamePerson, there: SamePerson, matched_on: Vec<MatchedOn>| {
        if matched_on.is_empty() || case_id == referral.case.id {
            return;
        }
        match found.iter_mut().find(|d| d.case_id == case_id && d.who == who && d.there == there) {
            Some(known) => {
                known.matched_on.extend(matched_on);
                known.matched_on.sort_unstable();
                known.matched_on.dedup();
            }
            None => found.push(PossibleDuplicate { case_id, who, there, matched_on }),
        }
    };
    // The referral's two people, each as names, a date of birth and phones.
    let perpetrator_phones: Vec<&str> = p.phones.iter().map(String::as_str).collect();
    let ours = [
        (SamePerson::Victim, victim_names(v), v.date_of_birth, victim_phones(v)),
        (SamePerson::Perpetrator, perpetrator_names(p), p.date_of_birth, perpetrator_phones),
    ];
    for other in victims {
        for (who, names, born, phones) in &ours {
            let on = matching(names, *born, phones, &victim_names(other), other.date_of_birth, &victim_phones(other));
            add(other.case_id, *who, SamePerson::Victim, on);
        }
    }
    for other in perpetrators {
        let other_phones: Vec<&str> = other.phones.iter().map(String::as_str).collect();
        for (who, names, born, phones) in &ours {
            let on = matching(names, *born, phones, &perpetrator_names(other), other.date_of_birth, &other_phones);
            add(other.case_id, *who, SamePerson::Perpetrator, on);
        }
    }
    found.sort_by_key(|d| (std::cmp::Reverse(d.matched_on.len()), d.who, d.there, d.case_id.as_uuid()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::ServiceRules;
    use serde_json::json;

    fn case_id(n: u128) -> CaseId {
        CaseId(uuid::Uuid::from_u128(n))
    }

    fn records(victim: serde_json::Value, perpetrator: serde_json::Value) -> ReferralRecords {
        let case = case_id(1);
        let mut v = json!({"id": uuid::Uuid::from_u128(2), "case_id": case, "name": "Placeholder"});
        v.as_object_mut().unwrap().extend(victim.as_object().unwrap().clone());
        let mut p = json!({"id": uuid::Uuid::from_u128(3), "case_id": case, "names": [], "relationship": "ex_intimate_partner"});
        p.as_object_mut().unwrap().extend(perpetrator.as_object().unwrap().clone());
        ReferralRecords {
            case: serde_json::from_value(json!({
                "id": case, "reference": "CLN-1", "status": "open", "advocate": "clinic", "opened_on": "2026-12-01",
                "referral": {"received_on": "2026-12-01", "source": "police", "referrer": "DC Example",
                    "referrer_contact": "0113 496 0000", "reason": "Repeated unwanted contact",
                    "consent_recorded": true, "criteria": ["professional_judgement"], "victim_aware": true}
            }))
            .unwrap(),
            victim: serde_json::from_value(v).unwrap(),
            perpetrator: serde_json::from_value(p).unwrap(),
        }
    }

    fn victim(case: u128, name: &str, born: Option<&str>, phone: Option<&str>) -> Victim {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(case * 10), "case_id": case_id(case), "name": name, "date_of_birth": born,
            "safe_contact": {"phones": phone.map(|n| vec![json!({"number": n})]).unwrap_or_default()}
        }))
        .unwrap()
    }

    fn perpetrator(case: u128, names: &[&str], born: Option<&str>) -> Perpetrator {
        serde_json::from_value(json!({
            "id": uuid::Uuid::from_u128(case * 10 + 1), "case_id": case_id(case), "names": names,
            "date_of_birth": born, "relationship": "stranger"
        }))
        .unwrap()
    }

    #[test]
    fn a_complete_referral_passes_and_each_missing_part_is_named() {
        let service = ServiceRules::shipped();
        let ctx = service.ctx();
        let good = records(json!({"name": "Alex Example"}), json!({"names": ["Sam Example"]}));
        assert_eq!(good.check(&ctx), Ok(()));

        // Why: a referral the clinic cannot act on (nobody to call back, no
        // basis to hold it, no criterion) must be refused at the form, by field.
        let mut bad = good.clone();
        bad.case.referral.referrer_contact = None;
        bad.case.referral.criteria.clear();
        bad.case.referral.victim_aware = None;
        bad.case.referral.consent_recorded = false;
        bad.victim.name = " ".into();
        bad.perpetrator.names.clear();
        let fields = bad.check(&ctx).unwrap_err();
        assert_eq!(
            fields.fields(),
            [
                "victim.name",
                "perpetrator.names",
                "case.referral.referrer_contact",
                "case.referral.criteria",
                "case.referral.victim_aware",
                "case.referral.consent_recorded",
            ]
        );

        // A recorded lawful basis stands in for consent.
        let mut basis = good.clone();
        basis.case.referral.consent_recorded = false;
        basis.victim.sharing_without_consent = vec![serde_json::from_value(json!({
            "with": "the clinic", "shared_on": "2026-12-01", "lawful_basis": "vital_interests",
            "rationale": "Threats to kill", "decided_by": "DC Example"
        }))
        .unwrap()];
        assert_eq!(basis.check(&ctx), Ok(()));
    }

    #[test]
    fn the_same_perpetrator_in_another_case_is_found_by_name_and_birth_date() {
        let referral = records(
            json!({"name": "Alex Example", "date_of_birth": "1990-01-02"}),
            json!({"names": ["Samuel J Example"], "date_of_birth": "1980-05-06"}),
        );
        let victims = [victim(7, "Robin Other", None, None)];
        let perpetrators = [
            perpetrator(7, &["EXAMPLE, Samuel"], Some("1980-05-06")),
            // Same name, another date of birth: another man.
            perpetrator(8, &["Samuel Example"], Some("1975-01-01")),
            // One word is not enough to call two people one.
            perpetrator(9, &["Samuel"], None),
        ];
        let found = possible_duplicates(&referral, &victims, &perpetrators);
        assert_eq!(
            found,
            [PossibleDuplicate {
                case_id: case_id(7),
                who: SamePerson::Perpetrator,
                there: SamePerson::Perpetrator,
                matched_on: vec![MatchedOn::Name, MatchedOn::DateOfBirth],
            }]
        );
    }

    #[test]
    fn the_same_victim_is_found_by_a_shared_phone_even_under_another_name() {
        let referral = records(
            json!({"name": "Alex Example", "safe_contact": {"phones": [{"number": "+44 7700 900123"}]}}),
            json!({"names": ["Unknown"]}),
        );
        let victims = [
            victim(4, "Alexandra Newname", None, Some("07700 900123")),
            victim(5, "alex  EXAMPLE", None, None),
            victim(6, "Someone Else", None, Some("07700 900999")),
        ];
        let found = possible_duplicates(&referral, &victims, &[]);
        let cases: Vec<(CaseId, Vec<MatchedOn>)> = found.into_iter().map(|d| (d.case_id, d.matched_on)).collect();
        assert_eq!(cases, [(case_id(4), vec![MatchedOn::Phone]), (case_id(5), vec![MatchedOn::Name])]);
    }

    #[test]
    fn only_a_whole_postcode_gives_its_district() {
        // Why: the screening page shows the district for the area; a postcode
        // typed without its space, or words in the box, must not come back whole.
        assert_eq!(outward_code("ZZ99 3LC").as_deref(), Some("ZZ99"));
        assert_eq!(outward_code("so238uj").as_deref(), Some("SO23"));
        assert_eq!(outward_code("EC1A 1BB").as_deref(), Some("EC1A"));
        for not_one in ["", "ZZ99", "12 Larkspur Close", "flat 2", "SW1A1AAA", "9Z9 3LC"] {
            assert_eq!(outward_code(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn a_perpetrator_who_is_a_victim_in_another_case_is_found_as_that() {
        // Why: a stalker may have reported their victim first (a counter-allegation).
        let referral = records(json!({"name": "Alex Example"}), json!({"names": ["Sam Example"]}));
        let victims = [victim(9, "Sam Example", None, None)];
        let perpetrators = [perpetrator(9, &["Alex Example"], None)];
        let found = possible_duplicates(&referral, &victims, &perpetrators);
        let roles: Vec<(SamePerson, SamePerson)> = found.iter().map(|d| (d.who, d.there)).collect();
        assert_eq!(
            roles,
            [(SamePerson::Victim, SamePerson::Perpetrator), (SamePerson::Perpetrator, SamePerson::Victim)]
        );
    }

    #[test]
    fn the_referrals_own_case_is_not_a_duplicate_of_itself() {
        let referral = records(json!({"name": "Alex Example"}), json!({"names": ["Sam Example"]}));
        let own = [referral.victim.clone()];
        assert!(possible_duplicates(&referral, &own, &[]).is_empty());
    }
}
