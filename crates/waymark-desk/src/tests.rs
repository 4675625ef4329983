use super::*;
use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use serde_json::json;
use std::sync::Arc;
use waymark_domain::alerts::WarningKind;
use waymark_domain::time::ManualClock;
use waymark_domain::RecordKind;

const PASSPHRASE: &str = "lantern orbit marmalade";

fn desk(dir: &std::path::Path) -> (Desk, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()));
    let rng: EnvFactory = Box::new(|| Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(7)));
    (Desk::new(dir.to_owned(), clock.clone(), rng).with_work_factor(10), clock)
}

fn create_form(passphrase: &str, confirm: &str) -> CreateVault {
    CreateVault { advocate: "ADV7".into(), passphrase: passphrase.into(), confirm: confirm.into(), recovery_recipient: None }
}

fn fields(value: serde_json::Value) -> Fields {
    value.as_object().cloned().unwrap()
}

fn open_case(desk: &Desk) -> waymark_domain::CaseId {
    desk.open_case(NewCase {
        case: fields(json!({"reference": "D-1", "referral.source": "police", "referral.reason": "Repeated contact"})),
        victim: fields(json!({"name": "Canary Person", "address": {"lines": ["1 Canary Street"], "do_not_disclose": true}})),
    })
    .unwrap()
}

#[test]
fn first_run_refuses_a_mismatch_a_weak_passphrase_and_a_bad_recipient_before_creating_anything() {
    // Each refusal names the field the form should mark, and leaves no vault behind.
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    assert!(!desk.state().exists);
    let err = desk.create(create_form(PASSPHRASE, "lantern orbit marmalad")).unwrap_err();
    assert_eq!(err.fields[0].field, "confirm");
    let err = desk.create(create_form("password1234", "password1234")).unwrap_err();
    assert_eq!(err.fields[0].field, "passphrase");
    let mut form = create_form(PASSPHRASE, PASSPHRASE);
    form.recovery_recipient = Some("not-a-key".into());
    assert_eq!(desk.create(form).unwrap_err().fields[0].field, "recovery_recipient");
    assert!(!desk.state().exists, "nothing was created");
    let state = desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    assert!(state.exists && state.unlocked);
    assert_eq!(state.advocate.as_deref(), Some("ADV7"));
}

#[test]
fn locking_drops_the_vault_and_every_read_then_asks_to_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    open_case(&desk);
    let state = desk.lock();
    assert!(!state.unlocked && state.advocate.is_none());
    let err = desk.caseload(CaseloadQuery::default()).unwrap_err();
    assert_eq!(err.code, "locked");
    assert!(err.message.contains("Unlock"), "the message says what to do next");
    desk.unlock(PASSPHRASE.into()).unwrap();
    assert_eq!(desk.caseload(CaseloadQuery::default()).unwrap().len(), 1, "the data is still there after unlocking");
}

#[test]
fn a_wrong_passphrase_reports_the_wait_and_the_state_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, clock) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    desk.lock();
    let err = desk.unlock("the wrong words entirely".into()).unwrap_err();
    assert_eq!((err.code.as_str(), err.wait_secs), ("wrong_passphrase", Some(1)));
    let err = desk.unlock(PASSPHRASE.into()).unwrap_err();
    assert_eq!(err.code, "too_soon", "even the right passphrase waits out the delay");
    assert_eq!(desk.state().wait_secs, 1);
    clock.advance(chrono::Duration::seconds(2));
    assert_eq!(desk.state().wait_secs, 0);
    assert!(desk.unlock(PASSPHRASE.into()).unwrap().unlocked);
    assert_eq!(desk.state().failed_attempts, 0, "success resets the count");
}

#[test]
fn the_case_view_puts_the_withheld_address_first_and_counts_incidents_by_week() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    for at in ["2026-11-02T21:00", "2026-11-03T08:30", "2026-11-17T12:00"] {
        let incident = fields(json!({"occurred_at": at, "account": "Waited outside", "channel": "in_person", "behaviours": ["loitering"]}));
        desk.add_record(RecordKind::Incident, Some(case), incident).unwrap();
    }
    let view = desk.case_view(case).unwrap();
    assert_eq!(view.warnings[0].kind, WarningKind::AddressNotDisclosed);
    let counts: Vec<u32> = view.timeline.weeks.iter().map(|w| w.incidents).collect();
    assert_eq!(counts, [2, 0, 1]);
    assert_eq!(view.file.incidents.len(), 3);
    assert!(view.audit.iter().any(|e| e.action == "view"), "opening a case is audited");
}

#[test]
fn a_failed_save_names_the_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let err =
        desk.add_record(RecordKind::Incident, Some(case), fields(json!({"account": "", "channel": "text", "behaviours": []}))).unwrap_err();
    assert_eq!(err.code, "invalid");
    assert!(err.fields.iter().any(|f| f.field == "account"), "{err:?}");
    assert!(!err.message.contains("Canary"));
    assert!(desk.case_view(case).unwrap().file.incidents.is_empty());
}

#[test]
fn an_amendment_keeps_the_original_and_changes_what_the_case_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let incident = desk
        .add_record(
            RecordKind::Incident,
            Some(case),
            fields(json!({"account": "Sent texts", "channel": "text", "behaviours": ["unwanted_contact"]})),
        )
        .unwrap();
    desk.amend_incident(incident.id(), "Wrong time given".into(), fields(json!({"occurred_at": "2026-11-19T23:15"}))).unwrap();
    let view = desk.case_view(case).unwrap();
    let entry = &view.file.incidents[0];
    assert_ne!(entry.original.occurred_at, entry.current.occurred_at);
    assert_eq!(entry.current.occurred_at, Utc.with_ymd_and_hms(2026, 11, 19, 23, 15, 0).unwrap(), "November is GMT");
    let err = desk.edit_record(RecordKind::Incident, incident.id(), fields(json!({"account": "x"}))).unwrap_err();
    assert_eq!(err.code, "immutable");
}

#[test]
fn idle_lock_minutes_are_kept_per_device_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    assert_eq!(desk.state().idle_lock_minutes, 5, "five minutes by default");
    assert_eq!(desk.set_idle_lock_minutes(0).unwrap_err().fields[0].field, "idle_lock_minutes");
    desk.set_idle_lock_minutes(2).unwrap();
    let (again, _) = self::desk(dir.path());
    assert_eq!(again.state().idle_lock_minutes, 2);
}
