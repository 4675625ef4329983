//! Vault behaviour, against a real SQLCipher file in a temp folder.

use crate::backup::{BackupKey, BackupTo};
use crate::queries::{CaseloadFilter, SortBy};
use crate::{Env, InitOptions, Mutation, Vault, VaultError};
use chrono::{Duration, TimeZone, Utc};
use rand::SeedableRng;
use std::path::Path;
use std::sync::Arc;
use waymark_domain::codes::ErrorCode;
use waymark_domain::time::{Clock, ManualClock};
use waymark_domain::*;

pub(crate) use crate::kit::{add_case, clock, env_at, fast_options, new_vault, pass, patch, PASS};

fn count(v: &Vault, table: &str) -> i64 {
    v.conn().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn every_write_appends_one_op_one_outbox_entry_and_one_audit_event() {
    // The sync issue depends on the op log being complete.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let audit_before = count(&v, "audit");
    let case = add_case(&mut v, "HSC-2026-0001");
    v.add(
        RecordKind::Incident,
        Some(case),
        &patch(&["account=Waited outside", "channel=in_person", "behaviours+=loitering"]),
    )
    .unwrap();
    v.edit(RecordKind::Case, case.as_uuid(), &patch(&["persistently_targeted:=true"])).unwrap();
    assert_eq!(count(&v, "ops"), 3);
    assert_eq!(count(&v, "outbox"), 3);
    assert_eq!(count(&v, "audit") - audit_before, 3);
    let (action, changes): (String, String) = v
        .conn()
        .query_row("SELECT action, changes FROM ops WHERE seq = 3", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(action, "update");
    let changes: serde_json::Value = serde_json::from_str(&changes).unwrap();
    // An update names, per field, the write it replaces: here the case's create (op 1).
    let create: String = v.conn().query_row("SELECT op_id FROM ops WHERE seq = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(
        changes,
        serde_json::json!({"new": {"persistently_targeted": true}, "old": {"persistently_targeted": false}, "base": {"persistently_targeted": [create]}})
    );
    let hlcs: Vec<String> = v
        .conn()
        .prepare("SELECT hlc FROM ops ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(hlcs.windows(2).all(|w| w[0] < w[1]), "HLC must increase with the sequence");
}

#[test]
fn a_rejected_mutation_writes_nothing_at_all() {
    // One bad record in a batch rolls back the good ones before it, their ops and audit events.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "HSC-1");
    let (ops, audit, incidents) = (count(&v, "ops"), count(&v, "audit"), count(&v, "incidents"));
    let good = v
        .add(RecordKind::Incident, Some(case), &patch(&["account=a", "channel=text", "behaviours+=unwanted_contact"]))
        .unwrap();
    let mut bad = match good.clone() {
        Record::Incident(i) => i,
        _ => unreachable!(),
    };
    bad.id = IncidentId::new(c.now(), &mut rand::rngs::OsRng);
    let mut another = bad.clone();
    another.id = IncidentId::new(c.now(), &mut rand::rngs::OsRng);
    bad.behaviours.clear();
    let err = v
        .commit(vec![Mutation::Create(Record::Incident(another)), Mutation::Create(Record::Incident(bad))])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert!(err.to_string().contains("behaviours needs at least one behaviour"), "{err}");
    assert_eq!(count(&v, "incidents"), incidents + 1);
    assert_eq!(count(&v, "ops"), ops + 1);
    assert_eq!(count(&v, "audit"), audit + 1);
}

#[test]
fn incidents_are_never_edited_and_amendments_keep_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "HSC-2");
    let incident = v
        .add(
            RecordKind::Incident,
            Some(case),
            &patch(&["account=Seen at the gate", "channel=in_person", "behaviours+=loitering"]),
        )
        .unwrap();
    let err = v.edit(RecordKind::Incident, incident.id(), &patch(&["account=changed"])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Immutable);
    let id = incident.id().to_string();
    v.add(
        RecordKind::IncidentAmendment,
        Some(case),
        &patch(&[
            &format!("incident_id={id}"),
            "reason=Victim corrected the place",
            "changes.location=At the school gate",
        ]),
    )
    .unwrap();
    // An amendment that would make the incident invalid is refused, naming the field.
    let err = v
        .add(
            RecordKind::IncidentAmendment,
            Some(case),
            &patch(&[&format!("incident_id={id}"), "reason=oops", "changes.behaviours:=[]"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("changes.behaviours"), "{err}");
    let err = v
        .add(
            RecordKind::IncidentAmendment,
            Some(case),
            &patch(&[&format!("incident_id={id}"), "reason=x", "changes.recorded_by=ME"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("changes.recorded_by"), "{err}");
    let file = v.case_file(case).unwrap();
    let entry = &file.incidents[0];
    assert_eq!(entry.original.location, None);
    assert_eq!(entry.current.location.as_deref(), Some("At the school gate"));
    assert_eq!(entry.amendments.len(), 1);
}

#[test]
fn references_must_exist_in_the_same_case() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let a = add_case(&mut v, "A-1");
    let b = add_case(&mut v, "B-1");
    let order = v
        .add(
            RecordKind::ProtectiveOrder,
            Some(a),
            &patch(&[
                "order_type=non_molestation_order",
                "issued_by=Family court",
                "made_on=2026-11-01",
                "expiry.kind=until_further_order",
            ]),
        )
        .unwrap();
    let err = v
        .add(RecordKind::Breach, Some(b), &patch(&[&format!("order_id={}", order.id()), "occurred_on=2026-11-10"]))
        .unwrap_err();
    assert!(err.to_string().contains("order_id refers to a order in another case"), "{err}");
    let err = v
        .add(
            RecordKind::Breach,
            Some(a),
            &patch(&["order_id=0190b6a0-0000-7000-8000-000000000000", "occurred_on=2026-11-10"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    v.add(RecordKind::Breach, Some(a), &patch(&[&format!("order_id={}", order.id()), "occurred_on=2026-11-10"]))
        .unwrap();
}

#[test]
fn law_rules_are_enforced_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "L-1");
    // An SPO must run at least two years (Stalking Protection Act 2019).
    let err = v
        .add(
            RecordKind::ProtectiveOrder,
            Some(case),
            &patch(&[
                "order_type=spo",
                "issued_by=MC",
                "made_on=2026-11-01",
                "expiry.kind=on",
                "expiry.date=2027-11-01",
            ]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("expiry.date is less than 2 years after made_on"), "{err}");
    let err = v
        .add(
            RecordKind::ProtectiveOrder,
            Some(case),
            &patch(&[
                "order_type=restraining_order_conviction",
                "issued_by=CC",
                "made_on=2026-11-01",
                "expiry.kind=on",
                "expiry.date=2026-10-01",
            ]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("expiry.date is before made_on"), "{err}");
    let spo = v
        .add(
            RecordKind::ProtectiveOrder,
            Some(case),
            &patch(&[
                "order_type=spo",
                "issued_by=MC",
                "made_on=2026-11-01",
                "served_on=2026-11-02",
                "expiry.kind=until_further_order",
            ]),
        )
        .unwrap();
    let file = v.case_file(case).unwrap();
    assert_eq!(file.orders[0].order.id.as_uuid(), spo.id());
    assert_eq!(file.orders[0].notification_deadline, chrono::NaiveDate::from_ymd_opt(2026, 11, 5));
    assert!(file.orders[0].in_force_today);
}

#[test]
fn a_risk_judgement_below_the_count_needs_a_rationale_and_sets_the_case_risk() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "R-1");
    let all_yes: Vec<String> = (1..=27).map(|n| format!("answers.d{n}.answer=yes")).collect();
    let mut items: Vec<&str> = all_yes.iter().map(String::as_str).collect();
    items.extend(["instrument=dash", "judged_level=medium", "next_review_on=2026-12-01"]);
    let err = v.add(RecordKind::RiskAssessment, Some(case), &patch(&items)).unwrap_err();
    assert!(err.to_string().contains("rationale is required"), "{err}");
    items.push("rationale=Perpetrator now in custody; reviewed with the clinic");
    v.add(RecordKind::RiskAssessment, Some(case), &patch(&items)).unwrap();
    let case_now: Case = v.get(case.as_uuid()).unwrap();
    assert_eq!(case_now.risk_level, Some(RiskLevel::Medium));
    assert_eq!(case_now.risk_review_on, chrono::NaiveDate::from_ymd_opt(2026, 12, 1));
    // An unanswered question is named.
    let err = v
        .add(
            RecordKind::RiskAssessment,
            Some(case),
            &patch(&["instrument=s-dash", "judged_level=high", "next_review_on=2026-12-01"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("answers.s1 is unanswered"), "{err}");
}

#[test]
fn safety_plans_are_versioned_and_a_new_version_starts_from_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "P-1");
    v.add(
        RecordKind::SafetyPlan,
        Some(case),
        &patch(&[
            "review_on=2026-12-20",
            "code_word=pineapple",
            "sections:=[{\"section\":\"home\",\"actions\":[{\"action\":\"Fit a chain\",\"who\":\"me\"}]}]",
        ]),
    )
    .unwrap();
    c.advance(Duration::days(3));
    v.add(RecordKind::SafetyPlan, Some(case), &patch(&["code_word=mango"])).unwrap();
    let plans: Vec<SafetyPlan> = v.list(case).unwrap();
    assert_eq!(plans.iter().map(|p| p.version).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(plans[0].code_word.as_deref(), Some("pineapple"));
    assert_eq!(plans[1].code_word.as_deref(), Some("mango"));
    assert_eq!(plans[1].sections, plans[0].sections);
    let err = v.edit(RecordKind::SafetyPlan, plans[0].id.as_uuid(), &patch(&["code_word=x"])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Immutable);
}

#[test]
fn case_references_are_unique_and_one_victim_per_case() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "U-1");
    let err = v
        .add(RecordKind::Case, None, &patch(&["reference=U-1", "referral.source=police", "referral.reason=x"]))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Duplicate);
    v.add(RecordKind::Victim, Some(case), &patch(&["name=Test Person"])).unwrap();
    let err = v.add(RecordKind::Victim, Some(case), &patch(&["name=Another"])).unwrap_err();
    assert!(err.to_string().contains("already has a victim"), "{err}");
}

#[test]
fn caseload_counts_incidents_finds_the_next_hearing_and_searches_names() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let a = add_case(&mut v, "S-1");
    let b = add_case(&mut v, "S-2");
    v.add(RecordKind::Victim, Some(a), &patch(&["name=Robin Example", "preferred_name=Rob"])).unwrap();
    v.add(
        RecordKind::Perpetrator,
        Some(b),
        &patch(&["names:=[\"Kit Notreal\"]", "aliases:=[\"KN99\"]", "relationship=stranger"]),
    )
    .unwrap();
    for _ in 0..3 {
        v.add(RecordKind::Incident, Some(a), &patch(&["account=x", "channel=text", "behaviours+=unwanted_contact"]))
            .unwrap();
    }
    v.add(RecordKind::Hearing, Some(a), &patch(&["court=Demo MC", "hearing_type=trial", "starts_at=2026-11-20 10:00"]))
        .unwrap();
    v.add(
        RecordKind::Hearing,
        Some(a),
        &patch(&["court=Demo MC", "hearing_type=sentencing", "starts_at=2026-12-20 10:00"]),
    )
    .unwrap();
    v.add(RecordKind::Contact, Some(a), &patch(&["method=phone", "summary=Check-in", "at=2026-11-19 12:00"])).unwrap();
    let rows = v.caseload(&CaseloadFilter::default()).unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows.iter().find(|r| r.case_id == a).unwrap();
    assert_eq!(row.incidents, 3);
    assert_eq!(row.victim.as_deref(), Some("Rob"));
    assert_eq!(row.next_hearing, Some(Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap()));
    assert_eq!(row.days_since_contact, Some(3));
    let by_name = v.caseload(&CaseloadFilter { search: Some("robin".into()), ..Default::default() }).unwrap();
    assert_eq!(by_name.iter().map(|r| r.case_id).collect::<Vec<_>>(), vec![a]);
    let by_alias = v.caseload(&CaseloadFilter { search: Some("kn99".into()), ..Default::default() }).unwrap();
    assert_eq!(by_alias.iter().map(|r| r.case_id).collect::<Vec<_>>(), vec![b]);
    let wildcard = v.caseload(&CaseloadFilter { search: Some("%".into()), ..Default::default() }).unwrap();
    assert!(wildcard.is_empty(), "a literal % must not match everything");
    let sorted = v.caseload(&CaseloadFilter { sort: SortBy::NextHearing, ..Default::default() }).unwrap();
    assert_eq!(sorted[0].case_id, a);
}

#[test]
fn every_kind_lists_in_the_order_its_rules_declare() {
    // The order a kind's rules name must be columns its table keeps, or a
    // case's records of that kind could not be listed at all.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "L-1");
    for kind in RecordKind::ALL.iter().copied() {
        v.list_kind(kind, case).unwrap_or_else(|e| panic!("{}: {e}", kind.wire()));
    }
    for at in ["2026-11-20 10:00", "2026-11-18 10:00", "2026-11-19 10:00"] {
        v.add(
            RecordKind::Hearing,
            Some(case),
            &patch(&["court=Demo MC", "hearing_type=trial", &format!("starts_at={at}")]),
        )
        .unwrap();
    }
    let listed: Vec<_> = v.list_kind(RecordKind::Hearing, case).unwrap();
    let typed: Vec<Hearing> = v.list(case).unwrap();
    let days: Vec<u32> = typed.iter().map(|h| chrono::Datelike::day(&h.starts_at)).collect();
    assert_eq!(days, vec![18, 19, 20], "hearings come by date");
    assert_eq!(
        listed.iter().map(Record::id).collect::<Vec<_>>(),
        typed.iter().map(|h| h.id.as_uuid()).collect::<Vec<_>>()
    );
}

#[test]
fn views_and_lists_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "V-1");
    v.case_file(case).unwrap();
    v.caseload(&CaseloadFilter::default()).unwrap();
    let events = v.audit_events(None, 10).unwrap();
    let actions: Vec<crate::audit::AuditAction> = events.iter().map(|e| e.action).collect();
    assert_eq!(&actions[..2], &[crate::audit::AuditAction::List, crate::audit::AuditAction::View]);
    assert_eq!(events[1].case_id.as_deref(), Some(case.to_string().as_str()));
    assert_eq!(events[1].actor, "ADV-7");
}

