//! The vault: one encrypted database and its key file, opened, locked and re-keyed.
//! Writes are in `commit.rs`, reads in `reads.rs`.

mod commit;
mod reads;
mod replica;

pub use replica::{Replica, REPLICA_ACTOR};

pub(crate) use commit::{append_op, check_references, NewOp};

use crate::audit::{self, AuditAction, AuditEntry};
use crate::db;
use crate::error::{Result, VaultError};
use crate::keyfile::{check_passphrase_strength, DbKey, KeyFile, KEY_FILE, SHIPPED_WORK_FACTOR};
use crate::throttle::Attempts;
use age::secrecy::SecretString;
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;
use waymark_domain::hlc::Hlc;
use waymark_domain::instruments::Instruments;
use waymark_domain::patch::{NewRecord, Patch};
use waymark_domain::records::{Ctx, ServiceRules};
use waymark_domain::rules::Rules;
use waymark_domain::time::{london_date, Clock};
use waymark_domain::{Address, CaseId, DeviceId, Entity, Record, RecordKind, ValidationErrors, Victim};
use waymark_protocol::OpAction;

/// The system clock. Business logic takes a `Clock`, so tests pass their own.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The laptop's one reading of the system clock.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Time and randomness, passed in.
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub rng: Box<dyn RngCore + Send>,
}

impl Env {
    pub fn system() -> Self {
        use rand::SeedableRng;
        Self { clock: Arc::new(SystemClock), rng: Box::new(rand::rngs::StdRng::from_entropy()) }
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The advocate's staff code, recorded as the actor of every change.
    pub advocate: String,
    pub recovery: Option<age::x25519::Recipient>,
    pub work_factor: u8,
}

impl InitOptions {
    pub fn new(advocate: impl Into<String>) -> Self {
        Self { advocate: advocate.into(), recovery: None, work_factor: SHIPPED_WORK_FACTOR }
    }
}

/// A change for the write path.
#[derive(Debug, Clone)]
pub enum Mutation {
    Create(Record),
    Update(Record),
}

/// Service configuration a vault folder may carry: `rules.toml` and
/// `instruments/*.toml` replace the shipped copies without a new build.
fn load_service_config(dir: &Path) -> Result<(Rules, Instruments)> {
    // Only a missing file means the shipped rules; one that cannot be read stops the unlock.
    let rules = match std::fs::read_to_string(dir.join("rules.toml")) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(VaultError::io("read rules.toml")(e)),
    };
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("instruments")) {
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                files.push((name, std::fs::read_to_string(&path).map_err(VaultError::io("read instrument file"))?));
            }
        }
    }
    let service = ServiceRules::from_files(rules.as_deref(), files).map_err(VaultError::Invalid)?;
    Ok((service.rules, service.instruments))
}

/// An unlocked vault. Dropping it (or `lock`) closes the database and
/// zeroises the key.
pub struct Vault {
    pub(crate) dir: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) key: DbKey,
    pub(crate) device: DeviceId,
    pub(crate) actor: String,
    pub(crate) hlc: Hlc,
    pub(crate) env: Env,
    pub(crate) rules: Rules,
    pub(crate) instruments: Instruments,
    /// Set only inside `with_address_confirmed`: the address guard's warning was accepted.
    pub(crate) address_confirmed: bool,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("device", &self.device).field("key", &self.key).finish_non_exhaustive()
    }
}

