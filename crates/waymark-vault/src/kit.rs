//! What tests across the workspace share to stand up a vault: a fixed clock,
//! a seeded random source, a low scrypt work factor, one test passphrase, a
//! patch helper and a case. The vault's own tests use it, and other crates
//! through the `test-kit` feature (dev-dependencies only). Test code: a
//! failure here is a broken test set-up, so it panics with what failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{Env, InitOptions, Vault};
use age::secrecy::SecretString;
use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use std::path::Path;
use std::sync::Arc;
use waymark_domain::patch::Patch;
use waymark_domain::time::ManualClock;
use waymark_domain::{CaseId, RecordKind};

/// A passphrase the one passphrase rule accepts.
pub const PASS: &str = "correct horse battery staple";
/// Tests use a low scrypt factor to stay quick; the shipped factor is measured by the benchmark.
pub const TEST_WORK_FACTOR: u8 = 4;
/// The advocate the kit's vaults record changes under.
pub const ADVOCATE: &str = "ADV-7";

pub fn pass(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

/// 22 November 2026, 10:00 UTC, moved on only by the test.
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()))
}

/// The clock and a seeded random source.
pub fn env_at(clock: &Arc<ManualClock>) -> Env {
    Env { clock: clock.clone(), rng: Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(1)) }
}

/// Options for a test vault of `advocate`, with the low work factor.
pub fn options_for(advocate: &str) -> InitOptions {
    InitOptions { work_factor: TEST_WORK_FACTOR, ..InitOptions::new(advocate) }
}

pub fn fast_options() -> InitOptions {
    options_for(ADVOCATE)
}

pub fn new_vault(dir: &Path, clock: &Arc<ManualClock>) -> Vault {
    Vault::init(dir, &pass(PASS), &fast_options(), env_at(clock)).expect("a test vault is created")
}

pub fn patch(items: &[&str]) -> Patch {
    Patch::parse(items).expect("the test's field assignments parse")
}

/// A case with the given reference, referred by the police.
pub fn add_case(v: &mut Vault, reference: &str) -> CaseId {
    let fields = [&format!("reference={reference}"), "referral.source=police", "referral.reason=Repeated contact"];
    let record = v.add(RecordKind::Case, None, &patch(&fields)).expect("the test case is saved");
    record.case_id().expect("a case has its own id")
}

/// A database key's raw bytes, for a test that reads the file's pages back
/// (`waymark_sqlcipher::plaintext_pages`).
pub fn raw_key(key: &crate::DbKey) -> [u8; 32] {
    *key.bytes()
}

/// The raw key of the vault in `dir`, unwrapped with its passphrase.
pub fn raw_key_of_vault(dir: &Path, passphrase: &SecretString) -> [u8; 32] {
    let file = crate::keyfile::KeyFile::read(dir).expect("the vault's key file reads");
    raw_key(&file.unwrap_with_passphrase(passphrase).expect("the passphrase opens it"))
}

/// Links a vault to a clinic as a finished enrolment would (a new device id
/// and keys, the clinic's id and public keys), so the vault knows which
/// origin is its clinic and numbers its outbox for the clinic. Returns the
/// device id the clinic must register.
pub fn link_to_clinic(
    vault: &mut Vault,
    clinic_id: uuid::Uuid,
    clinic: waymark_protocol::DevicePublic,
    at: chrono::DateTime<Utc>,
) -> uuid::Uuid {
    vault.sync_enrolment().expect("enrolment keys are made");
    let link = crate::sync::ClinicLink {
        url: "https://127.0.0.1:1".into(),
        fingerprint: None,
        clinic_id,
        clinic,
        enrolled_at: at,
    };
    vault.sync_enrolled(&link).expect("the enrolment is recorded");
    vault.device().as_uuid()
}
