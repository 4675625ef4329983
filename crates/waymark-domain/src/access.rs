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
use crate::ids::CaseId;
use crate::instruments::Instruments;
use crate::record::{Record, RecordKind};
use crate::records::Victim;
use crate::validation::ValidationErrors;
pub use crate::vocab::{AccessSubject, ExemptionReason, PanelPart, WithheldBecause};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
    /// Set for an item from the clinic panel's own documents (`kind` is then
    /// `clinic_review`, the record the panel's work reaches a laptop as).
    pub panel: Option<PanelPart>,
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

/// A risk assessment's answers, one item each (the question as the
/// service's instrument words it, the answer and its comment): a screen
/// counts them, but the person is owed each.
fn each_answer(record: &Record, instruments: &Instruments) -> Vec<(String, String, String)> {
    let Record::RiskAssessment(assessment) = record else { return Vec::new() };
    let instrument = instruments.get(&assessment.instrument);
    assessment
        .answers
        .iter()
        .map(|(question, entry)| {
            let asked = instrument
                .and_then(|i| i.question(question))
                .map_or_else(|| format!("Question {question}"), |q| q.text.clone());
            let text = match entry.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                Some(comment) => format!("{}: {comment}", entry.answer.label()),
                None => entry.answer.label().to_owned(),
            };
            (format!("answers.{question}"), asked, text)
        })
        .collect()
}

/// An amendment's corrected fields, one item each, worded and owned as the
/// incident's own fields are: a corrected witness is still someone else.
fn each_correction(record: &Record) -> Vec<(String, String, String, Option<About>)> {
    let Record::IncidentAmendment(amendment) = record else { return Vec::new() };
    let incident = RecordKind::Incident.rules();
    let doc = serde_json::Value::Object(amendment.changes.clone().into_iter().collect());
    crate::record::presented_text(incident, &doc)
        .into_iter()
        .map(|shown| {
            (
                format!("changes.{}", shown.field),
                format!("Corrected: {}", shown.label),
                shown.text,
                Some(about(RecordKind::Incident, shown.field)),
            )
        })
        .collect()
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
    instruments: &Instruments,
) -> Vec<AccessItem> {
    let finder = whereabouts(victim);
    let mut out = Vec::new();
    for record in records {
        let kind = record.kind();
        let someone_else =
            subject == AccessSubject::Perpetrator && kind == RecordKind::Perpetrator && Some(record.id()) != requester;
        let mut fields: Vec<(String, String, String, Option<About>)> = Vec::new();
        for shown in record.presented_text() {
            match (kind, shown.field) {
                (RecordKind::RiskAssessment, "answers") => {
                    fields.extend(each_answer(record, instruments).into_iter().map(|(f, l, t)| (f, l, t, None)));
                }
                (RecordKind::IncidentAmendment, "changes") => fields.extend(each_correction(record)),
                _ => fields.push((shown.field.to_owned(), shown.label.to_owned(), shown.text, None)),
            }
        }
        for (field, label, text, owned) in fields {
            let field_about = match owned {
                _ if someone_else => About::Others,
                Some(owned) => owned,
                None => about(kind, &field),
            };
            let record_about = if someone_else { About::Others } else { kind.rules().about };
            let Some(mut withheld) = placed(subject, record_about, field_about) else { continue };
            let mut releasable = true;
            let locates = never_to_perpetrator(kind, &field) || (!finder.is_empty() && finder.find(&text).is_some());
            if subject == AccessSubject::Perpetrator && locates {
                withheld = Some(WithheldBecause::ShowsWhereTheVictimLives);
                releasable = false;
            }
            out.push(AccessItem {
                key: AccessItem::key_of(record.id(), &field),
                kind,
                record_id: record.id(),
                field,
                label,
                text,
                withheld,
                releasable,
                panel: None,
            });
        }
    }
    out
}

