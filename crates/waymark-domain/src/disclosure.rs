//! Finding personal details in text the way a reader would see them. Used by
//! the discreet safety plan (an avoided word, the victim's address or a
//! perpetrator detail must not print), by the address guard on every free-text
//! field (the victim's address typed into notes), and by the clinic on what it
//! receives.
//!
//! Text is compared after folding: NFKC, lower case, the Unicode confusable
//! skeleton (UTS #39, which also drops invisible format characters such as
//! the soft hyphen and the zero-width space), and no combining marks. So
//! "stal\u{AD}king", "sta\u{200B}lker", a Cyrillic "ѕ" and "STÁLKER" all read
//! as the words a person would read. Street-type abbreviations are expanded
//! ("Cl" is "close"), house numbers are optional, and a postcode matches with
//! or without its space, in any case.

use crate::record::RecordKind;
use crate::records::Address;
use serde_json::Value;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// `text` as a reader sees it: see the module comment.
pub fn fold(text: &str) -> String {
    // Most text is ASCII: each byte folds on its own (NFKC leaves ASCII as it
    // is and it has no combining marks), from a table made once.
    if text.is_ascii() {
        static ASCII: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let table = ASCII.get_or_init(|| (0u8..128).map(|b| fold_any(&char::from(b).to_string())).collect());
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            out.push_str(&table[usize::from(byte.to_ascii_lowercase())]);
        }
        return out;
    }
    fold_any(text)
}

fn fold_any(text: &str) -> String {
    let lowered: String = text.nfkc().collect::<String>().to_lowercase();
    skeleton(&lowered).filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase()
}

/// The folded words of `text`, street-type abbreviations expanded. Anything
/// that is not a letter or digit after folding separates words.
pub fn words(text: &str) -> Vec<String> {
    folded_words(text).into_iter().map(|w| expand_abbreviation(&w).to_owned()).collect()
}

fn folded_words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Street types as people shorten them. Both sides of a comparison are
/// expanded, so "Larkspur Cl" matches "Larkspur Close".
const STREET_ABBREVIATIONS: [(&str, &str); 16] = [
    ("rd", "road"),
    ("st", "street"),
    ("cl", "close"),
    ("ave", "avenue"),
    ("av", "avenue"),
    ("ln", "lane"),
    ("dr", "drive"),
    ("cres", "crescent"),
    ("ct", "court"),
    ("pl", "place"),
    ("gdns", "gardens"),
    ("tce", "terrace"),
    ("terr", "terrace"),
    ("sq", "square"),
    ("gro", "grove"),
    ("pde", "parade"),
];

fn expand_abbreviation(word: &str) -> &str {
    // Folding maps some letters to look-alikes, so compare folded forms, folded once.
    static FOLDED: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    let table = FOLDED.get_or_init(|| STREET_ABBREVIATIONS.iter().map(|(short, long)| (fold(short), *long)).collect());
    table.iter().find(|(short, _)| short == word).map_or(word, |(_, long)| long)
}

/// Words of an address line that number a dwelling rather than name a street.
const DWELLING_WORDS: [&str; 7] = ["flat", "apartment", "apt", "unit", "house", "no", "number"];
/// Single name words shorter than this ("Al", "Jo") match too much ordinary text.
const MIN_NAME_WORD: usize = 3;
/// Words in a name record that identify nobody: titles, "unknown", and the
/// demo caseload's "(DEMO)" marker.
const NOT_IDENTIFYING: [&str; 9] = ["unknown", "demo", "mr", "mrs", "ms", "miss", "mx", "dr", "the"];
const MIN_PHONE_DIGITS: usize = 7;
/// A handle shorter than this ("jo") is ordinary text.
const MIN_HANDLE_CHARS: usize = 4;

/// Consecutive folded words to look for. With `stem`, the last word may be
/// the start of a longer one ("stalk" finds "stalking").
#[derive(Debug, Clone)]
struct Term {
    words: Vec<String>,
    stem: bool,
}

