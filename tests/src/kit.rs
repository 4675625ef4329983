//! What the scenario tests share: laptops on real vaults, cases with
//! incidents, enrolment through a real clinic process, and batches sealed
//! as a laptop (or a laptop's hostile owner) would seal them.
// Shared setup for the scenario tests only: a failed step should stop the test where it failed.
#![allow(clippy::unwrap_used)]

use crate::clinic::ClinicProcess;
use crate::SCENARIO_PASSPHRASE;
use age::secrecy::SecretString;
use std::path::Path;
use std::sync::Mutex;
use waymark_domain::patch::Patch;
use waymark_domain::{Case, CaseId, Incident, RecordKind, Victim};
use waymark_vault::{Env, Vault};

/// Replaces a vault folder's files with another's: a laptop put back from a copy.
pub fn copy_folder(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(to).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Unlocks a scenario vault again.
pub fn reopen(dir: &Path) -> Mutex<Vault> {
    let passphrase = SecretString::from(SCENARIO_PASSPHRASE.to_owned());
    Mutex::new(Vault::unlock(dir, &passphrase, Env::system()).unwrap())
}

pub fn laptop(dir: &Path) -> Mutex<Vault> {
    laptop_of(dir, "ISA01")
}

pub fn laptop_of(dir: &Path, advocate: &str) -> Mutex<Vault> {
    let passphrase = SecretString::from(SCENARIO_PASSPHRASE.to_owned());
    let options = waymark_vault::kit::options_for(advocate);
    Mutex::new(Vault::init(dir, &passphrase, &options, Env::system()).unwrap())
}

pub fn patch(fields: &[&str]) -> Patch {
    Patch::parse(&fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>()).unwrap()
}

pub fn open_case(vault: &Mutex<Vault>, reference: &str, incidents: usize) -> CaseId {
    let mut v = vault.lock().unwrap();
    let case = patch(&[&format!("reference={reference}"), "referral.source=police", "referral.reason=Scenario"]);
    let (case, _) = v.open_case(&case, &patch(&["name=Scenario Person (DEMO)"])).unwrap();
    let id = case.case_id().unwrap();
    add_incidents(&mut v, id, incidents);
    id
}

pub fn add_incidents(v: &mut Vault, case: CaseId, n: usize) {
    for i in 0..n {
        let account = format!("account=Scenario incident {i}: {}", "waited by the gate ".repeat(8));
        v.add(RecordKind::Incident, Some(case), &patch(&[&account, "channel=in_person", "behaviours+=loitering"]))
            .unwrap();
    }
}

pub fn last_seq(vault: &Mutex<Vault>) -> u64 {
    let v = vault.lock().unwrap();
    v.outbox_batch(0, u32::MAX).unwrap().last().map(|o| o.seq).unwrap_or(v.sync_acked_through().unwrap())
}

/// Everything both laptops should agree on, as JSON.
pub fn caseload(vault: &Mutex<Vault>) -> serde_json::Value {
    let v = vault.lock().unwrap();
    serde_json::json!({
        "cases": v.list_all::<Case>().unwrap(),
        "victims": v.list_all::<Victim>().unwrap(),
        "incidents": v.list_all::<Incident>().unwrap(),
    })
}

pub fn enrol(vault: &Mutex<Vault>, clinic: &ClinicProcess, url: &str) {
    let advocate = vault.lock().unwrap().actor().to_owned();
    waymark_sync::enrol(vault, &clinic.code(url, &advocate)).unwrap();
}

pub fn clinic_fingerprint(clinic: &ClinicProcess) -> String {
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(clinic.folder().join("clinic.json")).unwrap()).unwrap();
    info["fingerprint"].as_str().unwrap().to_owned()
}

/// The signed claim headers a laptop sends with a push of `frame`.
pub fn push_headers(v: &Vault, frame: &[u8]) -> Vec<(&'static str, String)> {
    use waymark_protocol::auth::*;
    let unlimited = waymark_protocol::Limits { max_batch_bytes: u64::MAX, max_ops: u32::MAX };
    let batch_id = waymark_protocol::decode(frame, &unlimited).unwrap().header.batch_id;
    let keys = v.sync_keys().unwrap().unwrap();
    let (claim, signature) = sign_push(v.device().as_uuid(), batch_id, frame, v.now(), &keys.signing);
    vec![(CLAIM_HEADER, claim), (SIGNATURE_HEADER, signature)]
}

pub fn sealed_batch(v: &Vault, ops: &[waymark_protocol::WireOp]) -> Vec<u8> {
    use waymark_protocol::*;
    let link = v.sync_link().unwrap().unwrap();
    let keys = v.sync_keys().unwrap().unwrap();
    let header = waymark_sync::upward_header(v.device().as_uuid(), link.clinic_id, ops, ops[0].seq - 1, v.now());
    encode(&seal(header, ops, &link.clinic.recipient().unwrap(), &keys.signing).unwrap())
}
