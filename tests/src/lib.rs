//! Cross-crate scenarios live in `tests/`; this crate also builds the helper
//! processes they drive (see `src/bin`).

/// The passphrase the scenario vaults use. Test-only.
pub const SCENARIO_PASSPHRASE: &str = "scenario pass words";

/// The account text of write `n`, so a reader can tell a whole write from a torn one.
pub fn account_for(n: u64) -> String {
    format!("scenario write {n}: {}", "x".repeat(usize::try_from(n % 97).unwrap_or(0) * 37))
}

pub mod clinic;
pub mod kit;
pub mod proxy;
