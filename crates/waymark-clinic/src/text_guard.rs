//! The address guard at the clinic. Laptops warn an advocate before saving a
//! victim's address in a free-text field, but an advocate may confirm, and an
//! older or hostile laptop may not ask at all. So the clinic checks what it
//! accepts too: an op whose free text shows its case's victim's address
//! (folded as in `waymark_domain::disclosure`) gets a warning kept with it,
//! naming the fields. The op itself is never refused for it.

use crate::store::{ClinicStore, StoreResult, TextWarning};
use chrono::{DateTime, Utc};
use serde_json::Value;
use waymark_domain::disclosure::{fields_showing, Finder};
use waymark_domain::{Address, RecordKind};
use waymark_protocol::WireOp;

/// The case's victim's address as the feed last set it (latest HLC wins,
/// as on the laptops).
fn victim_address(case_ops: &[WireOp]) -> Option<Address> {
    let mut victim_ops: Vec<&WireOp> = case_ops.iter().filter(|o| o.kind == RecordKind::Victim.wire()).collect();
    victim_ops.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    let latest = victim_ops.into_iter().rev().find_map(|o| o.changes.get("new").and_then(|n| n.get("address")))?;
    serde_json::from_value(latest.clone()).ok()
}

/// The fields of `op` that show `address`, as paths.
pub fn fields_showing_address(op: &WireOp, address: &Address) -> Vec<String> {
    let Some(kind) = RecordKind::from_wire(&op.kind) else { return Vec::new() };
    let mut finder = Finder::new();
    finder.add_address(&(), address);
    let new = op.changes.get("new").cloned().unwrap_or(Value::Null);
    fields_showing(&finder, kind, &new)
}

/// Checks the ops of a stored batch that the feed now holds as sent (not
/// refused or quarantined) and keeps a warning for each that shows its
/// victim's address. Returns how many.
pub fn note_warnings(store: &dyn ClinicStore, ops: &[WireOp], now: DateTime<Utc>) -> StoreResult<usize> {
    let mut noted = 0;
    // Each case's ops are read once per batch, however many of its ops the batch holds.
    let mut cases: std::collections::HashMap<uuid::Uuid, Vec<WireOp>> = std::collections::HashMap::new();
    for op in ops {
        let Some(case) = op.case_id else { continue };
        let case_ops: &[WireOp] = match cases.entry(case) {
            std::collections::hash_map::Entry::Occupied(held) => held.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(store.case_ops(case)?),
        };
        let hash = op.content_hash();
        if !case_ops.iter().any(|held| held.op_id == op.op_id && held.content_hash() == hash) {
            continue;
        }
        let Some(address) = victim_address(case_ops) else { continue };
        // A new address is looked for in everything the case already holds, too.
        let sets_address = op.kind == RecordKind::Victim.wire() && op.changes.get("new").is_some_and(|n| n.get("address").is_some());
        let to_check: Vec<&WireOp> = if sets_address { case_ops.iter().collect() } else { vec![op] };
        for checked in to_check {
            let fields = fields_showing_address(checked, &address);
            if fields.is_empty() {
                continue;
            }
            let warning = TextWarning {
                op_id: checked.op_id,
                case_id: case,
                kind: checked.kind.clone(),
                record_id: checked.record_id,
                fields,
                at: now,
            };
            store.add_text_warning(&warning)?;
            noted += 1;
        }
    }
    Ok(noted)
}
