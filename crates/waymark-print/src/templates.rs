//! The template set: the shipped `assets/templates/` files, each of which a
//! service may replace by putting a file of the same name in its own folder.
//! Wording, the service's name and its logo change without a new build.

use crate::error::{PrintError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The shipped templates, compiled in so the binary prints wherever it runs.
const SHIPPED: [(&str, &[u8]); 9] = [
    ("common.typ", include_bytes!("../../../assets/templates/common.typ")),
    ("safety-plan.typ", include_bytes!("../../../assets/templates/safety-plan.typ")),
    ("chronology.typ", include_bytes!("../../../assets/templates/chronology.typ")),
    ("hearings.typ", include_bytes!("../../../assets/templates/hearings.typ")),
    waymark_report::subject_access::TEMPLATE,
    waymark_report::TEMPLATE,
    ("service.toml", include_bytes!("../../../assets/templates/service.toml")),
    ("discreet.toml", SHIPPED_DISCREET),
    ("logo.svg", include_bytes!("../../../assets/templates/logo.svg")),
];

const SHIPPED_DISCREET: &[u8] = include_bytes!("../../../assets/templates/discreet.toml");

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

/// What a discreet printout must never show: the shipped `discreet.toml`
/// with a service's own file laid over it.
#[derive(Debug, Clone)]
pub struct DiscreetRules {
    /// The neutral title printed on a discreet plan.
    pub title: String,
    /// Words and phrases that must not appear anywhere in a discreet plan:
    /// the shipped list, plus the service's, less what the service removed.
    /// Matched on whole words as a reader sees them; the last word also
    /// matches as a prefix, so "stalk" catches "stalking" and "stalker".
    pub forbidden: Vec<String>,
    /// Shipped words the service's file removed (`remove_shipped`); every
    /// discreet print records them in its audit event.
    pub removed_shipped: Vec<String>,
    /// Neutral wording for who does an action ("advocate" becomes "my support worker"),
    /// by the lower-case "who" the advocate entered.
    pub who: BTreeMap<String, String>,
    /// What a "who" not in `who` prints as, rather than the words typed.
    pub who_other: String,
}

/// `discreet.toml` as written. In a service's file every key is optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscreetFile {
    title: Option<String>,
    #[serde(default)]
    forbidden: Vec<String>,
    /// Shipped words to stop refusing. Explicit, and recorded with each discreet print.
    #[serde(default)]
    remove_shipped: Vec<String>,
    #[serde(default)]
    who: BTreeMap<String, String>,
    who_other: Option<String>,
}

impl DiscreetRules {
    /// The shipped rules with a service's file (if any) laid over them: its
    /// words add to the avoid list, and a shipped word goes only when named in
    /// `remove_shipped`.
    fn layered(shipped: &str, service: Option<&str>) -> Result<Self> {
        let unreadable = || PrintError::TemplatesUnreadable { file: "discreet.toml".into() };
        let base: DiscreetFile = toml::from_str(shipped).map_err(|_| unreadable())?;
        let over: Option<DiscreetFile> = service.map(toml::from_str).transpose().map_err(|_| unreadable())?;
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        let mut rules = Self {
            title: base.title.ok_or_else(unreadable)?,
            forbidden: base.forbidden,
            removed_shipped: Vec::new(),
            who: base.who.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
            who_other: base.who_other.ok_or_else(unreadable)?,
        };
        if let Some(over) = over {
            for word in &over.remove_shipped {
                // A removal that names no shipped word is a mistake worth stopping on.
                let position = rules.forbidden.iter().position(|f| same(f, word)).ok_or_else(unreadable)?;
                rules.removed_shipped.push(rules.forbidden.remove(position));
            }
            for word in over.forbidden {
                if !rules.forbidden.iter().any(|f| same(f, &word)) {
                    rules.forbidden.push(word);
                }
            }
            rules.title = over.title.unwrap_or(rules.title);
            rules.who.extend(over.who.into_iter().map(|(k, v)| (k.to_lowercase(), v)));
            rules.who_other = over.who_other.unwrap_or(rules.who_other);
        }
        if rules.title.trim().is_empty()
            || rules.who_other.trim().is_empty()
            || rules.forbidden.iter().all(|w| w.trim().is_empty())
        {
            return Err(unreadable());
        }
        Ok(rules)
    }
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
        let mut files: BTreeMap<String, Vec<u8>> =
            SHIPPED.iter().map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec())).collect();
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
            let bytes =
                std::fs::read(entry.path()).map_err(|_| PrintError::TemplatesUnreadable { file: name.clone() })?;
            files.insert(name.clone(), bytes);
            replaced.push(name);
        }
        Self::from_files(files, replaced)
    }

    fn from_files(files: BTreeMap<String, Vec<u8>>, replaced: Vec<String>) -> Result<Self> {
        let unreadable = || PrintError::TemplatesUnreadable { file: "discreet.toml".into() };
        let shipped = std::str::from_utf8(SHIPPED_DISCREET).map_err(|_| unreadable())?;
        let service = if replaced.iter().any(|n| n == "discreet.toml") {
            Some(
                std::str::from_utf8(files.get("discreet.toml").map(Vec::as_slice).unwrap_or_default())
                    .map_err(|_| unreadable())?,
            )
        } else {
            None
        };
        let discreet = DiscreetRules::layered(shipped, service)?;
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
        // The security review's list: words a perpetrator would recognise.
        let recognised = [
            "victim",
            "abuse",
            "domestic abuse",
            "refuge",
            "marac",
            "mappa",
            "clinic",
            "protection order",
            "restraining order",
            "non-molestation",
        ];
        let guard = crate::guard::Guard::new(&rules, None, None, &[]);
        for word in ["stalking", "stalker", "harassment", "safety plan", "advocate", "perpetrator"]
            .into_iter()
            .chain(recognised)
        {
            assert!(
                guard.first_exposure(&format!("about the {word} today")).is_some(),
                "the shipped avoid list misses {word}"
            );
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
    fn a_service_avoid_list_adds_to_the_shipped_one() {
        // A one-word service list used to replace the shipped list, and the discreet check with it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("discreet.toml"), "forbidden = [\"Hillside station\"]\n").unwrap();
        let rules = Templates::with_overrides(dir.path()).unwrap().discreet().clone();
        assert!(rules.forbidden.iter().any(|w| w == "Hillside station"));
        assert!(rules.forbidden.iter().any(|w| w == "stalk"), "the shipped words stay");
        assert!(rules.removed_shipped.is_empty());
        assert_eq!(rules.title, "My plan", "an unset title keeps the shipped one");
    }

    #[test]
    fn removing_a_shipped_word_is_explicit_and_recorded_and_a_bad_removal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("discreet.toml"), "remove_shipped = [\"Clinic\"]\nforbidden = []\n").unwrap();
        let rules = Templates::with_overrides(dir.path()).unwrap().discreet().clone();
        assert!(!rules.forbidden.iter().any(|w| w.eq_ignore_ascii_case("clinic")));
        assert_eq!(rules.removed_shipped, ["clinic"]);
        std::fs::write(dir.path().join("discreet.toml"), "remove_shipped = [\"no such word\"]\n").unwrap();
        let err = Templates::with_overrides(dir.path()).unwrap_err();
        assert!(matches!(err, PrintError::TemplatesUnreadable { ref file } if file == "discreet.toml"));
    }
}
