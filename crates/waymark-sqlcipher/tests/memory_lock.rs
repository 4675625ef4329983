//! Locking the whole process decides how every database opened after it
//! guards its memory. SQLCipher's setting is global to the process and can
//! only be switched on, so this runs in a process of its own.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

fn locked_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn memory_security(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA cipher_memory_security", [], |r| r.get(0)).unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn a_locked_process_skips_per_allocation_locking_and_an_unlocked_one_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("x'{}'", "ab".repeat(32));
    let tuning = waymark_sqlcipher::Tuning { busy_timeout_ms: 1000, cache_kib: None, foreign_keys: false };
    let locked = waymark_sqlcipher::lock_process_memory();
    let conn = waymark_sqlcipher::open(&dir.path().join("a.db"), Some(&key), true, tuning).unwrap();
    conn.execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(100000));").unwrap();
    match locked {
        Ok(()) => {
            assert!(waymark_sqlcipher::process_memory_locked());
            // Pages touched since are locked: a fresh megabyte shows in the kernel's count.
            let before = locked_kib();
            let touched = std::hint::black_box(vec![1u8; 4 << 20]);
            assert!(locked_kib() >= before + 3 * 1024, "a new allocation was not locked");
            drop(touched);
            assert_eq!(memory_security(&conn), "0", "a locked process still locks each allocation");
        }
        Err(e) => {
            // Nothing locked, so each of SQLite's allocations must be: the slow, safe way.
            assert!(!waymark_sqlcipher::process_memory_locked(), "{e}");
            assert_eq!(memory_security(&conn), "1", "an unlocked process left SQLite's memory unguarded");
        }
    }
}