/// A piece of text from one of the clinic panel's own documents for a case:
/// an agency's research or what it shared at a meeting, an action, a
/// pathway of the perpetrator's, why the case was selected. `id` names the
/// document, stably, so a release of it survives a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelText {
    pub id: Uuid,
    pub part: PanelPart,
    pub field: String,
    pub label: String,
    pub text: String,
    /// The perpetrator a pathway is for.
    pub perpetrator_id: Option<Uuid>,
}

/// The items the clinic panel's own documents hold for `subject`. What an
/// agency told the panel is that agency's to answer for, so it waits for
/// review; the panel's actions could show where the victim is, so they never
/// reach the perpetrator, and neither do any words showing her whereabouts.
pub fn panel_items(
    subject: AccessSubject,
    texts: &[PanelText],
    victim: Option<&Victim>,
    requester: Option<Uuid>,
) -> Vec<AccessItem> {
    use AccessSubject as S;
    use PanelPart as P;
    use WithheldBecause as W;
    let finder = whereabouts(victim);
    let mut out = Vec::new();
    for text in texts.iter().filter(|t| !t.text.trim().is_empty()) {
        let placed: Option<(Option<WithheldBecause>, bool)> = match (subject, text.part) {
            // The panel's words can carry what agencies told it (an arrest planned, a
            // firearm): they wait for review as the laptop's copy of its review does.
            (S::Victim, P::Selection | P::Action | P::Decision) => Some((Some(W::AboutSomeoneElse), true)),
            (S::Perpetrator, P::Selection) => None,
            // What the panel does to keep her safe could show where she is.
            (S::Perpetrator, P::Action | P::Decision) => Some((Some(W::ShowsWhereTheVictimLives), false)),
            (S::Victim, P::Research | P::SharedAtMeeting) => Some((Some(W::FromAnAgency), true)),
            // An agency answers him for its own files; even its name could tell him where she is.
            (S::Perpetrator, P::Research | P::SharedAtMeeting) => Some((Some(W::FromAnAgency), false)),
            (S::Victim, P::Pathway) => Some((Some(W::AboutThePerpetrator), true)),
            (S::Perpetrator, P::Pathway) if text.perpetrator_id.is_some() && text.perpetrator_id == requester => {
                Some((Some(W::CameFromOthers), true))
            }
            (S::Perpetrator, P::Pathway) => Some((Some(W::AboutSomeoneElse), true)),
        };
        let Some((mut withheld, mut releasable)) = placed else { continue };
        if subject == S::Perpetrator && !finder.is_empty() && finder.find(&text.text).is_some() {
            withheld = Some(W::ShowsWhereTheVictimLives);
            releasable = false;
        }
        out.push(AccessItem {
            // Its own key space: a laptop chooses its records' ids, and must not name a panel document's.
            key: format!("panel:{}", AccessItem::key_of(text.id, &text.field)),
            kind: RecordKind::ClinicReview,
            record_id: text.id,
            field: text.field.clone(),
            label: text.label.clone(),
            text: text.text.clone(),
            withheld,
            releasable,
            panel: Some(text.part),
        });
    }
    out
}

/// The items as the clinic may answer for them. Its staff never see what a
/// kind keeps from the workspace (`KindRules::at_clinic`: her address, her
/// safety plan, where incidents happened) nor any words showing where the
/// victim is, so those items leave the clinic's review with no words: the
/// advocate's answer, from the same records on the laptop, gives them.
///
/// In a perpetrator's answer the clinic also leaves to the advocate what is
/// hers as well as his (an incident's account): the advocate knows what in
/// it could lead him to her, the clinic's coordinator may not.
pub fn as_the_clinic_answers(
    subject: AccessSubject,
    items: Vec<AccessItem>,
    victim: Option<&Victim>,
) -> Vec<AccessItem> {
    use crate::record::AtClinic;
    let finder = whereabouts(victim);
    items
        .into_iter()
        .map(|mut item| {
            let by_rule = match item.kind.rules().at_clinic {
                AtClinic::Shown => false,
                AtClinic::WithholdAll => item.panel.is_none(),
                AtClinic::Withhold(fields) | AtClinic::WithholdUnlessShared(fields) => {
                    item.panel.is_none()
                        && fields.iter().any(|f| item.field == *f || item.field.starts_with(&format!("{f}.")))
                }
            };
            let hers_too =
                subject == AccessSubject::Perpetrator && item.withheld == Some(WithheldBecause::AboutTheVictim);
            if by_rule || hers_too || (!finder.is_empty() && finder.find(&item.text).is_some()) {
                item.text = String::new();
                item.releasable = false;
                if item.withheld != Some(WithheldBecause::ShowsWhereTheVictimLives) {
                    item.withheld = Some(WithheldBecause::InTheAdvocatesAnswer);
                }
            }
            item
        })
        .collect()
}

