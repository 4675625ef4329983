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
use crate::records::Address;
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
        (AccessSubject::Victim, A::Perpetrator) => Some(Some(W::AboutThePerpetrator)),
        (AccessSubject::Perpetrator, A::Perpetrator) => Some(None),
        (AccessSubject::Perpetrator, A::Both) => Some(Some(W::AboutTheVictim)),
        (_, A::Others) => Some(Some(W::AboutSomeoneElse)),
        (AccessSubject::Perpetrator, A::Victim | A::Service) => None,
    }
}

/// Every item a case's records hold for `subject`, in the order given (the
/// caller lists a case's records kind by kind). `victim_addresses` are the
/// victim's addresses: in a perpetrator's export any item that shows one is
/// withheld and can never be released.
pub fn items(subject: AccessSubject, records: &[Record], victim_addresses: &[Address]) -> Vec<AccessItem> {
    let finder = Finder::of_addresses(victim_addresses);
    let mut out = Vec::new();
    for record in records {
        let kind = record.kind();
        for shown in record.presented_text() {
            let Some(mut withheld) = placed(subject, kind.rules().about, about(kind, shown.field)) else { continue };
            let mut releasable = true;
            if subject == AccessSubject::Perpetrator && !finder.is_empty() && finder.find(&shown.text).is_some() {
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

/// The export of `items` with the keys in `released` released. A key that
/// names an item that may not be released, or none, releases nothing.
pub fn export(subject: AccessSubject, items: Vec<AccessItem>, released: &[String]) -> AccessExport {
    let mut shown = Vec::new();
    let mut withheld: Vec<(WithheldBecause, u32)> = Vec::new();
    for item in items {
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
    fn case_records() -> Vec<Record> {
        vec![
            record(
                RecordKind::Case,
                json!({"referral": {"received_on": "2026-11-30", "source": "police", "reason": "Repeated calls", "consent_recorded": true, "referrer": "PC Referrer"}}),
            ),
            record(RecordKind::Victim, json!({"name": "Vera Victim"})),
            record(RecordKind::Perpetrator, json!({"names": ["Percy Perpetrator"]})),
            record(
                RecordKind::Incident,
                json!({"account": "He waited outside her work", "witnesses": ["Wendy Witness"]}),
            ),
            record(
                RecordKind::ProtectiveOrder,
                json!({"conditions": [{"kind": "exclusion_zone", "text": "Not to enter Demo Street"}]}),
            ),
            record(RecordKind::SafetyPlan, json!({"code_word": "Bluebell"})),
        ]
    }

    fn address() -> Vec<Address> {
        vec![serde_json::from_value(json!({"lines": ["1 Demo Street"], "postcode": "DE1 1MO"})).unwrap()]
    }

    fn find<'a>(items: &'a [AccessItem], text: &str) -> Option<&'a AccessItem> {
        items.iter().find(|i| i.text.contains(text))
    }

    #[test]
    fn a_victims_export_holds_her_own_and_withholds_the_perpetrator_and_other_people() {
        // Why: she is owed everything about her, and nobody else's information
        // leaves without the advocate deciding, item by item.
        let items = items(AccessSubject::Victim, &case_records(), &address());
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
        let items = items(AccessSubject::Perpetrator, &case_records(), &address());
        assert_eq!(find(&items, "Percy Perpetrator").map(|i| i.withheld), Some(None));
        for hers in ["Vera Victim", "Bluebell", "Demo Child", "Repeated calls"] {
            assert!(find(&items, hers).is_none(), "{hers} is not his information at all");
        }
        let incident = find(&items, "He waited outside her work").unwrap();
        assert_eq!((incident.withheld, incident.releasable), (Some(WithheldBecause::AboutTheVictim), true));
        let street = find(&items, "Not to enter Demo Street").unwrap();
        assert_eq!((street.withheld, street.releasable), (Some(WithheldBecause::ShowsWhereTheVictimLives), false));

        // Released item by item; the street stays out even when named.
        let released = vec![incident.key.clone(), street.key.clone()];
        let out = export(AccessSubject::Perpetrator, items.clone(), &released);
        assert!(find(&out.items, "He waited outside her work").is_some());
        assert!(find(&out.items, "Not to enter Demo Street").is_none());
        let none = export(AccessSubject::Perpetrator, items, &[]);
        assert!(find(&none.items, "He waited outside her work").is_none(), "withheld until released");
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
