use super::*;
use crate::record::{Entity, RecordKind};
use serde_json::json;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn check<E: Entity>(record: &E) -> Vec<String> {
    let rules = Rules::shipped();
    let instruments = Instruments::shipped();
    match record.validate(&Ctx { rules: &rules, instruments: &instruments }) {
        Ok(()) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn order(order_type: OrderType, made: NaiveDate, expiry: Expiry) -> ProtectiveOrder {
    ProtectiveOrder {
        id: OrderId(Uuid::from_bytes([1; 16])),
        case_id: CaseId(Uuid::from_bytes([2; 16])),
        order_type,
        issued_by: "Court".into(),
        applied_on: None,
        made_on: Some(made),
        served_on: None,
        expiry,
        protected_persons: vec![],
        conditions: vec![],
        bail_authority: None,
    }
}

#[test]
fn an_spo_runs_two_years_or_until_further_order() {
    let made = d(2026, 3, 1);
    assert!(check(&order(OrderType::Spo, made, Expiry::On(d(2028, 3, 1)))).is_empty());
    assert!(check(&order(OrderType::Spo, made, Expiry::UntilFurtherOrder)).is_empty());
    let short = check(&order(OrderType::Spo, made, Expiry::On(d(2028, 2, 29))));
    assert_eq!(short.len(), 1);
    assert!(short[0].starts_with("expiry.date is less than 2 years"), "{short:?}");
    // Only an interim SPO lasts until the application is decided.
    assert!(!check(&order(OrderType::Spo, made, Expiry::UntilApplicationDecided)).is_empty());
    assert!(check(&order(OrderType::InterimSpo, made, Expiry::UntilApplicationDecided)).is_empty());
}

#[test]
fn pre_charge_bail_is_limited_by_who_authorised_it() {
    let made = d(2026, 1, 10);
    let mut bail = order(OrderType::PreChargeBail, made, Expiry::On(d(2026, 6, 10)));
    assert_eq!(check(&bail), vec!["bail_authority is required for pre-charge bail".to_owned()]);
    bail.bail_authority = Some(BailAuthority::FirstGrant);
    assert!(check(&bail)[0].starts_with("expiry.date is beyond the limit for First grant"));
    bail.bail_authority = Some(BailAuthority::Inspector);
    assert!(check(&bail).is_empty(), "an inspector may extend to 6 months");
    let mut rui = order(OrderType::ReleasedUnderInvestigation, made, Expiry::NotSet);
    rui.conditions.push(Condition { kind: ConditionKind::NoContact, text: "x".into() });
    assert!(check(&rui)[0].starts_with("conditions must be empty"));
}

#[test]
fn the_notification_deadline_is_three_days_after_service() {
    let mut spo = order(OrderType::Spo, d(2026, 3, 1), Expiry::UntilFurtherOrder);
    assert_eq!(spo.notification_deadline(&Rules::shipped()), None, "no deadline before service");
    spo.served_on = Some(d(2026, 3, 2));
    assert_eq!(spo.notification_deadline(&Rules::shipped()), Some(d(2026, 3, 5)));
    let ro = order(OrderType::RestrainingOnConviction, d(2026, 3, 1), Expiry::UntilFurtherOrder);
    assert_eq!(ro.notification_deadline(&Rules::shipped()), None);
    assert!(spo.in_force_on(d(2026, 3, 1)) && !spo.in_force_on(d(2026, 2, 28)));
}

#[test]
fn contacts_name_the_party_and_tasks_record_when_done() {
    let contact = Contact {
        id: ContactId(Uuid::from_bytes([3; 16])),
        case_id: CaseId(Uuid::from_bytes([2; 16])),
        at: chrono::DateTime::UNIX_EPOCH,
        method: ContactMethod::Phone,
        with_victim: false,
        party: None,
        summary: "Spoke to OIC".into(),
        victims_code_update: false,
    };
    assert_eq!(check(&contact), vec!["party is required when the contact is not with the victim".to_owned()]);
    let task = Task {
        id: TaskId(Uuid::from_bytes([4; 16])),
        case_id: None,
        due_on: d(2026, 12, 1),
        what: "Chase CPS".into(),
        linked: None,
        status: TaskStatus::Done,
        done_on: None,
    };
    assert_eq!(check(&task), vec!["done_on is set exactly when the task is done".to_owned()]);
}

#[test]
fn a_closed_case_needs_a_closure_and_an_open_one_must_not_have_one() {
    let mut case = Case {
        id: CaseId(Uuid::from_bytes([2; 16])),
        reference: "HSC-2026-0142".into(),
        status: CaseStatus::Closed,
        closure: None,
        referral: IntakeReferral::new(d(2026, 1, 1), ReferralSource::Police, "r", true),
        advocate: "A".into(),
        opened_on: d(2026, 1, 2),
        risk_level: None,
        risk_review_on: None,
        police_references: vec![],
        court_cases: vec![],
        persistently_targeted: false,
        legal_hold: None,
    };
    assert_eq!(check(&case), vec!["closure is required to close a case (date and reason)".to_owned()]);
    case.closure = Some(Closure {
        closed_on: d(2025, 12, 1),
        reason: ClosureReason::SupportComplete,
        feels_safer: None,
        behaviour_stopped: None,
        quality_of_life_improved: None,
        better_able_to_cope: None,
    });
    assert_eq!(check(&case), vec!["closure.closed_on is before opened_on".to_owned()]);
    case.reference = "HSC 2026".into();
    assert_eq!(check(&case).len(), 2);
}

#[test]
fn safe_contact_rules_read_plainly_beside_a_number() {
    let phone = SafePhone {
        number: "07700 900123".into(),
        label: None,
        voicemail_ok: false,
        text_ok: true,
        safe_times: Some("10:00-14:00".into()),
    };
    assert_eq!(phone.rules_text(), "NO voicemail, texts OK, safe times: 10:00-14:00");
}

/// A record of each kind as a new one starts (`KindRules::new_doc`) with
/// what a person must still fill in, serialised back to its document.
pub(crate) fn sample_doc(kind: RecordKind) -> serde_json::Value {
    use serde_json::json;
    let n = crate::patch::NewRecord {
        id: Uuid::from_u128(1),
        case_id: Some(CaseId(Uuid::from_u128(2))),
        now: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 9, 0, 0).unwrap(),
        today: d(2026, 11, 30),
        actor: "ADV1",
    };
    let doc = (kind.rules().new_doc)(&n);
    let required = match kind {
        RecordKind::Case => {
            json!({"reference": "T-1", "referral": {"received_on": "2026-11-30", "source": "police", "reason": "x", "consent_recorded": false}})
        }
        RecordKind::Victim => json!({"name": "Test Person", "safe_contact": {}}),
        RecordKind::Perpetrator => json!({"relationship": "ex_intimate_partner"}),
        RecordKind::Incident => json!({"account": "x", "channel": "in_person"}),
        RecordKind::IncidentAmendment => json!({"incident_id": Uuid::from_u128(3), "reason": "x"}),
        RecordKind::RiskAssessment => {
            json!({"instrument": "dash", "instrument_version": "1", "judged_level": "standard", "next_review_on": "2026-12-30"})
        }
        RecordKind::SafetyPlan => json!({"version": 1, "review_on": "2026-12-30"}),
        RecordKind::Hearing => {
            json!({"starts_at": "2026-12-01T10:00:00Z", "court": "x", "hearing_type": "first_appearance"})
        }
        RecordKind::ProtectiveOrder => json!({"order_type": "spo", "issued_by": "x"}),
        RecordKind::Breach => json!({"order_id": Uuid::from_u128(4), "occurred_on": "2026-11-29"}),
        RecordKind::Referral => json!({"target": "clinic_panel"}),
        RecordKind::Contact => json!({"method": "in_person", "summary": "x"}),
        RecordKind::Task => json!({"due_on": "2026-12-01", "what": "x"}),
        RecordKind::EscalationReview => {
            json!({"signs": ["more_frequent"], "note": "x", "risk_assessment_id": Uuid::from_u128(5)})
        }
        RecordKind::ClinicReview => json!({"agencies_present": [], "srp": {}, "actions": []}),
    };
    with_fields(kind, doc, required)
}

/// A document with more fields set, read as its kind and written back (so
/// every field is there, unset ones as null).
pub(crate) fn with_fields(kind: RecordKind, mut doc: serde_json::Value, more: serde_json::Value) -> serde_json::Value {
    if let (Some(doc), serde_json::Value::Object(more)) = (doc.as_object_mut(), more) {
        doc.extend(more);
    }
    match crate::record::Record::from_doc(kind, doc) {
        Ok(record) => record.to_doc(),
        Err(e) => panic!("a {} with these fields does not read: {e}", kind.wire()),
    }
}

#[test]
fn every_field_a_kinds_rules_name_is_a_field_of_its_record() {
    // The rules are strings: a field renamed in the struct but not in its
    // rules would silently lose its protection, merge class or ordering.
    for kind in RecordKind::ALL.iter().copied() {
        let doc = sample_doc(kind);
        let fields = doc.as_object().unwrap();
        for name in kind.rules().named_fields() {
            assert!(fields.contains_key(name), "{}'s rules name {name}, which is not one of its fields", kind.wire());
        }
    }
}

#[test]
fn rules_that_cannot_both_hold_do_not() {
    for kind in RecordKind::ALL.iter().copied() {
        let rules = kind.rules();
        // A list merged as a set and entry by entry at once has no single meaning.
        assert!(rules.sets.iter().all(|f| !rules.keyed.contains(f)), "{}", kind.wire());
        // A kind corrected by a new record is never edited, so nothing carries forward into an edit.
        assert_eq!(kind.is_mutable(), rules.correction.is_none());
        // Every clinic-owned field is one an edit cannot set (the core or the clinic sets it).
        assert!(rules.clinic_owned.iter().all(|f| rules.protected.contains(f)), "{}", kind.wire());
        assert!(rules.protected.contains(&"id"), "{}: a record's id is the core's", kind.wire());
        assert!(!rules.order.is_empty(), "{}: listing needs an order", kind.wire());
    }
}

#[test]
fn every_field_of_a_presented_kind_is_shown_or_marked_internal() {
    // A field added to an incident must be given a label (and so reach the
    // form, the chronology and the CLI) or be marked internal: a field in
    // neither state would be kept but never seen.
    for kind in RecordKind::ALL.iter().copied() {
        let rules = kind.rules();
        let doc = sample_doc(kind);
        let mut fields: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        // A structure is presented part by part (`referral.source`), so its
        // field counts once however many parts it has.
        let mut declared: Vec<&str> =
            rules.presented.iter().map(|p| p.top_field()).chain(rules.internal.iter().copied()).collect();
        declared.sort_unstable();
        declared.dedup();
        assert_eq!(fields, declared, "{}: every field, shown or internal", kind.wire());
        let mut paths: Vec<&str> = rules.presented.iter().map(|p| p.field).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), rules.presented.len(), "{}: a field presented twice", kind.wire());
        for internal in rules.internal {
            assert!(rules.presented.iter().all(|p| p.top_field() != *internal), "{}: {internal} is both", kind.wire());
        }
        let mut labels: Vec<&str> = rules.presented.iter().map(|p| p.label).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), rules.presented.len(), "{}: two fields share a label", kind.wire());
    }
}

