//! The discreet check. A discreet plan is refused, not printed, if any of its
//! text holds a word on the service's avoid list, part of the victim's
//! address, or a detail that identifies the perpetrator. It runs twice: on
//! the plan's own text (so the error can name the section to reword) and on
//! the laid-out pages (so wording a service adds to a template is caught too).

use crate::error::{Exposure, PrintError, Result};
use crate::model::Located;
use crate::templates::DiscreetRules;
use waymark_domain::disclosure::Finder;
use waymark_domain::{Perpetrator, Victim};

/// What a match is, and the avoid-list wording that is safe to show in the error.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub(crate) exposure: Exposure,
    shown: Option<String>,
}

/// What a discreet plan must not show for this case. Text is compared as a
/// reader sees it (`waymark_domain::disclosure`): invisible characters,
/// look-alike letters and accents do not hide a word.
pub struct Guard {
    finder: Finder<Found>,
}

impl Guard {
    pub fn new(
        rules: &DiscreetRules,
        service_name: Option<&str>,
        victim: Option<&Victim>,
        perpetrators: &[Perpetrator],
    ) -> Self {
        let mut finder = Finder::new();
        for word in
            rules.forbidden.iter().chain(service_name.map(str::to_owned).as_ref()).filter(|w| !w.trim().is_empty())
        {
            finder.add_stem(&Found { exposure: Exposure::AvoidedWord, shown: Some(word.trim().to_owned()) }, word);
        }
        let address = Found { exposure: Exposure::VictimAddress, shown: None };
        if let Some(a) = victim.and_then(|v| v.address.as_ref()) {
            finder.add_address(&address, a);
        }
        let perpetrator = Found { exposure: Exposure::PerpetratorDetail, shown: None };
        for person in perpetrators {
            for name in person.names.iter().chain(&person.aliases) {
                finder.add_name(&perpetrator, name);
            }
            for registration in person.vehicles.iter().filter_map(|v| v.registration.as_ref()) {
                finder.add_registration(&perpetrator, registration);
            }
            for phone in &person.phones {
                finder.add_phone(&perpetrator, phone);
            }
            for address in &person.addresses {
                finder.add_address_text(&perpetrator, address);
            }
            for account in &person.online_accounts {
                finder.add_handle(&perpetrator, account);
            }
        }
        Self { finder }
    }

    pub(crate) fn first_exposure(&self, text: &str) -> Option<&Found> {
        self.finder.find(text)
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

fn refusal(found: &Found, place: &str) -> PrintError {
    PrintError::DiscreetUnsafe { exposure: found.exposure, section: place.to_owned(), word: found.shown.clone() }
}

fn address_finder(victims: &[Victim]) -> Finder<()> {
    Finder::of_addresses(victims.iter().filter_map(|v| v.address.as_ref()))
}

/// Whether any text in a printout's data shows one of these victims' addresses.
pub fn data_shows_address(victims: &[Victim], data: &serde_json::Value) -> bool {
    let finder = address_finder(victims);
    !finder.is_empty()
        && waymark_domain::disclosure::text_fields(data, &[]).iter().any(|(_, text)| finder.find(text).is_some())
}

/// The pages (from 1) whose text shows one of these victims' addresses.
pub fn address_pages(victims: &[Victim], pages: &[String]) -> Vec<usize> {
    let finder = address_finder(victims);
    if finder.is_empty() {
        return Vec::new();
    }
    pages.iter().enumerate().filter(|(_, text)| finder.find(text).is_some()).map(|(index, _)| index + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Templates;

    fn perpetrator(names: &[&str], phones: &[&str], registration: Option<&str>) -> Perpetrator {
        let mut value = serde_json::json!({
            "id": uuid_text(1), "case_id": uuid_text(2), "names": names, "phones": phones,
            "relationship": "ex_intimate_partner",
            "addresses": ["9 Quarry Lane, Hillside, ZZ99 7QQ"],
            "online_accounts": ["@dvoss_official (Instagram)"],
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

    #[test]
    fn the_bypasses_the_security_review_found_are_refused() {
        // Each printed readably yet passed the old check.
        assert_eq!(exposure("Call if the stal\u{AD}king starts again"), Some(Exposure::AvoidedWord), "soft hyphen");
        assert_eq!(exposure("Note what the sta\u{200B}lker does"), Some(Exposure::AvoidedWord), "zero-width space");
        assert_eq!(exposure("Keep a \u{0455}talking diary"), Some(Exposure::AvoidedWord), "Cyrillic dze");
        assert_eq!(
            exposure("Walk past Larkspur Close quickly"),
            Some(Exposure::VictimAddress),
            "street without the number"
        );
        assert_eq!(exposure("Letters to ZZ991AA"), Some(Exposure::VictimAddress), "postcode without its space");
        assert_eq!(exposure("Avoid Quarry Lane"), Some(Exposure::PerpetratorDetail), "the perpetrator's address");
        assert_eq!(exposure("Block dvoss_official"), Some(Exposure::PerpetratorDetail), "the perpetrator's account");
        assert_eq!(exposure("Me (Victim)"), Some(Exposure::AvoidedWord), "the README's own screenshot read (Victim)");
    }

    /// Look-alike letters from other scripts, for the property test only: the
    /// check itself uses the Unicode confusables table.
    const LOOK_ALIKES: [(char, char); 12] = [
        ('a', '\u{0430}'),
        ('c', '\u{0441}'),
        ('e', '\u{0435}'),
        ('i', '\u{0456}'),
        ('o', '\u{043E}'),
        ('p', '\u{0440}'),
        ('s', '\u{0455}'),
        ('x', '\u{0445}'),
        ('y', '\u{0443}'),
        ('o', '\u{03BF}'),
        ('k', '\u{212A}'),
        ('t', '\u{FF54}'),
    ];
    const INVISIBLE: [char; 7] = ['\u{AD}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{034F}'];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn every_avoided_term_is_found_through_invisible_characters_and_look_alikes(
            seeds in proptest::collection::vec(proptest::prelude::any::<u16>(), 64),
        ) {
            let rules = Templates::shipped().unwrap().discreet().clone();
            let guard = Guard::new(&rules, None, None, &[]);
            for (n, term) in rules.forbidden.iter().enumerate() {
                let mut disguised = String::new();
                for (i, c) in term.chars().enumerate() {
                    let seed = usize::from(seeds[(n + i) % seeds.len()]);
                    let lower = c.to_ascii_lowercase();
                    let swapped = LOOK_ALIKES.iter().filter(|(latin, _)| *latin == lower).nth(seed % 2).map(|(_, other)| *other);
                    disguised.push(if seed % 3 == 0 { swapped.unwrap_or(c) } else { c });
                    if seed % 4 == 0 {
                        disguised.push(INVISIBLE[seed % INVISIBLE.len()]);
                    }
                }
                let found = guard.first_exposure(&format!("Remember: {disguised}.")).map(|f| f.exposure);
                proptest::prop_assert_eq!(found, Some(Exposure::AvoidedWord), "{:?} from {:?}", disguised, term);
            }
        }
    }
}
