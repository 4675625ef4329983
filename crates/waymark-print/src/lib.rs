//! Waymark's printouts: the safety plan (full, or discreet for the victim to
//! keep), the course-of-conduct chronology and the hearing list.
//!
//! Typst lays the documents out from templates (`assets/templates/`, which a
//! service may replace file by file in the vault's `templates/` folder) and
//! writes tagged PDF with the shipped Atkinson Hyperlegible fonts. Rendering
//! happens in memory; the only file written is the one the user chooses, and
//! every print is recorded in the vault's audit trail.

mod documents;
mod engine;
mod error;
mod guard;
pub mod model;
mod templates;

pub use engine::{page_texts, Engine};
pub use error::{Exposure, PrintError, Result};
pub use templates::{DiscreetRules, Templates};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use uuid::Uuid;
use waymark_domain::{Case, CaseId, RecordKind};
use waymark_typeset::Document as PagedDocument;
use waymark_vault::Vault;

/// Declares the printouts: each line names the request's variant and fields,
/// its one stable name and the module in `documents/` that makes it.
macro_rules! printouts {
    ($($(#[$doc:meta])* $variant:ident { $($field:ident: $ty:ty),* } = $wire:literal, $module:ident;)+) => {
        /// The printouts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(rename_all = "snake_case")]
        pub enum DocumentKind { $($variant),+ }

        impl DocumentKind {
            pub const ALL: &'static [DocumentKind] = &[$(DocumentKind::$variant),+];
            pub fn wire(self) -> &'static str { match self { $(DocumentKind::$variant => $wire),+ } }
            fn template(self) -> &'static str { match self { $(DocumentKind::$variant => documents::$module::TEMPLATE),+ } }
            /// Whether the printout has a discreet form (only the safety plan does).
            pub fn has_discreet_form(self) -> bool {
                match self { $(DocumentKind::$variant => documents::$module::DISCREET_FORM),+ }
            }
            fn file_name(self, naming: &documents::Naming<'_>) -> String {
                match self { $(DocumentKind::$variant => documents::$module::file_name(naming)),+ }
            }
        }

        /// What to print. A request's fields are plain values (ids, numbers).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Request { $($(#[$doc])* $variant { $($field: $ty),* }),+ }

        impl Request {
            pub fn kind(&self) -> DocumentKind { match self { $(Request::$variant { .. } => DocumentKind::$variant),+ } }

            /// The one case the printout is about; none for the caseload's hearing list.
            pub fn case(&self) -> Option<CaseId> {
                match self { $(Request::$variant { $($field),* } => documents::$module::case($(*$field),*)),+ }
            }

            fn gather(&self, g: &mut documents::Gather<'_>) -> Result<documents::Gathered> {
                match self { $(Request::$variant { $($field),* } => documents::$module::gather(g, $(*$field),*)),+ }
            }
        }
    };
}

printouts! {
    /// The latest plan, or the given version.
    SafetyPlan { case: CaseId, version: Option<u32> } = "safety_plan", safety_plan;
    Chronology { case: CaseId } = "chronology", chronology;
    /// The next `limit` hearings for one case, or across the caseload.
    Hearings { case: Option<CaseId>, limit: u32 } = "hearings", hearings;
    /// The commissioner's quarterly return for this laptop's caseload.
    QuarterlyReturn { quarter: waymark_domain::report::Quarter } = "quarterly_return", quarterly_return;
    /// A subject access request's export: what the case holds about the one who asked.
    SubjectAccess { request: Uuid } = "subject_access", subject_access;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Options {
    /// The safety plan's discreet form: neutral title, no service, address or perpetrator.
    pub discreet: bool,
    /// Body text of at least 16 pt.
    pub large_print: bool,
    /// The advocate has seen that the victim's address appears in the text
    /// (typed into a free-text field) and prints anyway; the print's audit
    /// event records it. A discreet plan never prints the address.
    pub address_confirmed: bool,
}

/// Where a printout went, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    File,
    Printer,
}

impl Destination {
    fn wire(self) -> &'static str {
        match self {
            Destination::File => "file",
            Destination::Printer => "printer",
        }
    }
}

/// A rendered printout, held in memory until it is saved or printed.
pub struct Prepared {
    pub kind: DocumentKind,
    pub options: Options,
    pub pdf: Vec<u8>,
    pub sha256: String,
    /// A file name with no personal data in it.
    pub file_name: String,
    pub case: Option<CaseId>,
    record: Option<(RecordKind, Uuid)>,
    version: Option<u32>,
    /// Set when the printout shows a victim's address in its text (with the
    /// pages, when the layout shows where), printed on the advocate's confirmation.
    address_in_text: Option<Vec<usize>>,
    /// Shipped avoid-list words the service's `discreet.toml` removed, recorded with a discreet print.
    avoid_list_removed: Vec<String>,
    document: PagedDocument,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("kind", &self.kind).field("pages", &self.pages()).finish_non_exhaustive()
    }
}

