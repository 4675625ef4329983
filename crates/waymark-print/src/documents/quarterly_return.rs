//! The commissioner's quarterly return for this laptop's caseload: the
//! figures of `waymark_domain::report` laid out by `quarterly-return.typ`
//! (`waymark-report` makes the data, as it does for the clinic's). Counts
//! only, so it shows no victim and no case.

use super::{Gather, Gathered, Naming};
use crate::Result;
use waymark_domain::report::{quarterly_return, Quarter};
use waymark_domain::CaseId;

pub(crate) const TEMPLATE: &str = waymark_report::TEMPLATE.0;
pub(crate) const DISCREET_FORM: bool = false;

pub(crate) fn case(_quarter: Quarter) -> Option<CaseId> {
    None
}

pub(crate) fn gather(g: &mut Gather<'_>, quarter: Quarter) -> Result<Gathered> {
    let report = quarterly_return(&g.vault.return_facts()?, quarter, g.today, &g.vault.rules().report);
    Ok(Gathered {
        data: waymark_report::typst_data(&report, &g.produced.at),
        case: None,
        record: None,
        version: None,
        discreet: None,
        victims: Vec::new(),
        cases: Vec::new(),
        quarter: Some(quarter),
        request: None,
    })
}

pub(crate) fn file_name(n: &Naming<'_>) -> String {
    match n.quarter {
        Some(quarter) => format!("quarterly-return-{}-caseload.pdf", quarter.wire()),
        None => format!("quarterly-return-{}.pdf", n.today),
    }
}
