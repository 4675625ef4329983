//! Everything that can be wrong with a message. Each variant has a stable code
//! that the clinic returns and the device shows; none carries message content.

use waymark_domain::codes::ErrorCode;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("the message is not a Waymark sync message ({0})")]
    Malformed(&'static str),
    #[error("the message uses protocol version {found}; this build speaks {supported}")]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("the batch is larger than the configured limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the batch holds more than the configured limit of {limit} ops")]
    TooManyOps { limit: u32 },
    #[error("the signature does not match the sender's registered key")]
    BadSignature,
    #[error("the batch could not be decrypted with this key")]
    Undecryptable,
    #[error("the sealed contents do not match the outer header ({0})")]
    HeaderMismatch(&'static str),
    #[error("the ops in the batch are not numbered {0}")]
    Sequence(&'static str),
    #[error("the enrolment code is not valid ({0}); ask the clinic for a new one")]
    EnrolmentCode(&'static str),
    #[error("a key is not valid ({0})")]
    Key(&'static str),
    #[error("the acknowledgement is not signed by the clinic this laptop enrolled with; nothing was removed from the outbox")]
    BadReceipt,
    #[error("an order to erase this laptop is not signed by the clinic it enrolled with; it was not obeyed")]
    BadWipeOrder,
}

impl ProtocolError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::Malformed(_) => ErrorCode::Malformed,
            ProtocolError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            ProtocolError::TooLarge { .. } => ErrorCode::TooLarge,
            ProtocolError::TooManyOps { .. } => ErrorCode::TooManyOps,
            ProtocolError::BadSignature => ErrorCode::BadSignature,
            ProtocolError::Undecryptable => ErrorCode::Undecryptable,
            ProtocolError::HeaderMismatch(_) => ErrorCode::HeaderMismatch,
            ProtocolError::Sequence(_) => ErrorCode::BadSequence,
            ProtocolError::EnrolmentCode(_) => ErrorCode::BadEnrolmentCode,
            ProtocolError::Key(_) => ErrorCode::BadKey,
            ProtocolError::BadReceipt => ErrorCode::ForgedReceipt,
            ProtocolError::BadWipeOrder => ErrorCode::ForgedWipe,
        }
    }
}
