//! Subject access (UK GDPR article 15): everything a case holds about one
//! person, the victim or the perpetrator, item by item (a field of a record,
//! as a person reads it), with what is about someone else withheld until the
//! advocate releases it. Whose data a record or a field is lives with its
//! kind (`KindRules::about`, `about_fields`). Corrections to records that are
//! never edited (an incident's amendments) are items of their own, so an
//! export shows the original and each amendment.
//!
//! What is released is the caller's to keep (ids of items, audited); this
//! module only decides what each item is and whether it may be released.

use crate::disclosure::Finder;
use crate::record::{Record, RecordKind};
use crate::records::Victim;
pub use crate::vocab::{AccessSubject, WithheldBecause};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whose personal data a record, or one of its fields, is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum About {
    /// The victim's own: her details, her plan, her risk, the advocate's notes with her.
    Victim,
    /// The perpetrator's own: his record.
    Perpetrator,
    /// What happened between them: incidents, orders, hearings, breaches.
    Both,
    /// Someone else's: a witness, an officer, a referrer, an agency, her children.
    Others,
    /// How the service ran her case: its reference, dates and status.
    Service,
    /// About the perpetrator, but told to the service by someone else (his
    /// mental health, weapons, MAPPA status): the source could be identified.
    PerpetratorFromOthers,
}

/// One item: a field of a record as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessItem {
    /// `record id/field`: what a release names.
    pub key: String,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub field: String,
    pub label: String,
    pub text: String,
    /// Why it is withheld unless released; `None` when it is the subject's own.
    pub withheld: Option<WithheldBecause>,
    /// Whether the advocate may release it at all.
    pub releasable: bool,
}

impl AccessItem {
    pub fn key_of(record_id: Uuid, field: &str) -> String {
        format!("{record_id}/{field}")
    }
}

/// Whose data a field of a kind is: the field's own rule, else the nearest
/// enclosing path's (`referral.referrer` for `referral.referrer.name`), else the kind's.
pub fn about(kind: RecordKind, field: &str) -> About {
    let rules = kind.rules();
    let mut path = field;
    loop {
        if let Some((_, about)) = rules.about_fields.iter().find(|(f, _)| *f == path) {
            return *about;
        }
        match path.rfind('.') {
            Some(dot) => path = &path[..dot],
            None => return rules.about,
        }
    }
}

/// Whether a field whose record is `record` and which is itself `about` is in
/// this subject's export at all, and if so whether it is withheld by default.
/// A perpetrator's export leaves out every record that is only the victim's
/// or the service's, someone else's fields in it included (her children): it
/// is not his information.
fn placed(subject: AccessSubject, record: About, about: About) -> Option<Option<WithheldBecause>> {
    use About as A;
    use WithheldBecause as W;
    if subject == AccessSubject::Perpetrator && matches!(record, A::Victim | A::Service) {
        return None;
    }
    match (subject, about) {
        (AccessSubject::Victim, A::Victim | A::Both | A::Service) => Some(None),
        (AccessSubject::Victim, A::Perpetrator | A::PerpetratorFromOthers) => Some(Some(W::AboutThePerpetrator)),
        (AccessSubject::Perpetrator, A::Perpetrator) => Some(None),
        (AccessSubject::Perpetrator, A::PerpetratorFromOthers) => Some(Some(W::CameFromOthers)),
        (AccessSubject::Perpetrator, A::Both) => Some(Some(W::AboutTheVictim)),
        (_, A::Others) => Some(Some(W::AboutSomeoneElse)),
        (AccessSubject::Perpetrator, A::Victim | A::Service) => None,
    }
}

/// Where the victim can be found or reached, as text may show it: her
/// address, her safe phones and e-mail.
fn whereabouts(victim: Option<&Victim>) -> Finder<()> {
    let mut finder = Finder::new();
    if let Some(victim) = victim {
        if let Some(address) = &victim.address {
            finder.add_address(&(), address);
        }
        for phone in &victim.safe_contact.phones {
            finder.add_phone(&(), &phone.number);
        }
        if let Some(email) = &victim.safe_contact.email {
            finder.add_handle(&(), email);
        }
    }
    finder
}

/// Whether a field is one a kind never lets reach the perpetrator (`KindRules::never_to_perpetrator`).
fn never_to_perpetrator(kind: RecordKind, field: &str) -> bool {
    kind.rules().never_to_perpetrator.iter().any(|f| field == *f || field.starts_with(&format!("{f}.")))
}

