//! The multi-agency panel around its meetings (clinic.md, "The flow of a
//! case", steps 3 to 7): which cases meet a selection criterion and why,
//! the coordinator's additions and removals, each agency's research before
//! a meeting, who came, what the meeting recorded of each case, and the
//! actions it agreed, chased until they close.
//!
//! The server decides every time: a panel member's agency is the one in the
//! staff register, they see only meetings that open cases to them and only
//! their own agency's research and actions. What a meeting records of a case
//! goes to the advocate's laptop as the clinic's `clinic_review` op, and an
//! action the victims' charity owns as a task linked to it, in the same
//! transaction as the record (`ClinicStore::save_panel`).

use crate::authoring::{numbered, ClinicChange, CLINIC_WRITE_ATTEMPTS};
use crate::error::ClinicError;
use crate::server::AppState;
use crate::store::{AdminAction, AuditLine, PanelDoc, PanelDocKind, PanelMeeting, StaffRole};
use crate::workspace::{form_body, path_id, projection, refused_not_found, viewed, Viewer};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use waymark_domain::escalation::IncidentFacts;
use waymark_domain::panel::{criteria_met, panel_review_due, CaseForPanel, CriterionMet, CriterionSource};
use waymark_domain::patch::NewRecord;
use waymark_domain::records::SrpJudgement;
use waymark_domain::time::london_date;
use waymark_domain::validation::Checker;
use waymark_domain::{
    ActionStatus, Agency, Attendance, CaseId, CaseStatus, OverdueClosure, PanelDecision, Record, RecordKind,
    ReferralCriterion, SelectionBasis, Typology,
};
use waymark_protocol::{OpAction, OpChanges, WireOp};

/// The longest free text the panel keeps in one field: a research summary,
/// a reason, what an agency shared.
const TEXT_LIMIT: usize = 4000;

/// One of the panel's documents, stored whole under its kind and id.
pub trait Doc: Serialize + DeserializeOwned {
    const KIND: PanelDocKind;
    fn id(&self) -> String;
    fn case(&self) -> Option<Uuid>;
    fn meeting(&self) -> Option<Uuid>;

    fn stored(&self) -> Result<PanelDoc, ClinicError> {
        Ok(PanelDoc {
            kind: Self::KIND,
            id: self.id(),
            case_id: self.case(),
            meeting_id: self.meeting(),
            doc: serde_json::to_value(self)
                .map_err(|_| ClinicError::Store("a panel document could not be kept".into()))?,
        })
    }
}

pub(crate) fn read<D: Doc>(state: &AppState, meeting: Option<Uuid>) -> Result<Vec<D>, ClinicError> {
    state
        .store
        .panel_docs(D::KIND, meeting)?
        .into_iter()
        .map(|d| serde_json::from_value(d.doc).map_err(|_| ClinicError::Store("an unreadable panel document".into())))
        .collect()
}

/// The coordinator's hand on the selection: a case added (with the
/// criterion it meets, if one) or taken off, and why. One per case; a later
/// choice replaces it, and the audit keeps each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectionChoice {
    pub case_id: Uuid,
    pub include: bool,
    pub criterion: Option<ReferralCriterion>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Doc for SelectionChoice {
    const KIND: PanelDocKind = PanelDocKind::Selection;
    fn id(&self) -> String {
        self.case_id.to_string()
    }
    fn case(&self) -> Option<Uuid> {
        Some(self.case_id)
    }
    fn meeting(&self) -> Option<Uuid> {
        None
    }
}

/// An agency's research on a case for a meeting: a short summary of what
/// its own records hold. One per meeting, case and agency; sent again, it
/// replaces the last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResearchReturn {
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub agency: Agency,
    pub summary: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// Returned after the meeting's research deadline.
    pub late: bool,
}

/// An agency as one word for an id; a service's own agency by its name.
pub(crate) fn agency_key(agency: &Agency) -> String {
    match agency {
        Agency::Other(name) => format!("other:{}", name.trim().to_lowercase()),
        known => known.wire().to_owned(),
    }
}

impl Doc for ResearchReturn {
    const KIND: PanelDocKind = PanelDocKind::Research;
    fn id(&self) -> String {
        format!("{}:{}:{}", self.meeting_id, self.case_id, agency_key(&self.agency))
    }
    fn case(&self) -> Option<Uuid> {
        Some(self.case_id)
    }
    fn meeting(&self) -> Option<Uuid> {
        Some(self.meeting_id)
    }
}

/// What one agency shared about a case at the meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedInformation {
    pub agency: Agency,
    pub text: String,
}

/// What a meeting recorded of one case. The review it made on the
/// advocate's laptop is kept as last sent, so a correction is an update of
/// the same record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    pub meeting_id: Uuid,
    pub case_id: Uuid,
    pub information: Vec<SharedInformation>,
    pub typology: Option<Typology>,
    pub srp: BTreeMap<String, SrpJudgement>,
    pub decisions: Vec<PanelDecision>,
    pub decision_note: Option<String>,
    /// Why the panel heard it, as the selection said when it was first recorded.
    #[serde(default)]
    pub met: Vec<CriterionMet>,
    pub review_id: Uuid,
    pub review: Value,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl Doc for CaseRecord {
    const KIND: PanelDocKind = PanelDocKind::CaseRecord;
    fn id(&self) -> String {
        format!("{}:{}", self.meeting_id, self.case_id)
    }
    fn case(&self) -> Option<Uuid> {
        Some(self.case_id)
    }
    fn meeting(&self) -> Option<Uuid> {
        Some(self.meeting_id)
    }
}

/// An action the panel agreed on a case, owned by an agency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PanelAction {
    pub id: Uuid,
    pub case_id: Uuid,
    pub meeting_id: Uuid,
    pub agency: Agency,
    pub named_owner: Option<String>,
    pub action: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    /// Why it closed after its due date, when it did.
    pub overdue: Option<OverdueClosure>,
    pub note: Option<String>,
    /// The task it made on the advocate's laptop (the victims' charity's
    /// actions), as last sent.
    pub task: Option<Value>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl Doc for PanelAction {
    const KIND: PanelDocKind = PanelDocKind::Action;
    fn id(&self) -> String {
        self.id.to_string()
    }
    fn case(&self) -> Option<Uuid> {
        Some(self.case_id)
    }
    fn meeting(&self) -> Option<Uuid> {
        Some(self.meeting_id)
    }
}

impl PanelAction {
    /// Open past its due date on `today`.
    pub fn overdue_on(&self, today: NaiveDate) -> bool {
        self.status == ActionStatus::Open && self.due_on < today
    }

    fn agreed(&self) -> waymark_domain::records::AgreedAction {
        waymark_domain::records::AgreedAction {
            action: self.action.clone(),
            owner: self.agency.clone(),
            named_owner: self.named_owner.clone(),
            due_on: self.due_on,
            status: self.status,
        }
    }
}

/// The panel's writes read what they change and then write it; one at a time
/// in this server, so two coordinators' saves cannot each miss the other's.
/// (Several servers over one database need the store to check instead: issue 19.)
static PANEL_WRITES: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn panel_write_lock() -> std::sync::MutexGuard<'static, ()> {
    // A writer that panicked left nothing half-written: the store's transaction rolled back.
    PANEL_WRITES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Stores the clinic's changes with the panel's documents: numbered, then
