//! The next hearings, for one case or across the caseload.

use super::{to_value, Gather, Gathered, Naming};
use crate::{model, Result};
use waymark_domain::{Case, CaseId, RecordKind, Victim};

pub(crate) const TEMPLATE: &str = "hearings.typ";
pub(crate) const DISCREET_FORM: bool = false;

pub(crate) fn case(case: Option<CaseId>, _limit: u32) -> Option<CaseId> {
    case
}

pub(crate) fn gather(g: &mut Gather<'_>, case: Option<CaseId>, limit: u32) -> Result<Gathered> {
    let vault = &mut *g.vault;
    let hearings = vault.upcoming_hearings(case, limit)?;
    let mut cases: Vec<(Case, Option<Victim>)> = Vec::new();
    for hearing in &hearings {
        if !cases.iter().any(|(c, _)| c.id == hearing.case_id) {
            let victim = vault.list::<Victim>(hearing.case_id)?.into_iter().next();
            cases.push((vault.get::<Case>(hearing.case_id.as_uuid())?, victim));
        }
    }
    let one_case = match case {
        Some(id) => Some(vault.get::<Case>(id.as_uuid())?),
        None => None,
    };
    let rows: Vec<model::HearingRow<'_>> = hearings
        .iter()
        .filter_map(|h| {
            let (case, victim) = cases.iter().find(|(c, _)| c.id == h.case_id)?;
            Some(model::HearingRow { hearing: h, case, victim: victim.as_ref() })
        })
        .collect();
    let doc = model::HearingsDoc::new(&rows, one_case.as_ref(), g.produced.clone(), g.options.large_print);
    Ok(Gathered {
        data: to_value(&doc)?,
        case,
        record: case.map(|c| (RecordKind::Case, c.as_uuid())),
        version: None,
        discreet: None,
        victims: cases.iter().filter_map(|(_, v)| v.clone()).collect(),
        cases: case.into_iter().chain(cases.iter().map(|(c, _)| c.id)).collect(),
        quarter: None,
        request: None,
    })
}

pub(crate) fn file_name(n: &Naming<'_>) -> String {
    format!("hearings-{}-{}.pdf", n.reference, n.today)
}
