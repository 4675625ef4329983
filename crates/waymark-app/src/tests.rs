use super::*;
use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use serde_json::json;
use std::sync::Arc;
use waymark_domain::alerts::WarningKind;
use waymark_domain::codes::ErrorCode;
use waymark_domain::time::ManualClock;
use waymark_domain::RecordKind;

const PASSPHRASE: &str = "lantern orbit marmalade";

fn desk(dir: &std::path::Path) -> (Desk, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()));
    let rng: EnvFactory = Box::new(|| Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(7)));
    (Desk::new(dir.to_owned(), clock.clone(), rng).with_work_factor(10), clock)
}

fn create_form(passphrase: &str, confirm: &str) -> CreateVault {
    CreateVault {
        advocate: "ADV7".into(),
        passphrase: passphrase.into(),
        confirm: confirm.into(),
        recovery_recipient: None,
    }
}

fn fields(value: serde_json::Value) -> Fields {
    value.as_object().cloned().unwrap()
}

fn open_case(desk: &Desk) -> waymark_domain::CaseId {
    desk.open_case(
        NewCase {
            case: fields(
                json!({"reference": "D-1", "referral.source": "police", "referral.reason": "Repeated contact"}),
            ),
            victim: fields(
                json!({"name": "Canary Person", "address": {"lines": ["1 Canary Street"], "do_not_disclose": true}}),
            ),
        },
        false,
    )
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
    assert_eq!(err.code, ErrorCode::Locked);
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
    assert_eq!(err.code, ErrorCode::TooSoon, "even the right passphrase waits out the delay");
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
        let incident = fields(
            json!({"occurred_at": at, "account": "Waited outside", "channel": "in_person", "behaviours": ["loitering"]}),
        );
        desk.add_record(RecordKind::Incident, Some(case), incident, false).unwrap();
    }
    let view = desk.case_view(case).unwrap();
    assert_eq!(view.warnings[0].kind, WarningKind::AddressNotDisclosed);
    let counts: Vec<u32> = view.timeline.weeks.iter().map(|w| w.incidents).collect();
    assert_eq!(counts, [2, 0, 1]);
    assert_eq!(view.file.incidents.len(), 3);
    assert!(
        view.audit.iter().any(|e| e.action == waymark_vault::audit::AuditAction::View),
        "opening a case is audited"
    );
}

#[test]
fn a_failed_save_names_the_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let err = desk
        .add_record(
            RecordKind::Incident,
            Some(case),
            fields(json!({"account": "", "channel": "text", "behaviours": []})),
            false,
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.fields.iter().any(|f| f.field == "account"), "{err:?}");
    assert!(!err.message.contains("Canary"));
    assert!(desk.case_view(case).unwrap().file.incidents.is_empty());
}

#[test]
fn the_address_in_a_free_text_field_is_a_warning_the_advocate_answers() {
    // The form is told which field, never the address, and saves only when the advocate confirms.
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let incident = fields(
        json!({"account": "Followed her home to Canary St", "channel": "in_person", "behaviours": ["following"]}),
    );
    let err = desk.add_record(RecordKind::Incident, Some(case), incident.clone(), false).unwrap_err();
    assert_eq!(err.code, ErrorCode::AddressInText);
    assert_eq!(err.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["account"]);
    assert!(!err.message.contains("Canary"), "{err:?}");
    assert!(desk.case_view(case).unwrap().file.incidents.is_empty());
    desk.add_record(RecordKind::Incident, Some(case), incident, true).unwrap();
    let view = desk.case_view(case).unwrap();
    assert_eq!(view.file.incidents.len(), 1);
    assert!(view.audit.iter().any(|e| e.action == waymark_vault::audit::AuditAction::AddressInTextConfirmed));
    // Confirmed is not forgotten: the case header says so until it is reworded.
    let warning = view
        .warnings
        .iter()
        .find(|w| w.kind == waymark_domain::alerts::WarningKind::AddressInText)
        .expect("a header warning");
    assert!(warning.text.contains("1 record (incident)") && !warning.text.contains("Canary"), "{}", warning.text);
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
            false,
        )
        .unwrap();
    desk.amend_incident(
        incident.id(),
        "Wrong time given".into(),
        fields(json!({"occurred_at": "2026-11-19T23:15"})),
        false,
    )
    .unwrap();
    let view = desk.case_view(case).unwrap();
    let entry = &view.file.incidents[0];
    assert_ne!(entry.original.occurred_at, entry.current.occurred_at);
    assert_eq!(entry.current.occurred_at, Utc.with_ymd_and_hms(2026, 11, 19, 23, 15, 0).unwrap(), "November is GMT");
    let err =
        desk.edit_record(RecordKind::Incident, incident.id(), fields(json!({"account": "x"})), false).unwrap_err();
    assert_eq!(err.code, ErrorCode::Immutable);
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