impl Prepared {
    pub fn pages(&self) -> usize {
        self.document.pages().len()
    }
    /// Each page as PNG, for an on-screen preview.
    pub fn page_images(&self, pixels_per_point: f32) -> Result<Vec<Vec<u8>>> {
        engine::page_images(&self.document, pixels_per_point)
    }
    /// The size most of the text is set in, in points.
    pub fn body_text_pt(&self) -> f64 {
        engine::body_text_pt(&self.document)
    }
    /// The text of each page as laid out.
    pub fn page_texts(&self) -> Vec<String> {
        engine::page_texts(&self.document)
    }
}

/// Fonts, the standard library and the template set, built once and reused,
/// so a print after the first is warm.
#[derive(Debug)]
pub struct Printer {
    engine: Engine,
    templates: Templates,
    service_name: Option<String>,
}

#[derive(Deserialize)]
struct ServiceFile {
    name: Option<String>,
}

fn service_name(templates: &Templates) -> Result<Option<String>> {
    let unreadable = || PrintError::TemplatesUnreadable { file: "service.toml".into() };
    let text = std::str::from_utf8(templates.file("service.toml").unwrap_or_default()).map_err(|_| unreadable())?;
    let service: ServiceFile = toml::from_str(text).map_err(|_| unreadable())?;
    Ok(service.name)
}

impl Printer {
    pub fn new(templates: Templates) -> Result<Self> {
        Ok(Self { engine: Engine::new(), service_name: service_name(&templates)?, templates })
    }

