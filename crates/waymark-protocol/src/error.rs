//! Everything that can be wrong with a message. Each variant has a stable code
//! that the clinic returns and the device shows; none carries message content.

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
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::Malformed(_) => "malformed",
            ProtocolError::UnsupportedVersion { .. } => "unsupported_version",
            ProtocolError::TooLarge { .. } => "too_large",
            ProtocolError::TooManyOps { .. } => "too_many_ops",
            ProtocolError::BadSignature => "bad_signature",
            ProtocolError::Undecryptable => "undecryptable",
            ProtocolError::HeaderMismatch(_) => "header_mismatch",
            ProtocolError::Sequence(_) => "bad_sequence",
            ProtocolError::EnrolmentCode(_) => "bad_enrolment_code",
            ProtocolError::Key(_) => "bad_key",
            ProtocolError::BadReceipt => "forged_receipt",
            ProtocolError::BadWipeOrder => "forged_wipe",
        }
    }
}
