//! Every entity of `shared/domain.md`, as typed records. Each record is also
//! stored as a JSON document, so field names here are the wire and storage
//! names too: renaming one needs a migration.

use crate::ids::*;
use crate::instruments::{Instruments, Scale};
use crate::rules::Rules;
use crate::validation::{Checker, ValidationErrors};
use crate::vocab::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What validation may consult besides the record itself.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub rules: &'a Rules,
    pub instruments: &'a Instruments,
}

fn yes() -> bool {
    true
}

/// Whether no two entries of a list share an id (entries not yet given one are not compared).
fn distinct(ids: impl Iterator<Item = Option<uuid::Uuid>>) -> bool {
    let mut seen = std::collections::HashSet::new();
    ids.flatten().all(|id| seen.insert(id))
}

pub(crate) mod case;
pub(crate) mod clinic_review;
pub(crate) mod contact;
pub(crate) mod hearing;
pub(crate) mod incident;
pub(crate) mod order;
pub(crate) mod perpetrator;
pub(crate) mod referral;
pub(crate) mod risk;
pub(crate) mod safety_plan;
pub(crate) mod task;
#[cfg(test)]
mod tests;
pub(crate) mod victim;

pub use case::*;
pub use clinic_review::*;
pub use contact::*;
pub use hearing::*;
pub use incident::*;
pub use order::*;
pub use perpetrator::*;
pub use referral::*;
pub use risk::*;
pub use safety_plan::*;
pub use task::*;
pub use victim::*;
