//! `cargo xtask tidy`: the invariants ARCHITECTURE.md states, checked from
//! the workspace itself rather than trusted. Run by `cargo xtask test`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that keep to pure logic: no store, no network, no file system.
const PURE: &[&str] = &["waymark-domain", "waymark-protocol", "waymark-demo", "waymark-report"];
/// The only crates that may depend on rusqlite (they write SQL).
const STORES: &[&str] = &["waymark-sqlcipher", "waymark-vault", "waymark-clinic"];
/// The only crate that may talk to PostgreSQL: the clinic server's store.
const POSTGRES_STORE: &str = "waymark-clinic";
/// Crates of the desktop side, which the clinic server must never depend on.
/// The vault is not one of them: the clinic keeps its copy of the records in
/// a replica vault, but only through `projection.rs` (`clinic_vault_uses`).
const DESKTOP: &[&str] =
    &["waymark-sync", "waymark-app", "waymark-print", "waymark-import", "waymark-cli", "waymark-desktop"];
/// The typesetting both sides share: it must bring the clinic neither a store
/// nor a desktop crate.
const SHARED_TYPESET: &str = "waymark-typeset";
/// The one clinic module that may use the vault crate.
const CLINIC_PROJECTION: &str = "crates/waymark-clinic/src/projection.rs";
/// Crates that do I/O, which a pure crate must not depend on.
const IO_CRATES: &[&str] =
    &["rusqlite", "postgres", "reqwest", "tokio", "axum", "hyper", "rustls", "tauri", "directories", "tempfile"];
/// Source text a pure crate must not contain outside its tests.
const IO_CALLS: &[&str] =
    &["std::fs", "std::net", "std::process", "std::env::var", "Utc::now", "SystemTime::now", "thread_rng", "OsRng"];

pub fn tidy(root: &Path, usage: &str, tasks: &[&str]) -> Result<(), String> {
    let mut problems = Vec::new();
    let metadata = cargo_metadata(root)?;
    problems.extend(dependency_rules(&metadata));
    problems.extend(pure_sources(root));
    problems.extend(one_write_path(root));
    problems.extend(clinic_vault_uses(root));
    problems.extend(vault_file_writes(root));
    problems.extend(code_map_paths(root)?);
    problems.extend(
        tasks.iter().filter(|t| !usage.contains(*t)).map(|t| format!("the xtask usage text does not list `{t}`")),
    );
    if problems.is_empty() {
        eprintln!("==> tidy: dependency rules, pure crates, code map paths and xtask usage hold");
        Ok(())
    } else {
        Err(format!("tidy found {} problem(s):\n  {}", problems.len(), problems.join("\n  ")))
    }
}

fn cargo_metadata(root: &Path) -> Result<Value, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata gave unreadable JSON: {e}"))
}

/// Each workspace package's normal (non-dev, non-build) dependencies.
fn normal_dependencies(metadata: &Value) -> Vec<(String, Vec<String>)> {
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter(|d| d["kind"].is_null())
                        .filter_map(|d| d["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (p["name"].as_str().unwrap_or_default().to_owned(), deps)
        })
        .collect()
}

fn dependency_rules(metadata: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let packages = normal_dependencies(metadata);
    if !packages.iter().any(|(name, _)| name == "waymark-clinic") {
        problems.push("cargo metadata lists no waymark-clinic: the rules below would check nothing".to_owned());
    }
    for (name, deps) in &packages {
        for dep in deps {
            if PURE.contains(&name.as_str()) && (IO_CRATES.contains(&dep.as_str()) || STORES.contains(&dep.as_str())) {
                problems.push(format!("{name} must do no I/O but depends on {dep}"));
            }
            if dep == "rusqlite" && !STORES.contains(&name.as_str()) {
                problems.push(format!("{name} depends on rusqlite; only {} write SQL", STORES.join(" and ")));
            }
            if dep == "postgres" && name != POSTGRES_STORE {
                problems.push(format!("{name} depends on postgres; only {POSTGRES_STORE}'s store talks to PostgreSQL"));
            }
            if name == "waymark-clinic" && DESKTOP.contains(&dep.as_str()) {
                problems.push(format!("waymark-clinic depends on the desktop crate {dep}"));
            }
            if name == SHARED_TYPESET && (STORES.contains(&dep.as_str()) || DESKTOP.contains(&dep.as_str())) {
                problems.push(format!("{SHARED_TYPESET}, which the clinic uses, depends on {dep}"));
            }
        }
    }
    problems
}

