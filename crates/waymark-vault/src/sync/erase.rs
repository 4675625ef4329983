//! Erasing a case the clinic erased (its signed `erase` op): the case's
//! records, the content of every op of it, this laptop's own and those it
//! received, replaced by a tombstone that keeps each op's slot and id (never
//! a hash of what it held, which would test guesses of a small value),
//! and the clocks, heads, conflicts, problems and snoozes that name its
//! records. The audit keeps who erased which case id when, and counts.

use super::*;
use std::collections::BTreeSet;

/// What an erased op's `changes` become, in the op log and on the wire. The
/// vault's trigger allows exactly this text (migration 11).
pub const TOMBSTONE: &str = r#"{"erased":true,"new":{}}"#;

/// How much of a case this laptop held when it was erased.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Erased {
    pub records: usize,
    pub ops: usize,
}

/// The erased case an incoming op (not an erase) is about: by its case id, or
/// by a record of it this laptop logged before the erasure.
pub(super) fn erased_case_of(tx: &Connection, op: &WireOp) -> Result<Option<Uuid>> {
    if op.action == OpAction::Erase {
        return Ok(None);
    }
    let by_record: Option<String> = tx
        .prepare_cached("SELECT case_id FROM ops WHERE record_id = ?1 AND erased_at IS NOT NULL LIMIT 1")?
        .query_row([op.record_id.to_string()], |r| r.get(0))
        .optional()?;
    for case in op.case_id.map(|c| c.to_string()).into_iter().chain(by_record) {
        if tx.prepare_cached("SELECT 1 FROM erasures WHERE case_id = ?1")?.exists([&case])? {
            return Ok(case.parse().ok());
        }
    }
    Ok(None)
}

/// Erases `case` in the caller's transaction. Run again, it finds nothing
/// more to erase and records nothing more.
pub(super) fn erase_case(
    tx: &Connection,
    case: Uuid,
    device: Uuid,
    erase_op: &WireOp,
    now: DateTime<Utc>,
) -> Result<Erased> {
    let case_text = case.to_string();
    let first = tx.execute(
        "INSERT OR IGNORE INTO erasures (case_id, erased_at, op_id) VALUES (?1, ?2, ?3)",
        params![case_text, now.to_rfc3339(), erase_op.op_id.to_string()],
    )? == 1;
    let mut records: BTreeSet<String> = crate::documents::erase_case(tx, &case_text)?.into_iter().collect();
    let held_records = records.len();
    // This laptop's own ops keep their slot, id and clock for the clinic's acknowledgements.
    let base = meta_u64(tx, SEQ_BASE)?;
    let own = super::outbox::own_ops(
        tx,
        "FROM ops WHERE case_id = ?1 AND erased_at IS NULL ORDER BY seq",
        [&case_text],
        device,
        base,
    )?;
    let mut op_ids: BTreeSet<String> = BTreeSet::new();
    for op in &own {
        records.insert(op.record_id.to_string());
        op_ids.insert(op.op_id.to_string());
        tx.prepare_cached("UPDATE ops SET changes = ?1, erased_at = ?2 WHERE op_id = ?3")?.execute(params![
            TOMBSTONE,
            now.to_rfc3339(),
            op.op_id.to_string()
        ])?;
    }
    // Ops received from the clinic keep their id and slot; text and hash become the tombstone's.
    let received: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT op_id, json_extract(op, '$.record_id') FROM received_ops
             WHERE json_extract(op, '$.case_id') = ?1 AND json_extract(op, '$.erased') IS NULL AND op_id <> ?2",
        )?
        .query_map([&case_text, &erase_op.op_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (op_id, record) in &received {
        records.insert(record.clone());
        op_ids.insert(op_id.clone());
        tx.prepare_cached("UPDATE received_ops SET op = ?1, content_hash = ?2, state = 'applied' WHERE op_id = ?3")?
            .execute(params![received_tombstone(case), ERASED_HASH, op_id])?;
    }
    for record in &records {
        let bytes = crate::clocks::id_bytes(record).unwrap_or_default();
        tx.prepare_cached("DELETE FROM record_clocks WHERE record_id = ?1")?.execute([&bytes])?;
        tx.prepare_cached("DELETE FROM field_clocks WHERE record_id = ?1")?.execute([&bytes])?;
        tx.prepare_cached("DELETE FROM field_heads WHERE record_id = ?1")?.execute([record])?;
        tx.prepare_cached("DELETE FROM sync_conflicts WHERE record_id = ?1")?.execute([record])?;
        tx.prepare_cached("DELETE FROM reminder_snoozes WHERE instr(reminder_key, ?1) > 0")?.execute([record])?;
    }
    tx.prepare_cached("DELETE FROM sync_conflicts WHERE case_id = ?1")?.execute([&case_text])?;
    // Subject access requests name the case and its records' fields: they go with it.
    for table in ["access_releases", "access_exemptions"] {
        tx.prepare_cached(&format!(
            "DELETE FROM {table} WHERE request_id IN (SELECT id FROM access_requests WHERE case_id = ?1)"
        ))?
        .execute([&case_text])?;
    }
    tx.prepare_cached("DELETE FROM access_requests WHERE case_id = ?1")?.execute([&case_text])?;
    for op_id in &op_ids {
        tx.prepare_cached("DELETE FROM sync_problems WHERE op_id = ?1")?.execute([op_id])?;
    }
    // A problem that kept an incoming op whole (quarantined, failed) names its case inside the op.
    tx.prepare_cached("DELETE FROM sync_problems WHERE op IS NOT NULL AND json_extract(op, '$.case_id') = ?1")?
        .execute([&case_text])?;
    let erased = Erased { records: held_records, ops: own.len() + received.len() };
    if first || erased.ops > 0 || erased.records > 0 {
        audit::append(
            tx,
            &AuditEntry {
                at: now,
                actor: &erase_op.actor,
                action: AuditAction::CaseErased,
                kind: Some(RecordKind::Case.wire()),
                record_id: Some(case_text.clone()),
                case_id: Some(case_text),
                detail: json!({"records": erased.records, "ops": erased.ops, "erase_op": erase_op.op_id.to_string()}),
            },
        )?;
    }
    Ok(erased)
}

/// What a received op of an erased case keeps instead of its content hash.
pub(super) const ERASED_HASH: &str = "erased";

/// A received op of an erased case as it is kept: which case, nothing else.
pub(super) fn received_tombstone(case: Uuid) -> String {
    json!({"erased": true, "case_id": case.to_string()}).to_string()
}

/// Set while an erasure's checkpoint has not completed (another process was
/// reading); every later pull tries again until it does.
const CHECKPOINT_OWED: &str = "erasure_checkpoint_owed";

/// Writes freed pages out of the write-ahead log and empties it, so no
/// earlier version of an erased page is left in either file (with
/// `secure_delete`, freed space is already zeroed). Another process reading
/// the vault (the CLI beside the app) can hold it back: then it is owed, and
/// tried again after every later pull until it completes.
pub(crate) fn checkpoint(conn: &Connection, erased_now: bool) -> Result<()> {
    if !erased_now && meta_get(conn, CHECKPOINT_OWED)?.is_none() {
        return Ok(());
    }
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy == 0 {
        conn.execute("DELETE FROM meta WHERE key = ?1", [CHECKPOINT_OWED])?;
        // The note above went to the log again: empty it once more, best effort.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    } else {
        tracing::warn!("the write-ahead log could not be emptied after an erasure; it is tried again at the next pull");
        meta_set(conn, CHECKPOINT_OWED, "1")?;
    }
    Ok(())
}
