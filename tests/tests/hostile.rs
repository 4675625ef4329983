//! A clinic process and real laptops, attacked as an outsider, an
//! ex-assignee and a machine in the middle would attack them. Each attack is
//! refused with its own code and changes nothing on the other laptops.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use waymark_domain::codes::ErrorCode;
use waymark_domain::{Case, Victim};
use waymark_protocol::enrol::EnrolmentCode;
use waymark_protocol::messages::{ErrorBody, HelloResponse, PushResponse};
use waymark_protocol::{OpAction, OpRefusal, WireOp};
use waymark_scenarios::clinic::ClinicProcess;
use waymark_scenarios::kit::*;
use waymark_sync::{sync_once, SyncError};
use waymark_vault::sync::ProblemCode;
use waymark_vault::Vault;

/// A certificate and key as PEM files, as a CA-issued pair sits on a server.
struct Certificate {
    dir: tempfile::TempDir,
    fingerprint: String,
    cert_pem: String,
    key_pem: String,
}

impl Certificate {
    fn new() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let fingerprint = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(certified.cert.der()))
        };
        let dir = tempfile::tempdir().unwrap();
        let (cert_pem, key_pem) = (certified.cert.pem(), certified.signing_key.serialize_pem());
        std::fs::write(dir.path().join("chain.pem"), &cert_pem).unwrap();
        std::fs::write(dir.path().join("key.pem"), &key_pem).unwrap();
        Certificate { dir, fingerprint, cert_pem, key_pem }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let cert = rustls::pki_types::CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).unwrap();
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap()
    }
}

/// A clinic serving the PEM pair, and codes whose pin is that certificate.
fn clinic_with(certificate: &Certificate) -> ClinicProcess {
    let (cert, key) = (certificate.path("chain.pem"), certificate.path("key.pem"));
    ClinicProcess::init(Path::new(env!("CARGO_BIN_EXE_clinic")), &["--tls-cert", &cert, "--tls-key", &key])
}

fn code_for(clinic: &ClinicProcess, certificate: &Certificate, advocate: &str) -> EnrolmentCode {
    let mut code = EnrolmentCode::parse(&clinic.code(&clinic.url(), advocate)).unwrap();
    code.fingerprint = Some(certificate.fingerprint.clone());
    code
}

fn enrol_with(vault: &Mutex<Vault>, clinic: &ClinicProcess, certificate: &Certificate) {
    let advocate = vault.lock().unwrap().actor().to_owned();
    waymark_sync::enrol(vault, &code_for(clinic, certificate, &advocate).to_text()).unwrap();
}

/// An op as the hostile owner of an enrolled laptop would make it: any
/// content, signed with the laptop's real keys.
struct Forger {
    device: Uuid,
    next_seq: u64,
    wall_ms: u64,
}

impl Forger {
    fn of(vault: &Mutex<Vault>) -> Self {
        let v = vault.lock().unwrap();
        let head = v.sync_acked_through().unwrap();
        Forger {
            device: v.device().as_uuid(),
            next_seq: head + 1,
            wall_ms: u64::try_from(v.now().timestamp_millis()).unwrap() + 10,
        }
    }

    fn op(&mut self, kind: &str, record: Uuid, case: Uuid, action: OpAction, new: serde_json::Value) -> WireOp {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.wall_ms += 1;
        WireOp {
            op_id: Uuid::now_v7(),
            origin: self.device,
            seq,
            hlc: format!("{:015}-{:010}-{}", self.wall_ms, 0, self.device),
            made_at: waymark_clinic::system_now(),
            actor: "ISA01".into(),
            kind: kind.into(),
            record_id: record,
            case_id: Some(case),
            action,
            changes: serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({ "new": new })).unwrap(),
            schema_version: waymark_vault::db::schema_version(),
        }
    }
}

