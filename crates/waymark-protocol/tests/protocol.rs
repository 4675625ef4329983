//! The wire format's guarantees: what is sealed opens only for its
//! recipient, any change to a sealed batch is caught, and the decoder never
//! panics on hostile bytes.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;
use waymark_domain::codes::ErrorCode;
use waymark_protocol::seal::verify;
use waymark_protocol::wire::BatchHeader;
use waymark_protocol::*;

fn keys(seed: u64) -> DeviceKeys {
    DeviceKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn op(origin: Uuid, seq: u64) -> WireOp {
    WireOp {
        op_id: Uuid::from_u128(u128::from(seq) + 1000),
        origin,
        seq,
        hlc: format!("{:015}-{:010}-{origin}", 1_700_000_000_000u64 + seq, 0),
        made_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        actor: "ISA01".into(),
        kind: "case".into(),
        record_id: Uuid::from_u128(7),
        case_id: Some(Uuid::from_u128(7)),
        action: OpAction::Update,
        changes: serde_json::from_value::<waymark_protocol::OpChanges>(
            serde_json::json!({"new": {"status": "open"}, "old": {"status": "referred"}}),
        )
        .unwrap(),
        schema_version: 2,
    }
}

fn header(sender: Uuid, recipient: Uuid, ops: &[WireOp]) -> BatchHeader {
    let envelope = Envelope {
        batch_id: Uuid::from_u128(99),
        sender,
        recipient,
        sent_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
    };
    BatchHeader::upward(envelope, ops, 0, 2)
}

fn sealed_batch(device: &DeviceKeys, clinic: &DeviceKeys) -> (SealedBatch, Vec<WireOp>) {
    let device_id = Uuid::from_u128(1);
    let ops: Vec<WireOp> = (1..=3).map(|s| op(device_id, s)).collect();
    let batch =
        seal(header(device_id, Uuid::from_u128(2), &ops), &ops, &clinic.sealing.to_public(), &device.signing).unwrap();
    (batch, ops)
}

/// Every sender derives the header the same way, so the receiver's checks
/// (contiguous seqs, op count, highest HLC) hold for any batch, including an
/// empty one, which must still say where the sender's acknowledgement stands.
#[test]
fn headers_are_derived_from_their_ops_in_both_directions() {
    let (device, clinic) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let envelope = Envelope {
        batch_id: Uuid::from_u128(3),
        sender: device,
        recipient: clinic,
        sent_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
    };
    let ops: Vec<WireOp> = (41..=43).map(|s| op(device, s)).collect();
    let up = BatchHeader::upward(envelope, &ops, 40, 2);
    assert_eq!((up.direction, up.first_seq, up.last_seq, up.op_count), (Direction::Up, 41, 43, 3));
    assert_eq!(up.max_hlc, ops[2].hlc, "the last op here carries the highest clock");
    let empty = BatchHeader::upward(envelope, &[], 40, 2);
    assert_eq!((empty.first_seq, empty.last_seq, empty.op_count, empty.max_hlc.as_str()), (41, 40, 0, ""));

    let mut newer = op(device, 44);
    newer.schema_version = 3;
    let down = BatchHeader::downward(
        Envelope { sender: clinic, recipient: device, ..envelope },
        &[ops[0].clone(), newer],
        100,
        180,
    );
    assert_eq!(
        (down.direction, down.first_seq, down.last_seq, down.op_count, down.schema_version),
        (Direction::Down, 101, 180, 2, 3)
    );
    assert_eq!(BatchHeader::downward(envelope, &[], 180, 180).schema_version, 0, "an empty page claims no schema");
}

#[test]
fn a_sealed_batch_round_trips_through_bytes_and_opens_for_its_recipient() {
    let (device, clinic) = (keys(1), keys(2));
    let (batch, ops) = sealed_batch(&device, &clinic);
    let bytes = encode(&batch);
    let decoded = decode(&bytes, &Limits::default()).unwrap();
    assert_eq!(decoded, batch);
    let opened = open(&decoded, &device.signing.verifying_key(), &clinic.sealing, &Limits::default()).unwrap();
    assert_eq!(opened.ops, ops);
    // The ops are not readable in the bytes that travel.
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("referred") && !text.contains("ISA01"), "op content must only travel sealed");
}

