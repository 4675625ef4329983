//! A passphrase strength hint for first run, from zxcvbn's estimate. The
//! advice follows the NCSC: three random words.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Strength {
    /// 0 (guessable in moments) to 4 (very hard to guess).
    pub score: u8,
    /// True when the vault will accept it.
    pub acceptable: bool,
    /// What to do to make it stronger, never quoting the passphrase.
    pub hint: String,
}

use waymark_vault::keyfile::MIN_PASSPHRASE_CHARS as MIN_CHARS;

/// Rates a passphrase typed into the first-run form. The text arrives as an
/// owned string over IPC; its buffer is wiped once rated.
pub fn rate_passphrase(candidate: String) -> Strength {
    let candidate = zeroize::Zeroizing::new(candidate);
    passphrase_strength(&candidate)
}

pub fn passphrase_strength(candidate: &str) -> Strength {
    let chars = candidate.chars().count();
    if chars == 0 {
        return Strength { score: 0, acceptable: false, hint: "Use three random words, like the NCSC advises.".into() };
    }
    let score = zxcvbn::zxcvbn(candidate, &[]).score() as u8;
    let acceptable = chars >= MIN_CHARS && score >= 3;
    let hint = if chars < MIN_CHARS {
        format!("Too short: use at least {MIN_CHARS} characters. Three random words work well.")
    } else if score < 3 {
        "Easy to guess: avoid names, dates and common phrases. Try three random words.".into()
    } else if score == 3 {
        "Strong enough. A fourth random word makes it stronger.".into()
    } else {
        "Strong.".into()
    };
    Strength { score, acceptable, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_or_short_passphrases_are_not_accepted_and_three_words_are() {
        assert!(!passphrase_strength("password1234").acceptable, "a common password is refused");
        assert!(!passphrase_strength("short").acceptable);
        assert!(passphrase_strength("").hint.contains("three random words"));
        let good = passphrase_strength("lantern orbit marmalade");
        assert!(good.acceptable, "three random words pass: {good:?}");
        assert!(!good.hint.contains("lantern"), "the hint never quotes the passphrase");
    }
}
