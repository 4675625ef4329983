use waymark_domain::codes::ErrorCode;
use waymark_protocol::ProtocolError;
use waymark_vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this laptop is not enrolled with a clinic; paste the enrolment code from the clinic administrator")]
    NotEnrolled,
    #[error("the vault is locked; unlock it to sync")]
    Locked,
    #[error("the clinic could not be reached; changes stay on this laptop and go when it can be reached")]
    Offline,
    #[error("the server is not the clinic this laptop enrolled with (its certificate does not match); do not sync on this network and tell the clinic")]
    WrongServer,
    #[error("the clinic refused the request ({code}): {message}")]
    Refused { code: ErrorCode, message: String, status: u16 },
    #[error("the clinic revoked this laptop; its vault has been erased")]
    Wiped,
    /// A reply that orders this laptop erased, not yet checked.
    #[error("the server ordered this laptop erased")]
    WipeOrder { signature: Option<String>, request: Option<uuid::Uuid> },
    #[error("the laptop's staff code ({vault}) is not the one this enrolment code was issued for; use the code issued to you")]
    AdvocateMismatch { vault: String },
    #[error("a message from the clinic failed its checks ({0})")]
    Protocol(#[from] ProtocolError),
    #[error("this laptop enrolled again during the sync; the next sync goes as the new device")]
    IdentityChanged,
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SyncError::NotEnrolled => ErrorCode::NotEnrolled,
            SyncError::Locked => ErrorCode::Locked,
            SyncError::Offline => ErrorCode::Offline,
            SyncError::WrongServer => ErrorCode::WrongServer,
            SyncError::Refused { code, .. } => *code,
            SyncError::Wiped => ErrorCode::Wiped,
            SyncError::WipeOrder { .. } => ErrorCode::Revoked,
            SyncError::AdvocateMismatch { .. } => ErrorCode::AdvocateMismatch,
            SyncError::Protocol(e) => e.code(),
            SyncError::IdentityChanged => ErrorCode::IdentityChanged,
            SyncError::Vault(e) => e.code(),
        }
    }

    /// Temporary failures are retried with backoff; permanent ones go on the
    /// problems list for a person to act on.
    pub fn is_permanent(&self) -> bool {
        match self {
            SyncError::Offline | SyncError::Locked | SyncError::IdentityChanged => false,
            // Too many requests and a slow link pass by themselves.
            SyncError::Refused { status, code, .. } => {
                *status < 500 && !matches!(*status, 408 | 429) && *code != ErrorCode::Replayed
            }
            SyncError::Vault(e) => e.code() != ErrorCode::Database,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_clinic_and_a_slow_link_are_retried_but_a_refusal_is_listed() {
        // Why: a rate limit or a timeout passes by itself; listing it as a problem would ask a person to act for nothing.
        let refused = |status: u16, code: ErrorCode| SyncError::Refused { code, message: String::new(), status };
        assert!(!refused(429, ErrorCode::RateLimited).is_permanent());
        assert!(!refused(408, ErrorCode::Timeout).is_permanent());
        assert!(!refused(503, ErrorCode::Store).is_permanent());
        assert!(refused(403, ErrorCode::AdvocateMismatch).is_permanent());
        assert!(refused(409, ErrorCode::CursorAhead).is_permanent());
    }
}
