//! The course-of-conduct chronology of one case, for the police and the court.

use super::{to_value, Gather, Gathered, Naming};
use crate::{model, Result};
use waymark_domain::{CaseId, RecordKind};

pub(crate) const TEMPLATE: &str = "chronology.typ";
pub(crate) const DISCREET_FORM: bool = false;

pub(crate) fn case(case: CaseId) -> Option<CaseId> {
    Some(case)
}

pub(crate) fn gather(g: &mut Gather<'_>, case: CaseId) -> Result<Gathered> {
    let file = g.vault.case_file(case)?;
    let doc = model::ChronologyDoc::new(&file, g.produced.clone(), g.today, g.options.large_print);
    Ok(Gathered {
        data: to_value(&doc)?,
        case: Some(case),
        record: Some((RecordKind::Case, case.as_uuid())),
        version: None,
        discreet: None,
        victims: file.victim.iter().cloned().collect(),
        cases: vec![case],
        quarter: None,
        request: None,
    })
}

pub(crate) fn file_name(n: &Naming<'_>) -> String {
    format!("chronology-{}-{}.pdf", n.reference, n.today)
}
