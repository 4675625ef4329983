//! Erasing a case everywhere: two laptops of the advocate and the clinic,
//! on every store. The manager erases a closed case that is due, through
//! the real router; both laptops sync; then nothing of the case's content is
//! left in any file on any of the three, read back page by page with each
//! database's key (freed and stale pages included), while the op logs and
//! the audit chains still verify and the other case is untouched.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kit::browser::*;
use kit::*;
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;
use waymark_clinic::store::{AdminAction, Origin};
use waymark_clinic::workspace::WorkRoute;
use waymark_clinic::{DeviceRecord, DeviceStatus};
use waymark_domain::RecordKind;
use waymark_protocol::OpRefusal;
use waymark_vault::kit as laptop_kit;
use waymark_vault::Vault;

/// What the erased case held, each written somewhere different: the
/// victim's name, address and e-mail, the safety plan's code word, the
/// incident's account, and a note written after the clinic erased it.
const CANARIES: &[&str] =
    &["Rowan (DEMO)", "Hiddenhurst", "rowan.hidden", "Marigoldcanary", "Waited by her door", "Latecanary Road"];
/// The other case's victim, which must survive.
const KEPT: &str = "Keepsake Person (DEMO)";

/// ISA01's second laptop, enrolled with its own code, holding nothing yet.
fn a_second_laptop(clinic: &Clinic, now: DateTime<Utc>) -> (tempfile::TempDir, Vault, Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(waymark_domain::time::ManualClock::new(now));
    let mut laptop = Vault::init(
        dir.path(),
        &laptop_kit::pass(laptop_kit::PASS),
        &laptop_kit::options_for("ISA01"),
        // Its own random source, so its own device id.
        waymark_vault::Env { clock, rng: Box::new(<rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(22)) },
    )
    .unwrap();
    let device = laptop_kit::link_to_clinic(&mut laptop, clinic.state.clinic_id, clinic.state.keys.public(), now);
    let record = DeviceRecord {
        id: device,
        advocate: String::new(),
        confirmed: true,
        keys: keys(2).public(),
        status: DeviceStatus::Active,
        enrolled_at: now,
        revoked_at: None,
        last_seen_at: None,
        acked_through: 0,
    };
    let token = hex::encode(<sha2::Sha256 as sha2::Digest>::digest("second"));
    clinic.state.store.enrol(&token, &record, Some("ISA01"), now).unwrap();
    (dir, laptop, device)
}

/// A push as the server takes it, acknowledged on the laptop as the sync engine does.
fn push(clinic: &Clinic, laptop: &mut Vault, device: Uuid, now: DateTime<Utc>) -> Vec<OpRefusal> {
    let acked = laptop.sync_acked_through().unwrap();
    let ops = laptop.outbox_batch(acked, 1000).unwrap();
    let origin = Origin::Device {
        id: device,
        advocate: "ISA01",
        max_ahead_ms: waymark_clinic::authority::MAX_HLC_AHEAD_MS,
        service: &clinic.state.service,
    };
    let stored = clinic.state.store.store_batch(origin, Uuid::now_v7(), &ops, now).unwrap();
    assert!(stored.quarantined.is_empty(), "{stored:?}");
    laptop.sync_acknowledge(stored.acked_through, &stored.quarantined, &stored.refused).unwrap();
    stored.refused.into_iter().map(|r| r.code).collect()
}

/// A pull of everything the clinic has for the device since its cursor.
fn pull(clinic: &Clinic, laptop: &mut Vault, device: Uuid) -> waymark_vault::sync::ApplyReport {
    let cursor = laptop.sync_pull_cursor().unwrap();
    let page = clinic.state.store.feed(device, "ISA01", cursor, 1000).unwrap();
    laptop.sync_apply(&page.ops, page.through).unwrap()
}

