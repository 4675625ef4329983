//! How a change from another device merges into a local record, field by
//! field. Ordinary fields go to the later writer by hybrid logical clock.
//! Sets merge. Safety-critical fields are never resolved silently: when both
//! sides changed one, both values are kept as a conflict for a person.

use crate::record::RecordKind;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldClass {
    /// Last writer wins by HLC.
    Ordinary,
    /// A list with set meaning: additions and removals from both sides apply.
    Set,
    /// Risk, court and order dates, order conditions, addresses and the
    /// safe-contact rules: concurrent changes become a conflict.
    SafetyCritical,
    /// A list of entries with ids (consents, sharing decisions, dependants,
    /// vehicles): entries added on either side are kept, and one entry
    /// changed on two devices merges field by field.
    Keyed,
}

/// The class of one top-level field of a record kind.
pub fn field_class(kind: RecordKind, field: &str) -> FieldClass {
    let rules = kind.rules();
    if rules.safety_critical.contains(&field) {
        FieldClass::SafetyCritical
    } else if rules.keyed.contains(&field) {
        FieldClass::Keyed
    } else if rules.sets.contains(&field) {
        FieldClass::Set
    } else {
        FieldClass::Ordinary
    }
}

/// What to do with one field of an incoming change.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldOutcome {
    /// The local value already equals the incoming one.
    Same,
    /// Write this value.
    Take(Value),
    /// The local value is the later write; keep it.
    KeepLocal,
    /// Both sides changed a safety-critical field: keep the local value and
    /// record both for a person to decide.
    Conflict,
}

/// One incoming field change, with the local state it lands on.
#[derive(Debug, Clone, Copy)]
pub struct FieldChange<'a> {
    pub class: FieldClass,
    pub local: &'a Value,
    /// The HLC (text form) of the last local write to this field.
    pub local_hlc: &'a str,
    /// The value the remote writer changed from; `None` for a create.
    pub old: Option<&'a Value>,
    pub new: &'a Value,
    pub remote_hlc: &'a str,
    /// Whether the remote writer had seen the local write: `Some(true)` when
    /// the op's `base` names the op behind the local value, `Some(false)` when
    /// it names others (a concurrent write), `None` for an op with no `base`
    /// (a create, or an older Waymark), judged by its `old` value instead.
    pub successor: Option<bool>,
}

pub fn merge_field(change: FieldChange<'_>) -> FieldOutcome {
    let FieldChange { class, local, local_hlc, old, new, remote_hlc, successor } = change;
    if local == new {
        return FieldOutcome::Same;
    }
    // The remote changed our value knowing it: a successor, not a rival,
    // whatever the clocks say. Without a base, an `old` equal to what we hold
    // is the best evidence there is.
    if successor.unwrap_or(old == Some(local)) {
        return FieldOutcome::Take(new.clone());
    }
    match class {
        FieldClass::SafetyCritical => FieldOutcome::Conflict,
        FieldClass::Set => match (local, old.unwrap_or(&Value::Null), new) {
            (Value::Array(local), old, Value::Array(new)) => {
                let old = old.as_array().map(Vec::as_slice).unwrap_or(&[]);
                let removed: Vec<&Value> = old.iter().filter(|v| !new.contains(v)).collect();
                let mut merged: Vec<Value> = local.iter().filter(|v| !removed.contains(v)).cloned().collect();
                for added in new.iter().filter(|v| !old.contains(v)) {
                    if !merged.contains(added) {
                        merged.push(added.clone());
                    }
                }
                // Both sides merge the same two sets; one order makes the results equal.
                merged.sort_by_key(Value::to_string);
                if &merged == local {
                    FieldOutcome::KeepLocal
                } else {
                    FieldOutcome::Take(Value::Array(merged))
                }
            }
            _ => last_writer(local_hlc, remote_hlc, new),
        },
        // Keyed lists merge by their heads (`merge_keyed_heads`), which know the record; this is the fallback.
        FieldClass::Ordinary | FieldClass::Keyed => last_writer(local_hlc, remote_hlc, new),
    }
}

