//! Subject access at the clinic, through the real router on every store:
//! the coordinator records a victim's and a perpetrator's request about a
//! case the advocate's laptop sent, with the panel's own documents beside
//! it; other people's information is withheld until released, the
//! requester's own items can be withheld under an exemption, where the
//! victim is never reaches the perpetrator, what the workspace never shows
//! its staff (her address, her plan) stays on the server and is left to the
//! advocate's answer, and the answers, read back as JSON and with
//! `pdftotext`, hold exactly what was decided. The audit names ids, keys
//! and codes, never the words.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::http::{header, StatusCode};
use kit::browser::*;
use kit::*;
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;
use waymark_clinic::panel::{Doc, ResearchReturn};
use waymark_clinic::store::{AdminAction, AuditLine};
use waymark_clinic::workspace::WorkRoute;

/// The police's research: about him, and one line showing her street.
const RESEARCH: &str = "Two prior harassment warnings on the national computer";
const RESEARCH_NEAR_HER: &str = "Seen twice on Hiddenhurst Lane last month";

fn research(clinic: &Clinic, case: Uuid, meeting: Uuid, agency: waymark_domain::Agency, summary: &str) {
    let doc = ResearchReturn {
        meeting_id: meeting,
        case_id: case,
        agency,
        summary: summary.into(),
        by: "PNL1".into(),
        at: start(),
        late: false,
    };
    let line = AuditLine { actor: "PNL1", action: AdminAction::ResearchReturned, target: None, detail: json!({}) };
    clinic.state.store.save_panel(&[doc.stored().unwrap()], &[], &line, start()).unwrap();
}

async fn get_json(clinic: &Clinic, route: WorkRoute, path: &str, browser: &Browser) -> (StatusCode, Value) {
    let (status, body) = call(clinic, request(route, path, Some(browser), None)).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn post_json(
    clinic: &Clinic,
    route: WorkRoute,
    path: &str,
    browser: &Browser,
    body: Value,
) -> (StatusCode, Value) {
    let (status, body) = call(clinic, request_with(route, path, browser, &body)).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn path(route: WorkRoute, request: &str) -> String {
    route.path().replace("{id}", request)
}

fn item<'a>(review: &'a Value, words: &str) -> &'a Value {
    review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"].as_str().unwrap().contains(words))
        .unwrap_or_else(|| panic!("no item holds {words:?}"))
}

fn has_item(review: &Value, words: &str) -> bool {
    review["items"].as_array().unwrap().iter().any(|i| i["text"].as_str().unwrap().contains(words))
}

