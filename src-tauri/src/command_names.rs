/// Every command the UI may call. The build script declares them, so each one
/// needs an explicit `allow-…` permission; a test checks that the capability
/// grants exactly these and that each has a handler.
pub const COMMANDS: &[&str] = &[
    "vault_state",
    "passphrase_strength",
    "create_vault",
    "unlock",
    "lock",
    "set_idle_lock_minutes",
    "caseload",
    "case_view",
    "open_case",
    "add_record",
    "edit_record",
    "amend_incident",
    "instruments",
    "vocabularies",
    "print_preview",
    "print_save",
    "print_to_printer",
    "print_close",
    "sync_view",
    "sync_enrol",
    "sync_now",
    "resolve_conflict",
];
