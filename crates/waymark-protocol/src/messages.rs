//! The JSON bodies of the clinic's HTTP API. Errors are `{code, message}`.

use crate::keys::DevicePublic;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PATH_ENROL: &str = "/v1/enrol";
pub const PATH_HELLO: &str = "/v1/hello";
pub const PATH_PUSH: &str = "/v1/push";
pub const PATH_PULL: &str = "/v1/pull";
pub const PATH_OPENAPI: &str = "/v1/openapi.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub token: String,
    pub device_id: Uuid,
    /// The advocate's staff code; the clinic sends down this advocate's cases.
    pub advocate: String,
    pub keys: DevicePublic,
    /// Base64 Ed25519 signature over `"waymark-enrol\0" + token + device_id`,
    /// proving the device holds the signing key it registers.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    pub clinic_id: Uuid,
    /// The highest of this device's ops the clinic already holds (0 when new).
    pub acked_through: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloResponse {
    pub acked_through: u64,
    /// The op id the clinic holds in the device's slot `acked_through`, so
    /// the device can check its op log agrees before trusting the number (a
    /// laptop put back from an older copy does not).
    #[serde(default)]
    pub acked_op: Option<Uuid>,
    /// The clinic's feed position; a device whose pull cursor equals it has nothing to pull.
    pub feed_head: u64,
    pub clinic_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    /// The highest contiguous sequence of this device's ops stored durably.
    pub acked_through: u64,
    /// Sequences whose op id was already held with different content. They
    /// are kept in the clinic's quarantine, never applied or dropped.
    pub quarantined: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// The feed position the device has applied up to.
    pub after: u64,
    pub max_ops: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Present on a revoked device's refusal: erase the vault now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wipe: bool,
}

/// The message an enrolment proof signs.
pub fn enrol_proof_message(token: &str, device_id: Uuid) -> Vec<u8> {
    [b"waymark-enrol\0".as_slice(), token.as_bytes(), device_id.as_bytes()].concat()
}