#[test]
fn audit_verify_detects_a_changed_row_and_a_deleted_row() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    for n in 0..4 {
        add_case(&mut v, &format!("T-{n}"));
    }
    assert_eq!(v.audit_verify().unwrap().events, 5);
    // The triggers refuse tampering through SQL ...
    assert!(v.conn().execute("UPDATE audit SET actor = 'X' WHERE seq = 2", []).is_err());
    // ... so someone holding the key would drop them first. The chain still catches it.
    v.conn().execute_batch("DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;").unwrap();
    v.conn().execute("UPDATE audit SET actor = 'X' WHERE seq = 2", []).unwrap();
    let err = v.audit_verify().unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuditBroken);
    assert!(err.to_string().contains("event 2 was changed"), "{err}");
    v.conn().execute("UPDATE audit SET actor = 'ADV-7' WHERE seq = 2", []).unwrap();
    v.audit_verify().unwrap();
    v.conn().execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    assert!(v.audit_verify().unwrap_err().to_string().contains("event 3 is missing"));
}

#[test]
fn deleting_the_newest_audit_events_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    add_case(&mut v, "T-1");
    v.conn()
        .execute_batch(
            "DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit);",
        )
        .unwrap();
    assert!(v.audit_verify().unwrap_err().to_string().contains("latest events were removed"));
}

