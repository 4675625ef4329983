//! Signed requests: the small JSON calls (`hello`, `pull`) carry a claim
//! signed with the device key, bound to the path and the body, with a fresh
//! request id so a captured request cannot be replayed.

use crate::error::ProtocolError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Header carrying the base64 claim.
pub const CLAIM_HEADER: &str = "waymark-claim";
/// Header carrying the base64 Ed25519 signature over the claim bytes.
pub const SIGNATURE_HEADER: &str = "waymark-signature";
const CONTEXT: &[u8] = b"waymark-request\0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub device: Uuid,
    /// Unique per request; the clinic refuses one it has seen.
    pub request_id: Uuid,
    /// The request path, e.g. `/v1/pull`.
    pub path: String,
    /// Hex SHA-256 of the request body.
    pub body_sha256: String,
    pub at: DateTime<Utc>,
}

/// The two header values for a request.
pub fn sign_request(claim: &Claim, key: &SigningKey) -> (String, String) {
    let bytes = serde_json::to_vec(claim).unwrap_or_default();
    let signature = key.sign(&[CONTEXT, &bytes].concat());
    (B64.encode(&bytes), B64.encode(signature.to_bytes()))
}

/// Reads the claim without trusting it, so the receiver can find the key.
pub fn read_claim(claim_b64: &str) -> Result<(Claim, Vec<u8>), ProtocolError> {
    if claim_b64.len() > 2048 {
        return Err(ProtocolError::Malformed("claim too long"));
    }
    let bytes = B64.decode(claim_b64).map_err(|_| ProtocolError::Malformed("claim"))?;
    let claim = serde_json::from_slice(&bytes).map_err(|_| ProtocolError::Malformed("claim"))?;
    Ok((claim, bytes))
}

/// Checks the claim's signature and path, before its body has been read:
/// a push is checked this far before the clinic reads a byte of the batch.
pub fn verify_claim(
    claim: &Claim,
    claim_bytes: &[u8],
    signature_b64: &str,
    key: &VerifyingKey,
    path: &str,
) -> Result<(), ProtocolError> {
    let signature = B64.decode(signature_b64).map_err(|_| ProtocolError::BadSignature)?;
    let signature: [u8; 64] = signature.as_slice().try_into().map_err(|_| ProtocolError::BadSignature)?;
    key.verify(&[CONTEXT, claim_bytes].concat(), &Signature::from_bytes(&signature))
        .map_err(|_| ProtocolError::BadSignature)?;
    if claim.path != path {
        return Err(ProtocolError::HeaderMismatch("path"));
    }
    Ok(())
}

/// Checks the body is the one the claim was signed for.
pub fn claim_covers(claim: &Claim, body: &[u8]) -> Result<(), ProtocolError> {
    if claim.body_sha256 != body_hash(body) {
        return Err(ProtocolError::HeaderMismatch("body"));
    }
    Ok(())
}

/// The claim headers of a push: the batch's own id as the request id, so a
/// wipe order answering the push is bound to the batch the laptop sent.
pub fn sign_push(device: Uuid, batch_id: Uuid, frame: &[u8], at: DateTime<Utc>, key: &SigningKey) -> (String, String) {
    let claim = Claim {
        device,
        request_id: batch_id,
        path: crate::messages::PATH_PUSH.into(),
        body_sha256: body_hash(frame),
        at,
    };
    sign_request(&claim, key)
}

pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}