fn add_plan(desk: &Desk, case: waymark_domain::CaseId) {
    use waymark_domain::{PlanAction, PlanSection, PlanSectionEntry, SafetyPlan, SafetyPlanId, Supporter};
    let made_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let plan = SafetyPlan {
        id: SafetyPlanId::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(9),
        ),
        case_id: case,
        version: 1,
        made_on,
        review_on: made_on + chrono::Duration::days(28),
        made_by: "ADV7".into(),
        code_word: Some("teapot".into()),
        safe_places: vec!["The library".into()],
        sections: vec![PlanSectionEntry {
            section: PlanSection::Home,
            actions: vec![PlanAction { action: "Keys by the door".into(), who: "advocate".into(), review_on: None }],
            notes: None,
        }],
        support_network: vec![Supporter {
            name: "Canary Sister".into(),
            phone: Some("07700 900001".into()),
            knows: None,
            neutral_label: "Family".into(),
        }],
    };
    desk.with_vault(|v| Ok(v.create(plan)?)).unwrap();
}

#[test]
fn print_previews_in_memory_saves_only_where_asked_and_records_each_print() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(&dir.path().join("vault"));
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    add_plan(&desk, case);
    let form = PrintForm {
        document: DocumentKind::SafetyPlan,
        case_id: Some(case),
        version: None,
        discreet: true,
        large_print: false,
        limit: None,
        address_confirmed: false,
        quarter: None,
        request: None,
    };
    let preview = desk.print_preview(form.clone()).unwrap();
    assert_eq!(preview.file_name, "my-plan.pdf", "a discreet file name");
    assert!(!preview.pages.is_empty() && preview.pages.iter().all(|p| p.starts_with("data:image/png;base64,")));
    let out = dir.path().join("chosen");
    std::fs::create_dir_all(&out).unwrap();
    // The extension is added when the dialog returns a bare name.
    let done = desk.print_save(&out.join("for-client")).unwrap();
    assert_eq!(done.destination, Destination::File);
    let saved = std::fs::read(out.join("for-client.pdf")).unwrap();
    assert!(saved.starts_with(b"%PDF-"));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "no temporary file is left beside it");
    // The dialog asked about replacing "for-client", not "for-client.pdf": that file is never replaced unasked.
    std::fs::write(out.join("for-client.pdf"), b"kept").unwrap();
    assert_eq!(desk.print_save(&out.join("for-client")).unwrap_err().code, ErrorCode::FileExists);
    assert_eq!(std::fs::read(out.join("for-client.pdf")).unwrap(), b"kept");
    // Through the dialog: it is asked again, with the full name; cancelling then saves nothing.
    let asked = std::sync::Mutex::new(Vec::new());
    let cancelled = desk
        .print_save_asking("my-plan.pdf".into(), |name| {
            asked.lock().unwrap().push(name);
            (asked.lock().unwrap().len() == 1).then(|| out.join("for-client"))
        })
        .unwrap();
    assert!(cancelled.is_none());
    assert_eq!(*asked.lock().unwrap(), ["my-plan.pdf", "for-client.pdf"]);
    assert_eq!(std::fs::read(out.join("for-client.pdf")).unwrap(), b"kept");
    // Choosing the full name in the dialog (which asked about replacing it) replaces it.
    desk.print_save(&out.join("for-client.pdf")).unwrap();
    assert!(std::fs::read(out.join("for-client.pdf")).unwrap().starts_with(b"%PDF-"));
    desk.print_to_printer().unwrap();
    let audit = desk.case_view(case).unwrap().audit;
    let prints: Vec<_> = audit.iter().filter(|e| e.action == waymark_vault::audit::AuditAction::Print).collect();
    assert_eq!(prints.len(), 3, "two saves and one print");

    // Locking drops the held document with the vault.
    desk.lock();
    assert_eq!(desk.print_to_printer().unwrap_err().code, ErrorCode::Locked);
    desk.unlock(PASSPHRASE.into()).unwrap();
    assert_eq!(desk.print_to_printer().unwrap_err().code, ErrorCode::NoPreview);
    assert_eq!(desk.print_save(std::path::Path::new("relative.pdf")).unwrap_err().fields[0].field, "path");
}

