//! The types that cross the wire. Field names and order are part of the
//! protocol: change them only with a new `PROTOCOL_VERSION` and the document.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::PROTOCOL_VERSION;

/// Which way a batch travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Device to clinic: a contiguous run of the device's own op log.
    Up,
    /// Clinic to device: a run of the clinic's feed for that device.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpAction {
    Create,
    Update,
    /// The clinic erases a case everywhere (schema 11, `ERASE_SCHEMA_VERSION`): its `record_id` and
    /// `case_id` are the case, its `changes` are empty, and only the clinic
    /// may send one. A receiver deletes the case's records and replaces the
    /// content of every op of it with a tombstone that keeps the op's slot
    /// and hash.
    Erase,
}

impl OpAction {
    pub const ALL: [OpAction; 3] = [OpAction::Create, OpAction::Update, OpAction::Erase];

    /// The name stored in the op log and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OpAction::Create => "create",
            OpAction::Update => "update",
            OpAction::Erase => "erase",
        }
    }

    pub fn from_wire(text: &str) -> Option<OpAction> {
        OpAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

const INVALID_PREFIX: &str = "invalid__";

/// Why the clinic would not take one op into its feed. The op is kept whole
/// at the clinic and listed on the sending laptop; the ops after it go on.
/// A code this build does not know arrives as `Other`, never as a failure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OpRefusal {
    /// The case is not assigned to the sender's advocate (at the op's clock).
    NotYourCase,
    /// The op sets something only the clinic sets: the case's advocate, a
    /// perpetrator's typology, a clinic review.
    ClinicOwned,
    /// The op's `actor` is not the advocate the clinic enrolled the device for.
    ActorMismatch,
    /// The op's `case_id` differs from the case the record belongs to.
    CaseMismatch,
    /// An update to a record the clinic has never been sent.
    UnknownRecord,
    /// Not a record kind of this protocol version.
    UnknownKind,
    /// The HLC is not `wall-counter-origin` in the fixed form, or names another device.
    BadHlc,
    /// The HLC is further ahead of the clinic's clock than it allows.
    HlcAhead,
    /// The HLC is not after the one on the device's previous op.
    HlcBackwards,
    /// The op comes from a newer Waymark than the clinic's: held at the
    /// clinic, out of the feed, until an updated clinic reads it.
    NewerSchema,
    /// The case was erased at the clinic: the op's slot is held and its
    /// content dropped, and the erasure reaches the sender on its next pull.
    CaseErased,
    /// The record breaks a domain rule: the code is `invalid__<kind>__<field>`,
    /// naming the kind and the field (never the value). Made by [`OpRefusal::invalid`].
    Invalid(String),
    Other(String),
}

