//! The discreet check. A discreet plan is refused, not printed, if any of its
//! text holds a word on the service's avoid list, part of the victim's
//! address, or a detail that identifies the perpetrator. It runs twice: on
//! the plan's own text (so the error can name the section to reword) and on
//! the laid-out pages (so wording a service adds to a template is caught too).

use crate::error::{Exposure, PrintError, Result};
use crate::model::Located;
use crate::templates::DiscreetRules;
use waymark_domain::{Perpetrator, Victim};

/// Lower-case words of letters and digits; everything else separates words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether `needle` appears as consecutive whole words in `hay`. With
/// `prefix_last`, the last word may be the start of a longer one.
fn has_words(hay: &[String], needle: &[String], prefix_last: bool) -> bool {
    if needle.is_empty() || needle.len() > hay.len() {
        return false;
    }
    hay.windows(needle.len()).any(|window| {
        window.iter().zip(needle).enumerate().all(
            |(i, (h, n))| {
                if prefix_last && i == needle.len() - 1 {
                    h.starts_with(n.as_str())
                } else {
                    h == n
                }
            },
        )
    })
}

/// Digits with the separators people put in phone numbers removed.
fn digit_runs(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '.' | '+') {
            out.push('|');
        }
    }
    out
}

struct Pattern {
    exposure: Exposure,
    words: Vec<String>,
    prefix_last: bool,
    /// The avoid-list wording, safe to show in the error.
    shown: Option<String>,
}

/// What a discreet plan must not show for this case.
pub struct Guard {
    patterns: Vec<Pattern>,
    /// The national significant part of each perpetrator phone number.
    phones: Vec<String>,
}

/// Address lines of one word (a town) are left out: refusing every plan that
/// names the victim's town would stop it being printed at all.
const MIN_ADDRESS_WORDS: usize = 2;
/// Single name words shorter than this ("Al", "Jo") match too much ordinary text.
const MIN_NAME_WORD: usize = 3;
const MIN_PHONE_DIGITS: usize = 7;
/// Words in a name record that identify nobody: titles, "unknown", and the
/// demo caseload's "(DEMO)" marker.
const NOT_IDENTIFYING: [&str; 9] = ["unknown", "demo", "mr", "mrs", "ms", "miss", "mx", "dr", "the"];

impl Guard {
    pub fn new(rules: &DiscreetRules, service_name: Option<&str>, victim: Option<&Victim>, perpetrators: &[Perpetrator]) -> Self {
        let mut patterns: Vec<Pattern> = rules
            .forbidden
            .iter()
            .chain(service_name.map(str::to_owned).as_ref())
            .filter(|w| !w.trim().is_empty())
            .map(|w| Pattern { exposure: Exposure::AvoidedWord, words: words(w), prefix_last: true, shown: Some(w.trim().to_owned()) })
            .collect();
        if let Some(address) = victim.and_then(|v| v.address.as_ref()) {
            let lines = address.lines.iter().map(|l| words(l)).filter(|w| w.len() >= MIN_ADDRESS_WORDS);
            let postcode = address.postcode.iter().map(|p| words(p));
            for line in lines.chain(postcode) {
                patterns.push(Pattern { exposure: Exposure::VictimAddress, words: line, prefix_last: false, shown: None });
            }
        }
        let mut phones = Vec::new();
        for person in perpetrators {
            for name in person.names.iter().chain(&person.aliases) {
                let identifying = |w: &&String| w.chars().count() >= MIN_NAME_WORD && !NOT_IDENTIFYING.contains(&w.as_str());
                for part in words(name).iter().filter(identifying) {
                    patterns.push(Pattern {
                        exposure: Exposure::PerpetratorDetail,
                        words: vec![part.clone()],
                        prefix_last: false,
                        shown: None,
                    });
                }
            }
            for registration in person.vehicles.iter().filter_map(|v| v.registration.as_ref()) {
                let spaced = words(registration);
                let joined = vec![spaced.concat()];
                for words in [spaced, joined] {
                    patterns.push(Pattern { exposure: Exposure::PerpetratorDetail, words, prefix_last: false, shown: None });
                }
            }
            for phone in &person.phones {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                let significant = digits.trim_start_matches("44").trim_start_matches('0').to_owned();
                if significant.len() >= MIN_PHONE_DIGITS {
                    phones.push(significant);
                }
            }
        }
        Self { patterns, phones }
    }

    fn first_exposure(&self, text: &str) -> Option<&Pattern> {
        let hay = words(text);
        if let Some(found) = self.patterns.iter().find(|p| has_words(&hay, &p.words, p.prefix_last)) {
            return Some(found);
        }
        let digits = digit_runs(text);
        self.phones.iter().any(|p| digits.contains(p.as_str())).then_some(&PHONE_PATTERN)
    }

