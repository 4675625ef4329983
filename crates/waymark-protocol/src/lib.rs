//! Waymark's sync wire format, with no I/O.
//!
//! A device sends its op log to the clinic in *sealed batches*: the ops and a
//! copy of the batch header are encrypted with `age` to the clinic's X25519
//! recipient, and the outer header plus a hash of the ciphertext are signed
//! with the device's Ed25519 key. The clinic sends ops down the same way,
//! sealed to the device and signed by the clinic. `docs/sync-protocol.md`
//! describes every byte; a test fails when these types change and it doesn't.

pub mod auth;
pub mod enrol;
pub mod error;
pub mod frame;
pub mod keys;
pub mod messages;
pub mod receipt;
pub mod seal;
pub mod wire;

pub use error::ProtocolError;
pub use frame::{decode, encode, Limits};
pub use keys::{ClinicPublic, DeviceKeys, DevicePublic};
pub use receipt::{Receipt, RefusedOp};
pub use seal::{open, seal, Opened};
pub use wire::{BatchHeader, Direction, Envelope, OpAction, OpChanges, OpRefusal, SealedBatch, WireOp};

/// The protocol version in every frame and header. A peer refuses a version it
/// does not know rather than guessing.
pub const PROTOCOL_VERSION: u16 = 1;

/// The newest op schema this build reads: a vault's schema version (its
/// migration count; the vault's tests hold the two equal). An op from a newer
/// schema is held, never applied or relayed, by a laptop and by the clinic.
pub const SCHEMA_VERSION: u32 = 13;

/// The first op schema that knows the `erase` action: the clinic's erase op
/// carries it, so a laptop from schema 11 on applies it.
pub const ERASE_SCHEMA_VERSION: u32 = 11;
