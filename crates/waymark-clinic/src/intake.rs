//! Referrals from partner agencies (clinic.md, "The flow of a case", steps
//! 1 and 2): a referral form is the three records accepting it makes, built
//! from the form's fields by each kind's own new document and checked by the
//! domain's rules (`waymark_domain::intake`); screening accepts it, which
//! writes those records as the clinic's ops assigned to an advocate, or
//! declines it with a reason. Time and ids are passed in.

use crate::authoring::{numbered, ClinicChange, CLINIC_WRITE_ATTEMPTS};
use crate::error::ClinicError;
use crate::store::{enrollable, ClinicStore, IntakeStatus, ReferralOutcome, StoredReferral};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use waymark_domain::intake::ReferralRecords;
use waymark_domain::patch::{NewRecord, Patch};
use waymark_domain::records::ServiceRules;
use waymark_domain::time::london_date;
use waymark_domain::{CaseId, DeclineReason, Record, RecordKind, ValidationErrors};
use waymark_protocol::{OpAction, OpChanges, WireOp};

/// The case's reference and advocate until screening sets them: the
/// case rules need both, and neither is the referrer's to choose.
const UNSCREENED_REFERENCE: &str = "REFERRAL";

/// A case's fields the clinic sets, never the form: who holds it, its
/// reference, its state, when it opened and when the referral came in, and
/// what the advocate's work later sets.
const SET_BY_THE_CLINIC: &[&str] = &[
    "reference",
    "advocate",
    "status",
    "opened_on",
    "closure",
    "risk_level",
    "risk_review_on",
    "referral.received_on",
];

/// A referral form as the page sends it: each record's fields by name, as
/// the laptop's forms send them (`Patch::from_fields`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralFields {
    pub case: Map<String, Value>,
    pub victim: Map<String, Value>,
    pub perpetrator: Map<String, Value>,
}

fn prefixed(prefix: &str, errors: ValidationErrors) -> ClinicError {
    let mut all = waymark_domain::validation::Checker::new();
    all.merge(prefix, errors);
    ClinicError::InvalidFields(all.finish().err().unwrap_or_default())
}

