//! The JSON bodies of the clinic's HTTP API. Errors are `{code, message}`.

use crate::keys::DevicePublic;
use crate::receipt::RefusedOp;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PATH_ENROL: &str = "/v1/enrol";
pub const PATH_HELLO: &str = "/v1/hello";
pub const PATH_PUSH: &str = "/v1/push";
pub const PATH_PULL: &str = "/v1/pull";
/// How many pushes a device may have in flight at once: a laptop posts the
/// next batch while the clinic stores the one before, and a clinic turns a
/// third away (`rate_limited`) rather than hold more of one device's batches.
pub const PUSHES_IN_FLIGHT: usize = 2;
pub const PATH_OPENAPI: &str = "/v1/openapi.json";
/// Whether the clinic offers an app update newer than a laptop's version,
/// answered in the form Tauri's updater reads (204 when there is none).
pub const PATH_UPDATE_CHECK: &str = "/v1/updates/{target}/{current_version}";
/// The update's file itself; the laptop checks its signature before installing.
pub const PATH_UPDATE_FILE: &str = "/v1/updates/{target}/file";

/// Every endpoint the clinic serves: the one list the router is built from
/// (one handler per variant, matched exhaustively), the OpenAPI test checks
/// the description against, and the hostile-input test attacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Enrol,
    Hello,
    Push,
    Pull,
    OpenApi,
    UpdateCheck,
    UpdateFile,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Enrol,
        Endpoint::Hello,
        Endpoint::Push,
        Endpoint::Pull,
        Endpoint::OpenApi,
        Endpoint::UpdateCheck,
        Endpoint::UpdateFile,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Enrol => PATH_ENROL,
            Endpoint::Hello => PATH_HELLO,
            Endpoint::Push => PATH_PUSH,
            Endpoint::Pull => PATH_PULL,
            Endpoint::OpenApi => PATH_OPENAPI,
            Endpoint::UpdateCheck => PATH_UPDATE_CHECK,
            Endpoint::UpdateFile => PATH_UPDATE_FILE,
        }
    }

    /// `GET` for the description and app updates (signed software, no one's
    /// data, open to any caller as a download page is), `POST` for the rest.
    pub fn is_get(self) -> bool {
        matches!(self, Endpoint::OpenApi | Endpoint::UpdateCheck | Endpoint::UpdateFile)
    }

    /// Whether the caller is a device that signs the request (everything but
    /// enrolment, which proves a one-time code, and the public description).
    pub fn signed(self) -> bool {
        matches!(self, Endpoint::Hello | Endpoint::Push | Endpoint::Pull)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub token: String,
    pub device_id: Uuid,
    /// The staff code this laptop's vault records changes under. The clinic
    /// binds the device to the advocate the code was issued for and never to
    /// this claim; a claim that differs is refused (`advocate_mismatch`)
    /// without using the code up.
    #[serde(default)]
    pub advocate: Option<String>,
    pub keys: DevicePublic,
    /// Base64 Ed25519 signature over `"waymark-enrol\0" + token + device_id`,
    /// proving the device holds the signing key it registers.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    pub clinic_id: Uuid,
    /// The advocate the clinic bound this device to: the one the code was issued for.
    pub advocate: String,
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
    /// Required when `acked_through > 0`.
    #[serde(default)]
    pub acked_op: Option<Uuid>,
    /// The clinic's feed position; a device whose pull cursor equals it has nothing to pull.
    pub feed_head: u64,
    pub clinic_time: DateTime<Utc>,
    /// The clinic's signature over the acknowledgement (`Receipt` with the
    /// claim's request id and no lists), checked before the outbox shrinks.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    /// The highest contiguous sequence of this device's ops stored durably.
    pub acked_through: u64,
    /// The op id in slot `acked_through`; required when it is above 0.
    pub acked_op: Option<Uuid>,
    /// Sequences whose op id was already held with different content. They
    /// are kept in the clinic's quarantine, never applied or dropped.
    pub quarantined: Vec<u64>,
    /// Ops the clinic would not accept, with the rule each broke. They are
    /// kept whole at the clinic and count as held for the acknowledgement.
    pub refused: Vec<RefusedOp>,
    /// The clinic's signature over the acknowledgement (`Receipt` with the
    /// batch id as the request), checked before the outbox shrinks.
    pub signature: String,
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
    /// With `wipe`: the clinic's signature over the order for this device and
    /// the request it answers. A laptop obeys no unsigned order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wipe_signature: Option<String>,
    /// With `invalid` from the workspace: each field a form got wrong and the
    /// rule it broke (never the value), so the page can mark the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<waymark_domain::FieldError>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { code: code.into(), message: message.into(), wipe: false, wipe_signature: None, fields: Vec::new() }
    }
}

