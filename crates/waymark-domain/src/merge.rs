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
}

pub fn merge_field(change: FieldChange<'_>) -> FieldOutcome {
    let FieldChange { class, local, local_hlc, old, new, remote_hlc } = change;
    if local == new {
        return FieldOutcome::Same;
    }
    // The remote changed from exactly what we hold: it is a successor of our
    // value, not a rival, whatever the clocks say.
    if old == Some(local) {
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
        FieldChange { class, local, local_hlc, old, new, remote_hlc }
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