#[test]
fn another_key_cannot_open_the_batch() {
    let (device, clinic, stranger) = (keys(1), keys(2), keys(3));
    let (batch, _) = sealed_batch(&device, &clinic);
    let err = open(&batch, &device.signing.verifying_key(), &stranger.sealing, &Limits::default()).unwrap_err();
    assert_eq!(err, ProtocolError::Undecryptable);
}

#[test]
fn every_tampered_byte_of_header_ciphertext_or_signature_is_refused() {
    // A flipped bit anywhere must never yield an opened batch: decode fails,
    // or the signature check does.
    let (device, clinic) = (keys(1), keys(2));
    let (batch, _) = sealed_batch(&device, &clinic);
    let bytes = encode(&batch);
    for i in (0..bytes.len()).step_by(7) {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let result = decode(&tampered, &Limits::default())
            .and_then(|b| open(&b, &device.signing.verifying_key(), &clinic.sealing, &Limits::default()));
        assert!(result.is_err(), "byte {i} was changed and the batch still opened");
    }
}

#[test]
fn a_re_signed_batch_is_refused() {
    // An attacker who changes the header (for example a new batch id to dodge
    // replay detection) must re-sign, and only the device key verifies.
    let (device, clinic, attacker) = (keys(1), keys(2), keys(3));
    let (mut batch, _) = sealed_batch(&device, &clinic);
    batch.header.batch_id = Uuid::from_u128(100);
    batch.header_bytes = serde_json::to_vec(&batch.header).unwrap();
    let forged = seal(batch.header.clone(), &[], &clinic.sealing.to_public(), &attacker.signing).unwrap();
    batch.signature = forged.signature;
    assert_eq!(verify(&batch, &device.signing.verifying_key()).unwrap_err(), ProtocolError::BadSignature);
}

#[test]
fn a_sealed_header_that_differs_from_the_outer_one_is_refused() {
    // The device signs an outer header claiming seqs 1..=3 but seals a body
    // whose header says 1..=2: the metadata check must catch it.
    let (device, clinic) = (keys(1), keys(2));
    let device_id = Uuid::from_u128(1);
    let ops: Vec<WireOp> = (1..=3).map(|s| op(device_id, s)).collect();
    let outer = header(device_id, Uuid::from_u128(2), &ops);
    let mut inner = outer.clone();
    inner.last_seq = 2;
    let sealed_inner = seal(inner, &ops, &clinic.sealing.to_public(), &device.signing).unwrap();
    let header_bytes = serde_json::to_vec(&outer).unwrap();
    let resigned = SealedBatch {
        header: outer.clone(),
        header_bytes: header_bytes.clone(),
        ciphertext: sealed_inner.ciphertext,
        signature: [0; 64],
    };
    // Sign the swapped combination properly, as a buggy or hostile device could.
    let signature = {
        use ed25519_dalek::Signer;
        let mut message = b"waymark-batch\0".to_vec();
        message.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        message.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
        message.extend_from_slice(&header_bytes);
        message.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(&resigned.ciphertext));
        device.signing.sign(&message).to_bytes()
    };
    let batch = SealedBatch { signature, ..resigned };
    let err = open(&batch, &device.signing.verifying_key(), &clinic.sealing, &Limits::default()).unwrap_err();
    assert_eq!(err, ProtocolError::HeaderMismatch("last_seq"));
}

