//! The key file: the 32-byte database key wrapped with `age`, once to the
//! passphrase (scrypt) and optionally once more to the clinic's recovery
//! recipient. age refuses to mix a passphrase with other recipients, hence
//! two wrapped copies. Only this file changes when the passphrase changes.

use crate::error::{Result, VaultError};
use age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::iter;
use std::path::Path;
use std::str::FromStr;
use zeroize::Zeroizing;

pub const KEY_FILE: &str = "vault.key";
const FORMAT: &str = "waymark-key-file";

/// The scrypt work factor (log2 N) shipped for the passphrase wrap. OWASP's
/// minimum for scrypt is N=2^17 with r=8, p=1, which is what age uses; the
/// unlock benchmark reports the time this costs on the target machine.
pub const SHIPPED_WORK_FACTOR: u8 = 17;
/// The highest work factor an unlock will attempt, so a tampered key file
/// can't make unlocking take minutes and gigabytes.
pub const MAX_WORK_FACTOR: u8 = 20;

/// The database key. Zeroised when dropped.
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
        Self(key)
    }
    /// A key the caller derived or keeps (the clinic's replica key).
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(array)))
    }
    /// SQLCipher's raw-key form: `x'<64 hex>'`, so opening skips key derivation.
    pub(crate) fn sqlcipher_pragma_value(&self) -> Zeroizing<String> {
        let hexed = Zeroizing::new(hex::encode(&self.0[..]));
        Zeroizing::new(format!("x'{}'", hexed.as_str()))
    }
    /// Names the key without revealing it; stored in the key file and the database.
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"waymark-vault-key-id-v1");
        h.update(&self.0[..]);
        hex::encode(&h.finalize()[..8])
    }
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbKey({})", self.key_id())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub format: String,
    pub version: u32,
    pub key_id: String,
    /// ASCII-armoured age file (scrypt recipient) holding the key.
    pub passphrase_wrap: String,
    #[serde(default)]
    pub recovery_recipient: Option<String>,
    /// ASCII-armoured age file (X25519 recipient) holding the key.
    #[serde(default)]
    pub recovery_wrap: Option<String>,
}

/// The one passphrase rule (`waymark_domain::passphrase`), for the vault's
/// passphrase however it is set and for a backup's.
pub fn check_passphrase_strength(passphrase: &SecretString) -> Result<()> {
    let strength = waymark_domain::passphrase::rate(passphrase.expose_secret());
    if !strength.acceptable {
        return Err(VaultError::WeakPassphrase { hint: strength.hint });
    }
    Ok(())
}

pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(text.trim()).map_err(|_| VaultError::BadAgeKey { expected: "age1" })
}

pub fn parse_identity(text: &str) -> Result<age::x25519::Identity> {
    // Identity files may hold comments; take the first key line.
    let line = text.lines().map(str::trim).find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap_or("");
    age::x25519::Identity::from_str(line).map_err(|_| VaultError::BadAgeKey { expected: "AGE-SECRET-KEY-" })
}

fn armour(recipient: &dyn age::Recipient, secret: &[u8]) -> Result<String> {
    let encryptor = age::Encryptor::with_recipients(iter::once(recipient)).map_err(|_| VaultError::KeyFileCorrupt)?;
    let mut out = Vec::new();
    let armoured = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(VaultError::io("armour key"))?;
    let mut writer = encryptor.wrap_output(armoured).map_err(VaultError::io("wrap key"))?;
    writer.write_all(secret).map_err(VaultError::io("wrap key"))?;
    writer.finish().and_then(|a| a.finish()).map_err(VaultError::io("wrap key"))?;
    String::from_utf8(out).map_err(|_| VaultError::KeyFileCorrupt)
}

fn unarmour(armoured: &str, identity: &dyn age::Identity, wrong: VaultError) -> Result<DbKey> {
    let reader = age::armor::ArmoredReader::new(armoured.as_bytes());
    let decryptor = age::Decryptor::new(reader).map_err(|_| VaultError::KeyFileCorrupt)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(32));
    match decryptor.decrypt(iter::once(identity)) {
        Ok(mut r) => r.read_to_end(&mut plain).map_err(|_| VaultError::KeyFileCorrupt)?,
        Err(age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed) => return Err(wrong),
        Err(age::DecryptError::ExcessiveWork { .. }) => return Err(VaultError::KeyFileExcessiveWork),
        Err(_) => return Err(VaultError::KeyFileCorrupt),
    };
    DbKey::from_slice(&plain).ok_or(VaultError::KeyFileCorrupt)
}

impl KeyFile {
    pub fn wrap(
        key: &DbKey,
        passphrase: &SecretString,
        work_factor: u8,
        recovery: Option<&age::x25519::Recipient>,
    ) -> Result<Self> {
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(work_factor);
        let passphrase_wrap = armour(&recipient, key.bytes())?;
        let recovery_wrap = recovery.map(|r| armour(r, key.bytes())).transpose()?;
        Ok(Self {
            format: FORMAT.into(),
            version: 1,
            key_id: key.key_id(),
            passphrase_wrap,
            recovery_recipient: recovery.map(ToString::to_string),
            recovery_wrap,
        })
    }

    /// Unwraps with the passphrase. A wrong passphrase is `WrongPassphrase`
    /// (the caller counts it); anything else means the file is damaged.
    pub fn unwrap_with_passphrase(&self, passphrase: &SecretString) -> Result<DbKey> {
        let mut identity = age::scrypt::Identity::new(passphrase.clone());
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        let key =
            unarmour(&self.passphrase_wrap, &identity, VaultError::WrongPassphrase { failures: 0, wait_secs: 0 })?;
        self.check_key(key)
    }

