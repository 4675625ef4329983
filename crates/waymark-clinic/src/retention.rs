//! The retention schedule at the clinic (`waymark_domain::retention`): the
//! review list of every closed case in the clinic's copy, those due for
//! deletion first, with the cases erased so far; and erasing a case, which
//! only the manager may do, for a case that is closed, not under a legal
//! hold, and either due or asked for by the person. The erasure reaches every
//! laptop that holds the case as the clinic's `erase` op; the clinic's own
//! copies go in the same transaction (`ClinicStore::erase_case`), and its
//! copy of the records as it follows the feed.

use crate::error::ClinicError;
use crate::server::AppState;
use crate::store::{AdminAction, ErasedAtClinic};
use crate::workspace::{acted, form_body, path_id, projection, refused_not_found, Viewer};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use waymark_domain::retention::RetentionRow;
use waymark_domain::validation::Checker;
use waymark_domain::ErasureReason;

/// The review list: the closed cases and the erased ones (ids, codes and times).
#[derive(Debug, Serialize, Deserialize)]
pub struct RetentionReview {
    pub cases: Vec<RetentionRow>,
    pub erased: Vec<ErasedCase>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ErasedCase {
    pub case_id: Uuid,
    pub erased_at: DateTime<Utc>,
    pub erased_by: String,
    pub reason: ErasureReason,
}

/// The service's review list. Audited as a view of the list.
pub(crate) async fn retention_review(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Result<Json<RetentionReview>, ClinicError> {
    crate::server::blocking(move || {
        let cases = projection(&state)?.read(|copy| copy.retention_review())?;
        let erased = state
            .store
            .erasures()?
            .into_iter()
            .map(|e| ErasedCase {
                case_id: e.case_id,
                erased_at: e.erased_at,
                erased_by: e.erased_by,
                reason: e.reason,
            })
            .collect();
        let due = cases.iter().filter(|c| c.due).count();
        acted(&state, &viewer, AdminAction::Viewed, "retention", json!({ "closed": cases.len(), "due": due }))?;
        Ok(Json(RetentionReview { cases, erased }))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    reason: ErasureReason,
    /// The case's reference, typed by the manager to confirm which case goes.
    reference: String,
}

/// Erases a case everywhere. The manager only; the case must be closed and
/// not held, and due unless the person asked. The audit line is the store's.
pub(crate) async fn case_erase(
    State(state): State<AppState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ErasedAtClinic>, ClinicError> {
    let body: EraseBody = form_body(raw, "the body must be {reason, reference}")?;
    crate::server::blocking(move || {
        let case = path_id(&id)?;
        if state.store.case_erased(case)? {
            return Err(ClinicError::CaseErased);
        }
        if state.store.case_advocate(case)?.is_none() {
            refused_not_found(&state, &viewer, &case.to_string(), "case")?;
            return Err(ClinicError::NotFound);
        }
        let row = projection(&state)?
            .read(|copy| copy.retention_review())?
            .into_iter()
            .find(|r| r.case_id.as_uuid() == case)
            .ok_or(ClinicError::NotDue)?;
        if body.reference.trim() != row.reference {
            let mut c = Checker::new();
            c.fail("reference", "must be the case's reference, typed to confirm which case is erased");
            return Err(ClinicError::InvalidFields(c.finish().err().unwrap_or_default()));
        }
        if row.retention.held.is_some() {
            return Err(ClinicError::CaseHeld);
        }
        if body.reason == ErasureReason::RetentionDue && !row.due {
            return Err(ClinicError::NotDue);
        }
        let now = (state.clock)();
        let erased =
            crate::authoring::erase(&*state.store, state.clinic_id, case, &viewer.staff_code, body.reason, now)?;
        // The clinic's copy erases the case from itself before anyone reads it again.
        projection(&state)?;
        Ok(Json(erased))
    })
    .await
}
