//! The clinic's errors. Each maps to an HTTP status and a stable code; the
//! message says what the caller should do. None carries case content.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use waymark_protocol::messages::ErrorBody;
use waymark_protocol::ProtocolError;

#[derive(Debug, thiserror::Error)]
pub enum ClinicError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("this device is not enrolled with this clinic; enrol it with a code from the clinic administrator")]
    UnknownDevice,
    #[error("this device's access was revoked by the clinic; its vault must be erased")]
    Revoked,
    #[error("this batch was already received; a retry must be sealed afresh")]
    Replayed,
    #[error("the enrolment code is unknown, used or older than 24 hours; ask the clinic for a new one")]
    EnrolmentRefused,
    #[error("a laptop with this id is already enrolled (this one may have been restored from a backup or copied); a restored laptop cannot rejoin sync yet, so tell the clinic administrator")]
    DeviceKnown,
    #[error("the request is not valid ({0})")]
    BadRequest(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("the clinic's store failed ({0}); nothing was saved, so the device will retry")]
    Store(String),
    #[error("the clinic folder is not set up or not readable ({0}); run `waymark-clinic init` or check the folder")]
    Setup(String),
    #[error("the clinic passphrase is wrong")]
    WrongPassphrase,
}

impl ClinicError {
    pub fn code(&self) -> &'static str {
        match self {
            ClinicError::Protocol(e) => e.code(),
            ClinicError::UnknownDevice => "unknown_device",
            ClinicError::Revoked => "revoked",
            ClinicError::Replayed => "replayed",
            ClinicError::EnrolmentRefused => "enrolment_refused",
            ClinicError::DeviceKnown => "device_known",
            ClinicError::BadRequest(_) => "bad_request",
            ClinicError::Invalid(_) => "invalid",
            ClinicError::Store(_) => "store",
            ClinicError::Setup(_) => "setup",
            ClinicError::WrongPassphrase => "wrong_passphrase",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ClinicError::Protocol(ProtocolError::TooLarge { .. } | ProtocolError::TooManyOps { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            ClinicError::Protocol(ProtocolError::BadSignature) => StatusCode::UNAUTHORIZED,
            ClinicError::Protocol(_) | ClinicError::BadRequest(_) | ClinicError::Invalid(_) => StatusCode::BAD_REQUEST,
            ClinicError::UnknownDevice | ClinicError::EnrolmentRefused => StatusCode::UNAUTHORIZED,
            ClinicError::Revoked => StatusCode::FORBIDDEN,
            ClinicError::Replayed | ClinicError::DeviceKnown => StatusCode::CONFLICT,
            ClinicError::Store(_) | ClinicError::Setup(_) | ClinicError::WrongPassphrase => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<rusqlite::Error> for ClinicError {
    fn from(e: rusqlite::Error) -> Self {
        // The SQLite error code only: messages can quote values.
        match e {
            rusqlite::Error::SqliteFailure(f, _) => ClinicError::Store(format!("{:?}", f.code)),
            _ => ClinicError::Store("query failed".into()),
        }
    }
}

impl IntoResponse for ClinicError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code().into(), message: self.to_string(), wipe: matches!(self, ClinicError::Revoked) };
        (self.status(), axum::Json(body)).into_response()
    }
}
