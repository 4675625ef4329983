//! The clock of each field's last write (its HLC and op), which merging a
//! received change compares per field.
//!
//! Most fields are written once, by the op that created their record, so a
//! record keeps one clock (`record_clocks`: its first write) and a field has
//! a row of its own (`field_clocks`) only while its last write differs from
//! that. Ids and clocks are stored as bytes: 16 for an id, 28 for an HLC
//! (wall time and counter big-endian, then the device), which sort in the
//! same order as their text.

use crate::error::{Result, VaultError};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::str::FromStr;
use uuid::Uuid;
use waymark_domain::hlc::Hlc;

/// A field's clock as the merge compares it: HLC text and op id text.
pub(crate) type Clock = (String, String);

pub(crate) fn id_bytes(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() {
        // A write from before ops had ids; it orders before every op.
        return Some(Vec::new());
    }
    Uuid::from_str(text).ok().map(|id| id.as_bytes().to_vec())
}

fn id_text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some(String::new());
    }
    Uuid::from_slice(bytes).ok().map(|id| id.to_string())
}

pub(crate) fn hlc_bytes(text: &str) -> Option<Vec<u8>> {
    let hlc = Hlc::from_str(text).ok()?;
    let mut bytes = Vec::with_capacity(28);
    bytes.extend_from_slice(&hlc.wall_ms.to_be_bytes());
    bytes.extend_from_slice(&hlc.counter.to_be_bytes());
    bytes.extend_from_slice(hlc.device.0.as_bytes());
    Some(bytes)
}

fn hlc_text(bytes: &[u8]) -> Option<String> {
    let wall_ms = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let counter = u32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?);
    let device = Uuid::from_slice(bytes.get(12..)?).ok()?;
    Some(Hlc { wall_ms, counter, device: waymark_domain::DeviceId(device) }.to_string())
}

fn encode(record_id: &str, hlc: &str, op_id: &str) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    // Every id and clock here was made by this vault or checked on receipt.
    let unreadable = || VaultError::Database(format!("a field clock for record {record_id} is not an id and clock"));
    Ok((
        id_bytes(record_id).ok_or_else(unreadable)?,
        hlc_bytes(hlc).ok_or_else(unreadable)?,
        id_bytes(op_id).ok_or_else(unreadable)?,
    ))
}

fn decode(hlc: &[u8], op_id: &[u8]) -> Result<Clock> {
    match (hlc_text(hlc), id_text(op_id)) {
        (Some(hlc), Some(op_id)) => Ok((hlc, op_id)),
        _ => Err(VaultError::DatabaseUnreadable),
    }
}

