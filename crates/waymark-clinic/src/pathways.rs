//! Each perpetrator's mental-health pathway and MAPPA referral (clinic.md,
//! "The flow of a case", step 6): referred, accepted or declined, started,
//! completed, reoffended, each with its date, recorded by the coordinator and
//! counted for the commissioner. Kept by the perpetrator's record id, never
//! a name.

use crate::error::ClinicError;
use crate::panel::{panel_write_lock, read, Doc};
use crate::server::AppState;
use crate::store::{AdminAction, AuditLine, PanelDocKind};
use crate::workspace::{form_body, projection, viewed, Viewer};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use waymark_domain::time::london_date;
use waymark_domain::validation::Checker;
use waymark_domain::{CaseId, PathwayKind, PathwayStage, Record, RecordKind};

/// One step on a pathway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathwayStep {
    pub stage: PathwayStage,
    pub on: NaiveDate,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A perpetrator's pathway of one kind, its steps in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pathway {
    pub perpetrator_id: Uuid,
    pub case_id: Uuid,
    pub kind: PathwayKind,
    pub steps: Vec<PathwayStep>,
}

impl Doc for Pathway {
    const KIND: PanelDocKind = PanelDocKind::Pathway;
    fn id(&self) -> String {
        format!("{}:{}", self.perpetrator_id, self.kind.wire())
    }
    fn case(&self) -> Option<Uuid> {
        Some(self.case_id)
    }
    fn meeting(&self) -> Option<Uuid> {
        None
    }
}

impl Pathway {
    pub fn reached(&self, stage: PathwayStage) -> bool {
        self.steps.iter().any(|s| s.stage == stage)
    }

    /// Why `stage` on `on` cannot follow the steps so far, if it cannot.
    pub fn refuses(&self, stage: PathwayStage, on: NaiveDate) -> Option<(&'static str, &'static str)> {
        if let Some(needed) = stage.needs() {
            if !self.reached(needed) {
                return Some(("stage", "comes after a step this pathway has not reached"));
            }
        }
        // Reoffending may be recorded more than once; each other step once.
        if stage != PathwayStage::Reoffended && self.reached(stage) {
            return Some(("stage", "is already recorded"));
        }
        if stage == PathwayStage::Started && self.reached(PathwayStage::Declined) {
            return Some(("stage", "cannot follow a declined referral"));
        }
        if matches!(stage, PathwayStage::Accepted | PathwayStage::Declined)
            && (self.reached(PathwayStage::Accepted) || self.reached(PathwayStage::Declined))
        {
            return Some(("stage", "the referral was already accepted or declined"));
        }
        // Not before the step it follows (reoffending may be learnt of late and recorded first).
        let follows = stage.needs().and_then(|needed| self.steps.iter().find(|s| s.stage == needed));
        if follows.is_some_and(|step| on < step.on) {
            return Some(("on", "is before the step it follows"));
        }
        None
    }
}

/// How many perpetrators reached each stage of each pathway: the
/// commissioner's pathway figures (clinic.md, "What the commissioner asks for").
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PathwayFigures {
    pub kind: Option<PathwayKind>,
    pub referred: usize,
    pub accepted: usize,
    pub declined: usize,
    pub started: usize,
    pub completed: usize,
    pub reoffended: usize,
}

pub fn figures(pathways: &[Pathway]) -> Vec<PathwayFigures> {
    PathwayKind::ALL
        .iter()
        .map(|kind| {
            let of_kind: Vec<&Pathway> = pathways.iter().filter(|p| p.kind == *kind).collect();
            let count = |stage| of_kind.iter().filter(|p| p.reached(stage)).count();
            PathwayFigures {
                kind: Some(*kind),
                referred: count(PathwayStage::Referred),
                accepted: count(PathwayStage::Accepted),
                declined: count(PathwayStage::Declined),
                started: count(PathwayStage::Started),
                completed: count(PathwayStage::Completed),
                reoffended: count(PathwayStage::Reoffended),
            }
        })
        .collect()
}

