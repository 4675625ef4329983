//! The commissioner's quarterly return on a small fixture caseload whose
//! every figure was counted by hand (below, with the reasoning): on the
//! advocate's real laptop vault and at the clinic, through the real
//! router, on every store; then the same return as the commissioner gets it,
//! with small counts suppressed, as CSV, a workbook and a PDF.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::http::{header, StatusCode};
use chrono::{NaiveDate, TimeZone, Utc};
use kit::browser::*;
use kit::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;
use waymark_clinic::store::{AdminAction, AgendaItem, Attended, PanelMeeting};
use waymark_clinic::workspace::WorkRoute;
use waymark_domain::report::{quarterly_return, Quarter, QuarterlyReturn, ReportRules};
use waymark_domain::{CaseId, DeclineReason, RecordKind};
use waymark_vault::kit::patch;

/// Q2 2026/27: 1 July to 30 September 2026. The return is made on 7 December.
fn q2() -> Quarter {
    Quarter::new(2026, 2).unwrap()
}

fn on(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

/// Every cell of a return as shown, by `figure` or `figure/row`.
fn cells(report: &QuarterlyReturn) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in &report.figures {
        out.insert(f.key.wire().to_owned(), f.value.shown());
        for r in &f.breakdown {
            out.insert(format!("{}/{}", f.key.wire(), r.key), r.value.shown());
        }
    }
    out
}

/// Checks every cell: those listed hold what the hand count says, every
/// breakdown row not listed is 0, and every figure is listed.
fn assert_counted(report: &QuarterlyReturn, hand: &[(&str, &str)], side: &str) {
    let hand: BTreeMap<&str, &str> = hand.iter().copied().collect();
    for (cell, shown) in cells(report) {
        match hand.get(cell.as_str()) {
            Some(expected) => assert_eq!(&shown, expected, "{side}: {cell}"),
            None => {
                assert!(cell.contains('/'), "{side}: the hand count has no figure {cell}");
                assert_eq!(shown, "0", "{side}: {cell} is not in the hand count, so it must be 0");
            }
        }
    }
    for cell in hand.keys() {
        assert!(cells(report).contains_key(*cell), "{side}: the return has no {cell}");
    }
}

/// Figures both sides count the same way from the records both hold.
const BOTH: &[(&str, &str)] = &[
    // Opened in Q2: RQ-1 (1 Jul), RQ-2 (15 Jul), RQ-3 (3 Aug). RQ-4 came in
    // June, RQ-5 in October and WS-1 in December: none is new.
    ("referrals_accepted", "3"),
    ("victims_new", "3"),
    // Open on 30 September: RQ-2 and RQ-4. RQ-1 closed on the 20th, RQ-3 on the 30th itself.
    ("victims_open_at_end", "2"),
    ("victims_closed", "2"),
    ("victims_closed/support_complete", "1"),
    ("victims_closed/no_contact_established", "1"),
    // RQ-1 first met her the next day (1 day), RQ-2 after 5; RQ-3 never.
    ("first_contact_median_days", "3 days"),
    ("first_contact_within_target", "1 of 3 (33%)"),
    ("first_contact_awaited", "1"),
    // RQ-1's first assessment (DASH, high) counts, not its later S-DASH.
    ("risk_at_intake", "3"),
    ("risk_at_intake/high", "1"),
    ("risk_at_intake/medium", "1"),
    ("risk_at_intake/not_assessed", "1"),
    ("intake_instrument", "2"),
    ("intake_instrument/dash", "1"),
    ("intake_instrument/s-dash", "1"),
    // RQ-1's victim was referred in June too (RQ-4): same name, same birth.
    ("repeat_referrals", "1"),
    ("gender", "3"),
    ("gender/female", "1"),
    ("gender/male", "1"),
    ("gender/another", "1"),
    // 36 on 1 July; 16 on 15 July (born 1 August 2009); not recorded.
    ("age_band", "3"),
    ("age_band/35_44", "1"),
    ("age_band/16_17", "1"),
    ("age_band/not_recorded", "1"),
    ("ethnicity", "3"),
    ("ethnicity/white", "1"),
    ("ethnicity/not_recorded", "2"),
    ("disability", "3"),
    ("disability/recorded", "1"),
    ("disability/none_recorded", "2"),
    ("lgbt_plus", "3"),
    ("lgbt_plus/lgbt_plus", "1"),
    ("lgbt_plus/prefer_not_to_say", "1"),
    ("lgbt_plus/not_recorded", "1"),
    ("children_in_household", "3"),
    ("children_in_household/with_children", "1"),
    ("children_in_household/none_recorded", "2"),
    // The panel of 20 August heard RQ-2 and set four actions: one is open
    // and past its due date (1 October) on 7 December, one is open and not yet due.
    ("panel_cases_reviewed", "1"),
    ("panel_actions_set", "4"),
    ("panel_actions_overdue", "1"),
    // RQ-1's SPO: applied 10 July, granted 1 August, breached 1 September.
    ("spo_applied", "1"),
    ("spo_granted", "1"),
    ("spo_breached", "1"),
    // RQ-4's non-molestation order, made 5 July.
    ("other_orders", "1"),
    ("other_orders/non_molestation_order", "1"),
    // Closed in Q2: RQ-1 answered (safer, coping, better life, behaviour not
    // stopped); RQ-3 was never reached, so answered nothing.
    ("feels_safer", "1 of 1 (100%)"),
    ("better_able_to_cope", "1 of 1 (100%)"),
    ("quality_of_life_improved", "1 of 1 (100%)"),
    ("behaviour_stopped", "0 of 1 (0%)"),
    ("referrals_support_declined/after_opening", "0"),
];

