//! The current values ("heads") of each safety-critical field, so every
//! device that has received the same ops agrees on the same conflict and
//! the same shown value, whatever order the ops came in.
//!
//! A field's heads are the writes no later write has seen. Each local update
//! names, per field, the heads it replaces (`changes.base`); a received write
//! replaces the heads its base names and joins the rest. One head is a plain
//! value. Several heads with different values are a conflict, shown with the
//! latest head's value until a person decides; the decision (or any edit of
//! the field) names every head and so replaces them all. Two decisions of one
//! conflict made at once are ordered by clock: the later one stands.

use crate::error::{Result, VaultError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Head {
    pub op_id: String,
    pub hlc: String,
    pub value: Value,
}

impl Head {
    /// The order of writes: by HLC, then op id, so two ops that carry one HLC
    /// (a restored copy ticking from the same clock) order alike everywhere.
    pub(crate) fn order(&self) -> (&str, &str) {
        (&self.hlc, &self.op_id)
    }
}

/// The id of the conflict between these heads: the same on every device.
pub fn conflict_id_of(op_ids: &[&str], field: &str) -> String {
    let mut ids = op_ids.to_vec();
    ids.sort_unstable();
    let digest = Sha256::digest(format!("{}|{field}", ids.join("|")));
    Uuid::from_slice(&digest[..16]).map(|u| u.to_string()).unwrap_or_default()
}

/// The field's heads: its rows in `field_heads` when it has several,
/// otherwise the one write its clock names, holding `value`.
pub(crate) fn current(
    tx: &Connection,
    record_id: &str,
    field: &str,
    value: &Value,
    clock: &(String, String),
) -> Result<Vec<Head>> {
    let mut stmt = tx
        .prepare_cached("SELECT op_id, hlc, value FROM field_heads WHERE record_id = ?1 AND field = ?2 ORDER BY hlc")?;
    let rows = stmt.query_map(params![record_id, field], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut heads = Vec::new();
    for row in rows {
        let (op_id, hlc, value) = row?;
        heads.push(Head {
            op_id,
            hlc,
            value: serde_json::from_str(&value).map_err(|_| VaultError::DatabaseUnreadable)?,
        });
    }
    if heads.is_empty() {
        heads.push(Head { op_id: clock.1.clone(), hlc: clock.0.clone(), value: value.clone() });
    }
    Ok(heads)
}

/// The op ids a local update of `field` replaces: its heads, or its clock's
/// op. The heads are cleared and the field's open conflict is closed as
/// decided here; its id is returned so the op can name it in `resolves`.
pub(crate) fn supersede_locally(
    tx: &Connection,
    record_id: &str,
    field: &str,
    before: &Value,
    keeps_heads: bool,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<(Vec<String>, Vec<String>)> {
    // Ordinary fields go to the later clock: they never hold several heads or a conflict.
    let mut base: Vec<String> = if keeps_heads {
        tx.prepare_cached("SELECT op_id FROM field_heads WHERE record_id = ?1 AND field = ?2 ORDER BY op_id")?
            .query_map(params![record_id, field], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?
    } else {
        Vec::new()
    };
    if base.is_empty() {
        let clock = crate::clocks::of_field(tx, record_id, field, before)?.map(|(_, op_id)| op_id);
        base.extend(clock.filter(|c| !c.is_empty()));
    }
    if !keeps_heads {
        return Ok((base, Vec::new()));
    }
    tx.prepare_cached("DELETE FROM field_heads WHERE record_id = ?1 AND field = ?2")?
        .execute(params![record_id, field])?;
    let closed = close_open(tx, record_id, field, None, now, actor, crate::sync::Resolution::Local)?;
    Ok((base, closed))
}

/// Closes the field's open conflicts except `keep`, returning their ids.
pub(crate) fn close_open(
    tx: &Connection,
    record_id: &str,
    field: &str,
    keep: Option<&str>,
    now: DateTime<Utc>,
    by: &str,
    resolution: crate::sync::Resolution,
) -> Result<Vec<String>> {
    let open: Vec<String> = tx
        .prepare_cached("SELECT id FROM sync_conflicts WHERE record_id = ?1 AND field = ?2 AND resolved_at IS NULL")?
        .query_map(params![record_id, field], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut closed = Vec::new();
    for id in open.into_iter().filter(|id| Some(id.as_str()) != keep) {
        tx.prepare_cached(
            "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1",
        )?
        .execute(params![id, now.to_rfc3339(), by, resolution.as_str()])?;
        closed.push(id);
    }
    Ok(closed)
}

/// The value a write changed `field` from (its `old`), if it said.
pub(crate) fn old_of(tx: &Connection, op_id: &str, field: &str) -> Result<Option<Value>> {
    Ok(changes_of(tx, op_id)?.and_then(|c| c.get("old").and_then(|o| o.get(field)).cloned()))
}

/// The conflicts an op (local or received) decided, from its `resolves`.
pub(crate) fn resolves_of(tx: &Connection, op_id: &str) -> Result<Vec<String>> {
    Ok(changes_of(tx, op_id)?
        .and_then(|c| {
            c.get("resolves")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        })
        .unwrap_or_default())
}

/// An op's `changes`, from this device's op log or the ops it received.
fn changes_of(tx: &Connection, op_id: &str) -> Result<Option<Value>> {
    let own: Option<String> =
        tx.prepare_cached("SELECT changes FROM ops WHERE op_id = ?1")?.query_row([op_id], |r| r.get(0)).optional()?;
    let changes: Option<Value> = match own {
        Some(text) => serde_json::from_str(&text).ok(),
        None => {
            let received: Option<String> = tx
                .prepare_cached("SELECT op FROM received_ops WHERE op_id = ?1")?
                .query_row([op_id], |r| r.get(0))
                .optional()?;
            received.and_then(|t| serde_json::from_str::<Value>(&t).ok()).and_then(|op| op.get("changes").cloned())
        }
    };
    Ok(changes)
}

/// The latest clock among the ops this device holds (its own or received)
/// that decided any of these conflicts, other than `except`.
pub(crate) fn latest_decision(tx: &Connection, conflicts: &[&str], except: &str) -> Result<Option<String>> {
    let mut latest: Option<String> = None;
    for id in conflicts {
        // Only `changes.resolves` counts: the id written in a free-text field is no decision.
        let own: Option<String> = tx
            .prepare_cached(
                "SELECT max(ops.hlc) FROM ops, json_each(ops.changes, '$.resolves') AS r WHERE r.value = ?1 AND ops.op_id <> ?2",
            )?
            .query_row(params![id, except], |r| r.get(0))?;
        let received: Option<String> = tx
            .prepare_cached(
                "SELECT max(json_extract(received_ops.op, '$.hlc')) FROM received_ops, json_each(received_ops.op, '$.changes.resolves') AS r
                 WHERE r.value = ?1 AND received_ops.op_id <> ?2",
            )?
            .query_row(params![id, except], |r| r.get(0))?;
        latest = latest.max(own).max(received);
    }
    Ok(latest)
}

/// Whether the op is this device's own.
pub(crate) fn is_own(tx: &Connection, op_id: &str) -> Result<bool> {
    Ok(tx.prepare_cached("SELECT 1 FROM ops WHERE op_id = ?1")?.exists([op_id])?)
}

/// Keeps the heads a field now has: one, or several as rows. Returns the
/// head whose value is shown (the latest by clock).
pub(crate) fn store(tx: &Connection, record_id: &str, field: &str, heads: &[Head]) -> Result<Head> {
    tx.prepare_cached("DELETE FROM field_heads WHERE record_id = ?1 AND field = ?2")?
        .execute(params![record_id, field])?;
    if heads.len() > 1 {
        for head in heads {
            tx.prepare_cached(
                "INSERT INTO field_heads (record_id, field, op_id, hlc, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![record_id, field, head.op_id, head.hlc, head.value.to_string()])?;
        }
    }
    heads.iter().max_by(|a, b| a.order().cmp(&b.order())).cloned().ok_or(VaultError::DatabaseUnreadable)
}