/// The message an enrolment proof signs.
pub fn enrol_proof_message(token: &str, device_id: Uuid) -> Vec<u8> {
    [b"waymark-enrol\0".as_slice(), token.as_bytes(), device_id.as_bytes()].concat()
}

/// The platforms an app update is built for, as Tauri's updater names them
/// (`{{target}}-{{arch}}` in the laptop's check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateTarget {
    #[serde(rename = "linux-x86_64")]
    LinuxX86_64,
    #[serde(rename = "windows-x86_64")]
    WindowsX86_64,
    #[serde(rename = "darwin-x86_64")]
    DarwinX86_64,
    #[serde(rename = "darwin-aarch64")]
    DarwinAarch64,
}

impl UpdateTarget {
    pub const ALL: [UpdateTarget; 4] = [
        UpdateTarget::LinuxX86_64,
        UpdateTarget::WindowsX86_64,
        UpdateTarget::DarwinX86_64,
        UpdateTarget::DarwinAarch64,
    ];

    pub fn wire(self) -> &'static str {
        match self {
            UpdateTarget::LinuxX86_64 => "linux-x86_64",
            UpdateTarget::WindowsX86_64 => "windows-x86_64",
            UpdateTarget::DarwinX86_64 => "darwin-x86_64",
            UpdateTarget::DarwinAarch64 => "darwin-aarch64",
        }
    }

    pub fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.wire() == text)
    }
}

/// Whether a character may stand in an update's notes, which the clinic's
/// administrator writes and an advocate reads: no control characters but a
/// line break, and none of the invisible ones that reorder or hide text
/// (bidirectional overrides, isolates and marks, zero-width marks, soft
/// hyphens, interlinear annotations, tag characters). The clinic refuses
/// notes with others; the laptop drops them.
pub fn shown_in_notes(c: char) -> bool {
    !((c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        ))
}

/// An app update the clinic offers: Tauri's updater's "dynamic" answer.
/// `signature` is the minisign signature (base64 of its text) the laptop's
/// updater checks the downloaded file against its built-in key before it
/// installs anything; the clinic only passes it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOffer {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub pub_date: DateTime<Utc>,
    pub url: String,
    pub signature: String,
}

#[cfg(test)]
mod notes_tests {
    use super::shown_in_notes;

    #[test]
    fn notes_keep_words_and_line_breaks_and_lose_what_hides_or_reorders_text() {
        // A right-to-left override can make "gpj.exe" read as "exe.jpg"; a zero-width space hides a word's break.
        // A soft hyphen or a tag character is invisible too, and can split or smuggle a word.
        for hidden in [
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{FEFF}',
            '\t',
            '\r',
            '\u{7}',
            '\u{AD}',
            '\u{61C}',
            '\u{E0041}',
            '\u{FFF9}',
        ] {
            assert!(!shown_in_notes(hidden), "{hidden:?} was allowed");
        }
        assert!("Safer printouts.\nFixes the footer — 2 pages, £0.".chars().all(shown_in_notes));
    }
}
