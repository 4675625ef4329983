//! SIGKILL during a stream of writes loses no acknowledged write and leaves
//! no partial one.

use age::secrecy::SecretString;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use waymark_domain::patch::Patch;
use waymark_domain::{Contact, Incident, RecordKind, Task};
use waymark_scenarios::{account_for, SCENARIO_PASSPHRASE};
use waymark_vault::{Env, Vault};

#[test]
fn sigkill_mid_stream_keeps_every_acknowledged_write_whole() {
    let dir = tempfile::tempdir().unwrap();
    let passphrase = SecretString::from(SCENARIO_PASSPHRASE.to_owned());
    let options = waymark_vault::kit::options_for("ADV-C");
    let mut vault = Vault::init(dir.path(), &passphrase, &options, Env::system()).unwrap();
    let fields = Patch::parse(&["reference=CRASH-1", "referral.source=police", "referral.reason=Crash test"]).unwrap();
    vault.add(RecordKind::Case, None, &fields).unwrap();
    vault.lock();

    let mut written = 0u64;
    for round in 0..3u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(dir.path())
            .arg(written.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill at a different depth each round, while writes are in flight.
        let target = 40 + round * 37;
        let mut acked = 0u64;
        while acked < target {
            let line = lines.next().expect("the writer stopped early").unwrap();
            assert_eq!(line, format!("ack {}", written + acked));
            acked += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix: no destructors, no clean close.
        child.wait().unwrap();
        // Acks already in the pipe when the kill landed count as acknowledged too.
        acked += lines.map_while(Result::ok).filter(|l| l.starts_with("ack ")).count() as u64;

        let vault = Vault::unlock(dir.path(), &passphrase, Env::system()).unwrap();
        let case = vault.resolve_case("CRASH-1").unwrap();
        let incidents: Vec<Incident> = vault.list(case).unwrap();
        let contacts: Vec<Contact> = vault.list(case).unwrap();
        let tasks: Vec<Task> = vault.list(case).unwrap();
        // No partial transaction: the three kinds move together.
        assert_eq!(incidents.len(), contacts.len(), "round {round}");
        assert_eq!(incidents.len(), tasks.len(), "round {round}");
        // Every acknowledged write is there, whole; at most one more committed before its ack.
        let total = incidents.len() as u64;
        assert!(
            total == written + acked || total == written + acked + 1,
            "round {round}: {total} stored, {} acknowledged",
            written + acked
        );
        for n in 0..written + acked {
            let expected = account_for(n);
            assert_eq!(
                incidents.iter().filter(|i| i.account == expected).count(),
                1,
                "round {round}: write {n} missing, torn or doubled"
            );
        }
        // One op per record, all still waiting in the outbox; the audit chain is unbroken.
        assert_eq!(vault.pending_ops().unwrap() as u64, 1 + total * 3);
        vault.audit_verify().unwrap();
        vault.lock();
        written = total;
    }
}