#[test]
fn print_errors_reach_the_ui_with_a_code_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let mut form = PrintForm {
        document: DocumentKind::Chronology,
        case_id: None,
        version: None,
        discreet: false,
        large_print: false,
        limit: None,
        address_confirmed: false,
        quarter: None,
        request: None,
    };
    assert_eq!(desk.print_preview(form.clone()).unwrap_err().fields[0].field, "case_id");
    form.document = DocumentKind::SafetyPlan;
    form.case_id = Some(case);
    let err = desk.print_preview(form.clone()).unwrap_err();
    assert_eq!(err.code, ErrorCode::NoSafetyPlan);
    assert!(err.message.starts_with("This case has no safety plan yet") && err.message.ends_with('.'));
    form.document = DocumentKind::Hearings;
    form.limit = Some(0);
    assert_eq!(desk.print_preview(form).unwrap_err().fields[0].field, "limit");
}

#[test]
fn the_quarterly_return_counts_this_caseload_and_each_saved_table_is_audited() {
    // Why: an advocate's own return must count what the laptop holds, hide
    // a count of one person, and leave no saved file without its audit line.
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    open_case(&desk);
    let last = desk.quarterly_return(None).unwrap();
    assert_eq!(last.quarter.wire(), "2026-27-Q2", "20 November is in Q3: the last full quarter is Q2");
    let key = |r: &QuarterlyReturn, k: waymark_domain::report::FigureKey| r.figure(k).value.shown();
    use waymark_domain::report::FigureKey;
    assert_eq!(key(&last, FigureKey::VictimsNew), "0");
    let q3 = Quarter::from_wire("2026-27-Q3").unwrap();
    let this = desk.quarterly_return(Some(q3)).unwrap();
    assert_eq!(key(&this, FigureKey::VictimsNew), "1");
    assert_eq!(key(&this, FigureKey::ReferralsReceived), "[c]", "one person is a count that could identify them");
    assert_eq!(key(&this, FigureKey::MappaReferrals), "[x]", "held at the clinic");

    let out = tempfile::tempdir().unwrap();
    let asked = std::sync::Mutex::new(Vec::new());
    let saved = desk
        .quarterly_return_save_asking(q3, TableFormat::Csv, |name| {
            asked.lock().unwrap().push(name);
            Some(out.path().join("for-the-commissioner"))
        })
        .unwrap();
    assert!(saved.is_some());
    assert_eq!(*asked.lock().unwrap(), ["quarterly-return-2026-27-Q3-caseload.csv"]);
    let text = std::fs::read_to_string(out.path().join("for-the-commissioner.csv")).unwrap();
    assert!(text.starts_with("quarter,section,figure_key"), "the extension is added: {text}");
    assert!(!text.contains("D-1") && !text.contains("Canary"), "counts only");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "no temporary file left beside it");
    let cancelled = desk.quarterly_return_save_asking(q3, TableFormat::Xlsx, |_| None).unwrap();
    assert!(cancelled.is_none());
    let exports = desk
        .with_vault(|v| Ok(v.audit_events(None, 100)?))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == waymark_vault::audit::AuditAction::Export)
        .collect::<Vec<_>>();
    assert_eq!(exports.len(), 1, "the cancelled save wrote and recorded nothing");
    assert_eq!(exports[0].detail["quarter"], "2026-27-Q3");
    assert_eq!(exports[0].detail["format"], "csv");
    assert_eq!(
        desk.quarterly_return_save(q3, TableFormat::Csv, std::path::Path::new("r.csv")).unwrap_err().fields[0].field,
        "path"
    );
}