#[test]
fn an_incident_with_every_field_filled_reads_out_every_presented_field() {
    // The chronology and the CLI show what `presented_text` gives: a field
    // that read as nothing would vanish from the court bundle.
    let mut doc = sample_doc(RecordKind::Incident);
    let filled = serde_json::json!({
        "location": "Corner of Demo Street", "impact": "Could not sleep", "witnesses": ["A neighbour"],
        "evidence": [{"description": "Doorbell video"}], "reported_to_police": true, "crime_reference": "CR-1",
        "police_force": "Demo Police", "officer": "PC Demo", "breaches_order": Uuid::from_u128(9),
        "behaviours": ["following"],
    });
    doc.as_object_mut().unwrap().extend(filled.as_object().unwrap().clone());
    let incident: Incident = crate::record::parse(doc).unwrap();
    let shown: Vec<&str> = incident.presented_text().iter().map(|p| p.field).collect();
    let presented: Vec<&str> = RecordKind::Incident.rules().presented.iter().map(|p| p.field).collect();
    assert_eq!(shown, presented);
    let text = incident.presented_text();
    assert!(text.iter().any(|p| p.field == "reported_to_police" && p.text == "Yes"));
    assert!(text.iter().any(|p| p.field == "channel" && p.text == "In person"));
}