#[test]
fn wrong_passphrase_changes_nothing_and_each_attempt_waits_longer() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    new_vault(dir.path(), &c).lock();
    let key_before = std::fs::read(dir.path().join("vault.key")).unwrap();
    let db_before = std::fs::read(dir.path().join("vault.db")).unwrap();
    let err = Vault::unlock(dir.path(), &pass("wrong wrong wrong"), env_at(&c)).unwrap_err();
    assert!(matches!(err, VaultError::WrongPassphrase { failures: 1, wait_secs: 1 }), "{err:?}");
    // Too soon: refused without even trying the passphrase.
    let err = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap_err();
    assert!(matches!(err, VaultError::TooSoon { wait_secs: 1 }), "{err:?}");
    c.advance(Duration::seconds(1));
    let err = Vault::unlock(dir.path(), &pass("wrong again!!"), env_at(&c)).unwrap_err();
    assert!(matches!(err, VaultError::WrongPassphrase { failures: 2, wait_secs: 2 }), "{err:?}");
    assert_eq!(std::fs::read(dir.path().join("vault.key")).unwrap(), key_before);
    assert_eq!(std::fs::read(dir.path().join("vault.db")).unwrap(), db_before);
    c.advance(Duration::seconds(2));
    Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap().lock();
    assert_eq!(crate::throttle::Attempts::load(dir.path()).failures, 0);
}

#[test]
fn passphrase_change_and_recovery_keep_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let clinic = age::x25519::Identity::generate();
    let options = InitOptions { recovery: Some(clinic.to_public()), ..fast_options() };
    let mut v = Vault::init(dir.path(), &pass(PASS), &options, env_at(&c)).unwrap();
    let case = add_case(&mut v, "K-1");
    let key_id = v.key_id();
    v.lock();
    Vault::change_passphrase(dir.path(), &pass(PASS), &pass("new passphrase words"), 4, env_at(&c)).unwrap();
    assert_eq!(Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap_err().code(), ErrorCode::WrongPassphrase);
    c.advance(Duration::seconds(5));
    let v = Vault::unlock(dir.path(), &pass("new passphrase words"), env_at(&c)).unwrap();
    assert_eq!(v.key_id(), key_id, "the database key itself must not change");
    v.lock();
    // Forgotten: the clinic's recovery identity sets a new one.
    Vault::recover(dir.path(), &clinic, &pass("recovered pass words"), 4, env_at(&c)).unwrap();
    let stranger = age::x25519::Identity::generate();
    assert_eq!(
        Vault::recover(dir.path(), &stranger, &pass("attacker words here"), 4, env_at(&c)).unwrap_err().code(),
        ErrorCode::WrongRecoveryIdentity
    );
    let mut v = Vault::unlock(dir.path(), &pass("recovered pass words"), env_at(&c)).unwrap();
    assert_eq!(v.case_file(case).unwrap().case.reference, "K-1");
    let actions: Vec<crate::audit::AuditAction> =
        v.audit_events(None, 50).unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&crate::audit::AuditAction::PassphraseChanged)
            && actions.contains(&crate::audit::AuditAction::PassphraseRecovered)
    );
}

#[test]
fn the_victims_address_in_a_notes_field_is_caught_before_it_is_saved() {
    // A council was reprimanded after staff typed a victim's new address into
    // a notes field that a letter then took to the old, shared address.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "AG-1");
    v.add(
        RecordKind::Victim,
        Some(case),
        &patch(&[
            "name=Test Person",
            "address.lines:=[\"14 Larkspur Close\",\"Hillside\"]",
            "address.postcode=ZZ99 1AA",
        ]),
    )
    .unwrap();
    let ops_before = count(&v, "ops");
    let mention = patch(&[
        "account=She has moved to larkspur cl., post to zz991aa",
        "channel=in_person",
        "behaviours+=loitering",
    ]);
    let err = v.add(RecordKind::Incident, Some(case), &mention).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AddressInText);
    let message = err.to_string();
    assert!(
        message.contains("account") && !message.to_lowercase().contains("larkspur") && !message.contains("ZZ99"),
        "{message}"
    );
    assert_eq!(count(&v, "ops"), ops_before, "nothing was written");
    // Ordinary text, and the town alone, pass.
    v.add(
        RecordKind::Incident,
        Some(case),
        &patch(&["account=Seen in Hillside town centre", "channel=in_person", "behaviours+=loitering"]),
    )
    .unwrap();
    // Confirmed: saved, and the audit names the field, never the text.
    let saved = v.with_address_confirmed(|v| v.add(RecordKind::Incident, Some(case), &mention)).unwrap();
    let events = v.audit_events(Some(case), 20).unwrap();
    let confirmed = events
        .iter()
        .find(|e| e.action == crate::audit::AuditAction::AddressInTextConfirmed)
        .expect("the confirmation is audited");
    assert_eq!(confirmed.record_id.as_deref(), Some(saved.id().to_string().as_str()));
    assert_eq!(confirmed.detail["fields"], serde_json::json!(["account"]));
    // The confirmation covers that one save only.
    let contact = patch(&["method=phone", "summary=Agreed to meet at 14 Larkspur Close", "at=2026-11-19 12:00"]);
    assert_eq!(v.add(RecordKind::Contact, Some(case), &contact).unwrap_err().code(), ErrorCode::AddressInText);
    // An order's exclusion zone names the street on purpose: its legal text, not a notes field.
    let zone = patch(&[
        "order_type=spo",
        "issued_by=Example Magistrates' Court",
        "made_on=2026-11-20",
        "conditions:=[{\"kind\": \"exclusion_zone\", \"text\": \"Not to enter Larkspur Close\"}]",
    ]);
    v.add(RecordKind::ProtectiveOrder, Some(case), &zone).expect("an exclusion zone is saved without a warning");
    // A new case whose referral reason holds the victim's postcode is caught in the same transaction.
    let err = v
        .open_case(
            &patch(&["reference=AG-2", "referral.source=police", "referral.reason=Lives at ZZ99 1AA with children"]),
            &patch(&["name=Other Person", "address.lines:=[\"3 Mill Row\"]", "address.postcode=ZZ99 1AA"]),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AddressInText);
}

#[test]
fn text_that_shows_the_address_after_the_victim_moves_is_found_and_an_amendment_clears_it() {
    // The guard at save cannot know a future address; the case must show it later.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "AG-3");
    let victim = v
        .add(RecordKind::Victim, Some(case), &patch(&["name=Test Person", "address.lines:=[\"3 Mill Row\"]"]))
        .unwrap();
    let incident = v
        .add(
            RecordKind::Incident,
            Some(case),
            &patch(&["account=Saw him on Elm Row near the shop", "channel=in_person", "behaviours+=loitering"]),
        )
        .unwrap();
    assert!(v.address_mentions(case).unwrap().is_empty(), "Elm Row is not her address yet");
    v.edit(RecordKind::Victim, victim.id(), &patch(&["address.lines:=[\"9 Elm Row\"]"])).unwrap();
    let found = v.address_mentions(case).unwrap();
    assert_eq!(found, vec![(RecordKind::Incident, incident.id(), vec!["account".to_owned()])]);
    v.add(
        RecordKind::IncidentAmendment,
        Some(case),
        &patch(&[
            &format!("incident_id={}", incident.id()),
            "reason=Address removed from the account",
            "changes.account=Saw him near the shop",
        ]),
    )
    .unwrap();
    assert!(v.address_mentions(case).unwrap().is_empty(), "the amendment corrected the account");
}

#[test]
fn no_side_door_takes_a_guessable_passphrase() {
    // The desktop's first run rated passphrases; init, change, recovery and
    // backups once checked only the length, so "password1234" got in.
    let weak = pass("password1234");
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    assert_eq!(
        Vault::init(dir.path(), &weak, &fast_options(), env_at(&c)).unwrap_err().code(),
        ErrorCode::WeakPassphrase
    );
    assert!(!crate::vault::vault_exists(dir.path()), "a refused init writes nothing");
    let clinic = age::x25519::Identity::generate();
    let options = InitOptions { recovery: Some(clinic.to_public()), ..fast_options() };
    let mut v = Vault::init(dir.path(), &pass(PASS), &options, env_at(&c)).unwrap();
    let out = dir.path().join("weak.age");
    let err = v.backup(&out, &BackupTo::Passphrase { passphrase: weak.clone(), work_factor: 4 }).unwrap_err();
    assert_eq!(err.code(), ErrorCode::WeakPassphrase);
    assert!(!out.exists(), "no backup under a weak passphrase");
    v.lock();
    assert_eq!(
        Vault::change_passphrase(dir.path(), &pass(PASS), &weak, 4, env_at(&c)).unwrap_err().code(),
        ErrorCode::WeakPassphrase
    );
    assert_eq!(
        Vault::recover(dir.path(), &clinic, &weak, 4, env_at(&c)).unwrap_err().code(),
        ErrorCode::WeakPassphrase
    );
    Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).expect("the old passphrase still opens it").lock();
}

