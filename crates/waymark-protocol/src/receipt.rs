//! What the clinic signs because a laptop acts on it: an acknowledgement
//! (the laptop removes ops from its outbox) and a wipe order (the laptop
//! erases its vault). TLS alone is not enough: whoever holds the server's
//! certificate key and sits on the network could otherwise make laptops drop
//! unsent changes or erase themselves. Each signature is Ed25519 by the
//! clinic's signing key, over a fixed binary layout (see
//! `docs/sync-protocol.md`), bound to the device and to the request it answers.

use crate::error::ProtocolError;
use crate::wire::OpRefusal;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const RECEIPT_CONTEXT: &[u8] = b"waymark-receipt\0";
const WIPE_CONTEXT: &[u8] = b"waymark-wipe\0";

/// An op the clinic will not put in its feed, and why. The slot counts as
/// held (it is kept whole at the clinic), so the ops after it go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedOp {
    pub seq: u64,
    pub code: OpRefusal,
}

/// The facts of an acknowledgement, in the order they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt<'a> {
    pub device: Uuid,
    /// The highest contiguous sequence of the device's ops the clinic holds.
    pub through: u64,
    /// The op id in slot `through`; required when `through > 0`.
    pub op: Option<Uuid>,
    /// The request answered: the batch id of a push, the claim's request id of a hello.
    pub request: Uuid,
    pub quarantined: &'a [u64],
    pub refused: &'a [RefusedOp],
}

impl Receipt<'_> {
    /// The signed bytes: context, device (16), through (u64 BE), op (16, zeros
    /// when none), request (16), the quarantined count (u32 BE) and each seq
    /// (u64 BE), the refused count (u32 BE) and each seq (u64 BE) with its
    /// code (u8 length, ASCII).
    pub fn message(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + 8 * self.quarantined.len() + 32 * self.refused.len());
        out.extend_from_slice(RECEIPT_CONTEXT);
        out.extend_from_slice(self.device.as_bytes());
        out.extend_from_slice(&self.through.to_be_bytes());
        out.extend_from_slice(self.op.unwrap_or(Uuid::nil()).as_bytes());
        out.extend_from_slice(self.request.as_bytes());
        out.extend_from_slice(&u32::try_from(self.quarantined.len()).unwrap_or(u32::MAX).to_be_bytes());
        for seq in self.quarantined {
            out.extend_from_slice(&seq.to_be_bytes());
        }
        out.extend_from_slice(&u32::try_from(self.refused.len()).unwrap_or(u32::MAX).to_be_bytes());
        for refused in self.refused {
            let code = refused.code.as_str().as_bytes();
            out.extend_from_slice(&refused.seq.to_be_bytes());
            out.push(u8::try_from(code.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(code);
        }
        out
    }

    /// Base64 (standard, padded) Ed25519 signature.
    pub fn sign(&self, key: &SigningKey) -> String {
        B64.encode(key.sign(&self.message()).to_bytes())
    }

    /// Checks the clinic signed exactly this, and that a positive
    /// acknowledgement names its op.
    pub fn verify(&self, key: &VerifyingKey, signature: &str) -> Result<(), ProtocolError> {
        if self.through > 0 && self.op.is_none() {
            return Err(ProtocolError::BadReceipt);
        }
        verify(key, &self.message(), signature).map_err(|_| ProtocolError::BadReceipt)
    }
}

/// The signed bytes of a wipe order: context, device (16), request (16).
pub fn wipe_message(device: Uuid, request: Uuid) -> Vec<u8> {
    [WIPE_CONTEXT, device.as_bytes().as_slice(), request.as_bytes().as_slice()].concat()
}

pub fn sign_wipe(key: &SigningKey, device: Uuid, request: Uuid) -> String {
    B64.encode(key.sign(&wipe_message(device, request)).to_bytes())
}

