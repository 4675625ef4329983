//! Giving the database a new key. Changing the passphrase rewraps the same
//! key, so an old copy of `vault.key` (from a backup of the folder, a synced
//! folder, a stolen laptop image) and the old passphrase still open the data.
//! Re-keying encrypts every page under a fresh random key, so they no longer do.
//!
//! The order makes a crash at any point recoverable with the passphrase:
//! the new key file is written beside the old one (`vault.key.pending`,
//! fsynced); the database is re-encrypted in one rollback-journal
//! transaction (`PRAGMA rekey`); its `key_id` is updated; the old key file is
//! shredded and the new one renamed into place. Unlocking finishes or
//! abandons a re-key it finds half done (`settle`).

use crate::audit::AuditAction;
use crate::db;
use crate::error::{Result, VaultError};
use crate::keyfile::{parse_recipient, DbKey, KeyFile, KEY_FILE};
use crate::vault::meta_set;
use crate::{Env, Vault};
use age::secrecy::SecretString;
use rusqlite::Connection;
use serde_json::json;
use std::path::Path;

pub(crate) const PENDING_KEY_FILE: &str = "vault.key.pending";
/// The replaced key file, kept only until it is shredded.
const OLD_KEY_FILE: &str = "vault.key.old";

/// Where a re-key can be stopped in tests, to play a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Never,
    AfterPendingWritten,
    AfterDatabaseRekeyed,
}

impl Vault {
    /// Re-encrypts the database under a new random key, wrapped to `new`
    /// (or the current passphrase) and to the recovery recipient the key file
    /// already names. Audited.
    pub fn rekey(
        dir: &Path,
        current: &SecretString,
        new: Option<&SecretString>,
        work_factor: u8,
        env: Env,
    ) -> Result<String> {
        rekey_until(dir, current, new, work_factor, env, Stop::Never)
    }
}

pub(crate) fn rekey_until(
    dir: &Path,
    current: &SecretString,
    new: Option<&SecretString>,
    work_factor: u8,
    env: Env,
    stop: Stop,
) -> Result<String> {
    if let Some(new) = new {
        crate::keyfile::check_passphrase_strength(new)?;
    }
    let mut vault = Vault::unlock(dir, current, env)?;
    let old_file = KeyFile::read(dir)?;
    let recovery = old_file.recovery_recipient.as_deref().map(parse_recipient).transpose()?;
    let key = DbKey::generate();
    let new_file = KeyFile::wrap(&key, new.unwrap_or(current), work_factor, recovery.as_ref())?;
    let text = serde_json::to_string_pretty(&new_file).map_err(|_| VaultError::KeyFileCorrupt)?;
    crate::fsutil::write_atomic(dir, PENDING_KEY_FILE, text.as_bytes())?;
    if stop == Stop::AfterPendingWritten {
        return Ok(key.key_id());
    }
    rekey_database(vault.conn_mut(), &key)?;
    if stop == Stop::AfterDatabaseRekeyed {
        return Ok(key.key_id());
    }
    meta_set(vault.conn(), "key_id", &key.key_id())?;
    install_pending(dir, &mut *vault.env.rng)?;
    let old_id = std::mem::replace(&mut vault.key, key).key_id();
    vault.record_event(
        AuditAction::VaultRekeyed,
        None,
        None,
        None,
        json!({ "old_key_id": old_id, "new_key_id": vault.key.key_id() }),
    )?;
    let id = vault.key.key_id();
    vault.lock();
    tracing::info!("vault re-keyed");
    Ok(id)
}

/// Every page rewritten under `key`. SQLCipher 4 re-keys only outside WAL
/// mode, so the WAL is emptied and the rollback journal used for this one
/// transaction.
fn rekey_database(conn: &mut Connection, key: &DbKey) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        // Another connection (the desktop app) holds the database open.
        return Err(VaultError::InUse);
    }
    let statement = zeroize::Zeroizing::new(format!("PRAGMA rekey = \"{}\";", key.sqlcipher_pragma_value().as_str()));
    conn.execute_batch(&statement)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    Ok(())
}

/// The pending key file in place and the old one shredded. The old file is
/// moved aside first, so at every moment one of the three names holds a key
/// file `settle` can use.
fn install_pending(dir: &Path, rng: &mut dyn rand::RngCore) -> Result<()> {
    if dir.join(KEY_FILE).exists() {
        std::fs::rename(dir.join(KEY_FILE), dir.join(OLD_KEY_FILE))
            .map_err(VaultError::io("move the old key file aside"))?;
    }
    std::fs::rename(dir.join(PENDING_KEY_FILE), dir.join(KEY_FILE))
        .map_err(VaultError::io("install the new key file"))?;
    crate::fsutil::sync_dir(dir)?;
    crate::fsutil::shred(&dir.join(OLD_KEY_FILE), rng)
}

