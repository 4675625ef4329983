//! Subject access requests on the laptop: a request for a case's victim or
//! perpetrator, due a month after it was received; every item the case holds
//! for that person (`waymark_domain::access`), with other people's
//! information withheld until the advocate releases it item by item; and the
//! export. Each request, release and export is audited by ids and counts.

use crate::audit::AuditAction;
use crate::error::{Result, VaultError};
use crate::vault::Vault;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};
use serde_json::json;
use uuid::Uuid;
use waymark_domain::access::{
    check_identity_day, check_request, due_on, items, review, AccessExport, AccessSubject, IdentityCheck,
};
pub use waymark_domain::access::{AccessRequest, AccessReview};
use waymark_domain::{Case, CaseId, ExemptionReason, Perpetrator, RecordKind, ValidationErrors, Victim};

fn no_request() -> VaultError {
    ValidationErrors::single("request", "is not a subject access request on this laptop").into()
}

/// What subject access reads of one case: its records kind by kind, its
/// victim (for where she lives), its reference and its perpetrators' ids.
#[derive(Debug, Clone)]
pub struct CaseHeld {
    pub records: Vec<waymark_domain::Record>,
    pub victim: Option<Victim>,
    pub reference: String,
    pub perpetrators: Vec<Uuid>,
}

impl Vault {
    /// Everything a case holds, for subject access (the laptop's and the clinic's). Not audited.
    pub fn case_held(&self, case: CaseId) -> Result<CaseHeld> {
        let reference = self.get::<Case>(case.as_uuid())?.reference;
        let mut records = Vec::new();
        for kind in RecordKind::ALL.iter().copied() {
            records.extend(self.list_kind(kind, case)?);
        }
        let victim: Option<Victim> = self.list_all::<Victim>()?.into_iter().find(|v| v.case_id == case);
        let perpetrators =
            self.list_all::<Perpetrator>()?.into_iter().filter(|p| p.case_id == case).map(|p| p.id.0).collect();
        Ok(CaseHeld { records, victim, reference, perpetrators })
    }

