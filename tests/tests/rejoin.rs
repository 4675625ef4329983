//! A laptop whose log the clinic does not recognise comes back: a backup
//! restored on a new laptop enrols as a new device, and a laptop put back
//! from an older copy of its folder rejoins. The clinic recognises the
//! changes it already holds by op id and meaning, the laptop renumbers what
//! is new, and every change ends at the clinic and on the advocate's other
//! laptop exactly once.

use age::secrecy::SecretString;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use waymark_domain::codes::ErrorCode;
use waymark_domain::Incident;
use waymark_scenarios::clinic::ClinicProcess;
use waymark_scenarios::kit::*;
use waymark_sync::sync_once;
use waymark_vault::backup::{BackupKey, BackupTo};
use waymark_vault::Vault;

fn clinic() -> ClinicProcess {
    ClinicProcess::init(Path::new(env!("CARGO_BIN_EXE_clinic")), &[])
}

/// Each incident once: the same ids, no two with one id.
fn incident_ids(vault: &Mutex<Vault>) -> Vec<uuid::Uuid> {
    let mut ids: Vec<uuid::Uuid> = vault
        .lock()
        .expect("vault")
        .list_all::<Incident>()
        .expect("incidents")
        .iter()
        .map(|i| i.id.as_uuid())
        .collect();
    ids.sort();
    ids
}

fn settled(vault: &Mutex<Vault>) {
    let status = vault.lock().expect("vault").sync_status().expect("status");
    assert_eq!(
        (status.pending, status.problems, status.open_conflicts),
        (0, 0, 0),
        "nothing waits and nothing is wrong: {status:?}"
    );
}

#[test]
fn a_backup_restored_on_a_new_laptop_enrols_again_and_nothing_is_lost_or_doubled() {
    let clinic = clinic();
    let url = clinic.url();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let old = laptop(dirs[0].path());
    enrol(&old, &clinic, &url);
    let case = open_case(&old, "REJOIN-1", 3);
    sync_once(&old).unwrap();

    // Two incidents not yet sent when the backup is taken.
    add_incidents(&mut old.lock().unwrap(), case, 2);
    let backup = dirs[0].path().join("../rejoin-backup.age");
    let backup_passphrase = SecretString::from("a backup passphrase for the test".to_owned());
    old.lock()
        .unwrap()
        .backup(&backup, &BackupTo::Passphrase { passphrase: backup_passphrase.clone(), work_factor: 4 })
        .unwrap();
    // The old laptop sends them, and two more the backup never saw, then breaks.
    sync_once(&old).unwrap();
    add_incidents(&mut old.lock().unwrap(), case, 2);
    sync_once(&old).unwrap();
    // Fully acknowledged, and numbered from 1: the clinic's number for its last op is how many it made.
    let old_ops = old.lock().unwrap().sync_acked_through().unwrap();
    assert_eq!(old.lock().unwrap().sync_status().unwrap().pending, 0);
    assert_eq!(clinic.stats().ops, old_ops);
    drop(old);

    // A new laptop, the backup restored on it, and two changes made there before it is enrolled.
    let new = laptop(dirs[1].path());
    new.lock().unwrap().restore(&backup, &BackupKey::Passphrase(backup_passphrase)).unwrap();
    std::fs::remove_file(&backup).unwrap();
    add_incidents(&mut new.lock().unwrap(), case, 2);
    enrol(&new, &clinic, &url);
    let report = sync_once(&new).unwrap();
    assert_eq!(report.quarantined + report.refused + report.failed, 0, "{report:?}");
    assert_eq!(report.pushed, 4, "the two the clinic already had, renumbered, and the two new ones");
    let stats = clinic.stats();
    assert_eq!(stats.ops, old_ops + 2, "the clinic holds each change once");
    assert_eq!(stats.recognised, 2, "the two sent before the break were recognised, not stored again");
    assert_eq!(stats.quarantined, 0);
    // The restored laptop received what the old one sent after the backup.
    assert_eq!(incident_ids(&new).len(), 3 + 2 + 2 + 2);
    settled(&new);

    // The advocate's second laptop gets every change exactly once.
    let second = laptop(dirs[2].path());
    enrol(&second, &clinic, &url);
    sync_once(&second).unwrap();
    assert_eq!(incident_ids(&second), incident_ids(&new));
    assert_eq!(caseload(&second), caseload(&new));
    settled(&second);
    // Going round again changes nothing anywhere.
    let again = sync_once(&new).unwrap();
    assert_eq!((again.pushed, again.pulled), (0, 0));
    assert_eq!(clinic.stats().ops, old_ops + 2);
}