/// One record of the form: the kind's new document, the form's fields over
/// it (never a field the core or the clinic sets), read as the kind's type.
fn record_of(
    kind: RecordKind,
    id: Uuid,
    case: CaseId,
    fields: &Map<String, Value>,
    prefix: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Value, ClinicError> {
    let mut doc = (kind.rules().new_doc)(&NewRecord {
        id,
        case_id: (kind != RecordKind::Case).then_some(case),
        now,
        today: london_date(now),
        actor: by,
    });
    if kind == RecordKind::Case {
        // A field the clinic sets, a part of one, or a structure holding one ("referral" whole).
        let clinic_sets = |name: &str| {
            SET_BY_THE_CLINIC
                .iter()
                .any(|set| name == *set || name.starts_with(&format!("{set}.")) || set.starts_with(&format!("{name}.")))
        };
        if let Some(name) = fields.keys().find(|name| clinic_sets(name)) {
            return Err(prefixed(prefix, ValidationErrors::single(name.clone(), "is set by the clinic, not the form")));
        }
        doc["reference"] = Value::String(UNSCREENED_REFERENCE.to_owned());
    }
    let patch = Patch::from_fields(fields).map_err(|e| prefixed(prefix, e))?;
    patch.apply(&mut doc, kind.rules().protected).map_err(|e| prefixed(prefix, e))?;
    if kind.rules().clinic_owned.iter().any(|f| patch.touches(f)) {
        let field = kind.rules().clinic_owned.iter().find(|f| patch.touches(f)).copied().unwrap_or("form");
        return Err(prefixed(prefix, ValidationErrors::single(field, "is the clinic panel's to set, not the form")));
    }
    // Reading it as its type finds a field the kind does not have, or a value of the wrong type.
    Record::from_doc(kind, doc.clone()).map_err(|e| prefixed(prefix, e))?;
    Ok(doc)
}

/// Builds and checks a referral form. Nothing is stored here.
pub fn referral_form(
    fields: &ReferralFields,
    service: &ServiceRules,
    by: &str,
    now: DateTime<Utc>,
) -> Result<ReferralRecords, ClinicError> {
    let case = CaseId(Uuid::now_v7());
    let id = case.as_uuid();
    let built = [
        record_of(RecordKind::Case, id, case, &fields.case, "case.", by, now),
        record_of(RecordKind::Victim, Uuid::now_v7(), case, &fields.victim, "victim.", by, now),
        record_of(RecordKind::Perpetrator, Uuid::now_v7(), case, &fields.perpetrator, "perpetrator.", by, now),
    ];
    // Every record's unreadable fields at once, so the form is put right in one go.
    let mut unreadable = Vec::new();
    for result in &built {
        match result {
            Err(ClinicError::InvalidFields(errors)) => unreadable.extend(errors.0.iter().cloned()),
            Err(_) => return Err(ClinicError::BadRequest("the form could not be read")),
            Ok(_) => {}
        }
    }
    if !unreadable.is_empty() {
        return Err(ClinicError::InvalidFields(ValidationErrors(unreadable)));
    }
    let [Ok(case_doc), Ok(victim), Ok(perpetrator)] = built else {
        return Err(ClinicError::BadRequest("the form could not be read"));
    };
    let form = ReferralRecords {
        case: serde_json::from_value(case_doc).map_err(|_| ClinicError::BadRequest("case"))?,
        victim: serde_json::from_value(victim).map_err(|_| ClinicError::BadRequest("victim"))?,
        perpetrator: serde_json::from_value(perpetrator).map_err(|_| ClinicError::BadRequest("perpetrator"))?,
    };
    form.check(&service.ctx()).map_err(ClinicError::InvalidFields)?;
    Ok(form)
}

/// Checks and keeps a referral; its id is what routes name.
pub fn submit(
    store: &dyn ClinicStore,
    service: &ServiceRules,
    fields: &ReferralFields,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, i64), ClinicError> {
    let form = referral_form(fields, service, by, now)?;
    let id = Uuid::now_v7();
    let number = store.add_referral(id, by, &form, now)?;
    Ok((id, number))
}

fn submitted(store: &dyn ClinicStore, id: Uuid) -> Result<StoredReferral, ClinicError> {
    let referral = store.referral(id)?.ok_or(ClinicError::NotFound)?;
    if referral.status != IntakeStatus::Submitted {
        return Err(ClinicError::ReferralDecided);
    }
    Ok(referral)
}

/// The reference a case made from a referral carries: the clinic's prefix,
/// the year it was accepted and the referral's running number.
pub fn case_reference(number: i64, accepted: DateTime<Utc>) -> String {
    format!("CLN-{}-{number:04}", london_date(accepted).format("%Y"))
}

/// Accepts a referral: the case (assigned to `advocate`), its victim and its
/// perpetrator become the clinic's ops in the feed, which the advocate's
/// laptops pull at their next sync. Returns the case's id and reference.
pub fn accept(
    store: &dyn ClinicStore,
    service: &ServiceRules,
    clinic: Uuid,
    id: Uuid,
    advocate: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(CaseId, String), ClinicError> {
    let referral = submitted(store, id)?;
    let advocate = enrollable(store.staff(advocate.trim())?)?.code;
    let mut form = referral.form;
    form.case.reference = case_reference(referral.number, now);
    form.case.advocate = advocate.clone();
    form.case.opened_on = london_date(now);
    form.case.referral.received_on = london_date(referral.submitted_at);
    // Checked again as it will be written: the rules may have changed since it came in.
    form.check(&service.ctx()).map_err(ClinicError::InvalidFields)?;
    let case = form.case.id;
    let reference = form.case.reference.clone();
    let records = [Record::Case(form.case), Record::Victim(form.victim), Record::Perpetrator(form.perpetrator)];
    let changes: Vec<ClinicChange<'_>> = records
        .iter()
        .map(|record| ClinicChange {
            kind: record.kind(),
            record_id: record.id(),
            case: case.as_uuid(),
            action: OpAction::Create,
            changes: OpChanges::created(record.to_doc().as_object().cloned().unwrap_or_default()),
            actor: by,
        })
        .collect();
    // Numbered outside the store's lock, so numbered again if another of the clinic's changes took the numbers.
    let mut attempts = 0;
    loop {
        let ops: Vec<WireOp> = numbered(store, clinic, changes.clone(), waymark_protocol::SCHEMA_VERSION, now)?;
        match store.decide_referral(id, by, ReferralOutcome::Accepted { advocate: &advocate, ops: &ops }, now) {
            Ok(()) => {
                // The clinic's address guard, as for a laptop's changes: a warning kept with each op.
                crate::text_guard::note_warnings(store, &ops, &crate::store::Stored::default(), now)?;
                return Ok((case, reference));
            }
            Err(ClinicError::ClinicBusy) if attempts < CLINIC_WRITE_ATTEMPTS => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

pub fn decline(
    store: &dyn ClinicStore,
    id: Uuid,
    reason: DeclineReason,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ClinicError> {
    submitted(store, id)?;
    store.decide_referral(id, by, ReferralOutcome::Declined(reason), now)
}