impl Term {
    fn found_in(&self, hay: &[String]) -> bool {
        if self.words.is_empty() || self.words.len() > hay.len() {
            return false;
        }
        hay.windows(self.words.len()).any(|window| {
            window.iter().zip(&self.words).enumerate().all(|(i, (h, n))| {
                if self.stem && i == self.words.len() - 1 {
                    h.starts_with(n.as_str())
                } else {
                    h == n
                }
            })
        })
    }
}

/// Looks for details in text; each detail carries a tag saying what it is.
#[derive(Debug, Clone)]
pub struct Finder<T> {
    terms: Vec<(T, Term)>,
    /// The national significant part of each phone number.
    phones: Vec<(T, String)>,
}

impl<T> Default for Finder<T> {
    fn default() -> Self {
        Self { terms: Vec::new(), phones: Vec::new() }
    }
}

impl<T: Clone> Finder<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.phones.is_empty()
    }

    fn push(&mut self, tag: &T, words: Vec<String>, stem: bool) {
        if !words.is_empty() {
            self.terms.push((tag.clone(), Term { words, stem }));
        }
    }

    /// A phrase, and the same words written with no space between them
    /// ("LarkspurClose", "LarkspurCl", "safetyplan"): its last word whole or
    /// in each of its abbreviations.
    fn push_phrase(&mut self, tag: &T, text: &str, stem: bool) {
        let spaced = words(text);
        if let Some((last, before)) = spaced.split_last().filter(|(_, before)| !before.is_empty()) {
            let mut joined = vec![spaced.concat()];
            let shorts = STREET_ABBREVIATIONS.iter().filter(|(_, long)| long == last).map(|(short, _)| fold(short));
            joined.extend(shorts.map(|short| before.concat() + &short));
            joined.dedup();
            for one in joined {
                self.push(tag, vec![one], stem);
            }
        }
        self.push(tag, spaced, stem);
    }

    /// A word or phrase; its last word also finds longer words it starts.
    pub fn add_stem(&mut self, tag: &T, phrase: &str) {
        self.push_phrase(tag, phrase, true);
    }

    /// A structured address: each street line with and without its house
    /// number, and the postcode with and without its space. A line of one
    /// word with no number (a town) is left out: it matches ordinary text.
    pub fn add_address(&mut self, tag: &T, address: &Address) {
        // A line typed as "14 Larkspur Close, Hillside" is two lines.
        for line in &address.lines {
            self.add_address_text(tag, line);
        }
        if let Some(postcode) = &address.postcode {
            self.add_postcode(tag, postcode);
        }
    }

    /// An address held as one piece of text ("22 Birch Road, Hillside, ZZ99 2BB").
    pub fn add_address_text(&mut self, tag: &T, text: &str) {
        for piece in text.split([',', '\n', ';']) {
            let raw = raw_words(piece);
            let split =
                (2..=raw.len()).rev().find(|&n| n <= 3 && postcode_parts(&raw[raw.len() - n..].concat()).is_some());
            match split {
                Some(n) => {
                    self.add_postcode(tag, &raw[raw.len() - n..].concat());
                    self.add_address_line(tag, &raw[..raw.len() - n].join(" "));
                }
                None if postcode_parts(&raw.concat()).is_some() => self.add_postcode(tag, &raw.concat()),
                None => self.add_address_line(tag, piece),
            }
        }
    }

    fn add_address_line(&mut self, tag: &T, line: &str) {
        let raw = raw_words(line);
        let dwelling =
            |w: &String| w.chars().any(|c| c.is_numeric()) || DWELLING_WORDS.contains(&w.to_lowercase().as_str());
        let street: Vec<&String> = raw.iter().skip_while(|w| dwelling(w)).collect();
        if street.len() >= 2 {
            self.push_phrase(tag, &street.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" "), false);
        } else if street.len() == 1 && raw.len() >= 2 {
            // "14 Larkspur" or "Flat 3 Larkspur": the street word alone is too common.
            self.push_phrase(tag, line, false);
        }
    }

    /// A UK postcode, matched joined or spaced; other text is matched as written.
    pub fn add_postcode(&mut self, tag: &T, postcode: &str) {
        match postcode_parts(&raw_words(postcode).concat()) {
            Some((outward, inward)) => {
                self.push(tag, words(&format!("{outward} {inward}")), false);
                self.push(tag, words(&format!("{outward}{inward}")), false);
            }
            None => self.push(tag, words(postcode), false),
        }
    }

    /// Each identifying word of a person's name on its own: a first name alone names them.
    pub fn add_name(&mut self, tag: &T, name: &str) {
        // Titles are left out before abbreviations expand: "Dr" is no "Drive".
        for part in folded_words(name) {
            if part.chars().count() >= MIN_NAME_WORD && !NOT_IDENTIFYING.iter().any(|w| fold(w) == part) {
                self.push(tag, vec![expand_abbreviation(&part).to_owned()], false);
            }
        }
    }

    /// A vehicle registration, spaced or joined.
    pub fn add_registration(&mut self, tag: &T, registration: &str) {
        let spaced = words(registration);
        let joined = vec![spaced.concat()];
        self.push(tag, spaced, false);
        self.push(tag, joined, false);
    }

    /// An online account: the handle at its end ("@darren_v", ".../darren.voss"),
    /// as its words and joined.
    pub fn add_handle(&mut self, tag: &T, account: &str) {
        let token = account
            .split_whitespace()
            .find(|t| t.contains('@') || t.contains('/'))
            .or_else(|| account.split_whitespace().next());
        let Some(token) = token else { return };
        let handle = token.trim_end_matches('/').rsplit('/').next().unwrap_or(token).trim_start_matches('@');
        let handle = handle.split('@').next().unwrap_or(handle);
        let spaced = words(handle);
        let joined = spaced.concat();
        if joined.chars().count() >= MIN_HANDLE_CHARS {
            if spaced.len() > 1 {
                self.push(tag, spaced, false);
            }
            self.push(tag, vec![joined], false);
        }
    }

    pub fn add_phone(&mut self, tag: &T, phone: &str) {
        let digits: String = phone.nfkc().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches("44").trim_start_matches('0').to_owned();
        if significant.len() >= MIN_PHONE_DIGITS {
            self.phones.push((tag.clone(), significant));
        }
    }

    /// The first detail `text` shows, in the order they were added.
    pub fn find(&self, text: &str) -> Option<&T> {
        let hay = words(text);
        if let Some((tag, _)) = self.terms.iter().find(|(_, term)| term.found_in(&hay)) {
            return Some(tag);
        }
        if self.phones.is_empty() {
            return None;
        }
        let digits = digit_runs(text);
        self.phones.iter().find(|(_, p)| digits.contains(p.as_str())).map(|(tag, _)| tag)
    }
}