    pub fn unwrap_with_recovery(&self, identity: &age::x25519::Identity) -> Result<DbKey> {
        let wrap = self.recovery_wrap.as_deref().ok_or(VaultError::NoRecoveryRecipient)?;
        let key = unarmour(wrap, identity, VaultError::WrongRecoveryIdentity)?;
        self.check_key(key)
    }

    /// The same key under a new passphrase; the recovery wrap is kept as it is.
    pub fn rewrap_passphrase(&self, key: &DbKey, passphrase: &SecretString, work_factor: u8) -> Result<Self> {
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(work_factor);
        Ok(Self { passphrase_wrap: armour(&recipient, key.bytes())?, ..self.clone() })
    }

    /// The same key with a recovery wrap for `recipient`; the passphrase wrap is kept.
    pub fn with_recovery(&self, key: &DbKey, recipient: &age::x25519::Recipient) -> Result<Self> {
        Ok(Self {
            recovery_recipient: Some(recipient.to_string()),
            recovery_wrap: Some(armour(recipient, key.bytes())?),
            ..self.clone()
        })
    }

    fn check_key(&self, key: DbKey) -> Result<DbKey> {
        if key.key_id() == self.key_id {
            Ok(key)
        } else {
            Err(VaultError::KeyFileCorrupt)
        }
    }

    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(VaultError::NoVault),
            Err(e) => return Err(VaultError::io("read key file")(e)),
        };
        let file: KeyFile = serde_json::from_str(&text).map_err(|_| VaultError::KeyFileCorrupt)?;
        if file.format != FORMAT || file.version != 1 {
            return Err(VaultError::KeyFileCorrupt);
        }
        Ok(file)
    }

    /// Replaces the key file atomically: temp file, fsync, rename, fsync the
    /// folder. A crash at any point leaves either the old or the new file whole.
    pub fn write_atomic(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|_| VaultError::KeyFileCorrupt)?;
        crate::fsutil::write_atomic(dir, KEY_FILE, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_domain::codes::ErrorCode;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn the_passphrase_unwraps_the_same_key_and_a_wrong_one_does_not() {
        let key = DbKey::generate();
        let file = KeyFile::wrap(&key, &pass("correct horse battery"), 4, None).unwrap();
        assert_eq!(file.key_id, key.key_id());
        let back = file.unwrap_with_passphrase(&pass("correct horse battery")).unwrap();
        assert_eq!(back.bytes(), key.bytes());
        let err = file.unwrap_with_passphrase(&pass("wrong horse battery")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WrongPassphrase);
    }

    #[test]
    fn the_recovery_identity_unwraps_and_others_do_not() {
        let clinic = age::x25519::Identity::generate();
        let stranger = age::x25519::Identity::generate();
        let key = DbKey::generate();
        let file = KeyFile::wrap(&key, &pass("correct horse battery"), 4, Some(&clinic.to_public())).unwrap();
        assert_eq!(file.unwrap_with_recovery(&clinic).unwrap().bytes(), key.bytes());
        assert_eq!(file.unwrap_with_recovery(&stranger).unwrap_err().code(), ErrorCode::WrongRecoveryIdentity);
    }

    #[test]
    fn a_swapped_wrap_is_caught_by_the_key_id() {
        // Someone pasting another vault's wrap must not get a silently different key.
        let a = KeyFile::wrap(&DbKey::generate(), &pass("correct horse battery"), 4, None).unwrap();
        let b = KeyFile::wrap(&DbKey::generate(), &pass("correct horse battery"), 4, None).unwrap();
        let franken = KeyFile { passphrase_wrap: b.passphrase_wrap, ..a };
        assert_eq!(
            franken.unwrap_with_passphrase(&pass("correct horse battery")).unwrap_err().code(),
            ErrorCode::KeyFileCorrupt
        );
    }

    #[test]
    fn an_excessive_work_factor_is_refused_rather_than_attempted() {
        // A tampered key file claiming 2^21 must be refused before scrypt runs.
        let file = KeyFile::wrap(&DbKey::generate(), &pass("correct horse battery"), 4, None).unwrap();
        let mut binary = Vec::new();
        age::armor::ArmoredReader::new(file.passphrase_wrap.as_bytes()).read_to_end(&mut binary).unwrap();
        let text = String::from_utf8_lossy(&binary).into_owned();
        let stanza = text.lines().find(|l| l.starts_with("-> scrypt ")).unwrap().to_owned();
        let forged_stanza = format!("{} {}", stanza.rsplit_once(' ').unwrap().0, MAX_WORK_FACTOR + 1);
        let forged = text.replacen(&stanza, &forged_stanza, 1).into_bytes();
        let mut armoured = Vec::new();
        let mut w = age::armor::ArmoredWriter::wrap_output(&mut armoured, age::armor::Format::AsciiArmor).unwrap();
        w.write_all(&forged).unwrap();
        w.finish().unwrap();
        let tampered = KeyFile { passphrase_wrap: String::from_utf8(armoured).unwrap(), ..file };
        // Had scrypt run, the forged header would fail its MAC instead, with a different error.
        assert_eq!(
            tampered.unwrap_with_passphrase(&pass("correct horse battery")).unwrap_err().code(),
            ErrorCode::KeyFileExcessiveWork
        );
    }

    #[test]
    fn short_or_guessable_passphrases_are_refused() {
        assert!(check_passphrase_strength(&pass("short")).is_err());
        assert_eq!(
            check_passphrase_strength(&pass("password1234")).unwrap_err().code(),
            ErrorCode::WeakPassphrase,
            "12 characters is not enough"
        );
        assert!(check_passphrase_strength(&pass("three random words")).is_ok());
    }
}
