//! The clinic's story, run against every storage implementation, through
//! the real router (without TLS): enrol, push, resend, quarantine, pull,
//! revoke. Then every rejection the issue names, and hostile input.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use chrono::{TimeZone, Utc};
use ed25519_dalek::Signer;
use http_body_util::BodyExt;
use rand::SeedableRng;
use tower::ServiceExt;
use uuid::Uuid;
use waymark_clinic::store::AdminAction;
use waymark_clinic::{router, StaffMember, StaffRole};
use waymark_domain::codes::ErrorCode;
use waymark_protocol::auth::{body_hash, sign_request, Claim, CLAIM_HEADER, SIGNATURE_HEADER};
use waymark_protocol::messages::*;
use waymark_protocol::*;

mod kit;
use kit::*;

struct Device {
    id: Uuid,
    keys: DeviceKeys,
    advocate: &'static str,
}

impl Device {
    fn new(n: u128, advocate: &'static str) -> Self {
        Self { id: Uuid::from_u128(n), keys: keys(n as u64), advocate }
    }

    fn enrol_request(&self, token: &str) -> Vec<u8> {
        let proof = base64::engine::general_purpose::STANDARD
            .encode(self.keys.signing.sign(&enrol_proof_message(token, self.id)).to_bytes());
        serde_json::to_vec(&EnrolRequest {
            token: token.into(),
            device_id: self.id,
            advocate: Some(self.advocate.into()),
            keys: self.keys.public(),
            proof,
        })
        .unwrap()
    }

    /// A new record of `kind` for `case` (its own id), as a laptop writes it, with `new` laid over it.
    fn op(&self, seq: u64, case: u128, kind: &str, new: serde_json::Value) -> WireOp {
        let new = whole(kind, Uuid::from_u128(case), Uuid::from_u128(case), new);
        WireOp {
            op_id: Uuid::from_u128((self.id.as_u128() << 32) + u128::from(seq)),
            origin: self.id,
            seq,
            hlc: format!("{:015}-{:010}-{}", 1_795_000_000_000u64 + seq, 0, self.id),
            made_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
            actor: self.advocate.into(),
            kind: kind.into(),
            record_id: Uuid::from_u128(case),
            case_id: Some(Uuid::from_u128(case)),
            action: OpAction::Create,
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({ "new": new })).unwrap(),
            schema_version: 2,
        }
    }

    /// A change to the fields `new` names of record `case`, a case (or a record with the case's id).
    fn edit(&self, seq: u64, case: u128, kind: &str, new: serde_json::Value) -> WireOp {
        record_op(self, seq, kind, case, case, OpAction::Update, new)
    }

    fn batch(&self, clinic: &Clinic, ops: &[WireOp]) -> Vec<u8> {
        encode(&self.sealed(clinic, ops, Uuid::now_v7()))
    }

    fn sealed(&self, clinic: &Clinic, ops: &[WireOp], batch_id: Uuid) -> SealedBatch {
        let envelope = Envelope {
            batch_id,
            sender: self.id,
            recipient: clinic.state.clinic_id,
            sent_at: Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap(),
        };
        let header = BatchHeader::upward(envelope, ops, 0, 2);
        seal(header, ops, &clinic.state.keys.sealing.to_public(), &self.keys.signing).unwrap()
    }

    /// A push of a frame as a laptop sends it: signed claim headers naming the batch's own id.
    fn pushed(&self, frame: Vec<u8>) -> Request<Body> {
        let unlimited = Limits { max_batch_bytes: u64::MAX, max_ops: u32::MAX };
        let batch_id = decode(&frame, &unlimited).map_or_else(|_| Uuid::now_v7(), |b| b.header.batch_id);
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 11, 59, 0).unwrap();
        let (claim, signature) = waymark_protocol::auth::sign_push(self.id, batch_id, &frame, at, &self.keys.signing);
        Request::post(PATH_PUSH)
            .header(CLAIM_HEADER, claim)
            .header(SIGNATURE_HEADER, signature)
            .body(Body::from(frame))
            .unwrap()
    }

    fn signed(&self, path: &str, body: Vec<u8>) -> Request<Body> {
        self.signed_at(path, body, Utc.with_ymd_and_hms(2026, 11, 22, 11, 59, 0).unwrap())
    }

    /// A signed call dated `at` (the test clinic's clock reads 12:00 on 22 November 2026).
    fn signed_at(&self, path: &str, body: Vec<u8>, at: chrono::DateTime<Utc>) -> Request<Body> {
        let claim =
            Claim { device: self.id, request_id: Uuid::now_v7(), path: path.into(), body_sha256: body_hash(&body), at };
        let (claim, signature) = sign_request(&claim, &self.keys.signing);
        Request::post(path)
            .header(CLAIM_HEADER, claim)
            .header(SIGNATURE_HEADER, signature)
            .body(Body::from(body))
            .unwrap()
    }
}

fn code_of(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.code)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

