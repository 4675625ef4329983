//! The minutes of a panel meeting as a PDF (Typst through
//! `waymark-typeset`, OFFICIAL-SENSITIVE on every page), and one agency's
//! extract of them: the agenda, its own research and its own actions, made
//! from the same view of the meeting that agency gets in the workspace
//! (`panel::meeting_detail_for`), so the page cannot hold more than the
//! screen. Case references, staff codes and the panel's own words only;
//! text that shows where a victim lives is already withheld.

use crate::error::ClinicError;
use crate::panel::{ActionView, MeetingDetail};
use crate::server::AppState;
use crate::store::PanelMeeting;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use waymark_domain::time::show_date;
use waymark_domain::Agency;
use waymark_typeset::Engine;

/// The protective marking on every page (Government Security Classifications).
pub const MARKING: &str = "OFFICIAL-SENSITIVE";

const TEMPLATE: &str = "minutes.typ";
const SHIPPED: [(&str, &[u8]); 6] = [
    ("minutes.typ", include_bytes!("../../../assets/templates/minutes.typ")),
    waymark_report::TEMPLATE,
    waymark_report::subject_access::TEMPLATE,
    ("common.typ", include_bytes!("../../../assets/templates/common.typ")),
    ("service.toml", include_bytes!("../../../assets/templates/service.toml")),
    ("logo.svg", include_bytes!("../../../assets/templates/logo.svg")),
];

/// The largest file a clinic's templates folder may hold: a template or a logo.
const MAX_TEMPLATE_BYTES: u64 = 2 * 1024 * 1024;

/// The clinic's template files (the minutes, the quarterly return and the subject access answer): the
/// shipped ones, with any file of the clinic folder's `templates/` laid over
/// them, as a laptop's templates folder is over its printouts. A service
/// names itself (`service.toml`, its logo) or changes the layout
/// (`minutes.typ`, `quarterly-return.typ`, `common.typ`) without a build.
#[derive(Debug, Clone)]
pub struct ClinicTemplates(Vec<(String, Vec<u8>)>);

impl Default for ClinicTemplates {
    fn default() -> Self {
        ClinicTemplates(SHIPPED.iter().map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec())).collect())
    }
}

impl ClinicTemplates {
    /// The shipped files with those in `dir` (when it exists) laid over them, by name.
    pub fn with_overrides(dir: &std::path::Path) -> Result<Self, ClinicError> {
        let mut templates = ClinicTemplates::default();
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(templates) };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
            let setup = |what: &str| ClinicError::Setup(format!("templates/{name}: {what}"));
            if path.metadata().map_err(|e| setup(&e.kind().to_string()))?.len() > MAX_TEMPLATE_BYTES {
                return Err(setup("larger than 2 MiB"));
            }
            let bytes = std::fs::read(&path).map_err(|e| setup(&e.kind().to_string()))?;
            templates.0.retain(|(existing, _)| *existing != name);
            templates.0.push((name, bytes));
        }
        Ok(templates)
    }

    pub(crate) fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
    }
}

/// Whose minutes: the panel's whole, or one agency's extract.
#[derive(Debug, Clone, PartialEq)]
pub enum MinutesFor {
    Panel,
    Agency(Agency),
}

/// A typeset document and what the audit may say of it.
pub struct Minutes {
    pub pdf: Vec<u8>,
    pub pages: usize,
    /// The file name offered: the meeting's date, never a case or a person.
    pub file_name: String,
}

fn action_rows(actions: &[ActionView]) -> Vec<Value> {
    actions
        .iter()
        .map(|a| {
            json!({
                "agency": a.agency.label(),
                "owner": a.named_owner,
                "action": a.action,
                "note": a.note,
                "due": show_date(a.due_on),
                "overdue": a.overdue,
                "status": a.status.label(),
                "closed_late": a.overdue_closure.map(|o| o.label()),
            })
        })
        .collect()
}

