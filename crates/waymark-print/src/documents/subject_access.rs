//! A subject access export: what the case holds about the person who asked
//! (`waymark_domain::access`), with other people's information left out
//! unless the advocate released it, and only its count and reason shown.
//! The answer's data and JSON are `waymark_report::subject_access`'s, shared
//! with the clinic. A perpetrator's export names no case reference; where the
//! victim lives is never in it, and the address guard checks the laid-out
//! pages as well.

use super::{Gather, Gathered, Naming};
use crate::Result;
use uuid::Uuid;
use waymark_domain::access::AccessSubject;
use waymark_domain::{CaseId, RecordKind, Victim};
use waymark_report::subject_access as answer;

pub(crate) const TEMPLATE: &str = answer::TEMPLATE.0;
pub(crate) const DISCREET_FORM: bool = false;

pub(crate) fn case(_request: Uuid) -> Option<CaseId> {
    None
}

pub(crate) fn gather(g: &mut Gather<'_>, request: Uuid) -> Result<Gathered> {
    // The print itself is what the audit records, when it is saved or printed.
    let (review, out) = g.vault.access_export_unrecorded(request)?;
    let data = answer::typst_data(
        &review,
        &out,
        &g.vault.rules().retention,
        &g.produced.by,
        g.vault.now(),
        g.options.large_print,
    );
    let case = review.request.case_id;
    let victims: Vec<Victim> = match review.request.subject {
        // Her own answer holds her address on purpose: checking its pages for it would
        // only teach advocates to confirm every print.
        AccessSubject::Victim => Vec::new(),
        // His never may: the pages are checked, and no one can confirm past it.
        AccessSubject::Perpetrator => {
            if g.options.address_confirmed {
                return Err(crate::PrintError::AddressNeverConfirmed);
            }
            g.vault.list_all::<Victim>()?.into_iter().filter(|v| v.case_id == case).collect()
        }
    };
    Ok(Gathered {
        data,
        case: Some(case),
        record: Some((RecordKind::Case, case.as_uuid())),
        version: None,
        discreet: None,
        victims,
        cases: vec![case],
        quarter: None,
        request: Some(request),
    })
}

/// The request's first eight hex digits tell two answers apart; neither names the case or a person.
pub(crate) fn file_name(n: &Naming<'_>) -> String {
    n.request.map(|r| answer::file_name(r, n.today, "pdf")).unwrap_or_else(|| format!("subject-access-{}.pdf", n.today))
}