/// A sample with the structures a new record leaves empty filled in, so
/// every presented path has something to read.
pub(crate) fn filled_doc(kind: RecordKind) -> serde_json::Value {
    let doc = sample_doc(kind);
    let more = match kind {
        RecordKind::Case => {
            json!({"closure": {"closed_on": "2026-12-01", "reason": "support_complete", "feels_safer": true},
                   "legal_hold": {"reason": "ongoing_proceedings", "since": "2026-12-02"}})
        }
        RecordKind::Victim => json!({
            "address": {"lines": ["1 Demo Street"], "postcode": "DE1 1MO", "do_not_disclose": true},
            "dependants": [{"name": "Demo Child"}],
        }),
        RecordKind::ProtectiveOrder => json!({
            "expiry": {"kind": "on", "date": "2027-06-01"},
            "conditions": [{"kind": "no_contact", "text": "Not to contact the victim"}],
        }),
        RecordKind::ClinicReview => json!({
            "agencies_present": ["police"],
            "srp": {"persistence": {"rating": "high", "rationale": "Months of contact"}},
            "actions": [{"action": "Review bail", "owner": "police", "due_on": "2026-12-10", "status": "open"}],
        }),
        _ => json!({}),
    };
    with_fields(kind, doc, more)
}

#[test]
fn every_presented_path_names_a_field_and_reads_as_words() {
    // A path with a typo would present nothing for ever; a structure shown
    // as stored would put JSON in front of a court or an advocate.
    for kind in RecordKind::ALL.iter().copied() {
        let doc = filled_doc(kind);
        for p in kind.rules().presented {
            assert!(crate::record::value_at(&doc, p.field).is_some(), "{}: {} is not a path", kind.wire(), p.field);
        }
        let record = crate::record::Record::from_doc(kind, doc.clone()).unwrap();
        let texts = record.presented_text();
        for p in kind.rules().presented {
            let held = match crate::record::value_at(&doc, p.field) {
                Some(serde_json::Value::Array(items)) => !items.is_empty(),
                Some(serde_json::Value::Object(map)) => !map.is_empty(),
                Some(value) => !value.is_null(),
                None => false,
            };
            let shown = texts.iter().find(|t| t.field == p.field);
            assert_eq!(shown.is_some(), held, "{}: {} holds something but reads as nothing", kind.wire(), p.field);
        }
        for text in texts {
            assert!(!text.text.contains(['{', '"']), "{}: {} reads as {}", kind.wire(), text.field, text.text);
        }
    }
}