#[test]
fn an_outsider_with_someone_elses_code_is_refused_and_the_code_stays_theirs() {
    let certificate = Certificate::new();
    let clinic = clinic_with(&certificate);
    let (dir_x, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The outsider set up a laptop under another staff code and got hold of ISA01's code.
    let outsider = laptop_of(dir_x.path(), "ISA09");
    let code = code_for(&clinic, &certificate, "ISA01");
    let err = waymark_sync::enrol(&outsider, &code.to_text()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AdvocateMismatch, "{err}");
    // With the display copy of the advocate cut out of the code, the clinic refuses it.
    let doctored = EnrolmentCode { advocate: None, ..code.clone() };
    let err = waymark_sync::enrol(&outsider, &doctored.to_text()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AdvocateMismatch, "{err}");
    assert!(outsider.lock().unwrap().sync_link().unwrap().is_none(), "the outsider is not enrolled");
    // The code was not used up: its advocate enrols with it.
    let owner = laptop_of(dir_b.path(), "ISA01");
    waymark_sync::enrol(&owner, &code.to_text()).unwrap();
    assert_eq!(clinic.stats().devices_active, 1);
}

#[test]
fn an_ex_assignee_and_a_hostile_laptop_cannot_write_into_a_caseload_not_theirs() {
    let certificate = Certificate::new();
    let clinic = clinic_with(&certificate);
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (a, b, c) =
        (laptop_of(dirs[0].path(), "ISA01"), laptop_of(dirs[1].path(), "ISA01"), laptop_of(dirs[2].path(), "ISA02"));
    for laptop in [&a, &b, &c] {
        enrol_with(laptop, &clinic, &certificate);
    }
    let moved = open_case(&a, "HOSTILE-MOVED", 2);
    let kept = open_case(&a, "HOSTILE-KEPT", 2);
    sync_once(&a).unwrap();
    clinic.run(&["reassign", "--case", &moved.as_uuid().to_string(), "--to", "ISA02", "--by", "CLN1"]);
    for laptop in [&a, &b, &c] {
        sync_once(laptop).unwrap();
    }
    assert_eq!(c.lock().unwrap().get::<Case>(moved.as_uuid()).unwrap().advocate, "ISA02");
    let (before_b, before_c) = (caseload(&b), caseload(&c));
    let kept_victim = a.lock().unwrap().list_all::<Victim>().unwrap().into_iter().find(|v| v.case_id == kept).unwrap();

    // A's owner, still holding the laptop, signs ops with its real keys.
    let mut forger = Forger::of(&a);
    let ops = vec![
        // Takes the moved case back.
        forger.op("case", moved.as_uuid(), moved.as_uuid(), OpAction::Update, serde_json::json!({"advocate": "ISA01"})),
        // Writes into it after the move.
        forger.op(
            "incident",
            Uuid::now_v7(),
            moved.as_uuid(),
            OpAction::Create,
            serde_json::json!({"account": "written after the move"}),
        ),
        // Records a change as someone else.
        WireOp {
            actor: "ISA02".into(),
            ..forger.op("incident", Uuid::now_v7(), kept.as_uuid(), OpAction::Create, serde_json::json!({}))
        },
        // Aims a victim record at another case.
        forger.op(
            "victim",
            kept_victim.id.as_uuid(),
            moved.as_uuid(),
            OpAction::Update,
            serde_json::json!({"name": "Someone Else"}),
        ),
        // Writes the clinic's own record.
        forger.op(
            "clinic_review",
            Uuid::now_v7(),
            kept.as_uuid(),
            OpAction::Create,
            serde_json::json!({"meeting_on": "2026-11-20"}),
        ),
        // A clock two days ahead, to win every later edit.
        WireOp {
            hlc: format!("{:015}-{:010}-{}", forger.wall_ms + 2 * 86_400_000, 0, forger.device),
            ..forger.op(
                "case",
                kept.as_uuid(),
                kept.as_uuid(),
                OpAction::Update,
                serde_json::json!({"notes": "from the future"}),
            )
        },
    ];
    let honest =
        forger.op("case", kept.as_uuid(), kept.as_uuid(), OpAction::Update, serde_json::json!({"status": "open"}));
    let mut batch = ops.clone();
    batch.push(honest.clone());
    let frame = sealed_batch(&a.lock().unwrap(), &batch);
    let https = waymark_sync::Https::new(&clinic.url(), Some(&certificate.fingerprint)).unwrap();
    let headers = push_headers(&a.lock().unwrap(), &frame);
    let reply: PushResponse =
        serde_json::from_slice(&https.post("/v1/push", &headers, frame, "application/octet-stream").unwrap()).unwrap();
    let codes: Vec<(u64, OpRefusal)> = reply.refused.iter().map(|r| (r.seq, r.code.clone())).collect();
    let expected = [
        OpRefusal::ClinicOwned,
        OpRefusal::NotYourCase,
        OpRefusal::ActorMismatch,
        OpRefusal::CaseMismatch,
        OpRefusal::ClinicOwned,
        OpRefusal::HlcAhead,
    ];
    assert_eq!(codes, ops.iter().map(|o| o.seq).zip(expected).collect::<Vec<_>>());
    assert_eq!(
        (reply.acked_through, reply.acked_op),
        (honest.seq, Some(honest.op_id)),
        "the refusals blocked nothing after them"
    );
    assert_eq!(clinic.stats().refused, 6);

    // The other laptops: C's copy of the moved case and B's caseload are untouched, bar the one honest change.
    sync_once(&b).unwrap();
    sync_once(&c).unwrap();
    assert_eq!(caseload(&c), before_c, "the new advocate's laptop received nothing of it");
    assert_eq!(caseload(&b), before_b, "A's other laptop received nothing but an unchanged status");
    assert_eq!(c.lock().unwrap().get::<Case>(moved.as_uuid()).unwrap().advocate, "ISA02");
    let problems = |v: &Mutex<Vault>| v.lock().unwrap().sync_problems().unwrap().len();
    let codes =
        |v: &Mutex<Vault>| v.lock().unwrap().sync_problems().unwrap().into_iter().map(|p| p.code).collect::<Vec<_>>();
    assert_eq!(
        (problems(&b), problems(&c)),
        (0, 0),
        "nothing hostile reached them to be listed: {:?} {:?}",
        codes(&b),
        codes(&c)
    );
}

/// What the machine in the middle answers.
const FORGE_ACK: u8 = 0;
const FORGE_WIPE: u8 = 1;

/// A server holding the clinic's TLS certificate and key, but not the clinic's signing key.
fn machine_in_the_middle(
    certificate: &Certificate,
    port: u16,
    mode: Arc<AtomicU8>,
    claims: (u64, Uuid),
    enrol_reply: Vec<u8>,
) -> tokio::runtime::Runtime {
    use axum::routing::post;
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let forged_signature = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([7u8; 64])
    };
    let answer = move |mode: &AtomicU8, ok: Vec<u8>| -> axum::response::Response {
        use axum::response::IntoResponse;
        if mode.load(Ordering::SeqCst) == FORGE_WIPE {
            let mut body = ErrorBody::new("revoked", "erase now");
            body.wipe = true;
            body.wipe_signature = Some(forged_signature.clone());
            return (axum::http::StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        }
        ok.into_response()
    };
    let (through, op) = claims;
    let hello = serde_json::to_vec(&HelloResponse {
        acked_through: through,
        acked_op: Some(op),
        feed_head: 0,
        clinic_time: waymark_clinic::system_now(),
        signature: {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode([9u8; 64])
        },
    })
    .unwrap();
    let (m1, m2, a1, a2) = (mode.clone(), mode, answer.clone(), answer);
    let push_body = hello.clone();
    let app = axum::Router::new()
        .route("/v1/hello", post(move || async move { a1(&m1, hello.clone()) }))
        .route("/v1/push", post(move || async move { a2(&m2, push_body.clone()) }))
        .route("/v1/enrol", post(move || async move { enrol_reply.clone() }));
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(certificate.server_config()));
    runtime.spawn(
        async move { axum_server::from_tcp_rustls(listener, tls).unwrap().serve(app.into_make_service()).await },
    );
    runtime
}

