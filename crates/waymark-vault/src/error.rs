//! Typed errors. Each has a stable `code` for the UI and a message that says
//! what to do next. None carries personal data: values never appear, only
//! field names, record kinds and ids.

use waymark_domain::codes::ErrorCode;
use waymark_domain::{RecordKind, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault was found in that folder; create one with `waymark init` or choose another with --vault")]
    NoVault,
    #[error("a vault already exists in that folder; choose another folder or unlock the existing vault")]
    AlreadyExists,
    #[error("the passphrase is wrong; wait {wait_secs} s before trying again (failed attempts: {failures})")]
    WrongPassphrase { failures: u32, wait_secs: u64 },
    #[error("too many wrong passphrases; wait {wait_secs} s before trying again")]
    TooSoon { wait_secs: u64 },
    #[error("that passphrase is not strong enough: {hint}")]
    WeakPassphrase { hint: String },
    #[error("the key file is damaged or not a Waymark key file; restore it from a backup or recover with the clinic's recovery identity")]
    KeyFileCorrupt,
    #[error("the key file asks for far more unlocking work than Waymark allows, so it may have been tampered with; restore it from a backup or recover with the clinic's recovery identity")]
    KeyFileExcessiveWork,
    #[error("the key file does not belong to this database; put the matching key file back in the vault folder")]
    KeyMismatch,
    #[error("this vault has no recovery recipient, so the passphrase cannot be reset; restore from an encrypted backup instead")]
    NoRecoveryRecipient,
    #[error(
        "the recovery identity does not match this vault's recovery recipient; use the clinic's recovery identity file"
    )]
    WrongRecoveryIdentity,
    #[error("not a valid age recipient or identity: it should start with {expected}")]
    BadAgeKey { expected: &'static str },
    #[error("the vault was written by a newer Waymark (schema {found}, this build knows {supported}); update Waymark before opening it")]
    NewerSchema { found: u32, supported: u32 },
    #[error("the database is damaged or unreadable; restore from an encrypted backup")]
    DatabaseUnreadable,
    #[error("another program has the vault open; close the Waymark app and try again")]
    InUse,
    #[error("the victim's address appears in {} of this {}; text there can be printed or sent to the clinic. Nothing was saved: remove it, or save again confirming you mean it (the confirmation is recorded in the audit trail)", fields.join(", "), kind.wire())]
    AddressInText { kind: RecordKind, fields: Vec<String> },
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("no {} with that id or reference; list them to find the right one", kind.wire())]
    NotFound { kind: RecordKind },
    #[error("{} records are never edited; add a new {} instead", kind.wire(), correction)]
    Immutable { kind: RecordKind, correction: &'static str },
    #[error("that {field} is already used by another record; choose another")]
    Duplicate { field: &'static str },
    #[error(
        "more than one case has that reference; use the case id instead (`waymark --json case list` shows each id)"
    )]
    AmbiguousReference,
    #[error("the clinic's record of this laptop's changes does not match the laptop's (it may have been put back from an older copy); nothing was sent or removed, and the changes stay on this laptop. Tell the clinic administrator")]
    LogDiverged,
    #[error("the change clashes with a record this vault already holds (a duplicate); nothing was saved. Check for the duplicate, and report it if it repeats")]
    Clash,
    #[error(
        "the backup could not be read: it is damaged, truncated or not a Waymark backup; the vault was not changed"
    )]
    BackupCorrupt,
    #[error("the backup was not encrypted for this passphrase or identity; the vault was not changed")]
    BackupNotForYou,
    #[error("the backup's work factor is too high to open safely here; the vault was not changed")]
    BackupExcessiveWork,
    #[error("the audit trail does not verify: {0}; keep this vault as evidence and contact your IT lead")]
    AuditBroken(String),
    #[error("the op log does not verify: {0}; keep this vault as evidence and contact your IT lead")]
    OpLogBroken(String),
    #[error("a file could not be read or written ({context}): {kind}; check the disk and folder permissions")]
    Io { context: &'static str, kind: std::io::ErrorKind },
    #[error("the database refused the change ({0}); nothing was saved. Try again, and report it if it repeats")]
    Database(String),
}

impl VaultError {
    /// A stable code for the UI and for scripts.
    pub fn code(&self) -> ErrorCode {
        match self {
            VaultError::NoVault => ErrorCode::NoVault,
            VaultError::AlreadyExists => ErrorCode::AlreadyExists,
            VaultError::WrongPassphrase { .. } => ErrorCode::WrongPassphrase,
            VaultError::TooSoon { .. } => ErrorCode::TooSoon,
            VaultError::WeakPassphrase { .. } => ErrorCode::WeakPassphrase,
            VaultError::KeyFileCorrupt => ErrorCode::KeyFileCorrupt,
            VaultError::KeyFileExcessiveWork => ErrorCode::KeyFileExcessiveWork,
            VaultError::KeyMismatch => ErrorCode::KeyMismatch,
            VaultError::NoRecoveryRecipient => ErrorCode::NoRecoveryRecipient,
            VaultError::WrongRecoveryIdentity => ErrorCode::WrongRecoveryIdentity,
            VaultError::BadAgeKey { .. } => ErrorCode::BadAgeKey,
            VaultError::NewerSchema { .. } => ErrorCode::NewerSchema,
            VaultError::DatabaseUnreadable => ErrorCode::DatabaseUnreadable,
            VaultError::InUse => ErrorCode::VaultInUse,
            VaultError::AddressInText { .. } => ErrorCode::AddressInText,
            VaultError::Invalid(_) => ErrorCode::Invalid,
            VaultError::NotFound { .. } => ErrorCode::NotFound,
            VaultError::Immutable { .. } => ErrorCode::Immutable,
            VaultError::Duplicate { .. } => ErrorCode::Duplicate,
            VaultError::AmbiguousReference => ErrorCode::AmbiguousReference,
            VaultError::LogDiverged => ErrorCode::LogDiverged,
            VaultError::Clash => ErrorCode::Clash,
            VaultError::BackupCorrupt => ErrorCode::BackupCorrupt,
            VaultError::BackupNotForYou => ErrorCode::BackupNotForYou,
            VaultError::BackupExcessiveWork => ErrorCode::BackupExcessiveWork,
            VaultError::AuditBroken(_) => ErrorCode::AuditBroken,
            VaultError::OpLogBroken(_) => ErrorCode::OpLogBroken,
            VaultError::Io { .. } => ErrorCode::Io,
            VaultError::Database(_) => ErrorCode::Database,
        }
    }

    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> VaultError {
        move |e| VaultError::Io { context, kind: e.kind() }
    }
}

impl From<ValidationErrors> for VaultError {
    fn from(e: ValidationErrors) -> Self {
        VaultError::Invalid(e)
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::NotADatabase => VaultError::DatabaseUnreadable,
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::DatabaseCorrupt => {
                VaultError::DatabaseUnreadable
            }
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation => VaultError::Clash,
            // rusqlite's messages carry SQL and constraint names, never bound values.
            rusqlite::Error::SqliteFailure(f, _) => VaultError::Database(format!("{:?}", f.code)),
            // Other variants can quote a stored value, so only their kind is kept.
            rusqlite::Error::QueryReturnedNoRows => VaultError::Database("no such row".into()),
            rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
                VaultError::Database("a stored value has the wrong type".into())
            }
            _ => VaultError::Database("query failed".into()),
        }
    }
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;