/// Whether `text` shows where the victim is or how to reach her: a last
/// check on the laid-out pages of a perpetrator's answer.
pub fn shows_whereabouts(victim: &Victim, text: &str) -> bool {
    let finder = whereabouts(Some(victim));
    !finder.is_empty() && finder.find(text).is_some()
}

/// A subject access request, as the laptop and the clinic each keep theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessRequest {
    pub id: Uuid,
    pub case_id: CaseId,
    pub subject: AccessSubject,
    /// The perpetrator's record, for his request: a case may hold more than one.
    pub perpetrator_id: Option<Uuid>,
    pub received_on: NaiveDate,
    /// A month after it was received (UK GDPR article 12(3)).
    pub due_on: NaiveDate,
    pub made_at: DateTime<Utc>,
    pub made_by: String,
    /// That the person who asked is who they say: a perpetrator may pose as
    /// the victim. No answer is made before it is recorded.
    pub identity_checked: Option<IdentityCheck>,
}

/// Who checked the requester's identity, and on which day (what was seen
/// stays on paper, never here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IdentityCheck {
    pub on: NaiveDate,
    pub by: String,
}

impl AccessRequest {
    /// Whether an answer may be made: only once the requester's identity is checked.
    pub fn may_answer(&self) -> Result<(), ValidationErrors> {
        match self.identity_checked {
            Some(_) => Ok(()),
            None => Err(ValidationErrors::single(
                "identity_checked",
                "must be recorded before the answer is made: check that whoever asked is who they say (a perpetrator may pose as the victim)",
            )),
        }
    }
}

/// Checks the day an identity check is recorded for: not before the request
/// was received, nor in the future.
pub fn check_identity_day(request: &AccessRequest, on: NaiveDate, today: NaiveDate) -> Result<(), ValidationErrors> {
    if on > today {
        return Err(ValidationErrors::single("on", "cannot be in the future"));
    }
    if on < request.received_on {
        return Err(ValidationErrors::single("on", "cannot be before the request was received"));
    }
    Ok(())
}

/// When the answer to a request received on `received_on` is due: one month later.
pub fn due_on(received_on: NaiveDate) -> NaiveDate {
    received_on.checked_add_months(Months::new(1)).unwrap_or(received_on)
}

/// Checks a new request against its case: a perpetrator's names which of
/// the case's perpetrators asked (`perpetrators`), a victim's names none,
/// and none was received in the future.
pub fn check_request(
    subject: AccessSubject,
    perpetrator: Option<Uuid>,
    perpetrators: &[Uuid],
    received_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), ValidationErrors> {
    match (subject, perpetrator) {
        (AccessSubject::Victim, Some(_)) => {
            return Err(ValidationErrors::single("perpetrator_id", "is only for a perpetrator's request"))
        }
        (AccessSubject::Perpetrator, None) => {
            return Err(ValidationErrors::single("perpetrator_id", "is required: which perpetrator asked"))
        }
        (AccessSubject::Perpetrator, Some(id)) if !perpetrators.contains(&id) => {
            return Err(ValidationErrors::single("perpetrator_id", "is not a perpetrator of this case"))
        }
        _ => {}
    }
    if received_on > today {
        return Err(ValidationErrors::single("received_on", "cannot be in the future"));
    }
    Ok(())
}