/// A wipe order is obeyed only when the clinic signed it for this device and this request.
pub fn verify_wipe(key: &VerifyingKey, device: Uuid, request: Uuid, signature: &str) -> Result<(), ProtocolError> {
    verify(key, &wipe_message(device, request), signature).map_err(|_| ProtocolError::BadWipeOrder)
}

fn verify(key: &VerifyingKey, message: &[u8], signature: &str) -> Result<(), ()> {
    if signature.len() > 128 {
        return Err(());
    }
    let bytes = B64.decode(signature).map_err(|_| ())?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().map_err(|_| ())?;
    key.verify_strict(message, &Signature::from_bytes(&bytes)).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn keys(seed: u64) -> SigningKey {
        SigningKey::generate(&mut rand::rngs::StdRng::seed_from_u64(seed))
    }

    #[test]
    fn a_receipt_verifies_only_for_what_was_signed() {
        let clinic = keys(1);
        let refused = [RefusedOp { seq: 4, code: OpRefusal::NotYourCase }];
        let receipt = Receipt {
            device: Uuid::from_u128(7),
            through: 5,
            op: Some(Uuid::from_u128(55)),
            request: Uuid::from_u128(9),
            quarantined: &[2],
            refused: &refused,
        };
        let signature = receipt.sign(&clinic);
        assert_eq!(receipt.verify(&clinic.verifying_key(), &signature), Ok(()));
        // Each field is covered: change any one and the signature no longer holds.
        let changed = [
            Receipt { through: 6, ..receipt.clone() },
            Receipt { device: Uuid::from_u128(8), ..receipt.clone() },
            Receipt { op: Some(Uuid::from_u128(56)), ..receipt.clone() },
            Receipt { request: Uuid::from_u128(10), ..receipt.clone() },
            Receipt { quarantined: &[], ..receipt.clone() },
            Receipt { refused: &[], ..receipt.clone() },
        ];
        for other in changed {
            assert_eq!(other.verify(&clinic.verifying_key(), &signature), Err(ProtocolError::BadReceipt), "{other:?}");
        }
        // Another key (a machine in the middle with only the TLS key) cannot make one.
        let forged = receipt.sign(&keys(2));
        assert_eq!(receipt.verify(&clinic.verifying_key(), &forged), Err(ProtocolError::BadReceipt));
        assert_eq!(receipt.verify(&clinic.verifying_key(), "not base64!"), Err(ProtocolError::BadReceipt));
    }

    #[test]
    fn a_positive_acknowledgement_must_name_its_op() {
        let clinic = keys(1);
        let receipt = Receipt {
            device: Uuid::from_u128(7),
            through: 3,
            op: None,
            request: Uuid::from_u128(9),
            quarantined: &[],
            refused: &[],
        };
        let signature = receipt.sign(&clinic);
        assert_eq!(receipt.verify(&clinic.verifying_key(), &signature), Err(ProtocolError::BadReceipt));
        let empty = Receipt { through: 0, ..receipt };
        assert_eq!(empty.verify(&clinic.verifying_key(), &empty.sign(&clinic)), Ok(()));
    }

    #[test]
    fn a_wipe_order_is_bound_to_its_device_and_request() {
        let clinic = keys(1);
        let (device, request) = (Uuid::from_u128(7), Uuid::from_u128(9));
        let signature = sign_wipe(&clinic, device, request);
        assert_eq!(verify_wipe(&clinic.verifying_key(), device, request, &signature), Ok(()));
        assert!(
            verify_wipe(&clinic.verifying_key(), Uuid::from_u128(8), request, &signature).is_err(),
            "another device"
        );
        assert!(
            verify_wipe(&clinic.verifying_key(), device, Uuid::from_u128(10), &signature).is_err(),
            "a replayed order"
        );
        assert!(
            verify_wipe(&clinic.verifying_key(), device, request, &sign_wipe(&keys(2), device, request)).is_err(),
            "another key"
        );
    }
}