impl OpRefusal {
    pub const ALL: [OpRefusal; 11] = [
        OpRefusal::NotYourCase,
        OpRefusal::ClinicOwned,
        OpRefusal::ActorMismatch,
        OpRefusal::CaseMismatch,
        OpRefusal::UnknownRecord,
        OpRefusal::UnknownKind,
        OpRefusal::BadHlc,
        OpRefusal::HlcAhead,
        OpRefusal::HlcBackwards,
        OpRefusal::NewerSchema,
        OpRefusal::CaseErased,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            OpRefusal::NotYourCase => "not_your_case",
            OpRefusal::ClinicOwned => "clinic_owned",
            OpRefusal::ActorMismatch => "actor_mismatch",
            OpRefusal::CaseMismatch => "case_mismatch",
            OpRefusal::UnknownRecord => "unknown_record",
            OpRefusal::UnknownKind => "unknown_kind",
            OpRefusal::BadHlc => "bad_hlc",
            OpRefusal::HlcAhead => "hlc_ahead",
            OpRefusal::HlcBackwards => "hlc_backwards",
            OpRefusal::NewerSchema => "newer_schema",
            OpRefusal::CaseErased => "case_erased",
            OpRefusal::Invalid(code) | OpRefusal::Other(code) => code,
        }
    }

    pub fn parse(code: &str) -> OpRefusal {
        if let Some(rest) = code.strip_prefix(INVALID_PREFIX) {
            if rest.split_once("__").is_some_and(|(kind, field)| !kind.is_empty() && !field.is_empty()) {
                return OpRefusal::Invalid(code.to_owned());
            }
        }
        OpRefusal::ALL.into_iter().find(|r| r.as_str() == code).unwrap_or_else(|| OpRefusal::Other(code.to_owned()))
    }

    /// The refusal of a record that breaks a rule, naming its kind and the
    /// field (the top of a path: `evidence` for `evidence[0].description`).
    pub fn invalid(kind: &str, field: &str) -> OpRefusal {
        let name = |text: &str| -> String { text.chars().filter(|c| c.is_ascii_lowercase() || *c == '_').collect() };
        let top = field.split(['.', '[']).next().unwrap_or_default();
        let field = match name(top) {
            empty if empty.is_empty() => "record".to_owned(),
            named => named,
        };
        let mut code = format!("{INVALID_PREFIX}{}__{field}", name(kind));
        // Receipts carry a code of at most 64 bytes.
        code.truncate(64);
        OpRefusal::Invalid(code)
    }

    /// Whether the op may pass when judged again by an updated clinic or with
    /// the service's files fixed: a newer schema, or content that broke a rule
    /// (a clinic and its laptops with different rules files). Who may write
    /// what does not change with an update.
    pub fn may_pass_later(&self) -> bool {
        matches!(self, OpRefusal::NewerSchema | OpRefusal::Invalid(_))
    }

    /// The kind and field an `Invalid` refusal names.
    pub fn invalid_field(&self) -> Option<(&str, &str)> {
        match self {
            OpRefusal::Invalid(code) => code.strip_prefix(INVALID_PREFIX)?.split_once("__"),
            _ => None,
        }
    }
}

impl Serialize for OpRefusal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OpRefusal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(serde::de::Error::custom("a refusal code is lowercase snake_case"));
        }
        Ok(OpRefusal::parse(&code))
    }
}

/// What an op changes. Keys a newer Waymark adds are kept as they came, so
/// every reader hashes the same op alike.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpChanges {
    /// Every field's value for a create; the changed fields' new values for an update.
    pub new: serde_json::Map<String, serde_json::Value>,
    /// An update's changed fields as they were before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<serde_json::Map<String, serde_json::Value>>,
    /// Per field, the writes (op ids) an update replaces: the field's heads
    /// as its device knew them. Absent in a create and from older Waymarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// The conflicts (ids) a person's decision, or an edit of the field, closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves: Option<Vec<String>>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl OpChanges {
    /// A create's changes: every field's value.
    pub fn created(new: serde_json::Map<String, serde_json::Value>) -> OpChanges {
        OpChanges { new, ..OpChanges::default() }
    }

    /// An update's changes: the changed fields' new and old values.
    pub fn updated(
        new: serde_json::Map<String, serde_json::Value>,
        old: serde_json::Map<String, serde_json::Value>,
    ) -> OpChanges {
        OpChanges { new, old: Some(old), ..OpChanges::default() }
    }

    /// The op ids this update names as replaced for `field`, if it names any.
    pub fn base_of(&self, field: &str) -> Option<&[String]> {
        self.base.as_ref()?.get(field).map(Vec::as_slice)
    }

    pub fn resolves(&self) -> &[String] {
        self.resolves.as_deref().unwrap_or_default()
    }
}

