//! Two laptops and a clinic, through a fault-injecting proxy: cut uploads,
//! lost replies, delays, a clinic killed with SIGKILL mid-batch, a duplicated
//! and a reordered batch, and an offline bundle. Afterwards every op is at the
//! clinic exactly once, both laptops hold the same caseload, and nothing is
//! waiting. Then a conflict on a safety-critical field, and a revocation.

use age::secrecy::SecretString;
use std::path::Path;
use std::sync::Mutex;
use waymark_domain::{Case, RecordKind};
use waymark_scenarios::clinic::ClinicProcess;
use waymark_scenarios::kit::*;
use waymark_scenarios::proxy::{Fault, FaultProxy};
use waymark_sync::{sync_once, SyncError};
use waymark_vault::sync::Resolution;
use waymark_vault::{Env, Vault};

fn clinic() -> ClinicProcess {
    ClinicProcess::init(Path::new(env!("CARGO_BIN_EXE_clinic")), &[])
}

#[test]
fn two_laptops_converge_through_faults_and_a_clinic_crash() {
    let mut clinic = clinic();
    let proxy = FaultProxy::start(clinic.port);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (laptop(dir_a.path()), laptop(dir_b.path()));
    enrol(&a, &clinic, &proxy.url());
    enrol(&b, &clinic, &proxy.url());

    // Both work offline.
    open_case(&a, "SYNC-A", 700);
    open_case(&b, "SYNC-B", 300);

    // A's upload is cut partway through its first batch: nothing is acknowledged.
    proxy.set(Fault::CutRequestAt(60_000));
    assert!(matches!(sync_once(&a), Err(SyncError::Offline)), "a cut upload is a temporary failure");
    assert_eq!(proxy.cuts(), 1);
    assert_eq!(a.lock().unwrap().sync_acked_through().unwrap(), 0);
    assert_eq!(a.lock().unwrap().sync_status().unwrap().last_error.as_deref(), Some("offline"));

    // B's reply is lost after the clinic stored its batch; the next round learns the acknowledgement.
    proxy.set(Fault::CutResponseAfterUpload(60_000));
    assert!(sync_once(&b).is_err());
    assert_eq!(proxy.cuts(), 2);
    assert_eq!(b.lock().unwrap().sync_acked_through().unwrap(), 0, "the device never heard the acknowledgement");
    assert!(clinic.stats().ops > 0, "but the clinic stored the batch");

    // A slow link still gets there.
    proxy.set(Fault::Delay(std::time::Duration::from_millis(2)));
    sync_once(&a).unwrap();
    proxy.set(Fault::Pass);
    sync_once(&b).unwrap();
    assert_eq!(b.lock().unwrap().sync_status().unwrap().pending, 0);

    // More offline work on A, then the clinic is SIGKILLed while a batch is in flight.
    {
        let mut v = a.lock().unwrap();
        let case = v.resolve_case("SYNC-A").unwrap();
        add_incidents(&mut v, case, 1200);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    proxy.set(Fault::NotifyAt(100_000, tx));
    std::thread::scope(|scope| {
        let pushing = scope.spawn(|| sync_once(&a));
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("an upload was in flight");
        clinic.sigkill();
        assert!(pushing.join().unwrap().is_err(), "the round fails when the clinic dies");
    });
    let before_restart = a.lock().unwrap().sync_acked_through().unwrap();
    clinic.start();
    sync_once(&a).unwrap();
    assert!(a.lock().unwrap().sync_acked_through().unwrap() > before_restart);

    // A duplicated and a reordered batch, sent as the device would seal them.
    {
        let mut v = a.lock().unwrap();
        let case = v.resolve_case("SYNC-A").unwrap();
        add_incidents(&mut v, case, 2);
    }
    let (first, second) = {
        let v = a.lock().unwrap();
        let ops = v.outbox_batch(v.sync_acked_through().unwrap(), 10).unwrap();
        assert_eq!(ops.len(), 2);
        (ops[0].clone(), ops[1].clone())
    };
    // Each send is a fresh batch, as the laptop seals one per attempt.
    let resealed = |op: &waymark_protocol::WireOp| sealed_batch(&a.lock().unwrap(), std::slice::from_ref(op));
    let (first, second) = (resealed(&first), second);
    let https = waymark_sync::Https::new(&proxy.url(), Some(&clinic_fingerprint(&clinic))).unwrap();
    let push = |bytes: &Vec<u8>| {
        let headers = push_headers(&a.lock().unwrap(), bytes);
        https.post("/v1/push", &headers, bytes.clone(), "application/octet-stream")
    };
    let acked_before = a.lock().unwrap().sync_acked_through().unwrap();
    match push(&resealed(&second)) {
        Err(SyncError::Refused { code, status, .. }) => assert_eq!((code.as_str(), status), ("out_of_order", 409)),
        other => panic!("a batch past a hole in the log must be refused whole, got {other:?}"),
    }
    let reply: waymark_protocol::messages::PushResponse = serde_json::from_slice(&push(&first).unwrap()).unwrap();
    assert_eq!(reply.acked_through, acked_before + 1, "the first in order");
    let reply: waymark_protocol::messages::PushResponse =
        serde_json::from_slice(&push(&resealed(&second)).unwrap()).unwrap();
    assert_eq!(reply.acked_through, acked_before + 2, "the second, sent again after the first: both acknowledged");
    match push(&first) {
        Err(SyncError::Refused { code, status, .. }) => assert_eq!((code.as_str(), status), ("replayed", 409)),
        other => panic!("a duplicated batch must be refused as a replay, got {other:?}"),
    }

    // An offline bundle carried by USB stick, then the same ops online: held once.
    {
        let mut v = a.lock().unwrap();
        let case = v.resolve_case("SYNC-A").unwrap();
        add_incidents(&mut v, case, 3);
    }
    let bundle = dir_a.path().join("..").join("bundle.wmsb");
    let (bytes, count) = waymark_sync::export_bundle(&a.lock().unwrap()).unwrap();
    assert!(count >= 3);
    std::fs::write(&bundle, bytes).unwrap();
    clinic.run(&["import", bundle.to_str().unwrap()]);

    // Everyone catches up.
    for _ in 0..2 {
        sync_once(&a).unwrap();
        sync_once(&b).unwrap();
    }
    let stats = clinic.stats();
    let (seq_a, seq_b) = (last_seq(&a), last_seq(&b));
    assert_eq!(stats.ops, seq_a + seq_b, "every op from both laptops is at the clinic exactly once");
    assert_eq!(stats.quarantined, 0);
    for (name, laptop, last) in [("A", &a, seq_a), ("B", &b, seq_b)] {
        let status = laptop.lock().unwrap().sync_status().unwrap();
        assert_eq!((status.pending, status.acked_through), (0, last), "{name}: nothing waiting, all acknowledged");
        assert_eq!((status.open_conflicts, status.problems), (0, 0), "{name}");
    }
    let (load_a, load_b) = (caseload(&a), caseload(&b));
    assert_eq!(load_a["incidents"].as_array().unwrap().len(), 700 + 300 + 1200 + 2 + 3);
    assert_eq!(load_a, load_b, "both laptops hold the same caseload");
    let _ = std::fs::remove_file(bundle);
}

#[test]
fn a_push_of_several_batches_with_two_in_flight_is_acknowledged_whole_in_one_round() {
    // Why: the clinic opens a laptop's next batch while it stores the one
    // before; the later batch must wait its turn at the clinic, not be
    // refused, and the laptop must take the acknowledgements in order. The
    // proxy stalls the first batch partway, so the second arrives first.
    let clinic = clinic();
    let proxy = FaultProxy::start(clinic.port);
    let dir = tempfile::tempdir().unwrap();
    let a = laptop(dir.path());
    enrol(&a, &clinic, &proxy.url());
    open_case(&a, "SYNC-MANY", 2 * waymark_sync::PUSH_BATCH_OPS as usize + 150);
    let sent = last_seq(&a);
    proxy.set(Fault::StallOnceAt(200_000, std::time::Duration::from_secs(3)));
    let report = sync_once(&a).unwrap();
    assert_eq!((report.pushed, report.acked_through, report.refused, report.quarantined), (sent, sent, 0, 0));
    assert_eq!(proxy.cuts(), 1, "the first batch was stalled once, so the second arrived first");
    assert_eq!(report.resent, 0, "one server orders the batches itself; none is refused and sent again");
    let status = a.lock().unwrap().sync_status().unwrap();
    assert_eq!((status.pending, status.problems), (0, 0), "nothing waiting, no problem recorded");
    assert_eq!(clinic.stats().ops, sent, "each op held once");
}

#[test]
fn concurrent_edits_of_risk_level_are_one_conflict_on_both_sides_until_a_person_decides() {
    let clinic = clinic();
    let url = clinic.url();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (laptop(dir_a.path()), laptop(dir_b.path()));
    enrol(&a, &clinic, &url);
    enrol(&b, &clinic, &url);
    let case = open_case(&a, "CONFLICT-1", 1);
    sync_once(&a).unwrap();
    sync_once(&b).unwrap();
    assert_eq!(caseload(&a), caseload(&b), "B received the case");

    // Offline on both: A says high, B says medium; both change an ordinary field too.
    a.lock()
        .unwrap()
        .edit(RecordKind::Case, case.as_uuid(), &patch(&["risk_level=high", "persistently_targeted:=true"]))
        .unwrap();
    b.lock().unwrap().edit(RecordKind::Case, case.as_uuid(), &patch(&["risk_level=medium"])).unwrap();
    sync_once(&a).unwrap();
    sync_once(&b).unwrap();
    sync_once(&a).unwrap();

    let (on_a, on_b) = (a.lock().unwrap().sync_conflicts().unwrap(), b.lock().unwrap().sync_conflicts().unwrap());
    assert_eq!((on_a.len(), on_b.len()), (1, 1), "one conflict on each side");
    assert_eq!(on_a[0].id, on_b[0].id, "the same conflict on both sides");
    assert_eq!(on_a[0].field, "risk_level");
    assert_eq!((on_a[0].local_value.as_str(), on_a[0].remote_value.as_str()), (Some("high"), Some("medium")));
    assert_eq!((on_b[0].local_value.as_str(), on_b[0].remote_value.as_str()), (Some("medium"), Some("high")));
    // Not resolved silently: both sides list the conflict with both values, and show the same
    // value meanwhile (the later write, B's), so the laptops agree; the ordinary field merged.
    let risk = |v: &Mutex<Vault>| v.lock().unwrap().get::<Case>(case.as_uuid()).unwrap();
    assert_eq!(serde_json::to_value(risk(&a).risk_level).unwrap(), "medium");
    assert_eq!(serde_json::to_value(risk(&b).risk_level).unwrap(), "medium");
    assert!(risk(&b).persistently_targeted, "an ordinary field merged by clock");

    // A person on A keeps A's value; B hears the decision, closes the same conflict and shows it.
    a.lock().unwrap().resolve_conflict(&on_a[0].id, Resolution::Local).unwrap();
    sync_once(&a).unwrap();
    sync_once(&b).unwrap();
    assert!(a.lock().unwrap().sync_conflicts().unwrap().is_empty());
    assert!(b.lock().unwrap().sync_conflicts().unwrap().is_empty(), "the decision closed B's copy of the conflict");
    assert_eq!(risk(&a).risk_level, risk(&b).risk_level);
    assert_eq!(serde_json::to_value(risk(&a).risk_level).unwrap(), "high");
}

#[test]
fn a_revoked_laptop_is_refused_and_erases_its_vault() {
    let clinic = clinic();
    let url = clinic.url();
    let dir = tempfile::tempdir().unwrap();
    let laptop_vault = laptop(dir.path());
    enrol(&laptop_vault, &clinic, &url);
    open_case(&laptop_vault, "LOST-1", 1);
    sync_once(&laptop_vault).unwrap();

    // Enrolment added the clinic's recovery recipient: its offline identity resets a forgotten passphrase.
    let keyfile = waymark_vault::keyfile::KeyFile::read(dir.path()).unwrap();
    assert!(keyfile.recovery_wrap.is_some(), "enrolment adds the clinic's recovery wrap");
    let identity =
        waymark_vault::keyfile::parse_identity(&std::fs::read_to_string(clinic.recovery_file()).unwrap()).unwrap();
    let new_passphrase = SecretString::from("a brand new passphrase here".to_owned());
    Vault::recover(dir.path(), &identity, &new_passphrase, 4, Env::system()).unwrap();
    Vault::unlock(dir.path(), &new_passphrase, Env::system()).unwrap().lock();
    let device = laptop_vault.lock().unwrap().device().to_string();
    clinic.run(&["revoke", &device]);
    assert!(matches!(sync_once(&laptop_vault), Err(SyncError::Wiped)));
    for file in ["vault.key", "vault.db"] {
        assert!(!dir.path().join(file).exists(), "{file} must be gone");
    }
    let (_, reason) = waymark_vault::sync::wiped_notice(dir.path()).expect("a notice says why");
    assert_eq!(reason, "revoked_by_clinic");
    let listed = clinic.run(&["devices"]);
    assert!(listed.contains(&device) && listed.contains("revoked"));
}

#[test]
fn a_server_with_another_certificate_is_refused() {
    // The enrolment code pins the clinic's certificate; a second clinic at
    // the same address (a machine in the middle) does not match it.
    let real = clinic();
    let impostor = clinic();
    let code = real.code(&format!("https://127.0.0.1:{}", impostor.port), "ISA01");
    let dir = tempfile::tempdir().unwrap();
    let laptop_vault = laptop(dir.path());
    let err = waymark_sync::enrol(&laptop_vault, &code).unwrap_err();
    assert!(matches!(err, SyncError::WrongServer), "{err:?}");
}

#[test]
fn the_clinics_review_and_a_reassigned_case_reach_the_laptops_whole() {
    let clinic = clinic();
    let url = clinic.url();
    let (dir_a, dir_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, c) = (laptop_of(dir_a.path(), "ISA01"), laptop_of(dir_c.path(), "ISA02"));
    enrol(&a, &clinic, &url);
    enrol(&c, &clinic, &url);
    let case = open_case(&a, "MOVE-1", 5);
    sync_once(&a).unwrap();
    sync_once(&c).unwrap();
    assert!(
        caseload(&c)["cases"].as_array().unwrap().is_empty(),
        "another advocate's laptop does not receive the case"
    );

    let case_id = case.to_string();
    clinic.run(&[
        "review",
        "--case",
        &case_id,
        "--by",
        "CLN1",
        "meeting_on=2026-11-20",
        "agencies_present+=police",
        "agencies_present+=probation",
    ]);
    sync_once(&a).unwrap();
    let reviews = |v: &Mutex<Vault>| v.lock().unwrap().list_all::<waymark_domain::ClinicReview>().unwrap();
    assert_eq!(reviews(&a).len(), 1, "the panel review reached the advocate's laptop");

    clinic.run(&["reassign", "--case", &case_id, "--to", "ISA02", "--by", "CLN1"]);
    sync_once(&c).unwrap();
    sync_once(&a).unwrap();
    assert_eq!(caseload(&c), caseload(&a), "the new advocate's laptop holds the whole case");
    assert_eq!(reviews(&c), reviews(&a));
    for v in [&a, &c] {
        assert_eq!(v.lock().unwrap().get::<Case>(case.as_uuid()).unwrap().advocate, "ISA02");
        assert_eq!(v.lock().unwrap().sync_status().unwrap().problems, 0);
    }
}
