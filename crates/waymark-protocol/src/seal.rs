//! Sealing (age to the recipient's X25519 key), signing (the sender's
//! Ed25519 key), and the checks a receiver makes before it trusts a batch.

use crate::error::ProtocolError;
use crate::frame::Limits;
use crate::wire::{BatchBody, BatchHeader, Direction, SealedBatch, WireOp};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const SIGNING_CONTEXT: &[u8] = b"waymark-batch\0";

/// The bytes a signature covers: a context string, the protocol version, the
/// exact header bytes and the SHA-256 of the ciphertext. Re-signing a changed
/// header or swapping the ciphertext both break it.
fn signed_message(header_bytes: &[u8], ciphertext: &[u8], protocol: u16) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + 2 + 4 + header_bytes.len() + 32);
    message.extend_from_slice(SIGNING_CONTEXT);
    message.extend_from_slice(&protocol.to_be_bytes());
    message.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    message.extend_from_slice(header_bytes);
    message.extend_from_slice(&Sha256::digest(ciphertext));
    message
}

/// Seals ops for one recipient and signs the result.
pub fn seal(
    header: BatchHeader,
    ops: &[WireOp],
    recipient: &age::x25519::Recipient,
    signer: &SigningKey,
) -> Result<SealedBatch, ProtocolError> {
    let body = BatchBody { header: header.clone(), ops: ops.to_vec() };
    let plaintext = serde_json::to_vec(&body).map_err(|_| ProtocolError::Malformed("body"))?;
    seal_body_bytes(header, &plaintext, recipient, signer)
}

/// Seals body bytes the caller made itself, and signs the result. `seal`
/// is this with a `BatchBody`; the fuzzer uses it to reach the receiver's
/// body checks with bytes no honest sender would make.
pub fn seal_body_bytes(
    header: BatchHeader,
    plaintext: &[u8],
    recipient: &age::x25519::Recipient,
    signer: &SigningKey,
) -> Result<SealedBatch, ProtocolError> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|_| ProtocolError::Key("recipient"))?;
    let mut ciphertext = Vec::with_capacity(plaintext.len() + 256);
    let mut writer = encryptor.wrap_output(&mut ciphertext).map_err(|_| ProtocolError::Key("recipient"))?;
    writer
        .write_all(plaintext)
        .and_then(|_| writer.finish().map(|_| ()))
        .map_err(|_| ProtocolError::Key("recipient"))?;
    let header_bytes = serde_json::to_vec(&header).map_err(|_| ProtocolError::Malformed("header"))?;
    let signature = signer.sign(&signed_message(&header_bytes, &ciphertext, header.protocol)).to_bytes();
    Ok(SealedBatch { header, header_bytes, ciphertext, signature })
}

/// Checks the sender's signature over the header and ciphertext.
pub fn verify(batch: &SealedBatch, sender: &VerifyingKey) -> Result<(), ProtocolError> {
    let signature = Signature::from_bytes(&batch.signature);
    sender
        .verify(&signed_message(&batch.header_bytes, &batch.ciphertext, batch.header.protocol), &signature)
        .map_err(|_| ProtocolError::BadSignature)
}

/// A batch that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub header: BatchHeader,
    pub ops: Vec<WireOp>,
}

/// Verifies, decrypts and checks a batch: the sealed header must equal the
/// outer one, the op count must match, and every op must fall in the header's
/// range. Going up, the ops must be the sender's own, numbered contiguously.
pub fn open(
    batch: &SealedBatch,
    sender: &VerifyingKey,
    identity: &age::x25519::Identity,
    limits: &Limits,
) -> Result<Opened, ProtocolError> {
    verify(batch, sender)?;
    let decryptor =
        age::Decryptor::new_buffered(batch.ciphertext.as_slice()).map_err(|_| ProtocolError::Undecryptable)?;
    let mut reader =
        decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)).map_err(|_| ProtocolError::Undecryptable)?;
    let mut plaintext = Vec::new();
    // The plaintext can be no larger than the ciphertext; the limit caps both.
    (&mut reader).take(limits.max_batch_bytes).read_to_end(&mut plaintext).map_err(|_| ProtocolError::Undecryptable)?;
    let body: BatchBody =
        serde_json::from_slice(&plaintext).map_err(|_| ProtocolError::Malformed("sealed body is not valid"))?;
    check_body(&batch.header, &body, limits)?;
    Ok(Opened { header: body.header, ops: body.ops })
}

fn check_body(outer: &BatchHeader, body: &BatchBody, limits: &Limits) -> Result<(), ProtocolError> {
    let inner = &body.header;
    let same = [
        (inner.protocol == outer.protocol, "protocol"),
        (inner.batch_id == outer.batch_id, "batch_id"),
        (inner.direction == outer.direction, "direction"),
        (inner.sender == outer.sender, "sender"),
        (inner.recipient == outer.recipient, "recipient"),
        (inner.first_seq == outer.first_seq, "first_seq"),
        (inner.last_seq == outer.last_seq, "last_seq"),
        (inner.op_count == outer.op_count, "op_count"),
        (inner.max_hlc == outer.max_hlc, "max_hlc"),
        (inner.schema_version == outer.schema_version, "schema_version"),
        (inner.sent_at == outer.sent_at, "sent_at"),
    ];
    if let Some((_, field)) = same.iter().find(|(ok, _)| !ok) {
        return Err(ProtocolError::HeaderMismatch(field));
    }
    if body.ops.len() as u64 > u64::from(limits.max_ops) {
        return Err(ProtocolError::TooManyOps { limit: limits.max_ops });
    }
    if body.ops.len() != inner.op_count as usize {
        return Err(ProtocolError::HeaderMismatch("op_count"));
    }
    let max_hlc = body.ops.iter().map(|o| o.hlc.as_str()).max().unwrap_or("");
    if max_hlc != inner.max_hlc {
        return Err(ProtocolError::HeaderMismatch("max_hlc"));
    }
    if inner.first_seq == 0 || inner.first_seq > inner.last_seq.saturating_add(1) {
        return Err(ProtocolError::Sequence("with a valid range"));
    }
    match inner.direction {
        Direction::Up => {
            if body.ops.len() as u64 != inner.last_seq + 1 - inner.first_seq {
                return Err(ProtocolError::Sequence("contiguously"));
            }
            for (expected, op) in (inner.first_seq..).zip(&body.ops) {
                if op.seq != expected {
                    return Err(ProtocolError::Sequence("contiguously"));
                }
                if op.origin != inner.sender {
                    return Err(ProtocolError::HeaderMismatch("origin"));
                }
            }
        }
        Direction::Down => {
            // Down batches carry other devices' ops, filtered for this device;
            // only the range is checked.
        }
    }
    Ok(())
}