    /// The shipped templates with the service's own from `<vault>/templates/`.
    pub fn for_vault_dir(vault_dir: &Path) -> Result<Self> {
        Self::new(Templates::with_overrides(&vault_dir.join("templates"))?)
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The service's name from `service.toml`, which a discreet plan must not show.
    pub(crate) fn service_name(&self) -> Option<&str> {
        self.service_name.as_deref()
    }

    /// Takes up a new template set (a service edited its files) and keeps the
    /// fonts and standard library already built.
    pub fn set_templates(&mut self, templates: Templates) -> Result<()> {
        self.service_name = service_name(&templates)?;
        self.templates = templates;
        Ok(())
    }

    /// Reads what the document needs from the vault and renders it. Reading the
    /// case is audited as a view; the print itself is audited by [`record_print`]
    /// once the document is saved or sent to a printer.
    pub fn prepare(&self, vault: &mut Vault, request: &Request, options: Options) -> Result<Prepared> {
        let kind = request.kind();
        if options.discreet && !kind.has_discreet_form() {
            return Err(PrintError::DiscreetOnlyForPlan);
        }
        let now = vault.now();
        let today = vault.today();
        let produced = model::Produced::new(vault.actor(), now);
        let mut gather = documents::Gather { printer: self, vault, options, produced, today };
        let documents::Gathered {
            data,
            case,
            record,
            version,
            discreet: guard_parts,
            victims,
            cases: held_cases,
            quarter,
            request: answering,
        } = request.gather(&mut gather)?;
        // A discreet printout that did not say what to keep off its pages is never printed.
        if options.discreet && guard_parts.is_none() {
            return Err(PrintError::Internal { what: "the discreet check's inputs" });
        }
        let compiled = engine::compile(&self.engine, &self.templates, kind.template(), &data, now, options.discreet)?;
        let page_texts = engine::page_texts(&compiled.document);
        // The address guard: no printout shows a victim's address only because
        // it was typed into notes, unless the advocate has said so.
        // Refused when a record holds the victim's address outside the fields
        // meant for it (an order's exclusion zone is one) and the printout
        // shows it: on the page, or in its data, as a font fallback can split
        // a word on the page.
        let mut records_hold_it = false;
        for held in &held_cases {
            records_hold_it |= !vault.address_mentions(*held)?.is_empty();
        }
        let address_pages = guard::address_pages(&victims, &page_texts);
        let shown = !address_pages.is_empty() || guard::data_shows_address(&victims, &data);
        let address_in_text = (records_hold_it && shown).then_some(address_pages);
        if let (Some(pages), false) = (&address_in_text, options.address_confirmed) {
            return Err(PrintError::AddressInText { pages: pages.clone() });
        }
        if let Some((victim, perpetrators)) = guard_parts {
            let guard = guard::Guard::new(
                self.templates.discreet(),
                self.service_name.as_deref(),
                victim.as_ref(),
                &perpetrators,
            );
            guard.check_pages(&page_texts)?;
            if engine::has_images(&compiled.document) {
                return Err(PrintError::DiscreetUnsafe {
                    exposure: Exposure::Image,
                    section: "the template's layout".into(),
                    word: None,
                });
            }
        }
        let reference = match case {
            Some(id) => vault.get::<Case>(id.as_uuid())?.reference,
            None => "caseload".to_owned(),
        };
        Ok(Prepared {
            kind,
            options,
            sha256: hex::encode(Sha256::digest(&compiled.pdf)),
            file_name: file_name(kind, options, &reference, version, today, quarter, answering),
            pdf: compiled.pdf,
            case,
            record,
            version,
            address_in_text,
            avoid_list_removed: self.templates.discreet().removed_shipped.clone(),
            document: compiled.document,
        })
    }
}

/// Neutral for the discreet plan; otherwise the document, the case reference
/// (the service's own code, not a name) and the date.
fn file_name(
    kind: DocumentKind,
    options: Options,
    reference: &str,
    version: Option<u32>,
    today: NaiveDate,
    quarter: Option<waymark_domain::report::Quarter>,
    request: Option<Uuid>,
) -> String {
    let reference: String =
        reference.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    kind.file_name(&documents::Naming { options, reference: &reference, version, today, quarter, request })
}

/// Records a print in the audit trail: who, when (the vault's clock), what,
/// in which form, where it went, and the PDF's SHA-256 so a found copy can be
/// matched to its print.
pub fn record_print(vault: &mut Vault, prepared: &Prepared, destination: Destination) -> Result<()> {
    let removed = &prepared.avoid_list_removed;
    let detail = serde_json::json!({
        "document": prepared.kind.wire(),
        "discreet": prepared.options.discreet,
        "large_print": prepared.options.large_print,
        "version": prepared.version,
        "pages": prepared.pages(),
        "sha256": prepared.sha256,
        "destination": destination.wire(),
        "address_in_text_confirmed": prepared.address_in_text.as_ref().map(|pages| serde_json::json!({ "pages": pages })),
        "avoid_list_removed": (prepared.options.discreet && !removed.is_empty()).then_some(removed),
    });
    let (kind, id) = match prepared.record {
        Some((kind, id)) => (Some(kind), Some(id)),
        None => (None, None),
    };
    vault.record_event(waymark_vault::audit::AuditAction::Print, kind, id, prepared.case, detail)?;
    tracing::info!(document = prepared.kind.wire(), pages = prepared.pages(), "printed");
    Ok(())
}

/// Writes the PDF to the path the user chose and records the print. The PDF
/// goes to a temporary file beside the target (never a shared temp folder),
/// readable by the owner only, and is flushed; the print is then recorded,
/// and only then is the file renamed into place, so no printout exists
/// without its audit event.
pub fn save(vault: &mut Vault, prepared: &Prepared, path: &Path) -> Result<()> {
    save_recorded(path, &prepared.pdf, || record_print(vault, prepared, Destination::File))
}

/// Writes `bytes` beside `path`, flushed and owner-only, records it, then
/// renames it into place: no file exists without its audit event.
fn save_recorded(path: &Path, bytes: &[u8], record: impl FnOnce() -> Result<()>) -> Result<()> {
    let failed = |e: std::io::Error| PrintError::SaveFailed { kind: e.kind() };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new().prefix(".waymark-print-").tempfile_in(dir).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    record()?;
    file.persist(path).map_err(|e| failed(e.error))?;
    if let Ok(dir) = std::fs::File::open(dir) {
        // Makes the rename durable; a failure here leaves a complete file in place.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A subject access export as JSON for the requester: each record's heading
/// and its items' labels and words, and what was withheld by reason and
/// count. Written beside `path` and renamed into place once the export is in
/// the audit trail (ids, counts and the file's SHA-256).
pub fn save_subject_access_json(vault: &mut Vault, request: Uuid, path: &Path) -> Result<()> {
    let (review, out) = vault.access_export_unrecorded(request)?;
    let bytes = waymark_report::subject_access::json(&review, &out);
    // The PDF's pages are checked; the file is too, as written, before anything is kept.
    if review.request.subject == waymark_domain::access::AccessSubject::Perpetrator {
        let case = review.request.case_id;
        let victims = vault.list_all::<waymark_domain::Victim>()?;
        let text = String::from_utf8_lossy(&bytes);
        if victims.iter().any(|v| v.case_id == case && waymark_domain::access::shows_whereabouts(v, &text)) {
            return Err(PrintError::AnswerShowsWhereabouts);
        }
    }
    let detail = serde_json::json!({
        "export": "subject_access",
        "request": request.to_string(),
        "subject": review.request.subject.wire(),
        "format": "json",
        "items": out.items.len(),
        "released": review.released.len(),
        "sha256": hex::encode(Sha256::digest(&bytes)),
    });
    let case = review.request.case_id;
    save_recorded(path, &bytes, || {
        vault.record_event(
            waymark_vault::audit::AuditAction::Export,
            Some(RecordKind::Case),
            Some(case.as_uuid()),
            Some(case),
            detail,
        )?;
        Ok(())
    })
}

/// The quarterly return as a table for the commissioner's own spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    Csv,
    Xlsx,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Xlsx => "xlsx",
        }
    }
}