#[test]
fn a_vault_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let v = new_vault(dir.path(), &c);
    v.conn().pragma_update(None, "user_version", 42).unwrap();
    v.lock();
    let err = Vault::unlock(dir.path(), &pass(PASS), env_at(&c)).unwrap_err();
    assert!(matches!(err, VaultError::NewerSchema { found: 42, .. }), "{err:?}");
}

#[test]
fn init_refuses_an_existing_vault_and_a_weak_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    new_vault(dir.path(), &c).lock();
    assert_eq!(
        Vault::init(dir.path(), &pass(PASS), &fast_options(), env_at(&c)).unwrap_err().code(),
        ErrorCode::AlreadyExists
    );
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        Vault::init(other.path(), &pass("short"), &fast_options(), env_at(&c)).unwrap_err().code(),
        ErrorCode::WeakPassphrase
    );
    assert!(!other.path().join("vault.key").exists());
}

#[test]
fn backup_restores_whole_and_bad_backups_leave_the_vault_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "B-1");
    v.add(
        RecordKind::Incident,
        Some(case),
        &patch(&["account=Backed up", "channel=text", "behaviours+=unwanted_contact"]),
    )
    .unwrap();
    let owner = age::x25519::Identity::generate();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("backup.age");
    let summary = v.backup(&out, &BackupTo::Recipients(vec![owner.to_public()])).unwrap();
    assert!(summary.records >= 2);
    let file_before = v.case_file(case).unwrap();

    // A second, different vault receives the backup.
    let dir2 = tempfile::tempdir().unwrap();
    let mut w = new_vault(dir2.path(), &c);
    let mine = add_case(&mut w, "MINE-1");
    // Corrupt: one flipped byte in the payload.
    let mut bytes = std::fs::read(&out).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    let corrupt = dir2.path().join("corrupt.age");
    std::fs::write(&corrupt, &bytes).unwrap();
    assert_eq!(w.restore(&corrupt, &BackupKey::Identity(owner.clone())).unwrap_err().code(), ErrorCode::BackupCorrupt);
    // Truncated.
    std::fs::write(&corrupt, &std::fs::read(&out).unwrap()[..200]).unwrap();
    assert_eq!(w.restore(&corrupt, &BackupKey::Identity(owner.clone())).unwrap_err().code(), ErrorCode::BackupCorrupt);
    // Someone else's.
    let stranger = age::x25519::Identity::generate();
    assert_eq!(w.restore(&out, &BackupKey::Identity(stranger)).unwrap_err().code(), ErrorCode::BackupNotForYou);
    // Still the vault it was.
    assert_eq!(w.case_file(mine).unwrap().case.reference, "MINE-1");
    assert!(!dir2.path().join("vault.db.restoring").exists());

    w.restore(&out, &BackupKey::Identity(owner)).unwrap();
    let restored = w.case_file(case).unwrap();
    assert_eq!(restored.incidents[0].original, file_before.incidents[0].original);
    assert!(w.resolve_case("MINE-1").is_err(), "restore replaces, it does not merge");
    w.audit_verify().unwrap();
    assert_eq!(w.pending_ops().unwrap(), 2);
    let key_id = w.key_id();
    w.lock();
    // The restored database opens with this vault's own key file.
    let w = Vault::unlock(dir2.path(), &pass(PASS), env_at(&c)).unwrap();
    assert_eq!(w.key_id(), key_id);
}

#[test]
fn passphrase_backups_open_with_the_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    add_case(&mut v, "PB-1");
    let out = dir.path().join("b.age");
    v.backup(&out, &BackupTo::Passphrase { passphrase: pass("backup pass words"), work_factor: 4 }).unwrap();
    assert_eq!(
        v.restore(&out, &BackupKey::Passphrase(pass("not the words"))).unwrap_err().code(),
        ErrorCode::BackupNotForYou
    );
    v.restore(&out, &BackupKey::Passphrase(pass("backup pass words"))).unwrap();
    assert!(v.resolve_case("PB-1").is_ok());
}

#[test]
fn reminders_come_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "RM-1");
    v.add(
        RecordKind::Hearing,
        Some(case),
        &patch(&["court=Demo MC", "hearing_type=trial", "starts_at=2026-11-25 10:00"]),
    )
    .unwrap();
    let reminders = v.reminders().unwrap();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].what, "Hearing: Trial");
}

#[test]
fn opening_a_case_saves_the_case_and_victim_together_or_neither() {
    // A case without its victim would be a record about nobody; the two commit as one.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = patch(&["reference=O-1", "referral.source=police", "referral.reason=Repeated contact"]);
    let err = v.open_case(&case, &patch(&["name="])).unwrap_err();
    assert!(matches!(&err, VaultError::Invalid(e) if e.fields() == ["victim.name"]), "{err}");
    assert_eq!(count(&v, "cases"), 0, "a refused victim leaves no case behind");
    let (case_record, victim) = v.open_case(&case, &patch(&["name=Test Person"])).unwrap();
    assert_eq!(victim.case_id(), case_record.case_id());
    assert_eq!((count(&v, "cases"), count(&v, "victims")), (1, 1));
}

/// A second laptop: its own device id and op ids come from another seed.
fn other_laptop(dir: &Path, clock: &Arc<ManualClock>) -> Vault {
    let env = Env { clock: clock.clone(), rng: Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(2)) };
    Vault::init(dir, &pass(PASS), &fast_options(), env).unwrap()
}

/// Everything `from` has made, applied to `to` as a pull would.
fn pull_all(from: &Vault, to: &mut Vault) -> crate::sync::ApplyReport {
    let ops = from.outbox_batch(0, 10_000).unwrap();
    let cursor = ops.len() as u64;
    to.sync_apply(&ops, cursor).unwrap()
}

/// A backup's document as `backup` wrote it, for a test to alter.
fn open_backup(file: &Path, identity: &age::x25519::Identity) -> serde_json::Value {
    let sealed = std::fs::read(file).unwrap();
    let decryptor = age::Decryptor::new_buffered(sealed.as_slice()).unwrap();
    let mut reader = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)).unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut text).unwrap();
    serde_json::from_slice(&text).unwrap()
}

/// Seals an altered backup document to `identity`, as `backup` would.
fn seal_backup(doc: &serde_json::Value, identity: &age::x25519::Identity, file: &Path) {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&identity.to_public() as &dyn age::Recipient)).unwrap();
    let mut sealed = Vec::new();
    let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
    std::io::Write::write_all(&mut writer, doc.to_string().as_bytes()).unwrap();
    writer.finish().unwrap();
    std::fs::write(file, sealed).unwrap();
}

fn open_problems(v: &Vault, code: crate::sync::ProblemCode) -> usize {
    v.sync_problems().unwrap().iter().filter(|p| p.code == code).count()
}

#[test]
fn a_clashing_op_from_the_clinic_fails_alone_and_the_pull_goes_on() {
    // Before, a second victim for one case raised a constraint error that
    // rolled back the whole pull, so every later sync stopped at the same op.
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let (mut a, mut b) = (new_vault(da.path(), &c), other_laptop(db.path(), &c));
    let case = add_case(&mut a, "V-1");
    pull_all(&a, &mut b);
    // Both laptops add the victim while offline.
    a.add(RecordKind::Victim, Some(case), &patch(&["name=Test Person"])).unwrap();
    b.add(RecordKind::Victim, Some(case), &patch(&["name=Test Person"])).unwrap();
    let incident = a
        .add(
            RecordKind::Incident,
            Some(case),
            &patch(&[
                "occurred_at=2026-11-20T09:00:00Z",
                "account=Waited outside",
                "channel=in_person",
                "behaviours+=loitering",
            ]),
        )
        .unwrap();

    let report = pull_all(&a, &mut b);
    assert_eq!(report.failed, 1, "only the second victim fails");
    assert!(report.applied >= 1, "the incident after it still applies");
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::ClashesWithLocal), 1);
    assert!(b.get_record(RecordKind::Incident, incident.id()).is_ok(), "the pull was not rolled back");
    assert_eq!(b.sync_status().unwrap().pull_cursor, 3, "the cursor moved past the clash");
    let kept: String =
        b.conn().query_row("SELECT op FROM sync_problems WHERE code = 'clashes_with_local'", [], |r| r.get(0)).unwrap();
    assert!(kept.contains("Test Person"), "the failed op is kept whole for a person to act on, never dropped");
}

