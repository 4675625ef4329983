//! Subject access requests on the laptop: a request for a case's victim or
//! perpetrator, due a month after it was received; every item the case holds
//! for that person (`waymark_domain::access`), with other people's
//! information withheld until the advocate releases it item by item; and the
//! export. Each request, release and export is audited by ids and counts.

use crate::audit::AuditAction;
use crate::error::{Result, VaultError};
use crate::vault::Vault;
use chrono::{DateTime, Months, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use waymark_domain::access::{export, items, AccessExport, AccessItem, AccessSubject};
use waymark_domain::{Case, CaseId, ExemptionReason, Perpetrator, RecordKind, ValidationErrors, Victim};

/// A request as the laptop keeps it: whose, which case, and its dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessRequest {
    pub id: Uuid,
    pub case_id: CaseId,
    pub subject: AccessSubject,
    /// The perpetrator's record, for his request: a case may hold more than one.
    pub perpetrator_id: Option<Uuid>,
    pub received_on: NaiveDate,
    /// A month after it was received (UK GDPR article 12(3)).
    pub due_on: NaiveDate,
    pub made_at: DateTime<Utc>,
    pub made_by: String,
}

/// What the advocate reviews: every item, and which of the withheld ones are released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccessReview {
    pub request: AccessRequest,
    /// The case's reference, for the advocate's screen.
    pub reference: String,
    pub items: Vec<AccessItem>,
    /// Released items whose words are still the words released.
    pub released: Vec<String>,
    /// Released items whose words changed since: withheld again until released again.
    pub changed_since_release: Vec<String>,
    /// The requester's own items the advocate withheld, and why.
    pub exempt: Vec<(String, ExemptionReason)>,
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn no_request() -> VaultError {
    ValidationErrors::single("request", "is not a subject access request on this laptop").into()
}

impl Vault {
    /// Records a request received on `received_on` from the case's victim or perpetrator.
    pub fn access_request(
        &mut self,
        case: CaseId,
        subject: AccessSubject,
        perpetrator: Option<Uuid>,
        received_on: NaiveDate,
    ) -> Result<AccessRequest> {
        let now = self.now();
        let case_record: Case = self.get(case.as_uuid())?;
        match (subject, perpetrator) {
            (AccessSubject::Victim, Some(_)) => {
                return Err(ValidationErrors::single("perpetrator_id", "is only for a perpetrator's request").into())
            }
            (AccessSubject::Perpetrator, None) => {
                return Err(ValidationErrors::single("perpetrator_id", "is required: which perpetrator asked").into())
            }
            (AccessSubject::Perpetrator, Some(id)) => {
                let his: Perpetrator = self.get(id)?;
                if his.case_id != case {
                    return Err(ValidationErrors::single("perpetrator_id", "is not a perpetrator of this case").into());
                }
            }
            (AccessSubject::Victim, None) => {}
        }
        if received_on > self.today() {
            return Err(ValidationErrors::single("received_on", "cannot be in the future").into());
        }
        let due_on = received_on.checked_add_months(Months::new(1)).unwrap_or(received_on);
        let request = AccessRequest {
            id: waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()),
            case_id: case_record.id,
            subject,
            perpetrator_id: perpetrator,
            received_on,
            due_on,
            made_at: now,
            made_by: self.actor.clone(),
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
            "SELECT id, case_id, subject, received_on, due_on, made_at, made_by, perpetrator_id FROM access_requests
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
            ))
        })?;
        let bad = |_| VaultError::DatabaseUnreadable;
        let mut out = Vec::new();
        for row in rows {
            let (id, case, subject, received, due, made_at, made_by, perpetrator) = row?;
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
        let mut records = Vec::new();
        for kind in RecordKind::ALL.iter().copied() {
            records.extend(self.list_kind(kind, case)?);
        }
        let victim: Option<Victim> = self.list_all::<Victim>()?.into_iter().find(|v| v.case_id == case);
        let reference = self.get::<Case>(case.as_uuid())?.reference;
        let items = items(request.subject, &records, victim.as_ref(), request.perpetrator_id);
        let releases: Vec<(String, String)> = {
            let mut stmt = self.conn().prepare_cached(
                "SELECT item_key, text_sha256 FROM access_releases WHERE request_id = ?1 ORDER BY item_key",
            )?;
            let rows = stmt.query_map([request.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let (mut released, mut changed_since_release) = (Vec::new(), Vec::new());
        for (key, hash) in releases {
            match items.iter().find(|i| i.key == key) {
                Some(item) if sha256(&item.text) == hash => released.push(key),
                _ => changed_since_release.push(key),
            }
        }
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
        Ok(AccessReview { items, request, reference, released, changed_since_release, exempt })
    }

    /// Withholds one of the requester's own items under an exemption, with
    /// its reason (a code); audited with the item's key, never its words.
    pub fn access_withhold(&mut self, request: Uuid, key: &str, reason: ExemptionReason) -> Result<AccessReview> {
        let review = self.read_access_review(request)?;
        if !review.items.iter().any(|i| i.key == key && i.withheld.is_none()) {
            return Err(
                ValidationErrors::single("item", "is not one of the requester's own items in this request").into()
            );
        }
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
        let item = review.items.iter().find(|i| i.key == key);
        // The words released are the words kept: if they change, the item is withheld again.
        let item_text = item.map(|i| i.text.clone()).unwrap_or_default();
        match item {
            Some(item) if item.withheld.is_some() && item.releasable => {}
            Some(item) if item.withheld.is_none() => {
                return Err(
                    ValidationErrors::single("item", "is the requester's own and is in the export already").into()
                )
            }
            _ => {
                return Err(ValidationErrors::single(
                    "item",
                    "is not an item of this request that may be released (where the victim lives never is)",
                )
                .into())
            }
        }
        let now = self.now();
        self.conn().execute(
            "INSERT INTO access_releases (request_id, item_key, released_at, released_by, text_sha256) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (request_id, item_key) DO UPDATE SET released_at = excluded.released_at,
               released_by = excluded.released_by, text_sha256 = excluded.text_sha256",
            params![request.to_string(), key, now.to_rfc3339(), self.actor, sha256(&item_text)],
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
        let exempt: Vec<String> = review.exempt.iter().map(|(key, _)| key.clone()).collect();
        let out = export(review.request.subject, review.items.clone(), &review.released, &exempt);
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