#[tokio::test]
async fn the_story_holds_for_every_store() {
    for (name, clinic) in stores() {
        let a = Device::new(1, "ISA01");
        let b = Device::new(2, "ISA01");
        // Enrolment: a token works once; the same device retrying with the same keys is fine.
        assert_eq!(call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await.0, StatusCode::OK, "{name}");
        assert_eq!(
            call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await.0,
            StatusCode::OK,
            "{name}: a lost reply must be retryable"
        );
        let (status, body) = call(&clinic, post(PATH_ENROL, b.enrol_request(TOKEN))).await;
        assert_eq!(
            (status, code_of(&body).as_str()),
            (StatusCode::UNAUTHORIZED, "enrolment_refused"),
            "{name}: a used token"
        );
        // A known device id with other keys (a laptop restored from a backup) is told so, not "bad code".
        let restored = Device { keys: keys(9), ..Device::new(1, "ISA01") };
        let (status, body) = call(&clinic, post(PATH_ENROL, restored.enrol_request("second"))).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "device_known"), "{name}");
        assert_eq!(
            call(&clinic, post(PATH_ENROL, b.enrol_request("second"))).await.0,
            StatusCode::OK,
            "{name}: the refusal did not use the token"
        );

        // Push: a case assigned to ISA01, then two more ops.
        let ops = vec![
            a.op(1, 10, "case", serde_json::json!({"advocate": "ISA01", "reference": "C1"})),
            a.op(2, 11, "case", serde_json::json!({"advocate": "ISA02", "reference": "C2"})),
            a.edit(3, 10, "case", serde_json::json!({"status": "open"})),
        ];
        let (status, body) = call(&clinic, a.pushed(a.batch(&clinic, &ops))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", code_of(&body));
        let pushed: PushResponse = serde_json::from_slice(&body).unwrap();
        // A laptop cannot open a case for another advocate: refused, kept, and the ops after it go on.
        assert_eq!(
            (pushed.acked_through, pushed.acked_op, pushed.quarantined.clone(), pushed.refused.clone()),
            (3, Some(ops[2].op_id), vec![], vec![RefusedOp { seq: 2, code: OpRefusal::ClinicOwned }]),
            "{name}"
        );
        assert_eq!(clinic.state.store.stats().unwrap().refused, 1, "{name}");

        // The same ops in a fresh batch: acknowledged again, stored once.
        let (_, body) = call(&clinic, a.pushed(a.batch(&clinic, &ops))).await;
        assert_eq!(serde_json::from_slice::<PushResponse>(&body).unwrap().acked_through, 3, "{name}");
        assert_eq!(clinic.state.store.stats().unwrap().ops, 2, "{name}: a resend must not duplicate");

        // The same op id with different content: quarantined, loudly, never applied.
        let mut changed = ops[2].clone();
        changed.changes =
            serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({"new": {"status": "closed"}}))
                .unwrap();
        let (_, body) = call(&clinic, a.pushed(a.batch(&clinic, &[changed]))).await;
        assert_eq!(serde_json::from_slice::<PushResponse>(&body).unwrap().quarantined, vec![3], "{name}");
        assert_eq!(clinic.state.store.stats().unwrap().quarantined, 1, "{name}");

        // Reordered batches: 5 before 4 would leave a hole in A's log at the clinic, so it is refused whole.
        let five = a.edit(5, 10, "case", serde_json::json!({"status": "closed"}));
        let (status, body) = call(&clinic, a.pushed(a.batch(&clinic, std::slice::from_ref(&five)))).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "out_of_order"), "{name}");
        let (_, body) =
            call(&clinic, a.pushed(a.batch(&clinic, &[a.edit(4, 10, "case", serde_json::json!({"status": "open"}))])))
                .await;
        assert_eq!(serde_json::from_slice::<PushResponse>(&body).unwrap().acked_through, 4, "{name}");
        let (_, body) = call(&clinic, a.pushed(a.batch(&clinic, &[five]))).await;
        assert_eq!(
            serde_json::from_slice::<PushResponse>(&body).unwrap().acked_through,
            5,
            "{name}: sent again in order"
        );

        // Hello names the op in the acknowledged slot, so A can check its own log agrees.
        let hello: HelloResponse =
            serde_json::from_slice(&call(&clinic, a.signed(PATH_HELLO, b"{}".to_vec())).await.1).unwrap();
        assert_eq!(
            (hello.acked_through, hello.acked_op),
            (5, Some(a.edit(5, 10, "case", serde_json::json!({})).op_id)),
            "{name}"
        );
        assert_eq!(clinic.state.store.op_id_at(a.id, 3).unwrap(), Some(ops[2].op_id), "{name}");
        assert_eq!(clinic.state.store.op_id_at(a.id, 6).unwrap(), None, "{name}");

        // Pull: B sees A's ops for ISA01's case only, sealed to B and signed by the clinic.
        let hello: HelloResponse =
            serde_json::from_slice(&call(&clinic, b.signed(PATH_HELLO, b"{}".to_vec())).await.1).unwrap();
        // Positions only grow; a store may leave gaps (SQLite's AUTOINCREMENT skips ignored inserts).
        assert!(hello.feed_head >= 4, "{name}: four ops joined the feed; the refused one did not");
        let request = serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap();
        let (status, body) = call(&clinic, b.signed(PATH_PULL, request)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", code_of(&body));
        let batch = decode(&body, &Limits::default()).unwrap();
        let opened =
            open(&batch, &clinic.state.keys.signing.verifying_key(), &b.keys.sealing, &Limits::default()).unwrap();
        let seqs: Vec<u64> = opened.ops.iter().map(|o| o.seq).collect();
        assert_eq!(seqs, vec![1, 3, 4, 5], "{name}: the refused case stays out; feed order is arrival order");
        assert_eq!(opened.header.last_seq, hello.feed_head, "{name}: a short page covers the whole feed");
        // A position past the end is refused, not echoed back for the laptop to keep.
        let request = serde_json::to_vec(&PullRequest { after: hello.feed_head + 5, max_ops: 100 }).unwrap();
        let (status, body) = call(&clinic, b.signed(PATH_PULL, request)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "cursor_ahead"), "{name}");
        // A does not get its own ops back.
        let request = serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap();
        let batch = decode(&call(&clinic, a.signed(PATH_PULL, request)).await.1, &Limits::default()).unwrap();
        assert_eq!(
            open(&batch, &clinic.state.keys.signing.verifying_key(), &a.keys.sealing, &Limits::default())
                .unwrap()
                .ops
                .len(),
            0
        );

        // Revocation: refused with a wipe instruction, on push and on signed calls.
        assert!(clinic.state.store.revoke(b.id, Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()).unwrap());
        let request = b.signed(PATH_HELLO, b"{}".to_vec());
        let claim = waymark_protocol::auth::read_claim(request.headers()[CLAIM_HEADER].to_str().unwrap()).unwrap().0;
        let (status, body) = call(&clinic, request).await;
        let error: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, error.code.as_str(), error.wipe), (StatusCode::FORBIDDEN, "revoked", true), "{name}");
        // The order is signed by the clinic for this device and this request, so a laptop can tell it from a forgery.
        let clinic_key = clinic.state.keys.signing.verifying_key();
        let signature = error.wipe_signature.unwrap();
        assert!(receipt::verify_wipe(&clinic_key, b.id, claim.request_id, &signature).is_ok(), "{name}");
        assert!(
            receipt::verify_wipe(&clinic_key, a.id, claim.request_id, &signature).is_err(),
            "{name}: bound to the device"
        );
        let (status, body) =
            call(&clinic, b.pushed(b.batch(&clinic, &[b.edit(1, 10, "case", serde_json::json!({"status": "x"}))])))
                .await;
        assert_eq!(
            (status, code_of(&body).as_str()),
            (StatusCode::FORBIDDEN, "revoked"),
            "{name}: a batch signed by a revoked device"
        );
    }
}

#[tokio::test]
async fn each_bad_batch_is_refused_with_its_own_error() {
    let (_, clinic) = stores().remove(1);
    let a = Device::new(1, "ISA01");
    call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await;
    let ops = vec![a.op(1, 10, "case", serde_json::json!({"advocate": "ISA01"}))];

    // Tampered: one bit of the ciphertext flipped.
    let mut tampered = a.sealed(&clinic, &ops, Uuid::now_v7());
    tampered.ciphertext[40] ^= 1;
    let (status, body) = call(&clinic, a.pushed(encode(&tampered))).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));

    // Replayed: the exact same batch twice.
    let batch = a.batch(&clinic, &ops);
    assert_eq!(call(&clinic, a.pushed(batch.clone())).await.0, StatusCode::OK);
    let (status, body) = call(&clinic, a.pushed(batch)).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "replayed"));

    // Re-signed: a new batch id to dodge replay detection, signed by another key.
    let mut resigned = a.sealed(&clinic, &ops, Uuid::now_v7());
    let intruder = keys(999);
    let forged =
        seal(resigned.header.clone(), &ops, &clinic.state.keys.sealing.to_public(), &intruder.signing).unwrap();
    resigned.signature = forged.signature;
    let (status, body) = call(&clinic, a.pushed(encode(&resigned))).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));

    // Unknown device.
    let stranger = Device::new(77, "ISA01");
    let (status, body) =
        call(&clinic, stranger.pushed(stranger.batch(&clinic, &[stranger.edit(1, 10, "case", serde_json::json!({}))])))
            .await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "unknown_device"));

    // Oversized: beyond the configured 256 KiB.
    let big: Vec<WireOp> =
        (1..=400).map(|s| a.edit(s + 1, 10, "case", serde_json::json!({"reference": "x".repeat(1000)}))).collect();
    let (status, _) = call(&clinic, a.pushed(a.batch(&clinic, &big))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // A claim that does not belong to the batch it came with: another batch's id, or another body. Nothing is stored.
    let held_before = clinic.state.store.stats().unwrap().ops;
    let frame = a.batch(&clinic, &[a.edit(2, 10, "case", serde_json::json!({"status": "open"}))]);
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 11, 59, 0).unwrap();
    let (claim, signature) = waymark_protocol::auth::sign_push(a.id, Uuid::now_v7(), &frame, at, &a.keys.signing);
    let request = Request::post(PATH_PUSH)
        .header(CLAIM_HEADER, claim)
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from(frame.clone()))
        .unwrap();
    let (status, body) = call(&clinic, request).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "header_mismatch"), "another batch's id");
    let (claim, signature) =
        waymark_protocol::auth::sign_push(a.id, Uuid::now_v7(), b"other bytes", at, &a.keys.signing);
    let request = Request::post(PATH_PUSH)
        .header(CLAIM_HEADER, claim)
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from(frame))
        .unwrap();
    let (status, body) = call(&clinic, request).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "header_mismatch"), "another body");
    assert_eq!(clinic.state.store.stats().unwrap().ops, held_before, "a mismatched push stores nothing");

    // A replayed signed request.
    let request = a.signed(PATH_HELLO, b"{}".to_vec());
    let (claim, signature) = (request.headers()[CLAIM_HEADER].clone(), request.headers()[SIGNATURE_HEADER].clone());
    assert_eq!(call(&clinic, request).await.0, StatusCode::OK);
    let again = Request::post(PATH_HELLO)
        .header(CLAIM_HEADER, claim)
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = call(&clinic, again).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "replayed"));
}

