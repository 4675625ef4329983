//! The safety plan: the latest version or a given one, full or discreet.

use super::{to_value, Gather, Gathered, Naming};
use crate::{guard, model, PrintError, Result};
use waymark_domain::{CaseId, RecordKind};

pub(crate) const TEMPLATE: &str = "safety-plan.typ";
pub(crate) const DISCREET_FORM: bool = true;

pub(crate) fn case(case: CaseId, _version: Option<u32>) -> Option<CaseId> {
    Some(case)
}

pub(crate) fn gather(g: &mut Gather<'_>, case: CaseId, version: Option<u32>) -> Result<Gathered> {
    let file = g.vault.case_file(case)?;
    let plan = match version {
        Some(v) => {
            file.safety_plans.iter().find(|p| p.version == v).ok_or(PrintError::NoSuchPlanVersion { version: v })?
        }
        None => file.safety_plans.iter().max_by_key(|p| p.version).ok_or(PrintError::NoSafetyPlan)?,
    };
    let templates = g.printer.templates();
    let discreet = g.options.discreet;
    let doc = model::PlanDoc::new(plan, &file.case, discreet, g.options.large_print, templates.discreet(), g.today);
    if discreet {
        // The plan's own words are checked before layout, and the pages after.
        let guard =
            guard::Guard::new(templates.discreet(), g.printer.service_name(), file.victim.as_ref(), &file.perpetrators);
        guard.check_parts(&doc.texts())?;
    }
    Ok(Gathered {
        data: to_value(&doc)?,
        case: Some(case),
        record: Some((RecordKind::SafetyPlan, plan.id.as_uuid())),
        version: Some(plan.version),
        discreet: discreet.then(|| (file.victim.clone(), file.perpetrators.clone())),
        victims: file.victim.iter().cloned().collect(),
        cases: vec![case],
        quarter: None,
        request: None,
    })
}

/// The discreet plan's name says nothing at all.
pub(crate) fn file_name(n: &Naming<'_>) -> String {
    if n.options.discreet {
        "my-plan.pdf".to_owned()
    } else {
        format!("safety-plan-{}-v{}.pdf", n.reference, n.version.unwrap_or(0))
    }
}
