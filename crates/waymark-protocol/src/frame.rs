//! The byte layout of a sealed batch, and a decoder that trusts nothing.
//!
//! ```text
//! "WMSB" | version u16 | header_len u32 | header (JSON) | ct_len u64 | ciphertext | signature (64)
//! ```
//! All integers are big-endian. The decoder checks every length against the
//! buffer and the configured limits before it allocates or parses.

use crate::error::ProtocolError;
use crate::wire::{BatchHeader, SealedBatch};
use crate::PROTOCOL_VERSION;

pub const MAGIC: &[u8; 4] = b"WMSB";
/// A header is a few hundred bytes; anything near this is not a header.
pub const MAX_HEADER_BYTES: u32 = 4096;
const FIXED: usize = 4 + 2 + 4 + 8 + 64;

/// What a receiver will accept. The clinic configures its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_batch_bytes: u64,
    pub max_ops: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_batch_bytes: 16 * 1024 * 1024, max_ops: 5_000 }
    }
}

pub fn encode(batch: &SealedBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(FIXED + batch.header_bytes.len() + batch.ciphertext.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&batch.header.protocol.to_be_bytes());
    out.extend_from_slice(&(batch.header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&batch.header_bytes);
    out.extend_from_slice(&(batch.ciphertext.len() as u64).to_be_bytes());
    out.extend_from_slice(&batch.ciphertext);
    out.extend_from_slice(&batch.signature);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.bytes.len() < n {
            return Err(ProtocolError::Malformed(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
}

/// Reads a frame. It checks the shape and the limits only; the signature and
/// the sealed contents are checked by `seal::verify` and `seal::open`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<SealedBatch, ProtocolError> {
    if bytes.len() as u64 > limits.max_batch_bytes {
        return Err(ProtocolError::TooLarge { limit: limits.max_batch_bytes });
    }
    let mut reader = Reader { bytes };
    if reader.take(4, "no magic")? != MAGIC {
        return Err(ProtocolError::Malformed("wrong magic"));
    }
    let version = u16::from_be_bytes(reader.array("no version")?);
    if version != PROTOCOL_VERSION {
        return Err(ProtocolError::UnsupportedVersion { found: version, supported: PROTOCOL_VERSION });
    }
    let header_len = u32::from_be_bytes(reader.array("no header length")?);
    if header_len > MAX_HEADER_BYTES {
        return Err(ProtocolError::Malformed("header too long"));
    }
    let header_bytes = reader.take(header_len as usize, "header cut short")?.to_vec();
    let header: BatchHeader =
        serde_json::from_slice(&header_bytes).map_err(|_| ProtocolError::Malformed("header is not valid"))?;
    if header.protocol != version {
        return Err(ProtocolError::HeaderMismatch("protocol"));
    }
    if header.op_count > limits.max_ops {
        return Err(ProtocolError::TooManyOps { limit: limits.max_ops });
    }
    let ct_len = u64::from_be_bytes(reader.array("no ciphertext length")?);
    let remaining = reader.bytes.len() as u64;
    if remaining < 64 || ct_len != remaining - 64 {
        return Err(ProtocolError::Malformed("ciphertext length does not match"));
    }
    let ciphertext = reader.take(ct_len as usize, "ciphertext cut short")?.to_vec();
    let signature = reader.array::<64>("no signature")?;
    Ok(SealedBatch { header, header_bytes, ciphertext, signature })
}
