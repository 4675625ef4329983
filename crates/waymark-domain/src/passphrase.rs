//! The one passphrase rule, for every passphrase Waymark asks for: the vault's
//! (first run, `init`, change, recovery), a backup's and the clinic's. It
//! follows the NCSC's advice, three random words, and zxcvbn's estimate of
//! how guessable the text is.

use serde::Serialize;

/// Below this length a passphrase is refused whatever its score.
pub const MIN_CHARS: usize = 12;
/// zxcvbn's score (0 to 4) a passphrase needs: 3 is "safely unguessable".
pub const MIN_SCORE: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Strength {
    /// 0 (guessable in moments) to 4 (very hard to guess).
    pub score: u8,
    /// True when Waymark will accept it.
    pub acceptable: bool,
    /// What to do to make it stronger, never quoting the passphrase.
    pub hint: String,
}

/// Rates a candidate passphrase.
pub fn rate(candidate: &str) -> Strength {
    let chars = candidate.chars().count();
    if chars == 0 {
        return Strength { score: 0, acceptable: false, hint: "Use three random words, like the NCSC advises.".into() };
    }
    let score = zxcvbn::zxcvbn(candidate, &[]).score() as u8;
    let acceptable = chars >= MIN_CHARS && score >= MIN_SCORE;
    let hint = if chars < MIN_CHARS {
        format!("Too short: use at least {MIN_CHARS} characters. Three random words work well.")
    } else if score < MIN_SCORE {
        "Easy to guess: avoid names, dates and common phrases. Try three random words.".into()
    } else if score == MIN_SCORE {
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
        // "password1234" has 12 characters: length alone used to let it in.
        assert!(!rate("password1234").acceptable, "a common password is refused");
        assert!(!rate("short").acceptable);
        assert!(rate("").hint.contains("three random words"));
        let good = rate("lantern orbit marmalade");
        assert!(good.acceptable, "three random words pass: {good:?}");
        assert!(!good.hint.contains("lantern"), "the hint never quotes the passphrase");
    }
}