/// written with them in one transaction, numbered again when another of the
/// clinic's changes took the number first.
fn save_with_changes(
    state: &AppState,
    docs: &[PanelDoc],
    changes: Vec<ClinicChange<'_>>,
    line: &AuditLine<'_>,
    now: DateTime<Utc>,
) -> Result<(), ClinicError> {
    let mut attempts = 0;
    loop {
        let ops: Vec<WireOp> = if changes.is_empty() {
            Vec::new()
        } else {
            numbered(&*state.store, state.clinic_id, changes.clone(), waymark_protocol::SCHEMA_VERSION, now)?
        };
        match state.store.save_panel(docs, &ops, line, now) {
            Err(ClinicError::ClinicBusy) if attempts < CLINIC_WRITE_ATTEMPTS => attempts += 1,
            other => return other,
        }
    }
}

/// A record the clinic writes, checked by the same domain rules as a laptop's.
fn checked(kind: RecordKind, doc: Value, state: &AppState) -> Result<Value, ClinicError> {
    let record = Record::from_doc(kind, doc).map_err(ClinicError::InvalidFields)?;
    record.validate(&state.service.ctx()).map_err(ClinicError::InvalidFields)?;
    Ok(record.to_doc())
}

/// The change that brings a record from `before` (none: a new one) to `after`.
fn change_of<'a>(
    kind: RecordKind,
    record_id: Uuid,
    case: Uuid,
    before: Option<&Value>,
    after: &Value,
    actor: &'a str,
) -> Option<ClinicChange<'a>> {
    let after = after.as_object()?.clone();
    let (action, changes) = match before.and_then(Value::as_object) {
        None => (OpAction::Create, OpChanges::created(after)),
        Some(before) => {
            let mut new = Map::new();
            let mut old = Map::new();
            for (field, value) in &after {
                let was = before.get(field).cloned().unwrap_or(Value::Null);
                if &was != value {
                    new.insert(field.clone(), value.clone());
                    old.insert(field.clone(), was);
                }
            }
            if new.is_empty() {
                return None;
            }
            (OpAction::Update, OpChanges::updated(new, old))
        }
    };
    Some(ClinicChange { kind, record_id, case, action, changes, actor })
}

fn new_doc(kind: RecordKind, id: Uuid, case: Uuid, now: DateTime<Utc>, actor: &str) -> Value {
    (kind.rules().new_doc)(&NewRecord { id, case_id: Some(CaseId(case)), now, today: london_date(now), actor })
}

/// The task a victims' charity action is on the advocate's laptop.
/// `current` is the task as the clinic's copy holds it now (the advocate may
/// have done it), else the copy last sent.
fn task_doc(action: &PanelAction, current: Option<Value>, review_id: Uuid, now: DateTime<Utc>, actor: &str) -> Value {
    let task_id =
        action.task.as_ref().and_then(|t| t.get("id")?.as_str()?.parse::<Uuid>().ok()).unwrap_or_else(Uuid::now_v7);
    let mut doc = match current.or_else(|| action.task.clone()) {
        Some(before) => before,
        None => new_doc(RecordKind::Task, task_id, action.case_id, now, actor),
    };
    // An action moved to another agency is no longer the advocate's to do.
    let withdrawn = action.status == ActionStatus::Cancelled || action.agency != Agency::VictimsCharity;
    let done = action.status != ActionStatus::Open || withdrawn;
    let what = if withdrawn {
        format!("Withdrawn by the panel: {}", action.action)
    } else {
        format!("Panel action: {}", action.action)
    };
    if let Some(fields) = doc.as_object_mut() {
        fields.insert("what".into(), json!(what));
        fields.insert("due_on".into(), json!(action.due_on));
        fields.insert("linked".into(), json!({ "kind": RecordKind::ClinicReview.wire(), "id": review_id }));
        fields.insert("status".into(), json!(if done { "done" } else { "open" }));
        // A task already done keeps its day; one closing now closes today.
        let done_on = fields.get("done_on").filter(|d| !d.is_null()).cloned();
        fields.insert("done_on".into(), if done { done_on.unwrap_or(json!(london_date(now))) } else { Value::Null });
    }
    doc
}

/// The change that brings the advocate's task for `action` in step with it:
/// made for an open victims' charity action, kept in step while it has one.
fn task_change<'a>(
    state: &AppState,
    action: &mut PanelAction,
    review_id: Uuid,
    now: DateTime<Utc>,
    actor: &'a str,
) -> Result<Option<ClinicChange<'a>>, ClinicError> {
    let charity = action.agency == Agency::VictimsCharity;
    if action.task.is_none() && !(charity && action.status == ActionStatus::Open) {
        return Ok(None);
    }
    let sent_id = action.task.as_ref().and_then(|t| t.get("id")?.as_str()?.parse::<Uuid>().ok());
    let current = match sent_id {
        Some(id) => projection(state)?
            .read(|copy| copy.tasks_linked_to(review_id))?
            .into_iter()
            .find(|t| t.id.as_uuid() == id)
            .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
            .filter(Value::is_object),
        None => None,
    };
    let before = current.clone().or_else(|| action.task.clone());
    let task = checked(RecordKind::Task, task_doc(action, current, review_id, now, actor), state)?;
    let task_id = task.get("id").and_then(Value::as_str).and_then(|t| t.parse::<Uuid>().ok()).unwrap_or_default();
    let change = change_of(RecordKind::Task, task_id, action.case_id, before.as_ref(), &task, actor);
    action.task = Some(task);
    Ok(change)
}

/// The panel's review of a case as the advocate's laptop receives it.
fn review_doc(
    state: &AppState,
    meeting: &PanelMeeting,
    record: &CaseRecord,
    actions: &[PanelAction],
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Value, ClinicError> {
    let mut doc = if record.review.is_object() {
        record.review.clone()
    } else {
        new_doc(RecordKind::ClinicReview, record.review_id, record.case_id, now, actor)
    };
    let present = present_agencies(state, meeting)?;
    let mut agreed: Vec<&PanelAction> = actions.iter().collect();
    agreed.sort_by_key(|a| (a.due_on, a.id));
    if let Some(fields) = doc.as_object_mut() {
        fields.insert("meeting_on".into(), json!(meeting.meets_on));
        fields.insert("agencies_present".into(), json!(present));
        fields.insert("typology".into(), json!(record.typology));
        fields.insert("srp".into(), json!(record.srp));
        fields.insert("decisions".into(), json!(record.decisions));
        fields.insert("actions".into(), json!(agreed.iter().map(|a| a.agreed()).collect::<Vec<_>>()));
    }
    checked(RecordKind::ClinicReview, doc, state)
}

/// The agencies of the members marked present, in the vocabulary's order.
fn present_agencies(state: &AppState, meeting: &PanelMeeting) -> Result<Vec<Agency>, ClinicError> {
    let mut agencies = Vec::new();
    for mark in meeting.attendance.iter().filter(|m| m.mark == Attendance::Present) {
        if let Some(agency) = state.store.staff(&mark.code)?.and_then(|m| m.agency) {
            if !agencies.contains(&agency) {
                agencies.push(agency);
            }
        }
    }
    agencies.sort();
    Ok(agencies)
}

/// What the panel's text shows in place of words that show where a case's
/// victim lives: that text goes to no browser and onto no page at the clinic.
pub const WITHHELD_ADDRESS: &str = "[withheld: it shows where the victim lives]";

/// Finds, in the panel's free text, where each case's victim lives, as the
/// case page does (`workspace::withhold_text_showing`).
pub(crate) struct AddressGuard<'a> {
    state: &'a AppState,
    finders: std::cell::RefCell<HashMap<Uuid, Option<waymark_domain::disclosure::Finder<()>>>>,
}

