//! The clinic workspace's HTTP API: staff sign in with a password and an
//! authenticator code, and read what their role lets them. The server
//! decides every time: a route checks the session (a cookie the page
//! cannot read), the member's role (`WorkRoute::roles`, the one list), and
//! on a change the CSRF token the page echoes. Every view and every refusal
//! is written to the clinic's hash-chained audit; ids only.

use crate::error::ClinicError;
use crate::server::{network_of, AppState};
use crate::signin::{SessionPolicy, SessionToken, SignInAttempt};
use crate::store::{AdminAction, AuditLine, StaffRole};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use waymark_domain::record::AtClinic;
use waymark_domain::RecordKind;

/// The session cookie. `__Host-` makes the browser refuse it unless it is
/// `Secure`, for `/`, and set by this host alone, so a neighbouring
/// subdomain cannot plant a session (fixation by cookie tossing).
pub const SESSION_COOKIE: &str = "__Host-waymark-session";
/// The header a page echoes its CSRF token in, on every change.
pub const CSRF_HEADER: &str = "x-waymark-csrf";
/// Sign-in bodies are small; anything larger is refused unread.
const MAX_SIGN_IN_BYTES: usize = 4 * 1024;

/// Every route of the workspace API: the one list the router is built from,
/// the roles each allows, and what the route-by-role test walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkRoute {
    SignIn,
    SignOut,
    Me,
    Vocabularies,
    Caseload,
    Case,
    Staff,
    Devices,
    /// A new referral (a referrer's or the coordinator's).
    ReferralSubmit,
    Referrals,
    Referral,
    ReferralAccept,
    ReferralDecline,
    /// The advocates a case can go to, with their open cases.
    Advocates,
    /// The manager moves a case to another advocate.
    CaseReassign,
    /// An administrator's one-time enrolment code for an advocate's laptop.
    EnrolmentIssue,
    DeviceRevoke,
    StaffPassword,
    StaffSecondFactor,
    /// Panel meetings: all for the coordinator and the manager, a panel member's own.
    Meetings,
    MeetingSave,
    MeetingPublish,
    MeetingClose,
    /// Active panel members and their agencies, to invite to a meeting.
    PanelMembers,
    /// The clinic's audit, newest first, and whether its chain verifies.
    Audit,
    /// Open cases flagged as escalating and not yet reviewed.
    Escalating,
    /// The cases that meet a panel selection criterion, and why (`panel`).
    Selection,
    /// The coordinator adds a case to the selection or takes one off, with a reason.
    SelectionChange,
    /// One meeting case by case: research, what was recorded, actions.
    Meeting,
    /// An agency's research on a case before the meeting.
    MeetingResearch,
    MeetingAttendance,
    /// What the meeting recorded of a case: SRP, decision, actions.
    MeetingCaseRecord,
    /// The panel's actions: all for the coordinator and manager, an agency's own for its members.
    Actions,
    ActionUpdate,
    /// A meeting's minutes as a PDF.
    MeetingMinutes,
    /// One agency's extract of a meeting's minutes as a PDF: a panel member's own agency's.
    MeetingExtract,
    /// Perpetrators' mental-health pathways and MAPPA referrals, with the commissioner's counts.
    Pathways,
    PathwayStep,
    /// The commissioner's quarterly return for the whole service, as figures, PDF, CSV or a workbook.
    QuarterlyReturn,
    /// The retention review: closed cases against the schedule, and the erased ones.
    Retention,
    /// Erasing a case everywhere.
    CaseErase,
    /// Subject access requests about the clinic's records, the soonest due first.
    AccessRequests,
    AccessRequestMake,
    /// A request's items, with what is withheld and what was released.
    AccessReview,
    AccessRelease,
    AccessWithhold,
    /// A request's answer as a PDF or JSON.
    AccessAnswer,
    /// That the requester is who they say: no answer is made before.
    AccessIdentity,
}

impl WorkRoute {
    pub const ALL: [WorkRoute; 48] = [
        WorkRoute::SignIn,
        WorkRoute::SignOut,
        WorkRoute::Me,
        WorkRoute::Vocabularies,
        WorkRoute::Caseload,
        WorkRoute::Case,
        WorkRoute::Staff,
        WorkRoute::Devices,
        WorkRoute::ReferralSubmit,
        WorkRoute::Referrals,
        WorkRoute::Referral,
        WorkRoute::ReferralAccept,
        WorkRoute::ReferralDecline,
        WorkRoute::Advocates,
        WorkRoute::CaseReassign,
        WorkRoute::EnrolmentIssue,
        WorkRoute::DeviceRevoke,
        WorkRoute::StaffPassword,
        WorkRoute::StaffSecondFactor,
        WorkRoute::Meetings,
        WorkRoute::MeetingSave,
        WorkRoute::MeetingPublish,
        WorkRoute::MeetingClose,
        WorkRoute::PanelMembers,
        WorkRoute::Audit,
        WorkRoute::Escalating,
        WorkRoute::Selection,
        WorkRoute::SelectionChange,
        WorkRoute::Meeting,
        WorkRoute::MeetingResearch,
        WorkRoute::MeetingAttendance,
        WorkRoute::MeetingCaseRecord,
        WorkRoute::Actions,
        WorkRoute::ActionUpdate,
        WorkRoute::MeetingMinutes,
        WorkRoute::MeetingExtract,
        WorkRoute::Pathways,
        WorkRoute::PathwayStep,
        WorkRoute::QuarterlyReturn,
        WorkRoute::Retention,
        WorkRoute::CaseErase,
        WorkRoute::AccessRequests,
        WorkRoute::AccessRequestMake,
        WorkRoute::AccessReview,
        WorkRoute::AccessRelease,
        WorkRoute::AccessWithhold,
        WorkRoute::AccessAnswer,
        WorkRoute::AccessIdentity,
    ];

