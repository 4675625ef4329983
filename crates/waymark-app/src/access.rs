//! Subject access on the laptop's screens: a request recorded for a case's
//! victim or perpetrator, the review of every item with other people's
//! information withheld until the advocate releases it, an exemption on one
//! of the requester's own items, and the answer saved as JSON where the
//! advocate chooses (the PDF goes through printing, like any printout). The
//! vault audits each step (`waymark_vault::access`).

use crate::desk::Desk;
use crate::error::Result;
use chrono::NaiveDate;
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use waymark_domain::access::{AccessRequest, AccessReview, AccessSubject};
use waymark_domain::{CaseId, ExemptionReason};

/// What saving the JSON answer did.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AccessSaved {
    pub items: u32,
}

impl Desk {
    /// Records a request received on `received_on`; `perpetrator` names his record for his request.
    pub fn access_request(
        &self,
        case_id: CaseId,
        subject: AccessSubject,
        perpetrator: Option<Uuid>,
        received_on: NaiveDate,
    ) -> Result<AccessRequest> {
        self.with_vault(|v| Ok(v.access_request(case_id, subject, perpetrator, received_on)?))
    }

    /// The requests on this laptop, for one case or all, the soonest due first.
    pub fn access_requests(&self, case_id: Option<CaseId>) -> Result<Vec<AccessRequest>> {
        self.with_vault(|v| Ok(v.access_requests(case_id)?))
    }

    /// Records that the requester's identity was checked on `on`; no answer is made before. Audited.
    pub fn access_identity_checked(&self, request: Uuid, on: NaiveDate) -> Result<AccessRequest> {
        self.with_vault(|v| Ok(v.access_identity_checked(request, on)?))
    }

    /// Every item of a request and what was decided. Audited as a view.
    pub fn access_review(&self, request: Uuid) -> Result<AccessReview> {
        self.with_vault(|v| Ok(v.access_review(request)?))
    }

    /// Releases one withheld item. Audited with its key, never its words.
    pub fn access_release(&self, request: Uuid, item: String) -> Result<AccessReview> {
        self.with_vault(|v| Ok(v.access_release(request, &item)?))
    }

    /// Withholds one of the requester's own items under an exemption.
    pub fn access_withhold(&self, request: Uuid, item: String, reason: ExemptionReason) -> Result<AccessReview> {
        self.with_vault(|v| Ok(v.access_withhold(request, &item, reason)?))
    }

    /// Asks where to save (`ask` opens the save dialog with the suggested
    /// name; `None` is cancel) and saves the JSON answer there.
    pub fn access_save_json_asking(
        &self,
        request: Uuid,
        ask: impl Fn(String) -> Option<PathBuf>,
    ) -> Result<Option<AccessSaved>> {
        let today = self.with_vault(|v| Ok(v.today()))?;
        // Like the PDF's: the request's first eight hex digits, never a name or the case.
        let suggested = format!("subject-access-{}-{today}.json", &request.simple().to_string()[..8]);
        let Some(path) = ask(suggested) else { return Ok(None) };
        self.access_save_json(request, &path).map(Some)
    }

    pub fn access_save_json(&self, request: Uuid, path: &Path) -> Result<AccessSaved> {
        let path = crate::reporting::chosen_path(path, "json")?;
        self.with_vault(|vault| {
            let items = vault.access_export_unrecorded(request)?.1.items.len();
            waymark_print::save_subject_access_json(vault, request, &path)?;
            Ok(AccessSaved { items: u32::try_from(items).unwrap_or(u32::MAX) })
        })
    }
}
