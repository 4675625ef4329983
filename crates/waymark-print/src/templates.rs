//! The template set: the shipped `assets/templates/` files, each of which a
//! service may replace by putting a file of the same name in its own folder.
//! Wording, the service's name and its logo change without a new build.

use crate::error::{PrintError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The shipped templates, compiled in so the binary prints wherever it runs.
const SHIPPED: [(&str, &[u8]); 7] = [
    ("common.typ", include_bytes!("../../../assets/templates/common.typ")),
    ("safety-plan.typ", include_bytes!("../../../assets/templates/safety-plan.typ")),
    ("chronology.typ", include_bytes!("../../../assets/templates/chronology.typ")),
    ("hearings.typ", include_bytes!("../../../assets/templates/hearings.typ")),
    ("service.toml", include_bytes!("../../../assets/templates/service.toml")),
    ("discreet.toml", include_bytes!("../../../assets/templates/discreet.toml")),
    ("logo.svg", include_bytes!("../../../assets/templates/logo.svg")),
];

/// Files a service may add beside the shipped ones (a logo in another format).
const EXTRA_EXTENSIONS: [&str; 4] = ["svg", "png", "jpg", "jpeg"];

/// Largest file a service folder may contribute; a logo is far smaller.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Templates {
    files: BTreeMap<String, Vec<u8>>,
    discreet: DiscreetRules,
    /// Names of the files that came from the service's folder, for `doctor`-style reports.
    replaced: Vec<String>,
}

/// What a discreet printout must never show, from `discreet.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscreetRules {
    /// The neutral title printed on a discreet plan.
    pub title: String,
    /// Words and phrases that must not appear anywhere in a discreet plan. Matched
    /// case-insensitively on whole words; the last word also matches as a prefix,
    /// so "stalk" catches "stalking" and "stalker".
    pub forbidden: Vec<String>,
    /// Neutral wording for who does an action ("advocate" becomes "my support worker").
    #[serde(default)]
    pub who: BTreeMap<String, String>,
}

impl Templates {
    /// The shipped set alone.
    pub fn shipped() -> Result<Self> {
        let files = SHIPPED.iter().map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec())).collect();
        Self::from_files(files, Vec::new())
    }

    /// The shipped set with any same-named file (and any logo image) from `dir`
    /// put in its place. A missing folder means the shipped set.
    pub fn with_overrides(dir: &Path) -> Result<Self> {
        let mut files: BTreeMap<String, Vec<u8>> = SHIPPED.iter().map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec())).collect();
        let mut replaced = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Self::from_files(files, replaced),
            Err(_) => return Err(PrintError::TemplatesUnreadable { file: dir.display().to_string() }),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let extension = name.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
            let known = files.contains_key(&name) || EXTRA_EXTENSIONS.contains(&extension.as_str());
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if !known || !is_file {
                continue;
            }
            let too_big = entry.metadata().map(|m| m.len() > MAX_FILE_BYTES).unwrap_or(true);
            if too_big {
                return Err(PrintError::TemplatesUnreadable { file: name });
            }
            let bytes = std::fs::read(entry.path()).map_err(|_| PrintError::TemplatesUnreadable { file: name.clone() })?;
            files.insert(name.clone(), bytes);
            replaced.push(name);
        }
        Self::from_files(files, replaced)
    }

    fn from_files(files: BTreeMap<String, Vec<u8>>, replaced: Vec<String>) -> Result<Self> {
        let discreet_text = std::str::from_utf8(files.get("discreet.toml").map(Vec::as_slice).unwrap_or_default())
            .map_err(|_| PrintError::TemplatesUnreadable { file: "discreet.toml".into() })?;
        let discreet: DiscreetRules =
            toml::from_str(discreet_text).map_err(|_| PrintError::TemplatesUnreadable { file: "discreet.toml".into() })?;
        if discreet.title.trim().is_empty() || discreet.forbidden.iter().all(|w| w.trim().is_empty()) {
            return Err(PrintError::TemplatesUnreadable { file: "discreet.toml".into() });
        }
        Ok(Self { files, discreet, replaced })
    }

    /// Adds or replaces a Typst document in memory (benchmarks and tests).
    /// Only `.typ` files: the discreet rules are checked when the set is built.
    pub fn with_document(mut self, name: &str, source: &str) -> Self {
        if name.ends_with(".typ") {
            self.files.insert(name.to_owned(), source.as_bytes().to_vec());
        }
        self
    }

    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(n, b)| (n.as_str(), b.as_slice()))
    }

    pub fn discreet(&self) -> &DiscreetRules {
        &self.discreet
    }

    pub fn replaced(&self) -> &[String] {
        &self.replaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_discreet_rules_cover_the_words_domain_md_names() {
        // domain.md and the print issue name these words; a shipped list without them is unsafe.
        let rules = Templates::shipped().unwrap().discreet().clone();
        for word in ["stalking", "stalker", "harassment", "safety plan", "advocate", "perpetrator"] {
            assert!(rules.forbidden.iter().any(|f| word.starts_with(&f.to_lowercase())), "the shipped avoid list misses {word}");
        }
        assert_eq!(rules.title, "My plan");
    }

    #[test]
    fn a_service_file_replaces_the_shipped_one_and_unknown_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("service.toml"), "name = \"Riverside Support\"\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let set = Templates::with_overrides(dir.path()).unwrap();
        assert_eq!(set.file("service.toml").unwrap(), b"name = \"Riverside Support\"\n");
        assert!(set.file("notes.txt").is_none());
        assert_eq!(set.replaced(), ["service.toml"]);
        assert!(set.file("safety-plan.typ").is_some(), "unreplaced files stay shipped");
    }

    #[test]
    fn an_empty_avoid_list_is_refused() {
        // A service that blanks the list would silently lose the discreet check.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("discreet.toml"), "title = \"My plan\"\nforbidden = []\n").unwrap();
        let err = Templates::with_overrides(dir.path()).unwrap_err();
        assert!(matches!(err, PrintError::TemplatesUnreadable { ref file } if file == "discreet.toml"));
    }
}