impl Finder<()> {
    /// The address guard's finder: these addresses and nothing else.
    pub fn of_addresses<'a>(addresses: impl IntoIterator<Item = &'a Address>) -> Self {
        let mut finder = Finder::new();
        for address in addresses {
            finder.add_address(&(), address);
        }
        finder
    }
}

/// Words as typed (NFKC, no folding), for deciding what a house number is.
fn raw_words(text: &str) -> Vec<String> {
    let stripped: String = text.nfkc().filter(|c| !is_invisible(*c)).collect();
    stripped.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

fn is_invisible(c: char) -> bool {
    // No ASCII character is an invisible format character; most text is ASCII.
    !c.is_ascii() && fold(c.encode_utf8(&mut [0; 4])).is_empty()
}

/// A UK postcode's outward and inward codes ("ZZ99", "1AA"), from its letters
/// and digits with no space.
fn postcode_parts(compact: &str) -> Option<(String, String)> {
    let upper = compact.to_ascii_uppercase();
    let chars: Vec<char> = upper.chars().collect();
    if !(5..=7).contains(&chars.len()) || !chars.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let (outward, inward) = chars.split_at(chars.len() - 3);
    let inward_ok = inward[0].is_ascii_digit() && inward[1].is_ascii_alphabetic() && inward[2].is_ascii_alphabetic();
    let outward_ok = outward[0].is_ascii_alphabetic() && outward[1..].iter().any(char::is_ascii_digit);
    (inward_ok && outward_ok).then(|| (outward.iter().collect(), inward.iter().collect()))
}

/// Digits with the separators people put in phone numbers removed.
fn digit_runs(text: &str) -> String {
    let mut out = String::new();
    for c in text.nfkc().filter(|c| !is_invisible(*c)) {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '.' | '+') {
            out.push('|');
        }
    }
    out
}

