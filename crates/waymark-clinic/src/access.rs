//! Subject access at the clinic (clinic.md, "Data protection": requests
//! about the clinic's records go to the coordinator). What the clinic holds
//! of a case is its copy of the records, which gives the same items as the
//! advocate's laptop (`waymark_domain::access::items`, one implementation),
//! and the panel's own documents (why the case was selected, each agency's
//! research and what it shared at a meeting, the actions, the decision
//! note, the perpetrator's pathways: `panel_items`). Other people's
//! information is withheld until the coordinator releases it, item by item;
//! what could show where the victim is never reaches the perpetrator, and
//! his PDF's pages are checked for it as well. Every request, decision and
//! answer is audited by ids, keys and counts, never words.

use crate::error::ClinicError;
use crate::panel::{agency_key, read, CaseRecord, PanelAction, ResearchReturn, SelectionChoice};
use crate::pathways::Pathway;
use crate::server::AppState;
use crate::store::{AccessDecision, AdminAction, AuditLine};
use crate::workspace::{form_body, path_id, projection, refused_not_found, viewed, Viewer};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use waymark_domain::access::{
    as_the_clinic_answers, check_identity_day, check_request, due_on, items, panel_items, review, shows_whereabouts,
    AccessRequest, AccessReview, AccessSubject, IdentityCheck, PanelPart, PanelText,
};
use waymark_domain::time::london_date;
use waymark_domain::validation::Checker;
use waymark_domain::{CaseId, ExemptionReason};
use waymark_report::subject_access as answer;

/// A request on the coordinator's list, with its case's reference.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessRequestRow {
    pub request: AccessRequest,
    /// Empty once the case is erased.
    pub reference: String,
    /// The case was erased after the request: answer that nothing is held now.
    pub case_erased: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessRequestsView {
    pub requests: Vec<AccessRequestRow>,
}

