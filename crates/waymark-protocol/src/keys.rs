//! A device's and the clinic's key pairs, and their public halves as text.

use crate::error::ProtocolError;
use age::secrecy::ExposeSecret;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A device's (or the clinic's) secret keys: Ed25519 to sign what it sends,
/// X25519 (age) to open what is sealed to it.
pub struct DeviceKeys {
    pub signing: SigningKey,
    pub sealing: age::x25519::Identity,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys").field("signing", &self.public().signing).finish_non_exhaustive()
    }
}

/// The secret keys as text, for storage inside an encrypted vault or key file.
#[derive(Serialize, Deserialize)]
pub struct SecretKeysText {
    pub signing: String,
    pub sealing: String,
}

impl DeviceKeys {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let signing = SigningKey::from_bytes(&seed);
        seed.fill(0);
        // age makes its own X25519 key from the OS generator.
        Self { signing, sealing: age::x25519::Identity::generate() }
    }

    pub fn public(&self) -> DevicePublic {
        DevicePublic {
            signing: B64.encode(self.signing.verifying_key().as_bytes()),
            sealing: self.sealing.to_public().to_string(),
        }
    }

    pub fn to_text(&self) -> SecretKeysText {
        SecretKeysText {
            signing: B64.encode(self.signing.to_bytes()),
            sealing: self.sealing.to_string().expose_secret().to_owned(),
        }
    }

    pub fn from_text(text: &SecretKeysText) -> Result<Self, ProtocolError> {
        let bytes = B64.decode(&text.signing).map_err(|_| ProtocolError::Key("signing key"))?;
        let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| ProtocolError::Key("signing key"))?;
        let sealing = age::x25519::Identity::from_str(&text.sealing).map_err(|_| ProtocolError::Key("sealing key"))?;
        Ok(Self { signing: SigningKey::from_bytes(&seed), sealing })
    }
}

/// The public halves, as they travel at enrolment and are stored by the peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePublic {
    /// Ed25519 verifying key, standard base64 of 32 bytes.
    pub signing: String,
    /// age X25519 recipient (`age1…`).
    pub sealing: String,
}

impl DevicePublic {
    pub fn verifying_key(&self) -> Result<VerifyingKey, ProtocolError> {
        let bytes = B64.decode(&self.signing).map_err(|_| ProtocolError::Key("verifying key"))?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| ProtocolError::Key("verifying key"))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| ProtocolError::Key("verifying key"))
    }
    pub fn recipient(&self) -> Result<age::x25519::Recipient, ProtocolError> {
        age::x25519::Recipient::from_str(&self.sealing).map_err(|_| ProtocolError::Key("recipient"))
    }
    pub fn check(&self) -> Result<(), ProtocolError> {
        self.verifying_key()?;
        self.recipient()?;
        Ok(())
    }
}

/// The clinic's public identity as a device pins it at enrolment.
pub type ClinicPublic = DevicePublic;
