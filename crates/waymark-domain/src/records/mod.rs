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

/// A service's rules and instruments: the shipped ones with the service's own
/// files laid over them. The laptop reads them from its vault folder and the
/// clinic from its own, so both judge a record by the same rules.
#[derive(Debug, Clone)]
pub struct ServiceRules {
    pub rules: Rules,
    pub instruments: Instruments,
}

impl ServiceRules {
    pub fn shipped() -> Self {
        ServiceRules { rules: Rules::shipped(), instruments: Instruments::shipped() }
    }

    /// From the text of a service's `rules.toml`, when it has one, and of its
    /// `instruments/*.toml` files as (file name, text), applied in name order.
    /// An error names the file, never its content.
    pub fn from_files(rules: Option<&str>, mut instruments: Vec<(String, String)>) -> Result<Self, ValidationErrors> {
        let rules = match rules {
            Some(text) => Rules::from_toml(text).map_err(|e| ValidationErrors::single("rules.toml", e.to_string()))?,
            None => Rules::shipped(),
        };
        let mut set = Instruments::shipped();
        instruments.sort();
        for (name, text) in instruments {
            let instrument = crate::instruments::Instrument::from_toml(&name, &text)
                .map_err(|e| ValidationErrors::single(name.clone(), e.to_string()))?;
            set.insert(instrument);
        }
        Ok(ServiceRules { rules, instruments: set })
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { rules: &self.rules, instruments: &self.instruments }
    }
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
pub(crate) mod escalation_review;
pub(crate) mod hearing;
pub(crate) mod incident;
pub(crate) mod order;
pub(crate) mod perpetrator;
pub(crate) mod referral;
pub(crate) mod risk;
pub(crate) mod safety_plan;
pub(crate) mod task;
#[cfg(test)]
pub(crate) mod tests;
pub(crate) mod victim;

pub use case::*;
pub use clinic_review::*;
pub use contact::*;
pub use escalation_review::*;
pub use hearing::*;
pub use incident::*;
pub use order::*;
pub use perpetrator::*;
pub use referral::*;
pub use risk::*;
pub use safety_plan::*;
pub use task::*;
pub use victim::*;
