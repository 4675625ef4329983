//! Encrypted backup and restore.
//!
//! A backup is one age file whose plaintext is the JSON described in
//! `docs/backup-format.md`. It is built in memory from one read transaction
//! (a consistent snapshot) and only ever written to disk encrypted. A standard
//! `age` tool decrypts it with the passphrase or a recipient's identity.
//!
//! Restore decrypts and checks the whole file, builds a new encrypted database
//! beside the current one, verifies its audit chain, and only then swaps it in.
//! Any failure before the swap leaves the existing vault untouched.

use crate::audit::{self, AuditAction};
use crate::db::{self, DB_FILE};
use crate::error::{Result, VaultError};
use crate::vault::Vault;
use age::secrecy::SecretString;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::iter;
use std::path::Path;
use waymark_domain::RecordKind;

pub const FORMAT: &str = "waymark-backup";
/// Version 2 added `sync`. Restore reads 1 and 2.
pub const FORMAT_VERSION: u32 = 2;
/// What a restored vault needs to merge as it did before: the ops it
/// received, each field's clock and heads, conflicts and problems. Without
/// them, ops pulled again after a restore would apply a second time.
/// `erasures` (schema 11) keeps the cases the clinic erased, so a restored
/// vault's op log still verifies; the subject access tables (schema 12) keep
/// each request's deadline and the advocate's releases and exemptions.
const SYNC_TABLES: [&str; 10] = [
    "received_ops",
    "record_clocks",
    "field_clocks",
    "field_heads",
    "sync_conflicts",
    "sync_problems",
    "erasures",
    "access_requests",
    "access_releases",
    "access_exemptions",
];
const RESTORE_FILE: &str = "vault.db.restoring";

/// Who can open a backup. age cannot mix a passphrase with other recipients,
/// so a backup is sealed to one or the other.
pub enum BackupTo {
    Passphrase { passphrase: SecretString, work_factor: u8 },
    Recipients(Vec<age::x25519::Recipient>),
}

