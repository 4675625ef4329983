//! Waymark's record model: types, enumerations, validation and rules.
//!
//! This crate does no I/O. Time and randomness are passed in. Errors name a
//! field and a rule and never carry the value, so they are safe to show and log.

pub mod access;
pub mod alerts;
pub mod canonical;
pub mod codes;
pub mod disclosure;
pub mod escalation;
pub mod hlc;
pub mod ids;
pub mod instruments;
pub mod intake;
pub mod merge;
pub mod panel;
pub mod passphrase;
pub mod patch;
pub mod patterns;
pub mod record;
pub mod records;
pub mod reminders;
pub mod report;
pub mod retention;
pub mod rules;
pub mod time;
pub mod timeline;
pub mod validation;
pub mod vocab;

pub use ids::*;
pub use record::{Entity, Record, RecordKind, Reference};
pub use records::*;
pub use validation::{FieldError, ValidationErrors};
pub use vocab::*;
