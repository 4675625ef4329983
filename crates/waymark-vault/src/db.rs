//! Opening the SQLCipher database and migrating it.

use crate::error::{Result, VaultError};
use crate::keyfile::DbKey;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub const DB_FILE: &str = "vault.db";

/// Append-only: a landed migration is never edited (a test checks them
/// against `migrations.lock`). The index + 1 is the schema version.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0002_sync", include_str!("migrations/0002_sync.sql")),
    ("0003_shared_references", include_str!("migrations/0003_shared_references.sql")),
    ("0004_field_heads", include_str!("migrations/0004_field_heads.sql")),
];

pub fn schema_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Opens (or with `create`, creates) the database. `key: None` opens a plain
/// SQLite file: used only by the benchmark's baseline.
pub fn open(path: &Path, key: Option<&DbKey>, create: bool) -> Result<Connection> {
    if !create && !path.exists() {
        return Err(VaultError::NoVault);
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(key) = key {
        // Wipe SQLCipher's own copies of key material when freed.
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
        let statement = zeroize::Zeroizing::new(format!("PRAGMA key = \"{}\";", key.sqlcipher_pragma_value().as_str()));
        conn.execute_batch(&statement)?;
    }
    // The first read proves the key; a wrong key fails here with NotADatabase.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    // A 32 MiB page cache holds a caseload's working set, so pages are not
    // decrypted again on every listing (SQLite's default is 2 MiB).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -32768;",
    )?;
    Ok(conn)
}

/// Brings the schema up to date, each step in its own transaction. A
/// database from a newer build is refused before anything is read.
pub fn migrate(conn: &mut Connection) -> Result<u32> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = schema_version();
    if found > supported {
        return Err(VaultError::NewerSchema { found, supported });
    }
    for (index, (_, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(supported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn landed_migrations_are_never_edited() {
        // migrations.lock records the hash of every landed migration. Editing
        // one fails here; adding one means appending a line to the lock file.
        let lock = include_str!("migrations.lock");
        let recorded: Vec<(&str, &str)> =
            lock.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| l.split_once(' ')).collect();
        assert_eq!(recorded.len(), MIGRATIONS.len(), "every migration needs a line in migrations.lock");
        for ((name, sql), (hash, locked_name)) in MIGRATIONS.iter().zip(recorded) {
            assert_eq!(*name, locked_name);
            assert_eq!(hex::encode(Sha256::digest(sql.as_bytes())), hash, "migration {name} was edited after landing");
        }
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let key = DbKey::generate();
        let mut conn = open(&path, Some(&key), true).unwrap();
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let before: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert_eq!(err.code(), "newer_schema");
        let after: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn a_wrong_key_cannot_read_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let mut conn = open(&path, Some(&DbKey::generate()), true).unwrap();
        migrate(&mut conn).unwrap();
        drop(conn);
        assert_eq!(open(&path, Some(&DbKey::generate()), false).unwrap_err().code(), "database_unreadable");
        assert_eq!(open(&path, None, false).unwrap_err().code(), "database_unreadable");
    }
}
