//! Issuing an enrolment code: the one place a one-time token is made, bound
//! to an advocate in the staff register, and stored as a hash. The
//! administrator's `enrol` command and the tests both call it.

use crate::identity::PublicInfo;
use crate::store::{enrollable, ClinicStore};
use crate::ClinicError;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use waymark_protocol::enrol::EnrolmentCode;

/// How long a code stays usable.
pub const CODE_VALID_FOR: Duration = Duration::hours(24);

/// Where the code sends the laptop and how the laptop checks the server.
#[derive(Debug, Clone)]
pub struct CodeRequest<'a> {
    pub advocate: &'a str,
    /// `https://host:port`, as the laptops reach the clinic.
    pub url: &'a str,
    /// The server uses a CA-issued certificate: no pin in the code.
    pub ca_issued: bool,
}

/// Makes a one-time code for a registered, active advocate, valid for
/// `CODE_VALID_FOR`. Returns the code and its expiry.
pub fn issue_code(
    store: &dyn ClinicStore,
    info: &PublicInfo,
    request: &CodeRequest<'_>,
    now: DateTime<Utc>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(EnrolmentCode, DateTime<Utc>), ClinicError> {
    crate::store::StaffMember::check_code(request.advocate)?;
    enrollable(store.staff(request.advocate)?)?;
    let mut secret = [0u8; 24];
    rng.fill_bytes(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let expires = now + CODE_VALID_FOR;
    store.add_enrolment(&hex::encode(Sha256::digest(token.as_bytes())), request.advocate, expires)?;
    let code = EnrolmentCode {
        url: request.url.to_owned(),
        fingerprint: (!request.ca_issued).then(|| info.fingerprint.clone()),
        clinic_id: info.clinic_id,
        clinic: info.keys.clone(),
        recovery: Some(info.recovery.clone()),
        advocate: Some(request.advocate.to_owned()),
        token,
    };
    Ok((code, expires))
}