#[test]
fn a_subject_access_request_is_answered_from_the_screens_with_what_the_advocate_released() {
    // Why: the screens must reach the vault's rules, not a copy of them: a
    // perpetrator's request names his record, a release changes the answer,
    // and the saved JSON holds only what was decided, with its audit line.
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    let case = open_case(&desk);
    let his = desk
        .add_record(
            RecordKind::Perpetrator,
            Some(case),
            fields(json!({"names": ["Percy Sample"], "relationship": "ex_intimate_partner"})),
            false,
        )
        .unwrap()
        .id();
    let received = chrono::NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
    let refused = desk.access_request(case, AccessSubject::Perpetrator, None, received).unwrap_err();
    assert_eq!(refused.fields[0].field, "perpetrator_id");
    let request = desk.access_request(case, AccessSubject::Victim, None, received).unwrap();
    assert_eq!(request.due_on, chrono::NaiveDate::from_ymd_opt(2026, 12, 18).unwrap());
    assert_eq!(desk.access_requests(Some(case)).unwrap(), vec![request.clone()]);
    let review = desk.access_review(request.id).unwrap();
    let his_name = review.items.iter().find(|i| i.record_id == his && i.text.contains("Percy")).unwrap().clone();
    let early = tempfile::tempdir().unwrap();
    assert_eq!(
        desk.access_save_json(request.id, &early.path().join("early.json")).unwrap_err().fields[0].field,
        "identity_checked",
        "no answer before the requester's identity is checked"
    );
    let checked = desk.access_identity_checked(request.id, received).unwrap();
    assert_eq!(checked.identity_checked.unwrap().by, "ADV7");
    assert!(his_name.withheld.is_some() && his_name.releasable);

    let out = tempfile::tempdir().unwrap();
    let save = |desk: &Desk, name: &str| {
        desk.access_save_json_asking(request.id, |suggested| {
            assert!(suggested.starts_with("subject-access-") && suggested.ends_with(".json"), "{suggested}");
            Some(out.path().join(name))
        })
        .unwrap()
        .unwrap()
    };
    save(&desk, "before");
    let before = std::fs::read_to_string(out.path().join("before.json")).unwrap();
    assert!(before.contains("Canary Person") && !before.contains("Percy"), "withheld until released");
    let review = desk.access_release(request.id, his_name.key.clone()).unwrap();
    assert_eq!(review.released, vec![his_name.key.clone()]);
    let own = review.items.iter().find(|i| i.text.contains("Repeated contact")).unwrap().key.clone();
    desk.access_withhold(request.id, own, waymark_domain::ExemptionReason::Crime).unwrap();
    save(&desk, "after");
    let after = std::fs::read_to_string(out.path().join("after.json")).unwrap();
    assert!(after.contains("Percy") && !after.contains("Repeated contact"), "released, and exempt");
    assert!(desk.access_save_json_asking(request.id, |_| None).unwrap().is_none());
    let exports = desk
        .with_vault(|v| Ok(v.audit_events(None, 100)?))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == waymark_vault::audit::AuditAction::Export)
        .count();
    assert_eq!(exports, 2, "each saved answer, not the cancelled one");
}