/// The free-text fields of a record (by path) that show a detail `finder`
/// looks for, leaving out the fields its kind keeps an address in.
pub fn fields_showing<T: Clone>(finder: &Finder<T>, kind: RecordKind, doc: &Value) -> Vec<String> {
    if finder.is_empty() {
        return Vec::new();
    }
    text_fields(doc, kind.rules().address_fields)
        .into_iter()
        .filter(|(_, text)| finder.find(text).is_some())
        .map(|(path, _)| path)
        .collect()
}

/// Every piece of free text in a record's document, with the field path it
/// sits at ("account", "sections.2.actions.0.action"). Identifiers, dates,
/// codes and numbers cannot hold an address, so they are not listed; fields
/// the record kind keeps an address in on purpose (`skip`) are left out.
pub fn text_fields<'a>(doc: &'a Value, skip: &[&str]) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    collect(doc, &mut String::new(), skip, &mut out);
    out
}

fn collect<'a>(value: &'a Value, path: &mut String, skip: &[&str], out: &mut Vec<(String, &'a str)>) {
    if skip.contains(&path.as_str()) {
        return;
    }
    match value {
        Value::String(text) if looks_like_prose(text) => out.push((path.clone(), text.as_str())),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let before = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&index.to_string());
                collect(item, path, skip, out);
                path.truncate(before);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let before = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                collect(item, path, skip, out);
                path.truncate(before);
            }
        }
        _ => {}
    }
}