/// The answer's words: the JSON file as text, and the PDF as pdftotext reads it.
async fn answers(clinic: &Clinic, request: &str, browser: &Browser) -> (String, String) {
    let answer = path(WorkRoute::AccessAnswer, request);
    let (status, headers, json_file) = send(
        clinic,
        kit::browser::request(WorkRoute::AccessAnswer, &format!("{answer}?format=json"), Some(browser), None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&json_file));
    let disposition = headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap();
    assert!(disposition.contains(&format!("subject-access-{}", &request.replace('-', "")[..8])), "{disposition}");
    let (status, pdf) = call(
        clinic,
        kit::browser::request(WorkRoute::AccessAnswer, &format!("{answer}?format=pdf"), Some(browser), None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("answer.pdf");
    std::fs::write(&file, &pdf).unwrap();
    waymark_typeset::kit::assert_structurally_valid(&file);
    let pages = waymark_typeset::kit::pages_of(&file).join(" ");
    (String::from_utf8(json_file).unwrap(), pages)
}

#[tokio::test]
async fn the_coordinator_answers_a_victims_and_a_perpetrators_request_with_what_was_decided_in_every_store() {
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        let members = staff(&*clinic.state.store, start());
        let (case, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let perpetrator = a_perpetrator(&clinic, &mut laptop, device, case);
        // The panel's own documents: an action for the police, and their research.
        a_police_action(&clinic, case);
        let meeting = a_held_meeting(&clinic, case);
        research(&clinic, case, meeting, waymark_domain::Agency::Police, RESEARCH);
        research(&clinic, case, meeting, waymark_domain::Agency::Probation, RESEARCH_NEAR_HER);
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let coordinator = sign_in(&clinic, member("CRD1"), start()).await;
        let manager = sign_in(&clinic, member("MGR1"), start()).await;
        let list = WorkRoute::AccessRequests.path();

        // Requests about the clinic's records are the coordinator's (clinic.md, "Data protection").
        let (status, _) = get_json(&clinic, WorkRoute::AccessRequests, list, &manager).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");

        // A victim's request names no perpetrator; none is received in the future.
        let victims = |extra: Value| {
            let mut body = json!({ "case_id": case, "subject": "victim", "received_on": "2026-12-01" });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        let (status, body) = post_json(
            &clinic,
            WorkRoute::AccessRequestMake,
            list,
            &coordinator,
            victims(json!({ "perpetrator_id": perpetrator })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert!(body.to_string().contains("perpetrator_id"), "{name}: {body}");
        let (status, body) = post_json(
            &clinic,
            WorkRoute::AccessRequestMake,
            list,
            &coordinator,
            victims(json!({ "received_on": "2026-12-25" })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert!(body.to_string().contains("received_on"), "{name}: {body}");
        let (status, hers) =
            post_json(&clinic, WorkRoute::AccessRequestMake, list, &coordinator, victims(json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {hers}");
        assert_eq!(hers["due_on"], "2027-01-01", "{name}: a month after it was received");
        let her_request = hers["id"].as_str().unwrap().to_owned();

        // Her review: her own details in the answer; him, and what an agency told the panel, withheld.
        let (status, review) =
            get_json(&clinic, WorkRoute::AccessReview, &path(WorkRoute::AccessReview, &her_request), &coordinator)
                .await;
        assert_eq!(status, StatusCode::OK, "{name}: {review}");
        assert_eq!(review["reference"], "WS-1", "{name}");
        assert!(item(&review, "Waited by her door")["withheld"].is_null(), "{name}: her own account");
        // Her address, e-mail and plan are hers, but the clinic's staff never see them: no words leave the server.
        for kept in ["Hiddenhurst", "rowan.hidden", "Marigoldcanary"] {
            assert!(!review.to_string().contains(kept), "{name}: {kept} left the clinic");
        }
        let left_to_advocate: Vec<&Value> =
            review["items"].as_array().unwrap().iter().filter(|i| i["withheld"] == "in_the_advocates_answer").collect();
        assert!(left_to_advocate.len() >= 3, "{name}: address, e-mail, plan: {left_to_advocate:?}");
        assert!(left_to_advocate.iter().all(|i| i["text"] == "" && i["releasable"] == false), "{name}");
        assert_eq!(item(&review, "Casey Vance")["withheld"], "about_the_perpetrator", "{name}");
        let police = item(&review, RESEARCH);
        assert_eq!(police["withheld"], "from_an_agency", "{name}");
        assert_eq!(police["panel"], "research", "{name}");
        // The panel's own words can carry what agencies told it: they wait for review too.
        assert_eq!(item(&review, "Serve the notice")["withheld"], "about_someone_else", "{name}");
        assert!(police["key"].as_str().unwrap().starts_with("panel:"), "{name}: a key no record can take");
        // No answer before the requester's identity is checked: a perpetrator may pose as the victim.
        let answer_path = format!("{}?format=json", path(WorkRoute::AccessAnswer, &her_request));
        let (status, body) = get_json(&clinic, WorkRoute::AccessAnswer, &answer_path, &coordinator).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert!(body.to_string().contains("identity_checked"), "{name}: {body}");
        let identity = path(WorkRoute::AccessIdentity, &her_request);
        let (status, body) =
            post_json(&clinic, WorkRoute::AccessIdentity, &identity, &coordinator, json!({ "on": "2026-12-08" })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: not in the future: {body}");
        let (status, checked) =
            post_json(&clinic, WorkRoute::AccessIdentity, &identity, &coordinator, json!({ "on": "2026-12-03" })).await;
        assert_eq!(status, StatusCode::OK, "{name}: {checked}");
        assert_eq!(checked["identity_checked"], json!({ "on": "2026-12-03", "by": "CRD1" }), "{name}");
        let (json_file, pdf) = answers(&clinic, &her_request, &coordinator).await;
        assert!(json_file.contains("in_the_advocates_answer"), "{name}: counted, with the reason");
        for answer in [&json_file, &pdf] {
            assert!(answer.contains("Waited by her door") && answer.contains("Repeated contact"), "{name}: her own");
            assert!(!answer.contains("Hiddenhurst") && !answer.contains("Marigoldcanary"), "{name}: the advocate's");
            assert!(!answer.contains("Casey Vance"), "{name}: his name is withheld");
            assert!(!answer.contains(RESEARCH), "{name}: the police's research is withheld");
        }

        // The coordinator releases the police's research and withholds the code word under an exemption.
        let police_key = police["key"].as_str().unwrap().to_owned();
        let (status, review) = post_json(
            &clinic,
            WorkRoute::AccessRelease,
            &path(WorkRoute::AccessRelease, &her_request),
            &coordinator,
            json!({ "item": police_key }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {review}");
        assert_eq!(review["released"], json!([police_key]), "{name}");
        let referral_reason = item(&review, "Repeated contact")["key"].as_str().unwrap().to_owned();
        let (status, review) = post_json(
            &clinic,
            WorkRoute::AccessWithhold,
            &path(WorkRoute::AccessWithhold, &her_request),
            &coordinator,
            json!({ "item": referral_reason, "reason": "serious_harm" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {review}");
        assert_eq!(review["exempt"], json!([[referral_reason, "serious_harm"]]), "{name}");
        // Only her own items can be withheld so; only withheld ones released.
        let his_name = item(&review, "Casey Vance")["key"].as_str().unwrap().to_owned();
        let (status, body) = post_json(
            &clinic,
            WorkRoute::AccessWithhold,
            &path(WorkRoute::AccessWithhold, &her_request),
            &coordinator,
            json!({ "item": his_name, "reason": "crime" }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        let (json_file, pdf) = answers(&clinic, &her_request, &coordinator).await;
        for answer in [&json_file, &pdf] {
            assert!(answer.contains(RESEARCH), "{name}: released");
            assert!(!answer.contains("Repeated contact"), "{name}: exempt");
            assert!(answer.contains("Waited by her door"), "{name}: the rest of her own is still there");
        }

        // His request: her records are not his; nothing showing where she is can be released to him.
        let (status, his) = post_json(
            &clinic,
            WorkRoute::AccessRequestMake,
            list,
            &coordinator,
            json!({ "case_id": case, "subject": "perpetrator", "perpetrator_id": perpetrator, "received_on": "2026-12-02" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {his}");
        let his_request = his["id"].as_str().unwrap().to_owned();
        let (status, _) = post_json(
            &clinic,
            WorkRoute::AccessIdentity,
            &path(WorkRoute::AccessIdentity, &his_request),
            &coordinator,
            json!({ "on": "2026-12-07" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let (_, review) =
            get_json(&clinic, WorkRoute::AccessReview, &path(WorkRoute::AccessReview, &his_request), &coordinator)
                .await;
        assert!(item(&review, "Casey Vance")["withheld"].is_null(), "{name}: his own name");
        assert!(!has_item(&review, "Marigoldcanary") && !has_item(&review, "rowan.hidden"), "{name}: her records");
        // The probation research naming her street: not even its words leave the clinic.
        assert!(!has_item(&review, "Hiddenhurst"), "{name}");
        let near_her = review["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["panel"] == "research" && i["text"] == "")
            .unwrap()
            .clone();
        assert_eq!(near_her["withheld"], "shows_where_the_victim_lives", "{name}");
        assert_eq!(near_her["releasable"], false, "{name}");
        // An agency answers him for its own files.
        assert_eq!(item(&review, RESEARCH)["releasable"], false, "{name}");
        // What is hers as well as his (her account) is the advocate's to review, not the clinic's.
        assert!(!has_item(&review, "Waited by her door"), "{name}");
        assert!(
            review["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "incident" && i["withheld"] == "in_the_advocates_answer" && i["text"] == ""),
            "{name}"
        );
        let action = item(&review, "Serve the notice");
        assert_eq!(action["releasable"], false, "{name}: the panel's actions never reach him");
        for key in [near_her["key"].clone(), action["key"].clone()] {
            let (status, body) = post_json(
                &clinic,
                WorkRoute::AccessRelease,
                &path(WorkRoute::AccessRelease, &his_request),
                &coordinator,
                json!({ "item": key }),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
            assert!(body.to_string().contains("item"), "{name}: {body}");
        }
        // Her request's release does not carry over to his.
        let (json_file, pdf) = answers(&clinic, &his_request, &coordinator).await;
        for answer in [&json_file, &pdf] {
            assert!(answer.contains("Casey Vance"), "{name}: his own");
            for hers in ["Hiddenhurst", "ZZ99", "rowan.hidden", "Rowan", RESEARCH, "Serve the notice"] {
                assert!(!answer.contains(hers), "{name}: {hers:?} reached his answer");
            }
        }

        // The list, soonest due first, with the reference.
        let (_, listed) = get_json(&clinic, WorkRoute::AccessRequests, list, &coordinator).await;
        let ids: Vec<&str> =
            listed["requests"].as_array().unwrap().iter().map(|r| r["request"]["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [her_request.as_str(), his_request.as_str()], "{name}");
        assert_eq!(listed["requests"][0]["reference"], "WS-1", "{name}");
        assert_eq!(listed["requests"][0]["case_erased"], false, "{name}");

        // Every step is audited by ids, keys and codes; no words of the case are in it.
        let audit = clinic.state.store.admin_audit().unwrap();
        let count = |action: AdminAction| audit.iter().filter(|l| l.action == action).count();
        assert_eq!(count(AdminAction::AccessRequested), 2, "{name}");
        assert_eq!(count(AdminAction::AccessReleased), 1, "{name}");
        assert_eq!(count(AdminAction::AccessWithheld), 1, "{name}");
        assert_eq!(count(AdminAction::AccessExported), 6, "{name}: three answers, each as JSON and PDF");
        assert_eq!(count(AdminAction::AccessIdentityChecked), 2, "{name}");
        let text = serde_json::to_string(&audit).unwrap();
        for words in ["Hiddenhurst", "Casey", "Rowan", "Marigold", RESEARCH] {
            assert!(!text.contains(words), "{name}: {words:?} is in the audit");
        }
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}
