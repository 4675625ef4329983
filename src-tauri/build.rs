//! Declares the app's commands, so each one needs an explicit `allow-…`
//! permission in `capabilities/` before the UI can call it.

include!("src/command_names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