/// One change to one record, exactly as the originating device logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireOp {
    /// Made by the originating device; the same id always means the same change.
    pub op_id: Uuid,
    /// The device (or the clinic) that made the change.
    pub origin: Uuid,
    /// The origin's op-log sequence number, contiguous from 1.
    pub seq: u64,
    /// The origin's hybrid logical clock at the change, in its text form.
    pub hlc: String,
    /// When the change was made, by the origin's clock (kept apart from receipt time).
    pub made_at: DateTime<Utc>,
    /// The staff code of the person who made it.
    pub actor: String,
    /// The record kind's wire name (`case`, `incident`, …).
    pub kind: String,
    pub record_id: Uuid,
    pub case_id: Option<Uuid>,
    pub action: OpAction,
    pub changes: OpChanges,
    /// The originating vault's schema version. A receiver with an older
    /// schema holds the op back instead of dropping it.
    pub schema_version: u32,
}

impl WireOp {
    /// SHA-256 over the op's canonical JSON. Two ops with the same id must
    /// have the same content hash, or one of them is quarantined.
    pub fn content_hash(&self) -> String {
        Self::hash_of(&self.canonical_bytes())
    }

    /// The content hash of the change itself, whatever slot carries it: the
    /// same op sent again by a laptop that rejoined as a new device has a new
    /// `origin` and `seq` but the same meaning.
    pub fn meaning_hash(&self) -> String {
        let renumbered = WireOp { origin: Uuid::nil(), seq: 0, ..self.clone() };
        renumbered.content_hash()
    }

    /// The op's JSON in field order, `changes` with its object keys sorted at
    /// every level: what is hashed, and what a store can keep.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // The same bytes as when `changes` was untyped JSON: hashes stored
        // before must still match, or a resent op would be quarantined.
        #[derive(Serialize)]
        struct Canonical<'a> {
            op_id: Uuid,
            origin: Uuid,
            seq: u64,
            hlc: &'a str,
            made_at: DateTime<Utc>,
            actor: &'a str,
            kind: &'a str,
            record_id: Uuid,
            case_id: Option<Uuid>,
            action: OpAction,
            changes: CanonicalChanges<'a>,
            schema_version: u32,
        }
        let canonical = Canonical {
            op_id: self.op_id,
            origin: self.origin,
            seq: self.seq,
            hlc: &self.hlc,
            made_at: self.made_at,
            actor: &self.actor,
            kind: &self.kind,
            record_id: self.record_id,
            case_id: self.case_id,
            action: self.action,
            changes: CanonicalChanges(&self.changes),
            schema_version: self.schema_version,
        };
        // Serialising a plain struct to bytes cannot fail.
        serde_json::to_vec(&canonical).unwrap_or_default()
    }

    /// The content hash of bytes from `canonical_bytes`, so a store serialises once.
    pub fn hash_of(canonical: &[u8]) -> String {
        hex::encode(Sha256::digest(canonical))
    }
}

/// An op's `changes` as their JSON object with its keys sorted at every
/// level, which is how they were hashed when `changes` was untyped JSON,
/// written straight out rather than through a sorted copy.
struct CanonicalChanges<'a>(&'a OpChanges);

/// One member of `CanonicalChanges`.
enum ChangesPart<'a> {
    Fields(&'a serde_json::Map<String, serde_json::Value>),
    Heads(&'a std::collections::BTreeMap<String, Vec<String>>),
    Ids(&'a [String]),
    Other(&'a serde_json::Value),
}

impl Serialize for ChangesPart<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use waymark_domain::canonical::{Sorted, SortedMap};
        match self {
            ChangesPart::Fields(map) => SortedMap(map).serialize(serializer),
            // A BTreeMap of string lists is already in sorted order.
            ChangesPart::Heads(heads) => heads.serialize(serializer),
            ChangesPart::Ids(ids) => ids.serialize(serializer),
            ChangesPart::Other(value) => Sorted(value).serialize(serializer),
        }
    }
}

impl Serialize for CanonicalChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Every field named, so a field added to `OpChanges` cannot be left out of the hash.
        let OpChanges { new, old, base, resolves, other } = self.0;
        let mut parts: std::collections::BTreeMap<&str, ChangesPart<'_>> = std::collections::BTreeMap::new();
        parts.insert("new", ChangesPart::Fields(new));
        if let Some(old) = old {
            parts.insert("old", ChangesPart::Fields(old));
        }
        if let Some(base) = base {
            parts.insert("base", ChangesPart::Heads(base));
        }
        if let Some(resolves) = resolves {
            parts.insert("resolves", ChangesPart::Ids(resolves));
        }
        // Flattened keys come after the named ones, so one of the same name wins, as in serde's own output.
        for (key, value) in other {
            parts.insert(key, ChangesPart::Other(value));
        }
        let mut out = serializer.serialize_map(Some(parts.len()))?;
        for (key, part) in &parts {
            out.serialize_entry(key, part)?;
        }
        out.end()
    }
}

