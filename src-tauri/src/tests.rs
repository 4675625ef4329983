use super::*;
use std::path::Path;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_typescript_bindings_are_current() {
    // The UI compiles against ui/src/lib/bindings.ts; if a Rust type or command
    // changed without regenerating it, the UI would call the core with the wrong shape.
    let committed_path = manifest_dir().join("../ui/src/lib/bindings.ts");
    let fresh = tempfile::NamedTempFile::new().unwrap();
    export_bindings(fresh.path()).unwrap();
    let fresh = std::fs::read_to_string(fresh.path()).unwrap();
    if std::env::var_os("WAYMARK_WRITE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(fresh == committed, "ui/src/lib/bindings.ts is stale: run `cargo xtask bindings` and commit the result");
}

#[test]
fn the_record_schemas_document_is_current() {
    // A second implementation builds records from docs/record-schemas.md; a
    // field added to a record but missing there would be refused by real
    // laptops as `invalid`, as `opened_on` and `recorded_by` once were.
    let path = manifest_dir().join("../docs/record-schemas.md");
    let bindings = tempfile::NamedTempFile::new().unwrap();
    export_bindings(bindings.path()).unwrap();
    let fresh = record_schemas::record_schemas(&std::fs::read_to_string(bindings.path()).unwrap());
    if std::env::var_os("WAYMARK_WRITE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    for kind in waymark_domain::RecordKind::ALL {
        assert!(fresh.contains(&format!("export type {}", kind.type_name())), "{} is described", kind.wire());
    }
    assert!(fresh.contains("recorded_by: string"), "required fields are marked as such");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(fresh == committed, "docs/record-schemas.md is stale: run `cargo xtask bindings` and commit the result");
}

#[test]
fn the_capability_grants_exactly_the_declared_commands() {
    // A command the UI cannot call is dead code; a permission without a command is a typo
    // that would leave the real command unreachable.
    let text = std::fs::read_to_string(manifest_dir().join("capabilities/main.json")).unwrap();
    let capability: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut granted: Vec<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    granted.sort();
    let mut declared: Vec<String> = command_names::COMMANDS.iter().map(|c| (*c).to_owned()).collect();
    declared.sort();
    assert_eq!(granted, declared);
    let others: Vec<&str> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.starts_with("allow-"))
        .collect();
    assert_eq!(others, ["core:event:allow-listen", "core:event:allow-unlisten"], "no other core permission is granted");
    let bindings = std::fs::read_to_string(manifest_dir().join("../ui/src/lib/bindings.ts")).unwrap_or_default();
    for command in command_names::COMMANDS {
        assert!(bindings.contains(&format!("(\"{command}\"")), "{command} has no handler in the bindings");
    }
    // And the other way: a handler the build script does not declare would be refused at run time.
    let invoked = bindings.matches("__TAURI_INVOKE(\"").count() + bindings.matches("__TAURI_INVOKE<").count();
    assert_eq!(
        invoked,
        command_names::COMMANDS.len(),
        "the bindings call a command that command_names.rs does not declare"
    );
}

#[test]
fn the_csp_allows_nothing_from_outside_the_app() {
    let conf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest_dir().join("tauri.conf.json")).unwrap()).unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let remote: Vec<&str> = csp
        .split([' ', ';'])
        .filter(|t| t.contains(':') && !t.ends_with(':') && *t != "http://ipc.localhost")
        .collect();
    assert!(remote.is_empty(), "only the IPC endpoint may be reached, not {remote:?}");
    assert!(!csp.contains("https:") && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(conf["app"]["withGlobalTauri"], false);
}
