//! Opening a SQLCipher database with the settings every Waymark store uses,
//! and the append-only migrator. The vault and the clinic keep their own SQL
//! and their own `migrations.lock`; how a database is opened, keyed and
//! brought up to date is written once, here.

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// One landed migration: its name (as in the lock file) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

/// How a store is tuned beyond the settings every store shares.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub busy_timeout_ms: u32,
    /// The page cache in KiB, when the default (2 MiB) is too small.
    pub cache_kib: Option<u32>,
    pub foreign_keys: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the database was written by a newer version (schema {found}; this one knows {supported})")]
    NewerSchema { found: u32, supported: u32 },
    /// The key does not open the file (or it is not a database at all).
    #[error("the database could not be read with this key")]
    WrongKey,
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Opens (with `create`, creates) a database. `key` is the SQLCipher key
/// literal (`x'…'` for a raw key); `None` opens a plain SQLite file, which
/// only the vault's benchmark baseline does. The first read proves the key.
pub fn open(path: &Path, key: Option<&str>, create: bool, tuning: Tuning) -> Result<Connection, Error> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    // Only a raw key literal goes into the statement below: anything else
    // (a passphrase, by mistake) could carry SQL with it.
    if key.is_some_and(|k| !is_raw_key_literal(k)) {
        return Err(Error::WrongKey);
    }
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(key) = key {
        // Keep SQLCipher's diagnostics off stderr: Waymark logs only when asked to.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        if !process_memory_locked() {
            // Lock and wipe each of SQLite's allocations, so decrypted pages
            // never reach swap. SQLCipher's key copies are locked and wiped
            // either way. A process locked whole needs neither (see below).
            conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
        }
        let statement = zeroize::Zeroizing::new(format!("PRAGMA key = \"{key}\";"));
        conn.execute_batch(&statement)?;
    }
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => Error::WrongKey,
        other => Error::Sql(other),
    })?;
    // Full sync so an acknowledged write survives a power cut; freed pages
    // are zeroed; temporary tables never touch the disk.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = {};
         PRAGMA busy_timeout = {};",
        if tuning.foreign_keys { "ON" } else { "OFF" },
        tuning.busy_timeout_ms
    ))?;
    if let Some(kib) = tuning.cache_kib {
        conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))?;
    }
    Ok(conn)
}

/// Set once this process has locked all its memory, for the rest of its life.
static PROCESS_LOCKED: AtomicBool = AtomicBool::new(false);

/// Whether `lock_process_memory` has locked this process's memory.
pub fn process_memory_locked() -> bool {
    PROCESS_LOCKED.load(Ordering::SeqCst)
}

/// Why a process's memory could not be locked whole.
#[derive(Debug, thiserror::Error)]
pub enum MemoryLockError {
    #[error("this process may lock only {limit_kib} KiB of memory; raise its limit (LimitMEMLOCK=infinity, as the clinic's service unit sets it) to lock it whole")]
    Limited { limit_kib: u64 },
    #[error("the system refused to lock this process's memory (error {errno})")]
    Refused { errno: i32 },
    #[error("locking a whole process's memory is done on Linux only")]
    Unsupported,
}

/// Locks every page this process has, and every page it will touch, in
/// memory, so nothing it holds (decrypted pages, the Rust heap, keys) can be
/// written to swap. Databases opened afterwards skip SQLCipher's
/// per-allocation locking (`cipher_memory_security`), which makes two system
/// calls and a random fill for each of SQLite's allocations and, in the
/// clinic's push, costs more than the store's own work while leaving the rest
/// of the heap unlocked. It is done only where the limit is, or can be made,
/// unbounded, or the process holds CAP_IPC_LOCK outside a user namespace:
/// under a finite limit, an allocation past it would fail later instead of now. A process that cannot lock keeps SQLCipher's
/// per-allocation locking. The desktop app never calls this: a laptop user's
/// limit is a few MiB, and its writes are small.
pub fn lock_process_memory() -> Result<(), MemoryLockError> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let mut limit = getrlimit(Resource::Memlock);
        if limit.current.is_some() {
            // Allowed when the hard limit is unbounded, or to a process that may raise it.
            let unbounded = Rlimit { current: None, maximum: None };
            if setrlimit(Resource::Memlock, unbounded).is_ok() {
                limit = unbounded;
            }
        }
        // A process locked under a finite limit would fail an allocation
        // later; CAP_IPC_LOCK lifts the limit, but only outside a user
        // namespace (inside one it shows in /proc and lifts nothing).
        if let (Some(bytes), false) = (limit.current, may_ignore_memlock_limit()) {
            return Err(MemoryLockError::Limited { limit_kib: bytes / 1024 });
        }
        // On fault: a page is locked when first touched, so thread stacks and
        // reserved heap are not made resident up front.
        use rustix::mm::{mlockall, MlockAllFlags};
        mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT)
            .map_err(|e| MemoryLockError::Refused { errno: e.raw_os_error() })?;
        PROCESS_LOCKED.store(true, Ordering::SeqCst);
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(MemoryLockError::Unsupported)
    }
}