#[test]
fn cases_that_share_a_reference_after_a_sync_are_both_kept_and_listed() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let (mut a, mut b) = (new_vault(da.path(), &c), other_laptop(db.path(), &c));
    let theirs = add_case(&mut a, "S-1");
    let ours = add_case(&mut b, "S-1");

    let report = pull_all(&a, &mut b);
    assert_eq!((report.applied, report.failed), (1, 0), "the other laptop's case is taken, not refused");
    assert_eq!(count(&b, "cases"), 2);
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::DuplicateReference), 1);
    assert_eq!(
        b.resolve_case("S-1").unwrap_err().code(),
        ErrorCode::AmbiguousReference,
        "a shared reference never picks a case by chance"
    );
    assert_eq!(b.resolve_case(&theirs.to_string()).unwrap(), theirs, "the id still finds it");

    // The shared reference does not block other edits to either case…
    b.edit(RecordKind::Case, ours.as_uuid(), &patch(&["persistently_targeted:=true"])).unwrap();
    // …but taking a reference another case holds is still refused locally.
    let err = b
        .add(RecordKind::Case, None, &patch(&["reference=S-1", "referral.source=police", "referral.reason=x"]))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Duplicate);

    // A later op for the same case does not list it twice.
    a.edit(RecordKind::Case, theirs.as_uuid(), &patch(&["referral.reason=Messages and visits"])).unwrap();
    pull_all(&a, &mut b);
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::DuplicateReference), 1);

    b.edit(RecordKind::Case, ours.as_uuid(), &patch(&["reference=S-2"])).unwrap();
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::DuplicateReference), 0, "renaming one closes the problem");
    assert_eq!(b.resolve_case("S-1").unwrap(), theirs);
}

#[test]
fn an_acknowledgement_the_op_log_cannot_back_removes_nothing() {
    // The outbox may only shrink for ops this laptop holds; a claim past its
    // log, or naming another op, means the histories differ.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    add_case(&mut v, "A-1");
    let mine = v.outbox_batch(0, 10).unwrap()[0].op_id;
    assert_eq!(v.sync_acknowledge(2, &[], &[]).unwrap_err().code(), ErrorCode::LogDiverged);
    assert_eq!(v.sync_check_acknowledgement(1, Some(uuid::Uuid::nil())).unwrap_err().code(), ErrorCode::LogDiverged);
    assert_eq!(v.sync_check_acknowledgement(2, None).unwrap_err().code(), ErrorCode::LogDiverged);
    v.sync_check_acknowledgement(1, Some(mine)).unwrap();
    assert_eq!(count(&v, "outbox"), 1, "nothing left the outbox");
}

#[test]
fn a_pulled_op_may_not_move_a_case_or_aim_at_another_cases_record() {
    // Why: whatever reaches a laptop, only the clinic moves a case, and an op
    // must name the case its record belongs to here, or a writer could land in another case.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    add_case(&mut a, "A-1");
    add_case(&mut a, "A-2");
    let report = pull_all(&a, &mut b);
    assert_eq!(report.failed, 0);
    let (one, two) = (b.resolve_case("A-1").unwrap(), b.resolve_case("A-2").unwrap());
    let base = a.outbox_batch(0, 100).unwrap().into_iter().find(|o| o.record_id == one.as_uuid()).unwrap();
    let forged = |seq: u64, case: uuid::Uuid, new: serde_json::Value| waymark_protocol::WireOp {
        op_id: uuid::Uuid::from_u128(0xF00 + u128::from(seq)),
        seq,
        action: waymark_protocol::OpAction::Update,
        case_id: Some(case),
        changes: serde_json::from_value::<waymark_protocol::OpChanges>(serde_json::json!({ "new": new })).unwrap(),
        ..base.clone()
    };
    let takeover = forged(90, one.as_uuid(), serde_json::json!({"advocate": "SOMEONE"}));
    let elsewhere = forged(91, two.as_uuid(), serde_json::json!({"status": "closed"}));
    let report = b.sync_apply(&[takeover, elsewhere], 200).unwrap();
    assert_eq!((report.applied, report.failed), (0, 2));
    let case = b.get::<waymark_domain::Case>(one.as_uuid()).unwrap();
    assert_eq!(case.advocate, "ADV-7", "the case did not move");
    assert_eq!(serde_json::to_value(case.status).unwrap(), "open", "nothing landed on the other case's record either");
    assert_eq!(
        (
            open_problems(&b, crate::sync::ProblemCode::ClinicOwned),
            open_problems(&b, crate::sync::ProblemCode::CaseMismatch)
        ),
        (1, 1),
        "both are listed, kept whole"
    );
}

#[test]
fn a_problem_is_dismissed_with_a_reason_or_retried_until_its_change_applies() {
    // Why: problems must not pile up for good, and nothing may be dropped silently doing it.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    let case = add_case(&mut a, "P-1");
    a.add(RecordKind::Victim, Some(case), &patch(&["name=Problem Person (DEMO)"])).unwrap();
    let ops = a.outbox_batch(0, 100).unwrap();
    // The victim arrives before its case (as if the case had been held up): it cannot apply yet.
    let (case_op, rest): (Vec<_>, Vec<_>) = ops.into_iter().partition(|o| o.kind == "case");
    b.sync_apply(&rest, 1).unwrap();
    let problem = b
        .sync_problems()
        .unwrap()
        .into_iter()
        .find(|p| p.code == crate::sync::ProblemCode::UnknownRecord)
        .expect("listed");
    assert!(!b.retry_problem(problem.id).unwrap(), "still nothing to apply it to");
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::UnknownRecord), 1, "so it stays listed");
    b.sync_apply(&case_op, 2).unwrap();
    assert!(b.retry_problem(problem.id).unwrap(), "the case is here now");
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::UnknownRecord), 0);
    assert_eq!(count(&b, "victims"), 1, "the victim record applied");

    // A dismissal needs a reason, names the problem in the audit, and never the words.
    v_problem(&mut b);
    let open = b.sync_problems().unwrap();
    let err = b.dismiss_problem(open[0].id, "  ").unwrap_err();
    assert!(matches!(&err, VaultError::Invalid(e) if e.fields() == ["reason"]), "{err}");
    b.dismiss_problem(open[0].id, "Checked with the clinic by phone").unwrap();
    assert!(b.sync_problems().unwrap().is_empty());
    let detail: String = b
        .conn()
        .query_row("SELECT detail FROM audit WHERE action = 'sync_problem_dismissed'", [], |r| r.get(0))
        .unwrap();
    assert!(!detail.contains("phone"), "the reason stays out of the audit: {detail}");
    assert!(b.dismiss_problem(open[0].id, "again").is_err(), "a closed problem is not open");
    assert!(b.retry_problem(open[0].id).is_err());
}

/// Puts a refusal on the problems list, as a failed sync would.
fn v_problem(v: &mut Vault) {
    v.sync_record_problem(&crate::sync::ProblemCode::Request(ErrorCode::UnknownDevice), crate::sync::Flow::Up).unwrap();
}

#[test]
fn an_op_received_again_is_a_duplicate_even_if_its_stored_hash_was_taken_with_another_key_order() {
    // Why: builds of Waymark with and without serde_json's insertion order
    // hashed `changes` differently; a rejoin pulls everything again, and the
    // same op must not be quarantined as different content.
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let (mut a, mut b) = (new_vault(da.path(), &c), other_laptop(db.path(), &c));
    add_case(&mut a, "H-1");
    let ops = a.outbox_batch(0, 10_000).unwrap();
    b.sync_apply(&ops, ops.len() as u64).unwrap();
    // As an earlier build would have stored it: a hash over some other serialisation.
    b.conn().execute("UPDATE received_ops SET content_hash = 'legacy'", []).unwrap();
    let report = b.sync_apply(&ops, ops.len() as u64).unwrap();
    assert_eq!((report.quarantined, report.duplicates), (0, ops.len() as u32), "{report:?}");
    // Different content under the same id is still caught.
    let mut changed = ops[0].clone();
    changed.changes.new.insert("reference".into(), serde_json::json!("H-2"));
    assert_eq!(b.sync_apply(&[changed], ops.len() as u64).unwrap().quarantined, 1);
}