#[tokio::test]
async fn hostile_input_to_every_endpoint_gets_a_4xx() {
    let (_, clinic) = stores().remove(0);
    let a = Device::new(1, "ISA01");
    call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await;
    let bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"{".to_vec(),
        b"null".to_vec(),
        b"WMSB".to_vec(),
        vec![0xff; 5000],
        serde_json::to_vec(&serde_json::json!({"token": 1, "device_id": "x"})).unwrap(),
        [b"WMSB\x00\x01\xff\xff\xff\xff".as_slice(), &[0u8; 100]].concat(),
        "{\"after\": -1, \"max_ops\": 99999999999}".into(),
    ];
    let mut cases = 0;
    let posted = Endpoint::ALL.iter().filter(|e| !e.is_get()).map(|e| e.path());
    for path in posted.chain(["/v1/nothing", "/../etc/passwd"]) {
        for body in &bodies {
            for (signed, request) in [(false, post(path, body.clone())), (true, a.signed(path, body.clone()))] {
                let (status, _) = call(&clinic, request).await;
                cases += 1;
                // A correctly signed hello ignores its body, so it may succeed; nothing else may.
                let may_succeed = signed && path == PATH_HELLO;
                assert!(
                    status.is_client_error() || (may_succeed && status.is_success()),
                    "{path} with {} bytes gave {status}",
                    body.len()
                );
            }
        }
    }
    // A signed claim for one path used on another.
    let mut request = a.signed(PATH_HELLO, b"{}".to_vec());
    *request.uri_mut() = PATH_PULL.parse().unwrap();
    assert!(call(&clinic, request).await.0.is_client_error());
    assert!(cases > 90);
}

#[tokio::test]
async fn the_openapi_description_is_served_and_names_every_route() {
    let (_, clinic) = stores().remove(0);
    let (status, body) = call(&clinic, Request::get(PATH_OPENAPI).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    paths.sort();
    let mut routes: Vec<&str> = Endpoint::ALL.iter().map(|e| e.path()).collect();
    routes.extend(waymark_clinic::workspace::WorkRoute::ALL.iter().map(|r| r.path()));
    routes.sort();
    routes.dedup();
    assert_eq!(paths, routes, "docs/clinic-openapi.json must describe exactly the routes the router serves");
    // And each workspace route's method: a list and its form share a path.
    for route in waymark_clinic::workspace::WorkRoute::ALL {
        let method = route.method().as_str().to_ascii_lowercase();
        assert!(doc["paths"][route.path()][&method].is_object(), "{method} {} is not described", route.path());
    }
}

#[tokio::test]
async fn the_clinics_review_and_a_reassignment_reach_the_right_laptops_in_every_store() {
    use waymark_clinic::authoring::{clinic_review, reassign};
    for (name, clinic) in stores() {
        let (a, c) = (Device::new(1, "ISA01"), Device::new(3, "ISA02"));
        call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await;
        call(&clinic, post(PATH_ENROL, c.enrol_request("third"))).await;
        let ops = vec![
            a.op(1, 10, "case", serde_json::json!({"advocate": "ISA01"})),
            a.edit(2, 10, "case", serde_json::json!({"status": "open"})),
        ];
        assert_eq!(call(&clinic, a.pushed(a.batch(&clinic, &ops))).await.0, StatusCode::OK);
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let store = clinic.state.store.as_ref();
        let id = clinic.state.clinic_id;

        // A review of a case no laptop has sent is refused; a bad field names itself.
        let fields = |f: &[&str]| f.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(clinic_review(
            store,
            &clinic.state.service,
            id,
            Uuid::from_u128(999),
            "CLN1",
            &fields(&["meeting_on=2026-11-20", "agencies_present+=police"]),
            now
        )
        .is_err());
        let err = clinic_review(
            store,
            &clinic.state.service,
            id,
            Uuid::from_u128(10),
            "CLN1",
            &fields(&["meeting_on=2026-11-20"]),
            now,
        )
        .unwrap_err();
        assert!(err.to_string().contains("agencies_present"), "{name}: {err}");
        let review = clinic_review(
            store,
            &clinic.state.service,
            id,
            Uuid::from_u128(10),
            "CLN1",
            &fields(&["meeting_on=2026-11-20", "agencies_present+=police"]),
            now,
        )
        .unwrap();
        assert_eq!(review.seq, 1, "{name}: the clinic numbers its own ops");
        let pull = |device: &Device, after: u64| {
            let request = serde_json::to_vec(&PullRequest { after, max_ops: 100 }).unwrap();
            device.signed(PATH_PULL, request)
        };
        let opened = |body: Vec<u8>, device: &Device| {
            let batch = decode(&body, &Limits::default()).unwrap();
            open(&batch, &clinic.state.keys.signing.verifying_key(), &device.keys.sealing, &Limits::default()).unwrap()
        };
        // While the case is A's, A's laptop receives the clinic's review.
        let to_a = opened(call(&clinic, pull(&a, 0)).await.1, &a);
        assert_eq!(to_a.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(), vec![review.op_id], "{name}");
        let a_cursor = to_a.header.last_seq;

        let moved = reassign(store, id, Uuid::from_u128(10), "ISA02", "CLN1", now).unwrap();
        assert_eq!((moved.seq, moved.hlc > review.hlc), (2, true), "{name}");
        assert!(reassign(store, id, Uuid::from_u128(10), "ISA02", "CLN1", now).is_err(), "{name}: already theirs");

        // The new advocate's laptop gets the case's whole history, then the review and the move.
        let to_c = opened(call(&clinic, pull(&c, 0)).await.1, &c);
        let ids: Vec<Uuid> = to_c.ops.iter().map(|o| o.op_id).collect();
        assert_eq!(ids, vec![ops[0].op_id, ops[1].op_id, review.op_id, moved.op_id], "{name}");
        // The old advocate's laptop learns the case has moved, and nothing after.
        let to_a = opened(call(&clinic, pull(&a, a_cursor)).await.1, &a);
        assert_eq!(to_a.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(), vec![moved.op_id], "{name}");
        // C's change is stamped after the reassignment (the clinic's clock is 12:00).
        let later = WireOp {
            hlc: format!("{:015}-{:010}-{}", 1_795_867_300_000u64, 0, c.id),
            ..c.edit(1, 10, "case", serde_json::json!({"status": "closed"}))
        };
        assert_eq!(call(&clinic, c.pushed(c.batch(&clinic, &[later]))).await.0, StatusCode::OK);
        let to_a = opened(call(&clinic, pull(&a, to_a.header.last_seq)).await.1, &a);
        assert!(to_a.ops.is_empty(), "{name}: the case is no longer A's");
    }
}

#[tokio::test]
async fn an_enrolment_binds_the_advocate_the_code_was_issued_for_in_every_store() {
    for (name, clinic) in stores() {
        // An impostor who set up a laptop under ISA02's staff code, holding ISA01's code: refused, and the code is not used up.
        let impostor = Device::new(5, "ISA02");
        let (status, body) = call(&clinic, post(PATH_ENROL, impostor.enrol_request(TOKEN))).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::FORBIDDEN, "advocate_mismatch"), "{name}");
        // A laptop that claims nothing is bound to the code's advocate, never to a claim.
        let silent = Device::new(6, "ISA01");
        let mut request: EnrolRequest = serde_json::from_slice(&silent.enrol_request(TOKEN)).unwrap();
        request.advocate = None;
        let (status, body) = call(&clinic, post(PATH_ENROL, serde_json::to_vec(&request).unwrap())).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", code_of(&body));
        let enrolled: EnrolResponse = serde_json::from_slice(&body).unwrap();
        assert_eq!(enrolled.advocate, "ISA01", "{name}");
        assert_eq!(clinic.state.store.device(silent.id).unwrap().unwrap().advocate, "ISA01", "{name}");

        // Ids that would confuse whose ops are whose.
        for id in [Uuid::nil(), clinic.state.clinic_id] {
            let odd = Device { id, ..Device::new(7, "ISA01") };
            let (status, body) = call(&clinic, post(PATH_ENROL, odd.enrol_request("second"))).await;
            assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "bad_device_id"), "{name}: {id}");
        }

        // Codes are only issued for registered, active advocates.
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest("fifth"));
        let later = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            clinic.state.store.add_enrolment(&hash, "NOBODY", later).unwrap_err().code(),
            ErrorCode::UnknownStaff,
            "{name}"
        );

        // Hello's acknowledgement is signed for this device and request.
        let request = silent.signed(PATH_HELLO, b"{}".to_vec());
        let claim = waymark_protocol::auth::read_claim(request.headers()[CLAIM_HEADER].to_str().unwrap()).unwrap().0;
        let hello: HelloResponse = serde_json::from_slice(&call(&clinic, request).await.1).unwrap();
        let receipt = Receipt {
            device: silent.id,
            through: 0,
            op: None,
            request: claim.request_id,
            quarantined: &[],
            refused: &[],
        };
        assert!(receipt.verify(&clinic.state.keys.signing.verifying_key(), &hello.signature).is_ok(), "{name}");
        let replayed = Receipt { request: Uuid::now_v7(), ..receipt };
        assert!(
            replayed.verify(&clinic.state.keys.signing.verifying_key(), &hello.signature).is_err(),
            "{name}: bound to the request"
        );

        // An advocate marked inactive: their laptop is refused after its signature is checked.
        assert!(clinic.state.store.set_staff_active("ISA01", false).unwrap());
        let (status, body) = call(&clinic, silent.signed(PATH_HELLO, b"{}".to_vec())).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::FORBIDDEN, "staff_inactive"), "{name}");
        let (status, body) = call(&clinic, post(PATH_ENROL, Device::new(8, "ISA01").enrol_request("fourth"))).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::FORBIDDEN, "staff_inactive"), "{name}");
    }
}