/// The batch's metadata. It travels in clear (so the clinic knows whose key
/// verifies it and which key opens it) and again inside the sealed body,
/// where it is compared field by field after decrypting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchHeader {
    pub protocol: u16,
    /// Unique per sending attempt; a batch id seen before is a replay.
    pub batch_id: Uuid,
    pub direction: Direction,
    /// The signer: a device id going up, the clinic id coming down.
    pub sender: Uuid,
    /// Whose X25519 key the body is sealed to.
    pub recipient: Uuid,
    /// Up: the device's first and last op sequence in the batch.
    /// Down: the clinic feed positions covered (ops may be filtered out).
    /// An empty batch has `first_seq = last_seq + 1`.
    pub first_seq: u64,
    pub last_seq: u64,
    pub op_count: u32,
    /// The highest HLC in the batch (text form), or empty when it holds no ops.
    pub max_hlc: String,
    /// The sender's schema version.
    pub schema_version: u32,
    /// The sender's clock when sealing; used only to warn about drift.
    pub sent_at: DateTime<Utc>,
}

/// Who a batch is between and when it was sealed; the rest of a header is
/// derived from the ops, so every sender fills it in the same way.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    /// Fresh per attempt: the caller passes it in so tests can fix it.
    pub batch_id: Uuid,
    pub sender: Uuid,
    pub recipient: Uuid,
    pub sent_at: DateTime<Utc>,
}

impl BatchHeader {
    /// A device's batch of its own ops. `acked_through` is only used when
    /// `ops` is empty, to keep `first_seq = last_seq + 1` meaningful.
    pub fn upward(envelope: Envelope, ops: &[WireOp], acked_through: u64, schema_version: u32) -> Self {
        Self::new(
            envelope,
            Direction::Up,
            (ops.first().map_or(acked_through + 1, |o| o.seq), ops.last().map_or(acked_through, |o| o.seq)),
            ops,
            schema_version,
        )
    }

    /// A page of the clinic feed after position `after`, up to `through`.
    /// The schema version is the highest among the ops, as the clinic keeps none of its own.
    pub fn downward(envelope: Envelope, ops: &[WireOp], after: u64, through: u64) -> Self {
        let schema_version = ops.iter().map(|o| o.schema_version).max().unwrap_or(0);
        Self::new(envelope, Direction::Down, (after + 1, through), ops, schema_version)
    }

    fn new(
        envelope: Envelope,
        direction: Direction,
        (first_seq, last_seq): (u64, u64),
        ops: &[WireOp],
        schema_version: u32,
    ) -> Self {
        BatchHeader {
            protocol: PROTOCOL_VERSION,
            batch_id: envelope.batch_id,
            direction,
            sender: envelope.sender,
            recipient: envelope.recipient,
            first_seq,
            last_seq,
            op_count: u32::try_from(ops.len()).unwrap_or(u32::MAX),
            max_hlc: ops.iter().map(|o| o.hlc.as_str()).max().unwrap_or_default().to_owned(),
            schema_version,
            sent_at: envelope.sent_at,
        }
    }
}

/// What travels: the header in clear, the age ciphertext of the body, and the
/// sender's signature. `header_bytes` are the exact bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBatch {
    pub header: BatchHeader,
    pub header_bytes: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub signature: [u8; 64],
}

/// The plaintext inside the age envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub header: BatchHeader,
    pub ops: Vec<WireOp>,
}
