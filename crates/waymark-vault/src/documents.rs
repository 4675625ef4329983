//! The document gateway: the one place a record's stored document is
//! written, and read by id for a write. The local write path
//! (`Vault::commit`), applying the clinic's ops (`sync/apply.rs`), a person's
//! decision of a conflict (`sync/decisions.rs`) and restoring a backup
//! (`backup.rs`) all come through here; `cargo xtask tidy` checks no other
//! vault source writes a record table. Each caller then logs the change its
//! own way (an op and its field clocks, or the received op it applied).

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use waymark_domain::RecordKind;

/// A stored document and the clock of its last write.
pub(crate) fn read(conn: &Connection, kind: RecordKind, id: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .prepare_cached(&format!("SELECT doc, updated_hlc FROM {} WHERE id = ?1", kind.table()))?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub(crate) fn insert(conn: &Connection, kind: RecordKind, id: &str, doc: &str, hlc: &str) -> Result<()> {
    conn.prepare_cached(&format!("INSERT INTO {} (id, doc, updated_hlc) VALUES (?1, ?2, ?3)", kind.table()))?
        .execute(params![id, doc, hlc])?;
    Ok(())
}

pub(crate) fn update(conn: &Connection, kind: RecordKind, id: &str, doc: &str, hlc: &str) -> Result<()> {
    conn.prepare_cached(&format!("UPDATE {} SET doc = ?2, updated_hlc = ?3 WHERE id = ?1", kind.table()))?
        .execute(params![id, doc, hlc])?;
    Ok(())
}

/// Deletes every record of a case, of every kind (the case's own document
/// last), and returns their ids. Only erasing a case the clinic erased
/// (`sync/erase.rs`) deletes a document.
pub(crate) fn erase_case(conn: &Connection, case_id: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let kinds = RecordKind::ALL.iter().copied().filter(|k| *k != RecordKind::Case).chain([RecordKind::Case]);
    for kind in kinds {
        let table = kind.table();
        let mut stmt = conn.prepare_cached(&format!("SELECT id FROM {table} WHERE case_id = ?1"))?;
        for id in stmt.query_map([case_id], |r| r.get::<_, String>(0))? {
            ids.push(id?);
        }
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE case_id = ?1"))?.execute([case_id])?;
    }
    Ok(ids)
}