impl<'a> AddressGuard<'a> {
    pub(crate) fn new(state: &'a AppState) -> Self {
        AddressGuard { state, finders: Default::default() }
    }

    /// `text`, or the withheld marker when it shows the case's victim's address.
    pub(crate) fn text(&self, case: Uuid, text: &str) -> Result<String, ClinicError> {
        let mut finders = self.finders.borrow_mut();
        if let std::collections::hash_map::Entry::Vacant(slot) = finders.entry(case) {
            let victims = projection(self.state)?.read(|copy| copy.list_kind(RecordKind::Victim, CaseId(case)))?;
            let addresses: Vec<waymark_domain::records::Address> = victims
                .into_iter()
                .filter_map(|v| match v {
                    Record::Victim(v) => v.address,
                    _ => None,
                })
                .collect();
            slot.insert(
                (!addresses.is_empty()).then(|| waymark_domain::disclosure::Finder::of_addresses(addresses.iter())),
            );
        }
        let shows = finders.get(&case).and_then(Option::as_ref).is_some_and(|f| f.find(text).is_some());
        Ok(if shows { WITHHELD_ADDRESS.to_owned() } else { text.to_owned() })
    }

    pub(crate) fn opt(&self, case: Uuid, text: Option<&str>) -> Result<Option<String>, ClinicError> {
        text.map(|t| self.text(case, t)).transpose()
    }
}

fn meeting_or_refused(state: &AppState, viewer: &Viewer, id: &str) -> Result<PanelMeeting, ClinicError> {
    let id = path_id(id)?;
    match state.store.meetings()?.into_iter().find(|m| m.id == id) {
        Some(meeting) => Ok(meeting),
        None => {
            refused_not_found(state, viewer, &id.to_string(), "meeting")?;
            Err(ClinicError::NotFound)
        }
    }
}

/// A panel member's agency, from the staff register (never from what the browser sent).
pub(crate) fn members_agency(state: &AppState, viewer: &Viewer) -> Result<Agency, ClinicError> {
    state
        .store
        .staff(&viewer.staff_code)?
        .and_then(|m| m.agency)
        .ok_or(ClinicError::BadRequest("your staff record names no agency; ask the clinic's administrator to add it"))
}

/// A meeting a panel member may read: published to them and not yet closed.
/// Any other answers as one that does not exist.
pub(crate) fn members_meeting(state: &AppState, viewer: &Viewer, id: &str) -> Result<PanelMeeting, ClinicError> {
    let meeting = meeting_or_refused(state, viewer, id)?;
    let today = london_date((state.clock)());
    if viewer.role == StaffRole::PanelMember && !meeting.opens_cases_to(&viewer.staff_code, today) {
        refused_not_found(state, viewer, &meeting.id.to_string(), "meeting")?;
        return Err(ClinicError::NotFound);
    }
    Ok(meeting)
}

// ---- Selection ----

/// A case the selection offers: what it meets and why, the coordinator's
/// hand on it, and when the panel last heard it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SelectionRow {
    pub case_id: Uuid,
    pub reference: String,
    pub advocate: String,
    pub met: Vec<CriterionMet>,
    /// The coordinator took it off, and why.
    pub removed: Option<String>,
    pub last_heard_on: Option<NaiveDate>,
    /// Twelve months since the panel last heard it (clinic.md, "Follow-up").
    pub review_due_on: Option<NaiveDate>,
    /// The next meeting that has it on its agenda.
    pub next_meeting: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SelectionView {
    pub rows: Vec<SelectionRow>,
    /// The criteria this service selects by, with their sources.
    pub criteria: Vec<CriterionSource>,
}

/// The dates on which a meeting recorded each case.
fn heard_on(state: &AppState) -> Result<HashMap<Uuid, Vec<NaiveDate>>, ClinicError> {
    let dates: HashMap<Uuid, NaiveDate> = state.store.meetings()?.into_iter().map(|m| (m.id, m.meets_on)).collect();
    let mut heard: HashMap<Uuid, Vec<NaiveDate>> = HashMap::new();
    for record in read::<CaseRecord>(state, None)? {
        if let Some(day) = dates.get(&record.meeting_id) {
            heard.entry(record.case_id).or_default().push(*day);
        }
    }
    Ok(heard)
}

fn selection_rows(state: &AppState) -> Result<Vec<SelectionRow>, ClinicError> {
    let now = (state.clock)();
    let today = london_date(now);
    let rules = &state.service.rules.panel;
    let heard = heard_on(state)?;
    let mut last_recorded: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for record in read::<CaseRecord>(state, None)? {
        let latest = last_recorded.entry(record.case_id).or_insert(record.recorded_at);
        *latest = (*latest).max(record.recorded_at);
    }
    let guard = AddressGuard::new(state);
    let choices: HashMap<Uuid, SelectionChoice> =
        read::<SelectionChoice>(state, None)?.into_iter().map(|c| (c.case_id, c)).collect();
    let meetings = state.store.meetings()?;
    let next_meeting = |case: Uuid| {
        meetings
            .iter()
            .filter(|m| m.meets_on >= today && m.closed_at.is_none() && m.agenda.iter().any(|a| a.case_id == case))
            .map(|m| m.meets_on)
            .min()
    };
    let copy = projection(state)?;
    let (cases, assessments, incidents, escalations) = copy.read(|replica| {
        Ok((
            replica.list_all::<waymark_domain::Case>()?,
            replica.list_all::<waymark_domain::RiskAssessment>()?,
            replica.incident_facts()?,
            replica.escalations()?,
        ))
    })?;
    let mut assessments_of: HashMap<CaseId, Vec<waymark_domain::RiskAssessment>> = HashMap::new();
    for a in assessments {
        assessments_of.entry(a.case_id).or_default().push(a);
    }
    let mut incidents_of: HashMap<CaseId, Vec<IncidentFacts>> = HashMap::new();
    for i in incidents {
        incidents_of.entry(i.case_id).or_default().push(i);
    }
    let mut rows = Vec::new();
    for case in cases.iter().filter(|c| c.status == CaseStatus::Open) {
        let none = Default::default();
        let heard_dates = heard.get(&case.id.0).map_or(&[][..], Vec::as_slice);
        let facts = CaseForPanel {
            claimed: &case.referral.criteria,
            referred_on: case.referral.received_on,
            assessments: assessments_of.get(&case.id).map_or(&[], Vec::as_slice),
            incidents: incidents_of.get(&case.id).map_or(&[], Vec::as_slice),
            escalation: escalations.get(&case.id).unwrap_or(&none),
            heard_on: heard_dates,
        };
        let mut met = criteria_met(&facts, today, rules);
        // The coordinator's hand lapses once a meeting has recorded the case since.
        let recorded = last_recorded.get(&case.id.0);
        let choice = choices.get(&case.id.0).filter(|c| recorded.is_none_or(|at| c.at > *at));
        if let Some(added) = choice.filter(|c| c.include) {
            met.push(CriterionMet {
                criterion: added.criterion.unwrap_or(ReferralCriterion::ProfessionalJudgement),
                basis: SelectionBasis::Coordinator,
                // Typed by a person: it may name where she lives.
                why: guard.text(case.id.0, &added.reason)?,
            });
        }
        let review_due_on = panel_review_due(heard_dates, today, rules);
        if met.is_empty() && review_due_on.is_none() && choice.is_none() {
            continue;
        }
        rows.push(SelectionRow {
            case_id: case.id.0,
            reference: case.reference.clone(),
            advocate: case.advocate.clone(),
            met,
            removed: guard.opt(case.id.0, choice.filter(|c| !c.include).map(|c| c.reason.as_str()))?,
            last_heard_on: heard_dates.iter().copied().filter(|d| *d <= today).max(),
            review_due_on,
            next_meeting: next_meeting(case.id.0),
        });
    }
    // Cases still to place first, then by how much they meet.
    rows.sort_by(|a, b| {
        (a.removed.is_some(), a.next_meeting.is_some(), std::cmp::Reverse(a.met.len()), &a.reference).cmp(&(
            b.removed.is_some(),
            b.next_meeting.is_some(),
            std::cmp::Reverse(b.met.len()),
            &b.reference,
        ))
    });
    Ok(rows)
}