#[test]
fn a_machine_in_the_middle_with_the_tls_key_can_neither_drop_changes_nor_wipe_a_laptop() {
    let certificate = Certificate::new();
    let mut clinic = clinic_with(&certificate);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (laptop_of(dir_a.path(), "ISA01"), laptop_of(dir_b.path(), "ISA01"));
    enrol_with(&a, &clinic, &certificate);
    enrol_with(&b, &clinic, &certificate);
    let case = open_case(&a, "MITM-1", 1);
    sync_once(&a).unwrap();
    {
        let mut v = a.lock().unwrap();
        add_incidents(&mut v, case, 2);
    }
    let waiting = a.lock().unwrap().sync_status().unwrap().pending;
    assert_eq!(waiting, 2);
    // It claims the clinic holds all of A's changes, naming the real last op (the strongest forgery there is).
    let last = a.lock().unwrap().outbox_batch(0, 100).unwrap().last().map(|o| (o.seq, o.op_id)).unwrap();

    // The clinic goes away and the attacker answers on its address with its certificate.
    clinic.sigkill();
    let mode = Arc::new(AtomicU8::new(FORGE_ACK));
    let mitm = machine_in_the_middle(&certificate, clinic.port, mode.clone(), last, Vec::new());
    let err = sync_once(&a).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ForgedReceipt, "{err}");
    assert_eq!(
        a.lock().unwrap().sync_status().unwrap().pending,
        waiting,
        "nothing left the outbox on a forged acknowledgement"
    );

    mode.store(FORGE_WIPE, Ordering::SeqCst);
    let err = sync_once(&a).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ForgedWipe, "{err}");
    assert!(!matches!(err, SyncError::Wiped));
    assert!(dir_a.path().join("vault.key").exists() && dir_a.path().join("vault.db").exists(), "the vault is intact");
    let codes: Vec<ProblemCode> = a.lock().unwrap().sync_problems().unwrap().into_iter().map(|p| p.code).collect();
    let told = |code| codes.contains(&ProblemCode::Request(code));
    assert!(told(ErrorCode::ForgedReceipt) && told(ErrorCode::ForgedWipe), "the advocate is told: {codes:?}");
    drop(mitm);

    // The real clinic is back: the changes go, and B receives them.
    clinic.start();
    sync_once(&a).unwrap();
    assert_eq!(a.lock().unwrap().sync_status().unwrap().pending, 0);
    sync_once(&b).unwrap();
    assert_eq!(caseload(&a)["incidents"], caseload(&b)["incidents"]);
    assert_eq!(caseload(&b)["incidents"].as_array().unwrap().len(), 3);
}