#[test]
fn gaps_and_foreign_ops_in_an_upward_batch_are_refused() {
    let (device, clinic) = (keys(1), keys(2));
    let device_id = Uuid::from_u128(1);
    let ops = vec![op(device_id, 1), op(device_id, 3)];
    let mut h = header(device_id, Uuid::from_u128(2), &ops);
    h.last_seq = 2;
    let batch = seal(h, &ops, &clinic.sealing.to_public(), &device.signing).unwrap();
    let err = open(&batch, &device.signing.verifying_key(), &clinic.sealing, &Limits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadSequence);

    let ops = vec![op(Uuid::from_u128(5), 1)];
    let batch =
        seal(header(device_id, Uuid::from_u128(2), &ops), &ops, &clinic.sealing.to_public(), &device.signing).unwrap();
    let err = open(&batch, &device.signing.verifying_key(), &clinic.sealing, &Limits::default()).unwrap_err();
    assert_eq!(err, ProtocolError::HeaderMismatch("origin"));
}

#[test]
fn limits_refuse_oversized_batches_before_parsing() {
    let (device, clinic) = (keys(1), keys(2));
    let (batch, _) = sealed_batch(&device, &clinic);
    let bytes = encode(&batch);
    let small = Limits { max_batch_bytes: bytes.len() as u64 - 1, max_ops: 100 };
    assert_eq!(decode(&bytes, &small).unwrap_err(), ProtocolError::TooLarge { limit: small.max_batch_bytes });
    let few = Limits { max_batch_bytes: 1 << 20, max_ops: 2 };
    assert_eq!(decode(&bytes, &few).unwrap_err(), ProtocolError::TooManyOps { limit: 2 });
}

#[test]
fn the_content_hash_changes_with_any_field() {
    let a = op(Uuid::from_u128(1), 1);
    let mut b = a.clone();
    b.changes = serde_json::from_value::<waymark_protocol::OpChanges>(
        serde_json::json!({"new": {"status": "closed"}, "old": {"status": "referred"}}),
    )
    .unwrap();
    assert_eq!(a.content_hash(), a.clone().content_hash());
    assert_ne!(a.content_hash(), b.content_hash());
}

/// Inputs per property; the closing note reports the total.
const FUZZ_CASES: u32 = 5000;

#[test]
fn the_decoder_and_opener_never_panic_on_hostile_bytes() {
    // Random bytes test the framing; mutations and truncations of a real
    // frame reach the JSON header, the age layer and the body checks.
    use proptest::test_runner::{Config, TestRunner};
    let inputs = AtomicU64::new(0);
    let config = Config { cases: FUZZ_CASES, failure_persistence: None, ..Config::default() };
    TestRunner::new(config.clone())
        .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
            inputs.fetch_add(1, Ordering::Relaxed);
            let _ = decode(&bytes, &Limits::default());
            Ok(())
        })
        .unwrap();
    let edits = (proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), any::<usize>());
    TestRunner::new(config)
        .run(&edits, |(edits, cut)| {
            let frame = valid_frame();
            let mut bytes = frame.clone();
            for (at, value) in edits {
                let len = bytes.len();
                bytes[at % len] = value;
            }
            bytes.truncate(cut % (frame.len() + 1));
            inputs.fetch_add(1, Ordering::Relaxed);
            if let Ok(batch) = decode(&bytes, &Limits::default()) {
                let (device, clinic) = frame_keys();
                let _ = open(&batch, &device.signing.verifying_key(), &clinic.sealing, &Limits::default());
            }
            Ok(())
        })
        .unwrap();
    let count = inputs.load(Ordering::Relaxed);
    eprintln!("decoder fuzz: {count} inputs ran");
    assert!(count >= u64::from(FUZZ_CASES) * 2, "every generated input must have run");
}

fn frame_keys() -> (&'static DeviceKeys, &'static DeviceKeys) {
    static KEYS: std::sync::OnceLock<(DeviceKeys, DeviceKeys)> = std::sync::OnceLock::new();
    let (d, c) = KEYS.get_or_init(|| (keys(1), keys(2)));
    (d, c)
}

fn valid_frame() -> Vec<u8> {
    static FRAME: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FRAME
        .get_or_init(|| {
            let (device, clinic) = frame_keys();
            encode(&sealed_batch(device, clinic).0)
        })
        .clone()
}