/// This laptop's quarterly return for `quarter`, counted now.
pub fn quarterly_return(
    vault: &Vault,
    quarter: waymark_domain::report::Quarter,
) -> Result<waymark_domain::report::QuarterlyReturn> {
    Ok(waymark_domain::report::quarterly_return(&vault.return_facts()?, quarter, vault.today(), &vault.rules().report))
}

/// Saves this laptop's quarterly return as CSV or a workbook where the user
/// chose, recorded as an export (the quarter, the format and the file's
/// SHA-256; the figures are counts and name no one). Returns the file name
/// it would be offered under.
pub fn save_return_table(
    vault: &mut Vault,
    quarter: waymark_domain::report::Quarter,
    format: TableFormat,
    path: &Path,
) -> Result<String> {
    let report = quarterly_return(vault, quarter)?;
    let internal = |_| PrintError::Internal { what: "the return's table" };
    let bytes = match format {
        TableFormat::Csv => waymark_report::csv(&report).map_err(internal)?,
        TableFormat::Xlsx => waymark_report::xlsx(&report, vault.now()).map_err(internal)?,
    };
    let detail = serde_json::json!({
        "document": DocumentKind::QuarterlyReturn.wire(),
        "quarter": quarter.wire(),
        "format": format.extension(),
        "sha256": hex::encode(Sha256::digest(&bytes)),
    });
    save_recorded(path, &bytes, || {
        vault.record_event(waymark_vault::audit::AuditAction::Export, None, None, None, detail)?;
        Ok(())
    })?;
    tracing::info!(format = format.extension(), "quarterly return exported");
    Ok(waymark_report::file_name(&report, format.extension()))
}