#[test]
fn a_vocabulary_value_reads_as_its_label_and_a_date_as_in_england() {
    let case = crate::record::Record::from_doc(RecordKind::Case, filled_doc(RecordKind::Case)).unwrap();
    let text = case.presented_text();
    let of = |field: &str| text.iter().find(|t| t.field == field).map(|t| t.text.clone());
    assert_eq!(of("status").as_deref(), Some("Open"));
    assert_eq!(of("referral.source").as_deref(), Some("Police"));
    assert_eq!(of("closure.closed_on").as_deref(), Some("1 Dec 2026"));
    assert_eq!(of("closure.feels_safer").as_deref(), Some("Yes"));
    // Not answered reads as nothing, not as "No".
    assert_eq!(of("closure.behaviour_stopped"), None);
}

#[test]
fn checking_an_updates_fields_catches_each_field_of_the_wrong_type_on_its_own() {
    // The clinic judges an update's fields without the rest of the record,
    // trusting serde to read every field it is given before it reports one
    // missing. A record type that broke that (a `flatten`, say) would let a
    // wrongly typed field through to every laptop; this finds it.
    for kind in RecordKind::ALL.iter().copied() {
        let doc = filled_doc(kind);
        let fields = doc.as_object().unwrap();
        assert_eq!(crate::record::Record::check_fields(kind, fields), Ok(()), "{}: the whole record", kind.wire());
        for (name, value) in fields {
            let wrong = match value {
                serde_json::Value::String(_) => json!(12345),
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => json!({"not": "this"}),
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => json!("not this"),
                // Unset: no type of field here takes an object with a field of this name.
                serde_json::Value::Null => json!({"__not_a_field": 1}),
            };
            let alone = serde_json::Map::from_iter([(name.clone(), wrong)]);
            let err = crate::record::Record::check_fields(kind, &alone)
                .expect_err(&format!("{}: {name} of the wrong type passed", kind.wire()));
            assert!(
                err.0[0].field.starts_with(name.as_str()),
                "{}: {name} reported as {}",
                kind.wire(),
                err.0[0].field
            );
        }
    }
}