/// Every item a case's records hold for `subject`, in the order given (the
/// caller lists a case's records kind by kind). In a perpetrator's export,
/// `requester` is his record: another perpetrator's record is someone
/// else's; and any item that could show where `victim` is or how to reach
/// her (her address, safe phones or e-mail in its words, or a field its kind
/// never lets reach him) is withheld and can never be released.
pub fn items(
    subject: AccessSubject,
    records: &[Record],
    victim: Option<&Victim>,
    requester: Option<Uuid>,
) -> Vec<AccessItem> {
    let finder = whereabouts(victim);
    let mut out = Vec::new();
    for record in records {
        let kind = record.kind();
        let someone_else =
            subject == AccessSubject::Perpetrator && kind == RecordKind::Perpetrator && Some(record.id()) != requester;
        for shown in record.presented_text() {
            let field_about = if someone_else { About::Others } else { about(kind, shown.field) };
            let record_about = if someone_else { About::Others } else { kind.rules().about };
            let Some(mut withheld) = placed(subject, record_about, field_about) else { continue };
            let mut releasable = true;
            let locates =
                never_to_perpetrator(kind, shown.field) || (!finder.is_empty() && finder.find(&shown.text).is_some());
            if subject == AccessSubject::Perpetrator && locates {
                withheld = Some(WithheldBecause::ShowsWhereTheVictimLives);
                releasable = false;
            }
            out.push(AccessItem {
                key: AccessItem::key_of(record.id(), shown.field),
                kind,
                record_id: record.id(),
                field: shown.field.to_owned(),
                label: shown.label.to_owned(),
                text: shown.text,
                withheld,
                releasable,
            });
        }
    }
    out
}

/// What an export holds: the subject's own items and the released ones with
/// their words; of the rest, only how many were withheld and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessExport {
    pub subject: AccessSubject,
    pub items: Vec<AccessItem>,
    pub withheld: Vec<(WithheldBecause, u32)>,
}