    pub fn path(self) -> &'static str {
        match self {
            WorkRoute::SignIn => "/w/api/sign-in",
            WorkRoute::SignOut => "/w/api/sign-out",
            WorkRoute::Me => "/w/api/me",
            WorkRoute::Vocabularies => "/w/api/vocabularies",
            WorkRoute::Caseload => "/w/api/caseload",
            WorkRoute::Case => "/w/api/cases/{id}",
            WorkRoute::Staff => "/w/api/staff",
            WorkRoute::Devices => "/w/api/devices",
            WorkRoute::ReferralSubmit | WorkRoute::Referrals => "/w/api/referrals",
            WorkRoute::Referral => "/w/api/referrals/{id}",
            WorkRoute::ReferralAccept => "/w/api/referrals/{id}/accept",
            WorkRoute::ReferralDecline => "/w/api/referrals/{id}/decline",
            WorkRoute::Advocates => "/w/api/advocates",
            WorkRoute::CaseReassign => "/w/api/cases/{id}/reassign",
            WorkRoute::EnrolmentIssue => "/w/api/enrolments",
            WorkRoute::DeviceRevoke => "/w/api/devices/{id}/revoke",
            WorkRoute::StaffPassword => "/w/api/staff/{id}/password",
            WorkRoute::StaffSecondFactor => "/w/api/staff/{id}/second-factor",
            WorkRoute::Meetings | WorkRoute::MeetingSave => "/w/api/meetings",
            WorkRoute::MeetingPublish => "/w/api/meetings/{id}/publish",
            WorkRoute::MeetingClose => "/w/api/meetings/{id}/close",
            WorkRoute::PanelMembers => "/w/api/panel-members",
            WorkRoute::Audit => "/w/api/audit",
            WorkRoute::Escalating => "/w/api/escalating",
            WorkRoute::Selection | WorkRoute::SelectionChange => "/w/api/selection",
            WorkRoute::Meeting => "/w/api/meetings/{id}",
            WorkRoute::MeetingResearch => "/w/api/meetings/{id}/research",
            WorkRoute::MeetingAttendance => "/w/api/meetings/{id}/attendance",
            WorkRoute::MeetingCaseRecord => "/w/api/meetings/{id}/cases/{case}",
            WorkRoute::Actions => "/w/api/actions",
            WorkRoute::ActionUpdate => "/w/api/actions/{id}",
            WorkRoute::MeetingMinutes => "/w/api/meetings/{id}/minutes",
            WorkRoute::MeetingExtract => "/w/api/meetings/{id}/extract",
            WorkRoute::Pathways | WorkRoute::PathwayStep => "/w/api/pathways",
            WorkRoute::QuarterlyReturn => "/w/api/reports/quarterly",
            WorkRoute::Retention => "/w/api/retention",
            WorkRoute::CaseErase => "/w/api/cases/{id}/erase",
            WorkRoute::AccessRequests | WorkRoute::AccessRequestMake => "/w/api/access-requests",
            WorkRoute::AccessReview => "/w/api/access-requests/{id}",
            WorkRoute::AccessRelease => "/w/api/access-requests/{id}/release",
            WorkRoute::AccessWithhold => "/w/api/access-requests/{id}/withhold",
            WorkRoute::AccessAnswer => "/w/api/access-requests/{id}/answer",
            WorkRoute::AccessIdentity => "/w/api/access-requests/{id}/identity",
        }
    }

    pub fn method(self) -> Method {
        match self {
            WorkRoute::SignIn
            | WorkRoute::SignOut
            | WorkRoute::ReferralSubmit
            | WorkRoute::ReferralAccept
            | WorkRoute::ReferralDecline
            | WorkRoute::CaseReassign
            | WorkRoute::CaseErase
            | WorkRoute::AccessRequestMake
            | WorkRoute::AccessRelease
            | WorkRoute::AccessWithhold
            | WorkRoute::AccessIdentity
            | WorkRoute::EnrolmentIssue
            | WorkRoute::DeviceRevoke
            | WorkRoute::StaffPassword
            | WorkRoute::StaffSecondFactor
            | WorkRoute::MeetingSave
            | WorkRoute::MeetingPublish
            | WorkRoute::MeetingClose
            | WorkRoute::SelectionChange
            | WorkRoute::MeetingResearch
            | WorkRoute::MeetingAttendance
            | WorkRoute::MeetingCaseRecord
            | WorkRoute::ActionUpdate
            | WorkRoute::PathwayStep => Method::POST,
            _ => Method::GET,
        }
    }

    /// Who may use the route once signed in. Sign-in itself needs no session.
    /// Coordinator and manager see every case; an administrator sees staff
    /// and devices but no case content; a panel member sees a case only on
    /// an agenda they are invited to and a referrer only their referrals
    /// (both come with the panel and referral routes).
    pub fn roles(self) -> &'static [StaffRole] {
        match self {
            // Anyone signed in may see who they are, the forms' vocabularies, and sign out.
            WorkRoute::SignIn | WorkRoute::SignOut | WorkRoute::Me | WorkRoute::Vocabularies => &StaffRole::ALL,
            WorkRoute::Caseload
            | WorkRoute::PanelMembers
            | WorkRoute::Escalating
            | WorkRoute::Selection
            | WorkRoute::MeetingMinutes
            | WorkRoute::Pathways
            | WorkRoute::QuarterlyReturn => &[StaffRole::Coordinator, StaffRole::Manager],
            // A panel member: only a case on a published agenda they are invited to, and
            // only their own agency's research and actions (checked by the handler).
            WorkRoute::Case
            | WorkRoute::Meetings
            | WorkRoute::Meeting
            | WorkRoute::Actions
            | WorkRoute::MeetingExtract => &[StaffRole::Coordinator, StaffRole::Manager, StaffRole::PanelMember],
            WorkRoute::MeetingResearch | WorkRoute::ActionUpdate => &[StaffRole::Coordinator, StaffRole::PanelMember],
            WorkRoute::MeetingSave
            | WorkRoute::MeetingPublish
            | WorkRoute::MeetingClose
            | WorkRoute::SelectionChange
            | WorkRoute::MeetingAttendance
            | WorkRoute::MeetingCaseRecord
            | WorkRoute::PathwayStep => &[StaffRole::Coordinator],
            // Ids, codes and times only: the coordinator answers for the clinic's
            // records, the administrator for its systems.
            WorkRoute::Audit => &[StaffRole::Coordinator, StaffRole::Administrator],
            WorkRoute::Staff
            | WorkRoute::Devices
            | WorkRoute::EnrolmentIssue
            | WorkRoute::DeviceRevoke
            | WorkRoute::StaffPassword
            | WorkRoute::StaffSecondFactor => &[StaffRole::Administrator],
            WorkRoute::CaseReassign | WorkRoute::Retention | WorkRoute::CaseErase => &[StaffRole::Manager],
            // Requests about the clinic's records go to the coordinator (clinic.md, "Data protection").
            WorkRoute::AccessRequests
            | WorkRoute::AccessRequestMake
            | WorkRoute::AccessReview
            | WorkRoute::AccessRelease
            | WorkRoute::AccessWithhold
            | WorkRoute::AccessAnswer
            | WorkRoute::AccessIdentity => &[StaffRole::Coordinator],
            // Referrers and the coordinator fill in the form; a referrer's
            // list holds only their own referrals and their status.
            WorkRoute::ReferralSubmit => &[StaffRole::Referrer, StaffRole::Coordinator],
            WorkRoute::Referrals => &[StaffRole::Referrer, StaffRole::Coordinator, StaffRole::Manager],
            // The coordinator screens; the advocates' manager assigns (clinic.md, "Who uses it").
            WorkRoute::Referral | WorkRoute::ReferralAccept | WorkRoute::Advocates => {
                &[StaffRole::Coordinator, StaffRole::Manager]
            }
            WorkRoute::ReferralDecline => &[StaffRole::Coordinator],
        }
    }

    /// The name the audit gives the route.
    pub fn name(self) -> &'static str {
        match self {
            WorkRoute::SignIn => "sign_in",
            WorkRoute::SignOut => "sign_out",
            WorkRoute::Me => "me",
            WorkRoute::Vocabularies => "vocabularies",
            WorkRoute::Caseload => "caseload",
            WorkRoute::Case => "case",
            WorkRoute::Staff => "staff",
            WorkRoute::Devices => "devices",
            WorkRoute::ReferralSubmit => "referral_submit",
            WorkRoute::Referrals => "referrals",
            WorkRoute::Referral => "referral",
            WorkRoute::ReferralAccept => "referral_accept",
            WorkRoute::ReferralDecline => "referral_decline",
            WorkRoute::Advocates => "advocates",
            WorkRoute::CaseReassign => "case_reassign",
            WorkRoute::EnrolmentIssue => "enrolment_issue",
            WorkRoute::DeviceRevoke => "device_revoke",
            WorkRoute::StaffPassword => "staff_password",
            WorkRoute::StaffSecondFactor => "staff_second_factor",
            WorkRoute::Meetings => "meetings",
            WorkRoute::MeetingSave => "meeting_save",
            WorkRoute::MeetingPublish => "meeting_publish",
            WorkRoute::MeetingClose => "meeting_close",
            WorkRoute::PanelMembers => "panel_members",
            WorkRoute::Audit => "audit",
            WorkRoute::Escalating => "escalating",
            WorkRoute::Selection => "selection",
            WorkRoute::SelectionChange => "selection_change",
            WorkRoute::Meeting => "meeting",
            WorkRoute::MeetingResearch => "meeting_research",
            WorkRoute::MeetingAttendance => "meeting_attendance",
            WorkRoute::MeetingCaseRecord => "meeting_case_record",
            WorkRoute::Actions => "actions",
            WorkRoute::ActionUpdate => "action_update",
            WorkRoute::MeetingMinutes => "meeting_minutes",
            WorkRoute::MeetingExtract => "meeting_extract",
            WorkRoute::Pathways => "pathways",
            WorkRoute::PathwayStep => "pathway_step",
            WorkRoute::QuarterlyReturn => "quarterly_return",
            WorkRoute::Retention => "retention",
            WorkRoute::CaseErase => "case_erase",
            WorkRoute::AccessRequests => "access_requests",
            WorkRoute::AccessRequestMake => "access_request_make",
            WorkRoute::AccessReview => "access_review",
            WorkRoute::AccessRelease => "access_release",
            WorkRoute::AccessWithhold => "access_withhold",
            WorkRoute::AccessAnswer => "access_answer",
            WorkRoute::AccessIdentity => "access_identity",
        }
    }
}