#[test]
fn typed_changes_hash_exactly_as_the_untyped_json_did() {
    // Clinics and laptops hold hashes taken when `changes` was untyped JSON. If
    // reading it as `OpChanges` changed the bytes hashed, every op sent again
    // would be quarantined as "same id, different content".
    let sent = serde_json::json!({
        "op_id": Uuid::from_u128(1), "origin": Uuid::from_u128(2), "seq": 3,
        "hlc": format!("{:015}-{:010}-{}", 1_700_000_000_000u64, 0, Uuid::from_u128(2)),
        "made_at": "2026-11-01T09:00:00Z", "actor": "ISA01", "kind": "victim",
        "record_id": Uuid::from_u128(4), "case_id": Uuid::from_u128(5), "action": "update",
        "changes": {
            "resolves": ["c2", "c1"],
            "old": {"address": {"postcode": "ZZ99 9ZZ", "lines": ["1 Test Row"]}},
            "new": {"address": {"postcode": "ZZ99 9ZY", "lines": ["2 Test Row"]}, "notes": null},
            "base": {"address": ["op-b", "op-a"], "notes": []},
            "from_a_newer_waymark": {"z": 1, "a": [true]}
        },
        "schema_version": 6
    });
    let op: WireOp = serde_json::from_value(sent.clone()).unwrap();
    assert_eq!(op.changes.resolves(), ["c2", "c1"]);
    assert_eq!(op.changes.base_of("address"), Some(&["op-b".to_owned(), "op-a".to_owned()][..]));
    assert_eq!(String::from_utf8(op.canonical_bytes()).unwrap(), hashed_as_before(&sent));
}

/// The bytes an op was hashed over before: its fields in their declared
/// order, `changes` as plain JSON with every object's keys sorted.
fn hashed_as_before(sent: &serde_json::Value) -> String {
    let order = [
        "op_id",
        "origin",
        "seq",
        "hlc",
        "made_at",
        "actor",
        "kind",
        "record_id",
        "case_id",
        "action",
        "changes",
        "schema_version",
    ];
    format!(
        "{{{}}}",
        order
            .iter()
            .map(|k| {
                let v = if *k == "changes" { waymark_domain::canonical::sorted(&sent[k]) } else { sent[k].clone() };
                format!("{}:{}", serde_json::to_string(k).unwrap(), serde_json::to_string(&v).unwrap())
            })
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Any JSON, objects built in whatever key order the generator gives.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::vec(("[a-z_\"\\\\é]{0,6}", inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn any_fields() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    proptest::collection::vec(("[a-z_]{1,8}", any_json()), 0..6).prop_map(|pairs| pairs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn changes_are_hashed_over_the_same_bytes_as_their_sorted_json(
        new in any_fields(),
        old in proptest::option::of(any_fields()),
        base in proptest::option::of(proptest::collection::btree_map("[a-z]{1,6}", proptest::collection::vec("[a-z0-9-]{0,8}", 0..3), 0..4)),
        resolves in proptest::option::of(proptest::collection::vec("[a-z0-9-]{0,8}", 0..3)),
        other in proptest::collection::vec((prop_oneof!["(from|newer)_[a-z]{0,5}", Just("new".to_owned()), Just("old".to_owned()), Just("base".to_owned()), Just("resolves".to_owned())], any_json()), 0..3),
    ) {
        // Why: the clinic writes the canonical form straight out rather than
        // through a sorted copy; a byte of difference from the copy's text
        // would make every op already held look changed when sent again.
        let mut op = op(Uuid::from_u128(2), 3);
        op.changes = OpChanges { new, old, base, resolves, other: other.into_iter().collect() };
        let sent = serde_json::to_value(&op).unwrap();
        prop_assert_eq!(String::from_utf8(op.canonical_bytes()).unwrap(), hashed_as_before(&sent));
    }
}