/// A clinic server in this process, on a loopback port.
struct TestClinic {
    url: String,
    clinic: waymark_clinic::Clinic,
    store: Arc<dyn waymark_clinic::ClinicStore>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl TestClinic {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let passphrase = secrecy::SecretString::from("clinic test pass words".to_owned());
        let (clinic, _) = waymark_clinic::Clinic::init(
            dir.path(),
            &passphrase,
            &["127.0.0.1".into()],
            10,
            waymark_clinic::system_now(),
        )
        .unwrap();
        let store: Arc<dyn waymark_clinic::ClinicStore> = clinic.open_store().unwrap();
        let state = waymark_clinic::AppState {
            store: store.clone(),
            clinic_id: clinic.info.clinic_id,
            keys: clinic.keys.clone(),
            limits: waymark_protocol::Limits::default(),
            deadlines: waymark_clinic::server::Deadlines::default(),
            // The clinic's clock reads what the desk's does, as two real clocks would.
            clock: Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()),
            throttle: waymark_clinic::server::Throttle::new(waymark_clinic::server::RateLimits::default()),
            service: Arc::new(waymark_domain::records::ServiceRules::shipped()),
            projection: None,
            workspace_ui: None,
            identity: None,
            templates: Default::default(),
            updates: None,
            push_order: std::sync::Arc::default(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let tls = clinic.tls_config(None).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.spawn(waymark_clinic::server::serve(listener, tls, state));
        Self { url, clinic, store, _dir: dir, _runtime: runtime }
    }

    /// A code bound to the desk tests' advocate, made the way the clinic's `enrol` command makes it.
    fn code(&self) -> String {
        if self.store.staff("ADV7").unwrap().is_none() {
            let member = waymark_clinic::StaffMember {
                code: "ADV7".into(),
                name: "Desk test advocate".into(),
                role: waymark_clinic::StaffRole::Advocate,
                active: true,
                added_at: waymark_clinic::system_now(),
                agency: None,
            };
            self.store.add_staff(&member).unwrap();
        }
        let request = waymark_clinic::enrolment::CodeRequest { advocate: "ADV7", url: &self.url, ca_issued: false };
        let (code, _) = waymark_clinic::enrolment::issue_code(
            self.store.as_ref(),
            &self.clinic.info,
            &request,
            waymark_clinic::system_now(),
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        code.to_text()
    }
}

#[test]
fn enrolling_from_the_app_syncs_what_was_waiting_and_a_revocation_erases_the_vault() {
    let clinic = TestClinic::start();
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    open_case(&desk);
    let before = desk.sync_view().unwrap();
    assert!(!before.status.enrolled);
    assert_eq!(before.status.pending, 2, "the case and its victim wait for the clinic");

    // A damaged code is refused with the field named, and nothing is enrolled.
    let err = desk.sync_enrol("WAYMARK1-damaged".into()).unwrap_err();
    assert_eq!(err.fields[0].field, "code");
    assert!(!desk.sync_view().unwrap().status.enrolled);

    // Without the background thread, enrolling syncs at once.
    let view = desk.sync_enrol(clinic.code()).unwrap();
    assert!(view.status.enrolled && view.status.last_sync_at.is_some());
    assert_eq!((view.status.pending, view.status.acked_through), (0, 2));
    assert_eq!(
        view.status.problems, 0,
        "what was written before enrolling is accepted, not refused: {:?}",
        view.problems
    );
    assert_eq!(view.clinic_url.as_deref(), Some(clinic.url.as_str()));

    // Locked, nothing is shown.
    desk.lock();
    assert_eq!(desk.sync_view().unwrap_err().code, ErrorCode::Locked);
    desk.unlock(PASSPHRASE.into()).unwrap();

    // Lost laptop: the clinic revokes it; the next sync erases the vault and says so.
    let device = desk.with_vault(|v| Ok(v.device().as_uuid())).unwrap();
    assert!(clinic.store.revoke(device, waymark_clinic::system_now()).unwrap());
    assert_eq!(desk.sync_now().unwrap_err().code, ErrorCode::Wiped);
    let state = desk.state();
    assert!(!state.exists && !state.unlocked, "no vault remains");
    assert!(state.wiped_by_clinic.is_some(), "the app can say why");
    // Setting up again clears the notice.
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    assert!(desk.state().wiped_by_clinic.is_none());
}

/// The shell calls the desk from async commands. The blocking HTTP client
/// panics inside an async runtime, which took the app down on enrolment, so
/// enrolling and syncing must work from there too.
#[test]
fn enrolling_and_syncing_work_when_called_from_an_async_command() {
    let clinic = TestClinic::start();
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path());
    desk.create(create_form(PASSPHRASE, PASSPHRASE)).unwrap();
    open_case(&desk);
    let commands = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let view = commands.block_on(async { desk.sync_enrol(clinic.code()) }).unwrap();
    assert_eq!((view.status.pending, view.status.acked_through), (0, 2));
    desk.open_case(
        NewCase {
            case: fields(json!({"reference": "D-2", "referral.source": "self", "referral.reason": "Messages"})),
            victim: fields(json!({"name": "Second Canary"})),
        },
        false,
    )
    .unwrap();
    let view = commands.block_on(async { desk.sync_now() }).unwrap();
    assert_eq!((view.status.pending, view.status.acked_through), (0, 4), "the second case and its victim went up");
}
