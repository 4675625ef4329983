//! The Tauri shell: windows, the menu, and one command per `Desk` method.
//! Each command delegates in one line; rules and SQL live in the core crates.

pub mod command_names;
mod commands;
pub mod record_schemas;
pub mod updates;

use std::path::PathBuf;
use std::sync::Arc;
use tauri::menu::{Menu, MenuItem, Submenu};
use tauri::{Emitter, Manager};
use waymark_app::Desk;

/// The event the UI hears when the menu (not the UI) locked the vault.
pub const LOCKED_EVENT: &str = "vault-locked";
const LOCK_MENU_ID: &str = "lock-now";

/// The vault folder: `WAYMARK_VAULT`, or the same platform data folder the CLI uses.
fn vault_dir() -> Result<PathBuf, String> {
    match std::env::var_os("WAYMARK_VAULT") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => waymark_vault::default_vault_dir()
            .ok_or_else(|| "no home folder found; set WAYMARK_VAULT to choose a vault folder".into()),
    }
}

fn new_desk(dir: PathBuf) -> Desk {
    use rand::SeedableRng;
    Desk::new(dir, Arc::new(waymark_vault::SystemClock), Box::new(|| Box::new(rand::rngs::StdRng::from_entropy())))
}

/// The generated-bindings builder: the list of commands the UI may call.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    // Our 64-bit integers are counts, days and sequence numbers, far below 2^53,
    // so they are exact as TypeScript numbers.
    tauri_specta::Builder::<tauri::Wry>::new().commands(commands::all()).dangerously_cast_bigints_to_number()
}

/// Writes the TypeScript bindings the UI imports.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from Rust by `cargo xtask bindings`. Do not edit.\n"),
            path,
        )
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;

pub fn run() {
    // Logs carry ids and outcomes only, go to stderr, and only when WAYMARK_LOG is set.
    if let Ok(filter) = std::env::var("WAYMARK_LOG") {
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).try_init();
    }
    let builder = specta_builder();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updates::PendingUpdate::default())
        .invoke_handler(builder.invoke_handler())
        .setup(|app| {
            let dir = vault_dir()?;
            std::fs::create_dir_all(&dir)?;
            let desk = new_desk(dir);
            desk.start_background_sync();
            app.manage(desk);
            let lock = MenuItem::with_id(app, LOCK_MENU_ID, "Lock now", true, Some("CmdOrCtrl+L"))?;
            let vault_menu = Submenu::with_items(app, "Vault", true, &[&lock])?;
            app.set_menu(Menu::with_items(app, &[&vault_menu])?)?;
            Ok(())
        })
        .on_menu_event(|app, event| {
            if event.id().as_ref() == LOCK_MENU_ID {
                let state = app.state::<Desk>().lock();
                let _ = app.emit(LOCKED_EVENT, state);
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app stopped with an error");
        std::process::exit(1);
    }
}