/// An op on a record of a case, as a laptop would log it.
fn record_op(
    device: &Device,
    seq: u64,
    kind: &str,
    record: u128,
    case: u128,
    action: OpAction,
    new: serde_json::Value,
) -> WireOp {
    let (record_id, case_id) = (Uuid::from_u128(record), Uuid::from_u128(case));
    // An update carries only what it changes; a create, the whole record.
    let new = if action == OpAction::Create { whole(kind, record_id, case_id, new) } else { new };
    let changes = serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({ "new": new })).unwrap();
    WireOp { record_id, case_id: Some(case_id), action, changes, ..device.op(seq, case, kind, serde_json::json!({})) }
}

/// A whole record of `kind` as a laptop writes one, with `more` laid over it:
/// the clinic judges a new record's content by the domain rules, so the
/// story's ops are ones a laptop could have made unless a test says otherwise.
fn whole(kind: &str, record: Uuid, case: Uuid, more: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let mut doc = match kind {
        "case" => json!({
            "id": record, "reference": format!("T-{}", record.as_u128()), "status": "open", "opened_on": "2026-11-20",
            "referral": {"received_on": "2026-11-20", "source": "police", "reason": "Referred by the police", "consent_recorded": true},
        }),
        "victim" => json!({"id": record, "case_id": case, "name": "Test Person (TEST)", "safe_contact": {}}),
        "incident" => json!({
            "id": record, "case_id": case, "occurred_at": "2026-11-20T08:00:00.000000Z",
            "recorded_at": "2026-11-20T09:00:00.000000Z", "recorded_by": "ISA01", "account": "Waited outside",
            "channel": "in_person", "behaviours": ["loitering"],
        }),
        "contact" => json!({
            "id": record, "case_id": case, "at": "2026-11-20T09:00:00.000000Z", "method": "phone",
            "with_victim": true, "summary": "Checked in",
        }),
        _ => json!({"id": record, "case_id": case}),
    };
    if let (Some(doc), serde_json::Value::Object(more)) = (doc.as_object_mut(), more) {
        doc.extend(more);
    }
    doc
}

#[tokio::test]
async fn every_authority_rule_is_enforced_in_every_store_and_a_refusal_blocks_nothing() {
    use serde_json::json;
    for (name, clinic) in stores() {
        let (a, a2, c) = (Device::new(1, "ISA01"), Device::new(2, "ISA01"), Device::new(3, "ISA02"));
        for (device, token) in [(&a, TOKEN), (&a2, "second"), (&c, "third")] {
            assert_eq!(call(&clinic, post(PATH_ENROL, device.enrol_request(token))).await.0, StatusCode::OK, "{name}");
        }
        let clinic = &clinic;
        let push = |device: &Device, ops: Vec<WireOp>| {
            let request = device.pushed(device.batch(clinic, &ops));
            async move {
                let (status, body) = call(clinic, request).await;
                assert_eq!(status, StatusCode::OK, "{}", code_of(&body));
                serde_json::from_slice::<PushResponse>(&body).unwrap()
            }
        };
        // A opens two cases and a victim record.
        let setup = vec![
            a.op(1, 10, "case", json!({"advocate": "ISA01"})),
            a.op(2, 11, "case", json!({"advocate": "ISA01"})),
            record_op(&a, 3, "victim", 20, 10, OpAction::Create, json!({"name": "x"})),
        ];
        assert!(push(&a, setup).await.refused.is_empty(), "{name}");

        // C (ISA02) writes into ISA01's case, then forges ISA01 as the actor.
        let intrusion = record_op(&c, 1, "incident", 30, 10, OpAction::Create, json!({}));
        let forged =
            WireOp { actor: "ISA01".into(), ..record_op(&c, 2, "incident", 31, 10, OpAction::Create, json!({})) };
        let reply = push(&c, vec![intrusion, forged]).await;
        let codes: Vec<OpRefusal> = reply.refused.iter().map(|r| r.code.clone()).collect();
        assert_eq!(codes, vec![OpRefusal::NotYourCase, OpRefusal::ActorMismatch], "{name}");
        assert_eq!(reply.acked_through, 2, "{name}: refused ops are kept, so the slots count as held");

        // A's own hostile ops: a record moved to another case, a takeover, a panel review, a clock far ahead.
        let far_ahead = WireOp {
            hlc: format!("{:015}-{:010}-{}", 1_895_000_000_000u64, 0, a.id),
            ..record_op(&a, 7, "incident", 32, 10, OpAction::Create, json!({}))
        };
        let hostile = vec![
            record_op(&a, 4, "victim", 20, 11, OpAction::Update, json!({"name": "y"})),
            a.op(5, 10, "case", json!({"advocate": "ISA02"})),
            record_op(&a, 6, "clinic_review", 40, 10, OpAction::Create, json!({})),
            far_ahead,
            // An honest op after them all: accepted, its clock not judged against the refused one.
            record_op(&a, 8, "incident", 33, 10, OpAction::Create, json!({})),
        ];
        let reply = push(&a, hostile.clone()).await;
        let refused: Vec<(u64, OpRefusal)> = reply.refused.iter().map(|r| (r.seq, r.code.clone())).collect();
        let expected = vec![
            (4, OpRefusal::CaseMismatch),
            (5, OpRefusal::ClinicOwned),
            (6, OpRefusal::ClinicOwned),
            (7, OpRefusal::HlcAhead),
        ];
        assert_eq!(refused, expected, "{name}");
        assert_eq!((reply.acked_through, reply.acked_op), (8, Some(hostile[4].op_id)), "{name}");
        // Sent again (a lost reply): answered the same way, stored once.
        let again = push(&a, hostile).await;
        assert_eq!(again.refused.iter().map(|r| (r.seq, r.code.clone())).collect::<Vec<_>>(), expected, "{name}");
        let stats = clinic.state.store.stats().unwrap();
        assert_eq!((stats.ops, stats.refused, stats.quarantined), (4, 6, 0), "{name}");

        // The other laptops see only what was accepted: A's second laptop gets A's four good ops, C gets nothing of ISA01's.
        let pull = |device: &Device| {
            device.signed(PATH_PULL, serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap())
        };
        let opened = |body: Vec<u8>, device: &Device| {
            let batch = decode(&body, &Limits::default()).unwrap();
            open(&batch, &clinic.state.keys.signing.verifying_key(), &device.keys.sealing, &Limits::default()).unwrap()
        };
        let to_a2 = opened(call(clinic, pull(&a2)).await.1, &a2);
        assert_eq!(to_a2.ops.iter().map(|o| o.seq).collect::<Vec<_>>(), vec![1, 2, 3, 8], "{name}");
        let to_c = opened(call(clinic, pull(&c)).await.1, &c);
        assert!(to_c.ops.is_empty(), "{name}");
        assert_eq!(
            clinic.state.store.case_advocate(Uuid::from_u128(10)).unwrap().as_deref(),
            Some("ISA01"),
            "{name}: no takeover"
        );
    }
}

