//! The enrolment code an administrator gives an advocate: where the clinic
//! is, the certificate fingerprint to pin, the clinic's public keys and a
//! one-time token. It is text, so it can be pasted or read from a QR code.

use crate::error::ProtocolError;
use crate::keys::DevicePublic;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PREFIX: &str = "WAYMARK1-";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentCode {
    /// `https://host:port`.
    pub url: String,
    /// Hex SHA-256 of the clinic certificate (DER). `None` means a CA-issued
    /// certificate checked against the usual roots.
    pub fingerprint: Option<String>,
    pub clinic_id: Uuid,
    pub clinic: DevicePublic,
    /// The recovery recipient the device adds to its key file, so the clinic
    /// can reset a forgotten passphrase.
    pub recovery: Option<String>,
    /// The staff code the clinic bound this code to, shown so the advocate
    /// can see it is theirs. The clinic holds the binding; this copy is only for display.
    #[serde(default)]
    pub advocate: Option<String>,
    /// One-time secret, valid for 24 hours.
    pub token: String,
}

impl EnrolmentCode {
    pub fn to_text(&self) -> String {
        format!("{PREFIX}{}", B64URL.encode(serde_json::to_vec(self).unwrap_or_default()))
    }

    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let body =
            compact.strip_prefix(PREFIX).ok_or(ProtocolError::EnrolmentCode("it does not start with WAYMARK1-"))?;
        if body.len() > 4096 {
            return Err(ProtocolError::EnrolmentCode("it is too long"));
        }
        let bytes = B64URL.decode(body).map_err(|_| ProtocolError::EnrolmentCode("it was not copied whole"))?;
        let code: EnrolmentCode =
            serde_json::from_slice(&bytes).map_err(|_| ProtocolError::EnrolmentCode("it was not copied whole"))?;
        if !code.url.starts_with("https://") {
            return Err(ProtocolError::EnrolmentCode("the clinic address must use https"));
        }
        if let Some(fp) = &code.fingerprint {
            if fp.len() != 64 || !fp.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ProtocolError::EnrolmentCode("the certificate fingerprint is damaged"));
            }
        }
        code.clinic.check().map_err(|_| ProtocolError::EnrolmentCode("the clinic keys are damaged"))?;
        Ok(code)
    }
}
