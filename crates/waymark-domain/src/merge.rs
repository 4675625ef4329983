//! How a change from another device merges into a local record, field by
//! field. Ordinary fields go to the later writer by hybrid logical clock.
//! Sets merge. Safety-critical fields are never resolved silently: when both
//! sides changed one, both values are kept as a conflict for a person.

use crate::record::RecordKind;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldClass {
    /// Last writer wins by HLC.
    Ordinary,
    /// A list with set meaning: additions and removals from both sides apply.
    Set,
    /// Risk, court and order dates, order conditions, addresses and the
    /// safe-contact rules: concurrent changes become a conflict.
    SafetyCritical,
}

/// The class of one top-level field of a record kind.
pub fn field_class(kind: RecordKind, field: &str) -> FieldClass {
    use FieldClass::*;
    use RecordKind as K;
    match (kind, field) {
        (K::Case, "risk_level" | "risk_review_on") => SafetyCritical,
        (K::Hearing, "starts_at" | "next_date") => SafetyCritical,
        (K::ProtectiveOrder, "applied_on" | "made_on" | "served_on" | "expiry" | "conditions") => SafetyCritical,
        (K::Victim, "address" | "safe_contact") => SafetyCritical,
        (K::Perpetrator, "addresses") => SafetyCritical,
        (K::Case, "police_references" | "court_cases")
        | (K::Victim, "consents" | "sharing_without_consent" | "dependants")
        | (K::Perpetrator, "names" | "aliases" | "vehicles" | "phones" | "online_accounts")
        | (K::Hearing, "special_measures")
        | (K::ProtectiveOrder, "protected_persons") => Set,
        _ => Ordinary,
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
        FieldClass::Ordinary => last_writer(local_hlc, remote_hlc, new),
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
        assert_eq!(merge_field(change(FieldClass::SafetyCritical, &a, Some(&base), &b, "2", "3")), FieldOutcome::Conflict);
        assert_eq!(merge_field(change(FieldClass::SafetyCritical, &b, Some(&base), &a, "3", "2")), FieldOutcome::Conflict);
    }

    #[test]
    fn a_safety_critical_change_from_the_value_we_hold_is_taken_even_with_an_older_clock() {
        // Not concurrent: the remote saw our value and changed it.
        let (local, new) = (json!("2026-12-01"), json!("2026-12-08"));
        assert_eq!(merge_field(change(FieldClass::SafetyCritical, &local, Some(&local), &new, "9", "1")), FieldOutcome::Take(new));
    }

    #[test]
    fn sets_keep_additions_from_both_sides_and_apply_removals() {
        let base = json!(["a", "b"]);
        let local = json!(["a", "b", "c"]); // we added c
        let new = json!(["b", "d"]); // they removed a and added d
        assert_eq!(merge_field(change(FieldClass::Set, &local, Some(&base), &new, "5", "1")), FieldOutcome::Take(json!(["b", "c", "d"])));
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
        let rival = FieldChange { successor: Some(false), ..change(FieldClass::Ordinary, &local, Some(&local), &new, "9", "1") };
        assert_eq!(merge_field(rival), FieldOutcome::KeepLocal, "the later clock keeps its value");
        let successor = FieldChange { successor: Some(true), ..change(FieldClass::Ordinary, &local, None, &new, "9", "1") };
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
}