#[test]
fn a_backup_from_before_entry_ids_restores_with_the_ids_every_laptop_derives() {
    // Why: a backup taken at schema 4 holds consents without ids; loaded as
    // they were, the next save would give them random ids and every other
    // laptop (which derived ids) would then see each consent twice.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "OLD-B");
    let victim = v
        .add(
            RecordKind::Victim,
            Some(case),
            &patch(&["name=Test Person", r#"consents:=[{"with": "Police", "given_on": "2026-11-01"}]"#]),
        )
        .unwrap();
    let identity = age::x25519::Identity::generate();
    let out = dir.path().join("b.age");
    v.backup(&out, &BackupTo::Recipients(vec![identity.to_public()])).unwrap();

    // The same backup as schema 4 wrote it: no entry ids.
    let mut doc = open_backup(&out, &identity);
    doc["schema_version"] = serde_json::json!(4);
    // Schema 4 kept text clocks, a row per field, and no record clocks.
    let sync = doc["sync"].as_object_mut().unwrap();
    sync.remove("record_clocks");
    sync.insert("field_clocks".into(), serde_json::json!([]));
    let bare = serde_json::json!([{ "with": "Police", "given_on": "2026-11-01", "withdrawn_on": null, "scope": null }]);
    for row in doc["records"]["victim"].as_array_mut().unwrap() {
        row["doc"]["consents"] = bare.clone();
    }
    let old = dir.path().join("old.age");
    seal_backup(&doc, &identity, &old);

    let other = tempfile::tempdir().unwrap();
    let mut w = new_vault(other.path(), &c);
    w.restore(&old, &BackupKey::Identity(identity)).unwrap();
    let restored: Victim = w.get(victim.id()).unwrap();
    let expected = waymark_domain::merge::identify_entries(victim.id(), "consents", &bare);
    assert_eq!(restored.consents[0].id.map(|i| i.to_string()), expected[0]["id"].as_str().map(str::to_owned));
}

#[test]
fn a_first_write_to_a_field_left_empty_at_creation_is_not_a_conflict() {
    // Why: a create leaves empty fields out, so an order's served date is
    // first set by an update. An update from an older Waymark names no write
    // it replaces for that field (`base: {served_on: []}`); it must apply as
    // the first value, not stand against a "null" the create never wrote,
    // or the advocate is asked to choose between the date and nothing.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    let case = add_case(&mut a, "FW-1");
    let order =
        a.add(RecordKind::ProtectiveOrder, Some(case), &patch(&["order_type=spo", "issued_by=Demo Court"])).unwrap();
    pull_all(&a, &mut b);
    c.advance(chrono::Duration::minutes(5));
    a.edit(RecordKind::ProtectiveOrder, order.id(), &patch(&["served_on=2026-11-20"])).unwrap();
    let mut update = a
        .outbox_batch(0, 100)
        .unwrap()
        .into_iter()
        .find(|o| o.record_id == order.id() && o.action == waymark_protocol::OpAction::Update)
        .unwrap();
    update.changes.base = Some([("served_on".to_owned(), Vec::new())].into_iter().collect());
    let report = b.sync_apply(&[update], 100).unwrap();
    assert_eq!((report.applied, report.conflicts), (1, 0), "{report:?}");
    assert!(b.sync_conflicts().unwrap().is_empty());
    let held: ProtectiveOrder = b.get(order.id()).unwrap();
    assert_eq!(held.served_on.map(|d| d.to_string()).as_deref(), Some("2026-11-20"));
}

#[test]
fn an_op_with_a_clock_not_in_the_fixed_form_is_listed_and_the_pull_goes_on() {
    // Why: clocks are stored as bytes; one that cannot be read must not stop
    // every later pull (the cursor would never move), only be listed.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    add_case(&mut a, "HL-1");
    add_case(&mut a, "HL-2");
    let mut ops = a.outbox_batch(0, 100).unwrap();
    let bent = ops.iter().position(|o| o.kind == "case").unwrap();
    ops[bent].hlc = ops[bent].hlc.replacen('0', "", 1);
    let report = b.sync_apply(&ops, ops.len() as u64).unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.applied as usize, ops.len() - 1, "the rest of the pull applied");
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::Invalid), 1);
}

#[test]
fn a_held_op_this_waymark_no_longer_reads_is_listed_and_the_pull_goes_on() {
    // Why: an older Waymark held ops as plain JSON. One whose `changes` no
    // longer reads as `OpChanges` must not stop every later pull.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    add_case(&mut a, "HD-1");
    let ops = a.outbox_batch(0, 100).unwrap();
    let mut odd = serde_json::to_value(&ops[0]).unwrap();
    odd["op_id"] = serde_json::json!(uuid::Uuid::from_u128(0xABC));
    odd["changes"]["base"] = serde_json::json!(5);
    b.conn()
        .execute(
            "INSERT INTO received_ops (op_id, origin, seq, content_hash, op, received_at, state)
             VALUES (?1, ?2, 99, 'x', ?3, '2026-11-22T10:00:00Z', 'held')",
            rusqlite::params![uuid::Uuid::from_u128(0xABC).to_string(), ops[0].origin.to_string(), odd.to_string()],
        )
        .unwrap();
    let report = b.sync_apply(&ops, ops.len() as u64).unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.applied as usize, ops.len());
    assert_eq!(open_problems(&b, crate::sync::ProblemCode::Invalid), 1);
}

#[test]
fn a_backup_whose_clock_has_the_wrong_length_is_refused_whole() {
    // Why: a crafted or damaged clock would restore, then make its record
    // unreadable at the next edit or pull. It is refused at restore instead.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    add_case(&mut v, "BL-1");
    let identity = age::x25519::Identity::generate();
    let out = dir.path().join("b.age");
    v.backup(&out, &BackupTo::Recipients(vec![identity.to_public()])).unwrap();
    let mut doc = open_backup(&out, &identity);
    doc["sync"]["record_clocks"][0]["hlc"] = serde_json::json!("00ff");
    let bad = dir.path().join("bad.age");
    seal_backup(&doc, &identity, &bad);

    let other = tempfile::tempdir().unwrap();
    let mut w = new_vault(other.path(), &c);
    add_case(&mut w, "KEEP-1");
    let err = w.restore(&bad, &BackupKey::Identity(identity)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BackupCorrupt);
    assert!(w.resolve_case("KEEP-1").is_ok(), "the vault is untouched");
}

/// An incident on a case: `when` as the app's forms send it (London time).
fn add_incident(v: &mut Vault, case: CaseId, when: &str, behaviour: &str, channel: &str) {
    let fields = [
        format!("occurred_at={when}"),
        "account=Something happened".to_owned(),
        format!("channel={channel}"),
        format!("behaviours:=[\"{behaviour}\"]"),
    ];
    v.add(RecordKind::Incident, Some(case), &patch(&fields.iter().map(String::as_str).collect::<Vec<_>>())).unwrap();
}