#[tokio::test]
async fn a_record_that_breaks_the_domain_rules_is_refused_by_kind_and_field_and_never_relayed() {
    use serde_json::json;
    for (name, clinic) in stores() {
        let (a, a2) = (Device::new(1, "ISA01"), Device::new(2, "ISA01"));
        for (device, token) in [(&a, TOKEN), (&a2, "second")] {
            assert_eq!(call(&clinic, post(PATH_ENROL, device.enrol_request(token))).await.0, StatusCode::OK, "{name}");
        }
        let victim = 20;
        let ops = vec![
            a.op(1, 10, "case", json!({"advocate": "ISA01"})),
            record_op(&a, 2, "victim", victim, 10, OpAction::Create, json!({})),
            // Hand-made: a diary entry with nothing in it, a wrongly typed edit, a field no record has.
            record_op(&a, 3, "incident", 30, 10, OpAction::Create, json!({"account": "  "})),
            record_op(&a, 4, "victim", victim, 10, OpAction::Update, json!({"interpreter_needed": "yes"})),
            record_op(&a, 5, "victim", victim, 10, OpAction::Update, json!({"Jane Demo, 1 Demo Street": "home"})),
            // An honest edit after them: the refusals hold nothing up.
            record_op(&a, 6, "victim", victim, 10, OpAction::Update, json!({"preferred_name": "Sam"})),
        ];
        let reply = push(&clinic, &a, &ops).await;
        let refused: Vec<(u64, String)> = reply.refused.iter().map(|r| (r.seq, r.code.as_str().to_owned())).collect();
        assert_eq!(
            refused,
            vec![
                (3, "invalid__incident__account".to_owned()),
                (4, "invalid__victim__interpreter_needed".to_owned()),
                (5, "invalid__victim__unknown_field".to_owned()),
            ],
            "{name}: each refusal names the kind and the field"
        );
        assert!(
            reply
                .refused
                .iter()
                .all(|r| ["demo", "jane", "street", "yes", "home"].iter().all(|v| !r.code.as_str().contains(v))),
            "{name}: never the value"
        );
        assert_eq!((reply.acked_through, reply.acked_op), (6, Some(ops[5].op_id)), "{name}");
        // The second laptop of the same advocate pulls only what the clinic accepted.
        assert_eq!(pulled_seqs(&clinic, &a2).await, vec![1, 2, 6], "{name}");
    }
}

/// The sequence numbers of what `device` pulls from the start of the feed.
async fn pulled_seqs(clinic: &Clinic, device: &Device) -> Vec<u64> {
    let request = device.signed(PATH_PULL, serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap());
    let batch = decode(&call(clinic, request).await.1, &Limits::default()).unwrap();
    let opened =
        open(&batch, &clinic.state.keys.signing.verifying_key(), &device.keys.sealing, &Limits::default()).unwrap();
    opened.ops.iter().map(|o| o.seq).collect()
}

#[tokio::test]
async fn a_change_from_a_newer_waymark_is_held_at_the_clinic_until_an_updated_clinic_lets_it_in() {
    // Why: a clinic that relayed content it cannot read would pass it to
    // laptops that cannot read it either; one that dropped it would lose it.
    use serde_json::json;
    let newer = waymark_protocol::SCHEMA_VERSION + 1;
    for (name, clinic) in stores() {
        let (a, a2) = (Device::new(1, "ISA01"), Device::new(2, "ISA01"));
        for (device, token) in [(&a, TOKEN), (&a2, "second")] {
            assert_eq!(call(&clinic, post(PATH_ENROL, device.enrol_request(token))).await.0, StatusCode::OK, "{name}");
        }
        let from_newer =
            WireOp { schema_version: newer, ..record_op(&a, 2, "victim", 20, 10, OpAction::Create, json!({})) };
        let ops = vec![a.op(1, 10, "case", json!({"advocate": "ISA01"})), from_newer.clone()];
        let reply = push(&clinic, &a, &ops).await;
        assert_eq!(
            reply.refused.iter().map(|r| (r.seq, r.code.clone())).collect::<Vec<_>>(),
            vec![(2, OpRefusal::NewerSchema)],
            "{name}"
        );
        assert_eq!(reply.acked_through, 2, "{name}: held, so the laptop may let it go");
        let store = &clinic.state.store;
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(pulled_seqs(&clinic, &a2).await, vec![1], "{name}: not relayed");
        // A laptop revoked meanwhile (lost, say) gets nothing let in from it later.
        let lost = Device::new(3, "ISA01");
        assert_eq!(call(&clinic, post(PATH_ENROL, lost.enrol_request("fourth"))).await.0, StatusCode::OK, "{name}");
        let from_lost =
            WireOp { schema_version: newer, ..record_op(&lost, 1, "contact", 50, 10, OpAction::Create, json!({})) };
        assert_eq!(push(&clinic, &lost, &[from_lost]).await.refused.len(), 1, "{name}");
        clinic.state.store.revoke(lost.id, Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap()).unwrap();
        // The same clinic starting again lets in nothing it still cannot read.
        assert_eq!(store.rejudge_held(waymark_protocol::SCHEMA_VERSION, &clinic.state.service, now).unwrap(), 0);
        // An updated clinic reads it, judges it again and relays it, once.
        assert_eq!(store.rejudge_held(newer, &clinic.state.service, now).unwrap(), 1, "{name}");
        assert_eq!(store.rejudge_held(newer, &clinic.state.service, now).unwrap(), 0, "{name}");
        assert_eq!(pulled_seqs(&clinic, &a2).await, vec![1, 2], "{name}");
        // Sent again (a lost reply), it is a duplicate, not a second copy.
        let again = push(&clinic, &a, &[from_newer]).await;
        assert!(again.refused.is_empty() && again.quarantined.is_empty(), "{name}: {again:?}");
        assert_eq!(store.stats().unwrap().ops, 2, "{name}");
    }
}

/// A request body that sends a little and then never finishes: a stalled upload.
struct Stalled(bool);

impl axum::body::HttpBody for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.0 {
            return std::task::Poll::Pending;
        }
        self.0 = true;
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(axum::body::Bytes::from_static(b"{\"after\": 0")))))
    }
}

#[tokio::test]
async fn abuse_is_refused_and_an_honest_laptop_is_served_meanwhile() {
    for (name, clinic) in stores() {
        let (a, b) = (Device::new(1, "ISA01"), Device::new(2, "ISA01"));
        assert_eq!(call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await.0, StatusCode::OK);
        assert_eq!(call(&clinic, post(PATH_ENROL, b.enrol_request("second"))).await.0, StatusCode::OK);

        // Oversized bodies, on an unauthenticated route and on push, are refused as JSON like any refusal.
        let (status, body) = call(&clinic, post(PATH_ENROL, vec![b' '; 64 * 1024])).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"), "{name}");
        let (status, body) = call(&clinic, a.signed(PATH_PUSH, vec![0u8; 300 * 1024])).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"), "{name}");
        // A push from no known sender is refused from its headers, before its body is read: this one never sends it.
        let unsigned = Request::post(PATH_PUSH).body(Body::new(Stalled(false))).unwrap();
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(2), router(clinic.state.clone()).oneshot(unsigned))
                .await;
        let response = answered.expect("answered without the body").unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(code_of(&response.into_body().collect().await.unwrap().to_bytes()), "unsigned", "{name}");
        let stranger = Device::new(66, "ISA01");
        let claim = waymark_protocol::auth::sign_push(
            stranger.id,
            Uuid::now_v7(),
            b"",
            Utc.with_ymd_and_hms(2026, 11, 22, 11, 59, 0).unwrap(),
            &stranger.keys.signing,
        );
        let unknown = Request::post(PATH_PUSH)
            .header(CLAIM_HEADER, claim.0)
            .header(SIGNATURE_HEADER, claim.1)
            .body(Body::new(Stalled(false)))
            .unwrap();
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(2), router(clinic.state.clone()).oneshot(unknown))
                .await;
        assert_eq!(answered.expect("answered without the body").unwrap().status(), StatusCode::UNAUTHORIZED, "{name}");

        // A signed call dated two days before the clinic's clock: refused by its age.
        let old = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let (status, body) = call(&clinic, a.signed_at(PATH_HELLO, b"{}".to_vec(), old)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "stale_request"), "{name}");

        // Twenty stalled uploads hold connections open; an honest laptop syncs meanwhile.
        let router = router(clinic.state.clone());
        let stalled: Vec<_> = (0..20)
            .map(|_| {
                let request = Request::post(PATH_PULL).body(Body::new(Stalled(false))).unwrap();
                tokio::spawn(router.clone().oneshot(request))
            })
            .collect();
        let honest = [a.op(1, 10, "case", serde_json::json!({"advocate": "ISA01"}))];
        assert_eq!(call(&clinic, a.pushed(a.batch(&clinic, &honest))).await.0, StatusCode::OK, "{name}");
        assert_eq!(call(&clinic, b.signed(PATH_HELLO, b"{}".to_vec())).await.0, StatusCode::OK, "{name}");
        let pull = serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap();
        assert_eq!(call(&clinic, b.signed(PATH_PULL, pull)).await.0, StatusCode::OK, "{name}");
        assert!(
            stalled.iter().all(|s| !s.is_finished()),
            "{name}: the honest laptop was served while the uploads stalled"
        );
        // Each stalled upload is ended at the deadline, with a code.
        for task in stalled {
            let response = task.await.unwrap().unwrap();
            assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT, "{name}");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(code_of(&body), "timeout", "{name}");
        }

        // Request and batch ids older than twice the window are forgotten; claims that old are refused anyway.
        let later = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        assert!(
            clinic.state.store.prune(later).unwrap() >= 3,
            "{name}: the ids above were recorded and are now forgotten"
        );
        assert_eq!(clinic.state.store.prune(later).unwrap(), 0, "{name}");
    }
}