/// Ids, dates and instants hold no address; everything else is checked, as
/// "Larkspur-Close" or a full-width postcode is one word a person typed.
fn looks_like_prose(text: &str) -> bool {
    let identifier = uuid::Uuid::parse_str(text).is_ok()
        || chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    !identifier
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            lines: vec!["14 Larkspur Close".into(), "Hillside".into()],
            postcode: Some("ZZ99 1AA".into()),
            do_not_disclose: true,
        }
    }

    fn finder() -> Finder<&'static str> {
        let mut f = Finder::new();
        f.add_stem(&"avoided", "stalk");
        f.add_stem(&"avoided", "domestic abuse");
        f.add_address(&"address", &address());
        f.add_name(&"perpetrator", "Darren Voss");
        f.add_address_text(&"perpetrator", "22 Birch Road, Hillside, ZZ99 2BB");
        f.add_handle(&"perpetrator", "instagram.com/dv_88x/");
        f.add_handle(&"perpetrator", "@darren.v77");
        f.add_phone(&"perpetrator", "07700 900123");
        f
    }

    #[test]
    fn invisible_characters_confusables_and_accents_do_not_hide_a_word() {
        // Each of these prints as a readable "stalking" or "stalker".
        for disguised in [
            "stal\u{AD}king",
            "sta\u{200B}lker",
            "\u{0455}talker",
            "STÁLKER",
            "ｓｔａｌｋｅｒ",
            "st\u{200D}alk",
            "\u{1D42C}talk",
        ] {
            assert_eq!(finder().find(disguised), Some(&"avoided"), "{disguised:?} must be found");
        }
        assert_eq!(finder().find("domestic\u{2060} abuse"), Some(&"avoided"));
        assert_eq!(finder().find("a domesticabuse service"), Some(&"avoided"), "a missing space");
        assert_eq!(finder().find("a beanstalk"), None, "whole words only: beanstalk is not stalk");
    }

    #[test]
    fn a_street_is_found_with_or_without_its_number_and_a_postcode_with_or_without_its_space() {
        for mention in [
            "14 Larkspur Close",
            "larkspur close",
            "Larkspur Cl.",
            "zz991aa",
            "ZZ99 1AA",
            "zz99-1aa",
            "ZZ99\u{AD}1AA",
            "Larkspur-Close",
            "ＺＺ９９１ＡＡ",
            "LarkspurClose",
            "larkspurcl",
        ] {
            assert_eq!(finder().find(&format!("She moved to {mention} last week")), Some(&"address"), "{mention:?}");
        }
        assert_eq!(finder().find("Met at the Hillside library"), None, "the town alone is ordinary text");
        assert_eq!(finder().find("Larkspur is a flower"), None, "one street word alone is ordinary text");
    }

    #[test]
    fn perpetrator_addresses_accounts_and_phones_are_found() {
        assert_eq!(finder().find("seen outside Birch Rd"), Some(&"perpetrator"));
        assert_eq!(finder().find("post to ZZ992BB"), Some(&"perpetrator"));
        assert_eq!(finder().find("messages from dv_88x again"), Some(&"perpetrator"));
        assert_eq!(finder().find("DV88X followed her"), Some(&"perpetrator"), "the handle joined");
        assert_eq!(finder().find("account darren.v77"), Some(&"perpetrator"));
        assert_eq!(finder().find("ring +44 (0)7700 900\u{200B}123"), Some(&"perpetrator"));
        assert_eq!(finder().find("Ring 0808 802 0300 any time"), None);
    }

    #[test]
    fn text_fields_lists_every_typed_string_with_its_path_and_skips_address_fields_and_ids() {
        let doc = serde_json::json!({
            "id": "0190a8a0-0000-7000-8000-000000000001",
            "account": "He waited at the gate",
            "behaviours": ["following"],
            "address": {"lines": ["14 Larkspur Close"]},
            "sections": [{"actions": [{"action": "Move the car", "review_on": "2026-11-30"}]}],
        });
        let skip = ["address"];
        let found: Vec<String> = text_fields(&doc, &skip).into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["account", "behaviours.0", "sections.0.actions.0.action"]);
        // A street written as one word is still checked.
        let joined = serde_json::json!({"location": "Larkspur_Close"});
        let mut finder = Finder::new();
        finder.add_address(&(), &address());
        assert_eq!(fields_showing(&finder, RecordKind::Incident, &joined), ["location"]);
    }

    #[test]
    fn a_line_typed_with_its_town_still_finds_the_street_and_a_title_is_no_street() {
        let mut f = Finder::new();
        f.add_address(
            &"address",
            &Address { lines: vec!["14 Larkspur Close, Hillside".into()], postcode: None, do_not_disclose: true },
        );
        f.add_name(&"name", "Dr Voss");
        assert_eq!(f.find("near Larkspur Close"), Some(&"address"));
        assert_eq!(f.find("Take the second drive on the left"), None, "the title Dr is not the street type Drive");
        assert_eq!(f.find("Voss called"), Some(&"name"));
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_table_folds_as_the_full_fold_does(text in "[ -~]{0,40}") {
            // The fast path must never read text differently from the full one.
            proptest::prop_assert_eq!(fold(&text), fold_any(&text));
        }
    }

    #[test]
    fn postcode_parts_know_the_uk_shapes() {
        assert_eq!(postcode_parts("zz991aa"), Some(("ZZ99".into(), "1AA".into())));
        assert_eq!(postcode_parts("M11AE"), Some(("M1".into(), "1AE".into())));
        assert_eq!(postcode_parts("EC1A1BB"), Some(("EC1A".into(), "1BB".into())));
        assert_eq!(postcode_parts("Hillside"), None);
        assert_eq!(postcode_parts("12345"), None);
    }
}