#[test]
fn an_escalating_case_leads_the_caseload_and_the_home_screen_until_it_is_reviewed() {
    // The escalation flag is derived from the diary on every read; a review
    // saved through the one write path is what clears it, and it syncs.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let steady = add_case(&mut v, "A-STEADY");
    add_incident(&mut v, steady, "2026-11-10 10:00", "unwanted_contact", "text");
    add_incident(&mut v, steady, "2026-11-20 10:00", "unwanted_contact", "text");
    let rising = add_case(&mut v, "Z-RISING");
    add_incident(&mut v, rising, "2026-11-12 10:00", "unwanted_contact", "text");
    add_incident(&mut v, rising, "2026-11-21 21:00", "threat_to_kill", "phone");

    let rows = v.caseload(&CaseloadFilter { sort: SortBy::Escalation, ..Default::default() }).unwrap();
    assert_eq!(rows[0].reference, "Z-RISING", "escalating first, whatever the reference order");
    assert_eq!(rows[0].escalation.signs(), vec![EscalationSign::MoreSerious, EscalationSign::RiskReviewDue]);
    assert!(!rows[1].escalation.escalating());
    let week = v.this_week().unwrap();
    assert_eq!(week.escalating.iter().map(|e| e.reference.as_str()).collect::<Vec<_>>(), ["Z-RISING"]);
    assert_eq!(week.notice().as_deref(), Some("1 case escalating"), "counts only, no reference");

    let before = v.outbox_batch(0, 10_000).unwrap().len();
    v.add(
        RecordKind::EscalationReview,
        Some(rising),
        &patch(&["signs:=[\"more_serious\",\"risk_review_due\"]", "note=Safety plan updated; DASH booked"]),
    )
    .unwrap();
    assert_eq!(v.outbox_batch(0, 10_000).unwrap().len(), before + 1, "the review is an op for the clinic");
    let file = v.case_file(rising).unwrap();
    assert!(!file.escalation.escalating(), "{:?}", file.escalation.findings);
    assert_eq!(file.escalation_reviews.len(), 1);
    assert!(v.this_week().unwrap().escalating.is_empty());
    let err = v.add(RecordKind::EscalationReview, Some(rising), &patch(&["signs:=[\"breach\"]"])).unwrap_err();
    assert!(matches!(&err, VaultError::Invalid(e) if e.fields() == ["note"]), "{err}");

    // A new threat after the review is news again.
    c.advance(chrono::Duration::hours(2));
    add_incident(&mut v, rising, "2026-11-22 11:30", "violence", "in_person");
    assert!(v.case_file(rising).unwrap().escalation.escalating());
}

#[test]
fn a_reminder_is_snoozed_until_its_date_audited_and_a_hearing_cannot_be() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "SN-1");
    v.add(RecordKind::Task, Some(case), &patch(&["what=Call about the hearing", "due_on=2026-11-22"])).unwrap();
    v.add(
        RecordKind::Hearing,
        Some(case),
        &patch(&["court=Demo MC", "hearing_type=trial", "starts_at=2026-11-23 10:00"]),
    )
    .unwrap();
    let week = v.this_week().unwrap();
    assert_eq!(week.due_today.len(), 1);
    assert_eq!(week.next_seven_days.len(), 1);
    let task_key = week.due_today[0].key.clone();
    let hearing_key = week.next_seven_days[0].key.clone();
    assert_eq!(week.notice().as_deref(), Some("1 item due today, 1 hearing tomorrow"));

    let tomorrow = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    assert!(v.snooze_reminder(&hearing_key, tomorrow).is_err(), "a hearing happens anyway");
    assert!(v.snooze_reminder(&task_key, chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap()).is_err(), "too far");
    assert!(v.snooze_reminder("task:nothing:2026-11-22", tomorrow).is_err(), "not a reminder on the list");
    v.snooze_reminder(&task_key, tomorrow).unwrap();
    let week = v.this_week().unwrap();
    assert!(week.due_today.is_empty());
    assert_eq!(week.snoozed, 1);
    let audit = v.audit_events(Some(case), 50).unwrap();
    assert!(audit.iter().any(|e| e.action == crate::audit::AuditAction::ReminderSnoozed), "the snooze is audited");

    c.advance(chrono::Duration::days(1));
    let week = v.this_week().unwrap();
    assert_eq!(week.overdue.len(), 1, "back the next day, now overdue");
    assert_eq!(week.snoozed, 0);

    // An order's expiry is reminded of only up to its day: a snooze past it
    // would make it vanish, so it may run to the day and no further.
    v.add(
        RecordKind::ProtectiveOrder,
        Some(case),
        &patch(&[
            "order_type=restraining_order_conviction",
            "issued_by=Demo MC",
            "made_on=2026-06-01",
            "expiry:={\"kind\":\"on\",\"date\":\"2026-11-26\"}",
        ]),
    )
    .unwrap();
    let expiry = v
        .this_week()
        .unwrap()
        .next_seven_days
        .into_iter()
        .find(|i| i.reminder.kind == waymark_domain::reminders::ReminderKind::OrderExpires)
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    assert_eq!(expiry.snooze_latest, Some(day));
    assert!(v.snooze_reminder(&expiry.key, day.succ_opt().unwrap()).is_err(), "past the expiry");
    v.snooze_reminder(&expiry.key, day).unwrap();
}