/// The laptop's own: what screening, the panel's follow-up and the pathways
/// decide is held at the clinic.
const LAPTOP: &[(&str, &str)] = &[
    // Received in Q2: RQ-1 and RQ-3 from the police, RQ-2 a self-referral.
    ("referrals_received", "3"),
    ("referrals_received/police", "2"),
    ("referrals_received/self", "1"),
    ("referrals_declined", "[x]"),
    ("referrals_not_contactable", "1"),
    ("referrals_not_contactable/at_screening", "[x]"),
    ("referrals_not_contactable/after_opening", "1"),
    ("referrals_support_declined", "0"),
    ("referrals_support_declined/at_screening", "[x]"),
    ("panel_actions_on_time", "[x]"),
    ("mental_health_started", "[x]"),
    ("mental_health_completed", "[x]"),
    ("mappa_referrals", "[x]"),
    ("pathway_reoffended", "[x]"),
];

/// The clinic's: the laptop's three and the three referrals it received
/// that are not cases (two declined in August, one waiting since 29 September).
const CLINIC: &[(&str, &str)] = &[
    ("referrals_received", "6"),
    ("referrals_received/police", "5"),
    ("referrals_received/self", "1"),
    ("referrals_declined", "1"),
    ("referrals_declined/outside_area", "1"),
    ("referrals_not_contactable", "2"),
    ("referrals_not_contactable/at_screening", "1"),
    ("referrals_not_contactable/after_opening", "1"),
    ("referrals_support_declined", "0"),
    ("referrals_support_declined/at_screening", "0"),
    // Of the four: one done before its due date, one done late (circumstances changed).
    ("panel_actions_on_time", "1"),
    // RQ-2's perpetrator: the mental-health pathway started 1 August and
    // completed 15 September; a MAPPA referral on 20 September. The
    // reoffending recorded on 5 October is Q3's.
    ("mental_health_started", "1"),
    ("mental_health_completed", "1"),
    ("mappa_referrals", "1"),
    ("pathway_reoffended", "0"),
];

/// Opens a case on the laptop whose referral came in on `received`.
fn a_case(laptop: &mut waymark_vault::Vault, reference: &str, received: &str, source: &str, victim: &[&str]) -> CaseId {
    let case = patch(&[
        &format!("reference={reference}"),
        &format!("referral.source={source}"),
        &format!("referral.received_on={received}"),
        &format!("opened_on={received}"),
        "referral.reason=Repeated contact",
    ]);
    let (case, _) = laptop.open_case(&case, &patch(victim)).unwrap();
    case.case_id().unwrap()
}

fn a_contact(laptop: &mut waymark_vault::Vault, case: CaseId, at: &str) {
    let fields = [&format!("at={at}") as &str, "method=phone", "with_victim:=true", "summary=Spoke with her"];
    laptop.add(RecordKind::Contact, Some(case), &patch(&fields)).unwrap();
}