fn read_key_file(path: &Path) -> Result<KeyFile> {
    let text = std::fs::read_to_string(path).map_err(VaultError::io("read a key file"))?;
    serde_json::from_str(&text).map_err(|_| VaultError::KeyFileCorrupt)
}

/// Finishes or abandons a re-key that stopped part way, before unlocking. The
/// old key is tried first: if it still opens the database (SQLite rolls back
/// an interrupted re-key from its journal), the re-key never happened and the
/// pending key file goes. Otherwise the pending key must open it, and is installed.
pub(crate) fn settle(dir: &Path, passphrase: &SecretString, rng: &mut dyn rand::RngCore) -> Result<()> {
    settle_with(dir, &|file: &KeyFile| file.unwrap_with_passphrase(passphrase), rng)
}

/// `settle`, unwrapping the key files with `unwrap` (the passphrase, or the
/// clinic's recovery identity when a forgotten passphrase is reset).
pub(crate) fn settle_with(
    dir: &Path,
    unwrap: &dyn Fn(&KeyFile) -> Result<DbKey>,
    rng: &mut dyn rand::RngCore,
) -> Result<()> {
    let pending_path = dir.join(PENDING_KEY_FILE);
    let old_path = dir.join(OLD_KEY_FILE);
    if !pending_path.exists() {
        // Stopped after the new key file was installed: only shredding was left.
        if old_path.exists() && dir.join(KEY_FILE).exists() {
            crate::fsutil::shred(&old_path, rng)?;
        }
        return Ok(());
    }
    let database = dir.join(db::DB_FILE);
    let opens = |key: &DbKey| db::open(&database, Some(key), false).map(drop).is_ok();
    // The old key file is under its own name, or moved aside if the stop came mid-install.
    let old_file = if dir.join(KEY_FILE).exists() { dir.join(KEY_FILE) } else { old_path.clone() };
    if let Ok(old) = read_key_file(&old_file).and_then(|f| unwrap(&f)) {
        if opens(&old) {
            tracing::warn!("an interrupted re-key was abandoned; the vault keeps its old key");
            if old_file == old_path {
                std::fs::rename(&old_path, dir.join(KEY_FILE)).map_err(VaultError::io("put the key file back"))?;
            }
            return crate::fsutil::shred(&pending_path, rng);
        }
    }
    let pending = read_key_file(&pending_path)?;
    let Ok(new) = unwrap(&pending) else {
        // Neither key file opens with this passphrase: count it as a wrong one.
        return Ok(());
    };
    let Ok(conn) = db::open(&database, Some(&new), false) else {
        // The re-key never reached the database, so its new passphrase never
        // took effect: the pending file goes, and the old passphrase opens the vault.
        tracing::warn!("an interrupted re-key was abandoned; the vault keeps its old key and passphrase");
        return crate::fsutil::shred(&pending_path, rng);
    };
    meta_set(&conn, "key_id", &new.key_id())?;
    drop(conn);
    install_pending(dir, rng)?;
    tracing::warn!("an interrupted re-key was finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::{add_case, clock, env_at, fast_options, pass, PASS};
    use crate::InitOptions;
    use waymark_domain::codes::ErrorCode;

    fn rekey_stopping(dir: &Path, stop: Stop) -> String {
        let c = clock();
        rekey_until(dir, &pass(PASS), None, 4, env_at(&c), stop).unwrap()
    }

    #[test]
    fn an_old_key_file_and_passphrase_do_not_open_a_rekeyed_vault() {
        // The reason to re-key: a copy of vault.key taken before (a lost laptop's image) must be useless.
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = Vault::init(dir.path(), &pass(PASS), &fast_options(), env_at(&c)).unwrap();
        let case = add_case(&mut v, "R-1");
        let before = v.key_id();
        v.lock();
        let old_key_file = std::fs::read(dir.path().join(KEY_FILE)).unwrap();
        let new_id = Vault::rekey(dir.path(), &pass(PASS), None, 4, env_at(&c)).unwrap();
        assert_ne!(new_id, before);
        assert!(!dir.path().join(PENDING_KEY_FILE).exists());
        let mut v = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap();
        assert_eq!(v.key_id(), new_id);
        assert_eq!(v.case_file(case).unwrap().case.reference, "R-1", "the data survives the re-key");
        let actions: Vec<crate::audit::AuditAction> =
            v.audit_events(None, 20).unwrap().into_iter().map(|e| e.action).collect();
        assert!(actions.contains(&crate::audit::AuditAction::VaultRekeyed));
        v.lock();
        std::fs::write(dir.path().join(KEY_FILE), old_key_file).unwrap();
        let err = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::KeyMismatch, "the old key file no longer opens the database");
    }

    #[test]
    fn a_rekey_with_a_new_passphrase_keeps_the_recovery_identity_working() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let clinic = age::x25519::Identity::generate();
        let options = InitOptions { recovery: Some(clinic.to_public()), ..fast_options() };
        Vault::init(dir.path(), &pass(PASS), &options, env_at(&c)).unwrap().lock();
        Vault::rekey(dir.path(), &pass(PASS), Some(&pass("lantern orbit marmalade")), 4, env_at(&c)).unwrap();
        assert_eq!(Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap_err().code(), ErrorCode::WrongPassphrase);
        c.advance(chrono::Duration::seconds(5));
        Vault::recover(dir.path(), &clinic, &pass("recovered pass words"), 4, env_at(&c)).unwrap();
        Vault::unlock(dir.path(), &pass("recovered pass words"), env_at(&c)).unwrap().lock();
        assert_eq!(
            Vault::rekey(dir.path(), &pass("recovered pass words"), Some(&pass("password1234")), 4, env_at(&c))
                .unwrap_err()
                .code(),
            ErrorCode::WeakPassphrase
        );
    }

    #[test]
    fn a_crash_before_the_database_is_rekeyed_keeps_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = Vault::init(dir.path(), &pass(PASS), &fast_options(), env_at(&c)).unwrap();
        add_case(&mut v, "R-2");
        let before = v.key_id();
        v.lock();
        rekey_stopping(dir.path(), Stop::AfterPendingWritten);
        let v = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap();
        assert_eq!(v.key_id(), before);
        assert!(!dir.path().join(PENDING_KEY_FILE).exists(), "the abandoned key file is shredded");
        v.lock();
    }

    #[test]
    fn a_crash_with_the_old_key_file_moved_aside_is_finished_on_unlock() {
        // The moment between moving the old key file aside and installing the new one.
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = Vault::init(dir.path(), &pass(PASS), &fast_options(), env_at(&c)).unwrap();
        let case = add_case(&mut v, "R-4");
        v.lock();
        let new_id = rekey_stopping(dir.path(), Stop::AfterDatabaseRekeyed);
        std::fs::rename(dir.path().join(KEY_FILE), dir.path().join(OLD_KEY_FILE)).unwrap();
        let mut v = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap();
        assert_eq!(v.key_id(), new_id);
        assert_eq!(v.case_file(case).unwrap().case.reference, "R-4");
        v.lock();
        for leftover in [PENDING_KEY_FILE, OLD_KEY_FILE] {
            assert!(!dir.path().join(leftover).exists(), "{leftover} is gone");
        }
    }

    #[test]
    fn recovery_after_a_crash_mid_rekey_uses_the_key_the_database_has() {
        // Recovering straight after the crash must not rewrap the stale key.
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let clinic = age::x25519::Identity::generate();
        let options = InitOptions { recovery: Some(clinic.to_public()), ..fast_options() };
        let mut v = Vault::init(dir.path(), &pass(PASS), &options, env_at(&c)).unwrap();
        let case = add_case(&mut v, "R-5");
        v.lock();
        let new_id = rekey_stopping(dir.path(), Stop::AfterDatabaseRekeyed);
        Vault::recover(dir.path(), &clinic, &pass("recovered pass words"), 4, env_at(&c)).unwrap();
        let mut v = Vault::unlock(dir.path(), &pass("recovered pass words"), env_at(&c)).unwrap();
        assert_eq!(v.key_id(), new_id);
        assert_eq!(v.case_file(case).unwrap().case.reference, "R-5");
        v.lock();
    }

    #[test]
    fn a_crash_after_the_database_is_rekeyed_is_finished_on_unlock() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = Vault::init(dir.path(), &pass(PASS), &fast_options(), env_at(&c)).unwrap();
        let case = add_case(&mut v, "R-3");
        v.lock();
        let new_id = rekey_stopping(dir.path(), Stop::AfterDatabaseRekeyed);
        let mut v = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap();
        assert_eq!(v.key_id(), new_id, "the pending key is installed");
        assert_eq!(v.case_file(case).unwrap().case.reference, "R-3");
        assert!(!dir.path().join(PENDING_KEY_FILE).exists());
        v.lock();
    }
}
