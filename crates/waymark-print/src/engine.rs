//! The printouts typeset through `waymark-typeset` (shared with the clinic's
//! minutes), with the vault's templates and the print crate's errors.

use crate::error::{PrintError, Result};
use crate::templates::Templates;
use chrono::{DateTime, Utc};
pub use waymark_typeset::{body_text_pt, has_images, page_texts, Compiled, Engine};
use waymark_typeset::{Document, TypesetError};

impl From<TypesetError> for PrintError {
    fn from(e: TypesetError) -> Self {
        match e {
            TypesetError::Template { file, line } => PrintError::Template { file, line },
            TypesetError::Internal { what } => PrintError::Internal { what },
        }
    }
}

/// Compiles `main` from `templates` with `data`; see `Engine::compile`.
pub fn compile(
    engine: &Engine,
    templates: &Templates,
    main: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
    neutral: bool,
) -> Result<Compiled> {
    Ok(engine.compile(templates.files(), main, data, now, neutral)?)
}

/// Renders each page to PNG at `pixels_per_point` for an on-screen preview.
pub fn page_images(document: &Document, pixels_per_point: f32) -> Result<Vec<Vec<u8>>> {
    Ok(waymark_typeset::page_images(document, pixels_per_point)?)
}