/// The clinic reaches the vault crate only through its projection, so the
/// replica's apply and queries are the clinic's one door into it.
fn clinic_vault_uses(root: &Path) -> Vec<String> {
    let src = root.join("crates/waymark-clinic/src");
    let allowed = root.join(CLINIC_PROJECTION);
    let mut problems = Vec::new();
    if !allowed.is_file() {
        problems.push(format!("{CLINIC_PROJECTION} (the clinic's one use of the vault) is missing"));
    }
    for path in rust_files(&src) {
        if path == allowed {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("waymark_vault") {
            let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            problems.push(format!(
                "{shown} uses waymark_vault; the clinic reaches the vault only through {CLINIC_PROJECTION}"
            ));
        }
    }
    problems
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The pure crates' sources, with `#[cfg(test)]` modules cut off, name no I/O.
fn pure_sources(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for krate in PURE {
        let src = root.join("crates").join(krate).join("src");
        let files = rust_files(&src);
        if files.is_empty() {
            problems.push(format!("{krate} has no sources under {}", src.display()));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
            for call in IO_CALLS {
                if shipped.contains(call) {
                    let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
                    problems.push(format!("{shown} uses {call}, but {krate} does no I/O: pass it in"));
                }
            }
        }
    }
    problems
}

/// SQL that writes a record document, which only the vault's document
/// gateway may hold (and the migrations, which rewrite stored documents).
/// Compared with the source lower-cased and without spaces, so spacing and
/// case do not hide one.
const DOCUMENT_WRITES: &[&str] = &["(id,doc,updated_hlc)", "(id,updated_hlc,doc)", "setdoc=", ",doc=", "replaceinto"];

/// Record documents are written in one place: `documents.rs`. A second
/// writer would skip whatever the gateway comes to guarantee.
fn one_write_path(root: &Path) -> Vec<String> {
    let src = root.join("crates/waymark-vault/src");
    let gateway = src.join("documents.rs");
    let mut problems = Vec::new();
    if !gateway.exists() {
        problems.push("crates/waymark-vault/src/documents.rs (the document gateway) is missing".to_owned());
    }
    for file in rust_files(&src) {
        if file == gateway {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let shipped = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        let squeezed: String = shipped.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
        if DOCUMENT_WRITES.iter().any(|w| squeezed.contains(w)) {
            let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
            problems.push(format!("{shown} writes record documents; go through documents.rs"));
        }
    }
    problems
}

/// Raw file writes, which the vault makes only through `fsutil.rs` (owner-only,
/// written beside the target and renamed into place, synced).
const RAW_WRITES: &[&str] = &["std::fs::write", "fs::write(", "File::create", "OpenOptions"];

/// The vault writes files only through its file helpers.
fn vault_file_writes(root: &Path) -> Vec<String> {
    let src = root.join("crates/waymark-vault/src");
    let helpers = src.join("fsutil.rs");
    let mut problems = Vec::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let shipped = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        let test_module = file.file_name().is_some_and(|n| n == "tests.rs");
        if file != helpers && !test_module && RAW_WRITES.iter().any(|w| shipped.contains(w)) {
            let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
            problems.push(format!("{shown} writes a file directly; use fsutil.rs"));
        }
    }
    problems
}

/// Every file or folder the code map names exists: at the repository root,
/// or under the row's own path.
fn code_map_paths(root: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).map_err(|e| format!("read ARCHITECTURE.md: {e}"))?;
    let map = text
        .split("## Code map")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .ok_or("ARCHITECTURE.md has no code map")?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for row in map.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').collect();
        let Some(base) = cells.get(1).map(|c| c.trim().trim_matches('`')) else { continue };
        let base_path = root.join(base);
        if !base_path.exists() {
            problems.push(format!("the code map names `{base}`, which does not exist"));
            continue;
        }
        let within: Vec<String> =
            files_and_folders(&base_path).into_iter().map(|p| p.to_string_lossy().into_owned()).collect();
        for token in row.split('`').skip(1).step_by(2).skip(1) {
            if !looks_like_path(token) {
                continue;
            }
            checked += 1;
            let bare = token.trim_end_matches('/');
            let found = root.join(bare).exists() || within.iter().any(|p| p.ends_with(&format!("/{bare}")));
            if !found {
                problems.push(format!("the code map's row for `{base}` names `{token}`, which is not there"));
            }
        }
    }
    if checked == 0 {
        problems.push("no paths were found in the code map: the check would prove nothing".to_owned());
    }
    Ok(problems)
}