    /// Records a request received on `received_on` from the case's victim or perpetrator.
    pub fn access_request(
        &mut self,
        case: CaseId,
        subject: AccessSubject,
        perpetrator: Option<Uuid>,
        received_on: NaiveDate,
    ) -> Result<AccessRequest> {
        let now = self.now();
        let held = self.case_held(case)?;
        check_request(subject, perpetrator, &held.perpetrators, received_on, self.today())?;
        let due_on = due_on(received_on);
        let request = AccessRequest {
            id: waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()),
            case_id: case,
            subject,
            perpetrator_id: perpetrator,
            received_on,
            due_on,
            made_at: now,
            made_by: self.actor.clone(),
            identity_checked: None,
        };
        self.conn().execute(
            "INSERT INTO access_requests (id, case_id, subject, perpetrator_id, received_on, due_on, made_at, made_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                request.id.to_string(),
                case.to_string(),
                subject.wire(),
                perpetrator.map(|p| p.to_string()),
                received_on.to_string(),
                due_on.to_string(),
                now.to_rfc3339(),
                request.made_by
            ],
        )?;
        self.record_event(
            AuditAction::AccessRequested,
            Some(RecordKind::Case),
            Some(case.as_uuid()),
            Some(case),
            json!({"request": request.id.to_string(), "subject": subject.wire(), "due_on": due_on.to_string()}),
        )?;
        Ok(request)
    }

    /// The requests recorded here, for one case or all, the soonest due first.
    pub fn access_requests(&self, case: Option<CaseId>) -> Result<Vec<AccessRequest>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, case_id, subject, received_on, due_on, made_at, made_by, perpetrator_id,
                    identity_checked_on, identity_checked_by FROM access_requests
             WHERE ?1 IS NULL OR case_id = ?1 ORDER BY due_on, made_at",
        )?;
        let rows = stmt.query_map([case.map(|c| c.to_string())], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })?;
        let bad = |_| VaultError::DatabaseUnreadable;
        let mut out = Vec::new();
        for row in rows {
            let (id, case, subject, received, due, made_at, made_by, perpetrator, checked_on, checked_by) = row?;
            let identity_checked = match (checked_on, checked_by) {
                (Some(on), Some(by)) => {
                    Some(IdentityCheck { on: on.parse().map_err(|_| VaultError::DatabaseUnreadable)?, by })
                }
                _ => None,
            };
            out.push(AccessRequest {
                id: id.parse().map_err(bad)?,
                case_id: case.parse().map(CaseId).map_err(bad)?,
                subject: AccessSubject::from_wire(&subject).ok_or(VaultError::DatabaseUnreadable)?,
                perpetrator_id: perpetrator.map(|p| p.parse()).transpose().map_err(bad)?,
                received_on: received.parse().map_err(|_| VaultError::DatabaseUnreadable)?,
                due_on: due.parse().map_err(|_| VaultError::DatabaseUnreadable)?,
                made_at: DateTime::parse_from_rfc3339(&made_at)
                    .map_err(|_| VaultError::DatabaseUnreadable)?
                    .with_timezone(&Utc),
                made_by,
                identity_checked,
            });
        }
        Ok(out)
    }

    fn access_request_by_id(&self, request: Uuid) -> Result<AccessRequest> {
        let case: Option<String> = self
            .conn()
            .query_row("SELECT case_id FROM access_requests WHERE id = ?1", [request.to_string()], |r| r.get(0))
            .optional()?;
        let case = case.and_then(|c| c.parse().ok()).map(CaseId).ok_or_else(no_request)?;
        self.access_requests(Some(case))?.into_iter().find(|r| r.id == request).ok_or_else(no_request)
    }

    /// Every item the case holds for the request's subject, the case's
    /// records kind by kind, with what the advocate released. Audited as a view.
    pub fn access_review(&mut self, request: Uuid) -> Result<AccessReview> {
        let review = self.read_access_review(request)?;
        self.record_event(
            AuditAction::View,
            Some(RecordKind::Case),
            Some(review.request.case_id.as_uuid()),
            Some(review.request.case_id),
            json!({"screen": "subject_access", "request": request.to_string(), "items": review.items.len()}),
        )?;
        Ok(review)
    }

    fn read_access_review(&self, request: Uuid) -> Result<AccessReview> {
        let request = self.access_request_by_id(request)?;
        let case = request.case_id;
        let CaseHeld { records, victim, reference, .. } = self.case_held(case)?;
        let items = items(request.subject, &records, victim.as_ref(), request.perpetrator_id, self.instruments());
        let releases: Vec<(String, String)> = {
            let mut stmt = self.conn().prepare_cached(
                "SELECT item_key, text_sha256 FROM access_releases WHERE request_id = ?1 ORDER BY item_key",
            )?;
            let rows = stmt.query_map([request.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let exempt = {
            let mut stmt = self.conn().prepare_cached(
                "SELECT item_key, reason FROM access_exemptions WHERE request_id = ?1 ORDER BY item_key",
            )?;
            let rows =
                stmt.query_map([request.id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (key, reason) = row?;
                out.push((key, ExemptionReason::from_wire(&reason).ok_or(VaultError::DatabaseUnreadable)?));
            }
            out
        };
        Ok(review(request, reference, items, &releases, exempt))
    }

    /// Records that the requester's identity was checked on `on` (by whoever
    /// is signed in). Audited with the day; what was seen stays on paper.
    pub fn access_identity_checked(&mut self, request: Uuid, on: NaiveDate) -> Result<AccessRequest> {
        let current = self.access_request_by_id(request)?;
        check_identity_day(&current, on, self.today())?;
        self.conn().execute(
            "UPDATE access_requests SET identity_checked_on = ?2, identity_checked_by = ?3 WHERE id = ?1",
            params![request.to_string(), on.to_string(), self.actor],
        )?;
        self.record_event(
            AuditAction::AccessIdentityChecked,
            Some(RecordKind::Case),
            Some(current.case_id.as_uuid()),
            Some(current.case_id),
            json!({"request": request.to_string(), "on": on.to_string()}),
        )?;
        self.access_request_by_id(request)
    }

    /// Withholds one of the requester's own items under an exemption, with
    /// its reason (a code); audited with the item's key, never its words.
    pub fn access_withhold(&mut self, request: Uuid, key: &str, reason: ExemptionReason) -> Result<AccessReview> {
        let review = self.read_access_review(request)?;
        review.may_withhold(key)?;
        let now = self.now();
        self.conn().execute(
            "INSERT INTO access_exemptions (request_id, item_key, reason, decided_at, decided_by) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (request_id, item_key) DO UPDATE SET reason = excluded.reason, decided_at = excluded.decided_at, decided_by = excluded.decided_by",
            params![request.to_string(), key, reason.wire(), now.to_rfc3339(), self.actor],
        )?;
        self.record_event(
            AuditAction::AccessWithheld,
            Some(RecordKind::Case),
            Some(review.request.case_id.as_uuid()),
            Some(review.request.case_id),
            json!({"request": request.to_string(), "item": key, "reason": reason.wire()}),
        )?;
        self.read_access_review(request)
    }

    /// Releases one withheld item to the requester. Only an item of this
    /// request that may be released at all; audited with its key (a record
    /// id and a field), never its words.
    pub fn access_release(&mut self, request: Uuid, key: &str) -> Result<AccessReview> {
        let review = self.read_access_review(request)?;
        // The words released are the words kept: if they change, the item is withheld again.
        let digest = review.may_release(key)?;
        let now = self.now();
        self.conn().execute(
            "INSERT INTO access_releases (request_id, item_key, released_at, released_by, text_sha256) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (request_id, item_key) DO UPDATE SET released_at = excluded.released_at,
               released_by = excluded.released_by, text_sha256 = excluded.text_sha256",
            params![request.to_string(), key, now.to_rfc3339(), self.actor, digest],
        )?;
        self.record_event(
            AuditAction::AccessReleased,
            Some(RecordKind::Case),
            Some(review.request.case_id.as_uuid()),
            Some(review.request.case_id),
            json!({"request": request.to_string(), "item": key}),
        )?;
        self.read_access_review(request)
    }

    /// The export as it stands, not recorded: for a printout or a file, which
    /// records its own print or export when it is saved.
    pub fn access_export_unrecorded(&self, request: Uuid) -> Result<(AccessReview, AccessExport)> {
        let review = self.read_access_review(request)?;
        review.request.may_answer()?;
        let out = review.answer();
        Ok((review, out))
    }

    /// The export: the requester's own items and the released ones, with a
    /// count of what is withheld and why. Audited as an export.
    pub fn access_export(&mut self, request: Uuid) -> Result<(AccessReview, AccessExport)> {
        let (review, out) = self.access_export_unrecorded(request)?;
        let withheld: u32 = out.withheld.iter().map(|(_, n)| *n).sum();
        self.record_event(
            AuditAction::Export,
            Some(RecordKind::Case),
            Some(review.request.case_id.as_uuid()),
            Some(review.request.case_id),
            json!({
                "export": "subject_access",
                "request": request.to_string(),
                "subject": review.request.subject.wire(),
                "items": out.items.len(),
                "released": review.released.len(),
                "withheld": withheld,
            }),
        )?;
        Ok((review, out))
    }
}