/// The template's data: every field the meeting view holds for this reader, as words.
pub fn minutes_data(
    meeting: &PanelMeeting,
    detail: &MeetingDetail,
    chair: &str,
    whose: &MinutesFor,
    by: &str,
    now: DateTime<Utc>,
    srp_label: &dyn Fn(&str) -> (usize, String),
) -> Value {
    let (title, extract_for) = match whose {
        MinutesFor::Panel => ("Stalking clinic panel: minutes".to_owned(), None),
        MinutesFor::Agency(agency) => {
            (format!("Stalking clinic panel: extract for {}", agency.label()), Some(agency.label().to_owned()))
        }
    };
    let cases: Vec<Value> = detail
        .cases
        .iter()
        .map(|c| {
            let met: Vec<String> = c
                .met
                .iter()
                .map(|m| format!("{} ({}: {})", m.criterion.label(), m.basis.label().to_lowercase(), m.why))
                .collect();
            let record = c.record.as_ref().map(|r| {
                json!({
                    "information": r.information.iter().map(|i| json!({ "agency": i.agency.label(), "text": i.text })).collect::<Vec<_>>(),
                    "typology": r.typology.map(|t| t.label()),
                    "srp": srp_rows(&r.srp, srp_label),
                    "decisions": r.decisions.iter().map(|d| d.label().to_owned()).collect::<Vec<_>>(),
                    "note": r.decision_note,
                })
            });
            let brief = c.brief.as_ref().map(|b| {
                json!({
                    "advocate": b.advocate,
                    "risk": b.risk_level.map(|r| r.label()),
                    "risk_review": b.risk_review_on.map(show_date),
                    "incidents": b.incidents.to_string(),
                    "next_hearing": b.next_hearing.map(waymark_domain::time::show_london),
                    "escalation": b.escalation,
                })
            });
            json!({
                "reference": c.reference,
                "minutes": c.minutes,
                "met": met,
                "brief": brief,
                "research": c.research.iter().map(|r| json!({
                    "agency": r.agency.label(),
                    "summary": r.summary,
                    "late": r.late,
                })).collect::<Vec<_>>(),
                "awaiting": c.awaiting.iter().map(|a| a.label().to_owned()).collect::<Vec<_>>(),
                "record": record,
                "actions": action_rows(&c.actions),
                "earlier": action_rows(&c.earlier_open),
            })
        })
        .collect();
    json!({
        "title": title,
        "extract_for": extract_for,
        "marking": MARKING,
        "produced": {
            "at": waymark_domain::time::show_london(now),
            "by": by,
        },
        "meeting": {
            "on": show_date(meeting.meets_on),
            "chair": chair,
            "research_due": meeting.research_due_on.map(show_date),
        },
        "attendance": detail.attendance.iter().map(|a| json!({
            "name": a.name,
            "agency": a.agency.as_ref().map(Agency::label),
            "mark": a.mark.map_or("Not recorded", |m| m.label()),
        })).collect::<Vec<_>>(),
        "cases": cases,
    })
}

/// The SRP judgements in the instrument's order, each domain named by it.
fn srp_rows(
    srp: &std::collections::BTreeMap<String, waymark_domain::records::SrpJudgement>,
    srp_label: &dyn Fn(&str) -> (usize, String),
) -> Vec<Value> {
    let mut rows: Vec<(usize, String, &waymark_domain::records::SrpJudgement)> = srp
        .iter()
        .map(|(domain, j)| {
            let (at, label) = srp_label(domain);
            (at, label, j)
        })
        .collect();
    rows.sort_by_key(|(at, _, _)| *at);
    rows.into_iter()
        .map(|(_, domain, j)| json!({ "domain": domain, "rating": j.rating.label(), "rationale": j.rationale }))
        .collect()
}

/// An SRP domain's place and words in the service's SRP instrument (its
/// question up to the colon: "Risk of violence").
fn srp_domain_label(service: &waymark_domain::records::ServiceRules, domain: &str) -> (usize, String) {
    let srp = service.instruments.get(waymark_domain::records::SRP_INSTRUMENT);
    let at = srp.and_then(|s| s.questions.iter().position(|q| q.id == domain)).unwrap_or(usize::MAX);
    let question =
        srp.and_then(|s| s.question(domain)).map(|q| q.text.split(':').next().unwrap_or(&q.text).trim().to_owned());
    (at, question.unwrap_or_else(|| domain.to_owned()))
}

/// Typesets the minutes or an extract of `meeting` as `detail` shows it.
pub fn typeset(
    state: &AppState,
    meeting: &PanelMeeting,
    detail: &MeetingDetail,
    whose: &MinutesFor,
    by: &str,
) -> Result<Minutes, ClinicError> {
    let now = (state.clock)();
    let chair = match state.store.staff(&meeting.chair)? {
        Some(member) => format!("{} ({})", member.name, member.code),
        None => meeting.chair.clone(),
    };
    let srp_label = |domain: &str| srp_domain_label(&state.service, domain);
    let data = minutes_data(meeting, detail, &chair, whose, by, now, &srp_label);
    let compiled = Engine::new()
        .compile(state.templates.files(), TEMPLATE, &data, now, false)
        .map_err(|_| ClinicError::Store("the minutes could not be typeset".into()))?;
    let pages = compiled.document.pages().len();
    // A service's own agency is typed text: its extract is named "other".
    let file_name = match whose {
        MinutesFor::Panel => format!("panel-minutes-{}.pdf", meeting.meets_on),
        MinutesFor::Agency(agency) => format!("panel-extract-{}-{}.pdf", meeting.meets_on, agency.wire()),
    };
    Ok(Minutes { pdf: compiled.pdf, pages, file_name })
}
