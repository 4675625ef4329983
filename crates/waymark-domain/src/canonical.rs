//! JSON in one canonical form: object keys in sorted order at every level.
//! Hashes are taken over it, so equal content hashes alike whatever order
//! its keys arrived or were built in. serde_json keeps insertion order when
//! any crate in a build asks for it, so its own order cannot be relied on:
//! the CLI and the desktop app, built apart, would otherwise disagree.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The value with every object's keys inserted in sorted order, which both
/// of serde_json's map kinds then keep.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Compact JSON text of `sorted(value)`.
pub fn to_string(value: &Value) -> String {
    serde_json::to_string(&Sorted(value)).unwrap_or_default()
}

/// A value that serialises as `sorted` of it does, without building the
/// sorted copy: hashing each op of a 2,000-op batch this way spares a deep
/// copy of its changes.
#[derive(Debug, Clone, Copy)]
pub struct Sorted<'a>(pub &'a Value);

/// An object's members, serialised as `sorted` of the object does.
#[derive(Debug, Clone, Copy)]
pub struct SortedMap<'a>(pub &'a Map<String, Value>);

impl Serialize for SortedMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&String, &Value)> = self.0.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            out.serialize_entry(key, &Sorted(value))?;
        }
        out.end()
    }
}

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => SortedMap(map).serialize(serializer),
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Sorted(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_built_in_another_key_order_gives_the_same_text() {
        // Why: two builds (or two laptops) hashing one op must agree, or a resend is quarantined as different.
        let mut a = Map::new();
        a.insert("b".into(), Value::from(1));
        a.insert("a".into(), serde_json::json!({ "z": [{ "y": 1, "x": 2 }], "c": null }));
        let mut b = Map::new();
        b.insert("a".into(), serde_json::json!({ "c": null, "z": [{ "x": 2, "y": 1 }] }));
        b.insert("b".into(), Value::from(1));
        assert_eq!(to_string(&Value::Object(a.clone())), to_string(&Value::Object(b)));
        assert_eq!(
            to_string(&Value::Object(a.clone())),
            sorted(&Value::Object(a)).to_string(),
            "serialising in sorted order gives the sorted copy's text"
        );
        assert_eq!(
            to_string(&serde_json::json!({ "b": [3, 1], "a": "x" })),
            r#"{"a":"x","b":[3,1]}"#,
            "arrays keep their order"
        );
    }
}