/// Whether this process holds CAP_IPC_LOCK in the system's own user
/// namespace, where the kernel checks it.
#[cfg(target_os = "linux")]
fn may_ignore_memlock_limit() -> bool {
    const CAP_IPC_LOCK: u32 = 14;
    let initial_namespace = std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    let holds = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
            u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0);
    initial_namespace && holds
}

/// `x'` and 64 hex digits and `'`: a 32-byte key SQLCipher uses as it is.
fn is_raw_key_literal(key: &str) -> bool {
    key.len() == 67 && key.starts_with("x'") && key.ends_with('\'') && key[2..66].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The schema version a database is at (`PRAGMA user_version`).
pub fn version(conn: &Connection) -> Result<u32, Error> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to `target` (the number of migrations to have run),
/// each step in its own transaction with its version. A database from a
/// newer build is refused before anything is read.
pub fn migrate_to(conn: &mut Connection, migrations: &[Migration], target: u32) -> Result<u32, Error> {
    let found = version(conn)?;
    let supported = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
    if found > supported {
        return Err(Error::NewerSchema { found, supported });
    }
    for (index, migration) in
        migrations.iter().enumerate().skip(found as usize).take(target.min(supported).saturating_sub(found) as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(supported)
}

/// Checks the migrations against their lock file (`sha256 name` per line,
/// appended, never edited). Each store's tests call this: editing a landed
/// migration, or adding one without its line, fails the build.
pub fn check_lock(migrations: &[Migration], lock: &str) -> Result<(), String> {
    let recorded: Vec<(&str, &str)> = lock
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(' '))
        .collect();
    if recorded.len() != migrations.len() {
        return Err(format!("{} migrations but {} lines in the lock file", migrations.len(), recorded.len()));
    }
    for (migration, (hash, name)) in migrations.iter().zip(recorded) {
        if migration.name != name {
            return Err(format!("migration {} is locked as {name}", migration.name));
        }
        if hex::encode(Sha256::digest(migration.sql.as_bytes())) != hash {
            return Err(format!("migration {} was edited after landing", migration.name));
        }
    }
    Ok(())
}

/// Every page of a SQLCipher 4 database file and of its write-ahead log
/// (`<file>-wal`), decrypted with the database's raw 32-byte key, live,
/// free and stale pages alike: what someone holding the key could read from
/// the disk, not only what SQL shows. Tests search it for what an erasure
/// must have removed. Assumes SQLCipher 4's defaults: 4096-byte pages,
/// AES-256-CBC, and 80 reserved bytes (the IV and an HMAC-SHA512) per page.
#[cfg(any(test, feature = "test-kit"))]
pub fn plaintext_pages(path: &Path, raw_key: &[u8; 32]) -> std::io::Result<Vec<u8>> {
    use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
    const PAGE: usize = 4096;
    const RESERVE: usize = 80;
    const SALT: usize = 16;
    const WAL_HEADER: usize = 32;
    const FRAME_HEADER: usize = 24;
    let decrypt = |page: &[u8], first: bool, out: &mut Vec<u8>| {
        let start = if first { SALT } else { 0 };
        let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
        let mut body = page[start..PAGE - RESERVE].to_vec();
        let decryptor = cbc::Decryptor::<aes::Aes256>::new(raw_key.into(), iv.into());
        if let Ok(plain) = decryptor.decrypt_padded_mut::<NoPadding>(&mut body) {
            out.extend_from_slice(plain);
        }
    };
    let mut out = Vec::new();
    let file = std::fs::read(path)?;
    for (i, page) in file.chunks_exact(PAGE).enumerate() {
        decrypt(page, i == 0, &mut out);
    }
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    if let Ok(wal) = std::fs::read(&wal_path) {
        for frame in wal.get(WAL_HEADER..).unwrap_or_default().chunks_exact(FRAME_HEADER + PAGE) {
            let number = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            decrypt(&frame[FRAME_HEADER..], number == 1, &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] = &[
        Migration { name: "0001_a", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
        Migration { name: "0002_b", sql: "CREATE TABLE b (y INTEGER) STRICT;" },
    ];
    const TUNING: Tuning = Tuning { busy_timeout_ms: 100, cache_kib: None, foreign_keys: true };

    fn lock_of(steps: &[Migration]) -> String {
        steps.iter().map(|m| format!("{} {}\n", hex::encode(Sha256::digest(m.sql.as_bytes())), m.name)).collect()
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_deleted_row_leaves_no_plaintext_in_the_file_or_its_log_once_checkpointed() {
        // Why: an erased case must be unreadable even to someone holding the
        // key and reading freed pages. The scan reads every page decrypted, so
        // it must find the value while it is stored, and, without
        // `secure_delete` (the control), after it is deleted too.
        let key = [3u8; 32];
        let literal = format!("x'{}'", hex::encode(key));
        let canary = "Canarywood Lane, ZZ99 1CW";
        let dir = tempfile::tempdir().unwrap();
        let scan = |name: &str, secure: bool| -> (bool, bool, bool) {
            let path = dir.path().join(name);
            let conn = open(&path, Some(&literal), true, TUNING).unwrap();
            if !secure {
                conn.execute_batch("PRAGMA secure_delete = OFF;").unwrap();
            }
            conn.execute_batch("CREATE TABLE t (v TEXT) STRICT;").unwrap();
            for i in 0..50 {
                conn.execute("INSERT INTO t (v) VALUES (?1)", [format!("kept row {i}")]).unwrap();
            }
            conn.execute("INSERT INTO t (v) VALUES (?1)", [canary]).unwrap();
            let mut raw = std::fs::read(&path).unwrap();
            raw.extend(std::fs::read(dir.path().join(format!("{name}-wal"))).unwrap_or_default());
            let in_raw = contains(&raw, canary);
            let stored = contains(&plaintext_pages(&path, &key).unwrap(), canary);
            conn.execute("DELETE FROM t WHERE v = ?1", [canary]).unwrap();
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
            let after = contains(&plaintext_pages(&path, &key).unwrap(), canary);
            assert!(contains(&plaintext_pages(&path, &key).unwrap(), "kept row 49"), "the scan reads live rows");
            (in_raw, stored, after)
        };
        assert_eq!(
            scan("secure.db", true),
            (false, true, false),
            "encrypted on disk, readable with the key, then gone"
        );
        assert_eq!(scan("control.db", false), (false, true, true), "without secure_delete the freed bytes stay");
    }

    #[test]
    fn an_edited_or_unlocked_migration_is_caught() {
        let lock = lock_of(STEPS);
        assert!(check_lock(STEPS, &lock).is_ok());
        let edited = [STEPS[0], Migration { name: "0002_b", sql: "CREATE TABLE b (y TEXT) STRICT;" }];
        assert!(check_lock(&edited, &lock).unwrap_err().contains("edited"));
        let added = [STEPS[0], STEPS[1], Migration { name: "0003_c", sql: "SELECT 1;" }];
        assert!(check_lock(&added, &lock).is_err(), "a new migration needs its line");
    }

    #[test]
    fn a_keyed_database_migrates_step_by_step_and_refuses_a_newer_one_or_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let key = "x'0000000000000000000000000000000000000000000000000000000000000001'";
        let mut conn = open(&path, Some(key), true, TUNING).unwrap();
        migrate_to(&mut conn, STEPS, 1).unwrap();
        assert_eq!(version(&conn).unwrap(), 1);
        migrate_to(&mut conn, STEPS, 2).unwrap();
        conn.execute("INSERT INTO b (y) VALUES (1)", []).unwrap();
        drop(conn);
        let other = "x'0000000000000000000000000000000000000000000000000000000000000002'";
        let injected = "x'00\"; ATTACH DATABASE 'elsewhere' AS e; --";
        assert!(matches!(open(&path, Some(injected), false, TUNING), Err(Error::WrongKey)), "not a raw key");
        assert!(matches!(open(&path, Some(other), false, TUNING), Err(Error::WrongKey)));
        let mut conn = open(&path, Some(key), false, TUNING).unwrap();
        assert!(matches!(migrate_to(&mut conn, &STEPS[..1], 1), Err(Error::NewerSchema { found: 2, supported: 1 })));
        // The file on disk holds no plain SQLite header: it is encrypted.
        drop(conn);
        assert!(!std::fs::read(&path).unwrap().starts_with(b"SQLite format 3"));
    }
}
