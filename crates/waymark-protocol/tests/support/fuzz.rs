//! The protocol fuzzer: generated and mutated inputs for every parser a
//! hostile peer can reach: the frame decoder, the opener (signature, age,
//! the sealed body and its checks), every JSON body of the HTTP API, the
//! signed-request claim, the enrolment code and the clinic's signatures.
//! Shared by `tests/fuzz.rs` (a short run in CI) and `benches/fuzz.rs`
//! (`cargo xtask fuzz`, a million inputs).
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use base64::Engine;
use chrono::{TimeZone, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use uuid::Uuid;
use waymark_protocol::auth::read_claim;
use waymark_protocol::enrol::EnrolmentCode;
use waymark_protocol::messages::*;
use waymark_protocol::seal::seal_body_bytes;
use waymark_protocol::*;

/// What a run did: inputs per target, how many a parser accepted, and every crash.
#[derive(Debug, Default)]
pub struct Outcome {
    pub inputs: u64,
    pub by_target: BTreeMap<&'static str, u64>,
    pub accepted: u64,
    pub crashes: Vec<String>,
}

struct Corpus {
    device: DeviceKeys,
    clinic: DeviceKeys,
    header: BatchHeader,
    frame: Vec<u8>,
    body: Vec<u8>,
    json: Vec<(&'static str, Vec<u8>)>,
    code: String,
}

fn corpus() -> Corpus {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (device, clinic) = (DeviceKeys::generate(&mut rng), DeviceKeys::generate(&mut rng));
    let (device_id, clinic_id) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
    let ops: Vec<WireOp> = (1..=3)
        .map(|seq| WireOp {
            op_id: Uuid::from_u128(1000 + u128::from(seq)),
            origin: device_id,
            seq,
            hlc: format!("{:015}-{:010}-{device_id}", 1_700_000_000_000u64 + seq, 0),
            made_at: at,
            actor: "ISA01".into(),
            kind: "incident".into(),
            record_id: Uuid::from_u128(7),
            case_id: Some(Uuid::from_u128(8)),
            action: OpAction::Create,
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"behaviours": ["loitering"], "account": "fuzz"}, "old": {}}),
            )
            .unwrap(),
            schema_version: 2,
        })
        .collect();
    let envelope = Envelope { batch_id: Uuid::from_u128(99), sender: device_id, recipient: clinic_id, sent_at: at };
    let header = BatchHeader::upward(envelope, &ops, 0, 2);
    let sealed = seal(header.clone(), &ops, &clinic.sealing.to_public(), &device.signing).unwrap();
    let body =
        serde_json::to_vec(&waymark_protocol::wire::BatchBody { header: header.clone(), ops: ops.clone() }).unwrap();
    let receipt = Receipt {
        device: device_id,
        through: 3,
        op: Some(ops[2].op_id),
        request: Uuid::from_u128(5),
        quarantined: &[2],
        refused: &[],
    };
    let json: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "enrol_request",
            serde_json::to_vec(&EnrolRequest {
                token: "token".into(),
                device_id,
                advocate: Some("ISA01".into()),
                keys: device.public(),
                proof: "cHJvb2Y=".into(),
            })
            .unwrap(),
        ),
        ("pull_request", serde_json::to_vec(&PullRequest { after: 10, max_ops: 1000 }).unwrap()),
        (
            "hello_response",
            serde_json::to_vec(&HelloResponse {
                acked_through: 3,
                acked_op: Some(ops[2].op_id),
                feed_head: 9,
                clinic_time: at,
                signature: receipt.sign(&clinic.signing),
            })
            .unwrap(),
        ),
        (
            "push_response",
            serde_json::to_vec(&PushResponse {
                acked_through: 3,
                acked_op: Some(ops[2].op_id),
                quarantined: vec![2],
                refused: vec![RefusedOp { seq: 1, code: OpRefusal::NotYourCase }],
                signature: receipt.sign(&clinic.signing),
            })
            .unwrap(),
        ),
        (
            "error_body",
            serde_json::to_vec(&ErrorBody {
                wipe: true,
                wipe_signature: Some("c2ln".into()),
                ..ErrorBody::new("revoked", "m")
            })
            .unwrap(),
        ),
        (
            "claim",
            serde_json::to_vec(&waymark_protocol::auth::Claim {
                device: device_id,
                request_id: Uuid::from_u128(5),
                path: PATH_HELLO.into(),
                body_sha256: "00".repeat(32),
                at,
            })
            .unwrap(),
        ),
        ("wire_op", serde_json::to_vec(&ops[0]).unwrap()),
    ];
    let code = EnrolmentCode {
        url: "https://127.0.0.1:8443".into(),
        fingerprint: Some("ab".repeat(32)),
        clinic_id,
        clinic: clinic.public(),
        recovery: None,
        advocate: Some("ISA01".into()),
        token: "token".into(),
    }
    .to_text();
    Corpus { device, clinic, header, frame: encode(&sealed), body, json, code }
}

/// Tokens that reach the odd corners of parsers.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"\"",
    b"\\u0000",
    b"null",
    b"-1",
    b"18446744073709551616",
    b"1e999",
    b"\xff\xfe",
    b"WMSB",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"age-encryption.org/v1",
];