/// A stable id for one of the panel's documents, so a release of its item
/// holds while the document stays as it was.
fn panel_doc_id(part: PanelPart, id: &str) -> Uuid {
    let digest = Sha256::digest(format!("waymark-panel-doc:{}:{id}", part.wire()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// The text of every panel document about `case`.
fn panel_texts(state: &AppState, case: Uuid) -> Result<Vec<PanelText>, ClinicError> {
    let text =
        |part: PanelPart, id: &str, field: &str, label: String, words: &str, perpetrator: Option<Uuid>| PanelText {
            id: panel_doc_id(part, id),
            part,
            field: field.to_owned(),
            label,
            text: words.to_owned(),
            perpetrator_id: perpetrator,
        };
    let mut out = Vec::new();
    for choice in read::<SelectionChoice>(state, None)?.into_iter().filter(|c| c.case_id == case) {
        let label = if choice.include {
            "Why the case was put to the panel".to_owned()
        } else {
            "Why the case was taken off the panel's list".to_owned()
        };
        out.push(text(PanelPart::Selection, &case.to_string(), "reason", label, &choice.reason, None));
    }
    for research in read::<ResearchReturn>(state, None)?.into_iter().filter(|r| r.case_id == case) {
        let id = format!("{}:{}:{}", research.meeting_id, research.case_id, agency_key(&research.agency));
        let label = format!("What {} found", research.agency.label());
        out.push(text(PanelPart::Research, &id, "summary", label, &research.summary, None));
    }
    for record in read::<CaseRecord>(state, None)?.into_iter().filter(|r| r.case_id == case) {
        let id = format!("{}:{}", record.meeting_id, record.case_id);
        // By position: an agency may speak twice, and a service's own agency is typed text, never a key.
        for (at, shared) in record.information.iter().enumerate() {
            let field = format!("information.{at}");
            let label = format!("What {} shared", shared.agency.label());
            out.push(text(PanelPart::SharedAtMeeting, &id, &field, label, &shared.text, None));
        }
        if let Some(note) = &record.decision_note {
            out.push(text(
                PanelPart::Decision,
                &id,
                "decision_note",
                "The panel's note of its decision".into(),
                note,
                None,
            ));
        }
    }
    for action in read::<PanelAction>(state, None)?.into_iter().filter(|a| a.case_id == case) {
        let id = action.id.to_string();
        let owner = action.agency.label().to_owned();
        let what = format!("{} (for {owner}, due {})", action.action, waymark_domain::time::show_date(action.due_on));
        out.push(text(PanelPart::Action, &id, "action", "An action".into(), &what, None));
        if let Some(note) = &action.note {
            out.push(text(PanelPart::Action, &id, "note", "A note on the action".into(), note, None));
        }
    }
    for pathway in read::<Pathway>(state, None)?.into_iter().filter(|p| p.case_id == case) {
        let id = format!("{}:{}", pathway.perpetrator_id, pathway.kind.wire());
        let steps: Vec<String> = pathway
            .steps
            .iter()
            .map(|s| format!("{} on {}", s.stage.label(), waymark_domain::time::show_date(s.on)))
            .collect();
        let words = format!("{}: {}", pathway.kind.label(), steps.join("; "));
        out.push(text(
            PanelPart::Pathway,
            &id,
            "steps",
            pathway.kind.label().to_owned(),
            &words,
            Some(pathway.perpetrator_id),
        ));
    }
    Ok(out)
}

/// The request `id` names; an unknown one is refused, and the refusal audited.
fn request_of(state: &AppState, viewer: &Viewer, id: Uuid) -> Result<AccessRequest, ClinicError> {
    match state.store.access_requests(None)?.into_iter().find(|r| r.id == id) {
        Some(request) => Ok(request),
        None => {
            refused_not_found(state, viewer, &id.to_string(), "access_request")?;
            Err(ClinicError::NotFound)
        }
    }
}

/// The review as it stands: the copy's items for the request, then the panel's.
fn read_review(state: &AppState, request: AccessRequest) -> Result<AccessReview, ClinicError> {
    let case = request.case_id;
    if state.store.case_erased(case.as_uuid())? {
        return Err(ClinicError::CaseErased);
    }
    let held = projection(state)?.read(|copy| copy.case_held(case))?;
    let mut all =
        items(request.subject, &held.records, held.victim.as_ref(), request.perpetrator_id, &state.service.instruments);
    let texts = panel_texts(state, case.as_uuid())?;
    all.extend(panel_items(request.subject, &texts, held.victim.as_ref(), request.perpetrator_id));
    // What the workspace never shows its staff stays on the server here too.
    let all = as_the_clinic_answers(request.subject, all, held.victim.as_ref());
    let decisions = state.store.access_decisions(request.id)?;
    Ok(review(request, held.reference, all, &decisions.releases, decisions.exempt))
}

/// Refuses a perpetrator's answer whose words, as made, show where the victim
/// is: a last check after the items' own, which nothing can confirm past.
fn locates_her(state: &AppState, request: &AccessRequest, made: &str) -> Result<(), ClinicError> {
    if request.subject != AccessSubject::Perpetrator {
        return Ok(());
    }
    let held = projection(state)?.read(|copy| copy.case_held(request.case_id))?;
    if held.victim.as_ref().is_some_and(|v| shows_whereabouts(v, made)) {
        return Err(ClinicError::AnswerShowsWhereabouts);
    }
    Ok(())
}

/// The coordinator's list of requests, the soonest due first. Audited as a view.
pub(crate) async fn access_requests(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<AccessRequestsView>, ClinicError> {
    crate::server::blocking(move || {
        let requests = state.store.access_requests(None)?;
        let copy = projection(&state)?;
        let mut rows = Vec::new();
        for request in requests {
            // A request outlives its case's erasure: it is still owed an answer (that nothing is held).
            let case_erased = state.store.case_erased(request.case_id.as_uuid())?;
            let reference = if case_erased {
                String::new()
            } else {
                match copy.read(|c| c.get_record(waymark_domain::RecordKind::Case, request.case_id.as_uuid()))? {
                    waymark_domain::Record::Case(case) => case.reference,
                    _ => String::new(),
                }
            };
            rows.push(AccessRequestRow { request, reference, case_erased });
        }
        viewed(&state, &viewer, "access_requests", json!({ "requests": rows.len() }))?;
        Ok(Json(AccessRequestsView { requests: rows }))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    case_id: Uuid,
    subject: AccessSubject,
    #[serde(default)]
    perpetrator_id: Option<Uuid>,
    received_on: NaiveDate,
}

/// Records a request from a case's victim or one of its perpetrators.
pub(crate) async fn access_request_make(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<AccessRequest>, ClinicError> {
    let body: RequestBody = form_body(raw, "the body must be {case_id, subject, perpetrator_id, received_on}")?;
    crate::server::blocking(move || {
        let case = CaseId(body.case_id);
        if state.store.case_erased(body.case_id)? {
            return Err(ClinicError::CaseErased);
        }
        if state.store.case_advocate(body.case_id)?.is_none() {
            refused_not_found(&state, &viewer, &body.case_id.to_string(), "case")?;
            return Err(ClinicError::NotFound);
        }
        let held = projection(&state)?.read(|copy| copy.case_held(case))?;
        let now = (state.clock)();
        check_request(body.subject, body.perpetrator_id, &held.perpetrators, body.received_on, london_date(now))
            .map_err(ClinicError::InvalidFields)?;
        let request = AccessRequest {
            id: Uuid::now_v7(),
            case_id: case,
            subject: body.subject,
            perpetrator_id: body.perpetrator_id,
            received_on: body.received_on,
            due_on: due_on(body.received_on),
            made_at: now,
            made_by: viewer.staff_code.clone(),
            identity_checked: None,
        };
        let target = request.id.to_string();
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::AccessRequested,
            target: Some(&target),
            detail: json!({
                "case": case.to_string(),
                "subject": request.subject.wire(),
                "due_on": request.due_on.to_string(),
            }),
        };
        state.store.add_access_request(&request, &line, now)?;
        Ok(Json(request))
    })
    .await
}

/// Every item of a request and what was decided. Audited as a view of the request.
pub(crate) async fn access_review(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<AccessReview>, ClinicError> {
    crate::server::blocking(move || {
        let id = path_id(&id)?;
        let request = request_of(&state, &viewer, id)?;
        let review = read_review(&state, request)?;
        viewed(&state, &viewer, &id.to_string(), json!({ "screen": "subject_access", "items": review.items.len() }))?;
        Ok(Json(review))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    item: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithholdBody {
    item: String,
    reason: ExemptionReason,
}

/// Keeps a decision on one item of a request after checking it against the
/// review as it now stands, and returns the review again.
fn decide(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    item: &str,
    decision: impl FnOnce(&AccessReview) -> Result<AccessDecision, ClinicError>,
) -> Result<AccessReview, ClinicError> {
    let id = path_id(id)?;
    let request = request_of(state, viewer, id)?;
    let current = read_review(state, request.clone())?;
    let decision = decision(&current)?;
    let (action, mut detail) = match &decision {
        AccessDecision::Release { .. } => (AdminAction::AccessReleased, json!({ "item": item })),
        AccessDecision::Exempt { reason } => {
            (AdminAction::AccessWithheld, json!({ "item": item, "reason": reason.wire() }))
        }
    };
    detail["case"] = json!(request.case_id.to_string());
    let target = id.to_string();
    let line = AuditLine { actor: &viewer.staff_code, action, target: Some(&target), detail };
    state.store.decide_access_item(id, item, &decision, &line, (state.clock)())?;
    read_review(state, request)
}

/// Releases one withheld item that may be released. Audited with its key.
pub(crate) async fn access_release(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<AccessReview>, ClinicError> {
    let body: ReleaseBody = form_body(raw, "the body must be {item}")?;
    crate::server::blocking(move || {
        let item = body.item.clone();
        decide(&state, &viewer, &id, &body.item, |review| {
            let digest = review.may_release(&item).map_err(ClinicError::InvalidFields)?;
            Ok(AccessDecision::Release { digest })
        })
        .map(Json)
    })
    .await
}

/// Withholds one of the requester's own items under an exemption. Audited with its key and the reason's code.
pub(crate) async fn access_withhold(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<AccessReview>, ClinicError> {
    let body: WithholdBody = form_body(raw, "the body must be {item, reason}")?;
    crate::server::blocking(move || {
        let item = body.item.clone();
        decide(&state, &viewer, &id, &body.item, |review| {
            review.may_withhold(&item).map_err(ClinicError::InvalidFields)?;
            Ok(AccessDecision::Exempt { reason: body.reason })
        })
        .map(Json)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityBody {
    on: NaiveDate,
}

/// Records that the requester's identity was checked on `on`, by the coordinator signed in. Audited with the day.
pub(crate) async fn access_identity(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<AccessRequest>, ClinicError> {
    let body: IdentityBody = form_body(raw, "the body must be {on}")?;
    crate::server::blocking(move || {
        let id = path_id(&id)?;
        let request = request_of(&state, &viewer, id)?;
        let now = (state.clock)();
        check_identity_day(&request, body.on, london_date(now)).map_err(ClinicError::InvalidFields)?;
        let check = IdentityCheck { on: body.on, by: viewer.staff_code.clone() };
        let target = id.to_string();
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::AccessIdentityChecked,
            target: Some(&target),
            detail: json!({ "case": request.case_id.to_string(), "on": body.on.to_string() }),
        };
        state.store.check_access_identity(id, &check, &line, now)?;
        request_of(&state, &viewer, id).map(Json)
    })
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum AnswerFormat {
    Pdf,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerQuery {
    format: AnswerFormat,
}

/// The answer as a PDF or the requester's JSON file. A perpetrator's PDF is
/// checked, page by page as laid out, for where the victim is; nothing can
/// confirm past that. Audited as an export with counts and the file's hash.
pub(crate) async fn access_answer(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    query: Result<Query<AnswerQuery>, QueryRejection>,
) -> Result<Response, ClinicError> {
    let Ok(Query(query)) = query else {
        let mut c = Checker::new();
        c.fail("format", "must be pdf or json");
        return Err(ClinicError::InvalidFields(c.finish().err().unwrap_or_default()));
    };
    crate::server::blocking(move || {
        let id = path_id(&id)?;
        let request = request_of(&state, &viewer, id)?;
        request.may_answer().map_err(ClinicError::InvalidFields)?;
        let review = read_review(&state, request.clone())?;
        let out = review.answer();
        let now = (state.clock)();
        let today = london_date(now);
        let (bytes, content_type, file_name) = match query.format {
            AnswerFormat::Json => {
                (answer::json(&review, &out), "application/json", answer::file_name(id, today, "json"))
            }
            AnswerFormat::Pdf => {
                let keeps = projection(&state)?.read(|copy| Ok(copy.rules().retention.clone()))?;
                let data = answer::typst_data(&review, &out, &keeps, &viewer.staff_code, now, false);
                let compiled = waymark_typeset::Engine::new()
                    .compile(state.templates.files(), answer::TEMPLATE.0, &data, now, false)
                    .map_err(|_| ClinicError::Store("the answer could not be typeset".into()))?;
                let pages = waymark_typeset::page_texts(&compiled.document).join("\n");
                locates_her(&state, &request, &pages)?;
                (compiled.pdf, "application/pdf", answer::file_name(id, today, "pdf"))
            }
        };
        if query.format == AnswerFormat::Json {
            locates_her(&state, &request, &String::from_utf8_lossy(&bytes))?;
        }
        let withheld: u32 = out.withheld.iter().map(|(_, n)| *n).sum();
        let format = if query.format == AnswerFormat::Pdf { "pdf" } else { "json" };
        crate::workspace::acted(
            &state,
            &viewer,
            AdminAction::AccessExported,
            &id.to_string(),
            json!({
                "case": request.case_id.to_string(),
                "format": format,
                "items": out.items.len(),
                "released": review.released.len(),
                "withheld": withheld,
                "sha256": hex::encode(Sha256::digest(&bytes)),
            }),
        )?;
        Ok(crate::reports::attachment(bytes, content_type, &file_name))
    })
    .await
}