pub(crate) async fn selection(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<SelectionView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let rows = selection_rows(&state)?;
        viewed(&state, &viewer, "selection", json!({ "rows": rows.len() }))?;
        Ok(SelectionView { rows, criteria: state.service.rules.panel.criteria.clone() })
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectionBody {
    case_id: Uuid,
    include: bool,
    #[serde(default)]
    criterion: Option<ReferralCriterion>,
    reason: String,
}

pub(crate) async fn selection_change(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<SelectionView>, ClinicError> {
    let body: SelectionBody = form_body(raw, "the body must be {case_id, include, criterion, reason}")?;
    let view = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let mut c = Checker::new();
        c.require(state.store.case_advocate(body.case_id)?.is_some(), "case_id", "is not a case at the clinic");
        c.not_blank(&body.reason, "reason");
        c.require(body.reason.chars().count() <= 500, "reason", "must be at most 500 characters");
        c.require(body.include || body.criterion.is_none(), "criterion", "is given only when adding a case");
        c.finish().map_err(ClinicError::InvalidFields)?;
        let choice = SelectionChoice {
            case_id: body.case_id,
            include: body.include,
            criterion: body.criterion,
            reason: body.reason.trim().to_owned(),
            by: viewer.staff_code.clone(),
            at: now,
        };
        let target = body.case_id.to_string();
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::SelectionChanged,
            target: Some(&target),
            detail: json!({ "include": body.include, "criterion": body.criterion.map(|c| c.wire()) }),
        };
        state.store.save_panel(&[choice.stored()?], &[], &line, now)?;
        Ok(SelectionView { rows: selection_rows(&state)?, criteria: state.service.rules.panel.criteria.clone() })
    })
    .await?;
    Ok(Json(view))
}

// ---- A meeting, case by case ----

/// An agency's research on a case as the meeting page shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResearchView {
    pub agency: Agency,
    pub summary: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub late: bool,
}

/// An action as the pages show it, with its case's reference.
#[derive(Debug, Serialize, Deserialize)]
pub struct ActionView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub meeting_id: Uuid,
    pub meeting_on: Option<NaiveDate>,
    pub agency: Agency,
    pub named_owner: Option<String>,
    pub action: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    pub overdue: bool,
    pub overdue_closure: Option<OverdueClosure>,
    pub note: Option<String>,
    /// Where its task stands on the advocate's laptop, for the charity's actions.
    pub task_done: Option<bool>,
}

/// What a meeting recorded of a case, as the coordinator's page shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CaseRecordView {
    pub information: Vec<SharedInformation>,
    pub typology: Option<Typology>,
    pub srp: BTreeMap<String, SrpJudgement>,
    pub decisions: Vec<PanelDecision>,
    pub decision_note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// One case on a meeting's page.
#[derive(Debug, Serialize, Deserialize)]
pub struct MeetingCase {
    pub case_id: Uuid,
    pub reference: String,
    pub minutes: u32,
    /// Why the selection offers it today (coordinator and manager only).
    pub met: Vec<CriterionMet>,
    /// The record in brief (coordinator and manager only).
    pub brief: Option<CaseBrief>,
    pub research: Vec<ResearchView>,
    /// Invited agencies that have not returned research on it.
    pub awaiting: Vec<Agency>,
    pub record: Option<CaseRecordView>,
    /// Actions this meeting agreed on it.
    pub actions: Vec<ActionView>,
    /// Actions from earlier meetings still open, overdue ones marked.
    pub earlier_open: Vec<ActionView>,
}

/// A case's record in brief, for the meeting page and the minutes: what the
/// caseload shows of it, without the victim's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseBrief {
    pub advocate: String,
    pub risk_level: Option<waymark_domain::RiskLevel>,
    pub risk_review_on: Option<NaiveDate>,
    pub incidents: i64,
    pub next_hearing: Option<DateTime<Utc>>,
    pub days_since_contact: Option<i64>,
    /// The escalation analysis's findings not yet reviewed, as sentences.
    pub escalation: Vec<String>,
}

/// Each case's brief, from the clinic's copy (the caseload's own read).
fn briefs(state: &AppState) -> Result<HashMap<Uuid, CaseBrief>, ClinicError> {
    let rows = projection(state)?.read(|copy| copy.caseload(&crate::projection::CaseloadFilter::default()))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.case_id.0,
                CaseBrief {
                    advocate: row.advocate,
                    risk_level: row.risk_level,
                    risk_review_on: row.risk_review_on,
                    incidents: row.incidents,
                    next_hearing: row.next_hearing,
                    days_since_contact: row.days_since_contact,
                    escalation: row.escalation.findings.into_iter().map(|f| f.text).collect(),
                },
            )
        })
        .collect())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AttendanceView {
    pub code: String,
    pub name: String,
    pub agency: Option<Agency>,
    pub mark: Option<Attendance>,
}

/// A meeting whole, as the coordinator runs it; a panel member's holds only
/// their own agency's research and actions.
#[derive(Debug, Serialize, Deserialize)]
pub struct MeetingDetail {
    pub meeting: crate::workspace::MeetingView,
    pub attendance: Vec<AttendanceView>,
    pub cases: Vec<MeetingCase>,
}

