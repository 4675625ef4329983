//! Erasing this laptop's copy of the caseload on the clinic's signed order.

use super::*;

impl Vault {
    /// Destroys this device's copy of the caseload on the clinic's order:
    /// the key file first (without it the database is unreadable), then the
    /// database files. The open connection is swapped for an empty in-memory
    /// one, so nothing can be read afterwards; drop the vault next. A notice
    /// with the time and reason code is left so the app can say why.
    pub fn wipe(&mut self, reason: &str) -> Result<()> {
        let now = self.env.clock.now();
        let empty = Connection::open_in_memory()?;
        let old = std::mem::replace(&mut self.conn, empty);
        if let Err((_, e)) = old.close() {
            tracing::warn!(code = %VaultError::from(e).code(), "closing the database before the wipe reported an error");
        }
        self.key = crate::keyfile::DbKey::generate();
        wipe_files(&self.dir, self.env.rng.as_mut())?;
        let notice = json!({ "at": now.to_rfc3339(), "reason": reason });
        crate::fsutil::write_atomic(&self.dir, WIPED_NOTICE, notice.to_string().as_bytes())?;
        tracing::warn!(reason, "vault wiped on the clinic's instruction");
        Ok(())
    }
}

/// Reads the notice left by a wipe, if any: `(when, reason code)`.
pub fn wiped_notice(dir: &Path) -> Option<(DateTime<Utc>, String)> {
    let text = std::fs::read_to_string(dir.join(WIPED_NOTICE)).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    let at = parse_time(value.get("at")?.as_str()?).ok()?;
    Some((at, value.get("reason")?.as_str()?.to_owned()))
}

/// The key file is shredded first: without it the database is unreadable.
pub(super) fn wipe_files(dir: &Path, rng: &mut dyn rand::RngCore) -> Result<()> {
    // Every key file a re-key may have left is shredded, not just unlinked.
    let key_files = [crate::keyfile::KEY_FILE, "vault.key.pending", "vault.key.old"];
    for name in key_files.into_iter().chain([
        "vault.db",
        "vault.db-wal",
        "vault.db-shm",
        "vault.db-journal",
        "unlock-attempts.json",
    ]) {
        let path = dir.join(name);
        if path.exists() {
            if key_files.contains(&name) {
                crate::fsutil::shred(&path, rng)?;
            } else {
                std::fs::remove_file(&path).map_err(VaultError::io("erase the vault"))?;
            }
        }
    }
    crate::fsutil::sync_dir(dir)
}
