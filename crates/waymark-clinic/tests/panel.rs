//! The multi-agency panel through the real router, on every store: a whole
//! cycle from the selection to a chased action, what each agency may see of
//! it, and what reaches the advocate's laptop.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::http::StatusCode;
use chrono::Duration;
use kit::browser::*;
use kit::*;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;
use uuid::Uuid;
use waymark_clinic::store::AdminAction;
use waymark_clinic::workspace::WorkRoute;
use waymark_domain::{ActionStatus, Agency, CaseId, PanelDecision, SrpRating, TaskStatus, Typology};
use waymark_typeset::kit::{assert_structurally_valid, keep_first_page, pages_of};

fn fields_of(body: &[u8]) -> Vec<String> {
    json_of(body)["fields"]
        .as_array()
        .map_or_else(Vec::new, |f| f.iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect())
}

fn path(route: WorkRoute, id: &str) -> String {
    route.path().replace("{id}", id)
}

/// The coordinator's record of a case at a meeting, as the page sends it.
fn case_record(police_due: &str, charity_due: &str) -> Value {
    json!({
        "information": [
            { "agency": "police", "text": "Two reports this month; a harassment warning was served." },
            { "agency": "victims_charity", "text": "She is frightened to leave the house." }
        ],
        "typology": "rejected",
        "srp": an_srp_judgement(),
        "decisions": ["spo_application", { "other": "Ask the housing team about a move" }],
        "decision_note": "Review at the January panel.",
        "actions": [
            { "agency": "police", "named_owner": "DS Example (TEST)", "action": "Apply for a Stalking Protection Order", "due_on": police_due },
            { "agency": "victims_charity", "named_owner": null, "action": "Review the safety plan with her", "due_on": charity_due }
        ]
    })
}