fn action_views(state: &AppState, actions: Vec<PanelAction>, today: NaiveDate) -> Result<Vec<ActionView>, ClinicError> {
    let meetings: HashMap<Uuid, NaiveDate> = state.store.meetings()?.into_iter().map(|m| (m.id, m.meets_on)).collect();
    let copy = projection(state)?;
    let guard = AddressGuard::new(state);
    actions
        .into_iter()
        .map(|a| {
            let reference = match copy.read(|r| r.get_record(RecordKind::Case, a.case_id)) {
                Ok(Record::Case(case)) => case.reference,
                _ => String::new(),
            };
            let task_id = a.task.as_ref().and_then(|t| t.get("id")?.as_str()?.parse::<Uuid>().ok());
            let task_done = match task_id {
                Some(id) => match copy.read(|r| r.get_record(RecordKind::Task, id)) {
                    Ok(Record::Task(task)) => Some(task.status == waymark_domain::TaskStatus::Done),
                    _ => None,
                },
                None => None,
            };
            Ok(ActionView {
                id: a.id,
                case_id: a.case_id,
                reference,
                meeting_id: a.meeting_id,
                meeting_on: meetings.get(&a.meeting_id).copied(),
                overdue: a.overdue_on(today),
                agency: a.agency,
                named_owner: guard.opt(a.case_id, a.named_owner.as_deref())?,
                action: guard.text(a.case_id, &a.action)?,
                due_on: a.due_on,
                status: a.status,
                overdue_closure: a.overdue,
                note: guard.opt(a.case_id, a.note.as_deref())?,
                task_done,
            })
        })
        .collect()
}

/// What a meeting recorded of a case, with any text that shows where the victim lives withheld.
fn guarded_record(guard: &AddressGuard<'_>, r: &CaseRecord) -> Result<CaseRecordView, ClinicError> {
    let case = r.case_id;
    let information = r
        .information
        .iter()
        .map(|i| Ok(SharedInformation { agency: i.agency.clone(), text: guard.text(case, &i.text)? }))
        .collect::<Result<_, ClinicError>>()?;
    let srp = r
        .srp
        .iter()
        .map(|(domain, j)| {
            Ok((domain.clone(), SrpJudgement { rating: j.rating, rationale: guard.text(case, &j.rationale)? }))
        })
        .collect::<Result<_, ClinicError>>()?;
    let decisions = r
        .decisions
        .iter()
        .map(|d| match d {
            PanelDecision::Other(text) => Ok(PanelDecision::Other(guard.text(case, text)?)),
            known => Ok(known.clone()),
        })
        .collect::<Result<_, ClinicError>>()?;
    Ok(CaseRecordView {
        information,
        typology: r.typology,
        srp,
        decisions,
        decision_note: guard.opt(case, r.decision_note.as_deref())?,
        recorded_by: r.recorded_by.clone(),
        recorded_at: r.recorded_at,
    })
}

fn meeting_detail_of(state: &AppState, viewer: &Viewer, meeting: PanelMeeting) -> Result<MeetingDetail, ClinicError> {
    let own_agency = match viewer.role {
        StaffRole::PanelMember => Some(members_agency(state, viewer)?),
        _ => None,
    };
    meeting_detail_for(state, meeting, own_agency)
}

/// A meeting whole (`None`), or as one agency may see it: the agenda, its own
/// research and actions, and nothing the meeting recorded.
pub(crate) fn meeting_detail_for(
    state: &AppState,
    meeting: PanelMeeting,
    own_agency: Option<Agency>,
) -> Result<MeetingDetail, ClinicError> {
    let today = london_date((state.clock)());
    let guard = AddressGuard::new(state);
    let mine = |agency: &Agency| own_agency.as_ref().is_none_or(|own| own == agency);
    let research = read::<ResearchReturn>(state, Some(meeting.id))?;
    let records: HashMap<Uuid, CaseRecord> =
        read::<CaseRecord>(state, Some(meeting.id))?.into_iter().map(|r| (r.case_id, r)).collect();
    let all_actions = read::<PanelAction>(state, None)?;
    let dates: HashMap<Uuid, NaiveDate> = state.store.meetings()?.into_iter().map(|m| (m.id, m.meets_on)).collect();
    let mut invited_agencies = Vec::new();
    let mut attendance = Vec::new();
    for code in &meeting.invited {
        let member = state.store.staff(code)?;
        let agency = member.as_ref().and_then(|m| m.agency.clone());
        if let Some(a) = &agency {
            if !invited_agencies.contains(a) {
                invited_agencies.push(a.clone());
            }
        }
        if own_agency.is_none() {
            attendance.push(AttendanceView {
                code: code.clone(),
                name: member.map(|m| m.name).unwrap_or_default(),
                agency,
                mark: meeting.attendance.iter().find(|m| &m.code == code).map(|m| m.mark),
            });
        }
    }
    let selection: HashMap<Uuid, Vec<CriterionMet>> = if own_agency.is_none() {
        selection_rows(state)?.into_iter().map(|r| (r.case_id, r.met)).collect()
    } else {
        HashMap::new()
    };
    let view = crate::workspace::meeting_view(state, meeting.clone())?;
    let briefs = if own_agency.is_none() { briefs(state)? } else { HashMap::new() };
    let mut cases = Vec::new();
    for item in &view.agenda {
        let returns: Vec<&ResearchReturn> =
            research.iter().filter(|r| r.case_id == item.case_id && mine(&r.agency)).collect();
        let awaiting =
            invited_agencies.iter().filter(|a| mine(a) && !returns.iter().any(|r| &r.agency == *a)).cloned().collect();
        let (here, earlier): (Vec<PanelAction>, Vec<PanelAction>) = all_actions
            .iter()
            .filter(|a| a.case_id == item.case_id && mine(&a.agency))
            .cloned()
            .partition(|a| a.meeting_id == meeting.id);
        // Open actions from the meetings before this one.
        let earlier = earlier
            .into_iter()
            .filter(|a| {
                a.status == ActionStatus::Open && dates.get(&a.meeting_id).is_some_and(|d| *d < meeting.meets_on)
            })
            .collect();
        cases.push(MeetingCase {
            case_id: item.case_id,
            reference: item.reference.clone(),
            minutes: item.minutes,
            met: match records.get(&item.case_id).filter(|r| own_agency.is_none() && !r.met.is_empty()) {
                Some(r) => r
                    .met
                    .iter()
                    .map(|m| Ok(CriterionMet { why: guard.text(item.case_id, &m.why)?, ..m.clone() }))
                    .collect::<Result<_, ClinicError>>()?,
                None => selection.get(&item.case_id).cloned().unwrap_or_default(),
            },
            brief: briefs.get(&item.case_id).cloned(),
            research: returns
                .into_iter()
                .map(|r| {
                    Ok(ResearchView {
                        agency: r.agency.clone(),
                        summary: guard.text(r.case_id, &r.summary)?,
                        by: r.by.clone(),
                        at: r.at,
                        late: r.late,
                    })
                })
                .collect::<Result<_, ClinicError>>()?,
            awaiting,
            // What the meeting recorded is the coordinator's and the manager's to read.
            record: match records.get(&item.case_id).filter(|_| own_agency.is_none()) {
                Some(r) => Some(guarded_record(&guard, r)?),
                None => None,
            },
            actions: action_views(state, here, today)?,
            earlier_open: action_views(state, earlier, today)?,
        });
    }
    Ok(MeetingDetail { meeting: view, attendance, cases })
}

