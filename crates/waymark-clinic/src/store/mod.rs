//! The clinic's storage, behind a trait so another backend (PostgreSQL, say)
//! can come later without touching the handlers. `tests/story.rs` runs the
//! same story against every implementation.

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::error::ClinicError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use waymark_protocol::{DevicePublic, WireOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Active,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub id: Uuid,
    pub advocate: String,
    pub keys: DevicePublic,
    pub status: DeviceStatus,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The highest contiguous sequence of this device's ops held durably.
    pub acked_through: u64,
}

/// What storing a batch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    pub acked_through: u64,
    pub inserted: u32,
    pub duplicates: u32,
    /// Sequences whose op id (or slot) was already held with other content.
    pub quarantined: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub devices_active: u64,
    pub devices_revoked: u64,
    pub ops: u64,
    pub quarantined: u64,
    pub feed_head: u64,
}

/// A page of the feed for one device.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub ops: Vec<WireOp>,
    /// The feed position this page covers up to (ops not for this device are skipped).
    pub through: u64,
}

pub type StoreResult<T> = Result<T, ClinicError>;

/// Every method is one atomic step: it happens whole or not at all.
pub trait ClinicStore: Send + Sync {
    /// Records a one-time enrolment token (its hash only) until `expires_at`.
    fn add_enrolment(&self, token_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Uses a token to register a device. A retry by the same device with the
    /// same keys succeeds again; anything else with a used token is refused.
    fn enrol(&self, token_hash: &str, device: &DeviceRecord, now: DateTime<Utc>) -> StoreResult<DeviceRecord>;
    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>>;
    fn devices(&self) -> StoreResult<Vec<DeviceRecord>>;
    /// Returns false when no such device exists.
    fn revoke(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Refuses a request id seen before from the device (a replayed request).
    fn use_request_id(&self, device: Uuid, request_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Stores a device's ops: new ones join the feed, identical resends are
    /// acknowledged again, and the same id or slot with other content is
    /// quarantined, never dropped or overwritten. A batch id seen before is a replay.
    fn store_batch(&self, device: Uuid, batch_id: Uuid, ops: &[WireOp], now: DateTime<Utc>) -> StoreResult<Stored>;
    /// Other devices' ops for cases assigned to `advocate`, after a feed position.
    /// A reassignment away from `advocate` is included too, so the old
    /// advocate's laptops learn the case has moved.
    /// When a case was reassigned to `advocate` within the page, the history
    /// the cursor had already passed comes first, so the new advocate's
    /// laptop receives the whole case.
    fn feed(&self, device: Uuid, advocate: &str, after: u64, limit: u32) -> StoreResult<FeedPage>;
    /// The advocate a case is assigned to, from the latest case op that names one.
    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>>;
    /// The highest sequence and its HLC among an origin's ops (the clinic's own, for authoring).
    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)>;
    /// The op id held in an origin's slot, from the feed or else the quarantine.
    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>>;
    /// The newest feed position.
    fn feed_head(&self) -> StoreResult<u64>;
    fn stats(&self) -> StoreResult<Stats>;
}

/// The case-to-advocate map follows `advocate` on case ops, so a
/// reassignment moves the case's future ops to the new advocate's devices.
pub(crate) fn advocate_of(op: &WireOp) -> Option<&str> {
    (op.kind == "case").then(|| op.changes.get("new")?.get("advocate")?.as_str()).flatten()
}