fn an_assessment(
    laptop: &mut waymark_vault::Vault,
    case: CaseId,
    instrument: &str,
    questions: u32,
    answer: &str,
    level: &str,
    on: &str,
) {
    let prefix = if instrument == "dash" { "d" } else { "s" };
    let answers: Vec<String> = (1..=questions).map(|n| format!("answers.{prefix}{n}.answer={answer}")).collect();
    let mut items: Vec<&str> = answers.iter().map(String::as_str).collect();
    let fixed = [format!("instrument={instrument}"), format!("judged_level={level}"), format!("assessed_on={on}")];
    items.extend(fixed.iter().map(String::as_str));
    items.extend(["next_review_on=2026-12-20", "rationale=Judged with the clinic"]);
    laptop.add(RecordKind::RiskAssessment, Some(case), &patch(&items)).unwrap();
}

/// ISA01's fixture caseload, beside the kit's WS-1 (referred in December).
fn the_fixture(laptop: &mut waymark_vault::Vault) -> (CaseId, CaseId) {
    let rq4 = a_case(laptop, "RQ-4", "2026-06-20", "police", &["name=Ada Quill", "date_of_birth=1990-01-01"]);
    a_contact(laptop, rq4, "2026-06-21 10:00");
    let order = [
        "order_type=non_molestation_order",
        "issued_by=Family court",
        "made_on=2026-07-05",
        "expiry.kind=until_further_order",
    ];
    laptop.add(RecordKind::ProtectiveOrder, Some(rq4), &patch(&order)).unwrap();

    let rq1 = a_case(
        laptop,
        "RQ-1",
        "2026-07-01",
        "police",
        &[
            "name=Ada Quill",
            "date_of_birth=1990-01-01",
            "gender=Female",
            "ethnicity=white",
            "sexual_orientation=bisexual",
            "disabilities=Hearing loss",
            "dependants+:={\"name\": \"Kit Quill\", \"date_of_birth\": \"2015-05-05\"}",
        ],
    );
    a_contact(laptop, rq1, "2026-07-02 10:00");
    a_contact(laptop, rq1, "2026-07-05 10:00");
    an_assessment(laptop, rq1, "dash", 27, "yes", "high", "2026-07-03");
    an_assessment(laptop, rq1, "s-dash", 11, "no", "medium", "2026-08-01");
    let spo = laptop
        .add(
            RecordKind::ProtectiveOrder,
            Some(rq1),
            &patch(&[
                "order_type=spo",
                "issued_by=Magistrates' court",
                "applied_on=2026-07-10",
                "made_on=2026-08-01",
                "served_on=2026-08-02",
                "expiry.kind=until_further_order",
            ]),
        )
        .unwrap();
    laptop
        .add(RecordKind::Breach, Some(rq1), &patch(&[&format!("order_id={}", spo.id()), "occurred_on=2026-09-01"]))
        .unwrap();
    laptop
        .close_case(
            rq1,
            &patch(&[
                "closed_on=2026-09-20",
                "reason=support_complete",
                "feels_safer:=true",
                "better_able_to_cope:=true",
                "quality_of_life_improved:=true",
                "behaviour_stopped:=false",
            ]),
        )
        .unwrap();

    let rq2 = a_case(
        laptop,
        "RQ-2",
        "2026-07-15",
        "self",
        &["name=Bo Reed", "date_of_birth=2009-08-01", "gender=male", "sexual_orientation=prefer_not_to_say"],
    );
    a_contact(laptop, rq2, "2026-07-20 10:00");
    an_assessment(laptop, rq2, "s-dash", 11, "no", "medium", "2026-07-21");

    let rq3 = a_case(laptop, "RQ-3", "2026-08-03", "police", &["name=Cy Moss", "gender=Non-binary"]);
    laptop.close_case(rq3, &patch(&["closed_on=2026-09-30", "reason=no_contact_established"])).unwrap();

    let rq5 = a_case(laptop, "RQ-5", "2026-10-02", "police", &["name=Ed Fox"]);
    a_contact(laptop, rq5, "2026-10-03 10:00");
    laptop.close_case(rq5, &patch(&["closed_on=2026-10-20", "reason=victim_declined", "feels_safer:=true"])).unwrap();
    (rq1, rq2)
}

fn path(route: WorkRoute, id: &str) -> String {
    route.path().replace("{id}", id)
}

fn the_panel_record() -> Value {
    let action = |agency: &str, due: &str| json!({ "agency": agency, "named_owner": null, "action": format!("Act by {due}"), "due_on": due });
    json!({
        "information": [{ "agency": "police", "text": "Two reports this month." }],
        "typology": "rejected",
        "srp": an_srp_judgement(),
        "decisions": ["mental_health_assessment"],
        "actions": [
            action("police", "2027-01-31"),
            action("probation", "2026-09-01"),
            action("police", "2026-10-01"),
            action("probation", "2027-02-01")
        ]
    })
}