pub(crate) async fn meeting_detail(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<MeetingDetail>, ClinicError> {
    let detail = crate::server::blocking(move || {
        let meeting = members_meeting(&state, &viewer, &id)?;
        let target = meeting.id.to_string();
        let detail = meeting_detail_of(&state, &viewer, meeting)?;
        viewed(&state, &viewer, &target, json!({ "kind": "meeting", "cases": detail.cases.len() }))?;
        Ok(detail)
    })
    .await?;
    Ok(Json(detail))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResearchBody {
    case_id: Uuid,
    summary: String,
    /// The coordinator entering a return an agency sent another way; a panel
    /// member's agency is always their own.
    #[serde(default)]
    agency: Option<Agency>,
}

pub(crate) async fn research_return(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<MeetingDetail>, ClinicError> {
    let body: ResearchBody = form_body(raw, "the body must be {case_id, summary}")?;
    let detail = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let meeting = members_meeting(&state, &viewer, &id)?;
        if meeting.closed_at.is_some() {
            return Err(ClinicError::MeetingClosed);
        }
        if !meeting.agenda.iter().any(|a| a.case_id == body.case_id) {
            // A case not on this agenda answers as one that does not exist.
            refused_not_found(&state, &viewer, &body.case_id.to_string(), "case")?;
            return Err(ClinicError::NotFound);
        }
        let mut c = Checker::new();
        let agency = match viewer.role {
            StaffRole::PanelMember => {
                c.require(body.agency.is_none(), "agency", "is your own agency, from the staff register");
                Some(members_agency(&state, &viewer)?)
            }
            _ => {
                c.require(body.agency.is_some(), "agency", "must say which agency the research is from");
                if let Some(agency) = &body.agency {
                    check_agency(&mut c, agency, "agency");
                }
                body.agency.clone()
            }
        };
        c.not_blank(&body.summary, "summary");
        c.require(body.summary.chars().count() <= TEXT_LIMIT, "summary", "must be at most 4000 characters");
        c.require(meeting.published_at.is_some(), "meeting", "is not published yet");
        c.finish().map_err(ClinicError::InvalidFields)?;
        let Some(agency) = agency else { return Err(ClinicError::BadRequest("no agency")) };
        let earlier_return = read::<ResearchReturn>(&state, Some(meeting.id))?
            .into_iter()
            .find(|r| r.case_id == body.case_id && r.agency == agency);
        let late_now = meeting.research_due_on.is_some_and(|due| london_date(now) > due);
        let returned = ResearchReturn {
            meeting_id: meeting.id,
            case_id: body.case_id,
            // A correction to a return made in time is still in time.
            late: earlier_return.map_or(late_now, |r| r.late && late_now),
            agency,
            summary: body.summary.trim().to_owned(),
            by: viewer.staff_code.clone(),
            at: now,
        };
        let target = meeting.id.to_string();
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::ResearchReturned,
            target: Some(&target),
            detail: json!({ "case": body.case_id, "agency": returned.agency.wire(), "late": returned.late }),
        };
        state.store.save_panel(&[returned.stored()?], &[], &line, now)?;
        meeting_detail_of(&state, &viewer, meeting)
    })
    .await?;
    Ok(Json(detail))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceBody {
    marks: Vec<crate::store::Attended>,
}

pub(crate) async fn attendance(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<MeetingDetail>, ClinicError> {
    let body: AttendanceBody = form_body(raw, "the body must be {marks: [{code, mark}]}")?;
    let detail = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let mut meeting = meeting_or_refused(&state, &viewer, &id)?;
        let mut c = Checker::new();
        let mut seen = std::collections::HashSet::new();
        for (i, mark) in body.marks.iter().enumerate() {
            c.require(meeting.invited.contains(&mark.code), &format!("marks[{i}].code"), "is not invited");
            c.require(seen.insert(mark.code.clone()), &format!("marks[{i}].code"), "is marked twice");
        }
        c.require(meeting.published_at.is_some(), "meeting", "is not published yet");
        c.require(meeting.meets_on <= london_date(now), "meeting", "has not happened yet");
        c.finish().map_err(ClinicError::InvalidFields)?;
        meeting.attendance = body.marks;
        state.store.save_meeting(&meeting, &viewer.staff_code, AdminAction::AttendanceRecorded, now)?;
        meeting_detail_of(&state, &viewer, meeting)
    })
    .await?;
    Ok(Json(detail))
}

/// An action as the coordinator records it at the meeting: a new one, or
/// (with its id) one this meeting agreed before, corrected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    id: Option<Uuid>,
    agency: Agency,
    #[serde(default)]
    named_owner: Option<String>,
    action: String,
    due_on: NaiveDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRecordBody {
    #[serde(default)]
    information: Vec<SharedInformation>,
    #[serde(default)]
    typology: Option<Typology>,
    #[serde(default)]
    srp: BTreeMap<String, SrpJudgement>,
    #[serde(default)]
    decisions: Vec<PanelDecision>,
    #[serde(default)]
    decision_note: Option<String>,
    #[serde(default)]
    actions: Vec<ActionBody>,
}

/// A service's own agency must have a name.
fn check_agency(c: &mut Checker, agency: &Agency, field: &str) {
    if let Agency::Other(name) = agency {
        c.not_blank(name, field);
        c.require(name.chars().count() <= 120, field, "is too long");
    }
}

fn check_case_record(
    body: &CaseRecordBody,
    meeting: &PanelMeeting,
    earlier: &[PanelAction],
    today: NaiveDate,
) -> Result<(), ClinicError> {
    let mut c = Checker::new();
    // A panel run with no meeting records on or after its date, like one that met.
    c.require(meeting.meets_on <= today, "meeting", "has not happened yet");
    c.require(meeting.attendance.iter().any(|m| m.mark == Attendance::Present), "attendance", "record who came first");
    for (i, shared) in body.information.iter().enumerate() {
        check_agency(&mut c, &shared.agency, &format!("information[{i}].agency"));
        c.not_blank(&shared.text, &format!("information[{i}].text"));
        c.require(shared.text.chars().count() <= TEXT_LIMIT, &format!("information[{i}].text"), "is too long");
    }
    if let Some(note) = &body.decision_note {
        c.require(note.chars().count() <= TEXT_LIMIT, "decision_note", "is too long");
    }
    for (i, d) in body.decisions.iter().enumerate() {
        if let PanelDecision::Other(text) = d {
            c.not_blank(text, &format!("decisions[{i}]"));
            c.require(text.chars().count() <= 200, &format!("decisions[{i}]"), "is too long");
        }
        c.require(!body.decisions[..i].contains(d), &format!("decisions[{i}]"), "is given twice");
    }
    c.require(body.decisions.len() <= 20, "decisions", "has too many entries");
    for (domain, judgement) in &body.srp {
        let field = format!("srp.{domain}.rationale");
        c.require(judgement.rationale.chars().count() <= TEXT_LIMIT, &field, "is too long");
    }
    c.require(body.actions.len() <= 40, "actions", "has more than 40 actions");
    let mut ids = std::collections::HashSet::new();
    for (i, a) in body.actions.iter().enumerate() {
        check_agency(&mut c, &a.agency, &format!("actions[{i}].agency"));
        if let Some(id) = a.id {
            c.require(ids.insert(id), &format!("actions[{i}].id"), "is given twice");
        }
        c.not_blank(&a.action, &format!("actions[{i}].action"));
        c.require(a.action.chars().count() <= 500, &format!("actions[{i}].action"), "must be at most 500 characters");
        c.require(a.due_on >= meeting.meets_on, &format!("actions[{i}].due_on"), "is before the meeting");
        if let Some(name) = &a.named_owner {
            c.require(name.chars().count() <= 120, &format!("actions[{i}].named_owner"), "is too long");
        }
        if let Some(id) = a.id {
            c.require(
                earlier.iter().any(|e| e.id == id),
                &format!("actions[{i}].id"),
                "is not an action of this case at this meeting",
            );
        }
    }
    c.finish().map_err(ClinicError::InvalidFields)
}

