//! The clinic's errors. Each maps to an HTTP status and a stable code; the
//! message says what the caller should do. None carries case content.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use waymark_domain::codes::ErrorCode;
use waymark_protocol::messages::ErrorBody;
use waymark_protocol::ProtocolError;

#[derive(Debug, thiserror::Error)]
pub enum ClinicError {
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("this device is not enrolled with this clinic; enrol it with a code from the clinic administrator")]
    UnknownDevice,
    #[error("this device's access was revoked by the clinic; its vault must be erased")]
    Revoked {
        /// The clinic's signature over the order (`receipt::sign_wipe`), bound to the device and request.
        wipe_signature: String,
    },
    #[error("this batch was already received; a retry must be sealed afresh")]
    Replayed,
    #[error("the enrolment code is unknown, used or older than 24 hours; ask the clinic for a new one")]
    EnrolmentRefused,
    #[error("a laptop with this id is already enrolled with other keys (this one may have been copied); ask the clinic administrator for a new code and rejoin as a new device")]
    DeviceKnown,
    #[error("the change breaks the clinic's rule `{0}`, so it cannot be released; discard it instead")]
    ReleaseRefused(String),
    #[error("that quarantined change is unknown or already decided; list the quarantine again")]
    NotQuarantined,
    #[error(
        "the laptop's place in the feed is past its end (the clinic may have been put back from a backup); tell the clinic administrator"
    )]
    CursorAhead,
    #[error("the request is not signed by an enrolled laptop: it needs the waymark-claim and waymark-signature headers (see docs/sync-protocol.md)")]
    Unsigned,
    #[error("too many requests from this laptop or this network address; it will try again by itself in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("the enrolment code was issued for another advocate; use the code issued for you, or ask the clinic administrator for one")]
    AdvocateMismatch,
    #[error("that staff code is not in the clinic's staff register; add it with `waymark-clinic staff add`")]
    UnknownStaff,
    #[error("that staff code is already in the register; choose another or reactivate it")]
    StaffKnown,
    #[error("that member of staff is marked inactive at the clinic; ask the clinic administrator")]
    StaffInactive,
    #[error("the clinic has not yet confirmed whose laptop this is; ask the clinic administrator to run `waymark-clinic confirm`. Changes stay on this laptop meanwhile")]
    Unconfirmed,
    #[error("the batch starts past the next change the clinic expects; send from the acknowledged point")]
    OutOfOrder,
    #[error("that device id cannot be enrolled; the laptop must make a new one")]
    BadDeviceId,
    #[error("the request took longer than the clinic allows; try again on a better connection")]
    Timeout,
    #[error(
        "the request is dated too far from the clinic's clock; check the laptop's date and time are set automatically"
    )]
    Stale,
    #[error("the request is not valid ({0})")]
    BadRequest(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("the form has fields to put right ({0}); correct them and send it again")]
    InvalidFields(waymark_domain::ValidationErrors),
    #[error("that referral has already been screened; reload the list of referrals")]
    ReferralDecided,
    #[error("that meeting's follow-up is closed, so it cannot change; make a new meeting")]
    MeetingClosed,
    #[error("that case has been erased; nothing of it is kept, so nothing more can be done with it")]
    CaseErased,
    #[error("that case is under a legal hold; lift the hold on the advocate's laptop before it can be erased")]
    CaseHeld,
    #[error("that case is not due for deletion under the retention schedule (or is still open); erase it early only on the person's request")]
    NotDue,
    #[error("the perpetrator's answer would show where the victim is or how to reach her, so it was not made; withhold the item that shows it (or release fewer) and make it again")]
    AnswerShowsWhereabouts,
    /// Two of the clinic's own changes took the same number at once; nothing of this one was kept.
    #[error("the clinic was writing another change at the same moment; nothing was saved, try again")]
    ClinicBusy,
    #[error("the clinic's store failed ({0}); nothing was saved, so the device will retry")]
    Store(String),
    #[error("the clinic folder is not set up or not readable ({0}); run `waymark-clinic init` or check the folder")]
    Setup(String),
    #[error("the clinic passphrase is wrong")]
    WrongPassphrase,
    #[error("that passphrase is not strong enough: {hint}")]
    WeakPassphrase { hint: String },
    /// Never says which of the staff code, the password or the code was wrong.
    #[error("the staff code, password or authenticator code is not right; check them and try again, or ask an administrator to reset your sign-in")]
    SignInRefused,
    #[error(
        "you are not signed in, or your session ended (15 minutes idle, or 8 hours after signing in); sign in again"
    )]
    SignedOut,
    #[error("your role does not let you do this; ask the clinic coordinator if you need it")]
    Forbidden,
    #[error("your own password or authenticator code is not right, so nothing was changed; type them again (wait for the next code)")]
    ConfirmRefused,
    #[error("the page's security token is missing or out of date; reload the page and try again")]
    CsrfRefused,
    #[error("there is no such record, or it is not one you may see; go back to your list")]
    NotFound,
    #[error("the clinic's audit does not verify from line {seq}: it was changed, or lines were removed; keep the database as it is and tell the service's IT lead")]
    AuditBroken { seq: i64 },
}