/// The routes, each behind the session and role check for its own route.
pub fn routes(state: AppState) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, axum::routing::MethodRouter<AppState>)> = Vec::new();
    for route in WorkRoute::ALL {
        let handler = match route {
            WorkRoute::SignIn => axum::routing::post(sign_in),
            WorkRoute::SignOut => axum::routing::post(sign_out),
            WorkRoute::Me => axum::routing::get(me),
            WorkRoute::Vocabularies => axum::routing::get(vocabularies),
            WorkRoute::Caseload => axum::routing::get(caseload),
            WorkRoute::Case => axum::routing::get(case),
            WorkRoute::Staff => axum::routing::get(staff),
            WorkRoute::Devices => axum::routing::get(devices),
            WorkRoute::ReferralSubmit => axum::routing::post(referral_submit),
            WorkRoute::Referrals => axum::routing::get(referrals),
            WorkRoute::Referral => axum::routing::get(referral),
            WorkRoute::ReferralAccept => axum::routing::post(referral_accept),
            WorkRoute::ReferralDecline => axum::routing::post(referral_decline),
            WorkRoute::Advocates => axum::routing::get(advocates),
            WorkRoute::CaseReassign => axum::routing::post(case_reassign),
            WorkRoute::EnrolmentIssue => axum::routing::post(enrolment_issue),
            WorkRoute::DeviceRevoke => axum::routing::post(device_revoke),
            WorkRoute::StaffPassword => axum::routing::post(staff_password),
            WorkRoute::StaffSecondFactor => axum::routing::post(staff_second_factor),
            WorkRoute::Meetings => axum::routing::get(meetings),
            WorkRoute::MeetingSave => axum::routing::post(meeting_save),
            WorkRoute::MeetingPublish => axum::routing::post(meeting_publish),
            WorkRoute::MeetingClose => axum::routing::post(meeting_close),
            WorkRoute::PanelMembers => axum::routing::get(panel_members),
            WorkRoute::Audit => axum::routing::get(audit),
            WorkRoute::Escalating => axum::routing::get(escalating),
            WorkRoute::Selection => axum::routing::get(crate::panel::selection),
            WorkRoute::SelectionChange => axum::routing::post(crate::panel::selection_change),
            WorkRoute::Meeting => axum::routing::get(crate::panel::meeting_detail),
            WorkRoute::MeetingResearch => axum::routing::post(crate::panel::research_return),
            WorkRoute::MeetingAttendance => axum::routing::post(crate::panel::attendance),
            WorkRoute::MeetingCaseRecord => axum::routing::post(crate::panel::case_record),
            WorkRoute::Actions => axum::routing::get(crate::panel::actions),
            WorkRoute::ActionUpdate => axum::routing::post(crate::panel::action_update),
            WorkRoute::MeetingMinutes => axum::routing::get(crate::panel::meeting_minutes),
            WorkRoute::MeetingExtract => axum::routing::get(crate::panel::meeting_extract),
            WorkRoute::Pathways => axum::routing::get(crate::pathways::pathways),
            WorkRoute::PathwayStep => axum::routing::post(crate::pathways::pathway_step),
            WorkRoute::QuarterlyReturn => axum::routing::get(crate::reports::quarterly_return),
            WorkRoute::Retention => axum::routing::get(crate::retention::retention_review),
            WorkRoute::CaseErase => axum::routing::post(crate::retention::case_erase),
            WorkRoute::AccessRequests => axum::routing::get(crate::access::access_requests),
            WorkRoute::AccessRequestMake => axum::routing::post(crate::access::access_request_make),
            WorkRoute::AccessReview => axum::routing::get(crate::access::access_review),
            WorkRoute::AccessRelease => axum::routing::post(crate::access::access_release),
            WorkRoute::AccessWithhold => axum::routing::post(crate::access::access_withhold),
            WorkRoute::AccessAnswer => axum::routing::get(crate::access::access_answer),
            WorkRoute::AccessIdentity => axum::routing::post(crate::access::access_identity),
        };
        let handler = if route == WorkRoute::SignIn {
            handler
        } else {
            handler.route_layer(axum::middleware::from_fn_with_state((state.clone(), route), guard))
        };
        // Two routes on one path (a list and its form) share a method router, each method behind its own guard.
        match by_path.iter_mut().find(|(path, _)| *path == route.path()) {
            Some((_, methods)) => *methods = std::mem::take(methods).merge(handler),
            None => by_path.push((route.path(), handler)),
        }
    }
    let mut router = Router::new();
    for (path, methods) in by_path {
        router = router.route(path, methods);
    }
    router
        .route("/w", axum::routing::get(|| async { axum::response::Redirect::permanent("/w/") }))
        .route("/w/", axum::routing::get(page))
        .route("/w/{file}", axum::routing::get(ui_file))
        .route("/w/assets/{*file}", axum::routing::get(ui_asset))
        .layer(axum::middleware::from_fn(private_headers))
}

/// The workspace's page and its assets (`ui/dist-workspace`, built by
/// `npm run build:workspace`), read once when the clinic starts so a
/// request names only files that were there: never a path on the disk.
#[derive(Debug, Default)]
pub struct WorkspaceUi {
    files: std::collections::HashMap<String, (Bytes, &'static str)>,
}

/// The page's own policy: its scripts, styles and fonts from this server
/// only, nothing inline, no frames, and it talks to no one else.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

impl WorkspaceUi {
    /// Reads every file under `dir`; `workspace.html` must be among them.
    pub fn load(dir: &std::path::Path) -> Result<WorkspaceUi, ClinicError> {
        let mut ui = WorkspaceUi::default();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            let entries = std::fs::read_dir(&folder)
                .map_err(|e| ClinicError::Setup(format!("read the workspace UI folder: {}", e.kind())))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(dir) else { continue };
                let name = relative.to_string_lossy().replace('\\', "/");
                let bytes = std::fs::read(&path)
                    .map_err(|e| ClinicError::Setup(format!("read a workspace UI file: {}", e.kind())))?;
                ui.files.insert(name, (Bytes::from(bytes), content_type(&path)));
            }
        }
        if !ui.files.contains_key("workspace.html") {
            return Err(ClinicError::Setup(
                "the workspace UI folder has no workspace.html; build it with `npm run build:workspace` in ui/".into(),
            ));
        }
        Ok(ui)
    }

    fn answer(&self, name: &str) -> Response {
        match self.files.get(name) {
            Some((bytes, kind)) => {
                let mut response = (StatusCode::OK, bytes.clone()).into_response();
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
                headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
                response
            }
            None => ClinicError::NotFound.into_response(),
        }
    }
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    }
}

fn workspace_ui(state: &AppState) -> Result<&WorkspaceUi, ClinicError> {
    state.workspace_ui.as_deref().ok_or(ClinicError::Setup(
        "this clinic serves no workspace pages; start it with --workspace-ui pointing at the built ui/dist-workspace"
            .into(),
    ))
}

async fn page(State(state): State<AppState>) -> Response {
    match workspace_ui(&state) {
        Ok(ui) => ui.answer("workspace.html"),
        Err(e) => e.into_response(),
    }
}

async fn ui_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match workspace_ui(&state) {
        Ok(ui) => ui.answer(&file),
        Err(e) => e.into_response(),
    }
}

async fn ui_asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match workspace_ui(&state) {
        Ok(ui) => ui.answer(&format!("assets/{file}")),
        Err(e) => e.into_response(),
    }
}

async fn vocabularies() -> Json<waymark_domain::vocab::Vocabularies> {
    Json(waymark_domain::vocab::Vocabularies::all())
}

/// Who is asking, as the server established it from the session.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub staff_code: String,
    pub role: StaffRole,
    session_id: String,
}

/// Finds the session, checks the role against the route and, on a change,
/// the CSRF token; refusals of a signed-in member are audited.
async fn guard(State((state, route)): State<(AppState, WorkRoute)>, mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let changes = request.method() != Method::GET && request.method() != Method::HEAD;
    let checked = crate::server::blocking(move || viewer(&state, &headers, route, changes)).await;
    match checked {
        Ok(viewer) => {
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        Err(e) => {
            // The refused body is read (up to the size any body may have) and
            // dropped, so the answer arrives whole rather than as a connection
            // closed while the caller is still sending.
            let _ = axum::body::to_bytes(request.into_body(), crate::server::MAX_JSON_BYTES).await;
            e.into_response()
        }
    }
}

fn viewer(state: &AppState, headers: &HeaderMap, route: WorkRoute, changes: bool) -> Result<Viewer, ClinicError> {
    let now = (state.clock)();
    let token = session_cookie(headers).ok_or(ClinicError::SignedOut)?;
    let session_id = token.stored_id();
    let stored = state.store.session(&session_id, now, SessionPolicy::default())?.ok_or(ClinicError::SignedOut)?;
    let member = state.store.staff(&stored.session.staff_code)?.filter(|m| m.active).ok_or(ClinicError::SignedOut)?;
    let refuse = |why: &str, error: ClinicError| -> Result<Viewer, ClinicError> {
        let line = AuditLine {
            actor: &member.code,
            action: AdminAction::Refused,
            target: Some(route.name()),
            detail: serde_json::json!({ "why": why }),
        };
        state.store.audit(&line, now)?;
        tracing::warn!(route = route.name(), why, "a workspace request was refused");
        Err(error)
    };
    if !route.roles().contains(&member.role) {
        return refuse("role", ClinicError::Forbidden);
    }
    if changes {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !crate::signin::constant_time_eq(sent.as_bytes(), stored.csrf.as_bytes()) {
            return refuse("csrf", ClinicError::CsrfRefused);
        }
    }
    Ok(Viewer { staff_code: member.code, role: member.role, session_id })
}

/// The session cookie's token, if the request carries one of the right form.
fn session_cookie(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::from_cookie(value))
}

/// Workspace answers hold case content: never cached, never framed, never
/// sniffed as another type, and no referrer leaves with a case id in it.
async fn private_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The workspace is only ever served over TLS: a browser that has seen it never tries plain HTTP.
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    // The page sets its own policy; an API answer needs none of it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    staff_code: String,
    password: String,
    code: String,
}

