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
    ("0005_entry_ids", include_str!("migrations/0005_entry_ids.sql")),
    ("0006_compact_clocks", include_str!("migrations/0006_compact_clocks.sql")),
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
        // Wipe SQLCipher's own copies of key material when freed, and keep
        // its diagnostics off stderr: Waymark logs only when asked to.
        conn.execute_batch("PRAGMA cipher_memory_security = ON; PRAGMA cipher_log_level = NONE;")?;
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
    migrate_to(conn, schema_version())
}

/// Migrates up to schema `target` only: a restore loads a backup at the
/// schema it was taken at, then migrates, so the later migrations' data
/// changes (entry ids, say) reach the restored records too.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = schema_version();
    if found > supported {
        return Err(VaultError::NewerSchema { found, supported });
    }
    register_functions(conn)?;
    for (index, (_, sql)) in
        MIGRATIONS.iter().enumerate().skip(found as usize).take(target.saturating_sub(found) as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(supported)
}

/// What the migrations call that SQL cannot do itself.
fn register_functions(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let unreadable = |_| rusqlite::Error::UserFunctionError("unreadable entry list".into());
    conn.create_scalar_function(
        "waymark_entry_ids",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let record: String = ctx.get(0)?;
            let field: String = ctx.get(1)?;
            let list: Option<String> = ctx.get(2)?;
            let record: uuid::Uuid =
                record.parse().map_err(|_| rusqlite::Error::UserFunctionError("unreadable record id".into()))?;
            let list: serde_json::Value = match list {
                Some(text) => serde_json::from_str(&text).map_err(unreadable)?,
                None => serde_json::Value::Array(Vec::new()),
            };
            Ok(waymark_domain::merge::identify_entries(record, &field, &list).to_string())
        },
    )?;
    let deterministic = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("waymark_id_bytes", 1, deterministic, |ctx| {
        let text: String = ctx.get(0)?;
        crate::clocks::id_bytes(&text)
            .ok_or_else(|| rusqlite::Error::UserFunctionError("unreadable id in a field clock".into()))
    })?;
    conn.create_scalar_function("waymark_hlc_bytes", 1, deterministic, |ctx| {
        let text: String = ctx.get(0)?;
        crate::clocks::hlc_bytes(&text)
            .ok_or_else(|| rusqlite::Error::UserFunctionError("unreadable clock in a field clock".into()))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use waymark_domain::codes::ErrorCode;

    #[test]
    fn landed_migrations_are_never_edited() {
        // migrations.lock records the hash of every landed migration. Editing
        // one fails here; adding one means appending a line to the lock file.
        let lock = include_str!("migrations.lock");
        let recorded: Vec<(&str, &str)> = lock
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once(' '))
            .collect();
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
        assert_eq!(err.code(), ErrorCode::NewerSchema);
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
        assert_eq!(open(&path, Some(&DbKey::generate()), false).unwrap_err().code(), ErrorCode::DatabaseUnreadable);
        assert_eq!(open(&path, None, false).unwrap_err().code(), ErrorCode::DatabaseUnreadable);
    }

    #[test]
    fn entries_saved_before_ids_get_the_ids_every_laptop_derives() {
        // Why: two laptops upgrade separately; a consent they both hold must get one id on both, or the next merge would double it.
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("x.db"), Some(&DbKey::generate()), true).unwrap();
        for (index, (_, sql)) in MIGRATIONS.iter().enumerate().take(4) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", index as i64 + 1).unwrap();
        }
        let (victim, perpetrator) = ("00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b");
        let consents = serde_json::json!([{ "with": "Police", "given_on": "2026-01-05" }, { "with": "Police", "given_on": "2026-01-05" }]);
        let doc =
            serde_json::json!({ "id": victim, "name": "x", "consents": consents, "dependants": [{ "name": "Child" }] });
        conn.execute("INSERT INTO victims (id, doc, updated_hlc) VALUES (?1, ?2, '0')", [victim, &doc.to_string()])
            .unwrap();
        let vehicles = serde_json::json!([{ "colour": "red" }]);
        let doc = serde_json::json!({ "id": perpetrator, "names": ["y"], "vehicles": vehicles });
        conn.execute(
            "INSERT INTO perpetrators (id, doc, updated_hlc) VALUES (?1, ?2, '0')",
            [perpetrator, &doc.to_string()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO field_heads (record_id, field, op_id, hlc, value) VALUES (?1, 'consents', 'op', '1', ?2)",
            [victim, &consents.to_string()],
        )
        .unwrap();
        migrate(&mut conn).unwrap();

        let read = |sql: &str| -> serde_json::Value {
            serde_json::from_str(&conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap()).unwrap()
        };
        let victim_doc = read("SELECT doc FROM victims");
        let expected = waymark_domain::merge::identify_entries(victim.parse().unwrap(), "consents", &consents);
        assert_eq!(victim_doc["consents"], expected);
        let ids: Vec<&str> = expected.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_ne!(ids[0], ids[1], "two identical consents stay two");
        assert!(victim_doc["dependants"][0]["id"].is_string());
        assert_eq!(
            victim_doc["sharing_without_consent"],
            serde_json::json!([]),
            "a missing list reads as an empty one"
        );
        assert!(read("SELECT doc FROM perpetrators")["vehicles"][0]["id"].is_string());
        assert_eq!(read("SELECT value FROM field_heads"), expected, "a kept concurrent write shows the same ids");
        let read_back: Vec<waymark_domain::Consent> = serde_json::from_value(victim_doc["consents"].clone()).unwrap();
        assert!(read_back.iter().all(|c| c.id.is_some()), "the ids read as the record type's");
    }
}