/// Every text and blob in every table of the vault, as one string, for a
/// test to search for what must not be there.
fn every_stored_value(v: &Vault) -> String {
    let tables: Vec<String> = v
        .conn()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut all = String::new();
    for table in tables {
        let mut stmt = v.conn().prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        all.push_str(&String::from_utf8_lossy(t));
                        all.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    all
}

fn erase_op(clinic: uuid::Uuid, case: CaseId, at: chrono::DateTime<Utc>) -> waymark_protocol::WireOp {
    waymark_protocol::WireOp {
        op_id: uuid::Uuid::from_u128(0xE2A5E),
        origin: clinic,
        seq: 1,
        hlc: format!("{:015}-{:010}-{}", at.timestamp_millis(), 0, clinic),
        made_at: at,
        actor: "MGR01".into(),
        kind: "case".into(),
        record_id: case.as_uuid(),
        case_id: Some(case.as_uuid()),
        action: waymark_protocol::OpAction::Erase,
        changes: waymark_protocol::OpChanges::default(),
        schema_version: crate::db::schema_version(),
    }
}

#[test]
fn the_clinics_erase_op_removes_a_case_and_its_ops_content_and_leaves_the_others_and_both_logs_verifying() {
    // Why: the retention schedule and the right to erasure need the case truly
    // gone from a laptop (its records, the op log's copies of every change,
    // what it received), while the log keeps its slots and hashes so sync and
    // the audit still verify, and nothing of another case is touched.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = clock();
    let mut a = new_vault(dir_a.path(), &c);
    let mut b = other_laptop(dir_b.path(), &c);
    let clinic_keys = waymark_protocol::DeviceKeys::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
    let clinic = uuid::Uuid::from_u128(0xC11);
    crate::kit::link_to_clinic(&mut a, clinic, clinic_keys.public(), c.now());
    crate::kit::link_to_clinic(&mut b, clinic, clinic_keys.public(), c.now());
    let gone = add_case(&mut a, "ERASE-1");
    let kept = add_case(&mut a, "KEEP-1");
    let canary = "Canarywood Lane";
    for case in [gone, kept] {
        let words = if case == gone { format!("account=Waited outside {canary}") } else { "account=Kept".into() };
        a.add(
            RecordKind::Incident,
            Some(case),
            &patch(&["occurred_at=2026-11-02T10:00", &words, "channel=in_person", "behaviours:=[\"following\"]"]),
        )
        .unwrap();
    }
    pull_all(&a, &mut b);
    assert!(every_stored_value(&a).contains(canary) && every_stored_value(&b).contains(canary), "the test plants it");
    let ops_before = count(&a, "ops");

    // Only the clinic may order it: the same op from another origin is listed and erases nothing.
    let mut forged = erase_op(a.device().as_uuid(), gone, c.now());
    forged.op_id = uuid::Uuid::from_u128(0xBAD);
    let report = b.sync_apply(&[forged], 500).unwrap();
    assert_eq!((report.erased, report.failed), (0, 1));
    assert!(b.get::<Case>(gone.as_uuid()).is_ok(), "a laptop's word erases nothing");

    for v in [&mut a, &mut b] {
        let report = v.sync_apply(&[erase_op(clinic, gone, c.now())], 1000).unwrap();
        assert_eq!(report.erased, 1);
        assert!(matches!(v.get::<Case>(gone.as_uuid()), Err(VaultError::NotFound { .. })));
        assert!(v.get::<Case>(kept.as_uuid()).is_ok(), "the other case is untouched");
        assert_eq!(v.list_kind(RecordKind::Incident, kept).unwrap().len(), 1);
        let stored = every_stored_value(v);
        assert!(!stored.contains(canary), "no table holds the erased case's words");
        assert!(!stored.contains("ERASE-1"), "nor its reference");
        assert!(stored.contains("KEEP-1"));
        v.audit_verify().expect("the audit chain verifies after the erasure");
        v.op_log_verify().expect("the op log verifies after the erasure");
        assert_eq!(v.erasures().unwrap().iter().map(|(case, _)| *case).collect::<Vec<_>>(), vec![gone]);
        let audited = v.audit_events(Some(gone), 10).unwrap();
        let line = audited.iter().find(|e| e.action == crate::audit::AuditAction::CaseErased).unwrap();
        assert_eq!(line.actor, "MGR01", "the audit keeps who erased which case id");
    }
    // The laptop's own ops keep their slots and ids; those not yet sent go as tombstones.
    assert_eq!(count(&a, "ops"), ops_before);
    assert_eq!(a.op_log_verify().unwrap().erased, 2, "the case and its incident");
    let pending = a.outbox_batch(0, 100).unwrap();
    let tombstones: Vec<_> = pending.iter().filter(|o| o.case_id == Some(gone.as_uuid())).collect();
    assert_eq!(tombstones.len(), 2);
    assert!(tombstones.iter().all(|o| o.changes.new.is_empty() && o.changes.other.contains_key("erased")));
    // Erasing again finds nothing more, and the op log refuses any other change.
    assert_eq!(b.sync_apply(&[erase_op(clinic, gone, c.now())], 1001).unwrap().duplicates, 1);
    let refused = a
        .conn()
        .execute("UPDATE ops SET changes = '{\"erased\":true,\"new\":{}}' WHERE case_id = ?1", [kept.to_string()]);
    assert!(refused.is_err(), "a case not erased cannot have its ops emptied");
    // A late op of the erased case, relayed from elsewhere, is kept as a tombstone and never applied.
    let mut late = a.outbox_batch(0, 100).unwrap().into_iter().find(|o| o.case_id == Some(kept.as_uuid())).unwrap();
    late.op_id = uuid::Uuid::from_u128(0x1A7E);
    late.case_id = Some(gone.as_uuid());
    late.record_id = gone.as_uuid();
    late.action = waymark_protocol::OpAction::Create;
    late.changes.new.insert("reference".into(), serde_json::json!("ERASE-1"));
    b.sync_apply(&[late], 1002).unwrap();
    assert!(!every_stored_value(&b).contains("ERASE-1"));
}

#[test]
fn a_subject_access_request_withholds_other_peoples_information_until_released_one_by_one_and_audits_each_step() {
    // Why: a victim must get everything held about her within a month, and
    // nothing about anyone else unless the advocate decides, item by item,
    // with a record of every release and export; where she lives never
    // reaches the perpetrator.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut v = new_vault(dir.path(), &c);
    let case = add_case(&mut v, "SAR-1");
    v.add(
        RecordKind::Victim,
        Some(case),
        &patch(&["name=Vera Victim", "address.lines+=1 Demo Street", "address.postcode=DE1 1MO"]),
    )
    .unwrap();
    v.add(
        RecordKind::Perpetrator,
        Some(case),
        &patch(&["names+=Percy Perpetrator", "relationship=ex_intimate_partner"]),
    )
    .unwrap();
    v.add(
        RecordKind::Incident,
        Some(case),
        &patch(&[
            "occurred_at=2026-11-02T10:00",
            "account=He waited by the gate",
            "channel=in_person",
            "behaviours+=loitering",
            "witnesses+=Wendy Witness",
        ]),
    )
    .unwrap();
    let today = v.today();
    let request = v.access_request(case, waymark_domain::access::AccessSubject::Victim, None, today).unwrap();
    assert_eq!(request.due_on, today.checked_add_months(chrono::Months::new(1)).unwrap(), "due a month later");
    // No answer before the requester's identity is checked, and the check is a day, kept and audited.
    assert_eq!(v.access_export(request.id).unwrap_err().code(), waymark_domain::codes::ErrorCode::Invalid);
    assert!(v.access_identity_checked(request.id, today.succ_opt().unwrap()).is_err(), "not in the future");
    let checked = v.access_identity_checked(request.id, today).unwrap();
    assert_eq!(checked.identity_checked.map(|c| c.on), Some(today));
    let review = v.access_review(request.id).unwrap();
    let witness = review.items.iter().find(|i| i.text.contains("Wendy Witness")).unwrap().clone();
    let perpetrator = review.items.iter().find(|i| i.text.contains("Percy Perpetrator")).unwrap().clone();
    let shown = |v: &mut Vault| -> String {
        let (_, out) = v.access_export(request.id).unwrap();
        out.items.iter().map(|i| i.text.clone()).collect::<Vec<_>>().join("\n")
    };
    let before = shown(&mut v);
    assert!(before.contains("Vera Victim") && before.contains("He waited by the gate"), "hers is in it");
    assert!(!before.contains("Wendy Witness") && !before.contains("Percy Perpetrator"), "others' withheld");
    v.access_release(request.id, &witness.key).unwrap();
    let after = shown(&mut v);
    assert!(after.contains("Wendy Witness") && !after.contains("Percy Perpetrator"), "released one by one");
    assert!(v.access_release(request.id, "no-such/item").is_err(), "only an item of the request");
    let own = review.items.iter().find(|i| i.withheld.is_none()).unwrap();
    assert!(v.access_release(request.id, &own.key).is_err(), "her own needs no release");
    // One of her own items withheld under an exemption, with its reason.
    let victim_name = review.items.iter().find(|i| i.text.contains("Vera Victim")).unwrap().key.clone();
    v.access_withhold(request.id, &victim_name, ExemptionReason::SeriousHarm).unwrap();
    assert!(!shown(&mut v).contains("Vera Victim"), "an exemption keeps her own item back");
    assert!(v.access_withhold(request.id, &witness.key, ExemptionReason::Crime).is_err(), "only her own items");
    let _ = perpetrator;

    // The perpetrator's request: her address never, even when asked for.
    v.add(
        RecordKind::ProtectiveOrder,
        Some(case),
        &patch(&[
            "order_type=spo",
            "issued_by=Demo Court",
            r#"conditions:=[{"kind": "exclusion_zone", "text": "Not to enter 1 Demo Street"}]"#,
        ]),
    )
    .unwrap();
    let his_record = v.list_kind(RecordKind::Perpetrator, case).unwrap()[0].id();
    assert!(
        v.access_request(case, waymark_domain::access::AccessSubject::Perpetrator, None, today).is_err(),
        "a perpetrator's request names which perpetrator asked"
    );
    let his =
        v.access_request(case, waymark_domain::access::AccessSubject::Perpetrator, Some(his_record), today).unwrap();
    v.access_identity_checked(his.id, today).unwrap();
    let items = v.access_review(his.id).unwrap().items;
    assert!(items.iter().all(|i| !i.text.contains("Vera Victim")), "her record is not his information");
    let street = items.iter().find(|i| i.text.contains("Demo Street")).expect("the order's condition is his too");
    assert!(!street.releasable);
    assert!(v.access_release(his.id, &street.key).is_err(), "where she lives is never released to him");
    let (_, out) = v.access_export(his.id).unwrap();
    assert!(out.items.iter().any(|i| i.text.contains("Percy Perpetrator")), "his own record is his");
    assert!(out.items.iter().all(|i| !i.text.contains("Demo Street")));

    // A restored vault keeps each request's deadline and what the advocate decided.
    let identity = age::x25519::Identity::generate();
    let out = dir.path().join("sar-backup.age");
    v.backup(&out, &BackupTo::Recipients(vec![identity.to_public()])).unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut w = new_vault(other.path(), &c);
    w.restore(&out, &BackupKey::Identity(identity)).unwrap();
    let restored = w.access_review(request.id).unwrap();
    assert_eq!((restored.released.len(), restored.exempt.len()), (1, 1));
    assert_eq!(restored.request.identity_checked.map(|c| c.on), Some(today), "the identity check is restored too");

    let audited: Vec<_> = v.audit_events(Some(case), 100).unwrap().into_iter().map(|e| e.action).collect();
    use crate::audit::AuditAction as A;
    for action in
        [A::AccessRequested, A::AccessIdentityChecked, A::AccessReleased, A::AccessWithheld, A::Export, A::View]
    {
        assert!(audited.contains(&action), "{action:?} is audited");
    }
    let details: String =
        v.audit_events(Some(case), 100).unwrap().iter().map(|e| e.detail.to_string()).collect::<Vec<_>>().join(" ");
    assert!(!details.contains("Wendy") && !details.contains("Vera"), "the audit holds keys and counts, never words");
    v.audit_verify().unwrap();
}