/// What the page learns about who is signed in.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedInView {
    pub staff_code: String,
    pub name: String,
    pub role: StaffRole,
    /// Echoed in `x-waymark-csrf` on every change. The page keeps it in memory only.
    pub csrf: String,
    /// When the session ends whatever happens (8 hours after signing in).
    pub ends_at: DateTime<Utc>,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    connection: Connection,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ClinicError> {
    // A form on another site can post text, but not JSON without the browser
    // asking this server first (which it refuses): no sign-in from elsewhere.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(ClinicError::BadRequest("send the sign-in as application/json"));
    }
    let bytes = raw.map_err(|_| ClinicError::BadRequest("the body could not be read whole"))?;
    if bytes.len() > MAX_SIGN_IN_BYTES {
        return Err(ClinicError::BadRequest("the body is too large"));
    }
    let body: SignInBody = serde_json::from_slice(&bytes)
        .map_err(|_| ClinicError::BadRequest("the body must be {staff_code, password, code}"))?;
    // Keyed by the network, not the port: one host has every port, and an IPv6 host its whole /64.
    let address = address_of(&connection);
    let earlier = session_cookie(&headers);
    let (signed_in, view) = crate::server::blocking(move || {
        let now = (state.clock)();
        let password = SecretString::from(body.password);
        let attempt = SignInAttempt {
            staff_code: body.staff_code.trim(),
            password: &password,
            totp_code: &body.code,
            address: &address,
        };
        let signed_in = match crate::signin::sign_in(&*state.store, &attempt, now, &mut rand::rngs::OsRng) {
            Ok(signed_in) => signed_in,
            Err(e) => {
                tracing::warn!(code = e.code().as_str(), "a workspace sign-in was refused");
                return Err(e);
            }
        };
        // A session the browser brought is ended, whoever's it was: signing in always starts afresh.
        if let Some(earlier) = earlier {
            state.store.end_session(&earlier.stored_id())?;
        }
        let member = state.store.staff(&signed_in.staff_code)?.ok_or(ClinicError::SignInRefused)?;
        state.store.audit(
            &AuditLine {
                actor: &member.code,
                action: AdminAction::SignedIn,
                target: None,
                detail: serde_json::json!({}),
            },
            now,
        )?;
        tracing::info!(role = member.role.as_str(), "a member of staff signed in to the workspace");
        let view = SignedInView {
            staff_code: member.code,
            name: member.name,
            role: member.role,
            csrf: signed_in.csrf.to_string(),
            ends_at: now + SessionPolicy::default().absolute,
        };
        Ok((signed_in, view))
    })
    .await?;
    let cookie =
        format!("{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict", signed_in.token.cookie_value());
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| ClinicError::Store("cookie".into()))?);
    Ok(response)
}

async fn sign_out(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Response, ClinicError> {
    crate::server::blocking(move || {
        state.store.end_session(&viewer.session_id)?;
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::SignedOut,
            target: None,
            detail: serde_json::json!({}),
        };
        state.store.audit(&line, (state.clock)())
    })
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("__Host-waymark-session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

async fn me(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<SignedInView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let now = (state.clock)();
        let member = state.store.staff(&viewer.staff_code)?.ok_or(ClinicError::SignedOut)?;
        let stored =
            state.store.session(&viewer.session_id, now, SessionPolicy::default())?.ok_or(ClinicError::SignedOut)?;
        Ok(SignedInView {
            staff_code: member.code,
            name: member.name,
            role: member.role,
            csrf: stored.csrf,
            ends_at: stored.session.started_at + SessionPolicy::default().absolute,
        })
    })
    .await?;
    Ok(Json(view))
}

/// Writes that `viewer` read `target` (a list's name or a record's id).
pub(crate) fn viewed(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), ClinicError> {
    acted(state, viewer, AdminAction::Viewed, target, detail)
}

pub(crate) fn projection(state: &AppState) -> Result<&crate::projection::Projection, ClinicError> {
    let projection =
        state.projection.as_deref().ok_or(ClinicError::Store("the clinic's copy of the records is not open".into()))?;
    // Every accepted change is in the copy before anyone reads it.
    projection.catch_up(&*state.store)?;
    Ok(projection)
}

#[derive(Debug, Serialize)]
pub struct CaseloadView {
    pub rows: Vec<crate::projection::CaseloadRow>,
}

