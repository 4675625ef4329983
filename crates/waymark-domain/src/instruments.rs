//! Risk instruments are data: `assets/instruments/*.toml`. A licensed
//! service can replace the wording without a build.

use crate::vocab::{Answer, RiskLevel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SHIPPED: [(&str, &str); 4] = [
    ("dash.toml", include_str!("../../../assets/instruments/dash.toml")),
    ("s-dash.toml", include_str!("../../../assets/instruments/s-dash.toml")),
    ("srp.toml", include_str!("../../../assets/instruments/srp.toml")),
    ("four.toml", include_str!("../../../assets/instruments/four.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Yes / no / not known, counted.
    YesNo,
    /// Low / moderate / high, judged per domain.
    Rating,
}

impl Scale {
    pub fn accepts(self, answer: Answer) -> bool {
        match self {
            Scale::YesNo => matches!(answer, Answer::Yes | Answer::No | Answer::NotKnown),
            Scale::Rating => matches!(answer, Answer::Low | Answer::Moderate | Answer::High),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
}

/// A count of "yes" at or above `min_yes` suggests at least `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min_yes: u32,
    pub level: RiskLevel,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    pub id: String,
    pub name: String,
    pub version: String,
    pub scale: Scale,
    #[serde(default)]
    pub bands: Vec<Band>,
    pub questions: Vec<Question>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    #[error("instrument file {file} is not valid: {reason}")]
    Invalid { file: String, reason: String },
}

impl Instrument {
    pub fn from_toml(file: &str, text: &str) -> Result<Self, InstrumentError> {
        let invalid = |reason: String| InstrumentError::Invalid { file: file.to_owned(), reason };
        let instrument: Instrument = toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
        let mut ids: Vec<&str> = instrument.questions.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != instrument.questions.len() {
            return Err(invalid("two questions share an id".into()));
        }
        if instrument.questions.is_empty() {
            return Err(invalid("it has no questions".into()));
        }
        if instrument.scale == Scale::Rating && !instrument.bands.is_empty() {
            return Err(invalid("a rating instrument cannot have yes-count bands".into()));
        }
        Ok(instrument)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The level the count alone suggests, if the instrument has bands.
    pub fn suggested_level(&self, yes_count: u32) -> Option<RiskLevel> {
        self.bands.iter().filter(|b| yes_count >= b.min_yes).map(|b| b.level).max()
    }
}

/// The instruments a vault knows, by id.
#[derive(Debug, Clone, Default)]
pub struct Instruments(BTreeMap<String, Instrument>);

impl Instruments {
    pub fn shipped() -> Self {
        let mut set = Self::default();
        for (file, text) in SHIPPED {
            // Checked by a unit test; a broken shipped file is a build defect.
            let instrument = Instrument::from_toml(file, text).unwrap_or_else(|e| panic!("{e}"));
            set.insert(instrument);
        }
        set
    }
    /// Adds or replaces (a service's own file replaces the shipped one with the same id).
    pub fn insert(&mut self, instrument: Instrument) {
        self.0.insert(instrument.id.clone(), instrument);
    }
    pub fn get(&self, id: &str) -> Option<&Instrument> {
        self.0.get(id)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.0.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_instruments_have_the_documented_shape() {
        // domain.md: S-DASH has eleven questions and no cut-off; DASH has 27 with 14 as the MARAC threshold.
        let set = Instruments::shipped();
        let sdash = set.get("s-dash").unwrap();
        assert_eq!(sdash.questions.len(), 11);
        assert_eq!(sdash.suggested_level(11), None);
        let dash = set.get("dash").unwrap();
        assert_eq!(dash.questions.len(), 27);
        assert_eq!(dash.suggested_level(13), None);
        assert_eq!(dash.suggested_level(14), Some(RiskLevel::High));
        let srp = set.get("srp").unwrap();
        assert_eq!(srp.scale, Scale::Rating);
        assert_eq!(srp.questions.len(), 4);
        // The chronology prints the FOUR markers by these ids.
        let four = set.get("four").unwrap();
        let ids: Vec<&str> = four.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["fixated", "obsessive", "unwanted", "repeated"]);
        assert_eq!(four.scale, Scale::YesNo);
    }

    #[test]
    fn a_replacement_file_changes_wording_and_threshold() {
        let (_, text) = SHIPPED[0];
        let edited = text
            .replace("min_yes = 14", "min_yes = 12")
            .replace("Did the current incident cause an injury?", "Licensed wording");
        let mut set = Instruments::shipped();
        set.insert(Instrument::from_toml("dash.toml", &edited).unwrap());
        let dash = set.get("dash").unwrap();
        assert_eq!(dash.suggested_level(12), Some(RiskLevel::High));
        assert_eq!(dash.question("d1").unwrap().text, "Licensed wording");
    }

    #[test]
    fn duplicate_question_ids_are_refused() {
        let text = "id='x'\nname='x'\nversion='1'\nscale='yes_no'\n[[questions]]\nid='a'\ntext='1'\n[[questions]]\nid='a'\ntext='2'\n";
        let err = Instrument::from_toml("x.toml", text).unwrap_err().to_string();
        assert!(err.contains("share an id"), "{err}");
    }
}
