//! The commissioner's quarterly return for this laptop's caseload: its
//! figures for the screen, and the table saved as CSV or a workbook where
//! the advocate chooses in the save dialog (the PDF goes through printing,
//! like any printout). Every saved file is recorded in the audit trail.

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use waymark_domain::codes::ErrorCode;
use waymark_domain::report::{Quarter, QuarterlyReturn};
use waymark_print::TableFormat;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ReturnSaved {
    pub format: TableFormat,
}

impl Desk {
    /// The return for `quarter`, or for the last full quarter.
    pub fn quarterly_return(&self, quarter: Option<Quarter>) -> Result<QuarterlyReturn> {
        self.with_vault(|vault| {
            let quarter = quarter.unwrap_or_else(|| Quarter::containing(vault.today()).previous());
            Ok(waymark_print::quarterly_return(vault, quarter)?)
        })
    }

    /// Asks where to save (`ask` opens the save dialog with the suggested
    /// name; `None` is cancel) and saves the table there.
    pub fn quarterly_return_save_asking(
        &self,
        quarter: Quarter,
        format: TableFormat,
        ask: impl Fn(String) -> Option<PathBuf>,
    ) -> Result<Option<ReturnSaved>> {
        let suggested = format!("quarterly-return-{}-caseload.{}", quarter.wire(), format.extension());
        let Some(path) = ask(suggested) else { return Ok(None) };
        self.quarterly_return_save(quarter, format, &path).map(Some)
    }

    pub fn quarterly_return_save(&self, quarter: Quarter, format: TableFormat, path: &Path) -> Result<ReturnSaved> {
        let path = chosen_path(path, format.extension())?;
        self.with_vault(|vault| {
            waymark_print::save_return_table(vault, quarter, format, &path)?;
            Ok(ReturnSaved { format })
        })
    }
}

/// The path to save at: full, and with the extension the file will have. A
/// name given without it gets it, and must not then name a file already there,
/// since the save dialog asked about replacing the name as typed.
pub(crate) fn chosen_path(path: &Path, extension: &str) -> Result<PathBuf> {
    let mut path = path.to_path_buf();
    if !path.is_absolute() {
        return Err(DeskError::field("path", "must be a full path to a file; choose where to save it"));
    }
    if path.extension().is_none_or(|e| !e.eq_ignore_ascii_case(extension)) {
        path.set_extension(extension);
        if path.exists() {
            return Err(DeskError::new(
                ErrorCode::FileExists,
                "A file with that name already exists there, and nothing was saved. Choose another name, or choose the existing file to replace it.",
            ));
        }
    }
    Ok(path)
}