#[test]
fn a_machine_in_the_middle_cannot_empty_the_outbox_at_enrolment() {
    // The enrolment reply is the one the clinic does not sign: it must not remove anything.
    let certificate = Certificate::new();
    let mut clinic = clinic_with(&certificate);
    let dir = tempfile::tempdir().unwrap();
    let laptop = laptop_of(dir.path(), "ISA01");
    open_case(&laptop, "MITM-ENROL", 3);
    let waiting = laptop.lock().unwrap().sync_status().unwrap().pending;
    let last = laptop.lock().unwrap().outbox_batch(0, 100).unwrap().last().map(|o| (o.seq, o.op_id)).unwrap();
    let code = code_for(&clinic, &certificate, "ISA01");
    clinic.sigkill();
    let reply = serde_json::to_vec(&waymark_protocol::messages::EnrolResponse {
        clinic_id: code.clinic_id,
        advocate: "ISA01".into(),
        acked_through: last.0,
    })
    .unwrap();
    let mitm = machine_in_the_middle(&certificate, clinic.port, Arc::new(AtomicU8::new(FORGE_ACK)), last, reply);
    waymark_sync::enrol(&laptop, &code.to_text()).unwrap();
    assert_eq!(laptop.lock().unwrap().sync_status().unwrap().pending, waiting, "every change still waits");
    drop(mitm);
}
