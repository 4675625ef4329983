//! The passphrase strength hint for first run: the domain's one rule.

pub use waymark_domain::passphrase::{rate as passphrase_strength, Strength};

/// Rates a passphrase typed into the first-run form. The text arrives as an
/// owned string over IPC; its buffer is wiped once rated.
pub fn rate_passphrase(candidate: String) -> Strength {
    let candidate = zeroize::Zeroizing::new(candidate);
    passphrase_strength(&candidate)
}