pub(crate) async fn case_record(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path((id, case)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<MeetingDetail>, ClinicError> {
    let body: CaseRecordBody = form_body(raw, "the body must be {information, typology, srp, decisions, actions}")?;
    let detail = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let meeting = meeting_or_refused(&state, &viewer, &id)?;
        let case_id = path_id(&case)?;
        if !meeting.agenda.iter().any(|a| a.case_id == case_id) {
            refused_not_found(&state, &viewer, &case_id.to_string(), "case")?;
            return Err(ClinicError::NotFound);
        }
        if meeting.closed_at.is_some() {
            return Err(ClinicError::MeetingClosed);
        }
        let before = read::<CaseRecord>(&state, Some(meeting.id))?.into_iter().find(|r| r.case_id == case_id);
        let earlier: Vec<PanelAction> =
            read::<PanelAction>(&state, Some(meeting.id))?.into_iter().filter(|a| a.case_id == case_id).collect();
        check_case_record(&body, &meeting, &earlier, london_date(now))?;
        let actor = viewer.staff_code.as_str();
        // Actions this meeting agreed before and left out now are cancelled, not lost.
        let mut actions: Vec<PanelAction> = Vec::new();
        for sent in &body.actions {
            let kept = sent.id.and_then(|id| earlier.iter().find(|e| e.id == id));
            actions.push(PanelAction {
                id: kept.map_or_else(Uuid::now_v7, |k| k.id),
                case_id,
                meeting_id: meeting.id,
                agency: sent.agency.clone(),
                named_owner: sent.named_owner.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned),
                action: sent.action.trim().to_owned(),
                due_on: sent.due_on,
                status: kept.map_or(ActionStatus::Open, |k| k.status),
                overdue: kept.and_then(|k| k.overdue),
                note: kept.and_then(|k| k.note.clone()),
                task: kept.and_then(|k| k.task.clone()),
                updated_by: actor.to_owned(),
                updated_at: now,
            });
        }
        // Those already closed stay as they closed.
        let dropped: Vec<&PanelAction> = earlier
            .iter()
            .filter(|e| e.status == ActionStatus::Open && !actions.iter().any(|a| a.id == e.id))
            .collect();
        for dropped in dropped {
            actions.push(PanelAction {
                status: ActionStatus::Cancelled,
                updated_by: actor.to_owned(),
                updated_at: now,
                ..dropped.clone()
            });
        }
        let mut record = CaseRecord {
            meeting_id: meeting.id,
            case_id,
            information: body.information,
            typology: body.typology,
            srp: body.srp,
            decisions: body.decisions,
            decision_note: body.decision_note.filter(|n| !n.trim().is_empty()),
            // Once heard, the selection moves on; the record keeps why it was heard.
            met: match before.as_ref().filter(|b| !b.met.is_empty()) {
                Some(b) => b.met.clone(),
                None => selection_rows(&state)?
                    .into_iter()
                    .find(|r| r.case_id == case_id)
                    .map(|r| r.met)
                    .unwrap_or_default(),
            },
            review_id: before.as_ref().map_or_else(Uuid::now_v7, |b| b.review_id),
            review: before.as_ref().map_or(Value::Null, |b| b.review.clone()),
            recorded_by: actor.to_owned(),
            recorded_at: now,
        };
        let review = review_doc(&state, &meeting, &record, &actions, now, actor)?;
        let mut changes: Vec<ClinicChange<'_>> = Vec::new();
        let previous_review = record.review.is_object().then_some(&record.review);
        changes.extend(change_of(RecordKind::ClinicReview, record.review_id, case_id, previous_review, &review, actor));
        record.review = review;
        for action in actions.iter_mut() {
            changes.extend(task_change(&state, action, record.review_id, now, actor)?);
        }
        let mut docs = vec![record.stored()?];
        for action in &actions {
            docs.push(action.stored()?);
        }
        let target = case_id.to_string();
        let line = AuditLine {
            actor,
            action: AdminAction::PanelCaseRecorded,
            target: Some(&target),
            detail: json!({ "meeting": meeting.id, "actions": actions.len(), "changes": changes.len() }),
        };
        save_with_changes(&state, &docs, changes, &line, now)?;
        meeting_detail_of(&state, &viewer, meeting)
    })
    .await?;
    Ok(Json(detail))
}

// ---- Actions between meetings ----

#[derive(Debug, Serialize, Deserialize)]
pub struct ActionsView {
    pub actions: Vec<ActionView>,
}

/// The actions a viewer may see: all for the coordinator and the manager;
/// for a panel member, their own agency's on cases a meeting opens to them now.
fn visible_actions(state: &AppState, viewer: &Viewer) -> Result<Vec<PanelAction>, ClinicError> {
    let all = read::<PanelAction>(state, None)?;
    Ok(match viewer.role {
        StaffRole::PanelMember => {
            let agency = members_agency(state, viewer)?;
            let today = london_date((state.clock)());
            let open_cases: std::collections::HashSet<Uuid> = state
                .store
                .meetings()?
                .iter()
                .filter(|m| m.opens_cases_to(&viewer.staff_code, today))
                .flat_map(|m| m.agenda.iter().map(|a| a.case_id))
                .collect();
            all.into_iter().filter(|a| a.agency == agency && open_cases.contains(&a.case_id)).collect()
        }
        _ => all,
    })
}

fn actions_view(state: &AppState, viewer: &Viewer) -> Result<ActionsView, ClinicError> {
    let today = london_date((state.clock)());
    let mut actions = action_views(state, visible_actions(state, viewer)?, today)?;
    // Overdue first, then open by due date, then the closed.
    actions.sort_by(|a, b| {
        (!a.overdue, a.status != ActionStatus::Open, a.due_on, a.id).cmp(&(
            !b.overdue,
            b.status != ActionStatus::Open,
            b.due_on,
            b.id,
        ))
    });
    Ok(ActionsView { actions })
}