#[test]
fn a_victims_details_go_to_an_agency_only_under_a_consent_in_force_or_a_lawful_basis() {
    // Why: a panel member sees where the victim lives only when her consent
    // or a recorded lawful basis covers their agency, and not after she withdraws it.
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let mut victim: Victim = serde_json::from_value(serde_json::json!({
        "id": uuid::Uuid::from_u128(1), "case_id": uuid::Uuid::from_u128(2), "name": "Test Person",
        "consents": [{"with": "Police", "agency": "police", "given_on": "2026-11-01", "withdrawn_on": "2026-12-01"}],
        "sharing_without_consent": [{"with": "Probation", "agency": "probation", "shared_on": "2026-11-05",
            "lawful_basis": "vital_interests", "rationale": "Threats", "decided_by": "ISA01"}]
    }))
    .unwrap();
    assert!(victim.shares_with(&Agency::Police, d(11, 20)));
    assert!(!victim.shares_with(&Agency::Police, d(12, 1)), "withdrawn that day");
    assert!(!victim.shares_with(&Agency::Police, d(10, 31)), "not yet given");
    assert!(victim.shares_with(&Agency::Probation, d(12, 1)));
    assert!(!victim.shares_with(&Agency::Probation, d(11, 4)), "not before the decision");
    // A decision whose basis is consent is not a lasting basis: consents are recorded as consents.
    victim.sharing_without_consent[0].lawful_basis = LawfulBasis::Consent;
    assert!(!victim.shares_with(&Agency::Probation, d(12, 1)));
    assert!(!victim.shares_with(&Agency::MentalHealth, d(11, 20)));
    // A consent naming the police in words only is not the police's.
    victim.consents[0].agency = None;
    assert!(!victim.shares_with(&Agency::Police, d(11, 20)));
}

#[test]
fn a_value_dressed_as_the_rule_is_not_repeated_in_the_error() {
    // Why: a spreadsheet cell or a form field is the victim's own data; an
    // error that quoted it back would carry it into logs and reports.
    for (field, value) in [("ethnicity", "x, expected Jane Smith"), ("interpreter_needed", "expected Jane Smith")] {
        let doc = serde_json::json!({
            "id": uuid::Uuid::from_u128(1), "case_id": uuid::Uuid::from_u128(2), "name": "A B", field: value
        });
        let err = crate::Record::from_doc(crate::RecordKind::Victim, doc).unwrap_err();
        let said = err.to_string();
        assert!(said.contains(field) && !said.contains("Jane"), "{said}");
    }
}