/// The export of `items` with the keys in `released` released and those in
/// `exempt` (the requester's own items the advocate withheld under an
/// exemption) kept back. A key that names an item that may not be released,
/// or none, releases nothing.
pub fn export(subject: AccessSubject, items: Vec<AccessItem>, released: &[String], exempt: &[String]) -> AccessExport {
    let mut shown = Vec::new();
    let mut withheld: Vec<(WithheldBecause, u32)> = Vec::new();
    for mut item in items {
        if item.withheld.is_none() && exempt.contains(&item.key) {
            item.withheld = Some(WithheldBecause::Exempt);
        }
        let let_out = item.withheld.is_none() || (item.releasable && released.contains(&item.key));
        if let_out {
            shown.push(item);
        } else if let Some(why) = item.withheld {
            match withheld.iter_mut().find(|(w, _)| *w == why) {
                Some((_, n)) => *n += 1,
                None => withheld.push((why, 1)),
            }
        }
    }
    AccessExport { subject, items: shown, withheld }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::{filled_doc, with_fields};
    use serde_json::json;

    fn record(kind: RecordKind, more: serde_json::Value) -> Record {
        Record::from_doc(kind, with_fields(kind, filled_doc(kind), more)).unwrap()
    }

    /// A small case: the victim with her child, the perpetrator, an incident
    /// with a witness, an order whose condition names her street, her safety
    /// plan, and the case with its referrer.
    fn perpetrator_id() -> Uuid {
        case_records().iter().find(|r| r.kind() == RecordKind::Perpetrator).unwrap().id()
    }

    fn case_records() -> Vec<Record> {
        vec![
            record(
                RecordKind::Case,
                json!({"referral": {"received_on": "2026-11-30", "source": "police", "reason": "Repeated calls", "consent_recorded": true, "referrer": "PC Referrer"}}),
            ),
            record(RecordKind::Victim, json!({"name": "Vera Victim"})),
            record(
                RecordKind::Perpetrator,
                json!({"names": ["Percy Perpetrator"], "mental_health": "Told us by her GP"}),
            ),
            record(RecordKind::Perpetrator, json!({"id": Uuid::from_u128(77), "names": ["Otto Other"]})),
            record(
                RecordKind::Incident,
                json!({"account": "He waited outside her work", "witnesses": ["Wendy Witness"]}),
            ),
            record(
                RecordKind::Incident,
                json!({"id": Uuid::from_u128(78), "account": "He rang 07700 900123 again", "location": "The Canary Cafe"}),
            ),
            record(
                RecordKind::ProtectiveOrder,
                json!({"conditions": [{"kind": "exclusion_zone", "text": "Not to enter Demo Street"}]}),
            ),
            record(RecordKind::SafetyPlan, json!({"code_word": "Bluebell"})),
        ]
    }

    fn victim() -> Victim {
        serde_json::from_value(
            Record::from_doc(
                RecordKind::Victim,
                with_fields(
                    RecordKind::Victim,
                    filled_doc(RecordKind::Victim),
                    json!({"safe_contact": {"phones": [{"number": "07700 900123"}], "email": "vera.safe@example.invalid"}}),
                ),
            )
            .unwrap()
            .to_doc(),
        )
        .unwrap()
    }

    fn find<'a>(items: &'a [AccessItem], text: &str) -> Option<&'a AccessItem> {
        items.iter().find(|i| i.text.contains(text))
    }

    #[test]
    fn a_victims_export_holds_her_own_and_withholds_the_perpetrator_and_other_people() {
        // Why: she is owed everything about her, and nobody else's information
        // leaves without the advocate deciding, item by item.
        let items = items(AccessSubject::Victim, &case_records(), Some(&victim()), None);
        for own in
            ["Vera Victim", "He waited outside her work", "Bluebell", "Repeated calls", "Not to enter Demo Street"]
        {
            assert_eq!(find(&items, own).map(|i| i.withheld), Some(None), "{own} is hers");
        }
        let perpetrator = find(&items, "Percy Perpetrator").unwrap();
        assert_eq!(perpetrator.withheld, Some(WithheldBecause::AboutThePerpetrator));
        for someone_else in ["Wendy Witness", "PC Referrer", "Demo Child"] {
            assert_eq!(
                find(&items, someone_else).map(|i| i.withheld),
                Some(Some(WithheldBecause::AboutSomeoneElse)),
                "{someone_else} is someone else's"
            );
        }
        assert!(items.iter().all(|i| i.releasable), "nothing in hers is beyond release");
    }

    #[test]
    fn a_perpetrators_export_leaves_out_her_records_and_never_releases_where_she_lives() {
        // Why: he is owed what is about him, and must never learn where she lives.
        let items = items(AccessSubject::Perpetrator, &case_records(), Some(&victim()), Some(perpetrator_id()));
        assert_eq!(find(&items, "Percy Perpetrator").map(|i| i.withheld), Some(None));
        for hers in ["Vera Victim", "Bluebell", "Demo Child", "Repeated calls"] {
            assert!(find(&items, hers).is_none(), "{hers} is not his information at all");
        }
        let incident = find(&items, "He waited outside her work").unwrap();
        assert_eq!((incident.withheld, incident.releasable), (Some(WithheldBecause::AboutTheVictim), true));
        let street = find(&items, "Not to enter Demo Street").unwrap();
        assert_eq!((street.withheld, street.releasable), (Some(WithheldBecause::ShowsWhereTheVictimLives), false));
        // Her safe phone in an account, and any place at all, never go to him either.
        for locates in ["07700 900123", "The Canary Cafe"] {
            let item = find(&items, locates).unwrap();
            assert_eq!(
                (item.withheld, item.releasable),
                (Some(WithheldBecause::ShowsWhereTheVictimLives), false),
                "{locates}"
            );
        }
        // What others told us about him needs the advocate's look; another perpetrator is someone else.
        assert_eq!(find(&items, "Told us by her GP").map(|i| i.withheld), Some(Some(WithheldBecause::CameFromOthers)));
        assert_eq!(find(&items, "Otto Other").map(|i| i.withheld), Some(Some(WithheldBecause::AboutSomeoneElse)));

        // Released item by item; the street stays out even when named.
        let released = vec![incident.key.clone(), street.key.clone()];
        let out = export(AccessSubject::Perpetrator, items.clone(), &released, &[]);
        assert!(find(&out.items, "He waited outside her work").is_some());
        assert!(find(&out.items, "Not to enter Demo Street").is_none());
        let none = export(AccessSubject::Perpetrator, items.clone(), &[], &[]);
        assert!(find(&none.items, "He waited outside her work").is_none(), "withheld until released");
        // The advocate may keep back one of his own items under an exemption.
        let own = find(&items, "Percy Perpetrator").unwrap().key.clone();
        let exempt = export(AccessSubject::Perpetrator, items, &[], &[own]);
        assert!(find(&exempt.items, "Percy Perpetrator").is_none());
        assert!(exempt.withheld.iter().any(|(why, _)| *why == WithheldBecause::Exempt));
        assert!(none.withheld.iter().any(|(why, n)| *why == WithheldBecause::AboutTheVictim && *n >= 1));
    }

    #[test]
    fn every_field_a_kinds_about_rules_name_is_presented() {
        // Why: a rule naming a field that is not shown would protect nothing.
        for kind in RecordKind::ALL.iter().copied() {
            for (field, _) in kind.rules().about_fields {
                assert!(
                    kind.rules()
                        .presented
                        .iter()
                        .any(|p| p.field == *field || p.field.starts_with(&format!("{field}."))),
                    "{}: {field}",
                    kind.wire()
                );
            }
        }
    }
}