pub(crate) async fn actions(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<ActionsView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let view = actions_view(&state, &viewer)?;
        viewed(&state, &viewer, "actions", json!({ "rows": view.actions.len() }))?;
        Ok(view)
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionUpdateBody {
    status: ActionStatus,
    /// Required when an action closes after its due date.
    #[serde(default)]
    overdue: Option<OverdueClosure>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    named_owner: Option<String>,
}

pub(crate) async fn action_update(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ActionsView>, ClinicError> {
    let body: ActionUpdateBody = form_body(raw, "the body must be {status, overdue, note, named_owner}")?;
    let view = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let today = london_date(now);
        let id = path_id(&id)?;
        // Another agency's action answers as one that does not exist.
        let Some(before) = visible_actions(&state, &viewer)?.into_iter().find(|a| a.id == id) else {
            refused_not_found(&state, &viewer, &id.to_string(), "action")?;
            return Err(ClinicError::NotFound);
        };
        let mut c = Checker::new();
        // An agency does its action or not; withdrawing one is the panel's (the coordinator's) call.
        c.require(
            viewer.role != StaffRole::PanelMember || body.status != ActionStatus::Cancelled,
            "status",
            "only the coordinator cancels an action",
        );
        let closing = before.status == ActionStatus::Open && body.status != ActionStatus::Open;
        let late = closing && before.due_on < today;
        c.require(!late || body.overdue.is_some(), "overdue", "say why it closed after its due date");
        c.require(late || body.overdue.is_none(), "overdue", "is only for an action closed after its due date");
        if let Some(note) = &body.note {
            c.require(note.chars().count() <= TEXT_LIMIT, "note", "is too long");
        }
        if let Some(name) = &body.named_owner {
            c.require(name.chars().count() <= 120, "named_owner", "is too long");
        }
        c.finish().map_err(ClinicError::InvalidFields)?;
        let meeting = state
            .store
            .meetings()?
            .into_iter()
            .find(|m| m.id == before.meeting_id)
            .ok_or(ClinicError::Store("an action's meeting is missing".into()))?;
        let mut action = PanelAction {
            status: body.status,
            // Reopened, it is no longer closed late.
            overdue: if closing {
                body.overdue
            } else if body.status == ActionStatus::Open {
                None
            } else {
                before.overdue
            },
            note: body
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .or(before.note.clone()),
            named_owner: body
                .named_owner
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .or(before.named_owner.clone()),
            updated_by: viewer.staff_code.clone(),
            updated_at: now,
            ..before
        };
        let actor = viewer.staff_code.as_str();
        let mut changes = Vec::new();
        let mut docs = Vec::new();
        // The review on the laptop carries every action of its case at that meeting.
        if let Some(mut record) =
            read::<CaseRecord>(&state, Some(meeting.id))?.into_iter().find(|r| r.case_id == action.case_id)
        {
            let mut siblings: Vec<PanelAction> = read::<PanelAction>(&state, Some(meeting.id))?
                .into_iter()
                .filter(|a| a.case_id == action.case_id && a.id != action.id)
                .collect();
            changes.extend(task_change(&state, &mut action, record.review_id, now, actor)?);
            siblings.push(action.clone());
            let review = review_doc(&state, &meeting, &record, &siblings, now, actor)?;
            changes.extend(change_of(
                RecordKind::ClinicReview,
                record.review_id,
                action.case_id,
                Some(&record.review),
                &review,
                actor,
            ));
            record.review = review;
            docs.push(record.stored()?);
        }
        docs.push(action.stored()?);
        let target = action.id.to_string();
        let line = AuditLine {
            actor,
            action: AdminAction::ActionUpdated,
            target: Some(&target),
            detail: json!({
                "status": action.status.wire(),
                "overdue": action.overdue.map(|o| o.wire()),
                "changes": changes.len(),
            }),
        };
        save_with_changes(&state, &docs, changes, &line, now)?;
        actions_view(&state, &viewer)
    })
    .await?;
    Ok(Json(view))
}

// ---- Minutes ----

/// A typeset document as the browser downloads it: never kept, never cached.
fn pdf_response(minutes: crate::minutes::Minutes) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let disposition = format!("attachment; filename=\"{}\"", minutes.file_name);
    let mut response = minutes.pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn minutes_made(
    state: &AppState,
    viewer: &Viewer,
    meeting: &PanelMeeting,
    whose: &crate::minutes::MinutesFor,
) -> Result<crate::minutes::Minutes, ClinicError> {
    let own = match whose {
        crate::minutes::MinutesFor::Panel => None,
        crate::minutes::MinutesFor::Agency(agency) => Some(agency.clone()),
    };
    let detail = meeting_detail_for(state, meeting.clone(), own.clone())?;
    let minutes = crate::minutes::typeset(state, meeting, &detail, whose, &viewer.staff_code)?;
    let target = meeting.id.to_string();
    let line = AuditLine {
        actor: &viewer.staff_code,
        action: AdminAction::MinutesMade,
        target: Some(&target),
        detail: json!({
            "kind": if own.is_some() { "extract" } else { "minutes" },
            "agency": own.as_ref().map(|a| a.wire()),
            "pages": minutes.pages,
        }),
    };
    state.store.audit(&line, (state.clock)())?;
    Ok(minutes)
}

pub(crate) async fn meeting_minutes(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ClinicError> {
    let minutes = crate::server::blocking(move || {
        let meeting = meeting_or_refused(&state, &viewer, &id)?;
        minutes_made(&state, &viewer, &meeting, &crate::minutes::MinutesFor::Panel)
    })
    .await?;
    Ok(pdf_response(minutes))
}

/// `?agency=` names the agency for the coordinator and the manager (its wire
/// name, or `other:<name>` for a service's own); a panel member's extract is
/// always their own agency's.
pub(crate) async fn meeting_extract(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ClinicError> {
    let minutes = crate::server::blocking(move || {
        let meeting = members_meeting(&state, &viewer, &id)?;
        let asked = query.get("agency").map(|a| a.trim().to_lowercase());
        let agency = match viewer.role {
            StaffRole::PanelMember => {
                let own = members_agency(&state, &viewer)?;
                if asked.as_ref().is_some_and(|a| *a != agency_key(&own)) {
                    // Asking for another agency's part is written down like any refusal.
                    let refusal = json!({ "why": "another_agency", "kind": "extract" });
                    crate::workspace::acted(&state, &viewer, AdminAction::Refused, &meeting.id.to_string(), refusal)?;
                    let mut c = Checker::new();
                    c.fail("agency", "is your own agency, from the staff register");
                    return Err(ClinicError::InvalidFields(c.finish().err().unwrap_or_default()));
                }
                own
            }
            _ => {
                let invited: Vec<Agency> = meeting
                    .invited
                    .iter()
                    .filter_map(|code| state.store.staff(code).ok().flatten().and_then(|m| m.agency))
                    .collect();
                match invited.into_iter().find(|a| asked.as_deref() == Some(agency_key(a).as_str())) {
                    Some(agency) => agency,
                    None => {
                        let mut c = Checker::new();
                        c.fail("agency", "must name the agency of a member invited to the meeting");
                        return Err(ClinicError::InvalidFields(c.finish().err().unwrap_or_default()));
                    }
                }
            }
        };
        minutes_made(&state, &viewer, &meeting, &crate::minutes::MinutesFor::Agency(agency))
    })
    .await?;
    Ok(pdf_response(minutes))
}