/// The shown value of a set field with several concurrent writes ("heads"),
/// each given as its value and the value it changed from: every element some
/// head holds, less those a head removed and no head added. It depends on
/// the heads only, never on the order they arrived in, so every device shows
/// the same; concurrent additions are all kept.
pub fn merge_set_heads(heads: &[(&Value, Option<&Value>)]) -> Value {
    let items = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut all: Vec<Value> = Vec::new();
    let (mut added, mut removed): (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
    for (value, old) in heads {
        let (value, old) = (items(Some(value)), items(*old));
        added.extend(value.iter().filter(|v| !old.contains(v)).cloned());
        removed.extend(old.iter().filter(|v| !value.contains(v)).cloned());
        for v in value {
            if !all.contains(&v) {
                all.push(v);
            }
        }
    }
    let mut merged: Vec<Value> = all.into_iter().filter(|v| !removed.contains(v) || added.contains(v)).collect();
    merged.sort_by_key(Value::to_string);
    Value::Array(merged)
}

/// The id an entry of a keyed list goes by: its own, or, for an entry saved
/// before entries had ids (or sent by an older Waymark), one made from the
/// record, the field, the entry's content and how many identical entries
/// come before it, so every device derives the same id for it.
pub fn entry_id(record_id: uuid::Uuid, field: &str, entry: &Value, ordinal: usize) -> uuid::Uuid {
    if let Some(id) = entry.get("id").and_then(Value::as_str).and_then(|t| t.parse().ok()) {
        return id;
    }
    let mut hasher = Sha256::new();
    hasher.update(b"waymark-entry\0");
    hasher.update(record_id.as_bytes());
    hasher.update(field.as_bytes());
    hasher.update([0]);
    hasher.update(crate::canonical::to_string(&without_id(entry)).as_bytes());
    hasher.update((ordinal as u64).to_be_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Gives every entry of a keyed list its id, deriving one for an entry that has none.
pub fn identify_entries(record_id: uuid::Uuid, field: &str, list: &Value) -> Value {
    let Some(entries) = list.as_array() else { return list.clone() };
    let mut seen: Vec<String> = Vec::new();
    let identified = entries
        .iter()
        .map(|entry| {
            let text = crate::canonical::to_string(&without_id(entry));
            let ordinal = seen.iter().filter(|s| **s == text).count();
            seen.push(text);
            let mut entry = entry.clone();
            if let Some(object) = entry.as_object_mut() {
                let id = entry_id(record_id, field, &Value::Object(object.clone()), ordinal);
                object.insert("id".into(), Value::String(id.to_string()));
            }
            entry
        })
        .collect();
    Value::Array(identified)
}

/// Gives the entries of a record's keyed lists that have no id a fresh one
/// from `fresh`: new entries of a change made on this device.
pub fn give_entry_ids(kind: RecordKind, doc: &mut Value, mut fresh: impl FnMut() -> uuid::Uuid) -> bool {
    let mut given = false;
    for field in kind.rules().keyed {
        for entry in doc.get_mut(*field).and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(object) = entry.as_object_mut() {
                if object.get("id").is_none_or(Value::is_null) {
                    object.insert("id".into(), Value::String(fresh().to_string()));
                    given = true;
                }
            }
        }
    }
    given
}

/// A received record document with every entry of its keyed lists
/// identified (ids derived for entries an older Waymark sent without one).
pub fn identify_keyed_lists(kind: RecordKind, record_id: uuid::Uuid, doc: &mut serde_json::Map<String, Value>) {
    for field in kind.rules().keyed {
        if let Some(list) = doc.get_mut(*field) {
            *list = identify_entries(record_id, field, list);
        }
    }
}

/// The shown value of a keyed list with several concurrent writes, each
/// given as its value, the value it changed from, and its order (its HLC,
/// then its op id, so no two heads tie). Every entry
/// some head holds is kept, less those a head removed and no head changed;
/// an entry changed by several heads takes each of its fields from the
/// latest head that changed that field. Entries keep the latest head's
/// order, then the others'. It depends on the heads only, so every device shows the same.
pub fn merge_keyed_heads(record_id: uuid::Uuid, field: &str, heads: &[(&Value, Option<&Value>, &str)]) -> Value {
    type Entries = Vec<(uuid::Uuid, Value)>;
    let entries = |list: Option<&Value>| -> Entries {
        let identified = list.map(|l| identify_entries(record_id, field, l)).unwrap_or(Value::Array(Vec::new()));
        identified.as_array().into_iter().flatten().map(|e| (entry_id(record_id, field, e, 0), e.clone())).collect()
    };
    let find = |list: &Entries, id: uuid::Uuid| list.iter().find(|(i, _)| *i == id).map(|(_, e)| e.clone());
    let mut sorted: Vec<(Entries, Entries, &str)> =
        heads.iter().map(|(value, old, hlc)| (entries(Some(value)), entries(*old), *hlc)).collect();
    sorted.sort_by(|a, b| a.2.cmp(b.2));
    let changed = |(value, old, _): &(Entries, Entries, &str), id: uuid::Uuid| match (find(value, id), find(old, id)) {
        (Some(now), before) => before.as_ref() != Some(&now),
        (None, _) => false,
    };
    let mut order: Vec<uuid::Uuid> = Vec::new();
    for (value, _, _) in sorted.iter().rev() {
        for (id, _) in value {
            if !order.contains(id) {
                order.push(*id);
            }
        }
    }
    let mut merged = Vec::new();
    for id in order {
        let removed = sorted.iter().any(|(value, old, _)| find(old, id).is_some() && find(value, id).is_none());
        let writers: Vec<&(Entries, Entries, &str)> = sorted.iter().filter(|h| changed(h, id)).collect();
        if removed && writers.is_empty() {
            continue;
        }
        // The latest version any head holds, then each field from the latest head that changed it.
        let Some(mut entry) = sorted.iter().rev().find_map(|(value, _, _)| find(value, id)) else { continue };
        for (value, old, _) in writers {
            let (Some(now), before) = (find(value, id), find(old, id)) else { continue };
            for (key, v) in now.as_object().into_iter().flatten() {
                let was = before.as_ref().and_then(|b| b.get(key)).unwrap_or(&Value::Null);
                if before.is_none() || was != v {
                    entry[key.as_str()] = v.clone();
                }
            }
        }
        merged.push(entry);
    }
    Value::Array(merged)
}

fn without_id(entry: &Value) -> Value {
    let mut entry = entry.clone();
    if let Some(object) = entry.as_object_mut() {
        object.remove("id");
    }
    entry
}

fn last_writer(local_hlc: &str, remote_hlc: &str, new: &Value) -> FieldOutcome {
    // HLC text is fixed width, so text order is clock order; the device id
    // at the end breaks ties the same way on every device.
    if remote_hlc > local_hlc {
        FieldOutcome::Take(new.clone())
    } else {
        FieldOutcome::KeepLocal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change<'a>(
        class: FieldClass,
        local: &'a Value,
        old: Option<&'a Value>,
        new: &'a Value,
        local_hlc: &'a str,
        remote_hlc: &'a str,
    ) -> FieldChange<'a> {
        FieldChange { class, local, local_hlc, old, new, remote_hlc, successor: None }
    }

    #[test]
    fn ordinary_fields_go_to_the_later_clock_on_both_sides() {
        // Two devices each see the other's write; both must settle on the same value.
        let (a, b, base) = (json!("A"), json!("B"), json!("base"));
        let on_a = merge_field(change(FieldClass::Ordinary, &a, Some(&base), &b, "2", "3"));
        let on_b = merge_field(change(FieldClass::Ordinary, &b, Some(&base), &a, "3", "2"));
        assert_eq!(on_a, FieldOutcome::Take(b.clone()));
        assert_eq!(on_b, FieldOutcome::KeepLocal);
    }

    #[test]
    fn safety_critical_fields_changed_on_both_sides_become_a_conflict_on_both_sides() {
        let (a, b, base) = (json!("high"), json!("medium"), json!("standard"));
        assert_eq!(
            merge_field(change(FieldClass::SafetyCritical, &a, Some(&base), &b, "2", "3")),
            FieldOutcome::Conflict
        );
        assert_eq!(
            merge_field(change(FieldClass::SafetyCritical, &b, Some(&base), &a, "3", "2")),
            FieldOutcome::Conflict
        );
    }

    #[test]
    fn a_safety_critical_change_from_the_value_we_hold_is_taken_even_with_an_older_clock() {
        // Not concurrent: the remote saw our value and changed it.
        let (local, new) = (json!("2026-12-01"), json!("2026-12-08"));
        assert_eq!(
            merge_field(change(FieldClass::SafetyCritical, &local, Some(&local), &new, "9", "1")),
            FieldOutcome::Take(new)
        );
    }

    #[test]
    fn sets_keep_additions_from_both_sides_and_apply_removals() {
        let base = json!(["a", "b"]);
        let local = json!(["a", "b", "c"]); // we added c
        let new = json!(["b", "d"]); // they removed a and added d
        assert_eq!(
            merge_field(change(FieldClass::Set, &local, Some(&base), &new, "5", "1")),
            FieldOutcome::Take(json!(["b", "c", "d"]))
        );
    }

    #[test]
    fn concurrent_set_merges_agree_on_both_sides_in_value_and_order() {
        // Why: A and B each merge the other's change into their own; the results must be equal to converge.
        let base = json!(["b", "a"]);
        let (on_a, on_b) = (json!(["b", "a", "z"]), json!(["c", "a"]));
        let a_merges = merge_field(change(FieldClass::Set, &on_a, Some(&base), &on_b, "5", "6"));
        let b_merges = merge_field(change(FieldClass::Set, &on_b, Some(&base), &on_a, "6", "5"));
        assert_eq!(a_merges, FieldOutcome::Take(json!(["a", "c", "z"])));
        assert_eq!(a_merges, b_merges);
    }

    #[test]
    fn concurrent_set_writes_keep_every_addition_and_the_removals_nobody_undid() {
        // Why: the shown value is a function of the heads alone, so both laptops show the same.
        let (a_old, a_new) = (json!(["T1"]), json!([]));
        let (b_old, b_new) = (json!(["T1"]), json!(["T1", "T2"]));
        let one = merge_set_heads(&[(&a_new, Some(&a_old)), (&b_new, Some(&b_old))]);
        let other = merge_set_heads(&[(&b_new, Some(&b_old)), (&a_new, Some(&a_old))]);
        assert_eq!(one, json!(["T2"]), "A's removal of T1 holds; B's T2 is kept");
        assert_eq!(one, other);
        // An element one side removed and the other added anew stays.
        let (c_old, c_new) = (json!(["T2", "T3"]), json!(["T1", "T2"]));
        let (d_old, d_new) = (json!([]), json!(["T2", "T3"]));
        assert_eq!(merge_set_heads(&[(&c_new, Some(&c_old)), (&d_new, Some(&d_old))]), json!(["T1", "T2", "T3"]));
    }

    #[test]
    fn a_base_decides_succession_where_the_old_value_would_mislead() {
        // Why: a concurrent write that happens to start from the same value (A-B-A) is a rival, not a successor.
        let (local, new) = (json!("A"), json!("C"));
        let rival = FieldChange {
            successor: Some(false),
            ..change(FieldClass::Ordinary, &local, Some(&local), &new, "9", "1")
        };
        assert_eq!(merge_field(rival), FieldOutcome::KeepLocal, "the later clock keeps its value");
        let successor =
            FieldChange { successor: Some(true), ..change(FieldClass::Ordinary, &local, None, &new, "9", "1") };
        assert_eq!(merge_field(successor), FieldOutcome::Take(new.clone()));
    }

    #[test]
    fn classes_cover_the_named_safety_critical_fields() {
        for (kind, field) in [
            (RecordKind::Case, "risk_level"),
            (RecordKind::Hearing, "starts_at"),
            (RecordKind::ProtectiveOrder, "expiry"),
            (RecordKind::ProtectiveOrder, "conditions"),
            (RecordKind::Victim, "address"),
            (RecordKind::Victim, "safe_contact"),
        ] {
            assert_eq!(field_class(kind, field), FieldClass::SafetyCritical, "{kind:?}.{field}");
        }
        assert_eq!(field_class(RecordKind::Case, "status"), FieldClass::Ordinary);
    }

    fn consent(id: &str, fields: Value) -> Value {
        let mut entry =
            json!({ "id": id, "with": "Police", "given_on": "2026-01-05", "withdrawn_on": null, "scope": null });
        for (k, v) in fields.as_object().unwrap() {
            entry[k.as_str()] = v.clone();
        }
        entry
    }

    const RECORD: uuid::Uuid = uuid::Uuid::from_u128(7);
    const ONE: &str = "00000000-0000-0000-0000-000000000001";
    const TWO: &str = "00000000-0000-0000-0000-000000000002";

    /// Every order of the heads gives one answer.
    fn merged(heads: &[(&Value, Option<&Value>, &str)]) -> Value {
        let forward = merge_keyed_heads(RECORD, "consents", heads);
        let reversed: Vec<_> = heads.iter().rev().cloned().collect();
        assert_eq!(
            merge_keyed_heads(RECORD, "consents", &reversed),
            forward,
            "the order the heads came in must not matter"
        );
        forward
    }

    #[test]
    fn a_consent_withdrawn_on_one_laptop_and_rescoped_on_another_is_one_consent_with_both() {
        // Why: merging whole objects gave two consents, one withdrawn and one active, and the victim's withdrawal was lost in the noise.
        let base = json!([consent(ONE, json!({}))]);
        let withdrawn = json!([consent(ONE, json!({ "withdrawn_on": "2026-03-01" }))]);
        let rescoped = json!([consent(ONE, json!({ "scope": "risk information only" }))]);
        let result = merged(&[(&withdrawn, Some(&base), "2"), (&rescoped, Some(&base), "3")]);
        assert_eq!(
            result,
            json!([consent(ONE, json!({ "withdrawn_on": "2026-03-01", "scope": "risk information only" }))])
        );
    }

    #[test]
    fn entries_added_on_both_sides_are_kept_and_one_field_changed_on_both_goes_to_the_later_clock() {
        let base = json!([consent(ONE, json!({}))]);
        let a = json!([consent(ONE, json!({ "scope": "A" })), consent(TWO, json!({ "with": "Housing" }))]);
        let three = "00000000-0000-0000-0000-000000000003";
        let b = json!([consent(ONE, json!({ "scope": "B" })), consent(three, json!({ "with": "GP" }))]);
        let result = merged(&[(&a, Some(&base), "2"), (&b, Some(&base), "3")]);
        let ids: Vec<&str> = result.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [ONE, three, TWO], "the later head's order, then the other's");
        assert_eq!(result[0]["scope"], "B");
    }

    #[test]
    fn a_removal_stands_unless_another_laptop_changed_the_entry() {
        let base = json!([consent(ONE, json!({})), consent(TWO, json!({}))]);
        let removed_one = json!([consent(TWO, json!({}))]);
        let untouched = base.clone();
        assert_eq!(
            merged(&[(&removed_one, Some(&base), "2"), (&untouched, Some(&base), "3")]),
            json!([consent(TWO, json!({}))])
        );
        // A change made without knowing of the removal keeps the entry: nothing a person wrote is dropped.
        let edited_one = json!([consent(ONE, json!({ "scope": "kept" })), consent(TWO, json!({}))]);
        let result = merged(&[(&removed_one, Some(&base), "2"), (&edited_one, Some(&base), "3")]);
        assert_eq!(result.as_array().unwrap().len(), 2);
    }

    #[test]
    fn entries_without_ids_get_the_same_id_on_every_device_and_twins_get_different_ones() {
        // Why: entries saved before ids existed are given ids on each laptop separately; they must agree.
        let bare = json!([{ "name": "Child" }, { "name": "Child" }, { "name": "Other" }]);
        let once = identify_entries(RECORD, "dependants", &bare);
        assert_eq!(identify_entries(RECORD, "dependants", &bare), once);
        let ids: Vec<&str> = once.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert!(ids[0] != ids[1] && ids[1] != ids[2], "twins are two entries");
        assert_ne!(identify_entries(uuid::Uuid::from_u128(8), "dependants", &bare), once, "ids are per record");
        assert_eq!(identify_entries(RECORD, "dependants", &once), once, "an entry's own id is kept");
        let mut doc =
            json!({ "dependants": [{ "name": "New" }, { "id": ONE, "name": "Old" }], "aliases": [{ "name": "x" }] });
        give_entry_ids(RecordKind::Victim, &mut doc, || uuid::Uuid::from_u128(99));
        assert_eq!(doc["dependants"][0]["id"], uuid::Uuid::from_u128(99).to_string());
        assert_eq!(doc["dependants"][1]["id"], ONE);
        assert!(doc["aliases"][0].get("id").is_none(), "only keyed lists get ids");
    }
}