#[tokio::test]
async fn every_figure_of_the_return_is_the_hand_count_on_the_laptop_and_at_the_clinic_in_every_store() {
    // Why: the commissioner is handed these figures as fact. Each one is
    // counted here by hand from a fixture caseload and compared, on the
    // laptop (its own caseload, with what only the clinic holds marked so)
    // and at the clinic (the whole service), so a definition that drifts
    // from docs/reports.md, or a record the count misreads, fails here.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        let members = staff(&*clinic.state.store, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let (_ws1, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let (_rq1, rq2) = the_fixture(&mut laptop);
        push(&clinic, &laptop, device, start());
        let perpetrator = a_perpetrator(&clinic, &mut laptop, device, rq2.as_uuid());

        // Screening in August and September; one in October is Q3's.
        let store = &*clinic.state.store;
        let form = || serde_json::from_value(referral_form("Avery Sample (TEST)", "Jordan Sample (TEST)")).unwrap();
        let submit = |at| waymark_clinic::intake::submit(store, &clinic.state.service, &form(), "REF1", at).unwrap().0;
        let far = submit(on(2026, 8, 10));
        waymark_clinic::intake::decline(store, far, DeclineReason::OutsideArea, "CRD1", on(2026, 8, 12)).unwrap();
        let unreachable = submit(on(2026, 8, 11));
        waymark_clinic::intake::decline(store, unreachable, DeclineReason::NotContactable, "CRD1", on(2026, 8, 11))
            .unwrap();
        submit(on(2026, 9, 29));
        submit(on(2026, 10, 1));

        // The panel of 20 August hears RQ-2; the coordinator records it on 7 December.
        let meeting = PanelMeeting {
            id: Uuid::now_v7(),
            meets_on: NaiveDate::from_ymd_opt(2026, 8, 20).unwrap(),
            chair: "CRD1".into(),
            invited: vec!["PNL1".into()],
            agenda: vec![AgendaItem { case_id: rq2.as_uuid(), minutes: 15 }],
            created_by: "CRD1".into(),
            created_at: start(),
            published_at: Some(start()),
            closed_at: None,
            research_due_on: None,
            attendance: vec![Attended { code: "PNL1".into(), mark: waymark_domain::Attendance::Present }],
        };
        store.save_meeting(&meeting, "CRD1", AdminAction::MeetingSaved, start()).unwrap();
        let coordinator = sign_in(&clinic, member("CRD1"), start()).await;
        let record_path = WorkRoute::MeetingCaseRecord
            .path()
            .replace("{id}", &meeting.id.to_string())
            .replace("{case}", &rq2.to_string());
        let (status, body) =
            call(&clinic, request_with(WorkRoute::MeetingCaseRecord, &record_path, &coordinator, &the_panel_record()))
                .await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let actions = json_of(&body)["cases"][0]["actions"].as_array().unwrap().clone();
        let id_due =
            |due: &str| actions.iter().find(|a| a["due_on"] == due).unwrap()["id"].as_str().unwrap().to_owned();
        for (due, update) in [
            ("2027-01-31", json!({ "status": "done" })),
            ("2026-09-01", json!({ "status": "done", "overdue": "circumstances_changed" })),
        ] {
            let route = path(WorkRoute::ActionUpdate, &id_due(due));
            let (status, body) =
                call(&clinic, request_with(WorkRoute::ActionUpdate, &route, &coordinator, &update)).await;
            assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        }
        for (kind, stage, day) in [
            ("mental_health", "referred", "2026-07-05"),
            ("mental_health", "accepted", "2026-07-10"),
            ("mental_health", "started", "2026-08-01"),
            ("mental_health", "completed", "2026-09-15"),
            ("mappa", "referred", "2026-09-20"),
            ("mental_health", "reoffended", "2026-10-05"),
        ] {
            let step = json!({ "case_id": rq2.as_uuid(), "perpetrator_id": perpetrator, "kind": kind, "stage": stage, "on": day });
            let (status, body) =
                call(&clinic, request_with(WorkRoute::PathwayStep, WorkRoute::PathwayStep.path(), &coordinator, &step))
                    .await;
            assert_eq!(status, StatusCode::OK, "{name}: {stage}: {}", String::from_utf8_lossy(&body));
        }

        // The laptop pulls the panel's review, then counts its own caseload.
        let page = store.feed(device, "ISA01", 0, 1000).unwrap();
        laptop.sync_apply(&page.ops, page.through).unwrap();
        assert!(laptop.sync_problems().unwrap().is_empty(), "{name}");
        let unsuppressed = ReportRules { suppress_below: 1, ..laptop.rules().report.clone() };
        let own = quarterly_return(&laptop.return_facts().unwrap(), q2(), laptop.today(), &unsuppressed);
        assert_counted(&own, &[BOTH, LAPTOP].concat(), &format!("{name}: laptop"));

        // The clinic counts the whole service from its copy and what only it holds.
        let mut open = clinic.state.clone();
        let mut service = (*clinic.state.service).clone();
        service.rules.report.suppress_below = 1;
        open.service = Arc::new(service);
        let whole = waymark_clinic::reports::service_return(&open, q2()).unwrap();
        assert_counted(&whole, &[BOTH, CLINIC].concat(), &format!("{name}: clinic"));

        // As the manager downloads it, under the shipped rule: people counted
        // 1 to 4 by something about them are hidden; activity is not.
        let manager = sign_in(&clinic, member("MGR1"), start()).await;
        let url = |format: &str| format!("{}?quarter=2026-27-Q2&format={format}", WorkRoute::QuarterlyReturn.path());
        let (status, body) =
            call(&clinic, request(WorkRoute::QuarterlyReturn, &url("json"), Some(&manager), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let handed: QuarterlyReturn = serde_json::from_slice(&body).unwrap();
        let shown = cells(&handed);
        for (cell, expected) in [
            ("referrals_received", "6"),
            ("referrals_received/police", "[c]"),
            ("referrals_received/probation", "0"),
            ("ethnicity", "[c]"),
            ("feels_safer", "[c]"),
            ("first_contact_median_days", "[c]"),
            ("victims_new", "3"),
            ("spo_granted", "1"),
            ("mappa_referrals", "1"),
        ] {
            assert_eq!(shown[cell], expected, "{name}: {cell}");
        }
        for (format, content_type) in
            [("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats"), ("pdf", "application/pdf")]
        {
            let (status, headers, body) =
                send(&clinic, request(WorkRoute::QuarterlyReturn, &url(format), Some(&manager), None)).await;
            assert_eq!(status, StatusCode::OK, "{name}: {format}");
            assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(content_type), "{name}: {format}");
            let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert_eq!(disposition, format!("attachment; filename=\"quarterly-return-2026-27-Q2-service.{format}\""));
            if format == "pdf" {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("return.pdf");
                std::fs::write(&file, &body).unwrap();
                waymark_typeset::kit::assert_structurally_valid(&file);
                let text = waymark_typeset::kit::pages_of(&file).join(" ");
                assert!(text.contains("Q2 2026/27 (1 July to 30 September 2026)"), "{name}");
                assert!(text.contains("Stalking Protection Orders granted"), "{name}");
                for private in ["Ada", "Quill", "RQ-1", "ISA01", "Sample"] {
                    assert!(!text.contains(private), "{name}: {private}");
                }
            }
            if format == "csv" {
                let text = String::from_utf8(body).unwrap();
                assert!(
                    text.contains("2026-27-Q2,Referrals,referrals_received,\"Referrals received, by source\",,,6,,6"),
                    "{name}"
                );
            }
        }
        // A bad quarter is refused by field; a panel member may not make a return.
        let bad = format!("{}?quarter=2026-Q2", WorkRoute::QuarterlyReturn.path());
        let (status, body) = call(&clinic, request(WorkRoute::QuarterlyReturn, &bad, Some(&manager), None)).await;
        assert_eq!((status, json_of(&body)["fields"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("quarter")));
        let police = sign_in(&clinic, member("PNL1"), start()).await;
        let (status, _) = call(&clinic, request(WorkRoute::QuarterlyReturn, &url("json"), Some(&police), None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        // Each return made is in the audit: the quarter and the format, nothing counted.
        let made: Vec<_> = store
            .admin_audit()
            .unwrap()
            .into_iter()
            .filter(|e| e.action == AdminAction::ReturnMade)
            .map(|e| (e.actor, e.target, e.detail["format"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(made.len(), 4, "{name}: {made:?}");
        assert!(
            made.iter().all(|(actor, target, _)| actor == "MGR1" && target.as_deref() == Some("2026-27-Q2")),
            "{name}"
        );
    }
}