    /// Checks each piece of plan text; the error names where it sits.
    pub fn check_parts(&self, parts: &[Located<'_>]) -> Result<()> {
        for part in parts {
            if let Some(found) = self.first_exposure(part.text) {
                return Err(refusal(found, &part.place));
            }
        }
        Ok(())
    }

    /// Checks the laid-out text of each page.
    pub fn check_pages(&self, pages: &[String]) -> Result<()> {
        for (index, page) in pages.iter().enumerate() {
            if let Some(found) = self.first_exposure(page) {
                return Err(refusal(found, &format!("the template's wording on page {}", index + 1)));
            }
        }
        Ok(())
    }
}

static PHONE_PATTERN: Pattern = Pattern { exposure: Exposure::PerpetratorDetail, words: Vec::new(), prefix_last: false, shown: None };

fn refusal(found: &Pattern, place: &str) -> PrintError {
    PrintError::DiscreetUnsafe { exposure: found.exposure, section: place.to_owned(), word: found.shown.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Templates;

    fn perpetrator(names: &[&str], phones: &[&str], registration: Option<&str>) -> Perpetrator {
        let mut value = serde_json::json!({
            "id": uuid_text(1), "case_id": uuid_text(2), "names": names, "phones": phones,
            "relationship": "ex_intimate_partner",
        });
        if let Some(reg) = registration {
            value["vehicles"] = serde_json::json!([{ "registration": reg }]);
        }
        serde_json::from_value(value).unwrap()
    }

    fn victim_at(lines: &[&str], postcode: &str) -> Victim {
        serde_json::from_value(serde_json::json!({
            "id": uuid_text(3), "case_id": uuid_text(2), "name": "Test Person",
            "address": { "lines": lines, "postcode": postcode },
        }))
        .unwrap()
    }

    fn uuid_text(n: u8) -> String {
        format!("00000000-0000-7000-8000-0000000000{n:02}")
    }

    fn guard() -> Guard {
        let rules = Templates::shipped().unwrap().discreet().clone();
        Guard::new(
            &rules,
            Some("Hillside Support Service"),
            Some(&victim_at(&["14 Larkspur Close", "Hillside"], "ZZ99 1AA")),
            &[perpetrator(&["Darren Voss"], &["07700 900123"], Some("ZZ51 ABC"))],
        )
    }

    fn exposure(text: &str) -> Option<Exposure> {
        guard().first_exposure(text).map(|p| p.exposure)
    }

    #[test]
    fn avoid_list_words_are_caught_in_any_case_and_with_endings() {
        // The shipped list has "stalk"-type stems; a plan saying "Stalkers" must not print.
        assert_eq!(exposure("Keep a diary of the STALKING"), Some(Exposure::AvoidedWord));
        assert_eq!(exposure("Call your advocate on Monday"), Some(Exposure::AvoidedWord));
        assert_eq!(exposure("This is my safety\nplan"), Some(Exposure::AvoidedWord), "a phrase split over lines");
        assert_eq!(exposure("Hillside Support Service will ring"), Some(Exposure::AvoidedWord), "the service's name");
    }

    #[test]
    fn ordinary_words_that_contain_a_listed_word_are_not_refused() {
        // Whole-word matching: "beanstalk" does not start with "stalk".
        assert_eq!(exposure("Read the beanstalk story with the children"), None);
        assert_eq!(exposure("Lock the back door; keep the spare key safe"), None);
    }

    #[test]
    fn victim_address_lines_and_postcode_are_caught_but_the_town_alone_is_not() {
        assert_eq!(exposure("Meet at 14 Larkspur Close"), Some(Exposure::VictimAddress));
        assert_eq!(exposure("post to zz99 1aa"), Some(Exposure::VictimAddress));
        assert_eq!(exposure("Hillside library is a safe place"), None);
    }

    #[test]
    fn perpetrator_names_phones_and_registrations_are_caught() {
        assert_eq!(exposure("If Darren turns up, call 999"), Some(Exposure::PerpetratorDetail));
        assert_eq!(exposure("Do not answer +44 7700 900123"), Some(Exposure::PerpetratorDetail));
        assert_eq!(exposure("Note the car ZZ51ABC"), Some(Exposure::PerpetratorDetail));
        assert_eq!(exposure("Ring 0808 802 0300 any time"), None);
    }

    #[test]
    fn the_refusal_names_the_place_and_never_the_matched_personal_text() {
        let parts = [Located { place: "the section \"Home\"".into(), text: "Darren may call" }];
        let err = guard().check_parts(&parts).unwrap_err().to_string();
        assert!(err.contains("the section \"Home\""), "{err}");
        assert!(!err.contains("Darren"), "{err}");
    }
}