/// How to open a backup.
pub enum BackupKey {
    Passphrase(SecretString),
    Identity(age::x25519::Identity),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDoc {
    pub format: String,
    pub format_version: u32,
    pub schema_version: u32,
    pub created_at: String,
    pub device_id: String,
    pub advocate: String,
    /// Every record by kind, as the domain serialises it.
    pub records: BTreeMap<String, Vec<RecordRow>>,
    pub ops: Vec<OpRow>,
    /// Op sequence numbers not yet acknowledged by the clinic.
    pub outbox: Vec<i64>,
    pub audit: Vec<AuditRow>,
    /// The device's clock and audit head.
    pub hlc: String,
    pub audit_head: Option<String>,
    /// Sync state by table (format version 2): each row as column → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<BTreeMap<String, Vec<BTreeMap<String, Value>>>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRow {
    pub doc: Value,
    pub updated_hlc: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpRow {
    pub seq: i64,
    pub op_id: String,
    pub hlc: String,
    pub made_at: String,
    pub actor: String,
    pub kind: String,
    pub record_id: String,
    pub case_id: Option<String>,
    pub action: String,
    pub changes: Value,
    pub schema_version: i64,
    /// Set on an erased case's op (schema 11): when it was erased; `changes` is the tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub kind: Option<String>,
    pub record_id: Option<String>,
    pub case_id: Option<String>,
    /// The detail exactly as it was hashed (JSON text).
    pub detail: String,
    /// Hex SHA-256 chaining this event to the one before.
    pub hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub records: usize,
    pub ops: usize,
    pub audit_events: usize,
    pub bytes: u64,
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn snapshot(conn: &mut Connection, now: &str) -> Result<BackupDoc> {
    // One read transaction: in WAL mode every SELECT below sees the same snapshot.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    let mut records = BTreeMap::new();
    for kind in RecordKind::ALL {
        let mut stmt = tx.prepare(&format!("SELECT doc, updated_hlc FROM {} ORDER BY id", kind.table()))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut list = Vec::new();
        for row in rows {
            let (doc, updated_hlc) = row?;
            list.push(RecordRow {
                doc: serde_json::from_str(&doc).map_err(|_| VaultError::DatabaseUnreadable)?,
                updated_hlc,
            });
        }
        records.insert(kind.wire().to_owned(), list);
    }
    let mut stmt = tx.prepare(
        "SELECT seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema_version, erased_at FROM ops ORDER BY seq",
    )?;
    let ops = stmt
        .query_map([], |r| {
            Ok(OpRow {
                seq: r.get(0)?,
                op_id: r.get(1)?,
                hlc: r.get(2)?,
                made_at: r.get(3)?,
                actor: r.get(4)?,
                kind: r.get(5)?,
                record_id: r.get(6)?,
                case_id: r.get(7)?,
                action: r.get(8)?,
                changes: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or(Value::Null),
                schema_version: r.get(10)?,
                erased_at: r.get(11)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let outbox = tx
        .prepare("SELECT seq FROM outbox ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    let mut stmt =
        tx.prepare("SELECT seq, at, actor, action, kind, record_id, case_id, detail, hash FROM audit ORDER BY seq")?;
    let audit = stmt
        .query_map([], |r| {
            Ok(AuditRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                kind: r.get(4)?,
                record_id: r.get(5)?,
                case_id: r.get(6)?,
                detail: r.get(7)?,
                hash: hex::encode(r.get::<_, Vec<u8>>(8)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let mut sync = BTreeMap::new();
    for table in SYNC_TABLES {
        sync.insert(table.to_owned(), dump_table(&tx, table)?);
    }
    let doc = BackupDoc {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version: db::schema_version(),
        created_at: now.to_owned(),
        device_id: meta(&tx, "device_id")?.unwrap_or_default(),
        advocate: meta(&tx, "advocate")?.unwrap_or_default(),
        records,
        ops,
        outbox,
        audit,
        hlc: meta(&tx, "hlc")?.unwrap_or_default(),
        audit_head: meta(&tx, "audit_head")?,
        sync: Some(sync),
    };
    tx.commit()?;
    Ok(doc)
}

/// Every row of one of our own tables, column by column.
fn dump_table(tx: &Connection, table: &str) -> Result<Vec<BTreeMap<String, Value>>> {
    let mut stmt = tx.prepare(&format!("SELECT * FROM {table}"))?;
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let rows = stmt.query_map([], |r| {
        let mut row = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let value = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(n) => json!(n),
                rusqlite::types::ValueRef::Real(x) => json!(x),
                rusqlite::types::ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                rusqlite::types::ValueRef::Blob(b) => Value::String(hex::encode(b)),
            };
            row.insert(name.clone(), value);
        }
        Ok(row)
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Loads rows from a backup into one of our tables. Column names come from
/// the file, so each must be a column the table has.
fn load_table(tx: &Connection, table: &str, rows: &[BTreeMap<String, Value>]) -> Result<()> {
    // Name and declared type: a BLOB column was written out as hex.
    let columns: Vec<(String, String)> = tx
        .prepare(&format!("SELECT name, type FROM pragma_table_info('{table}')"))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let is_blob = |name: &str| columns.iter().any(|(n, t)| n == name && t.eq_ignore_ascii_case("BLOB"));
    for row in rows {
        if row.is_empty() || row.keys().any(|k| !columns.iter().any(|(n, _)| n == k)) {
            return Err(VaultError::BackupCorrupt);
        }
        let names: Vec<&str> = row.keys().map(String::as_str).collect();
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let values: Vec<rusqlite::types::Value> = row
            .iter()
            .map(|(name, v)| match v {
                Value::Null => Ok(rusqlite::types::Value::Null),
                Value::Number(n) => n.as_i64().map(rusqlite::types::Value::Integer).ok_or(VaultError::BackupCorrupt),
                Value::String(s) if is_blob(name) => {
                    let bytes = hex::decode(s).map_err(|_| VaultError::BackupCorrupt)?;
                    // Ids are 16 bytes (an op id may be empty) and clocks 28:
                    // anything else would make the record unreadable later.
                    let fits = match name.as_str() {
                        "record_id" => bytes.len() == 16,
                        "op_id" => bytes.is_empty() || bytes.len() == 16,
                        "hlc" => bytes.len() == 28,
                        _ => true,
                    };
                    if fits {
                        Ok(rusqlite::types::Value::Blob(bytes))
                    } else {
                        Err(VaultError::BackupCorrupt)
                    }
                }
                Value::String(s) => Ok(rusqlite::types::Value::Text(s.clone())),
                _ => Err(VaultError::BackupCorrupt),
            })
            .collect::<Result<_>>()?;
        tx.prepare_cached(&format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), marks.join(", ")))?
            .execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

fn seal(plain: &[u8], to: &BackupTo) -> Result<Vec<u8>> {
    let encryptor = match to {
        BackupTo::Passphrase { passphrase, work_factor } => {
            let mut r = age::scrypt::Recipient::new(passphrase.clone());
            r.set_work_factor(*work_factor);
            age::Encryptor::with_recipients(iter::once(&r as &dyn age::Recipient))
        }
        BackupTo::Recipients(list) => {
            if list.is_empty() {
                return Err(waymark_domain::ValidationErrors::single("recipient", "at least one is needed").into());
            }
            age::Encryptor::with_recipients(list.iter().map(|r| r as &dyn age::Recipient))
        }
    }
    .map_err(|_| VaultError::BackupCorrupt)?;
    let mut out = Vec::with_capacity(plain.len() + 1024);
    let mut writer = encryptor.wrap_output(&mut out).map_err(VaultError::io("encrypt backup"))?;
    writer.write_all(plain).map_err(VaultError::io("encrypt backup"))?;
    writer.finish().map_err(VaultError::io("encrypt backup"))?;
    Ok(out)
}

fn open_sealed(sealed: &[u8], key: &BackupKey) -> Result<Vec<u8>> {
    let decryptor =
        age::Decryptor::new_buffered(age::armor::ArmoredReader::new(sealed)).map_err(|_| VaultError::BackupCorrupt)?;
    let mut scrypt_identity;
    let identity: &dyn age::Identity = match key {
        BackupKey::Passphrase(p) => {
            scrypt_identity = age::scrypt::Identity::new(p.clone());
            scrypt_identity.set_max_work_factor(crate::keyfile::MAX_WORK_FACTOR);
            &scrypt_identity
        }
        BackupKey::Identity(i) => i,
    };
    let mut reader = decryptor.decrypt(iter::once(identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys
        | age::DecryptError::DecryptionFailed
        | age::DecryptError::KeyDecryptionFailed => VaultError::BackupNotForYou,
        age::DecryptError::ExcessiveWork { .. } => VaultError::BackupExcessiveWork,
        _ => VaultError::BackupCorrupt,
    })?;
    let mut plain = Vec::new();
    // Each 64 KiB chunk is authenticated, and the last is marked, so damage or truncation fails here.
    reader.read_to_end(&mut plain).map_err(|_| VaultError::BackupCorrupt)?;
    Ok(plain)
}

fn load_into(conn: &mut Connection, doc: &BackupDoc, key_id: &str) -> Result<()> {
    let tx = conn.transaction()?;
    for (kind_name, rows) in &doc.records {
        let kind = RecordKind::from_wire(kind_name).ok_or(VaultError::BackupCorrupt)?;
        for row in rows {
            // Every record must still read as its type, or the backup is refused.
            let record =
                waymark_domain::Record::from_doc(kind, row.doc.clone()).map_err(|_| VaultError::BackupCorrupt)?;
            crate::documents::insert(&tx, kind, &record.id().to_string(), &row.doc.to_string(), &row.updated_hlc)?;
        }
    }
    // A backup from before schema 11 is loaded into a vault at its own schema, which has no `erased_at`.
    let erased_column = if doc.schema_version >= 11 { ", erased_at" } else { "" };
    let erased_value = if doc.schema_version >= 11 { ", ?12" } else { "" };
    let mut stmt = tx.prepare(&format!(
        "INSERT INTO ops (seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema_version{erased_column})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11{erased_value})",
    ))?;
    for op in &doc.ops {
        if doc.schema_version < 11 && op.erased_at.is_some() {
            return Err(VaultError::BackupCorrupt);
        }
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(12);
        let changes = op.changes.to_string();
        values.extend::<[&dyn rusqlite::ToSql; 11]>([
            &op.seq,
            &op.op_id,
            &op.hlc,
            &op.made_at,
            &op.actor,
            &op.kind,
            &op.record_id,
            &op.case_id,
            &op.action,
            &changes,
            &op.schema_version,
        ]);
        if doc.schema_version >= 11 {
            values.push(&op.erased_at);
        }
        stmt.execute(values.as_slice())?;
    }
    drop(stmt);
    for seq in &doc.outbox {
        tx.execute("INSERT INTO outbox (seq) VALUES (?1)", [seq])?;
    }
    let mut stmt = tx.prepare(
        "INSERT INTO audit (seq, at, actor, action, kind, record_id, case_id, detail, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for a in &doc.audit {
        let hash = hex::decode(&a.hash).map_err(|_| VaultError::BackupCorrupt)?;
        stmt.execute(params![a.seq, a.at, a.actor, a.action, a.kind, a.record_id, a.case_id, a.detail, hash])?;
    }
    drop(stmt);
    // A table this build does not know is refused; known ones load in their
    // listed order, so a subject access request is in before its releases.
    if doc.sync.iter().flatten().any(|(table, _)| !SYNC_TABLES.contains(&table.as_str())) {
        return Err(VaultError::BackupCorrupt);
    }
    for table in SYNC_TABLES {
        if let Some(rows) = doc.sync.as_ref().and_then(|sync| sync.get(table)) {
            load_table(&tx, table, rows)?;
        }
    }
    let set = |k: &str, v: &str| tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![k, v]).map(|_| ());
    set("device_id", &doc.device_id)?;
    set("advocate", &doc.advocate)?;
    set("hlc", &doc.hlc)?;
    set("key_id", key_id)?;
    set("created_at", &doc.created_at)?;
    if let Some(head) = &doc.audit_head {
        set("audit_head", head)?;
    }
    // The restored trail must verify exactly as it did when backed up.
    audit::verify(&tx).map_err(|_| VaultError::BackupCorrupt)?;
    tx.commit()?;
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VaultError::io("remove stale file")(e)),
        _ => Ok(()),
    }
}

fn remove_database_files(dir: &Path, name: &str) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        remove_if_exists(&dir.join(format!("{name}{suffix}")))?;
    }
    Ok(())
}

impl Vault {
    /// Writes an encrypted, consistent snapshot to `out`. The file appears
    /// whole or not at all. Audited as an export.
    pub fn backup(&mut self, out: &Path, to: &BackupTo) -> Result<BackupSummary> {
        // A backup under a guessable passphrase would undo the vault's own.
        if let BackupTo::Passphrase { passphrase, .. } = to {
            crate::keyfile::check_passphrase_strength(passphrase)?;
        }
        let now = self.now().to_rfc3339();
        let doc = snapshot(self.conn_mut(), &now)?;
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(&doc).map_err(|_| VaultError::DatabaseUnreadable)?);
        let sealed = seal(&plain, to)?;
        let folder = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name =
            out.file_name().ok_or_else(|| waymark_domain::ValidationErrors::single("out", "must name a file"))?;
        crate::fsutil::write_atomic(folder, &name.to_string_lossy(), &sealed)?;
        let summary = BackupSummary {
            records: doc.records.values().map(Vec::len).sum(),
            ops: doc.ops.len(),
            audit_events: doc.audit.len(),
            bytes: u64::try_from(sealed.len()).unwrap_or(u64::MAX),
        };
        let recipients = match to {
            BackupTo::Passphrase { .. } => json!("passphrase"),
            BackupTo::Recipients(r) => json!(r.len()),
        };
        self.record_event(
            AuditAction::Export,
            None,
            None,
            None,
            json!({ "document": "backup", "records": summary.records, "recipients": recipients }),
        )?;
        tracing::info!(records = summary.records, bytes = summary.bytes, "backup written");
        Ok(summary)
    }

    /// Replaces this vault's contents with a backup. Everything is checked
    /// before the swap; on any error the vault is exactly as it was.
    pub fn restore(&mut self, file: &Path, key: &BackupKey) -> Result<BackupSummary> {
        let sealed = std::fs::read(file).map_err(VaultError::io("read backup"))?;
        let plain = zeroize::Zeroizing::new(open_sealed(&sealed, key)?);
        let doc: BackupDoc = serde_json::from_slice(&plain).map_err(|_| VaultError::BackupCorrupt)?;
        if doc.format != FORMAT || !(1..=FORMAT_VERSION).contains(&doc.format_version) {
            return Err(VaultError::BackupCorrupt);
        }
        if doc.schema_version > db::schema_version() {
            return Err(VaultError::NewerSchema { found: doc.schema_version, supported: db::schema_version() });
        }
        let dir = self.dir().to_owned();
        remove_database_files(&dir, RESTORE_FILE)?;
        let staged = (|| {
            let mut conn = db::open(&dir.join(RESTORE_FILE), Some(self.db_key()), true)?;
            // Loaded at the schema it was taken at, then brought up to date like any older vault.
            db::migrate_to(&mut conn, doc.schema_version.max(1))?;
            load_into(&mut conn, &doc, &self.key_id())?;
            db::migrate(&mut conn)?;
            // Closing checkpoints the WAL into the file, so one file moves.
            conn.close().map_err(|(_, e)| VaultError::from(e))
        })();
        if let Err(e) = staged {
            remove_database_files(&dir, RESTORE_FILE)?;
            return Err(e);
        }
        self.swap_database(&dir.join(RESTORE_FILE))?;
        let summary = BackupSummary {
            records: doc.records.values().map(Vec::len).sum(),
            ops: doc.ops.len(),
            audit_events: doc.audit.len(),
            bytes: u64::try_from(sealed.len()).unwrap_or(u64::MAX),
        };
        self.record_event(AuditAction::Restore, None, None, None, json!({ "records": summary.records }))?;
        tracing::info!(records = summary.records, "backup restored");
        Ok(summary)
    }
}

impl Vault {
    /// Closes the live database, moves the staged one over it, and reopens.
    fn swap_database(&mut self, staged: &Path) -> Result<()> {
        let dir = self.dir().to_owned();
        let placeholder = Connection::open_in_memory()?;
        let live = std::mem::replace(self.conn_mut(), placeholder);
        // A clean close checkpoints and removes the WAL; only then is the file alone the database.
        live.close().map_err(|(_, e)| VaultError::from(e))?;
        for suffix in ["-wal", "-shm"] {
            remove_if_exists(&dir.join(format!("{DB_FILE}{suffix}")))?;
        }
        std::fs::rename(staged, dir.join(DB_FILE)).map_err(VaultError::io("swap in restored database"))?;
        crate::fsutil::sync_dir(&dir)?;
        let mut conn = db::open(&dir.join(DB_FILE), Some(self.db_key()), false)?;
        db::migrate(&mut conn)?;
        *self.conn_mut() = conn;
        self.reload_state()
    }
}