/// What the reviewer works through: every item, and what was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessReview {
    pub request: AccessRequest,
    /// The case's reference, for the reviewer's screen.
    pub reference: String,
    pub items: Vec<AccessItem>,
    /// Released items whose words are still the words released.
    pub released: Vec<String>,
    /// Released items whose words changed since: withheld again until released again.
    pub changed_since_release: Vec<String>,
    /// The requester's own items the reviewer withheld, and why.
    pub exempt: Vec<(String, ExemptionReason)>,
}

/// The digest a release keeps of the words released, so that changed words
/// are withheld again.
pub fn release_digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A review of `items` with the releases kept (item key, digest of its
/// words) and the exemptions.
pub fn review(
    request: AccessRequest,
    reference: String,
    items: Vec<AccessItem>,
    releases: &[(String, String)],
    exempt: Vec<(String, ExemptionReason)>,
) -> AccessReview {
    let (mut released, mut changed_since_release) = (Vec::new(), Vec::new());
    for (key, digest) in releases {
        match items.iter().find(|i| &i.key == key) {
            Some(item) if release_digest(&item.text) == *digest => released.push(key.clone()),
            _ => changed_since_release.push(key.clone()),
        }
    }
    AccessReview { request, reference, items, released, changed_since_release, exempt }
}

impl AccessReview {
    /// Whether `key` may be released, and if so the digest to keep with the release.
    pub fn may_release(&self, key: &str) -> Result<String, ValidationErrors> {
        match self.items.iter().find(|i| i.key == key) {
            Some(item) if item.withheld.is_some() && item.releasable => Ok(release_digest(&item.text)),
            Some(item) if item.withheld.is_none() => {
                Err(ValidationErrors::single("item", "is the requester's own and is in the export already"))
            }
            _ => Err(ValidationErrors::single(
                "item",
                "is not an item of this request that may be released (where the victim lives never is)",
            )),
        }
    }

    /// Whether `key` is one of the requester's own items, which an exemption may withhold.
    pub fn may_withhold(&self, key: &str) -> Result<(), ValidationErrors> {
        if self.items.iter().any(|i| i.key == key && i.withheld.is_none()) {
            Ok(())
        } else {
            Err(ValidationErrors::single("item", "is not one of the requester's own items in this request"))
        }
    }

    /// The answer as it stands: the requester's own items less the exempt
    /// ones, the released ones, and counts of the rest.
    pub fn answer(&self) -> AccessExport {
        let exempt: Vec<String> = self.exempt.iter().map(|(key, _)| key.clone()).collect();
        export(self.request.subject, self.items.clone(), &self.released, &exempt)
    }
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
        // An exemption on a field covers its parts: one recorded before a field was
        // itemised part by part (a risk assessment's answers) still holds.
        let covered = |key: &String| item.key == *key || item.key.starts_with(&format!("{key}."));
        if item.withheld.is_none() && exempt.iter().any(covered) {
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
        let items = items(AccessSubject::Victim, &case_records(), Some(&victim()), None, &Instruments::shipped());
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
        let items = items(
            AccessSubject::Perpetrator,
            &case_records(),
            Some(&victim()),
            Some(perpetrator_id()),
            &Instruments::shipped(),
        );
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

    fn panel_text(part: PanelPart, text: &str, perpetrator: Option<Uuid>) -> PanelText {
        PanelText {
            id: Uuid::from_u128(500 + part as u128),
            part,
            field: "text".into(),
            label: "Label".into(),
            text: text.into(),
            perpetrator_id: perpetrator,
        }
    }

    #[test]
    fn the_panels_documents_wait_for_review_and_never_locate_her_for_him() {
        // Why: an agency answers for what it told the panel, and what the panel
        // does to keep her safe could lead him to her.
        let texts = vec![
            panel_text(PanelPart::Selection, "Escalating after the order", None),
            panel_text(PanelPart::Research, "Two prior warnings", None),
            panel_text(PanelPart::SharedAtMeeting, "He now lives near 1 Demo Street", None),
            panel_text(PanelPart::Action, "Fit a camera", None),
            panel_text(PanelPart::Pathway, "Mental health pathway: referred", Some(perpetrator_id())),
            panel_text(PanelPart::Research, "   ", None),
        ];
        let hers = panel_items(AccessSubject::Victim, &texts, Some(&victim()), None);
        assert_eq!(hers.len(), 5, "an empty text is no item");
        assert!(hers.iter().all(|i| i.kind == RecordKind::ClinicReview && i.panel.is_some() && i.releasable));
        assert_eq!(find(&hers, "Escalating").unwrap().withheld, Some(WithheldBecause::AboutSomeoneElse));
        assert_eq!(find(&hers, "Fit a camera").unwrap().withheld, Some(WithheldBecause::AboutSomeoneElse));
        assert!(hers.iter().all(|i| i.key.starts_with("panel:")), "a key no record's id can take");
        assert_eq!(find(&hers, "Two prior").unwrap().withheld, Some(WithheldBecause::FromAnAgency));
        assert_eq!(find(&hers, "Mental health").unwrap().withheld, Some(WithheldBecause::AboutThePerpetrator));

        let his = panel_items(AccessSubject::Perpetrator, &texts, Some(&victim()), Some(perpetrator_id()));
        assert!(find(&his, "Escalating").is_none(), "why the service selected her case is not his");
        let never = |i: &AccessItem| (i.withheld, i.releasable);
        assert_eq!(
            never(find(&his, "Fit a camera").unwrap()),
            (Some(WithheldBecause::ShowsWhereTheVictimLives), false)
        );
        assert_eq!(
            never(find(&his, "1 Demo Street").unwrap()),
            (Some(WithheldBecause::ShowsWhereTheVictimLives), false),
            "her address in an agency's words"
        );
        assert_eq!(never(find(&his, "Two prior").unwrap()), (Some(WithheldBecause::FromAnAgency), false));
        assert_eq!(never(find(&his, "Mental health").unwrap()), (Some(WithheldBecause::CameFromOthers), true));
        let someone_elses = panel_items(AccessSubject::Perpetrator, &texts, Some(&victim()), Some(Uuid::from_u128(9)));
        assert_eq!(find(&someone_elses, "Mental health").unwrap().withheld, Some(WithheldBecause::AboutSomeoneElse));
    }

    #[test]
    fn a_release_holds_only_for_the_words_released_and_only_withheld_items_are_released() {
        // Why: a release is a decision about particular words; changed words need a new one.
        let items = items(AccessSubject::Victim, &case_records(), Some(&victim()), None, &Instruments::shipped());
        let request = AccessRequest {
            id: Uuid::from_u128(1),
            case_id: CaseId(Uuid::from_u128(2)),
            subject: AccessSubject::Victim,
            perpetrator_id: None,
            received_on: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            due_on: due_on(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()),
            made_at: chrono::DateTime::UNIX_EPOCH,
            made_by: "ISA01".into(),
            identity_checked: None,
        };
        assert_eq!(request.may_answer().unwrap_err().0[0].field, "identity_checked", "no answer before the check");
        let on = |d: u32| NaiveDate::from_ymd_opt(2026, 2, d).unwrap();
        assert_eq!(check_identity_day(&request, on(10), on(9)).unwrap_err().0[0].field, "on", "in the future");
        assert!(check_identity_day(&request, on(1), on(9)).is_ok());
        assert!(check_identity_day(&request, NaiveDate::from_ymd_opt(2026, 1, 30).unwrap(), on(9)).is_err());
        assert_eq!(request.due_on, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(), "a month, at most the month's end");
        let witness = find(&items, "Wendy Witness").unwrap().clone();
        let referrer = find(&items, "PC Referrer").unwrap().clone();
        let own = find(&items, "Vera Victim").unwrap().key.clone();
        let releases = vec![
            (witness.key.clone(), release_digest(&witness.text)),
            (referrer.key.clone(), release_digest("PC Referrer before a correction")),
        ];
        let review = review(request, "REF".into(), items, &releases, vec![(own.clone(), ExemptionReason::Crime)]);
        assert_eq!(review.released, vec![witness.key.clone()]);
        assert_eq!(review.changed_since_release, vec![referrer.key.clone()]);
        let answer = review.answer();
        assert!(find(&answer.items, "Wendy Witness").is_some());
        assert!(find(&answer.items, "PC Referrer").is_none(), "changed since it was released");
        assert!(find(&answer.items, "Vera Victim").is_none(), "exempt");
        assert!(review.may_release(&own).is_err(), "her own is in the answer already");
        assert!(review.may_withhold(&witness.key).is_err(), "an exemption is for her own items");
        assert_eq!(review.may_release(&referrer.key).unwrap(), release_digest("PC Referrer"));
        assert!(review.may_release("nothing/here").is_err());
    }

    #[test]
    fn a_request_names_which_perpetrator_asked_and_none_is_received_in_the_future() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let his = Uuid::from_u128(3);
        let field = |r: Result<(), ValidationErrors>| r.unwrap_err().0[0].field.clone();
        assert_eq!(field(check_request(AccessSubject::Victim, Some(his), &[his], today, today)), "perpetrator_id");
        assert_eq!(field(check_request(AccessSubject::Perpetrator, None, &[his], today, today)), "perpetrator_id");
        assert_eq!(
            field(check_request(AccessSubject::Perpetrator, Some(Uuid::from_u128(4)), &[his], today, today)),
            "perpetrator_id"
        );
        assert_eq!(
            field(check_request(AccessSubject::Victim, None, &[], today.succ_opt().unwrap(), today)),
            "received_on"
        );
        assert!(check_request(AccessSubject::Perpetrator, Some(his), &[his], today, today).is_ok());
    }

    #[test]
    fn each_answer_of_a_risk_assessment_is_an_item_worded_as_the_instrument_asks() {
        // Why: a screen counts the answers, but the person is owed each one.
        let assessment = record(
            RecordKind::RiskAssessment,
            json!({"answers": {"d2": {"answer": "yes", "comment": "Since the calls began"}, "zz9": {"answer": "no"}}}),
        );
        let items = items(AccessSubject::Victim, &[assessment], None, None, &Instruments::shipped());
        let frightened = find(&items, "Since the calls began").unwrap();
        assert_eq!(frightened.label, "Is the victim very frightened?");
        assert_eq!(frightened.text, "Yes: Since the calls began");
        assert_eq!(frightened.field, "answers.d2");
        assert_eq!(frightened.withheld, None, "her own answers");
        let unknown = items.iter().find(|i| i.field == "answers.zz9").unwrap();
        assert_eq!((unknown.label.as_str(), unknown.text.as_str()), ("Question zz9", "No"));
        assert!(!items.iter().any(|i| i.field == "answers"), "no count in place of the answers");
        // An exemption recorded on the whole field, before it was itemised, still holds for each part.
        let whole = format!("{}/answers", frightened.record_id);
        let out = export(AccessSubject::Victim, items.clone(), &[], &[whole]);
        assert!(out.items.iter().all(|i| !i.field.starts_with("answers.")), "{:?}", out.items);
    }

    #[test]
    fn a_correction_is_an_item_per_field_owned_as_the_incidents_own_field() {
        // Why: a corrected witness is still someone else's, and a corrected
        // account is still hers; one lump of "Corrected" would be neither.
        let amendment = record(
            RecordKind::IncidentAmendment,
            json!({"reason": "Wrong name", "changes": {"witnesses": ["Wanda Witness"], "account": "He followed her home"}}),
        );
        let items = items(AccessSubject::Victim, &[amendment], None, None, &Instruments::shipped());
        let witness = find(&items, "Wanda Witness").unwrap();
        assert_eq!(witness.field, "changes.witnesses");
        assert_eq!(witness.withheld, Some(WithheldBecause::AboutSomeoneElse));
        let account = find(&items, "He followed her home").unwrap();
        assert_eq!(account.withheld, None, "her own account, corrected");
        assert!(account.label.starts_with("Corrected: "), "{}", account.label);
        assert!(find(&items, "Wrong name").is_some(), "why it was corrected");
    }
}
