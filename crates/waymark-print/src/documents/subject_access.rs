//! A subject access export: what the case holds about the person who asked
//! (`waymark_domain::access`), with other people's information left out
//! unless the advocate released it, and only its count and reason shown.
//! A perpetrator's export names no case reference; where the victim lives is
//! never in it, and the address guard checks the laid-out pages as well.

use super::{to_value, Gather, Gathered, Naming};
use crate::model::{long_date, RESTRICTED};
use crate::Result;
use serde::Serialize;
use uuid::Uuid;
use waymark_domain::access::AccessSubject;
use waymark_domain::{CaseId, RecordKind, Victim};

pub(crate) const TEMPLATE: &str = "subject-access.typ";
pub(crate) const DISCREET_FORM: bool = false;

pub(crate) fn case(_request: Uuid) -> Option<CaseId> {
    None
}

#[derive(Serialize)]
struct Doc {
    marking: &'static str,
    large_print: bool,
    produced: crate::model::Produced,
    received_on: String,
    due_on: String,
    /// The retention schedule in words, from the service's rules.
    keeps: String,
    withheld: Vec<Withheld>,
    sections: Vec<Section>,
}

#[derive(Serialize)]
struct Withheld {
    count: u32,
    why: &'static str,
}

#[derive(Serialize)]
struct Section {
    heading: String,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    label: String,
    text: String,
}

/// The service's retention schedule as a sentence.
fn keeps(rules: &waymark_domain::retention::RetentionRules) -> String {
    let plural = |n: u32, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    format!(
        "{} after a case closes when no service was taken up, {} when we could not make contact, and otherwise {} after our last contact with you; longer only while the law needs it (for example, during court proceedings)",
        plural(rules.no_service_taken_up_days, "day"),
        plural(rules.not_contactable_months, "month"),
        plural(rules.after_last_contact_years, "year"),
    )
}

/// A record kind as the requester reads its heading.
fn heading(kind: RecordKind) -> &'static str {
    match kind {
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

pub(crate) fn gather(g: &mut Gather<'_>, request: Uuid) -> Result<Gathered> {
    // The print itself is what the audit records, when it is saved or printed.
    let (review, out) = g.vault.access_export_unrecorded(request)?;
    let mut sections: Vec<Section> = Vec::new();
    let mut last: Option<Uuid> = None;
    for item in out.items {
        if last != Some(item.record_id) {
            sections.push(Section { heading: heading(item.kind).to_owned(), items: Vec::new() });
            last = Some(item.record_id);
        }
        if let Some(section) = sections.last_mut() {
            section.items.push(Item { label: item.label, text: item.text });
        }
    }
    let doc = Doc {
        marking: RESTRICTED,
        large_print: g.options.large_print,
        produced: g.produced.clone(),
        received_on: long_date(review.request.received_on),
        due_on: long_date(review.request.due_on),
        keeps: keeps(&g.vault.rules().retention),
        withheld: out.withheld.iter().map(|(why, count)| Withheld { count: *count, why: why.label() }).collect(),
        sections,
    };
    let case = review.request.case_id;
    let victims: Vec<Victim> = match review.request.subject {
        // Her own answer holds her address on purpose: checking its pages for it would
        // only teach advocates to confirm every print.
        AccessSubject::Victim => Vec::new(),
        // His never may: the pages are checked, and no one can confirm past it.
        AccessSubject::Perpetrator => {
            if g.options.address_confirmed {
                return Err(crate::PrintError::AddressNeverConfirmed);
            }
            g.vault.list_all::<Victim>()?.into_iter().filter(|v| v.case_id == case).collect()
        }
    };
    Ok(Gathered {
        data: to_value(&doc)?,
        case: Some(case),
        record: Some((RecordKind::Case, case.as_uuid())),
        version: None,
        discreet: None,
        victims,
        cases: vec![case],
        quarter: None,
        request: Some(request),
    })
}

/// The export as the requester's JSON file.
pub(crate) fn json(
    review: &waymark_vault::access::AccessReview,
    out: &waymark_domain::access::AccessExport,
) -> Result<Vec<u8>> {
    let mut records: Vec<serde_json::Value> = Vec::new();
    let mut last: Option<Uuid> = None;
    for item in &out.items {
        if last != Some(item.record_id) {
            records.push(serde_json::json!({"heading": heading(item.kind), "kind": item.kind, "items": []}));
            last = Some(item.record_id);
        }
        if let Some(items) = records.last_mut().and_then(|r| r["items"].as_array_mut()) {
            items.push(serde_json::json!({"label": item.label, "text": item.text}));
        }
    }
    let doc = serde_json::json!({
        "format": "waymark-subject-access",
        "format_version": 1,
        "subject": review.request.subject,
        "received_on": review.request.received_on,
        "due_on": review.request.due_on,
        "records": records,
        "withheld": out.withheld.iter().map(|(why, count)| serde_json::json!({"why": why.label(), "reason": why, "count": count})).collect::<Vec<_>>(),
    });
    serde_json::to_vec_pretty(&doc).map_err(|_| crate::PrintError::Internal { what: "the subject access export" })
}

/// The request's first eight hex digits tell two answers apart; neither names the case or a person.
pub(crate) fn file_name(n: &Naming<'_>) -> String {
    let request = n.request.map(|r| r.simple().to_string()).unwrap_or_default();
    format!("subject-access-{}-{}.pdf", request.get(..8).unwrap_or_default(), n.today)
}
