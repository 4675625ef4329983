//! Print from the app: render to a preview held in memory, then save to the
//! file the user chose or hand the preview to the system print dialog. No
//! copy is written anywhere else, locking drops the held document, and each
//! save or print is recorded in the audit trail.

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use waymark_domain::codes::ErrorCode;
use waymark_domain::CaseId;
use waymark_print::{Destination, DocumentKind, Options, Prepared, Printer, Request, Templates};

/// Preview pages are drawn at this many pixels per point: sharp on screen
/// and, through the print dialog, about 216 dots per inch on paper.
const PREVIEW_PIXELS_PER_POINT: f32 = 3.0;
const DEFAULT_HEARINGS: u32 = 20;
const MAX_HEARINGS: u32 = 200;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct PrintForm {
    pub document: DocumentKind,
    /// Required for the safety plan and chronology; for hearings, one case or (none) the caseload.
    pub case_id: Option<CaseId>,
    /// A safety plan version; the latest when empty.
    pub version: Option<u32>,
    pub discreet: bool,
    pub large_print: bool,
    /// How many hearings (hearing list only).
    pub limit: Option<u32>,
    /// The advocate saw the "address in the text" warning and prints anyway (audited).
    #[serde(default)]
    pub address_confirmed: bool,
    /// The quarter a quarterly return counts (the return only).
    #[serde(default)]
    pub quarter: Option<waymark_domain::report::Quarter>,
    /// The subject access request whose answer this is (that answer only).
    #[serde(default)]
    pub request: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PrintPreview {
    pub document: DocumentKind,
    pub discreet: bool,
    pub large_print: bool,
    /// Each page as a PNG data URL.
    pub pages: Vec<String>,
    /// A suggested file name with no personal data in it.
    pub file_name: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PrintDone {
    pub pages: u32,
    pub destination: Destination,
}

/// The engine (kept warm between prints) and the document being previewed.
#[derive(Default)]
pub(crate) struct PrintState {
    printer: Option<Printer>,
    held: Option<Prepared>,
}

impl std::fmt::Debug for PrintState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrintState").field("holding", &self.held.is_some()).finish()
    }
}

impl PrintState {
    /// Drops the previewed document, as locking must.
    pub(crate) fn clear(&mut self) {
        self.held = None;
    }
}

fn request_for(form: &PrintForm) -> Result<Request> {
    let case = || form.case_id.ok_or_else(|| DeskError::field("case_id", "is required: choose the case to print"));
    Ok(match form.document {
        DocumentKind::SafetyPlan => Request::SafetyPlan { case: case()?, version: form.version },
        DocumentKind::Chronology => Request::Chronology { case: case()? },
        DocumentKind::Hearings => {
            let limit = form.limit.unwrap_or(DEFAULT_HEARINGS);
            if !(1..=MAX_HEARINGS).contains(&limit) {
                return Err(DeskError::field("limit", "must be between 1 and 200 hearings"));
            }
            Request::Hearings { case: form.case_id, limit }
        }
        DocumentKind::QuarterlyReturn => Request::QuarterlyReturn {
            quarter: form.quarter.ok_or_else(|| DeskError::field("quarter", "is required: choose the quarter"))?,
        },
        DocumentKind::SubjectAccess => Request::SubjectAccess {
            request: form.request.ok_or_else(|| DeskError::field("request", "is required: choose the request"))?,
        },
    })
}

fn done(prepared: &Prepared, destination: Destination) -> PrintDone {
    PrintDone { pages: u32::try_from(prepared.pages()).unwrap_or(u32::MAX), destination }
}

impl Desk {
    /// Renders the document and keeps it for saving or printing. Templates are
    /// read afresh each time, so a service's edit shows without a restart.
    pub fn print_preview(&self, form: PrintForm) -> Result<PrintPreview> {
        let request = request_for(&form)?;
        let options = Options {
            discreet: form.discreet,
            large_print: form.large_print,
            address_confirmed: form.address_confirmed,
        };
        let templates = Templates::with_overrides(&self.dir().join("templates"))?;
        self.with_vault(|vault| {
            let mut state = self.print_state();
            state.held = None;
            let printer = match state.printer.take() {
                Some(mut printer) => {
                    printer.set_templates(templates)?;
                    printer
                }
                None => Printer::new(templates)?,
            };
            let prepared = printer.prepare(vault, &request, options);
            state.printer = Some(printer);
            let prepared = prepared?;
            let images = prepared.page_images(PREVIEW_PIXELS_PER_POINT)?;
            let pages = images
                .iter()
                .map(|png| format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
                .collect();
            let preview = PrintPreview {
                document: prepared.kind,
                discreet: options.discreet,
                large_print: options.large_print,
                pages,
                file_name: prepared.file_name.clone(),
            };
            state.held = Some(prepared);
            Ok(preview)
        })
    }

    /// Asks where to save (`ask` opens the save dialog with a suggested name;
    /// `None` is cancel) and saves there. When the dialog's name lacked
    /// ".pdf" and that file exists, the dialog never asked about replacing
    /// it, so it is opened again with the full name, once.
    pub fn print_save_asking(
        &self,
        file_name: String,
        ask: impl Fn(String) -> Option<PathBuf>,
    ) -> Result<Option<PrintDone>> {
        let Some(path) = ask(file_name) else { return Ok(None) };
        match self.print_save(&path) {
            Err(e) if e.code == ErrorCode::FileExists => {
                let name = path
                    .with_extension("pdf")
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ask(name).map(|again| self.print_save(&again)).transpose()
            }
            other => other.map(Some),
        }
    }

    /// Saves the previewed document to the path the user chose in the save dialog.
    pub fn print_save(&self, path: &Path) -> Result<PrintDone> {
        let mut path = path.to_path_buf();
        if !path.is_absolute() {
            return Err(DeskError::field("path", "must be a full path to a file; choose where to save it"));
        }
        if path.extension().is_none_or(|e| !e.eq_ignore_ascii_case("pdf")) {
            path.set_extension("pdf");
            // The save dialog asked about replacing the name as typed, not this one.
            if path.exists() {
                return Err(DeskError::new(
                    ErrorCode::FileExists,
                    "A file with that name and .pdf already exists there, and nothing was saved. Choose another name, or choose the existing file to replace it.",
                ));
            }
        }
        self.with_vault(|vault| {
            let state = self.print_state();
            let prepared = state.held.as_ref().ok_or_else(nothing_held)?;
            waymark_print::save(vault, prepared, &path)?;
            Ok(done(prepared, Destination::File))
        })
    }

    /// Records that the previewed document goes to the system print dialog,
    /// before the UI opens it.
    pub fn print_to_printer(&self) -> Result<PrintDone> {
        self.with_vault(|vault| {
            let state = self.print_state();
            let prepared = state.held.as_ref().ok_or_else(nothing_held)?;
            waymark_print::record_print(vault, prepared, Destination::Printer)?;
            Ok(done(prepared, Destination::Printer))
        })
    }

    /// Closes the preview and drops the document.
    pub fn print_close(&self) {
        self.print_state().clear();
    }
}

fn nothing_held() -> DeskError {
    DeskError::new(ErrorCode::NoPreview, "There is no print preview open. Choose Print again.")
}