fn mutate(rng: &mut ChaCha8Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..rng.gen_range(1..=8) {
        let len = bytes.len();
        match rng.gen_range(0..8) {
            0 if len > 0 => {
                let at = rng.gen_range(0..len);
                bytes[at] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let at = rng.gen_range(0..len);
                bytes[at] = rng.gen();
            }
            2 => {
                let at = rng.gen_range(0..=len);
                let mut extra = vec![0u8; rng.gen_range(1..32)];
                rng.fill_bytes(&mut extra);
                bytes.splice(at..at, extra);
            }
            3 if len > 0 => {
                let from = rng.gen_range(0..len);
                let to = (from + rng.gen_range(1..64)).min(len);
                bytes.drain(from..to);
            }
            4 => bytes.truncate(rng.gen_range(0..=len)),
            5 if len > 0 => {
                let from = rng.gen_range(0..len);
                let to = (from + rng.gen_range(1..64)).min(len);
                let copy = bytes[from..to].to_vec();
                let at = rng.gen_range(0..=bytes.len());
                bytes.splice(at..at, copy);
            }
            6 if !other.is_empty() => {
                let cut = rng.gen_range(0..=len);
                let from = rng.gen_range(0..other.len());
                bytes.truncate(cut);
                bytes.extend_from_slice(&other[from..]);
            }
            _ => {
                let at = rng.gen_range(0..=len);
                let token = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                bytes.splice(at..at, token.iter().copied());
            }
        }
    }
    bytes
}

/// Runs `count` inputs from `seed`. Each parser call is caught, so one crash
/// does not hide the next; a crash is any panic.
pub fn run(count: u64, seed: u64) -> Outcome {
    let corpus = corpus();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut outcome = Outcome::default();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let limits = Limits::default();
    let (device_key, clinic_key) = (corpus.device.signing.verifying_key(), corpus.clinic.signing.verifying_key());
    for n in 0..count {
        let pick = rng.gen_range(0..100);
        let (target, result): (&'static str, std::thread::Result<bool>) = if pick < 10 {
            // Random bytes at the frame decoder.
            let mut bytes = vec![0u8; rng.gen_range(0..512)];
            rng.fill_bytes(&mut bytes);
            ("frame_random", catch_unwind(|| decode(&bytes, &limits).is_ok()))
        } else if pick < 45 {
            // A real frame, mutated: the decoder, then the opener.
            let bytes = mutate(&mut rng, &corpus.frame, &corpus.body);
            let opened = catch_unwind(AssertUnwindSafe(|| match decode(&bytes, &limits) {
                Ok(batch) => open(&batch, &device_key, &corpus.clinic.sealing, &limits).is_ok(),
                Err(_) => false,
            }));
            ("frame_mutated", opened)
        } else if pick < 50 {
            // A mutated body sealed and signed validly, so decryption and the body checks run.
            let body = mutate(&mut rng, &corpus.body, &corpus.json[n as usize % corpus.json.len()].1);
            let sealed = seal_body_bytes(
                corpus.header.clone(),
                &body,
                &corpus.clinic.sealing.to_public(),
                &corpus.device.signing,
            );
            let opened = catch_unwind(AssertUnwindSafe(|| match sealed {
                Ok(batch) => decode(&encode(&batch), &limits)
                    .is_ok_and(|b| open(&b, &device_key, &corpus.clinic.sealing, &limits).is_ok()),
                Err(_) => false,
            }));
            ("sealed_body", opened)
        } else if pick < 90 {
            // Every JSON body of the API, and the claim as the clinic reads it from a header.
            let (name, seed_json) = &corpus.json[rng.gen_range(0..corpus.json.len())];
            let other = &corpus.json[rng.gen_range(0..corpus.json.len())].1;
            let bytes = mutate(&mut rng, seed_json, other);
            let parsed = catch_unwind(|| {
                let claim = base64::engine::general_purpose::STANDARD.encode(&bytes);
                [
                    serde_json::from_slice::<EnrolRequest>(&bytes).is_ok(),
                    serde_json::from_slice::<PullRequest>(&bytes).is_ok(),
                    serde_json::from_slice::<HelloResponse>(&bytes).is_ok(),
                    serde_json::from_slice::<PushResponse>(&bytes).is_ok(),
                    serde_json::from_slice::<ErrorBody>(&bytes).is_ok(),
                    serde_json::from_slice::<WireOp>(&bytes).is_ok(),
                    read_claim(&claim).is_ok(),
                ]
                .iter()
                .any(|ok| *ok)
            });
            (name, parsed)
        } else {
            // The enrolment code as pasted, and the clinic's signatures as a laptop checks them.
            let bytes = mutate(&mut rng, corpus.code.as_bytes(), b"");
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let checked = catch_unwind(|| {
                let receipt = Receipt {
                    device: Uuid::from_u128(1),
                    through: 3,
                    op: None,
                    request: Uuid::nil(),
                    quarantined: &[],
                    refused: &[],
                };
                let signature = text.get(9..).unwrap_or_default();
                let _ = receipt.verify(&clinic_key, signature);
                let _ = waymark_protocol::receipt::verify_wipe(&clinic_key, Uuid::nil(), Uuid::nil(), signature);
                EnrolmentCode::parse(&text).is_ok()
            });
            ("enrolment_code", checked)
        };
        outcome.inputs += 1;
        *outcome.by_target.entry(target).or_default() += 1;
        match result {
            Ok(true) => outcome.accepted += 1,
            Ok(false) => {}
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned());
                outcome.crashes.push(format!("{target} input {n}: {}", what.unwrap_or_default()));
            }
        }
    }
    std::panic::set_hook(hook);
    outcome
}
