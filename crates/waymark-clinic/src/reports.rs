//! The commissioner's quarterly return for the whole service (clinic.md,
//! "What the commissioner asks for each quarter"): the figures of
//! `waymark_domain::report` over the clinic's copy of every case, with what
//! only the clinic holds (screening's verdicts, the panel's actions, the
//! pathways), as figures for the workspace or as the PDF, CSV and workbook
//! a manager hands over (`waymark-report`). Every return made is audited
//! with its quarter and format; the figures name no one.

use crate::error::ClinicError;
use crate::panel::{read, PanelAction};
use crate::pathways::Pathway;
use crate::server::AppState;
use crate::store::{AdminAction, IntakeStatus};
use crate::workspace::{acted, projection, Viewer};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use waymark_domain::report::{
    quarterly_return as count, ActionFacts, ClinicFacts, PathwayStepFacts, Quarter, QuarterlyReturn, UnacceptedReferral,
};
use waymark_domain::time::{london_date, show_london};
use waymark_domain::validation::Checker;

/// What only the clinic holds, as the return counts it.
pub fn clinic_facts(state: &AppState) -> Result<ClinicFacts, ClinicError> {
    let unaccepted = state
        .store
        .referrals(None)?
        .into_iter()
        .filter(|r| r.status != IntakeStatus::Accepted)
        .map(|r| UnacceptedReferral {
            received_on: london_date(r.submitted_at),
            source: r.form.case.referral.source.clone(),
            declined: match (r.status, r.decided_at, r.decline_reason) {
                (IntakeStatus::Declined, Some(at), Some(why)) => Some((london_date(at), why)),
                _ => None,
            },
        })
        .collect();
    let meetings: HashMap<uuid::Uuid, chrono::NaiveDate> =
        state.store.meetings()?.into_iter().map(|m| (m.id, m.meets_on)).collect();
    let actions = read::<PanelAction>(state, None)?
        .into_iter()
        .filter_map(|a| {
            Some(ActionFacts {
                set_on: *meetings.get(&a.meeting_id)?,
                due_on: a.due_on,
                status: a.status,
                closed_late: a.overdue.is_some(),
            })
        })
        .collect();
    let pathway_steps = read::<Pathway>(state, None)?
        .into_iter()
        .flat_map(|p| p.steps.into_iter().map(move |s| PathwayStepFacts { kind: p.kind, stage: s.stage, on: s.on }))
        .collect();
    Ok(ClinicFacts { unaccepted, actions, pathway_steps })
}

/// The service's return for `quarter`, counted now.
pub fn service_return(state: &AppState, quarter: Quarter) -> Result<QuarterlyReturn, ClinicError> {
    let mut facts = projection(state)?.read(|copy| copy.return_facts())?;
    facts.clinic = Some(clinic_facts(state)?);
    let today = london_date((state.clock)());
    Ok(count(&facts, quarter, today, &state.service.rules.report))
}

/// The forms a return is made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReturnFormat {
    /// The figures, for the workspace's screen.
    #[default]
    Json,
    Pdf,
    Csv,
    Xlsx,
}

impl ReturnFormat {
    fn wire(self) -> &'static str {
        match self {
            ReturnFormat::Json => "json",
            ReturnFormat::Pdf => "pdf",
            ReturnFormat::Csv => "csv",
            ReturnFormat::Xlsx => "xlsx",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnQuery {
    quarter: Option<String>,
    #[serde(default)]
    format: ReturnFormat,
}

pub(crate) fn attachment(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `?quarter=2026-27-Q3` (the last full quarter when absent) and
/// `&format=json|pdf|csv|xlsx`. The coordinator and the manager only.
pub(crate) async fn quarterly_return(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    query: Result<Query<ReturnQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ClinicError> {
    let Ok(Query(query)) = query else {
        let mut c = Checker::new();
        c.fail("format", "must be json, pdf, csv or xlsx, beside an optional quarter");
        return Err(ClinicError::InvalidFields(c.finish().err().unwrap_or_default()));
    };
    crate::server::blocking(move || {
        let now = (state.clock)();
        let quarter = match query.quarter.as_deref() {
            Some(text) => Quarter::from_wire(text).ok_or_else(|| {
                let mut c = Checker::new();
                c.fail("quarter", "must be written like 2026-27-Q3 (Q1 is April to June)");
                ClinicError::InvalidFields(c.finish().err().unwrap_or_default())
            })?,
            None => Quarter::containing(london_date(now)).previous(),
        };
        let report = service_return(&state, quarter)?;
        let internal = |_| ClinicError::Store("the return's file could not be written".into());
        let response = match query.format {
            ReturnFormat::Json => axum::Json(&report).into_response(),
            ReturnFormat::Csv => attachment(
                waymark_report::csv(&report).map_err(internal)?,
                "text/csv; charset=utf-8",
                &waymark_report::file_name(&report, "csv"),
            ),
            ReturnFormat::Xlsx => attachment(
                waymark_report::xlsx(&report, now).map_err(internal)?,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &waymark_report::file_name(&report, "xlsx"),
            ),
            ReturnFormat::Pdf => {
                let data = waymark_report::typst_data(&report, &show_london(now));
                let compiled = waymark_typeset::Engine::new()
                    .compile(state.templates.files(), waymark_report::TEMPLATE.0, &data, now, false)
                    .map_err(|_| ClinicError::Store("the return could not be typeset".into()))?;
                attachment(compiled.pdf, "application/pdf", &waymark_report::file_name(&report, "pdf"))
            }
        };
        acted(
            &state,
            &viewer,
            AdminAction::ReturnMade,
            &quarter.wire(),
            json!({ "format": query.format.wire(), "scope": "service" }),
        )?;
        Ok(response)
    })
    .await
}