#[test]
fn a_laptop_put_back_from_an_older_copy_rejoins_with_a_new_code() {
    let clinic = clinic();
    let url = clinic.url();
    let (dir, copy, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let vault = laptop(dir.path());
    enrol(&vault, &clinic, &url);
    let case = open_case(&vault, "OLD-1", 1);
    add_incidents(&mut vault.lock().unwrap(), case, 2);
    vault.into_inner().unwrap().lock();
    // The copy is taken before anything was sent.
    copy_folder(dir.path(), copy.path());
    let vault = reopen(dir.path());
    sync_once(&vault).unwrap();
    add_incidents(&mut vault.lock().unwrap(), case, 2);
    sync_once(&vault).unwrap();
    let held_at_clinic = clinic.stats().ops;
    vault.into_inner().unwrap().lock();

    copy_folder(copy.path(), dir.path());
    let vault = reopen(dir.path());
    add_incidents(&mut vault.lock().unwrap(), case, 2);
    // Refused, not trusted: once the clinic's higher acknowledgement was taken
    // as it came, and the changes made after the copy went back left unsent.
    assert_eq!(sync_once(&vault).unwrap_err().code(), ErrorCode::LogDiverged);
    {
        let v = vault.lock().unwrap();
        // The copy was taken before its first sync: the case, the victim and three incidents, and the two new ones.
        assert_eq!(
            v.outbox_batch(0, 100).unwrap().len(),
            5 + 2,
            "everything the copy never sent, and the new incidents, is still waiting"
        );
        assert!(
            v.sync_problems()
                .unwrap()
                .iter()
                .any(|p| p.code
                    == waymark_vault::sync::ProblemCode::Request(waymark_domain::codes::ErrorCode::LogDiverged)),
            "the advocate is told"
        );
    }
    assert_eq!(clinic.stats().ops, held_at_clinic, "nothing was sent over the clinic's own copy");
    let code = clinic.code(&url, "ISA01");
    assert_eq!(
        waymark_sync::enrol(&vault, &code).unwrap_err().code(),
        ErrorCode::AlreadyEnrolled,
        "enrolling again is a deliberate rejoin"
    );
    let earlier = vault.lock().unwrap().device();
    waymark_sync::rejoin(&vault, &code).unwrap();
    assert_ne!(vault.lock().unwrap().device(), earlier, "a rejoined laptop is a new device");
    let report = sync_once(&vault).unwrap();
    assert_eq!(report.quarantined + report.refused + report.failed, 0, "{report:?}");
    assert_eq!(clinic.stats().ops, held_at_clinic + 2, "only the two new incidents were added");
    assert_eq!(incident_ids(&vault).len(), 1 + 2 + 2 + 2);
    settled(&vault);
    let problems = vault.lock().unwrap().sync_problems().unwrap();
    assert!(problems.is_empty(), "the log_diverged problem is closed by the rejoin: {problems:?}");

    let second = laptop(other.path());
    enrol(&second, &clinic, &url);
    sync_once(&second).unwrap();
    assert_eq!(incident_ids(&second), incident_ids(&vault));
    let unique: BTreeSet<_> = incident_ids(&second).into_iter().collect();
    assert_eq!(unique.len(), 7);
}