async fn push(clinic: &Clinic, device: &Device, ops: &[WireOp]) -> PushResponse {
    let (status, body) = call(clinic, device.pushed(device.batch(clinic, ops))).await;
    assert_eq!(status, StatusCode::OK, "{}", code_of(&body));
    serde_json::from_slice(&body).unwrap()
}

/// One of `from`'s ops as a laptop that rejoined as `to` sends it: the same change, renumbered.
fn renumbered(op: &WireOp, to: &Device, seq: u64) -> WireOp {
    WireOp { origin: to.id, seq, ..op.clone() }
}

#[tokio::test]
async fn a_rejoined_laptop_is_recognised_by_op_id_and_meaning() {
    // Why: a laptop restored from a backup enrols as a new device and sends
    // again what the clinic may already hold; storing it twice would double
    // every change on every laptop, and refusing it would strand the new ones.
    for (name, clinic) in stores() {
        let (earlier, rejoined, other) = (Device::new(1, "ISA01"), Device::new(3, "ISA01"), Device::new(2, "ISA02"));
        call(&clinic, post(PATH_ENROL, earlier.enrol_request(TOKEN))).await;
        call(&clinic, post(PATH_ENROL, rejoined.enrol_request("fourth"))).await;
        call(&clinic, post(PATH_ENROL, other.enrol_request("third"))).await;
        let ops = vec![
            earlier.op(1, 10, "case", serde_json::json!({"advocate": "ISA01", "reference": "C1"})),
            record_op(
                &earlier,
                2,
                "case",
                10,
                10,
                OpAction::Update,
                serde_json::json!({"persistently_targeted": true}),
            ),
        ];
        push(&clinic, &earlier, &ops).await;

        // The same two changes under the new device's numbers (their clocks
        // still name the earlier device), then one it made since.
        let again = vec![
            renumbered(&ops[0], &rejoined, 1),
            renumbered(&ops[1], &rejoined, 2),
            record_op(&rejoined, 3, "case", 10, 10, OpAction::Update, serde_json::json!({"court_cases": ["T1"]})),
        ];
        let reply = push(&clinic, &rejoined, &again).await;
        assert_eq!(
            (reply.acked_through, reply.acked_op, reply.quarantined.len(), reply.refused.len()),
            (3, Some(again[2].op_id), 0, 0),
            "{name}"
        );
        let stats = clinic.state.store.stats().unwrap();
        assert_eq!(
            (stats.ops, stats.recognised, stats.quarantined),
            (3, 2, 0),
            "{name}: each change is in the feed once"
        );
        assert_eq!(
            clinic.state.store.op_id_at(rejoined.id, 1).unwrap(),
            Some(ops[0].op_id),
            "{name}: the slot names the op it holds"
        );
        // Sent again, it is acknowledged again and changes nothing.
        assert_eq!(push(&clinic, &rejoined, &again).await.acked_through, 3, "{name}");
        assert_eq!(clinic.state.store.stats().unwrap().ops, 3, "{name}");

        // The same id with another meaning is not the same change.
        let altered = WireOp {
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"status": "closed"}}),
            )
            .unwrap(),
            ..renumbered(&ops[1], &rejoined, 4)
        };
        assert_eq!(push(&clinic, &rejoined, &[altered]).await.quarantined, vec![4], "{name}");
        // Another advocate's laptop cannot claim ISA01's changes as its own.
        assert_eq!(push(&clinic, &other, &[renumbered(&ops[0], &other, 1)]).await.quarantined, vec![1], "{name}");
        assert_eq!(clinic.state.store.stats().unwrap().recognised, 2, "{name}");
    }
}

#[tokio::test]
async fn an_administrator_releases_or_discards_a_quarantined_change() {
    use waymark_clinic::authoring::{discard_quarantined, release_quarantined};
    use waymark_clinic::store::QuarantineDecision;
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
    for (name, clinic) in stores() {
        let store = clinic.state.store.as_ref();
        let admin = StaffMember {
            code: "ADM1".into(),
            name: "Admin".into(),
            role: StaffRole::Administrator,
            active: true,
            added_at: now,
            agency: None,
        };
        store.add_staff(&admin).unwrap();
        let a = Device::new(1, "ISA01");
        call(&clinic, post(PATH_ENROL, a.enrol_request(TOKEN))).await;
        let ops = vec![
            a.op(1, 10, "case", serde_json::json!({"advocate": "ISA01", "reference": "C1"})),
            a.edit(2, 10, "case", serde_json::json!({"status": "open"})),
        ];
        push(&clinic, &a, &ops).await;
        // A change from an older copy of the laptop, in a slot the clinic already holds; the same op id with other content; a change only the clinic may make.
        let stranded = WireOp {
            op_id: Uuid::from_u128(0xABC),
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"status": "closed"}}),
            )
            .unwrap(),
            ..a.edit(2, 10, "case", serde_json::json!({}))
        };
        let clash = WireOp {
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"reference": "C9"}}),
            )
            .unwrap(),
            ..ops[0].clone()
        };
        let takeover = WireOp {
            op_id: Uuid::from_u128(0xDEF),
            action: OpAction::Update,
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(
                serde_json::json!({"new": {"advocate": "ISA02"}}),
            )
            .unwrap(),
            ..a.edit(1, 10, "case", serde_json::json!({}))
        };
        assert_eq!(push(&clinic, &a, std::slice::from_ref(&stranded)).await.quarantined, vec![2], "{name}");
        assert_eq!(push(&clinic, &a, &[clash]).await.quarantined, vec![1], "{name}");
        assert_eq!(push(&clinic, &a, &[takeover]).await.quarantined, vec![1], "{name}");
        let list = store.quarantine_list().unwrap();
        assert_eq!(
            list.iter().map(|q| (q.id, q.seq, q.id_taken, q.decision)).collect::<Vec<_>>(),
            vec![(1, 2, false, None), (2, 1, true, None), (3, 1, false, None)],
            "{name}"
        );

        let clinic_id = clinic.state.clinic_id;
        let refused = |r: Result<WireOp, waymark_clinic::ClinicError>| r.unwrap_err().code();
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 1, "ISA01", "checked", now)),
            ErrorCode::BadRequest,
            "{name}: advocates do not decide"
        );
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 1, "NOBODY", "checked", now)),
            ErrorCode::UnknownStaff,
            "{name}"
        );
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 1, "ADM1", "  ", now)),
            ErrorCode::BadRequest,
            "{name}: a reason is required"
        );
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 2, "ADM1", "checked", now)),
            ErrorCode::BadRequest,
            "{name}: its id is taken"
        );
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 3, "ADM1", "checked", now)),
            ErrorCode::ReleaseRefused,
            "{name}: still judged by the rules"
        );
        assert_eq!(store.stats().unwrap().ops, 2, "{name}: nothing refused reached the feed");

        let released = release_quarantined(
            store,
            &clinic.state.service,
            clinic_id,
            1,
            "ADM1",
            "made on the restored copy; checked with ISA01",
            now,
        )
        .unwrap();
        assert_eq!(
            (released.op_id, released.origin, released.meaning_hash()),
            (stranded.op_id, clinic_id, stranded.meaning_hash()),
            "{name}"
        );
        assert_eq!(store.stats().unwrap().ops, 3, "{name}");
        assert_eq!(
            refused(release_quarantined(store, &clinic.state.service, clinic_id, 1, "ADM1", "again", now)),
            ErrorCode::NotQuarantined,
            "{name}: decided once"
        );
        discard_quarantined(store, &clinic.state.service, 2, "ADM1", "the reference the clinic holds is right", now)
            .unwrap();
        // The laptops of the case's advocate receive the released change.
        let b = Device::new(5, "ISA01");
        call(&clinic, post(PATH_ENROL, b.enrol_request("second"))).await;
        let request = serde_json::to_vec(&PullRequest { after: 0, max_ops: 100 }).unwrap();
        let batch = decode(&call(&clinic, b.signed(PATH_PULL, request)).await.1, &Limits::default()).unwrap();
        let pulled =
            open(&batch, &clinic.state.keys.signing.verifying_key(), &b.keys.sealing, &Limits::default()).unwrap().ops;
        assert!(pulled.iter().any(|o| o.op_id == stranded.op_id && o.origin == clinic_id), "{name}");
        // The laptop that made it, rejoined as a new device, sends it again: recognised, not quarantined anew.
        let rejoined = Device::new(7, "ISA01");
        call(&clinic, post(PATH_ENROL, rejoined.enrol_request("fourth"))).await;
        let resent = push(&clinic, &rejoined, &[renumbered(&stranded, &rejoined, 1)]).await;
        assert_eq!((resent.acked_through, resent.quarantined.len()), (1, 0), "{name}");
        assert_eq!(store.stats().unwrap().recognised, 1, "{name}");
        // What the administrator discarded stays out when its laptop, rejoined, sends it again.
        let discarded = store.quarantined_op(2).unwrap().unwrap();
        let again = push(&clinic, &rejoined, &[renumbered(&discarded, &rejoined, 2)]).await;
        assert_eq!(again.quarantined, vec![2], "{name}");

        let decisions: Vec<_> =
            store.quarantine_list().unwrap().iter().map(|q| (q.decision, q.decided_by.clone())).collect();
        assert_eq!(
            decisions[..2],
            [
                (Some(QuarantineDecision::Released), Some("ADM1".into())),
                (Some(QuarantineDecision::Discarded), Some("ADM1".into()))
            ],
            "{name}"
        );
        let audit = store.admin_audit().unwrap();
        assert_eq!(
            audit.iter().map(|e| e.action).collect::<Vec<_>>(),
            [AdminAction::QuarantineReleased, AdminAction::QuarantineDiscarded],
            "{name}"
        );
        let words = ["restored", "checked", "reference", "right", "ISA01"];
        let leaked = |e: &waymark_clinic::store::AdminEvent| {
            let text = format!("{} {} {:?} {}", e.actor, e.action.as_str(), e.target, e.detail);
            words.iter().any(|w| text.contains(w))
        };
        assert!(audit.iter().all(|e| e.actor == "ADM1" && !leaked(e)), "{name}: ids only, never the reason's words");
    }
}

