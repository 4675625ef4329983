//! Half of the binary-size measure (`cargo xtask bench-print`): reads a case
//! from a vault and does nothing else. Its twin, `size_with_print`, also
//! prints it; the difference between the two stripped binaries is what the
//! print engine adds.
#![allow(clippy::unwrap_used)] // A example stops at its first failure, where it failed.

fn main() {
    let dir = std::env::args_os().nth(1).expect("a vault folder");
    let passphrase = secrecy::SecretString::from(std::env::var("WAYMARK_PASSPHRASE").unwrap_or_default());
    let mut vault = waymark_vault::Vault::unlock(std::path::Path::new(&dir), &passphrase, waymark_vault::Env::system())
        .expect("unlock");
    let case = vault.resolve_case("1").expect("case");
    println!("{}", vault.case_file(case).expect("read").incidents.len());
}