/// The clock of the last write to `field`, whose value before the write in
/// hand is `value`: its own row, or else its record's first write. A field
/// with no row of its own that holds nothing was never written (a create
/// leaves out fields that are empty), so it has no clock: a first write to
/// it replaces nothing, and a safety-critical one raises no conflict.
pub(crate) fn of_field(tx: &Connection, record_id: &str, field: &str, value: &Value) -> Result<Option<Clock>> {
    let Some(record) = id_bytes(record_id) else { return Ok(None) };
    let own: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached("SELECT hlc, op_id FROM field_clocks WHERE record_id = ?1 AND field = ?2")?
        .query_row(params![record, field], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((hlc, op_id)) = own {
        return decode(&hlc, &op_id).map(Some);
    }
    if value.is_null() {
        return Ok(None);
    }
    let first: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached("SELECT hlc, op_id FROM record_clocks WHERE record_id = ?1")?
        .query_row(params![record], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    first.map(|(hlc, op_id)| decode(&hlc, &op_id)).transpose()
}

/// Records that one write (`hlc`, `op_id`) is now the last write of each of
/// `fields`. The record's first write becomes the record's clock.
pub(crate) fn set<'a>(
    tx: &Connection,
    record_id: &str,
    fields: impl IntoIterator<Item = &'a str>,
    hlc: &str,
    op_id: &str,
) -> Result<()> {
    let (record, hlc, op_id) = encode(record_id, hlc, op_id)?;
    let base: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached("SELECT hlc, op_id FROM record_clocks WHERE record_id = ?1")?
        .query_row([&record], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let is_base = match base {
        Some(base) => base == (hlc.clone(), op_id.clone()),
        None => {
            tx.prepare_cached("INSERT INTO record_clocks (record_id, hlc, op_id) VALUES (?1, ?2, ?3)")?
                .execute(params![record, hlc, op_id])?;
            true
        }
    };
    for field in fields {
        if is_base {
            tx.prepare_cached("DELETE FROM field_clocks WHERE record_id = ?1 AND field = ?2")?
                .execute(params![record, field])?;
        } else {
            tx.prepare_cached(
                "INSERT INTO field_clocks (record_id, field, hlc, op_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (record_id, field) DO UPDATE SET hlc = excluded.hlc, op_id = excluded.op_id",
            )?
            .execute(params![record, field, hlc, op_id])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn stored_clocks_sort_like_their_text(a in (0u64..1_000_000_000_000_000, any::<u32>(), any::<u128>()), b in (0u64..1_000_000_000_000_000, any::<u32>(), any::<u128>())) {
            // The merge orders writes by the text (15 digits of milliseconds
            // last until the year 33658); bytes that sorted otherwise would
            // make a compact vault choose a different winner.
            let text = |(w, c, d): (u64, u32, u128)| Hlc { wall_ms: w, counter: c, device: waymark_domain::DeviceId(Uuid::from_u128(d)) }.to_string();
            let (ta, tb) = (text(a), text(b));
            let (ba, bb) = (hlc_bytes(&ta).unwrap(), hlc_bytes(&tb).unwrap());
            prop_assert_eq!(ta.cmp(&tb), ba.cmp(&bb));
            prop_assert_eq!(hlc_text(&ba).unwrap(), ta);
        }
    }

    #[test]
    fn a_field_keeps_a_row_only_while_its_clock_differs_from_its_records() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        let record = Uuid::from_u128(7).to_string();
        let device = waymark_domain::DeviceId(Uuid::from_u128(9));
        let clock = |ms| Hlc { wall_ms: ms, counter: 0, device }.to_string();
        let (create, edit) = (Uuid::from_u128(1).to_string(), Uuid::from_u128(2).to_string());
        set(&conn, &record, ["name", "notes"], &clock(10), &create).unwrap();
        let rows =
            |c: &Connection| c.query_row("SELECT count(*) FROM field_clocks", [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(rows(&conn), 0, "a created record's fields share its clock");
        set(&conn, &record, ["notes"], &clock(20), &edit).unwrap();
        assert_eq!(rows(&conn), 1);
        let held = serde_json::json!("x");
        assert_eq!(of_field(&conn, &record, "notes", &held).unwrap(), Some((clock(20), edit.clone())));
        assert_eq!(of_field(&conn, &record, "name", &held).unwrap(), Some((clock(10), create.clone())));
        // A field the create left out (it was empty) has never been written.
        assert_eq!(of_field(&conn, &record, "served_on", &Value::Null).unwrap(), None);
        // A merge that puts the first write back (a head that won) drops the row again.
        set(&conn, &record, ["notes"], &clock(10), &create).unwrap();
        assert_eq!(rows(&conn), 0);
        assert_eq!(
            of_field(&conn, &Uuid::from_u128(8).to_string(), "name", &held).unwrap(),
            None,
            "an unknown record has no clock"
        );
    }

    #[test]
    fn migrating_a_vault_keeps_every_fields_clock() {
        // A vault from before schema 6 holds a text row per field. After the
        // migration every field must read back the clock it had, or merges
        // made after an upgrade would pick different winners.
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate_to(&mut conn, 5).unwrap();
        let device = waymark_domain::DeviceId(Uuid::from_u128(9));
        let clock = |ms, counter| Hlc { wall_ms: ms, counter, device }.to_string();
        let (a, b) = (Uuid::from_u128(100).to_string(), Uuid::from_u128(200).to_string());
        let rows = [
            (&a, "name", clock(10, 0), Uuid::from_u128(1).to_string()),
            (&a, "notes", clock(10, 0), Uuid::from_u128(1).to_string()),
            (&a, "status", clock(30, 2), Uuid::from_u128(3).to_string()),
            (&b, "at", clock(20, 1), Uuid::from_u128(2).to_string()),
            (&b, "summary", clock(20, 1), String::new()),
        ];
        for (record, field, hlc, op) in &rows {
            conn.execute(
                "INSERT INTO field_clocks (record_id, field, hlc, op_id) VALUES (?1, ?2, ?3, ?4)",
                params![record, field, hlc, op],
            )
            .unwrap();
        }
        crate::db::migrate(&mut conn).unwrap();
        for (record, field, hlc, op) in &rows {
            let held = serde_json::json!("x");
            assert_eq!(of_field(&conn, record, field, &held).unwrap(), Some((hlc.clone(), op.clone())), "{field}");
        }
        let kept: i64 = conn.query_row("SELECT count(*) FROM field_clocks", [], |r| r.get(0)).unwrap();
        assert_eq!(
            kept, 2,
            "only the later status write and the op-less summary write differ from their record's first write"
        );
    }
}
