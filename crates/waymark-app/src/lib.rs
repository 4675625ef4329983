//! What the desktop app does, as plain Rust: the vault session (locked or
//! unlocked), the screen models the UI shows, and the forms it sends back.
//!
//! The Tauri shell calls one method here per command and nothing else, so
//! every behaviour of the app can be tested without a window. This crate
//! knows no UI toolkit; its types carry `specta::Type` so the shell can
//! generate TypeScript from them.

mod access;
mod desk;
mod error;
mod printing;
mod reporting;
mod strength;
mod syncing;
mod views;

pub use access::AccessSaved;
pub use desk::{Desk, EnvFactory, Settings};
pub use error::{DeskError, Result};
pub use printing::{PrintDone, PrintForm, PrintPreview};
pub use reporting::ReturnSaved;
pub use strength::{passphrase_strength, rate_passphrase, Strength};
pub use syncing::{SyncView, UpdateSource};
pub use views::*;
pub use waymark_domain::access::{AccessItem, AccessRequest, AccessReview, AccessSubject};
pub use waymark_domain::report::{Quarter, QuarterlyReturn};
pub use waymark_print::{Destination, DocumentKind, TableFormat};
pub use waymark_vault::sync::{Conflict, PendingOp, Problem, Resolution, SyncStatus};

#[cfg(test)]
mod tests;
