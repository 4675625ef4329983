//! One module per printout: what it reads from the vault, the data its
//! template gets, its template and its file name. `lib.rs` registers each in
//! one line of `printouts!`.

use crate::{model, Options, Printer, Result};
use chrono::NaiveDate;
use uuid::Uuid;
use waymark_domain::{CaseId, Perpetrator, RecordKind, Victim};
use waymark_vault::Vault;

pub(crate) mod chronology;
pub(crate) mod hearings;
pub(crate) mod quarterly_return;
pub(crate) mod safety_plan;
pub(crate) mod subject_access;

/// What a printout is made from, for the one path every printout takes.
pub(crate) struct Gather<'a> {
    pub printer: &'a Printer,
    pub vault: &'a mut Vault,
    pub options: Options,
    pub produced: model::Produced,
    pub today: NaiveDate,
}

/// What a printout gathered: its template's data and what the checks and
/// the audit need to know about it.
pub(crate) struct Gathered {
    pub data: serde_json::Value,
    /// The one case it is about.
    pub case: Option<CaseId>,
    /// The record the audit names.
    pub record: Option<(RecordKind, Uuid)>,
    pub version: Option<u32>,
    /// For the discreet check: the victim and perpetrators whose details must not show.
    pub discreet: Option<(Option<Victim>, Vec<Perpetrator>)>,
    /// Whose addresses the address guard looks for.
    pub victims: Vec<Victim>,
    /// Every case whose records it shows.
    pub cases: Vec<CaseId>,
    /// The quarter a return counts, for its file name.
    pub quarter: Option<waymark_domain::report::Quarter>,
    /// The subject access request an answer is for, for its file name.
    pub request: Option<Uuid>,
}

/// What a file name may be made of: never a name, only the service's own reference.
pub(crate) struct Naming<'a> {
    pub options: Options,
    pub reference: &'a str,
    pub version: Option<u32>,
    pub today: NaiveDate,
    pub quarter: Option<waymark_domain::report::Quarter>,
    pub request: Option<Uuid>,
}

pub(crate) fn to_value<T: serde::Serialize>(doc: &T) -> Result<serde_json::Value> {
    serde_json::to_value(doc).map_err(|_| crate::PrintError::Internal { what: "document data" })
}

#[cfg(test)]
mod tests {
    use crate::{DocumentKind, Options, Templates};

    #[test]
    fn every_registered_printout_has_a_shipped_template_and_a_name_without_the_reference_when_discreet() {
        // A printout registered without its template would fail only when an
        // advocate asked for it; a discreet plan's file name must say nothing.
        let shipped = Templates::shipped().unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        for kind in DocumentKind::ALL.iter().copied() {
            assert!(shipped.file(kind.template()).is_some(), "{} has no template", kind.wire());
            let plain = super::Naming {
                options: Options::default(),
                reference: "REF-1",
                version: Some(2),
                today,
                quarter: None,
                request: None,
            };
            // A return counts the caseload: its name is the quarter's, never a case's. A
            // subject access answer may go to the perpetrator: its name is the request's.
            let names_a_case = !matches!(kind, DocumentKind::QuarterlyReturn | DocumentKind::SubjectAccess);
            assert_eq!(kind.file_name(&plain).contains("REF-1"), names_a_case, "{}", kind.wire());
            if kind.has_discreet_form() {
                let discreet = super::Naming { options: Options { discreet: true, ..Options::default() }, ..plain };
                assert!(!kind.file_name(&discreet).contains("REF"), "{}", kind.wire());
            }
        }
    }
}
