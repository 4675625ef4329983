//! The other half of the binary-size measure: the same read, then a printout.
#![allow(clippy::unwrap_used)] // A example stops at its first failure, where it failed.

fn main() {
    let dir = std::env::args_os().nth(1).expect("a vault folder");
    let passphrase = secrecy::SecretString::from(std::env::var("WAYMARK_PASSPHRASE").unwrap_or_default());
    let dir = std::path::Path::new(&dir);
    let mut vault = waymark_vault::Vault::unlock(dir, &passphrase, waymark_vault::Env::system()).expect("unlock");
    let case = vault.resolve_case("1").expect("case");
    println!("{}", vault.case_file(case).expect("read").incidents.len());
    let printer = waymark_print::Printer::for_vault_dir(dir).expect("printer");
    let prepared =
        printer.prepare(&mut vault, &waymark_print::Request::Chronology { case }, Default::default()).expect("print");
    println!("{}", prepared.pages());
}