/// Every byte a holder of the keys could read in `folder`: each database
/// and its write-ahead log decrypted page by page with its key, and every
/// other file as it is.
fn readable(folder: &Path, keys: &[(&str, [u8; 32])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if let Some((_, key)) = keys.iter().find(|(db, _)| *db == name) {
                out.extend(waymark_sqlcipher::plaintext_pages(&path, key).unwrap());
            }
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

async fn erase(clinic: &Clinic, manager: &Browser, case: Uuid, body: serde_json::Value) -> (StatusCode, Vec<u8>) {
    let path = WorkRoute::CaseErase.path().replace("{id}", &case.to_string());
    call(clinic, request_with(WorkRoute::CaseErase, &path, manager, &body)).await
}

#[tokio::test]
async fn a_case_erased_at_the_clinic_is_gone_from_every_file_on_both_laptops_and_the_clinic() {
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        // Laptop A made the case (the kit's: victim, address, plan, incident) and another it keeps.
        let (case, dir_a, mut a, device_a) = a_laptop_with_a_case(&clinic, start());
        let kept = a
            .open_case(
                &laptop_kit::patch(&["reference=KEEP-1", "referral.source=police", "referral.reason=Calls"]),
                &laptop_kit::patch(&[&format!("name={KEPT}")]),
            )
            .unwrap()
            .0
            .id();
        a.close_case(waymark_domain::CaseId(case), &laptop_kit::patch(&["reason=victim_declined"])).unwrap();
        // A backup taken now, before anything was sent: restored later, its laptop sends the case again.
        let backups = tempfile::tempdir().unwrap();
        let backup = backups.path().join("a.age");
        let sealed = waymark_vault::backup::BackupTo::Passphrase {
            passphrase: laptop_kit::pass(laptop_kit::PASS),
            work_factor: waymark_vault::kit::TEST_WORK_FACTOR,
        };
        a.backup(&backup, &sealed).unwrap();
        let action = a_police_action(&clinic, case);
        push(&clinic, &mut a, device_a, start());
        pull(&clinic, &mut a, device_a);
        let (dir_b, mut b, device_b) = a_second_laptop(&clinic, start());
        pull(&clinic, &mut b, device_b);
        assert!(b.get::<waymark_domain::Case>(case).is_ok(), "{name}: the second laptop holds the case");
        let manager = sign_in(&clinic, member("MGR1"), start()).await;

        // The manager cannot erase it yet: the wrong reference, then not due (6 weeks after closing), then held.
        let (status, body) =
            erase(&clinic, &manager, case, serde_json::json!({"reason": "retention_due", "reference": "KEEP-1"})).await;
        assert_eq!((status, code_of(&body)), (StatusCode::BAD_REQUEST, "invalid".into()), "{name}");
        assert!(String::from_utf8_lossy(&body).contains("reference"), "{name}: the error names the field");
        let (status, body) =
            erase(&clinic, &manager, case, serde_json::json!({"reason": "retention_due", "reference": "WS-1"})).await;
        assert_eq!((status, code_of(&body)), (StatusCode::CONFLICT, "not_due".into()), "{name}");
        clock.set(start() + chrono::Duration::days(43));
        let now = clock.now();
        let manager = sign_in(&clinic, member("MGR1"), now).await;
        a.edit(
            RecordKind::Case,
            case,
            &laptop_kit::patch(&[r#"legal_hold:={"reason": "ongoing_proceedings", "since": "2026-12-07"}"#]),
        )
        .unwrap();
        push(&clinic, &mut a, device_a, now);
        let (status, body) =
            erase(&clinic, &manager, case, serde_json::json!({"reason": "retention_due", "reference": "WS-1"})).await;
        assert_eq!((status, code_of(&body)), (StatusCode::CONFLICT, "case_held".into()), "{name}");
        a.edit(RecordKind::Case, case, &laptop_kit::patch(&["legal_hold:=null"])).unwrap();
        push(&clinic, &mut a, device_a, now);
        pull(&clinic, &mut b, device_b);
        let (status, body) =
            call(&clinic, request(WorkRoute::Retention, WorkRoute::Retention.path(), Some(&manager), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let review: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let row = review["cases"].as_array().unwrap().iter().find(|r| r["case_id"] == case.to_string()).unwrap();
        assert_eq!(
            (row["due"].as_bool(), row["retention"]["basis"].as_str()),
            (Some(true), Some("no_service_taken_up")),
            "{name}"
        );

        let clinic_keys = |folder: &Path| -> Vec<u8> {
            let replica = waymark_vault::kit::raw_key(&waymark_clinic::projection::replica_key(&[9u8; 32]));
            let vault_db = if folder.join("clinic.db").exists() { [7u8; 32] } else { replica };
            readable(folder, &[("clinic.db", [7u8; 32]), ("vault.db", vault_db)])
        };
        let everything = || -> Vec<(String, Vec<u8>)> {
            let pass = laptop_kit::pass(laptop_kit::PASS);
            let mut all = vec![
                (
                    "laptop A".into(),
                    readable(dir_a.path(), &[("vault.db", laptop_kit::raw_key_of_vault(dir_a.path(), &pass))]),
                ),
                (
                    "laptop B".into(),
                    readable(dir_b.path(), &[("vault.db", laptop_kit::raw_key_of_vault(dir_b.path(), &pass))]),
                ),
            ];
            all.extend(clinic.folders().into_iter().map(|f| (format!("clinic {}", f.display()), clinic_keys(f))));
            if let Some(schema) = &clinic.schema {
                all.push((
                    "clinic's PostgreSQL, dumped and opened".into(),
                    [schema.dump(), schema.opened(&[7u8; 32])].concat(),
                ));
            }
            all
        };
        // She asked for her data before the erasure, and one item was released: the request is still owed an answer.
        let asked = waymark_domain::access::AccessRequest {
            id: Uuid::now_v7(),
            case_id: waymark_domain::CaseId(case),
            subject: waymark_domain::AccessSubject::Victim,
            perpetrator_id: None,
            received_on: chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
            due_on: chrono::NaiveDate::from_ymd_opt(2027, 2, 4).unwrap(),
            made_at: now,
            made_by: "CRD1".into(),
            identity_checked: None,
        };
        let sar_line = |action| waymark_clinic::store::AuditLine {
            actor: "CRD1",
            action,
            target: None,
            detail: serde_json::json!({}),
        };
        let store = &*clinic.state.store;
        store.add_access_request(&asked, &sar_line(AdminAction::AccessRequested), now).unwrap();
        let release = waymark_clinic::store::AccessDecision::Release { digest: "00".repeat(32) };
        store.decide_access_item(asked.id, "x/y", &release, &sar_line(AdminAction::AccessReleased), now).unwrap();
        // The scan reads what is stored: before the erasure it finds the case everywhere it is kept.
        for (place, bytes) in everything() {
            assert!(holds(&bytes, "Hiddenhurst") && holds(&bytes, KEPT), "{name}: {place} holds both cases before");
        }
        if let Some(schema) = &clinic.schema {
            // A hosting engineer's dump holds ids, times and ciphertext: the case is there by id, never by name.
            let dump = schema.dump();
            assert!(holds(&dump, &case.to_string()), "{name}: the dump holds the case's id");
            for secret in CANARIES.iter().chain([&KEPT, &"Advocate ISA01", &"(TEST)"]) {
                assert!(!holds(&dump, secret), "{name}: the dump shows {secret:?}");
            }
        }

        let (status, body) =
            erase(&clinic, &manager, case, serde_json::json!({"reason": "retention_due", "reference": "WS-1"})).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let erased: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(erased["feed_ops"].as_u64().unwrap() >= 6, "{name}: {erased}");
        assert_eq!(erased["panel_docs"], 1, "{name}: the panel's action on the case goes with it");
        let (status, body) =
            erase(&clinic, &manager, case, serde_json::json!({"reason": "retention_due", "reference": "WS-1"})).await;
        assert_eq!((status, code_of(&body)), (StatusCode::CONFLICT, "case_erased".into()), "{name}: once");

        // Laptop A wrote a note to the case before it heard: the clinic keeps the slot, not the note.
        let note = laptop_kit::patch(&[
            "at=2027-01-18T10:00:00Z",
            "method=phone",
            "with_victim:=true",
            "summary=Met at Latecanary Road",
        ]);
        a.add(RecordKind::Contact, Some(waymark_domain::CaseId(case)), &note).unwrap();
        assert_eq!(push(&clinic, &mut a, device_a, now), vec![OpRefusal::CaseErased], "{name}");
        assert_eq!(a.sync_status().unwrap().problems, 0, "{name}: nothing for the advocate to do about it");
        assert_eq!(pull(&clinic, &mut a, device_a).erased, 1, "{name}");
        assert_eq!(pull(&clinic, &mut b, device_b).erased, 1, "{name}");

        // Nothing of it is left anywhere that a holder of every key could read.
        for (place, bytes) in everything() {
            for canary in CANARIES {
                assert!(!holds(&bytes, canary), "{name}: {place} still holds {canary:?}");
            }
            assert!(holds(&bytes, KEPT), "{name}: {place} keeps the other case");
        }
        // What stays is ids: who erased which case, and when.
        for laptop in [&a, &b] {
            assert!(matches!(
                laptop.get::<waymark_domain::Case>(case),
                Err(waymark_vault::VaultError::NotFound { .. })
            ));
            assert!(laptop.get::<waymark_domain::Case>(kept).is_ok(), "{name}");
            laptop.audit_verify().expect("the laptop's audit chain verifies");
            laptop.op_log_verify().expect("the laptop's op log verifies");
            assert_eq!(laptop.erasures().unwrap().len(), 1);
        }
        assert!(a.op_log_verify().unwrap().erased >= 6, "{name}: A's own ops of the case are tombstones");

        // A laptop restored from the backup made before the erasure enrols again and
        // sends the case's changes in new slots: they hold their slots, keep nothing,
        // and its first pull erases the case again.
        let dir_c = tempfile::tempdir().unwrap();
        let clock_c = Arc::new(waymark_domain::time::ManualClock::new(now));
        let mut c = Vault::init(
            dir_c.path(),
            &laptop_kit::pass(laptop_kit::PASS),
            &laptop_kit::options_for("ISA01"),
            waymark_vault::Env {
                clock: clock_c,
                rng: Box::new(<rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(33)),
            },
        )
        .unwrap();
        c.restore(&backup, &waymark_vault::backup::BackupKey::Passphrase(laptop_kit::pass(laptop_kit::PASS))).unwrap();
        assert!(c.get::<waymark_domain::Case>(case).is_ok(), "{name}: the backup holds the case");
        let device_c = laptop_kit::link_to_clinic(&mut c, clinic.state.clinic_id, clinic.state.keys.public(), now);
        let record = DeviceRecord {
            id: device_c,
            advocate: String::new(),
            confirmed: true,
            keys: keys(3).public(),
            status: DeviceStatus::Active,
            enrolled_at: now,
            revoked_at: None,
            last_seen_at: None,
            acked_through: 0,
        };
        let token = hex::encode(<sha2::Sha256 as sha2::Digest>::digest("fourth"));
        clinic.state.store.enrol(&token, &record, Some("ISA01"), now).unwrap();
        let refusals = push(&clinic, &mut c, device_c, now);
        assert!(
            !refusals.is_empty() && refusals.iter().all(|r| *r == OpRefusal::CaseErased),
            "{name}: the erased case's changes hold their slots: {refusals:?}"
        );
        assert_eq!(pull(&clinic, &mut c, device_c).erased, 1, "{name}: the restored laptop erases it again");
        assert!(c.get::<waymark_domain::Case>(kept).is_ok(), "{name}");
        c.op_log_verify().expect("the restored laptop's op log verifies");
        let pass = laptop_kit::pass(laptop_kit::PASS);
        let restored = readable(dir_c.path(), &[("vault.db", laptop_kit::raw_key_of_vault(dir_c.path(), &pass))]);
        for canary in CANARIES.iter().filter(|c| **c != "Latecanary Road") {
            assert!(!holds(&restored, canary), "{name}: the restored laptop still holds {canary:?}");
        }
        assert!(holds(&restored, KEPT), "{name}: the restored laptop keeps the other case");
        let after = everything();
        for (place, bytes) in &after {
            for canary in CANARIES {
                assert!(!holds(bytes, canary), "{name}: after the restored laptop synced, {place} holds {canary:?}");
            }
        }
        let store = &*clinic.state.store;
        let served: Vec<_> = store.case_ops(case, None).unwrap().into_iter().map(|o| o.action).collect();
        assert_eq!(served, vec![waymark_protocol::OpAction::Erase], "{name}: only the erasure of the case is served");
        let lines = store.admin_audit().unwrap();
        waymark_clinic::store::verify_audit(&lines, store.audit_bounds().unwrap(), None)
            .expect("the clinic's audit verifies");
        let line = lines.iter().find(|l| l.action == AdminAction::CaseErased).unwrap();
        assert_eq!((line.actor.as_str(), line.target.as_deref()), ("MGR1", Some(case.to_string().as_str())), "{name}");
        let erasures = store.erasures().unwrap();
        assert_eq!((erasures.len(), erasures[0].erased_by.as_str()), (1, "MGR1"), "{name}");
        // The request stays, its decisions go, and nothing more can be added to it.
        assert_eq!(store.access_requests(Some(case)).unwrap(), vec![asked.clone()], "{name}");
        assert_eq!(store.access_decisions(asked.id).unwrap(), Default::default(), "{name}");
        assert!(matches!(
            store.decide_access_item(asked.id, "x/y", &release, &sar_line(AdminAction::AccessReleased), now),
            Err(waymark_clinic::error::ClinicError::CaseErased)
        ));
        let again = waymark_domain::access::AccessRequest { id: Uuid::now_v7(), ..asked.clone() };
        assert!(matches!(
            store.add_access_request(&again, &sar_line(AdminAction::AccessRequested), now),
            Err(waymark_clinic::error::ClinicError::CaseErased)
        ));
        let copy = clinic.state.projection.as_deref().unwrap();
        copy.catch_up(store).unwrap();
        assert!(
            copy.read(|c| c.case_file(waymark_domain::CaseId(case))).is_err(),
            "{name}: the clinic's copy holds none of it"
        );
        assert!(copy.read(|c| c.case_file(waymark_domain::CaseId(kept))).is_ok(), "{name}");
        let _ = action;
        // An erased case takes no more: a reassignment of it is refused.
        assert!(matches!(
            waymark_clinic::authoring::reassign(store, clinic.state.clinic_id, case, "ISA02", "MGR1", now),
            Err(waymark_clinic::error::ClinicError::CaseErased)
        ));
    }
}