async fn caseload(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<CaseloadView>, ClinicError> {
    let rows = crate::server::blocking(move || {
        let filter = crate::projection::CaseloadFilter::default();
        let rows = projection(&state)?.read(|copy| copy.caseload(&filter))?;
        viewed(&state, &viewer, WorkRoute::Caseload.name(), serde_json::json!({ "rows": rows.len() }))?;
        Ok(rows)
    })
    .await?;
    Ok(Json(CaseloadView { rows }))
}

/// The open cases whose escalation no advocate has reviewed yet, the most
/// signs and then the newest evidence first: the same analysis, on the
/// clinic's copy, as the laptops' caseload column.
async fn escalating(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<CaseloadView>, ClinicError> {
    let rows = crate::server::blocking(move || {
        let filter = crate::projection::CaseloadFilter {
            status: Some(waymark_domain::CaseStatus::Open),
            sort: crate::projection::SortBy::Escalation,
            ..Default::default()
        };
        let mut rows = projection(&state)?.read(|copy| copy.caseload(&filter))?;
        rows.retain(|r| r.escalation.escalating());
        viewed(&state, &viewer, WorkRoute::Escalating.name(), serde_json::json!({ "rows": rows.len() }))?;
        Ok(rows)
    })
    .await?;
    Ok(Json(CaseloadView { rows }))
}

/// One case as the workspace shows it: the laptop's warnings first (made
/// from the whole record), then the record without what its kinds withhold
/// at the clinic (`KindRules::at_clinic`), and the names of what was.
#[derive(Debug, Serialize)]
pub struct CaseSummary {
    pub file: serde_json::Value,
    pub warnings: Vec<waymark_domain::alerts::Warning>,
    /// `kind` for a kind withheld whole, `kind.field` for a field.
    pub withheld: Vec<String>,
}

/// Each section of a case file and the kind of record it holds. Sections
/// whose entries wrap a record (incidents with their amendments, orders with
/// their breaches) hold kinds that withhold nothing; a test keeps it so.
pub const CASE_SECTIONS: &[(&str, RecordKind)] = &[
    ("case", RecordKind::Case),
    ("victim", RecordKind::Victim),
    ("perpetrators", RecordKind::Perpetrator),
    ("incidents", RecordKind::Incident),
    ("risk_assessments", RecordKind::RiskAssessment),
    ("safety_plans", RecordKind::SafetyPlan),
    ("hearings", RecordKind::Hearing),
    ("orders", RecordKind::ProtectiveOrder),
    ("referrals", RecordKind::Referral),
    ("clinic_reviews", RecordKind::ClinicReview),
    ("contacts", RecordKind::Contact),
    ("tasks", RecordKind::Task),
    ("escalation_reviews", RecordKind::EscalationReview),
];

/// Sections of a case file that are not records: made from them, holding no
/// personal details (a finding is worded from counts, dates and labels).
pub const CASE_DERIVED: &[&str] = &["escalation"];

/// Sections of a case file the workspace never sends: the patterns tally
/// incidents' places as the advocate wrote them, which may be where the
/// victim lives, works or takes the children to school; the reminders carry
/// a task's own words, which the address check of the task section would not
/// reach there.
pub const CASE_NOT_SENT: &[&str] = &["patterns", "reminders"];

/// Takes out of `value` (one record, or a list of them) what `kind` keeps
/// from the workspace (`KindRules::at_clinic`), and names what it took:
/// `kind` for a kind withheld whole, `kind.field` for a field. `shared`: the
/// victim's consent or a lawful basis covers the viewer's agency.
pub fn withhold(kind: RecordKind, value: &mut serde_json::Value, shared: bool) -> Vec<String> {
    let fields = match kind.rules().at_clinic {
        AtClinic::Shown => return Vec::new(),
        AtClinic::WithholdUnlessShared(_) if shared => return Vec::new(),
        AtClinic::WithholdAll => {
            let held = value.as_array().is_some_and(|a| !a.is_empty()) || value.is_object();
            *value = if value.is_array() { serde_json::Value::Array(Vec::new()) } else { serde_json::Value::Null };
            return if held { vec![kind.wire().to_owned()] } else { Vec::new() };
        }
        AtClinic::Withhold(fields) | AtClinic::WithholdUnlessShared(fields) => fields,
    };
    let records: Vec<&mut serde_json::Value> = match value {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        serde_json::Value::Object(_) => vec![value],
        _ => Vec::new(),
    };
    let mut withheld = Vec::new();
    for record in records {
        for field in fields {
            if record.as_object_mut().and_then(|r| r.remove(*field)).is_some() {
                withheld.push(format!("{}.{field}", kind.wire()));
            }
        }
    }
    withheld
}

/// Blanks every piece of free text in `value` that shows what `finder`
/// looks for, in any field (one that holds an address on purpose too), and
/// names each as `kind.path` without list positions.
fn withhold_text_showing(
    finder: &waymark_domain::disclosure::Finder<()>,
    kind: RecordKind,
    value: &mut serde_json::Value,
) -> Vec<String> {
    let paths: Vec<String> = waymark_domain::disclosure::text_fields(value, &[])
        .into_iter()
        .filter(|(_, text)| finder.find(text).is_some())
        .map(|(path, _)| path)
        .collect();
    let mut withheld = Vec::new();
    for path in paths {
        if let Some(text) = value.pointer_mut(&format!("/{}", path.replace('.', "/"))) {
            *text = serde_json::Value::Null;
            let named: Vec<&str> = path.split('.').filter(|part| part.parse::<usize>().is_err()).collect();
            withheld.push(format!("{}.{}", kind.wire(), named.join(".")));
        }
    }
    withheld
}

/// The case file as the workspace may send it. A section the list above
/// does not name is not sent at all, so a new section stays at the clinic
/// until someone decides what of it a browser may have.
pub fn for_the_workspace(
    file: &crate::projection::CaseFile,
    shared: bool,
) -> Result<(serde_json::Value, Vec<String>), ClinicError> {
    let whole = serde_json::to_value(file).map_err(|_| ClinicError::Store("a case could not be read out".into()))?;
    let serde_json::Value::Object(sections) = whole else {
        return Err(ClinicError::Store("a case could not be read out".into()));
    };
    let mut sent = serde_json::Map::new();
    let mut withheld = Vec::new();
    // Where the victim lives is caught wherever it appears: an incident's place,
    // an order's conditions, a note. Shared with an agency, it is still never
    // sent while it is marked do-not-disclose (a refuge).
    let address = file.victim.as_ref().and_then(|v| v.address.as_ref());
    let address_goes = shared && address.is_some_and(|a| !a.do_not_disclose);
    let finder = address.filter(|_| !address_goes).map(|a| waymark_domain::disclosure::Finder::of_addresses([a]));
    for (name, mut value) in sections {
        if CASE_DERIVED.contains(&name.as_str()) {
            sent.insert(name, value);
            continue;
        }
        let Some((_, kind)) = CASE_SECTIONS.iter().find(|(section, _)| *section == name) else { continue };
        withheld.extend(withhold(*kind, &mut value, shared));
        if *kind == RecordKind::Victim
            && !address_goes
            && value.as_object_mut().and_then(|v| v.remove("address")).is_some()
        {
            withheld.push("victim.address".to_owned());
        }
        if let Some(finder) = &finder {
            withheld.extend(withhold_text_showing(finder, *kind, &mut value));
        }
        sent.insert(name, value);
    }
    withheld.sort();
    withheld.dedup();
    Ok((serde_json::Value::Object(sent), withheld))
}

async fn case(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<CaseSummary>, ClinicError> {
    let file = crate::server::blocking(move || {
        let now = (state.clock)();
        // What was typed in the address bar is not written anywhere unless it is an id.
        let Ok(case_id) = id.parse::<Uuid>() else { return Err(ClinicError::NotFound) };
        let today = waymark_domain::time::london_date(now);
        // A panel member sees a case only while it is on a published agenda they are
        // invited to; any other case answers as one that does not exist.
        let agency = if viewer.role == StaffRole::PanelMember {
            let on_agenda =
                state.store.meetings()?.iter().any(|m| {
                    m.opens_cases_to(&viewer.staff_code, today) && m.agenda.iter().any(|a| a.case_id == case_id)
                });
            if !on_agenda {
                refused_not_found(&state, &viewer, &case_id.to_string(), "case")?;
                return Err(ClinicError::NotFound);
            }
            state.store.staff(&viewer.staff_code)?.and_then(|m| m.agency)
        } else {
            None
        };
        let read = projection(&state)?.read(|copy| copy.case_file(waymark_domain::CaseId(case_id)));
        match read {
            Ok(file) => {
                viewed(&state, &viewer, &case_id.to_string(), serde_json::json!({ "kind": "case" }))?;
                let warnings = file.warnings(today);
                // Where the victim lives and how to reach them go to a panel member
                // only when her consent or a recorded lawful basis covers their agency.
                let shared = agency.is_some_and(|a| file.victim.as_ref().is_some_and(|v| v.shares_with(&a, today)));
                let (mut file, mut withheld) = for_the_workspace(&file, shared)?;
                if viewer.role == StaffRole::PanelMember {
                    // What the panel recorded (other agencies' judgements and actions) and the
                    // advocate's own tasks are the coordinator's and the advocate's, not an agency's.
                    for (section, kind) in [("clinic_reviews", RecordKind::ClinicReview), ("tasks", RecordKind::Task)] {
                        if file.as_object_mut().and_then(|f| f.remove(section)).is_some() {
                            withheld.push(kind.wire().to_owned());
                        }
                    }
                    withheld.sort();
                }
                Ok(CaseSummary { file, warnings, withheld })
            }
            Err(ClinicError::NotFound) => {
                refused_not_found(&state, &viewer, &case_id.to_string(), "case")?;
                Err(ClinicError::NotFound)
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(Json(file))
}

/// A staff register entry as the administrator's page shows it.
#[derive(Debug, Serialize)]
pub struct StaffView {
    pub code: String,
    pub name: String,
    pub role: StaffRole,
    pub active: bool,
    pub added_at: DateTime<Utc>,
}

async fn staff(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<StaffView>>, ClinicError> {
    let list = crate::server::blocking(move || {
        let list: Vec<StaffView> = state
            .store
            .staff_list()?
            .into_iter()
            .map(|m| StaffView { code: m.code, name: m.name, role: m.role, active: m.active, added_at: m.added_at })
            .collect();
        viewed(&state, &viewer, WorkRoute::Staff.name(), serde_json::json!({ "rows": list.len() }))?;
        Ok(list)
    })
    .await?;
    Ok(Json(list))
}

/// A device as the administrator's page shows it: whose, and its state.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: Uuid,
    pub advocate: String,
    pub confirmed: bool,
    pub status: crate::store::DeviceStatus,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub acked_through: u64,
}

async fn devices(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<DeviceView>>, ClinicError> {
    let list = crate::server::blocking(move || {
        let list: Vec<DeviceView> = state
            .store
            .devices()?
            .into_iter()
            .map(|d| DeviceView {
                id: d.id,
                advocate: d.advocate,
                confirmed: d.confirmed,
                status: d.status,
                enrolled_at: d.enrolled_at,
                revoked_at: d.revoked_at,
                last_seen_at: d.last_seen_at,
                acked_through: d.acked_through,
            })
            .collect();
        viewed(&state, &viewer, WorkRoute::Devices.name(), serde_json::json!({ "rows": list.len() }))?;
        Ok(list)
    })
    .await?;
    Ok(Json(list))
}

/// A change's JSON body, read as `T` with the error naming what was wrong
/// (never quoting what was sent).
pub(crate) fn form_body<T: serde::de::DeserializeOwned>(
    raw: Result<Bytes, BytesRejection>,
    what: &'static str,
) -> Result<T, ClinicError> {
    let bytes = raw.map_err(|_| ClinicError::BadRequest("the body could not be read whole"))?;
    // The router refuses a larger body before this is reached; this keeps the limit where the form is read.
    if bytes.len() > crate::server::MAX_JSON_BYTES {
        return Err(ClinicError::BadRequest("the form is too large"));
    }
    serde_json::from_slice(&bytes).map_err(|_| ClinicError::BadRequest(what))
}

/// An id in a path, or a refusal that writes nothing of what was typed.
pub(crate) fn path_id(id: &str) -> Result<Uuid, ClinicError> {
    id.parse::<Uuid>().map_err(|_| ClinicError::NotFound)
}

/// Writes that `viewer` was refused `target` because it does not exist for them.
pub(crate) fn refused_not_found(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    kind: &str,
) -> Result<(), ClinicError> {
    acted(state, viewer, AdminAction::Refused, target, serde_json::json!({ "why": "not_found", "kind": kind }))
}

/// The referral `id` names, or not found, with the refusal audited (the id only).
fn referral_or_refused(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> Result<crate::store::StoredReferral, ClinicError> {
    match state.store.referral(id)? {
        Some(stored) => Ok(stored),
        None => {
            refused_not_found(state, viewer, &id.to_string(), "referral")?;
            Err(ClinicError::NotFound)
        }
    }
}

/// What a referral's sender learns back: its id, and the number to quote.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReferralReceipt {
    pub id: Uuid,
    pub number: i64,
}

async fn referral_submit(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ReferralReceipt>, ClinicError> {
    let fields: crate::intake::ReferralFields = form_body(raw, "the body must be {case, victim, perpetrator}")?;
    let receipt = crate::server::blocking(move || {
        let now = (state.clock)();
        let (id, number) = crate::intake::submit(&*state.store, &state.service, &fields, &viewer.staff_code, now)?;
        tracing::info!(referral = %id, "a referral came in");
        Ok(ReferralReceipt { id, number })
    })
    .await?;
    Ok(Json(receipt))
}

/// A referral in a list. A referrer's list holds only their own, and of each
/// only what lets them tell it apart and follow it: their own reference and
/// where it stands, never the people in it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReferralRow {
    pub id: Uuid,
    pub number: i64,
    pub submitted_at: DateTime<Utc>,
    pub their_reference: Option<String>,
    pub status: crate::store::IntakeStatus,
    pub decline_reason: Option<waymark_domain::DeclineReason>,
    /// For the coordinator and the manager only.
    pub source: Option<waymark_domain::ReferralSource>,
    pub criteria: Vec<waymark_domain::ReferralCriterion>,
    pub advocate: Option<String>,
}

async fn referrals(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<ReferralRow>>, ClinicError> {
    let rows = crate::server::blocking(move || {
        let own_only = viewer.role == StaffRole::Referrer;
        let list = state.store.referrals(own_only.then_some(viewer.staff_code.as_str()))?;
        // Unscreened first, then newest first.
        let (mut waiting, decided): (Vec<_>, Vec<_>) =
            list.into_iter().partition(|r| r.status == crate::store::IntakeStatus::Submitted);
        waiting.extend(decided);
        let rows: Vec<ReferralRow> = waiting
            .into_iter()
            .map(|r| {
                let referral = r.form.case.referral;
                ReferralRow {
                    id: r.id,
                    number: r.number,
                    submitted_at: r.submitted_at,
                    their_reference: referral.their_reference,
                    status: r.status,
                    decline_reason: if own_only { None } else { r.decline_reason },
                    source: (!own_only).then_some(referral.source),
                    // Why it was declined is the coordinator's to tell: "already a case
                    // here" would tell anyone with a referrer's account who is a client.
                    criteria: if own_only { Vec::new() } else { referral.criteria },
                    advocate: if own_only { None } else { r.advocate },
                }
            })
            .collect();
        viewed(&state, &viewer, WorkRoute::Referrals.name(), serde_json::json!({ "rows": rows.len() }))?;
        Ok(rows)
    })
    .await?;
    Ok(Json(rows))
}

/// An existing case that may hold the referral's victim or perpetrator, as
/// the screening shows it: the case's reference and advocate, never the
/// other case's people.
#[derive(Debug, Serialize, Deserialize)]
pub struct DuplicateView {
    pub case_id: Uuid,
    pub reference: String,
    pub advocate: String,
    pub who: waymark_domain::intake::SamePerson,
    pub there: waymark_domain::intake::SamePerson,
    pub matched_on: Vec<waymark_domain::intake::MatchedOn>,
}

/// Another referral still waiting for screening that may be about the same people.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingDuplicateView {
    pub referral_id: Uuid,
    pub number: i64,
    pub who: waymark_domain::intake::SamePerson,
    pub there: waymark_domain::intake::SamePerson,
    pub matched_on: Vec<waymark_domain::intake::MatchedOn>,
}

/// A referral as the screening sees it: the form without what each kind
/// withholds at the clinic (the victim's address, safe contacts and
/// children stay for the advocate's laptop), the postcode's district for
/// the area, and the cases it may duplicate.
#[derive(Debug, Serialize)]
pub struct ReferralView {
    pub id: Uuid,
    pub number: i64,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub status: crate::store::IntakeStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<waymark_domain::DeclineReason>,
    pub advocate: Option<String>,
    /// The case it became, once accepted, and its reference.
    pub case_id: Option<Uuid>,
    pub reference: Option<String>,
    /// `case`, `victim` and `perpetrator`, each without what it withholds at the clinic.
    pub form: serde_json::Value,
    pub withheld: Vec<String>,
    /// The outward part of the victim's postcode ("ZZ99"), for the area.
    pub postcode_district: Option<String>,
    pub duplicates: Vec<DuplicateView>,
    /// Other referrals waiting for screening that may be about the same people.
    pub pending_duplicates: Vec<PendingDuplicateView>,
}

async fn referral(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<ReferralView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let id = path_id(&id)?;
        let stored = referral_or_refused(&state, &viewer, id)?;
        let projection = projection(&state)?;
        let duplicates = if stored.status == crate::store::IntakeStatus::Submitted {
            projection
                .possible_duplicates(&stored.form)?
                .into_iter()
                .filter_map(|d| {
                    let case = projection.read(|copy| copy.get_record(RecordKind::Case, d.case_id.as_uuid())).ok()?;
                    let waymark_domain::Record::Case(case) = case else { return None };
                    Some(DuplicateView {
                        case_id: d.case_id.as_uuid(),
                        reference: case.reference,
                        advocate: case.advocate,
                        who: d.who,
                        there: d.there,
                        matched_on: d.matched_on,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        // Two referrals about one person can arrive before either is screened.
        let pending_duplicates = if stored.status == crate::store::IntakeStatus::Submitted {
            let waiting: Vec<crate::store::StoredReferral> = state
                .store
                .referrals(None)?
                .into_iter()
                .filter(|r| r.status == crate::store::IntakeStatus::Submitted && r.id != stored.id)
                .collect();
            let victims: Vec<&waymark_domain::Victim> = waiting.iter().map(|r| &r.form.victim).collect();
            let perpetrators: Vec<&waymark_domain::Perpetrator> = waiting.iter().map(|r| &r.form.perpetrator).collect();
            waymark_domain::intake::possible_duplicates(&stored.form, victims, perpetrators)
                .into_iter()
                .filter_map(|d| {
                    let other = waiting.iter().find(|r| r.form.case.id == d.case_id)?;
                    Some(PendingDuplicateView {
                        referral_id: other.id,
                        number: other.number,
                        who: d.who,
                        there: d.there,
                        matched_on: d.matched_on,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let form = &stored.form;
        let unreadable = |_| ClinicError::Store("a referral could not be read out".into());
        let mut case = serde_json::to_value(&form.case).map_err(unreadable)?;
        let mut victim = serde_json::to_value(&form.victim).map_err(unreadable)?;
        let mut perpetrator = serde_json::to_value(&form.perpetrator).map_err(unreadable)?;
        // Screening needs none of it: no agency's consent is read here.
        let mut withheld = withhold(RecordKind::Case, &mut case, false);
        withheld.extend(withhold(RecordKind::Victim, &mut victim, false));
        withheld.extend(withhold(RecordKind::Perpetrator, &mut perpetrator, false));
        // A referrer may have written where the victim lives into the reason or a
        // note: each free-text field that shows the address is held back too.
        if let Some(address) = &form.victim.address {
            let finder = waymark_domain::disclosure::Finder::of_addresses([address]);
            for (kind, value) in [
                (RecordKind::Case, &mut case),
                (RecordKind::Victim, &mut victim),
                (RecordKind::Perpetrator, &mut perpetrator),
            ] {
                withheld.extend(withhold_text_showing(&finder, kind, value));
            }
        }
        let postcode_district = form
            .victim
            .address
            .as_ref()
            .and_then(|a| a.postcode.as_deref())
            .and_then(waymark_domain::intake::outward_code);
        viewed(
            &state,
            &viewer,
            &id.to_string(),
            serde_json::json!({ "kind": "referral", "duplicates": duplicates.len() }),
        )?;
        Ok(ReferralView {
            id: stored.id,
            number: stored.number,
            submitted_by: stored.submitted_by,
            submitted_at: stored.submitted_at,
            status: stored.status,
            decided_by: stored.decided_by,
            decided_at: stored.decided_at,
            decline_reason: stored.decline_reason,
            case_id: (stored.status == crate::store::IntakeStatus::Accepted).then(|| form.case.id.as_uuid()),
            reference: (stored.status == crate::store::IntakeStatus::Accepted)
                .then_some(stored.decided_at)
                .flatten()
                .map(|at| crate::intake::case_reference(stored.number, at)),
            advocate: stored.advocate,
            form: serde_json::json!({ "case": case, "victim": victim, "perpetrator": perpetrator }),
            withheld,
            postcode_district,
            duplicates,
            pending_duplicates,
        })
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    advocate: String,
}

/// What accepting made.
#[derive(Debug, Serialize, Deserialize)]
pub struct Accepted {
    pub case_id: Uuid,
    pub reference: String,
}

async fn referral_accept(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ClinicError> {
    let body: AcceptBody = form_body(raw, "the body must be {advocate}")?;
    let accepted = crate::server::blocking(move || {
        let now = (state.clock)();
        let id = path_id(&id)?;
        referral_or_refused(&state, &viewer, id)?;
        let (case, reference) = crate::intake::accept(
            &*state.store,
            &state.service,
            state.clinic_id,
            id,
            &body.advocate,
            &viewer.staff_code,
            now,
        )?;
        if let Some(projection) = &state.projection {
            projection.changed();
        }
        Ok(Accepted { case_id: case.as_uuid(), reference })
    })
    .await?;
    Ok(Json(accepted))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    reason: waymark_domain::DeclineReason,
}

async fn referral_decline(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ClinicError> {
    let body: DeclineBody = form_body(raw, "the body must be {reason}, one of the decline reasons")?;
    crate::server::blocking(move || {
        let id = path_id(&id)?;
        referral_or_refused(&state, &viewer, id)?;
        crate::intake::decline(&*state.store, id, body.reason, &viewer.staff_code, (state.clock)())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An advocate a case can go to, and how many open cases they hold.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdvocateView {
    pub code: String,
    pub name: String,
    pub open_cases: usize,
}

async fn advocates(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<AdvocateView>>, ClinicError> {
    let list = crate::server::blocking(move || {
        let filter = crate::projection::CaseloadFilter::default();
        let rows = projection(&state)?.read(|copy| copy.caseload(&filter))?;
        let list: Vec<AdvocateView> = state
            .store
            .staff_list()?
            .into_iter()
            .filter(|m| m.active && m.role == StaffRole::Advocate)
            .map(|m| AdvocateView {
                open_cases: rows
                    .iter()
                    .filter(|r| r.advocate == m.code && r.status == waymark_domain::CaseStatus::Open)
                    .count(),
                code: m.code,
                name: m.name,
            })
            .collect();
        viewed(&state, &viewer, WorkRoute::Advocates.name(), serde_json::json!({ "rows": list.len() }))?;
        Ok(list)
    })
    .await?;
    Ok(Json(list))
}

/// Writes an act of `viewer`'s on `target` to the audit (ids and codes only).
pub(crate) fn acted(
    state: &AppState,
    viewer: &Viewer,
    action: AdminAction,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), ClinicError> {
    let line = AuditLine { actor: &viewer.staff_code, action, target: Some(target), detail };
    state.store.audit(&line, (state.clock)())
}

async fn case_reassign(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ClinicError> {
    let body: AcceptBody = form_body(raw, "the body must be {advocate}")?;
    crate::server::blocking(move || {
        let case = path_id(&id)?;
        let Some(from) = state.store.case_advocate(case)? else {
            refused_not_found(&state, &viewer, &case.to_string(), "case")?;
            return Err(ClinicError::NotFound);
        };
        let now = (state.clock)();
        crate::authoring::reassign(&*state.store, state.clinic_id, case, &body.advocate, &viewer.staff_code, now)?;
        if let Some(projection) = &state.projection {
            projection.changed();
        }
        let detail = serde_json::json!({ "from": from, "to": body.advocate.trim() });
        acted(&state, &viewer, AdminAction::CaseReassigned, &case.to_string(), detail)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolmentBody {
    advocate: String,
    /// The address the laptops reach this clinic at (`https://host:port`).
    url: String,
}

/// A one-time enrolment code, shown once: its text, the same as a QR code
/// (SVG) for the laptop's camera, and when it stops working.
#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedCode {
    pub code: String,
    pub qr_svg: String,
    pub expires_at: DateTime<Utc>,
}

/// A QR code of `text` as an SVG image, drawn here so nothing leaves the clinic.
fn qr_svg(text: &str) -> Result<String, ClinicError> {
    let qr = qrcode::QrCode::new(text.as_bytes())
        .map_err(|_| ClinicError::BadRequest("the text is too long for a QR code"))?;
    Ok(qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build())
}

async fn enrolment_issue(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<IssuedCode>, ClinicError> {
    let body: EnrolmentBody = form_body(raw, "the body must be {advocate, url}")?;
    let url = body.url.trim().trim_end_matches('/').to_owned();
    // A host and a port only: a code must not send a laptop to a path, a user or a query.
    let authority = url.strip_prefix("https://").unwrap_or_default();
    let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(plain) {
        return Err(ClinicError::BadRequest("url must be https://host:port"));
    }
    let issued = crate::server::blocking(move || {
        let info = state
            .identity
            .as_deref()
            .ok_or(ClinicError::Setup("this clinic issues enrolment codes only from the command line".into()))?;
        let now = (state.clock)();
        let request = crate::enrolment::CodeRequest { advocate: body.advocate.trim(), url: &url, ca_issued: false };
        let (code, expires_at) =
            crate::enrolment::issue_code(&*state.store, info, &request, now, &mut rand::rngs::OsRng)?;
        let code = code.to_text();
        acted(&state, &viewer, AdminAction::EnrolmentIssued, request.advocate, serde_json::json!({}))?;
        Ok(IssuedCode { qr_svg: qr_svg(&code)?, code, expires_at })
    })
    .await?;
    Ok(Json(issued))
}

async fn device_revoke(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<StatusCode, ClinicError> {
    crate::server::blocking(move || {
        let device = path_id(&id)?;
        if !state.store.revoke(device, (state.clock)())? {
            refused_not_found(&state, &viewer, &device.to_string(), "device")?;
            return Err(ClinicError::NotFound);
        }
        tracing::info!(device = %device, "a laptop was revoked in the workspace");
        acted(&state, &viewer, AdminAction::DeviceRevoked, &device.to_string(), serde_json::json!({}))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An administrator's own password and authenticator code, asked again
/// before they set someone's sign-in: a session left open, or stolen, is
/// not enough to take over an account.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reconfirm {
    password: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
    confirm: Reconfirm,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondFactorBody {
    confirm: Reconfirm,
}

type Connection = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

fn address_of(connection: &Connection) -> String {
    connection.as_ref().map(|c| network_of(c.0 .0.ip()).to_string()).unwrap_or_else(|| "in-process".to_owned())
}

/// Checks the administrator's own sign-in again, by the sign-in itself (its
/// delays, its one use of each code), and ends the session that makes at
/// once. An administrator resets their own sign-in with another
/// administrator or on the clinic's command line, never here.
fn reconfirmed(
    state: &AppState,
    viewer: &Viewer,
    target: &str,
    confirm: Reconfirm,
    address: &str,
) -> Result<(), ClinicError> {
    if target == viewer.staff_code {
        return Err(ClinicError::BadRequest(
            "an administrator's own sign-in is reset by another administrator or on the clinic's command line",
        ));
    }
    let password = SecretString::from(confirm.password);
    let attempt =
        SignInAttempt { staff_code: &viewer.staff_code, password: &password, totp_code: &confirm.code, address };
    let again = match crate::signin::sign_in(&*state.store, &attempt, (state.clock)(), &mut rand::rngs::OsRng) {
        Ok(again) => again,
        // Their own sign-in, not the session's: the page must not take it for signed out.
        Err(ClinicError::SignInRefused) => return Err(ClinicError::ConfirmRefused),
        Err(e) => return Err(e),
    };
    state.store.end_session(&again.token.stored_id())
}

async fn staff_password(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    connection: Connection,
    Path(code): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ClinicError> {
    let body: PasswordBody = form_body(raw, "the body must be {password, confirm: {password, code}}")?;
    let address = address_of(&connection);
    crate::server::blocking(move || {
        let password = SecretString::from(body.password);
        // A weak password is refused before the confirmation spends the administrator's code.
        crate::signin::PasswordRecord::check_strength(&password)?;
        reconfirmed(&state, &viewer, code.trim(), body.confirm, &address)?;
        // Audited by the store as the administrator's act; the member's sessions end.
        crate::signin::set_password(
            &*state.store,
            code.trim(),
            &viewer.staff_code,
            &password,
            (state.clock)(),
            &mut rand::rngs::OsRng,
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new second factor, shown once: the secret to type in and the same as a QR code.
#[derive(Serialize, Deserialize)]
pub struct NewSecondFactor {
    pub secret: String,
    pub qr_svg: String,
}

async fn staff_second_factor(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    connection: Connection,
    Path(code): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<NewSecondFactor>, ClinicError> {
    let body: SecondFactorBody = form_body(raw, "the body must be {confirm: {password, code}}")?;
    let address = address_of(&connection);
    let shown = crate::server::blocking(move || {
        let code = code.trim().to_owned();
        reconfirmed(&state, &viewer, &code, body.confirm, &address)?;
        let secret = crate::signin::reset_second_factor(
            &*state.store,
            &code,
            &viewer.staff_code,
            (state.clock)(),
            &mut rand::rngs::OsRng,
        )?;
        let uri = secret.otpauth_uri("Waymark clinic", &code);
        Ok(NewSecondFactor { secret: secret.base32().to_string(), qr_svg: qr_svg(&uri)? })
    })
    .await?;
    Ok(Json(shown))
}

/// A case on an agenda as the meeting's pages show it.
#[derive(Debug, Serialize, Deserialize)]
pub struct AgendaView {
    pub case_id: Uuid,
    pub reference: String,
    pub minutes: u32,
}

/// A meeting as the workspace shows it: staff codes and case references, no one's details.
#[derive(Debug, Serialize, Deserialize)]
pub struct MeetingView {
    pub id: Uuid,
    pub meets_on: chrono::NaiveDate,
    pub chair: String,
    pub invited: Vec<String>,
    pub agenda: Vec<AgendaView>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub research_due_on: Option<chrono::NaiveDate>,
}

pub(crate) fn meeting_view(state: &AppState, meeting: crate::store::PanelMeeting) -> Result<MeetingView, ClinicError> {
    let projection = projection(state)?;
    let agenda = meeting
        .agenda
        .into_iter()
        .map(|item| {
            let reference = match projection.read(|copy| copy.get_record(RecordKind::Case, item.case_id)) {
                Ok(waymark_domain::Record::Case(case)) => case.reference,
                _ => String::new(),
            };
            AgendaView { case_id: item.case_id, reference, minutes: item.minutes }
        })
        .collect();
    Ok(MeetingView {
        id: meeting.id,
        meets_on: meeting.meets_on,
        chair: meeting.chair,
        invited: meeting.invited,
        agenda,
        published_at: meeting.published_at,
        closed_at: meeting.closed_at,
        research_due_on: meeting.research_due_on,
    })
}

async fn meetings(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<MeetingView>>, ClinicError> {
    let list = crate::server::blocking(move || {
        let all = state.store.meetings()?;
        // A panel member's list: the meetings that open cases to them now, and no others.
        let mine: Vec<_> = if viewer.role == StaffRole::PanelMember {
            let today = waymark_domain::time::london_date((state.clock)());
            all.into_iter().filter(|m| m.opens_cases_to(&viewer.staff_code, today)).collect()
        } else {
            all
        };
        let list = mine.into_iter().map(|m| meeting_view(&state, m)).collect::<Result<Vec<_>, _>>()?;
        viewed(&state, &viewer, WorkRoute::Meetings.name(), serde_json::json!({ "rows": list.len() }))?;
        Ok(list)
    })
    .await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetingBody {
    /// None for a new meeting.
    id: Option<Uuid>,
    meets_on: chrono::NaiveDate,
    chair: String,
    invited: Vec<String>,
    agenda: Vec<crate::store::AgendaItem>,
    #[serde(default)]
    research_due_on: Option<chrono::NaiveDate>,
}

/// Minutes a case may be given: the panel spends about 12 to 15 a case (clinic.md).
const AGENDA_MINUTES: std::ops::RangeInclusive<u32> = 5..=60;

/// Checks a meeting as the coordinator sent it, naming each field at fault.
fn check_meeting(state: &AppState, body: &MeetingBody) -> Result<(), ClinicError> {
    let mut c = waymark_domain::validation::Checker::new();
    let staff = |code: &str| state.store.staff(code.trim());
    match staff(&body.chair)? {
        Some(m)
            if m.active && matches!(m.role, StaffRole::Coordinator | StaffRole::Manager | StaffRole::PanelMember) => {}
        _ => c.fail("chair", "must be an active coordinator, manager or panel member"),
    }
    let mut seen = std::collections::HashSet::new();
    for (i, code) in body.invited.iter().enumerate() {
        let ok = staff(code)?.is_some_and(|m| m.active && m.role == StaffRole::PanelMember);
        c.require(ok, &format!("invited[{i}]"), "must be an active panel member");
        c.require(seen.insert(code.trim()), &format!("invited[{i}]"), "is invited twice");
    }
    let mut cases = std::collections::HashSet::new();
    for (i, item) in body.agenda.iter().enumerate() {
        c.require(
            state.store.case_advocate(item.case_id)?.is_some(),
            &format!("agenda[{i}].case_id"),
            "is not a case at the clinic",
        );
        c.require(cases.insert(item.case_id), &format!("agenda[{i}].case_id"), "is on the agenda twice");
        c.require(AGENDA_MINUTES.contains(&item.minutes), &format!("agenda[{i}].minutes"), "must be 5 to 60 minutes");
    }
    c.require(body.agenda.len() <= 40, "agenda", "has more cases than one meeting can take (40)");
    c.require(
        body.research_due_on.is_none_or(|due| due <= body.meets_on),
        "research_due_on",
        "must be on or before the meeting",
    );
    c.finish().map_err(ClinicError::InvalidFields)
}

async fn meeting_save(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<MeetingView>, ClinicError> {
    let body: MeetingBody = form_body(raw, "the body must be {id, meets_on, chair, invited, agenda, research_due_on}")?;
    let view = crate::server::blocking(move || {
        let now = (state.clock)();
        check_meeting(&state, &body)?;
        let earlier = match body.id {
            Some(id) => Some(state.store.meetings()?.into_iter().find(|m| m.id == id).ok_or(ClinicError::NotFound)?),
            None => None,
        };
        let meeting = crate::store::PanelMeeting {
            id: body.id.unwrap_or_else(Uuid::now_v7),
            meets_on: body.meets_on,
            chair: body.chair.trim().to_owned(),
            invited: body.invited.iter().map(|c| c.trim().to_owned()).collect(),
            agenda: body.agenda,
            created_by: earlier.as_ref().map_or_else(|| viewer.staff_code.clone(), |m| m.created_by.clone()),
            created_at: earlier.as_ref().map_or(now, |m| m.created_at),
            published_at: earlier.as_ref().and_then(|m| m.published_at),
            closed_at: None,
            research_due_on: body.research_due_on,
            attendance: earlier.as_ref().map(|m| m.attendance.clone()).unwrap_or_default(),
        };
        state.store.save_meeting(&meeting, &viewer.staff_code, AdminAction::MeetingSaved, now)?;
        meeting_view(&state, meeting)
    })
    .await?;
    Ok(Json(view))
}

/// Publishes a meeting's agenda to its members, or closes its follow-up.
async fn meeting_step(
    state: AppState,
    viewer: Viewer,
    id: String,
    action: AdminAction,
) -> Result<Json<MeetingView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let now = (state.clock)();
        let id = path_id(&id)?;
        let Some(mut meeting) = state.store.meetings()?.into_iter().find(|m| m.id == id) else {
            refused_not_found(&state, &viewer, &id.to_string(), "meeting")?;
            return Err(ClinicError::NotFound);
        };
        match action {
            AdminAction::MeetingPublished => meeting.published_at = meeting.published_at.or(Some(now)),
            _ => meeting.closed_at = Some(now),
        }
        state.store.save_meeting(&meeting, &viewer.staff_code, action, now)?;
        meeting_view(&state, meeting)
    })
    .await?;
    Ok(view.into())
}

async fn meeting_publish(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, ClinicError> {
    meeting_step(state, viewer, id, AdminAction::MeetingPublished).await
}

async fn meeting_close(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, ClinicError> {
    meeting_step(state, viewer, id, AdminAction::MeetingClosed).await
}

/// A panel member as the coordinator's invitation list shows them.
#[derive(Debug, Serialize, Deserialize)]
pub struct PanelMemberView {
    pub code: String,
    pub name: String,
    pub agency: Option<waymark_domain::Agency>,
}

async fn panel_members(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<Vec<PanelMemberView>>, ClinicError> {
    let list = crate::server::blocking(move || {
        let list: Vec<PanelMemberView> = state
            .store
            .staff_list()?
            .into_iter()
            .filter(|m| m.active && m.role == StaffRole::PanelMember)
            .map(|m| PanelMemberView { code: m.code, name: m.name, agency: m.agency })
            .collect();
        viewed(&state, &viewer, WorkRoute::PanelMembers.name(), serde_json::json!({ "rows": list.len() }))?;
        Ok(list)
    })
    .await?;
    Ok(Json(list))
}

/// Lines of the audit one answer carries, newest first.
const AUDIT_LINES_SHOWN: usize = 500;

/// The audit as the workspace shows it: the newest lines, and what checking
/// the whole chain found. A broken chain is said, not hidden behind an error.
#[derive(Debug, Serialize)]
pub struct AuditView {
    pub lines: Vec<crate::store::AdminEvent>,
    /// Lines in the whole audit.
    pub total: usize,
    /// The chain verifies from its start to its last line.
    pub verified: bool,
    /// The first line found changed or missing, when it does not.
    pub broken_at: Option<i64>,
    /// The last line's number and hash, to keep somewhere else (`audit verify --expect`).
    pub head: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<AuditView>, ClinicError> {
    let view = crate::server::blocking(move || {
        // The viewing is a line too, and the chain is checked with it in.
        viewed(&state, &viewer, WorkRoute::Audit.name(), serde_json::json!({}))?;
        let all = state.store.admin_audit()?;
        let (verified, broken_at, head) = match crate::store::verify_audit(&all, state.store.audit_bounds()?, None) {
            Ok(found) => (true, None, found.head.map(|(seq, hash)| format!("{seq}:{hash}"))),
            Err(ClinicError::AuditBroken { seq }) => (false, Some(seq), None),
            Err(e) => return Err(e),
        };
        let total = all.len();
        let lines = all.into_iter().rev().take(AUDIT_LINES_SHOWN).collect();
        Ok(AuditView { lines, total, verified, broken_at, head })
    })
    .await?;
    Ok(Json(view))
}
