//! The address guard at the clinic. Laptops warn an advocate before saving a
//! victim's address in a free-text field, but an advocate may confirm, and an
//! older or hostile laptop may not ask at all. So the clinic checks what it
//! accepts too: an op whose free text shows its case's victim's address
//! (folded as in `waymark_domain::disclosure`) gets a warning kept with it,
//! naming the fields. The op itself is never refused for it.

use crate::store::{ClinicStore, StoreResult, Stored, TextWarning};
use chrono::{DateTime, Utc};
use waymark_domain::disclosure::{fields_showing, Finder};
use waymark_domain::{Address, RecordKind};
use waymark_protocol::WireOp;

/// The case's victim's address as the feed last set it (latest HLC wins,
/// as on the laptops).
fn victim_address(case_ops: &[WireOp]) -> Option<Address> {
    let mut victim_ops: Vec<&WireOp> = case_ops.iter().filter(|o| o.kind == RecordKind::Victim.wire()).collect();
    victim_ops.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    let latest = victim_ops.into_iter().rev().find_map(|o| o.changes.new.get("address"))?;
    serde_json::from_value(latest.clone()).ok()
}

/// The fields of `op` that show what `finder` looks for, as paths.
fn fields_showing_address(op: &WireOp, finder: &Finder<()>) -> Vec<String> {
    let Some(kind) = RecordKind::from_wire(&op.kind) else { return Vec::new() };
    fields_showing(finder, kind, &serde_json::Value::Object(op.changes.new.clone()))
}

/// Checks the ops of a stored batch that the feed now holds as sent (not
/// refused or quarantined: `stored` says which) and keeps a warning for each
/// that shows its victim's address. Only the case's victim ops are read,
/// and the whole case only when an op gives the victim a new address.
pub fn note_warnings(
    store: &dyn ClinicStore,
    ops: &[WireOp],
    stored: &Stored,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let held_apart: std::collections::HashSet<u64> =
        stored.refused.iter().map(|r| r.seq).chain(stored.quarantined.iter().copied()).collect();
    let mut finders: std::collections::HashMap<uuid::Uuid, Option<Finder<()>>> = std::collections::HashMap::new();
    let mut noted = 0;
    for op in ops.iter().filter(|o| !held_apart.contains(&o.seq)) {
        let Some(case) = op.case_id else { continue };
        let finder = match finders.entry(case) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                victim_address(&store.case_ops(case, Some(RecordKind::Victim.wire()))?)
                    .as_ref()
                    .map(|a| Finder::of_addresses([a])),
            ),
        };
        let Some(finder) = finder.as_ref() else { continue };
        // A new address is looked for in everything the case already holds, too.
        let sets_address = op.kind == RecordKind::Victim.wire() && op.changes.new.contains_key("address");
        let whole_case = if sets_address { store.case_ops(case, None)? } else { Vec::new() };
        let to_check: Vec<&WireOp> = if sets_address { whole_case.iter().collect() } else { vec![op] };
        for checked in to_check {
            let fields = fields_showing_address(checked, finder);
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