/// A pathway as the workspace lists it, with its case's reference.
#[derive(Debug, Serialize, Deserialize)]
pub struct PathwayView {
    pub perpetrator_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub kind: PathwayKind,
    pub steps: Vec<PathwayStep>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PathwaysView {
    pub pathways: Vec<PathwayView>,
    pub figures: Vec<PathwayFigures>,
}

fn pathways_view(state: &AppState) -> Result<PathwaysView, ClinicError> {
    let all = read::<Pathway>(state, None)?;
    let copy = projection(state)?;
    let mut pathways = Vec::new();
    for p in &all {
        let reference = match copy.read(|r| r.get_record(RecordKind::Case, p.case_id)) {
            Ok(Record::Case(case)) => case.reference,
            _ => String::new(),
        };
        pathways.push(PathwayView {
            perpetrator_id: p.perpetrator_id,
            case_id: p.case_id,
            reference,
            kind: p.kind,
            steps: p.steps.clone(),
        });
    }
    pathways.sort_by(|a, b| (&a.reference, a.kind, a.perpetrator_id).cmp(&(&b.reference, b.kind, b.perpetrator_id)));
    Ok(PathwaysView { pathways, figures: figures(&all) })
}

pub(crate) async fn pathways(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<PathwaysView>, ClinicError> {
    let view = crate::server::blocking(move || {
        let view = pathways_view(&state)?;
        viewed(&state, &viewer, "pathways", json!({ "rows": view.pathways.len() }))?;
        Ok(view)
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    case_id: Uuid,
    perpetrator_id: Uuid,
    kind: PathwayKind,
    stage: PathwayStage,
    on: NaiveDate,
}

pub(crate) async fn pathway_step(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<PathwaysView>, ClinicError> {
    let body: StepBody = form_body(raw, "the body must be {case_id, perpetrator_id, kind, stage, on}")?;
    let view = crate::server::blocking(move || {
        let _writing = panel_write_lock();
        let now = (state.clock)();
        let perpetrators =
            projection(&state)?.read(|copy| copy.list_kind(RecordKind::Perpetrator, CaseId(body.case_id)))?;
        let mut c = Checker::new();
        c.require(
            perpetrators.iter().any(|p| matches!(p, Record::Perpetrator(p) if p.id.as_uuid() == body.perpetrator_id)),
            "perpetrator_id",
            "is not a perpetrator on that case",
        );
        c.require(body.on <= london_date(now), "on", "is in the future");
        let id = format!("{}:{}", body.perpetrator_id, body.kind.wire());
        let mut pathway = read::<Pathway>(&state, None)?.into_iter().find(|p| p.id() == id).unwrap_or(Pathway {
            perpetrator_id: body.perpetrator_id,
            case_id: body.case_id,
            kind: body.kind,
            steps: Vec::new(),
        });
        c.require(pathway.case_id == body.case_id, "case_id", "is not the case this pathway was recorded on");
        if let Some((field, rule)) = pathway.refuses(body.stage, body.on) {
            c.fail(field, rule);
        }
        c.finish().map_err(ClinicError::InvalidFields)?;
        pathway.steps.push(PathwayStep { stage: body.stage, on: body.on, by: viewer.staff_code.clone(), at: now });
        let target = body.perpetrator_id.to_string();
        let line = AuditLine {
            actor: &viewer.staff_code,
            action: AdminAction::PathwayRecorded,
            target: Some(&target),
            detail: json!({ "case": body.case_id, "kind": body.kind.wire(), "stage": body.stage.wire() }),
        };
        state.store.save_panel(&[pathway.stored()?], &[], &line, now)?;
        pathways_view(&state)
    })
    .await?;
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn figures_by_kind(pathways: &[Pathway]) -> BTreeMap<&'static str, PathwayFigures> {
        figures(pathways).into_iter().filter_map(|f| Some((f.kind?.wire(), f))).collect()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn with(steps: &[(PathwayStage, u32)]) -> Pathway {
        Pathway {
            perpetrator_id: Uuid::nil(),
            case_id: Uuid::nil(),
            kind: PathwayKind::MentalHealth,
            steps: steps
                .iter()
                .map(|(stage, d)| PathwayStep {
                    stage: *stage,
                    on: day(*d),
                    by: "CRD1".into(),
                    at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_pathway_goes_in_order_and_a_declined_referral_goes_no_further() {
        // Why: the commissioner's figures count each stage; a "started" with no
        // acceptance or a second acceptance would count what did not happen.
        use PathwayStage::*;
        assert_eq!(
            with(&[]).refuses(Accepted, day(2)),
            Some(("stage", "comes after a step this pathway has not reached"))
        );
        assert_eq!(with(&[]).refuses(Referred, day(2)), None);
        assert_eq!(with(&[(Referred, 2)]).refuses(Started, day(3)).map(|r| r.0), Some("stage"));
        assert_eq!(with(&[(Referred, 2)]).refuses(Accepted, day(1)), Some(("on", "is before the step it follows")));
        // Reoffending learnt of first, the acceptance before it is still recorded.
        assert_eq!(with(&[(Referred, 2), (Reoffended, 9)]).refuses(Accepted, day(4)), None);
        assert_eq!(with(&[(Referred, 2), (Declined, 3)]).refuses(Accepted, day(4)).map(|r| r.0), Some("stage"));
        assert_eq!(with(&[(Referred, 2), (Accepted, 3)]).refuses(Started, day(4)), None);
        assert_eq!(with(&[(Referred, 2)]).refuses(Referred, day(4)), Some(("stage", "is already recorded")));
        assert_eq!(with(&[(Referred, 2), (Reoffended, 3)]).refuses(Reoffended, day(9)), None, "more than once");
    }

    #[test]
    fn the_figures_count_each_perpetrator_once_per_stage_reached() {
        use PathwayStage::*;
        let mut mappa = with(&[(Referred, 1), (Accepted, 2)]);
        mappa.kind = PathwayKind::Mappa;
        let all = vec![
            with(&[(Referred, 1), (Accepted, 2), (Started, 3), (Reoffended, 4), (Reoffended, 9)]),
            with(&[(Referred, 1), (Declined, 2)]),
            mappa,
        ];
        let figures = figures_by_kind(&all);
        let mh = &figures["mental_health"];
        assert_eq!(
            (mh.referred, mh.accepted, mh.declined, mh.started, mh.completed, mh.reoffended),
            (2, 1, 1, 1, 0, 1)
        );
        assert_eq!((figures["mappa"].referred, figures["mappa"].accepted), (1, 1));
    }
}