fn files_and_folders(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if dir.is_file() {
        return vec![dir.to_owned()];
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "node_modules" || name == "target" || name == "dist" {
                continue;
            }
            out.push(path.clone());
            if path.is_dir() {
                out.extend(files_and_folders(&path));
            }
        }
    }
    out
}

/// A backticked token that names a file or folder (not code like `Vault::commit`).
fn looks_like_path(token: &str) -> bool {
    const EXTENSIONS: [&str; 11] =
        [".rs", ".md", ".toml", ".typ", ".json", ".sql", ".ts", ".svelte", ".mjs", ".lock", ".svg"];
    let plain = token.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    plain && (token.ends_with('/') || EXTENSIONS.iter().any(|e| token.ends_with(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_of_record_documents_is_caught() {
        // The vault's own sources pass; a copy of them with one more writer must not.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        assert_eq!(one_write_path(&root), Vec::<String>::new());
        let copy = tempfile::tempdir().unwrap();
        let src = copy.path().join("crates/waymark-vault/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("documents.rs"), "UPDATE x SET doc = ?2").unwrap();
        std::fs::write(src.join("rogue.rs"), "fn f() { sql(\"update cases set  doc=?2 where id = ?1\") }").unwrap();
        let problems = one_write_path(copy.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("rogue.rs"));
    }

    #[test]
    fn a_clinic_that_reaches_the_vault_outside_its_projection_is_caught() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        assert_eq!(clinic_vault_uses(&root), Vec::<String>::new());
        let copy = tempfile::tempdir().unwrap();
        let src = copy.path().join("crates/waymark-clinic/src");
        std::fs::create_dir_all(src.join("store")).unwrap();
        std::fs::write(src.join("projection.rs"), "use waymark_vault::Replica;").unwrap();
        std::fs::write(src.join("store/rogue.rs"), "fn f(v: &waymark_vault::Vault) {}").unwrap();
        let problems = clinic_vault_uses(copy.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("store/rogue.rs"), "{problems:?}");
    }

    #[test]
    fn a_clinic_that_depends_on_the_sync_client_and_a_pure_crate_on_rusqlite_are_caught() {
        let metadata = serde_json::json!({"packages": [
            {"name": "waymark-clinic", "dependencies": [{"name": "waymark-sync", "kind": null}, {"name": "tempfile", "kind": "dev"}]},
            {"name": "waymark-domain", "dependencies": [{"name": "rusqlite", "kind": null}]},
            {"name": "waymark-cli", "dependencies": [{"name": "rusqlite", "kind": null}]},
            {"name": "waymark-app", "dependencies": [{"name": "postgres", "kind": null}]},
        ]});
        let problems = dependency_rules(&metadata);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("waymark-app depends on postgres")));
        assert!(problems.iter().any(|p| p.contains("waymark-clinic depends on the desktop crate waymark-sync")));
        assert!(problems.iter().any(|p| p.contains("waymark-domain must do no I/O")));
        assert!(problems.iter().any(|p| p.starts_with("waymark-cli depends on rusqlite")));
    }

    #[test]
    fn paths_are_told_from_code() {
        assert!(looks_like_path("src/migrations/"));
        assert!(looks_like_path("heads.rs"));
        assert!(!looks_like_path("Vault::commit"));
        assert!(!looks_like_path("waymark sync rejoin"));
    }

    #[test]
    fn the_repository_itself_is_tidy() {
        // The real workspace, so a broken rule fails `cargo test` as well as `cargo xtask tidy`.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned();
        assert_eq!(pure_sources(&root), Vec::<String>::new());
        assert_eq!(code_map_paths(&root).unwrap(), Vec::<String>::new());
    }
}
