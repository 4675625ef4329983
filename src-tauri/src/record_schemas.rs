//! `docs/record-schemas.md`: the shape of every record kind as it travels in
//! an op's `changes`, cut from the generated TypeScript bindings (which come
//! from the Rust types), so a second implementation need not guess a field.

use std::collections::{BTreeMap, BTreeSet};
use waymark_domain::RecordKind;

/// The document, from the text of the generated bindings.
pub fn record_schemas(bindings: &str) -> String {
    let declarations = declarations(bindings);
    // What a receiver accepts: the deserialising shape where the two differ.
    let accepted = |name: &str| {
        let de = format!("{name}_Deserialize");
        if declarations.contains_key(&de) {
            de
        } else {
            name.to_owned()
        }
    };
    let mut out = String::from(
        "# Record schemas\n\n\
         Generated from the Rust record types by `cargo xtask bindings` and checked by a test\n\
         (`src-tauri/src/tests.rs`). Do not edit by hand.\n\n\
         An op's `kind` names one of the record types below. A create's `changes.new` is the\n\
         whole record in that shape; an update's `changes.new` and `changes.old` carry only\n\
         the top-level fields it changes, each in the shape given here. In the TypeScript\n\
         notation: a field marked `?` may be left out (it then takes its default: empty,\n\
         false or null); `| null` may be null; a union of strings lists every value\n\
         allowed; ids are UUID strings; dates are `YYYY-MM-DD`; instants are RFC 3339\n\
         (see `sync-protocol.md`). A receiver refuses anything else as `invalid`,\n\
         including a field not listed. The clinic writes only `clinic_review` records and\n\
         the `advocate` of a case.\n\n\
         | `kind` | Type |\n|---|---|\n",
    );
    let mut wanted: Vec<String> = Vec::new();
    for kind in RecordKind::ALL {
        let name = accepted(kind.type_name());
        out.push_str(&format!("| `{}` | `{name}` |\n", kind.wire()));
        wanted.push(name);
    }
    // Every type the record types use, however deep.
    let mut shown: BTreeSet<String> = BTreeSet::new();
    let mut queue = wanted.clone();
    while let Some(name) = queue.pop() {
        if !shown.insert(name.clone()) {
            continue;
        }
        if let Some(body) = declarations.get(&name) {
            queue.extend(references(body).into_iter().filter(|r| declarations.contains_key(r) && !shown.contains(r)));
        }
    }
    out.push_str("\n```ts\n");
    let order = wanted.iter().cloned().chain(shown.iter().filter(|n| !wanted.contains(n)).cloned());
    for name in order {
        if let Some(body) = declarations.get(&name) {
            out.push_str(body);
            out.push('\n');
        }
    }
    out.push_str("```\n");
    out
}

/// Each `export type` with its doc comment, by name.
fn declarations(bindings: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in bindings.lines() {
        if let Some((name, lines)) = current.as_mut() {
            lines.push(line);
            if line.ends_with(';') && !line.starts_with(char::is_whitespace) {
                out.insert(name.clone(), lines.join("\n"));
                current = None;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("export type ") {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let mut lines = std::mem::take(&mut pending);
            lines.push(line);
            if line.ends_with(';') {
                out.insert(name, lines.join("\n"));
            } else {
                current = Some((name, lines));
            }
        } else if line.starts_with("/**") || (!pending.is_empty() && !line.trim().is_empty()) {
            pending.push(line);
        } else {
            pending.clear();
        }
    }
    out
}

/// The type names a declaration's body mentions.
fn references(body: &str) -> BTreeSet<String> {
    let code: String = body
        .lines()
        .filter(|l| !l.trim_start().starts_with("/**") && !l.trim_start().starts_with('*'))
        .collect::<Vec<_>>()
        .join("\n");
    let body = code.split_once('=').map_or("", |(_, b)| b);
    let mut names = BTreeSet::new();
    let mut word = String::new();
    let mut in_string = false;
    for c in body.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            in_string = !in_string;
            word.clear();
            continue;
        }
        if !in_string && (c.is_alphanumeric() || c == '_') {
            word.push(c);
        } else {
            if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                names.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    names
}
