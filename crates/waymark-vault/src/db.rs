//! Opening the SQLCipher database and migrating it.

use crate::error::{Result, VaultError};
use crate::keyfile::DbKey;
use rusqlite::Connection;
use std::path::Path;
use waymark_sqlcipher::{Migration, Tuning};

pub const DB_FILE: &str = "vault.db";

/// Append-only: a landed migration is never edited (a test checks them
/// against `migrations.lock`). The index + 1 is the schema version.
pub const MIGRATIONS: &[Migration] = &[
    Migration { name: "0001_init", sql: include_str!("migrations/0001_init.sql") },
    Migration { name: "0002_sync", sql: include_str!("migrations/0002_sync.sql") },
    Migration { name: "0003_shared_references", sql: include_str!("migrations/0003_shared_references.sql") },
    Migration { name: "0004_field_heads", sql: include_str!("migrations/0004_field_heads.sql") },
    Migration { name: "0005_entry_ids", sql: include_str!("migrations/0005_entry_ids.sql") },
    Migration { name: "0006_compact_clocks", sql: include_str!("migrations/0006_compact_clocks.sql") },
    Migration { name: "0007_referral_details", sql: include_str!("migrations/0007_referral_details.sql") },
    Migration { name: "0008_escalation_reviews", sql: include_str!("migrations/0008_escalation_reviews.sql") },
    Migration { name: "0009_panel_decisions", sql: include_str!("migrations/0009_panel_decisions.sql") },
    Migration { name: "0010_return_fields", sql: include_str!("migrations/0010_return_fields.sql") },
    Migration { name: "0011_erasure", sql: include_str!("migrations/0011_erasure.sql") },
    Migration { name: "0012_subject_access", sql: include_str!("migrations/0012_subject_access.sql") },
    Migration { name: "0013_access_identity", sql: include_str!("migrations/0013_access_identity.sql") },
];

/// A 32 MiB page cache holds a caseload's working set, so pages are not
/// decrypted again on every listing (SQLite's default is 2 MiB).
const TUNING: Tuning = Tuning { busy_timeout_ms: 5000, cache_kib: Some(32 * 1024), foreign_keys: true };

pub fn schema_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Opens (or with `create`, creates) the database. `key: None` opens a plain
/// SQLite file: used only by the benchmark's baseline.
pub fn open(path: &Path, key: Option<&DbKey>, create: bool) -> Result<Connection> {
    if !create && !path.exists() {
        return Err(VaultError::NoVault);
    }
    let literal = key.map(DbKey::sqlcipher_pragma_value);
    waymark_sqlcipher::open(path, literal.as_ref().map(|k| k.as_str()), create, TUNING).map_err(from_store)
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
    register_functions(conn)?;
    waymark_sqlcipher::migrate_to(conn, MIGRATIONS, target).map_err(from_store)
}

fn from_store(e: waymark_sqlcipher::Error) -> VaultError {
    match e {
        waymark_sqlcipher::Error::NewerSchema { found, supported } => VaultError::NewerSchema { found, supported },
        waymark_sqlcipher::Error::WrongKey => VaultError::DatabaseUnreadable,
        waymark_sqlcipher::Error::Sql(e) => e.into(),
    }
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

    #[test]
    fn the_op_schema_the_protocol_names_is_this_vaults() {
        // Ops carry the vault's schema; the clinic holds any newer than the
        // protocol's constant, so a migration added without raising it would
        // let a newer op through an older clinic.
        assert_eq!(schema_version(), waymark_protocol::SCHEMA_VERSION);
    }

    use super::*;
    use waymark_domain::codes::ErrorCode;

    #[test]
    fn landed_migrations_are_never_edited() {
        // migrations.lock records the hash of every landed migration. Editing
        // one fails here; adding one means appending a line to the lock file.
        waymark_sqlcipher::check_lock(MIGRATIONS, include_str!("migrations.lock")).unwrap();
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
        for (index, migration) in MIGRATIONS.iter().enumerate().take(4) {
            conn.execute_batch(migration.sql).unwrap();
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