#[tokio::test]
async fn a_device_or_an_address_that_calls_too_often_is_turned_away_for_a_while() {
    // Why: one flooding laptop or address must not starve the others, and
    // enrolment (open to anyone) is the first place a guesser would hammer.
    use axum::extract::ConnectInfo;
    use waymark_clinic::server::{RateLimits, Throttle};
    let (_, mut clinic) = stores().remove(0);
    clinic.state.throttle = Throttle::new(RateLimits { per_address: 8, enrol_per_address: 2, per_device: 3 });
    let from = |ip: [u8; 4], request: Request<Body>| {
        let router =
            router(clinic.state.clone()).layer(axum::Extension(ConnectInfo(std::net::SocketAddr::from((ip, 40000)))));
        async move {
            let response = router.oneshot(request).await.unwrap();
            let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (response.status(), retry_after, response.into_body().collect().await.unwrap().to_bytes().to_vec())
        }
    };
    let (a, b) = (Device::new(1, "ISA01"), Device::new(2, "ISA01"));
    assert_eq!(from([10, 0, 0, 1], post(PATH_ENROL, a.enrol_request(TOKEN))).await.0, StatusCode::OK);
    assert_eq!(from([10, 0, 0, 2], post(PATH_ENROL, b.enrol_request("second"))).await.0, StatusCode::OK);

    // Enrolment: a second wrong guess is answered; the third is turned away, from that address only.
    assert_eq!(from([10, 0, 0, 9], post(PATH_ENROL, a.enrol_request("guess"))).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(from([10, 0, 0, 9], post(PATH_ENROL, a.enrol_request("guess"))).await.0, StatusCode::UNAUTHORIZED);
    let (status, retry_after, body) = from([10, 0, 0, 9], post(PATH_ENROL, a.enrol_request("guess"))).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1), "it says when to come back");
    assert_eq!(from([10, 0, 0, 8], post(PATH_ENROL, a.enrol_request("guess"))).await.0, StatusCode::UNAUTHORIZED);

    // Forged claims naming a's id are refused by their signature and do not use up a's quota.
    let forger = Device { keys: keys(999), ..Device::new(1, "ISA01") };
    for _ in 0..5 {
        assert_eq!(from([10, 0, 3, 1], forger.signed(PATH_HELLO, b"{}".to_vec())).await.0, StatusCode::UNAUTHORIZED);
    }
    // A device: its fourth call in the minute is turned away, wherever it calls from; another device is served.
    for n in 0..3 {
        assert_eq!(from([10, 0, 1, n], a.signed(PATH_HELLO, b"{}".to_vec())).await.0, StatusCode::OK);
    }
    let (status, _, body) = from([10, 0, 1, 9], a.signed(PATH_HELLO, b"{}".to_vec())).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(from([10, 0, 1, 9], b.signed(PATH_HELLO, b"{}".to_vec())).await.0, StatusCode::OK);

    // An address: anything past its quota is turned away before it is read.
    let mut statuses = Vec::new();
    for _ in 0..9 {
        statuses.push(from([10, 0, 2, 1], post("/v1/nothing", vec![])).await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::NOT_FOUND).count(), 8);
    assert_eq!(statuses[8], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_victims_address_in_free_text_is_a_warning_at_the_clinic_never_a_refusal() {
    // Why: a laptop's own warning can be confirmed past, or absent on an old
    // or hostile laptop; the clinic must still see that an address is in text
    // it may print or share, without refusing the change.
    for (name, clinic) in stores() {
        let device = Device::new(1, "ISA01");
        call(&clinic, post(PATH_ENROL, device.enrol_request(TOKEN))).await;
        let victim = serde_json::json!({
            "name": "Test Person", "case_id": Uuid::from_u128(10),
            "address": {"lines": ["14 Larkspur Close", "Hillside"], "postcode": "ZZ99 1AA"},
        });
        let ops = vec![
            device.op(1, 10, "case", serde_json::json!({"advocate": "ISA01", "reference": "C1"})),
            record_op(&device, 2, "victim", 11, 10, OpAction::Create, victim),
            record_op(
                &device,
                3,
                "incident",
                12,
                10,
                OpAction::Create,
                serde_json::json!({"account": "Waited at the corner of larkspur cl"}),
            ),
            record_op(
                &device,
                4,
                "incident",
                13,
                10,
                OpAction::Create,
                serde_json::json!({"account": "Seen in Hillside town centre"}),
            ),
            record_op(
                &device,
                5,
                "contact",
                14,
                10,
                OpAction::Create,
                serde_json::json!({"summary": "Letter to zz991aa"}),
            ),
        ];
        let reply = push(&clinic, &device, &ops).await;
        assert_eq!(
            (reply.acked_through, reply.refused.len(), reply.quarantined.len()),
            (5, 0, 0),
            "{name}: nothing is refused"
        );
        let warnings = clinic.state.store.text_warnings().unwrap();
        let found: Vec<(Uuid, Vec<String>)> = warnings.iter().map(|w| (w.op_id, w.fields.clone())).collect();
        assert_eq!(
            found,
            vec![(ops[2].op_id, vec!["account".to_owned()]), (ops[4].op_id, vec!["summary".to_owned()])],
            "{name}"
        );
        let shown = serde_json::to_string(&warnings).unwrap();
        assert!(
            !shown.to_lowercase().contains("larkspur") && !shown.to_lowercase().contains("zz99"),
            "{name}: ids and field names only"
        );
        // Sent again, the warning is not doubled.
        push(&clinic, &device, &ops).await;
        assert_eq!(clinic.state.store.text_warnings().unwrap().len(), 2, "{name}");
        // She moves to a street an earlier account names: that account is found too.
        let earlier = record_op(
            &device,
            6,
            "incident",
            15,
            10,
            OpAction::Create,
            serde_json::json!({"account": "Drove slowly down Birch Road"}),
        );
        let moved = WireOp {
            hlc: format!("{:015}-{:010}-{}", 1_795_000_000_100u64, 0, device.id),
            ..record_op(
                &device,
                7,
                "victim",
                11,
                10,
                OpAction::Update,
                serde_json::json!({"address": {"lines": ["5 Birch Road"]}}),
            )
        };
        assert_eq!(push(&clinic, &device, std::slice::from_ref(&earlier)).await.acked_through, 6, "{name}");
        assert_eq!(clinic.state.store.text_warnings().unwrap().len(), 2, "{name}: not her address yet");
        assert_eq!(push(&clinic, &device, &[moved]).await.acked_through, 7, "{name}");
        let warnings = clinic.state.store.text_warnings().unwrap();
        assert!(warnings.iter().any(|w| w.op_id == earlier.op_id && w.fields == ["account"]), "{name}: {warnings:?}");
    }
}

#[test]
fn staff_sign_in_with_a_password_and_an_authenticators_code_once_and_slow_down_when_wrong_in_every_store() {
    // Why: the workspace's sign-in is the door to every case at the clinic;
    // each part must hold on every store, and a refusal must never say
    // which part was wrong.
    use secrecy::SecretString;
    use waymark_clinic::signin::{reset_second_factor, set_password, sign_in, SessionPolicy, SignInAttempt};
    use waymark_clinic::ClinicError;
    for (name, clinic) in stores() {
        let store = &*clinic.state.store;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 7).unwrap();
        let coordinator = StaffMember {
            code: "CRD1".into(),
            name: "Coordinator (TEST)".into(),
            role: StaffRole::Coordinator,
            active: true,
            added_at: start,
            agency: None,
        };
        store.add_staff(&coordinator).unwrap();
        let admin = StaffMember { code: "ADM1".into(), role: StaffRole::Administrator, ..coordinator.clone() };
        store.add_staff(&admin).unwrap();
        let password = SecretString::from("lantern orbit marmalade");
        // Only an administrator sets someone's sign-in, and only by the one passphrase rule.
        for (by, typed) in [("CRD1", &password), ("NOBODY", &password), ("ADM1", &SecretString::from("password1234"))] {
            assert!(set_password(store, "CRD1", by, typed, start, &mut rng).is_err(), "{name}: {by}");
        }
        assert!(reset_second_factor(store, "CRD1", "CRD1", start, &mut rng).is_err(), "{name}");
        set_password(store, "CRD1", "ADM1", &password, start, &mut rng).unwrap();
        let secret = reset_second_factor(store, "CRD1", "ADM1", start, &mut rng).unwrap();
        let policy = SessionPolicy::default();
        let attempt = |password: &SecretString, code: &str, address: &str, at| {
            sign_in(
                store,
                &SignInAttempt { staff_code: "CRD1", password, totp_code: code, address },
                at,
                &mut rand_chacha::ChaCha20Rng::seed_from_u64(at.timestamp().unsigned_abs()),
            )
        };

        // The password and the phone's code sign in; the session is the server's.
        let code = oathtool_code(secret.base32().as_str(), start);
        let signed = attempt(&password, &code, "10.0.0.1", start).unwrap();
        let later = start + chrono::Duration::minutes(5);
        let live = store.session(&signed.token.stored_id(), later, policy).unwrap().expect("signed in");
        assert_eq!((live.session.staff_code.as_str(), live.csrf.as_str()), ("CRD1", signed.csrf.as_str()), "{name}");
        assert!(store.session(signed.token.cookie_value(), later, policy).unwrap().is_none(), "{name}: by hash only");

        // The same code again (read over a shoulder) does not sign in.
        let replay = attempt(&password, &code, "10.0.0.2", start + chrono::Duration::seconds(5));
        assert!(matches!(replay, Err(ClinicError::SignInRefused)), "{name}: {replay:?}");
        // A wrong password with a good code is refused in the same words.
        let next = start + chrono::Duration::seconds(31);
        let wrong = attempt(
            &SecretString::from("lantern orbit marmalad"),
            &oathtool_code(secret.base32().as_str(), next),
            "10.0.0.2",
            next,
        );
        assert_eq!(wrong.unwrap_err().to_string(), ClinicError::SignInRefused.to_string(), "{name}");
        // A third failure for the account makes the next attempt wait, even with the right answers.
        let third = attempt(&SecretString::from("guess guess guess"), "000000", "10.0.0.3", next);
        assert!(matches!(third, Err(ClinicError::SignInRefused)), "{name}");
        let slowed = attempt(&password, &oathtool_code(secret.base32().as_str(), next), "10.0.0.4", next);
        assert!(matches!(slowed, Err(ClinicError::RateLimited { retry_after_secs: 1..=2 })), "{name}: {slowed:?}");
        // After the wait, the right answers work again and clear the count.
        let after = next + chrono::Duration::seconds(31);
        let again = attempt(&password, &oathtool_code(secret.base32().as_str(), after), "10.0.0.4", after).unwrap();
        let typo = attempt(&SecretString::from("not it at all"), "000000", "10.0.0.5", after);
        assert!(matches!(typo, Err(ClinicError::SignInRefused)), "{name}: the count started again: {typo:?}");

        // An address guessing at codes nobody has is slowed as a real account's guesser is,
        // and the code itself is held back from a fresh address just as a real one is:
        // the delay does not tell which codes exist.
        let nobody = |address: &str| {
            sign_in(
                store,
                &SignInAttempt { staff_code: "NOBODY", password: &password, totp_code: "123456", address },
                after,
                &mut rand_chacha::ChaCha20Rng::seed_from_u64(3),
            )
        };
        for n in 0..3 {
            assert!(matches!(nobody("192.0.2.9"), Err(ClinicError::SignInRefused)), "{name}: {n}");
        }
        assert!(matches!(nobody("198.51.100.1"), Err(ClinicError::RateLimited { .. })), "{name}");
        let from_there = attempt(
            &password,
            &oathtool_code(secret.base32().as_str(), after + chrono::Duration::seconds(30)),
            "192.0.2.9",
            after,
        );
        assert!(matches!(from_there, Err(ClinicError::RateLimited { .. })), "{name}: {from_there:?}");

        // Signing out ends the session; an administrator's reset ends every other.
        store.end_session(&signed.token.stored_id()).unwrap();
        assert!(store.session(&signed.token.stored_id(), after, policy).unwrap().is_none(), "{name}");
        assert!(store.session(&again.token.stored_id(), after, policy).unwrap().is_some(), "{name}");
        reset_second_factor(store, "CRD1", "ADM1", after, &mut rng).unwrap();
        assert!(store.session(&again.token.stored_id(), after, policy).unwrap().is_none(), "{name}: reset ends it");
        // An idle session ends on its own.
        let idle = after + policy.idle;
        assert!(store.session(&again.token.stored_id(), idle, policy).unwrap().is_none(), "{name}");

        // A sign-in checked against a password an administrator has since reset makes no session.
        let checked = store.credentials("CRD1").unwrap().unwrap();
        set_password(store, "CRD1", "ADM1", &SecretString::from("copper kettle meadow"), idle, &mut rng).unwrap();
        let (account_key, address_key) = waymark_clinic::signin::failure_keys("CRD1", "10.0.0.6");
        let stale = waymark_clinic::store::GoodSignIn {
            staff_code: "CRD1",
            account_key: &account_key,
            address_key: &address_key,
            password: checked.password.as_deref().unwrap(),
            totp_secret: checked.totp_secret.as_deref().unwrap(),
            totp_step: u64::MAX / 2,
            session_id: "stale",
            csrf: "stale",
        };
        assert!(!store.sign_in_succeeded(&stale, idle).unwrap(), "{name}");
        assert!(store.session("stale", idle, policy).unwrap().is_none(), "{name}");

        // Deactivating someone ends their sessions for good, even if they are reactivated.
        let fresh = idle + chrono::Duration::minutes(1);
        let secret = reset_second_factor(store, "CRD1", "ADM1", fresh, &mut rng).unwrap();
        let new_password = SecretString::from("copper kettle meadow");
        let signed =
            attempt(&new_password, &oathtool_code(secret.base32().as_str(), fresh), "10.0.0.7", fresh).unwrap();
        store.set_staff_active("CRD1", false).unwrap();
        store.set_staff_active("CRD1", true).unwrap();
        assert!(store.session(&signed.token.stored_id(), fresh, policy).unwrap().is_none(), "{name}");

        // Each reset is audited by who did it and to whom: never the password or the secret.
        let audit = store.admin_audit().unwrap();
        let resets: Vec<(AdminAction, &str, Option<&str>)> =
            audit.iter().map(|e| (e.action, e.actor.as_str(), e.target.as_deref())).collect();
        assert_eq!(
            resets,
            vec![
                (AdminAction::PasswordSet, "ADM1", Some("CRD1")),
                (AdminAction::SecondFactorReset, "ADM1", Some("CRD1")),
                (AdminAction::SecondFactorReset, "ADM1", Some("CRD1")),
                (AdminAction::PasswordSet, "ADM1", Some("CRD1")),
                (AdminAction::SecondFactorReset, "ADM1", Some("CRD1")),
            ],
            "{name}"
        );
        assert!(audit.iter().all(|e| e.detail == serde_json::json!({})), "{name}");
    }
}
