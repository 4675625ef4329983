//! Field assignments (`field=value`, `field:=json`, `list+=value`): one way for
//! the CLI, the app and scripts to describe a new record or an edit, checked
//! by the same typed validation as everything else.

use crate::ids::CaseId;
use crate::time::parse_london_local;
use crate::validation::ValidationErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Fields holding an instant. Plain text for them is read as UK local time.
pub const INSTANT_FIELDS: [&str; 5] = ["occurred_at", "starts_at", "at", "made_at", "recorded_at"];

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Set,
    Append,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub path: Vec<String>,
    pub op: Op,
    pub value: Value,
}

impl Assignment {
    /// Sets the field at a dotted path to a value taken as it is.
    pub fn set(path: &str, value: Value) -> Assignment {
        Assignment { path: path.split('.').map(str::to_owned).collect(), op: Op::Set, value }
    }
}

/// An ordered list of assignments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch(pub Vec<Assignment>);

impl Patch {
    /// Parses `a.b=text`, `a:=<json>` and `list+=text` / `list+:=<json>`.
    /// An empty text value (`a=`) clears an optional field.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Patch, ValidationErrors> {
        let mut out = Vec::new();
        for (position, item) in items.iter().enumerate() {
            let item = item.as_ref();
            // Errors name the assignment's position, never its text: it may be a name or an address.
            let nth = format!("assignment {}", position + 1);
            let Some(eq) = item.find('=') else {
                return Err(ValidationErrors::single(nth, "has no '=': write field=value"));
            };
            let (lhs, text) = (&item[..eq], &item[eq + 1..]);
            let (lhs, raw_json) = match lhs.strip_suffix(':') {
                Some(l) => (l, true),
                None => (lhs, false),
            };
            let (lhs, op) = match lhs.strip_suffix('+') {
                Some(l) => (l, Op::Append),
                None => (lhs, Op::Set),
            };
            let path: Vec<String> = lhs.split('.').map(str::to_owned).collect();
            if path.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
                return Err(ValidationErrors::single(
                    nth,
                    "does not start with a field name (letters, digits, _ and dots, then =)",
                ));
            }
            let field = path.join(".");
            let value = if raw_json {
                serde_json::from_str(text)
                    .map_err(|_| ValidationErrors::single(field.clone(), "is not valid JSON after :="))?
            } else {
                text_value(&path, text)?
            };
            out.push(Assignment { path, op, value });
        }
        Ok(Patch(out))
    }

    /// Reads a form's fields (`{"field": value}`) as assignments. Text is read
    /// as `field=text` is: empty clears, and instants without an offset are UK
    /// local time. Other JSON values are taken as they are.
    pub fn from_fields(fields: &Map<String, Value>) -> Result<Patch, ValidationErrors> {
        let mut out = Vec::new();
        for (name, value) in fields {
            let path: Vec<String> = name.split('.').map(str::to_owned).collect();
            if path.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
                return Err(ValidationErrors::single("form", "names a field that does not exist; reload the app"));
            }
            let value = match value {
                Value::String(text) => text_value(&path, text)?,
                other => other.clone(),
            };
            out.push(Assignment { path, op: Op::Set, value });
        }
        Ok(Patch(out))
    }

    /// The same assignments, made to the fields of the group `field`.
    pub fn within(&self, field: &str) -> Patch {
        Patch(
            self.0
                .iter()
                .map(|a| Assignment {
                    path: std::iter::once(field.to_owned()).chain(a.path.iter().cloned()).collect(),
                    ..a.clone()
                })
                .collect(),
        )
    }

    pub fn touches(&self, field: &str) -> bool {
        self.0.iter().any(|a| a.path[0] == field)
    }

    /// Applies the assignments to a document, refusing fields the core owns.
    pub fn apply(&self, doc: &mut Value, protected: &[&str]) -> Result<(), ValidationErrors> {
        for a in &self.0 {
            let field = a.path.join(".");
            if protected.contains(&a.path[0].as_str()) {
                return Err(ValidationErrors::single(field, "is set by Waymark and cannot be changed"));
            }
            let mut node = &mut *doc;
            for (depth, key) in a.path.iter().enumerate() {
                let map = ensure_object(node)
                    .ok_or_else(|| ValidationErrors::single(a.path[..depth].join("."), "is not a group of fields"))?;
                if depth + 1 == a.path.len() {
                    match a.op {
                        Op::Set => {
                            map.insert(key.clone(), a.value.clone());
                        }
                        Op::Append => match map.entry(key.clone()).or_insert_with(|| json!([])) {
                            Value::Array(list) => list.push(a.value.clone()),
                            slot @ Value::Null => *slot = json!([a.value.clone()]),
                            _ => return Err(ValidationErrors::single(field, "is not a list, so += cannot add to it")),
                        },
                    }
                    break;
                }
                node = map.entry(key.clone()).or_insert(Value::Null);
            }
        }
        Ok(())
    }
}