impl ClinicError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ClinicError::Protocol(e) => e.code(),
            ClinicError::UnknownDevice => ErrorCode::UnknownDevice,
            ClinicError::Revoked { .. } => ErrorCode::Revoked,
            ClinicError::AdvocateMismatch => ErrorCode::AdvocateMismatch,
            ClinicError::UnknownStaff => ErrorCode::UnknownStaff,
            ClinicError::StaffKnown => ErrorCode::StaffKnown,
            ClinicError::StaffInactive => ErrorCode::StaffInactive,
            ClinicError::Unconfirmed => ErrorCode::UnconfirmedDevice,
            ClinicError::OutOfOrder => ErrorCode::OutOfOrder,
            ClinicError::BadDeviceId => ErrorCode::BadDeviceId,
            ClinicError::Timeout => ErrorCode::Timeout,
            ClinicError::Stale => ErrorCode::StaleRequest,
            ClinicError::Replayed => ErrorCode::Replayed,
            ClinicError::EnrolmentRefused => ErrorCode::EnrolmentRefused,
            ClinicError::DeviceKnown => ErrorCode::DeviceKnown,
            ClinicError::ReleaseRefused(_) => ErrorCode::ReleaseRefused,
            ClinicError::NotQuarantined => ErrorCode::NotQuarantined,
            ClinicError::CursorAhead => ErrorCode::CursorAhead,
            ClinicError::RateLimited { .. } => ErrorCode::RateLimited,
            ClinicError::Unsigned => ErrorCode::Unsigned,
            ClinicError::BadRequest(_) => ErrorCode::BadRequest,
            ClinicError::Invalid(_) | ClinicError::InvalidFields(_) => ErrorCode::Invalid,
            ClinicError::ReferralDecided => ErrorCode::ReferralDecided,
            ClinicError::MeetingClosed => ErrorCode::MeetingClosed,
            ClinicError::CaseErased => ErrorCode::CaseErased,
            ClinicError::CaseHeld => ErrorCode::CaseHeld,
            ClinicError::NotDue => ErrorCode::NotDue,
            ClinicError::AnswerShowsWhereabouts => ErrorCode::AddressInText,
            ClinicError::Store(_) | ClinicError::ClinicBusy => ErrorCode::Store,
            ClinicError::Setup(_) => ErrorCode::Setup,
            ClinicError::WrongPassphrase => ErrorCode::WrongPassphrase,
            ClinicError::WeakPassphrase { .. } => ErrorCode::WeakPassphrase,
            ClinicError::SignInRefused => ErrorCode::SignInRefused,
            ClinicError::SignedOut => ErrorCode::SignedOut,
            ClinicError::Forbidden => ErrorCode::Forbidden,
            ClinicError::ConfirmRefused => ErrorCode::ConfirmRefused,
            ClinicError::CsrfRefused => ErrorCode::CsrfRefused,
            ClinicError::NotFound => ErrorCode::NotFound,
            ClinicError::AuditBroken { .. } => ErrorCode::AuditBroken,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ClinicError::Protocol(ProtocolError::TooLarge { .. } | ProtocolError::TooManyOps { .. }) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ClinicError::Protocol(ProtocolError::BadSignature) => StatusCode::UNAUTHORIZED,
            ClinicError::Protocol(_)
            | ClinicError::BadRequest(_)
            | ClinicError::Invalid(_)
            | ClinicError::InvalidFields(_)
            | ClinicError::WeakPassphrase { .. }
            | ClinicError::BadDeviceId
            | ClinicError::UnknownStaff => StatusCode::BAD_REQUEST,
            ClinicError::UnknownDevice
            | ClinicError::EnrolmentRefused
            | ClinicError::Stale
            | ClinicError::Unsigned
            | ClinicError::SignInRefused
            | ClinicError::SignedOut => StatusCode::UNAUTHORIZED,
            ClinicError::NotFound => StatusCode::NOT_FOUND,
            ClinicError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ClinicError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ClinicError::Revoked { .. }
            | ClinicError::AdvocateMismatch
            | ClinicError::StaffInactive
            | ClinicError::Unconfirmed
            | ClinicError::ReleaseRefused(_)
            | ClinicError::Forbidden
            | ClinicError::ConfirmRefused
            | ClinicError::CsrfRefused => StatusCode::FORBIDDEN,
            ClinicError::Replayed
            | ClinicError::DeviceKnown
            | ClinicError::StaffKnown
            | ClinicError::OutOfOrder
            | ClinicError::NotQuarantined
            | ClinicError::ReferralDecided
            | ClinicError::MeetingClosed
            | ClinicError::CaseErased
            | ClinicError::CaseHeld
            | ClinicError::NotDue
            | ClinicError::AnswerShowsWhereabouts
            | ClinicError::CursorAhead => StatusCode::CONFLICT,
            ClinicError::Store(_)
            | ClinicError::ClinicBusy
            | ClinicError::AuditBroken { .. }
            | ClinicError::Setup(_)
            | ClinicError::WrongPassphrase => StatusCode::SERVICE_UNAVAILABLE,
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

impl From<::postgres::Error> for ClinicError {
    fn from(e: ::postgres::Error) -> Self {
        // The SQLSTATE only: messages and details can quote values.
        match e.code() {
            Some(code) => ClinicError::Store(format!("postgres {}", code.code())),
            None if e.is_closed() => ClinicError::Store("the connection to the clinic's database closed".into()),
            None => ClinicError::Store("a database query failed".into()),
        }
    }
}

impl IntoResponse for ClinicError {
    fn into_response(self) -> Response {
        let mut body = ErrorBody::new(self.code().as_str(), self.to_string());
        if let ClinicError::InvalidFields(errors) = &self {
            body.fields = errors.0.clone();
        }
        if let ClinicError::Revoked { wipe_signature } = &self {
            body.wipe = true;
            body.wipe_signature = Some(wipe_signature.clone());
        }
        let retry_after = match &self {
            ClinicError::RateLimited { retry_after_secs } => Some(retry_after_secs.to_string()),
            _ => None,
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|v| axum::http::HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}