/// A new store's identity: its device, key id, actor, creation time and clock.
pub(crate) fn stamp_identity(
    tx: &Connection,
    key: &DbKey,
    actor: &str,
    device: DeviceId,
    now: DateTime<Utc>,
) -> Result<()> {
    meta_set(tx, "device_id", &device.to_string())?;
    meta_set(tx, "key_id", &key.key_id())?;
    meta_set(tx, "advocate", actor)?;
    meta_set(tx, "created_at", &now.to_rfc3339())?;
    meta_set(tx, "hlc", &Hlc::zero(device).to_string())
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The platform's local data folder's `vault` (`~/.local/share/waymark/vault`
/// on Linux), shared by the CLI and the desktop app so both open the same
/// vault. Local, not roaming: on Windows a roaming profile would copy the
/// vault to a file server, beyond a remote wipe's reach.
pub fn default_vault_dir() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("org", "Waymark", "Waymark").map(|d| d.data_local_dir().join("vault"))
}

pub fn vault_exists(dir: &Path) -> bool {
    dir.join(KEY_FILE).exists() || dir.join(db::DB_FILE).exists()
}

impl Vault {
    /// Creates a vault: a fresh random database key, wrapped to the passphrase
    /// (and the recovery recipient), and an empty migrated database.
    pub fn init(dir: &Path, passphrase: &SecretString, options: &InitOptions, mut env: Env) -> Result<Vault> {
        check_passphrase_strength(passphrase)?;
        if options.advocate.trim().is_empty() {
            return Err(ValidationErrors::single("advocate", "must not be empty").into());
        }
        std::fs::create_dir_all(dir).map_err(VaultError::io("create vault folder"))?;
        if vault_exists(dir) {
            return Err(VaultError::AlreadyExists);
        }
        restrict_permissions(dir)?;
        let key = DbKey::generate();
        // The key file goes first: a database without its key would be unreadable forever.
        KeyFile::wrap(&key, passphrase, options.work_factor, options.recovery.as_ref())?.write_atomic(dir)?;
        let mut conn = db::open(&dir.join(db::DB_FILE), Some(&key), true)?;
        db::migrate(&mut conn)?;
        let now = env.clock.now();
        let device = DeviceId::new(now, env.rng.as_mut());
        let tx = conn.transaction()?;
        stamp_identity(&tx, &key, options.advocate.trim(), device, now)?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: options.advocate.trim(),
                action: AuditAction::VaultCreated,
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({}),
            },
        )?;
        tx.commit()?;
        drop(conn);
        tracing::info!(device = %device, "vault created");
        Self::open_with_key(dir, key, env)
    }

    /// Unlocks with the passphrase. Wrong passphrases are counted on disk and
    /// each further attempt must wait longer. A wrong passphrase changes nothing else.
    pub fn unlock(dir: &Path, passphrase: &SecretString, mut env: Env) -> Result<Vault> {
        let now = env.clock.now();
        Attempts::load(dir).check(now)?;
        crate::rekey::settle(dir, passphrase, env.rng.as_mut())?;
        let keyfile = KeyFile::read(dir)?;
        let key = match keyfile.unwrap_with_passphrase(passphrase) {
            Ok(k) => k,
            Err(VaultError::WrongPassphrase { .. }) => {
                tracing::warn!("unlock refused: wrong passphrase");
                return Err(Attempts::record_failure(dir, now)?);
            }
            Err(e) => return Err(e),
        };
        let vault = Self::open_with_key(dir, key, env)?;
        Attempts::reset(dir)?;
        Ok(vault)
    }

    /// A vault over a plain, unencrypted SQLite file, for the benchmark's
    /// baseline only. Never built into the app: it needs the `bench` feature.
    #[cfg(feature = "bench")]
    #[doc(hidden)]
    pub fn bench_plaintext(dir: &Path, advocate: &str, mut env: Env) -> Result<Vault> {
        std::fs::create_dir_all(dir).map_err(VaultError::io("create vault folder"))?;
        let mut conn = db::open(&dir.join(db::DB_FILE), None, true)?;
        db::migrate(&mut conn)?;
        let now = env.clock.now();
        let device = DeviceId::new(now, env.rng.as_mut());
        meta_set(&conn, "device_id", &device.to_string())?;
        meta_set(&conn, "advocate", advocate)?;
        meta_set(&conn, "hlc", &Hlc::zero(device).to_string())?;
        let (rules, instruments) = load_service_config(dir)?;
        Ok(Vault {
            dir: dir.to_owned(),
            conn,
            key: DbKey::generate(),
            device,
            actor: advocate.to_owned(),
            hlc: Hlc::zero(device),
            env,
            rules,
            instruments,
            address_confirmed: false,
        })
    }

    #[cfg(feature = "bench")]
    #[doc(hidden)]
    pub fn bench_scalar(&self, sql: &str) -> i64 {
        self.conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
    }

    /// The `limit` largest tables and indexes by the pages they occupy.
    #[cfg(feature = "bench")]
    #[doc(hidden)]
    pub fn bench_table_sizes(&self, limit: i64) -> Vec<(String, i64)> {
        let Ok(mut statement) =
            self.conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT ?1")
        else {
            return Vec::new();
        };
        statement
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default()
    }

    fn open_with_key(dir: &Path, key: DbKey, env: Env) -> Result<Vault> {
        let mut conn = db::open(&dir.join(db::DB_FILE), Some(&key), false).map_err(|e| match e {
            VaultError::DatabaseUnreadable => VaultError::KeyMismatch,
            other => other,
        })?;
        db::migrate(&mut conn)?;
        if meta_get(&conn, "key_id")?.as_deref() != Some(key.key_id().as_str()) {
            return Err(VaultError::KeyMismatch);
        }
        let device: DeviceId =
            meta_get(&conn, "device_id")?.and_then(|d| d.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        let actor = meta_get(&conn, "advocate")?.ok_or(VaultError::DatabaseUnreadable)?;
        let hlc: Hlc = meta_get(&conn, "hlc")?.and_then(|h| h.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        let (rules, instruments) = load_service_config(dir)?;
        tracing::info!(device = %device, "vault unlocked");
        Ok(Vault {
            dir: dir.to_owned(),
            conn,
            key,
            device,
            actor,
            hlc,
            env,
            rules,
            instruments,
            address_confirmed: false,
        })
    }

    /// Closes the database and zeroises the key.
    pub fn lock(self) {
        let Vault { conn, key, .. } = self;
        // Closing checkpoints the WAL; SQLCipher wipes its key copies (cipher_memory_security).
        if let Err((_, e)) = conn.close() {
            tracing::warn!(code = %VaultError::from(e).code(), "closing the database reported an error");
        }
        drop(key);
        tracing::info!("vault locked");
    }

    /// Checks a passphrase without keeping the vault open.
    pub fn check_passphrase(dir: &Path, passphrase: &SecretString, env: Env) -> Result<String> {
        let vault = Self::unlock(dir, passphrase, env)?;
        let key_id = vault.key.key_id();
        vault.lock();
        Ok(key_id)
    }

    /// Rewraps the key under a new passphrase. Only the key file changes, atomically.
    pub fn change_passphrase(
        dir: &Path,
        old: &SecretString,
        new: &SecretString,
        work_factor: u8,
        env: Env,
    ) -> Result<()> {
        check_passphrase_strength(new)?;
        let mut vault = Self::unlock(dir, old, env)?;
        let keyfile = KeyFile::read(dir)?;
        keyfile.rewrap_passphrase(&vault.key, new, work_factor)?.write_atomic(dir)?;
        vault.record_event(AuditAction::PassphraseChanged, None, None, None, json!({}))?;
        vault.lock();
        Ok(())
    }

    /// Sets a new passphrase using the clinic's recovery identity. The data is untouched.
    pub fn recover(
        dir: &Path,
        identity: &age::x25519::Identity,
        new: &SecretString,
        work_factor: u8,
        mut env: Env,
    ) -> Result<()> {
        check_passphrase_strength(new)?;
        // A re-key stopped part way is settled first, so the key rewrapped is the one the database has.
        crate::rekey::settle_with(dir, &|file: &KeyFile| file.unwrap_with_recovery(identity), env.rng.as_mut())?;
        let keyfile = KeyFile::read(dir)?;
        let key = keyfile.unwrap_with_recovery(identity)?;
        keyfile.rewrap_passphrase(&key, new, work_factor)?.write_atomic(dir)?;
        Attempts::reset(dir)?;
        let mut vault = Self::open_with_key(dir, key, env)?;
        vault.record_event(AuditAction::PassphraseRecovered, None, None, None, json!({}))?;
        vault.lock();
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn device(&self) -> DeviceId {
        self.device
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn key_id(&self) -> String {
        self.key.key_id()
    }
    pub fn rules(&self) -> &Rules {
        &self.rules
    }
    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }
    pub fn today(&self) -> NaiveDate {
        london_date(self.now())
    }
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
    pub(crate) fn db_key(&self) -> &DbKey {
        &self.key
    }
    /// Rereads the device's identity and clock after the database was replaced.
    pub(crate) fn reload_state(&mut self) -> Result<()> {
        self.device =
            meta_get(&self.conn, "device_id")?.and_then(|d| d.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        self.actor = meta_get(&self.conn, "advocate")?.ok_or(VaultError::DatabaseUnreadable)?;
        self.hlc = meta_get(&self.conn, "hlc")?.and_then(|h| h.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        Ok(())
    }

    /// New entries of the record's consents, dependants or vehicles lists get
    /// their ids before the record is returned (`commit` gives any still missing).
    fn give_entry_ids(&mut self, kind: RecordKind, doc: &mut Value) {
        let now = self.env.clock.now();
        waymark_domain::merge::give_entry_ids(kind, doc, || waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()));
    }

    pub(crate) fn new_uuid(&mut self) -> Uuid {
        let now = self.env.clock.now();
        waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut())
    }
}

/// The vault folder is readable by its owner only.
fn restrict_permissions(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(VaultError::io("set folder permissions"))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