fn text_value(path: &[String], text: &str) -> Result<Value, ValidationErrors> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    if INSTANT_FIELDS.contains(&path[path.len() - 1].as_str()) {
        return match parse_london_local(text) {
            Some(Ok(t)) => Ok(Value::String(t.to_rfc3339())),
            Some(Err(e)) => Err(ValidationErrors::single(path.join("."), e.to_string())),
            None => Ok(Value::String(text.to_owned())),
        };
    }
    Ok(Value::String(text.to_owned()))
}

fn ensure_object(node: &mut Value) -> Option<&mut Map<String, Value>> {
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    node.as_object_mut()
}

/// What the core fills in on a new record.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub id: Uuid,
    pub case_id: Option<CaseId>,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// The advocate's staff code.
    pub actor: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;
    use chrono::TimeZone;

    #[test]
    fn assignments_set_nested_fields_and_json() {
        let patch = Patch::parse(&["address.lines:=[\"1 Test Row\"]", "address.postcode=ZZ99 9ZZ", "name=A"]).unwrap();
        let mut doc = json!({"id": "x"});
        patch.apply(&mut doc, &["id"]).unwrap();
        assert_eq!(doc, json!({"id": "x", "name": "A", "address": {"lines": ["1 Test Row"], "postcode": "ZZ99 9ZZ"}}));
    }

    #[test]
    fn append_adds_to_lists_and_empty_clears() {
        let patch = Patch::parse(&["behaviours+=following", "behaviours+=loitering", "location="]).unwrap();
        let mut doc = json!({"behaviours": [], "location": "x"});
        patch.apply(&mut doc, &[]).unwrap();
        assert_eq!(doc, json!({"behaviours": ["following", "loitering"], "location": null}));
    }

    #[test]
    fn instants_typed_as_local_time_become_utc() {
        // An advocate types UK time; the store keeps UTC (BST is UTC+1).
        let patch = Patch::parse(&["occurred_at=2026-07-01 09:15"]).unwrap();
        let expected = Utc.with_ymd_and_hms(2026, 7, 1, 8, 15, 0).unwrap().to_rfc3339();
        assert_eq!(patch.0[0].value, Value::String(expected));
    }

    #[test]
    fn protected_fields_are_refused_by_name() {
        let patch = Patch::parse(&["recorded_by=someone"]).unwrap();
        let err = patch.apply(&mut json!({}), RecordKind::Incident.rules().protected).unwrap_err();
        assert_eq!(err.fields(), vec!["recorded_by"]);
    }

    #[test]
    fn form_fields_read_like_assignments() {
        // A form sends a whole object: local times become UTC, blanks clear, lists pass through.
        let fields = json!({"occurred_at": "2026-07-01T09:15", "location": "", "behaviours": ["following"], "reported_to_police": true});
        let patch = Patch::from_fields(fields.as_object().unwrap()).unwrap();
        let mut doc = json!({"location": "old"});
        patch.apply(&mut doc, &[]).unwrap();
        assert_eq!(doc["occurred_at"], "2026-07-01T08:15:00+00:00", "BST is an hour ahead of UTC");
        assert_eq!(doc["location"], Value::Null);
        assert_eq!(doc["behaviours"], json!(["following"]));
        assert_eq!(doc["reported_to_police"], json!(true));
        assert!(Patch::from_fields(json!({"bad name": 1}).as_object().unwrap()).is_err());
    }

    #[test]
    fn a_mistyped_assignment_is_not_echoed_back() {
        // "Jane Doe" typed without a field must not travel into an error message.
        let err = Patch::parse(&["reference=X", "Jane Doe"]).unwrap_err();
        assert_eq!(err.fields(), vec!["assignment 2"]);
        assert!(!err.to_string().contains("Jane"));
        let err = Patch::parse(&["Jane Doe=x"]).unwrap_err();
        assert!(!err.to_string().contains("Jane"), "{err}");
    }

    #[test]
    fn malformed_assignments_are_refused() {
        assert!(Patch::parse(&["novalue"]).is_err());
        assert!(Patch::parse(&["bad field=1"]).is_err());
        assert!(Patch::parse(&["x:={not json"]).is_err());
        let patch = Patch::parse(&["name+=x"]).unwrap();
        assert!(patch.apply(&mut json!({"name": "a"}), &[]).is_err());
    }
}
