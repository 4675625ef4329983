//! A subject access answer as the files a requester gets: the data the Typst
//! template (`assets/templates/subject-access.typ`) lays out as a PDF, and
//! the JSON file. The laptop (`waymark-print`) and the clinic both make
//! theirs here from `AccessReview::answer`, so the two cannot differ in
//! what they show. Only the requester's own items and released ones are in
//! either; of the rest, a count and the reason.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use uuid::Uuid;
use waymark_domain::access::{AccessExport, AccessItem, AccessReview, PanelPart};
use waymark_domain::retention::RetentionRules;
use waymark_domain::time::{london_date, show_london};
use waymark_domain::RecordKind;

/// The PDF's template, and its name among a templates folder's files.
pub const TEMPLATE: (&str, &[u8]) =
    ("subject-access.typ", include_bytes!("../../../assets/templates/subject-access.typ"));

/// The marking on every page: it is the requester's own personal data.
pub const MARKING: &str = "OFFICIAL-SENSITIVE";

/// A date as the answer writes it: 7 December 2026.
fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The service's retention schedule as a sentence.
pub fn keeps(rules: &RetentionRules) -> String {
    let plural = |n: u32, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    format!(
        "{} after a case closes when no service was taken up, {} when we could not make contact, and otherwise {} after our last contact with you; longer only while the law needs it (for example, during court proceedings)",
        plural(rules.no_service_taken_up_days, "day"),
        plural(rules.not_contactable_months, "month"),
        plural(rules.after_last_contact_years, "year"),
    )
}

/// An item's record as the requester reads its heading.
pub fn heading(item: &AccessItem) -> &'static str {
    if let Some(part) = item.panel {
        return match part {
            PanelPart::Selection => "Why the stalking clinic's panel looked at your case",
            PanelPart::Research => "What an agency found before a panel meeting",
            PanelPart::SharedAtMeeting => "What an agency shared at a panel meeting",
            PanelPart::Action => "An action the stalking clinic's panel agreed",
            PanelPart::Decision => "What the stalking clinic's panel decided",
            PanelPart::Pathway => "A referral the stalking clinic's panel made",
        };
    }
    match item.kind {
        RecordKind::Case => "Your case",
        RecordKind::Victim => "About you",
        RecordKind::Perpetrator => "The person recorded as the perpetrator",
        RecordKind::Incident => "An incident",
        RecordKind::IncidentAmendment => "A correction to an incident",
        RecordKind::RiskAssessment => "A risk assessment",
        RecordKind::SafetyPlan => "A safety plan",
        RecordKind::Hearing => "A court hearing",
        RecordKind::ProtectiveOrder => "An order",
        RecordKind::Breach => "A breach of an order",
        RecordKind::Referral => "A referral to another service",
        RecordKind::ClinicReview => "A review by the stalking clinic",
        RecordKind::Contact => "A contact with the service",
        RecordKind::EscalationReview => "A review of how the case was escalating",
        RecordKind::Task => "A task",
    }
}

/// The answer's items, a section per record in the order given.
fn sections(answer: &AccessExport) -> Vec<Value> {
    let mut sections: Vec<(Uuid, Value)> = Vec::new();
    for item in &answer.items {
        if sections.last().map(|(id, _)| *id) != Some(item.record_id) {
            sections.push((
                item.record_id,
                json!({"heading": heading(item), "kind": item.kind, "panel": item.panel, "items": []}),
            ));
        }
        if let Some(items) = sections.last_mut().and_then(|(_, s)| s["items"].as_array_mut()) {
            items.push(json!({"label": item.label, "text": item.text}));
        }
    }
    sections.into_iter().map(|(_, s)| s).collect()
}

fn withheld(answer: &AccessExport) -> Vec<Value> {
    answer.withheld.iter().map(|(why, count)| json!({"why": why.label(), "reason": why, "count": count})).collect()
}

/// The template's data: `by` made it at `now`.
pub fn typst_data(
    review: &AccessReview,
    answer: &AccessExport,
    rules: &RetentionRules,
    by: &str,
    now: DateTime<Utc>,
    large_print: bool,
) -> Value {
    json!({
        "marking": MARKING,
        "large_print": large_print,
        "produced": {"by": by, "at": show_london(now), "on": long_date(london_date(now))},
        "received_on": long_date(review.request.received_on),
        "due_on": long_date(review.request.due_on),
        "keeps": keeps(rules),
        "withheld": withheld(answer),
        "sections": sections(answer),
    })
}

/// The answer as the requester's JSON file.
pub fn json(review: &AccessReview, answer: &AccessExport) -> Vec<u8> {
    let doc = json!({
        "format": "waymark-subject-access",
        "format_version": 1,
        "subject": review.request.subject,
        "received_on": review.request.received_on,
        "due_on": review.request.due_on,
        "records": sections(answer),
        "withheld": withheld(answer),
    });
    // A `Value` always serialises.
    serde_json::to_vec_pretty(&doc).unwrap_or_default()
}

/// The request's first eight hex digits tell two answers apart; neither names the case or a person.
pub fn file_name(request: Uuid, today: NaiveDate, extension: &str) -> String {
    format!("subject-access-{}-{today}.{extension}", &request.simple().to_string()[..8])
}
