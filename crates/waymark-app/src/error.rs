//! The one error shape the UI sees: a stable code, a message that says what
//! to do next, and the fields a form should mark.

use serde::Serialize;
use waymark_domain::codes::ErrorCode;
use waymark_domain::FieldError;
use waymark_vault::VaultError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct DeskError {
    pub code: ErrorCode,
    pub message: String,
    /// For validation errors: each field and the rule it broke, for inline messages.
    pub fields: Vec<FieldError>,
    /// For wrong passphrases: seconds before the next attempt is allowed.
    pub wait_secs: Option<u64>,
}

impl DeskError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: Vec::new(), wait_secs: None }
    }

    pub fn locked() -> Self {
        Self::new(ErrorCode::Locked, "The vault is locked. Unlock it with your passphrase to go on.")
    }

    pub fn field(field: &str, rule: &str) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: format!("{field} {rule}"),
            fields: vec![FieldError { field: field.into(), rule: rule.into() }],
            wait_secs: None,
        }
    }
}

impl From<VaultError> for DeskError {
    fn from(e: VaultError) -> Self {
        let wait_secs = match &e {
            VaultError::WrongPassphrase { wait_secs, .. } | VaultError::TooSoon { wait_secs } => Some(*wait_secs),
            _ => None,
        };
        let fields = match &e {
            VaultError::Invalid(errors) => errors.0.clone(),
            VaultError::AddressInText { fields, .. } => fields
                .iter()
                .map(|field| FieldError {
                    field: field.clone(),
                    rule: "holds the victim's address: text here can be printed or sent to the clinic".into(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self { code: e.code(), message: sentence(e.to_string()), fields, wait_secs }
    }
}

/// Sentences for people, not the CLI's lower-case lines.
fn sentence(mut message: String) -> String {
    if let Some(first) = message.get(..1) {
        message = first.to_uppercase() + &message[1..];
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message
}

impl From<waymark_print::PrintError> for DeskError {
    fn from(e: waymark_print::PrintError) -> Self {
        match e {
            waymark_print::PrintError::Vault(inner) => inner.into(),
            other => Self::new(other.code(), sentence(other.to_string())),
        }
    }
}

impl From<waymark_domain::ValidationErrors> for DeskError {
    fn from(e: waymark_domain::ValidationErrors) -> Self {
        VaultError::Invalid(e).into()
    }
}

pub type Result<T, E = DeskError> = std::result::Result<T, E>;