#[tokio::test]
async fn a_whole_panel_cycle_reaches_the_laptop_and_each_agency_sees_only_its_part_in_every_store() {
    // Why: the panel is run in the workspace from selection to chased
    // actions; the police and the charity each see their own research and
    // actions and nothing of the other's, a member invited to one meeting
    // reaches nothing of another, and the advocate's laptop receives the
    // review and the charity's task without anyone typing them twice.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let (case_a, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let mut coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let manager = sign_in(&clinic, member("MGR1"), clock.now()).await;
        let mut police = sign_in(&clinic, member("PNL1"), clock.now()).await;

        // Case B comes from a referral whose referrer ticked two criteria.
        let referral = a_waiting_referral(&clinic, start());
        let accept = path(WorkRoute::ReferralAccept, &referral.to_string());
        let (status, body) = call(
            &clinic,
            request_with(WorkRoute::ReferralAccept, &accept, &coordinator, &json!({ "advocate": "ISA01" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let case_b = json_of(&body)["case_id"].as_str().unwrap().parse::<Uuid>().unwrap();

        // The selection: case B from its referral; case A meets nothing until the coordinator adds it.
        let selection = || request(WorkRoute::Selection, WorkRoute::Selection.path(), Some(&coordinator), None);
        let (status, body) = call(&clinic, selection()).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let view = json_of(&body);
        let rows = view["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{name}: {rows:?}");
        assert_eq!(rows[0]["case_id"], case_b.to_string());
        let met: Vec<(&str, &str)> = rows[0]["met"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["criterion"].as_str().unwrap(), m["basis"].as_str().unwrap()))
            .collect();
        assert_eq!(met, [("professional_judgement", "referral"), ("escalation", "referral")], "{name}");
        assert_eq!(view["criteria"].as_array().unwrap().len(), 5, "{name}: the criteria come with their sources");
        let change = WorkRoute::SelectionChange;
        let add = json!({ "case_id": case_a, "include": true, "criterion": "stalking_coordinator", "reason": "Flagged by DI Example on 6 Dec" });
        let (status, _) = call(&clinic, request_with(change, change.path(), &manager, &add)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: the coordinator's to change");
        let mut blank = add.clone();
        blank["reason"] = json!("  ");
        let (status, body) = call(&clinic, request_with(change, change.path(), &coordinator, &blank)).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["reason".to_owned()]), "{name}");
        let (status, body) = call(&clinic, request_with(change, change.path(), &coordinator, &add)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let rows = json_of(&body)["rows"].as_array().unwrap().clone();
        let row_a = rows.iter().find(|r| r["case_id"] == case_a.to_string()).unwrap();
        assert_eq!(row_a["met"][0]["basis"], "coordinator", "{name}");
        assert_eq!(row_a["met"][0]["criterion"], "stalking_coordinator", "{name}");
        let off = json!({ "case_id": case_b, "include": false, "reason": "Heard at MARAC last week" });
        let (_, body) = call(&clinic, request_with(change, change.path(), &coordinator, &off)).await;
        let rows = json_of(&body)["rows"].as_array().unwrap().clone();
        let row_b = rows.iter().find(|r| r["case_id"] == case_b.to_string()).unwrap();
        assert_eq!(row_b["removed"], "Heard at MARAC last week", "{name}: kept, with why");
        // A reason typed with where she lives is kept at the clinic but shown to no one.
        let naming = json!({ "case_id": case_b, "include": false, "reason": "Heard at MARAC; she moved from 12 Larkspur Close" });
        let (_, body) = call(&clinic, request_with(change, change.path(), &coordinator, &naming)).await;
        assert!(!String::from_utf8_lossy(&body).contains("Larkspur"), "{name}");
        let rows = json_of(&body)["rows"].as_array().unwrap().clone();
        let row_b = rows.iter().find(|r| r["case_id"] == case_b.to_string()).unwrap();
        assert_eq!(row_b["removed"], waymark_clinic::panel::WITHHELD_ADDRESS, "{name}");
        call(&clinic, request_with(change, change.path(), &coordinator, &off)).await;

        // Meeting A hears case A with the police and the charity; meeting B hears case B with the charity only.
        let save = WorkRoute::MeetingSave;
        let meeting_a = json!({ "id": null, "meets_on": "2026-12-10", "chair": "CRD1", "invited": ["PNL1", "PNL2"],
            "agenda": [{ "case_id": case_a, "minutes": 15 }], "research_due_on": "2026-12-11" });
        let (status, body) = call(&clinic, request_with(save, save.path(), &coordinator, &meeting_a)).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["research_due_on".to_owned()]));
        let mut meeting_a = meeting_a;
        meeting_a["research_due_on"] = json!("2026-12-09");
        let (_, body) = call(&clinic, request_with(save, save.path(), &coordinator, &meeting_a)).await;
        let a = json_of(&body)["id"].as_str().unwrap().to_owned();
        let meeting_b = json!({ "id": null, "meets_on": "2026-12-11", "chair": "CRD1", "invited": ["PNL2"],
            "agenda": [{ "case_id": case_b, "minutes": 15 }], "research_due_on": null });
        let (_, body) = call(&clinic, request_with(save, save.path(), &coordinator, &meeting_b)).await;
        let b = json_of(&body)["id"].as_str().unwrap().to_owned();
        let detail =
            |id: &str, who: &Browser| request(WorkRoute::Meeting, &path(WorkRoute::Meeting, id), Some(who), None);
        let research = |id: &str, who: &Browser, body: Value| {
            request_with(WorkRoute::MeetingResearch, &path(WorkRoute::MeetingResearch, id), who, &body)
        };
        // Before publication the police see nothing of meeting A.
        assert_eq!(call(&clinic, detail(&a, &police)).await.0, StatusCode::NOT_FOUND, "{name}");
        for id in [&a, &b] {
            let (status, _) = call(
                &clinic,
                request(
                    WorkRoute::MeetingPublish,
                    &path(WorkRoute::MeetingPublish, id),
                    Some(&coordinator),
                    Some(&coordinator.csrf),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{name}");
        }

        // Need to know: the police, on A only, reach nothing of B, and nothing of case B through A.
        assert_eq!(call(&clinic, detail(&b, &police)).await.0, StatusCode::NOT_FOUND, "{name}");
        let case_b_path = path(WorkRoute::Case, &case_b.to_string());
        assert_eq!(
            call(&clinic, request(WorkRoute::Case, &case_b_path, Some(&police), None)).await.0,
            StatusCode::NOT_FOUND,
            "{name}"
        );
        let on_b = json!({ "case_id": case_b, "summary": "Nothing held." });
        assert_eq!(call(&clinic, research(&b, &police, on_b.clone())).await.0, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(call(&clinic, research(&a, &police, on_b)).await.0, StatusCode::NOT_FOUND, "{name}");

        // Each agency returns its research; its agency is the staff register's, never the page's.
        let claimed = json!({ "case_id": case_a, "summary": "Two call-outs.", "agency": "cps" });
        let (status, body) = call(&clinic, research(&a, &police, claimed)).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["agency".to_owned()]), "{name}");
        let police_summary = "Two call-outs in November; PIN served 20/11.";
        let (status, body) =
            call(&clinic, research(&a, &police, json!({ "case_id": case_a, "summary": police_summary }))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let seen = json_of(&body);
        assert_eq!(seen["cases"][0]["research"][0]["agency"], "police", "{name}");
        assert_eq!(seen["cases"][0]["awaiting"], json!([]), "{name}: the police await only themselves");
        // The coordinator sees who has not returned.
        let (_, body) = call(&clinic, detail(&a, &coordinator)).await;
        assert_eq!(json_of(&body)["cases"][0]["awaiting"], json!(["victims_charity"]), "{name}");
        // The charity returns after the deadline: late.
        clock.set(start() + Duration::days(3));
        let charity = sign_in(&clinic, member("PNL2"), clock.now()).await;
        coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        police = sign_in(&clinic, member("PNL1"), clock.now()).await;
        let charity_summary = "Weekly support calls since October; she fears going out.";
        let (_, body) =
            call(&clinic, research(&a, &charity, json!({ "case_id": case_a, "summary": charity_summary }))).await;
        let seen = json_of(&body);
        let returns = seen["cases"][0]["research"].as_array().unwrap();
        assert_eq!(returns.len(), 1, "{name}: the charity sees its own research only");
        assert_eq!(
            (returns[0]["agency"].as_str(), returns[0]["late"].as_bool()),
            (Some("victims_charity"), Some(true))
        );
        assert!(!String::from_utf8_lossy(&body).contains("PIN served"), "{name}: nothing of the police's");

        // The meeting: who came first, then the case.
        let record_path =
            WorkRoute::MeetingCaseRecord.path().replace("{id}", &a).replace("{case}", &case_a.to_string());
        let record = |body: &Value| request_with(WorkRoute::MeetingCaseRecord, &record_path, &coordinator, body);
        let (status, body) = call(&clinic, record(&case_record("2026-12-20", "2026-12-14"))).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["attendance".to_owned()]), "{name}");
        let marks =
            json!({ "marks": [{ "code": "PNL1", "mark": "present" }, { "code": "PNL2", "mark": "apologies" }] });
        let attendance = path(WorkRoute::MeetingAttendance, &a);
        let (status, _) =
            call(&clinic, request_with(WorkRoute::MeetingAttendance, &attendance, &coordinator, &marks)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let mut bad = case_record("2026-12-01", "2026-12-14");
        bad["srp"]["stubbornness"] = json!({ "rating": "high", "rationale": "x" });
        let (status, body) = call(&clinic, record(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(fields_of(&body), ["actions[0].due_on"], "{name}: the form's own checks first");
        bad["actions"][0]["due_on"] = json!("2026-12-20");
        let (_, body) = call(&clinic, record(&bad)).await;
        assert_eq!(fields_of(&body), ["srp.stubbornness"], "{name}: then the record's rules");
        let (status, body) = call(&clinic, record(&case_record("2026-12-20", "2026-12-14"))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let held = json_of(&body);
        let recorded = &held["cases"][0];
        assert_eq!(recorded["record"]["srp"]["persistence"]["rating"], "high", "{name}");
        assert_eq!(recorded["actions"].as_array().unwrap().len(), 2, "{name}");
        // The police's page of the same meeting: their own action, nothing the meeting recorded.
        let (_, body) = call(&clinic, detail(&a, &police)).await;
        let theirs = json_of(&body);
        assert_eq!(theirs["cases"][0]["record"], Value::Null, "{name}");
        assert_eq!(theirs["cases"][0]["brief"], Value::Null, "{name}: the record in brief is the coordinator's");
        assert_eq!(recorded["brief"]["incidents"], 1, "{name}");
        assert_eq!(theirs["attendance"], json!([]), "{name}");
        let own: Vec<&str> =
            theirs["cases"][0]["actions"].as_array().unwrap().iter().map(|a| a["agency"].as_str().unwrap()).collect();
        assert_eq!(own, ["police"], "{name}");
        assert!(!String::from_utf8_lossy(&body).contains("safety plan"), "{name}: nothing of the charity's");
        // Nor through the case itself: the review and the advocate's tasks stay with the coordinator.
        let case_a_path = path(WorkRoute::Case, &case_a.to_string());
        let (status, body) = call(&clinic, request(WorkRoute::Case, &case_a_path, Some(&police), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let text = String::from_utf8_lossy(&body).into_owned();
        for words in ["Stopped working", "safety plan with her", "housing team", "Threats, no violence"] {
            assert!(!text.contains(words), "{name}: the police's case page holds {words}");
        }
        let withheld = json_of(&body)["withheld"].clone();
        assert!(withheld.as_array().unwrap().iter().any(|w| w == "clinic_review"), "{name}: {withheld}");
        let (_, body) = call(&clinic, request(WorkRoute::Case, &case_a_path, Some(&coordinator), None)).await;
        assert!(
            String::from_utf8_lossy(&body).contains("Stopped working"),
            "{name}: the coordinator's page holds the review"
        );

        // The police note on their action where she lives: it reaches no page or screen at the clinic.
        let police_action =
            held["cases"][0]["actions"].as_array().unwrap().iter().find(|a| a["agency"] == "police").unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
        let noted = json!({ "status": "open", "note": "Patrols past 7 Hiddenhurst Lane nightly." });
        let noting = path(WorkRoute::ActionUpdate, &police_action);
        let (status, _) = call(&clinic, request_with(WorkRoute::ActionUpdate, &noting, &police, &noted)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let (_, body) = call(&clinic, detail(&a, &coordinator)).await;
        let text = String::from_utf8_lossy(&body).into_owned();
        assert!(!text.contains("Hiddenhurst") && text.contains(waymark_clinic::panel::WITHHELD_ADDRESS), "{name}");

        // The minutes: every recorded field, OFFICIAL-SENSITIVE on every page, valid by qpdf.
        let dir = tempfile::tempdir().unwrap();
        let minutes_path = path(WorkRoute::MeetingMinutes, &a);
        let (status, headers, pdf) =
            send(&clinic, request(WorkRoute::MeetingMinutes, &minutes_path, Some(&coordinator), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&pdf));
        assert_eq!(headers["content-type"], "application/pdf", "{name}");
        assert_eq!(
            headers["content-disposition"], "attachment; filename=\"panel-minutes-2026-12-10.pdf\"",
            "{name}: the date names it, never a case"
        );
        let file = dir.path().join("minutes.pdf");
        std::fs::write(&file, &pdf).unwrap();
        assert_structurally_valid(&file);
        keep_first_page(&file, &docs_printouts().join("panel-minutes"));
        let pages = pages_of(&file);
        assert!(pages.iter().all(|p| p.matches("OFFICIAL-SENSITIVE").count() >= 2), "{name}: header and footer");
        let all = pages.join(" ");
        for recorded in [
            "Panel met on 10 Dec 2026",
            "Research due by 9 Dec 2026",
            "WS-1",
            "PNL1",
            "Present",
            "Apologies",
            "Two call-outs in November; PIN served 20/11.",
            "(returned after the deadline)",
            "Two reports this month; a harassment warning was served.",
            "She is frightened to leave the house.",
            "Typology Rejected",
            "Risk of violence Moderate Threats, no violence yet.",
            "Risk of persistence High Contact continued after the warning.",
            "Risk of recurrence High Stalked a former partner before.",
            "Psychosocial damage High Stopped working.",
            "Stalking Protection Order application; Ask the housing team about a move.",
            "Review at the January panel.",
            "Apply for a Stalking Protection Order",
            "DS Example (TEST)",
            "Review the safety plan with her",
            "20 Dec 2026",
            "14 Dec 2026",
            "Flagged by the force stalking coordinator",
            "The record in brief",
            "Advocate ISA01",
            "Incidents 1",
        ] {
            assert!(all.contains(recorded), "{name}: the minutes lack {recorded:?}: {all}");
        }
        assert!(!all.contains("Hiddenhurst"), "{name}: the minutes show where she lives");
        // A service names itself in the clinic folder's templates/, without a build.
        let service_dir = tempfile::tempdir().unwrap();
        std::fs::write(
            service_dir.path().join("service.toml"),
            "name = \"Northshire Stalking Clinic (TEST)\"\nlogo = \"logo.svg\"\ncontact = \"Clinic office 01632 960111\"\n",
        )
        .unwrap();
        let mut named = clinic.state.clone();
        named.templates =
            Arc::new(waymark_clinic::minutes::ClinicTemplates::with_overrides(service_dir.path()).unwrap());
        let response = waymark_clinic::router(named)
            .oneshot(request(WorkRoute::MeetingMinutes, &minutes_path, Some(&coordinator), None))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let own = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        std::fs::write(&file, &own).unwrap();
        let own = pages_of(&file).join(" ");
        assert!(own.contains("Northshire Stalking Clinic (TEST)") && !own.contains("Example Stalking"), "{name}");
        assert_eq!(status, StatusCode::OK);
        // The police's extract: their research and action, nothing of the charity's, no record.
        let extract_path = path(WorkRoute::MeetingExtract, &a);
        let (status, pdf) = call(&clinic, request(WorkRoute::MeetingExtract, &extract_path, Some(&police), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let file = dir.path().join("extract.pdf");
        std::fs::write(&file, &pdf).unwrap();
        assert_structurally_valid(&file);
        let extract = pages_of(&file).join(" ");
        assert!(extract.contains("extract for Police") && extract.contains("Apply for a Stalking Protection Order"));
        assert!(extract.contains("PIN served"), "{name}: {extract}");
        for theirs in
            ["frightened", "safety plan with her", "Stopped working", "Rejected", "housing team", "Hiddenhurst"]
        {
            assert!(!extract.contains(theirs), "{name}: the police extract holds {theirs:?}");
        }
        // An agency asks only for its own; the coordinator names the agency.
        let other = format!("{extract_path}?agency=victims_charity");
        let (status, body) = call(&clinic, request(WorkRoute::MeetingExtract, &other, Some(&police), None)).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["agency".to_owned()]), "{name}");
        let (status, _) =
            call(&clinic, request(WorkRoute::MeetingExtract, &extract_path, Some(&coordinator), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: whose extract?");
        let (status, pdf) = call(&clinic, request(WorkRoute::MeetingExtract, &other, Some(&coordinator), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        std::fs::write(&file, &pdf).unwrap();
        let extract = pages_of(&file).join(" ");
        assert!(extract.contains("Review the safety plan with her") && !extract.contains("PIN served"), "{name}");
        assert_eq!(
            call(&clinic, request(WorkRoute::MeetingMinutes, &minutes_path, Some(&police), None)).await.0,
            StatusCode::FORBIDDEN,
            "{name}: the minutes are the coordinator's"
        );

        // The laptop pulls: the review (SRP, decisions, actions) and the charity's task linked to it.
        let page = clinic.state.store.feed(device, "ISA01", 0, 1000).unwrap();
        laptop.sync_apply(&page.ops, page.through).unwrap();
        assert!(laptop.sync_problems().unwrap().is_empty(), "{name}: {:?}", laptop.sync_problems().unwrap());
        let file = laptop.case_file(CaseId(case_a)).unwrap();
        assert_eq!(file.clinic_reviews.len(), 1, "{name}");
        let review = &file.clinic_reviews[0];
        assert_eq!(review.meeting_on.to_string(), "2026-12-10", "{name}");
        assert_eq!(review.agencies_present, [Agency::Police], "{name}: the charity sent apologies");
        assert_eq!(review.typology, Some(Typology::Rejected), "{name}");
        assert_eq!(review.srp["violence"].rating, SrpRating::Moderate, "{name}");
        assert_eq!(
            review.decisions,
            [PanelDecision::SpoApplication, PanelDecision::Other("Ask the housing team about a move".into())],
            "{name}"
        );
        assert_eq!(review.actions.len(), 2, "{name}");
        assert_eq!(review.actions[0].named_owner.as_deref(), None, "{name}: the charity's, due first");
        assert_eq!(review.actions[1].named_owner.as_deref(), Some("DS Example (TEST)"), "{name}");
        let tasks: Vec<_> =
            file.tasks.iter().filter(|t| t.linked.is_some_and(|l| l.id == review.id.as_uuid())).collect();
        assert_eq!(tasks.len(), 1, "{name}: only the charity's action is a task");
        assert_eq!(tasks[0].what, "Panel action: Review the safety plan with her", "{name}");
        assert_eq!(tasks[0].due_on.to_string(), "2026-12-14", "{name}");
        assert_eq!(tasks[0].status, TaskStatus::Open, "{name}");

        // Actions: each agency sees and updates its own only.
        let actions = |who: &Browser| request(WorkRoute::Actions, WorkRoute::Actions.path(), Some(who), None);
        let (_, body) = call(&clinic, actions(&police)).await;
        let police_actions = json_of(&body)["actions"].as_array().unwrap().clone();
        assert_eq!(police_actions.len(), 1, "{name}");
        assert_eq!(police_actions[0]["agency"], "police", "{name}");
        let (_, body) = call(&clinic, actions(&charity)).await;
        let charity_action = json_of(&body)["actions"][0]["id"].as_str().unwrap().to_owned();
        let police_action = police_actions[0]["id"].as_str().unwrap().to_owned();
        let update = |id: &str, who: &Browser, body: Value| {
            request_with(WorkRoute::ActionUpdate, &path(WorkRoute::ActionUpdate, id), who, &body)
        };
        let done = json!({ "status": "done", "note": "Plan reviewed at home visit." });
        assert_eq!(call(&clinic, update(&charity_action, &police, done.clone())).await.0, StatusCode::NOT_FOUND);
        let (status, body) = call(&clinic, update(&charity_action, &charity, json!({ "status": "cancelled" }))).await;
        assert_eq!(
            (status, fields_of(&body)),
            (StatusCode::BAD_REQUEST, vec!["status".to_owned()]),
            "{name}: the panel's call"
        );
        let (status, _) = call(&clinic, update(&charity_action, &charity, done)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        // Heard now, the case is off the selection: the coordinator's hand lapsed with the hearing.
        let (_, body) =
            call(&clinic, request(WorkRoute::Selection, WorkRoute::Selection.path(), Some(&coordinator), None)).await;
        let listed = json_of(&body)["rows"].as_array().unwrap().iter().any(|r| r["case_id"] == case_a.to_string());
        assert!(!listed, "{name}: heard, with nothing new since");
        let page = clinic.state.store.feed(device, "ISA01", page.through, 1000).unwrap();
        laptop.sync_apply(&page.ops, page.through).unwrap();
        let file = laptop.case_file(CaseId(case_a)).unwrap();
        let task = file.tasks.iter().find(|t| t.linked.is_some()).unwrap();
        assert_eq!(task.status, TaskStatus::Done, "{name}: the charity's done action closes the advocate's task");
        let charity_agreed = file.clinic_reviews[0].actions.iter().find(|a| a.owner == Agency::VictimsCharity).unwrap();
        assert_eq!(charity_agreed.status, ActionStatus::Done, "{name}");

        // The next meeting: the police action is overdue and comes back; closing it says why.
        clock.set(start() + Duration::days(20));
        coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        police = sign_in(&clinic, member("PNL1"), clock.now()).await;
        let meeting_c = json!({ "id": null, "meets_on": "2027-01-07", "chair": "CRD1", "invited": ["PNL1"],
            "agenda": [{ "case_id": case_a, "minutes": 15 }], "research_due_on": null });
        let (_, body) = call(&clinic, request_with(save, save.path(), &coordinator, &meeting_c)).await;
        let c = json_of(&body)["id"].as_str().unwrap().to_owned();
        let (_, body) = call(&clinic, detail(&c, &coordinator)).await;
        let earlier = json_of(&body)["cases"][0]["earlier_open"].as_array().unwrap().clone();
        assert_eq!(earlier.len(), 1, "{name}: the charity's is done; the police's is still open");
        assert_eq!(
            (earlier[0]["id"].as_str(), earlier[0]["overdue"].as_bool()),
            (Some(police_action.as_str()), Some(true))
        );
        let (status, body) = call(&clinic, update(&police_action, &police, json!({ "status": "done" }))).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["overdue".to_owned()]), "{name}");
        let (status, body) = call(
            &clinic,
            update(&police_action, &police, json!({ "status": "done", "overdue": "circumstances_changed" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let closed = &json_of(&body)["actions"][0];
        assert_eq!(
            (closed["status"].as_str(), closed["overdue_closure"].as_str()),
            (Some("done"), Some("circumstances_changed"))
        );
        let (_, body) = call(&clinic, detail(&c, &coordinator)).await;
        assert_eq!(json_of(&body)["cases"][0]["earlier_open"], json!([]), "{name}: nothing left to chase");

        // After: with both follow-ups closed, the police reach neither case, meeting nor extract.
        for id in [&a, &b] {
            let close = path(WorkRoute::MeetingClose, id);
            let (status, _) =
                call(&clinic, request(WorkRoute::MeetingClose, &close, Some(&coordinator), Some(&coordinator.csrf)))
                    .await;
            assert_eq!(status, StatusCode::OK, "{name}");
        }
        for (route, path) in [
            (WorkRoute::Case, path(WorkRoute::Case, &case_b.to_string())),
            (WorkRoute::Case, path(WorkRoute::Case, &case_a.to_string())),
            (WorkRoute::Meeting, path(WorkRoute::Meeting, &a)),
            (WorkRoute::MeetingExtract, path(WorkRoute::MeetingExtract, &a)),
        ] {
            let (status, _) = call(&clinic, request(route, &path, Some(&police), None)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {path} after the follow-up");
        }

        // The audit names meetings, cases and actions by id, never what was said, and verifies.
        let audit = clinic.state.store.admin_audit().unwrap();
        for action in [
            AdminAction::SelectionChanged,
            AdminAction::ResearchReturned,
            AdminAction::AttendanceRecorded,
            AdminAction::PanelCaseRecorded,
            AdminAction::ActionUpdated,
            AdminAction::MinutesMade,
        ] {
            assert!(audit.iter().any(|l| l.action == action), "{name}: {action:?} is audited");
        }
        let text = serde_json::to_string(&audit.iter().map(|l| (&l.target, &l.detail)).collect::<Vec<_>>()).unwrap();
        for words in
            ["PIN served", "fears going out", "DI Example", "MARAC last week", "Stalking Protection", "DS Example"]
        {
            assert!(!text.contains(words), "{name}: the audit holds {words}");
        }
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}

/// Where the README's pictures of first pages are kept.
fn docs_printouts() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/printouts")
}

#[tokio::test]
async fn a_perpetrators_pathways_are_recorded_in_order_and_counted_for_the_commissioner_in_every_store() {
    // Why: the commissioner counts referrals, acceptances, starts,
    // completions and reoffending on each pathway; a step out of order, on a
    // perpetrator of another case or dated ahead would count what did not happen.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let (case, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let perpetrator = a_perpetrator(&clinic, &mut laptop, device, case);
        let coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let manager = sign_in(&clinic, member("MGR1"), clock.now()).await;
        let route = WorkRoute::PathwayStep;
        let step = |stage: &str, on: &str| json!({ "case_id": case, "perpetrator_id": perpetrator, "kind": "mental_health", "stage": stage, "on": on });
        let send_step = |who: &Browser, body: Value| request_with(route, route.path(), who, &body);
        let (status, _) = call(&clinic, send_step(&manager, step("referred", "2026-11-02"))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: the coordinator records them");
        let (status, body) = call(&clinic, send_step(&coordinator, step("started", "2026-11-02"))).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["stage".to_owned()]), "{name}");
        let (status, body) = call(&clinic, send_step(&coordinator, step("referred", "2026-12-25"))).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["on".to_owned()]), "{name}: ahead");
        let mut stranger = step("referred", "2026-11-02");
        stranger["perpetrator_id"] = json!(Uuid::from_u128(7));
        let (status, body) = call(&clinic, send_step(&coordinator, stranger)).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["perpetrator_id".to_owned()]));
        for (stage, on) in [("referred", "2026-11-02"), ("accepted", "2026-11-09"), ("started", "2026-11-20")] {
            let (status, body) = call(&clinic, send_step(&coordinator, step(stage, on))).await;
            assert_eq!(status, StatusCode::OK, "{name}: {stage}: {}", String::from_utf8_lossy(&body));
        }
        let (status, body) = call(&clinic, send_step(&coordinator, step("declined", "2026-11-21"))).await;
        assert_eq!((status, fields_of(&body)), (StatusCode::BAD_REQUEST, vec!["stage".to_owned()]), "{name}");
        let (status, body) =
            call(&clinic, request(WorkRoute::Pathways, WorkRoute::Pathways.path(), Some(&manager), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let view = json_of(&body);
        assert_eq!(view["pathways"][0]["reference"], "WS-1", "{name}");
        let stages: Vec<&str> =
            view["pathways"][0]["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
        assert_eq!(stages, ["referred", "accepted", "started"], "{name}");
        let mental = view["figures"].as_array().unwrap().iter().find(|f| f["kind"] == "mental_health").unwrap();
        assert_eq!(
            (mental["referred"].as_u64(), mental["started"].as_u64(), mental["completed"].as_u64()),
            (Some(1), Some(1), Some(0))
        );
        assert!(!String::from_utf8_lossy(&body).contains("Casey"), "{name}: by record id, never a name");
        let audit = clinic.state.store.admin_audit().unwrap();
        assert_eq!(audit.iter().filter(|l| l.action == AdminAction::PathwayRecorded).count(), 3, "{name}");
    }
}
