//! Passphrases: from a no-echo prompt, or for scripts from a file named by an
//! environment variable. Never from an argument, where `ps` and shell history
//! would see them.

use crate::Failure;
use age::secrecy::{ExposeSecret, SecretString};

fn from_file(var: &str) -> Result<Option<SecretString>, Failure> {
    let Ok(path) = std::env::var(var) else { return Ok(None) };
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .map_err(|_| Failure::Usage(format!("{var} names a file that could not be read")))?,
    );
    Ok(Some(SecretString::from(text.lines().next().unwrap_or("").to_owned())))
}

fn prompt(label: &str) -> Result<SecretString, Failure> {
    rpassword::prompt_password(format!("{label}: ")).map(SecretString::from).map_err(|_| {
        Failure::Usage("no terminal to ask for the passphrase; set WAYMARK_PASSPHRASE_FILE for scripts".into())
    })
}

/// The passphrase that opens the vault.
pub fn current_passphrase() -> Result<SecretString, Failure> {
    match from_file("WAYMARK_PASSPHRASE_FILE")? {
        Some(p) => Ok(p),
        None => prompt("Vault passphrase"),
    }
}

/// A new passphrase, asked twice. NCSC advice: three random words.
/// Creating a vault may take it from WAYMARK_PASSPHRASE_FILE too; changing one may not.
pub fn new_passphrase(label: &str, creating: bool) -> Result<SecretString, Failure> {
    if let Some(p) = from_file("WAYMARK_NEW_PASSPHRASE_FILE")? {
        return Ok(p);
    }
    if creating {
        if let Some(p) = from_file("WAYMARK_PASSPHRASE_FILE")? {
            return Ok(p);
        }
    }
    eprintln!("Choose a passphrase of three or more random words (NCSC advice); an easily guessed one is refused.");
    let first = prompt(label)?;
    let second = prompt("Type it again")?;
    if first.expose_secret() != second.expose_secret() {
        return Err(Failure::Usage("the two passphrases differ; nothing was changed".into()));
    }
    Ok(first)
}

/// The passphrase a backup is (or was) sealed with.
pub fn backup_passphrase(confirm: bool) -> Result<SecretString, Failure> {
    if let Some(p) = from_file("WAYMARK_BACKUP_PASSPHRASE_FILE")? {
        return Ok(p);
    }
    let first = prompt("Backup passphrase")?;
    if confirm {
        let second = prompt("Type it again")?;
        if first.expose_secret() != second.expose_secret() {
            return Err(Failure::Usage("the two passphrases differ; no backup was written".into()));
        }
    }
    Ok(first)
}
