//! The clinic workspace's API through the real router, on every store:
//! every route as every role, and the attacks the issue names (CSRF,
//! session fixation, a session after sign-out or past its lifetime, a
//! guessed case id, sign-in throttling). The server's answer is what is
//! checked, never a page's hiding.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

mod kit;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use kit::browser::*;
use kit::*;
use std::sync::Arc;
use uuid::Uuid;
use waymark_clinic::store::{AdminAction, Origin};
use waymark_clinic::workspace::{WorkRoute, SESSION_COOKIE};
use waymark_clinic::{DeviceStatus, StaffRole};
use waymark_vault::kit as laptop_kit;

#[tokio::test]
async fn every_route_answers_every_role_as_the_server_decides_in_every_store() {
    // Why: the workspace hides nothing for safety's sake; the server must
    // refuse what a role may not have, whatever a page or a hand-made request asks.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (case_id, _laptop, mut vault, device) = a_laptop_with_a_case(&clinic, start());
        let perpetrator = a_perpetrator(&clinic, &mut vault, device, case_id);
        let case_path = WorkRoute::Case.path().replace("{id}", &case_id.to_string());
        let mut browsers = Vec::new();
        for member in &members {
            browsers.push(sign_in(&clinic, member, clock.now()).await);
        }
        // A victim's subject access request, and an item of each sort in it: his name (withheld, releasable)
        // and her account of an incident (her own).
        let coordinator = &browsers[members.iter().position(|m| m.code == "CRD1").unwrap()];
        let a_request = serde_json::json!({ "case_id": case_id, "subject": "victim", "received_on": "2026-12-01" });
        let made =
            request_with(WorkRoute::AccessRequestMake, WorkRoute::AccessRequestMake.path(), coordinator, &a_request);
        let access = json_of(&call(&clinic, made).await.1)["id"].as_str().unwrap().to_owned();
        let checked = serde_json::json!({ "on": "2026-12-07" });
        let identity_path = WorkRoute::AccessIdentity.path().replace("{id}", &access);
        let identity = request_with(WorkRoute::AccessIdentity, &identity_path, coordinator, &checked);
        assert_eq!(call(&clinic, identity).await.0, StatusCode::OK, "{name}: the answer is made after the check");
        let review_path = WorkRoute::AccessReview.path().replace("{id}", &access);
        let review =
            json_of(&call(&clinic, request(WorkRoute::AccessReview, &review_path, Some(coordinator), None)).await.1);
        let key_of = |words: &str| {
            review["items"].as_array().unwrap().iter().find(|i| i["text"].as_str().unwrap().contains(words)).unwrap()
                ["key"]
                .clone()
        };
        let (his_name, her_account) = (key_of("Casey Vance"), key_of("Waited by her door"));
        // Sign-out last: it ends the session the other routes use.
        let mut routes: Vec<WorkRoute> = WorkRoute::ALL.into_iter().filter(|r| *r != WorkRoute::SignIn).collect();
        routes.sort_by_key(|r| *r == WorkRoute::SignOut);
        let admin_secret = members.iter().find(|m| m.code == "ADM1").unwrap().secret.clone();
        // An authenticator code counts once: each confirmation is in a later 30-second step.
        let fresh_confirm = || {
            clock.advance(Duration::seconds(30));
            serde_json::json!({ "password": PASSWORD, "code": oathtool_code(&admin_secret, clock.now()) })
        };
        // A referral route names a referral still waiting, so each call can do what it asks.
        let target = |route: WorkRoute| -> (String, Option<serde_json::Value>) {
            let waiting = || a_waiting_referral(&clinic, start()).to_string();
            match route {
                WorkRoute::Case => (case_path.clone(), None),
                WorkRoute::Referral => (route.path().replace("{id}", &waiting()), None),
                WorkRoute::ReferralAccept => {
                    (route.path().replace("{id}", &waiting()), Some(serde_json::json!({ "advocate": "ISA01" })))
                }
                WorkRoute::ReferralDecline => {
                    (route.path().replace("{id}", &waiting()), Some(serde_json::json!({ "reason": "outside_area" })))
                }
                WorkRoute::ReferralSubmit => {
                    (route.path().to_owned(), Some(referral_form("Quinn Sample (TEST)", "Unknown")))
                }
                WorkRoute::CaseReassign => (
                    route.path().replace("{id}", &case_id.to_string()),
                    Some(serde_json::json!({ "advocate": "ISA02" })),
                ),
                // The walk's case is open: even at the person's request it is not erased yet.
                WorkRoute::CaseErase => (
                    route.path().replace("{id}", &case_id.to_string()),
                    Some(serde_json::json!({ "reason": "erasure_request", "reference": "WS-1" })),
                ),
                WorkRoute::EnrolmentIssue => (
                    route.path().to_owned(),
                    Some(serde_json::json!({ "advocate": "ISA01", "url": "https://127.0.0.1:8443" })),
                ),
                WorkRoute::DeviceRevoke => (route.path().replace("{id}", &device.to_string()), None),
                // Someone with no session here: a new password ends the member's sessions.
                // The administrator confirms with their own password and a fresh code.
                WorkRoute::StaffPassword => (
                    route.path().replace("{id}", "ISA02"),
                    Some(serde_json::json!({ "password": PASSWORD, "confirm": fresh_confirm() })),
                ),
                WorkRoute::StaffSecondFactor => {
                    (route.path().replace("{id}", "ISA02"), Some(serde_json::json!({ "confirm": fresh_confirm() })))
                }
                WorkRoute::MeetingSave => (route.path().to_owned(), Some(a_meeting_body(case_id))),
                WorkRoute::MeetingPublish | WorkRoute::MeetingClose => {
                    (route.path().replace("{id}", &a_meeting(&clinic, case_id).to_string()), None)
                }
                WorkRoute::SelectionChange => (
                    route.path().to_owned(),
                    Some(serde_json::json!({ "case_id": case_id, "include": true, "reason": "Asked by the police" })),
                ),
                // A published meeting PNL1 (police) is invited to and came to; PNL2 (the charity) is not invited.
                WorkRoute::PathwayStep => (
                    route.path().to_owned(),
                    Some(serde_json::json!({ "case_id": case_id, "perpetrator_id": perpetrator, "kind": "mappa",
                        "stage": "referred", "on": "2026-12-07" })),
                ),
                WorkRoute::Meeting | WorkRoute::MeetingMinutes => {
                    (route.path().replace("{id}", &a_held_meeting(&clinic, case_id).to_string()), None)
                }
                // The police's extract: the coordinator and the manager name the agency, the police member may.
                WorkRoute::MeetingExtract => (
                    format!(
                        "{}?agency=police",
                        route.path().replace("{id}", &a_held_meeting(&clinic, case_id).to_string())
                    ),
                    None,
                ),
                WorkRoute::MeetingResearch => (
                    route.path().replace("{id}", &a_held_meeting(&clinic, case_id).to_string()),
                    Some(serde_json::json!({ "case_id": case_id, "summary": "Nothing further held." })),
                ),
                WorkRoute::MeetingAttendance => (
                    route.path().replace("{id}", &a_held_meeting(&clinic, case_id).to_string()),
                    Some(serde_json::json!({ "marks": [{ "code": "PNL1", "mark": "present" }] })),
                ),
                WorkRoute::MeetingCaseRecord => (
                    route
                        .path()
                        .replace("{id}", &a_held_meeting(&clinic, case_id).to_string())
                        .replace("{case}", &case_id.to_string()),
                    Some(serde_json::json!({ "typology": "resentful" })),
                ),
                WorkRoute::AccessRequestMake => (route.path().to_owned(), Some(a_request.clone())),
                WorkRoute::AccessReview => (route.path().replace("{id}", &access), None),
                WorkRoute::AccessAnswer => (format!("{}?format=json", route.path().replace("{id}", &access)), None),
                WorkRoute::AccessIdentity => (route.path().replace("{id}", &access), Some(checked.clone())),
                WorkRoute::AccessRelease => {
                    (route.path().replace("{id}", &access), Some(serde_json::json!({ "item": his_name })))
                }
                WorkRoute::AccessWithhold => (
                    route.path().replace("{id}", &access),
                    Some(serde_json::json!({ "item": her_account, "reason": "serious_harm" })),
                ),
                WorkRoute::ActionUpdate => (
                    route.path().replace("{id}", &a_police_action(&clinic, case_id).to_string()),
                    Some(serde_json::json!({ "status": "open", "note": "Chased on the phone." })),
                ),
                _ => (route.path().to_owned(), None),
            }
        };
        for route in routes {
            let (path, _) = target(route);
            let (status, body) = call(&clinic, request(route, &path, None, None)).await;
            assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "signed_out"), "{name}: {path}");
            for (member, browser) in members.iter().zip(&browsers) {
                let (path, form) = target(route);
                let sent = match &form {
                    Some(form) => request_with(route, &path, browser, form),
                    None => request(route, &path, Some(browser), Some(&browser.csrf)),
                };
                let (status, body) = call(&clinic, sent).await;
                // A panel member's role reaches the case route, but no case that is not on their agenda.
                let off_agenda = route == WorkRoute::Case && member.role == StaffRole::PanelMember;
                // Nor a meeting, its research or an action that is not theirs; and the
                // coordinator entering research must say whose it is.
                let not_theirs = member.code == "PNL2"
                    && matches!(
                        route,
                        WorkRoute::Meeting
                            | WorkRoute::MeetingResearch
                            | WorkRoute::ActionUpdate
                            | WorkRoute::MeetingExtract
                    );
                let unnamed = member.code == "CRD1" && route == WorkRoute::MeetingResearch;
                let allowed = route.roles().contains(&member.role) && !off_agenda && !not_theirs && !unnamed;
                let expected = match (allowed, route) {
                    (false, WorkRoute::Case) if off_agenda => StatusCode::NOT_FOUND,
                    (false, _) if not_theirs => StatusCode::NOT_FOUND,
                    (false, _) if unnamed => StatusCode::BAD_REQUEST,
                    (false, _) => StatusCode::FORBIDDEN,
                    (
                        true,
                        WorkRoute::SignOut
                        | WorkRoute::ReferralDecline
                        | WorkRoute::CaseReassign
                        | WorkRoute::DeviceRevoke
                        | WorkRoute::StaffPassword,
                    ) => StatusCode::NO_CONTENT,
                    (true, WorkRoute::CaseErase) => StatusCode::CONFLICT,
                    (true, _) => StatusCode::OK,
                };
                assert_eq!(status, expected, "{name}: {} on {path}: {}", member.code, String::from_utf8_lossy(&body));
                let text = String::from_utf8_lossy(&body);
                // Nobody refused a case sees a word of it.
                assert!(allowed || !text.contains("WS-1") && !text.contains("Rowan"), "{name}: {text}");
                // Where the victim lives and how to reach them never leave the clinic, for anyone.
                for secret in [
                    "Hiddenhurst",
                    "ZZ99 7HL",
                    "rowan.hidden",
                    "Marigoldcanary",
                    "Larkspur",
                    "ZZ99 3LC",
                    "900456",
                    "Brambleford",
                    "Kit Child",
                ] {
                    assert!(!text.contains(secret), "{name}: {} got {secret}", member.code);
                }
                if allowed && route == WorkRoute::Case {
                    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let withheld: Vec<&str> =
                        answer["withheld"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
                    assert_eq!(
                        withheld,
                        [
                            "incident.current.location",
                            "incident.original.location",
                            "safety_plan",
                            "victim.address",
                            "victim.dependants",
                            "victim.safe_contact"
                        ]
                    );
                }
                if allowed && matches!(route, WorkRoute::Caseload | WorkRoute::Case) {
                    assert!(
                        text.contains("WS-1") && text.contains("Rowan"),
                        "{name}: {} sees the case: {text}",
                        member.code
                    );
                    // Markup in a name is data in JSON, for the page to show as text.
                    assert!(text.contains(r#"<img src=x onerror=alert(1)> Rowan (DEMO)"#), "{name}: {text}");
                }
            }
        }
        // Every section of the case file is either a kind with its rule or
        // derived; the wrapped sections' kinds withhold nothing (their
        // entries nest the record, which the rule would not reach).
        let whole = clinic
            .state
            .projection
            .as_ref()
            .unwrap()
            .read(|copy| copy.case_file(waymark_domain::CaseId(case_id)))
            .unwrap();
        let whole = serde_json::to_value(&whole).unwrap();
        for section in whole.as_object().unwrap().keys() {
            let mapped = waymark_clinic::workspace::CASE_SECTIONS.iter().any(|(s, _)| s == section);
            let derived = waymark_clinic::workspace::CASE_DERIVED.contains(&section.as_str());
            assert!(
                mapped || derived || waymark_clinic::workspace::CASE_NOT_SENT.contains(&section.as_str()),
                "{section}"
            );
        }
        for (section, kind) in waymark_clinic::workspace::CASE_SECTIONS {
            if matches!(*section, "incidents" | "orders") {
                assert_eq!(kind.rules().at_clinic, waymark_domain::record::AtClinic::Shown, "{section}");
            }
        }
        // Another method on a route is refused before anything runs; HEAD is a GET and needs a session.
        for route in WorkRoute::ALL {
            // The list of referrals and the form share a path: each answers its own method.
            if matches!(
                route,
                WorkRoute::Referrals
                    | WorkRoute::ReferralSubmit
                    | WorkRoute::Meetings
                    | WorkRoute::MeetingSave
                    | WorkRoute::Selection
                    | WorkRoute::SelectionChange
                    | WorkRoute::Pathways
                    | WorkRoute::PathwayStep
                    | WorkRoute::AccessRequests
                    | WorkRoute::AccessRequestMake
            ) {
                continue;
            }
            let other = if route.method() == axum::http::Method::GET { "POST" } else { "GET" };
            let path = route.path().replace("{id}", &case_id.to_string());
            let request = Request::builder().method(other).uri(&path).body(Body::empty()).unwrap();
            assert_eq!(call(&clinic, request).await.0, StatusCode::METHOD_NOT_ALLOWED, "{name}: {other} {path}");
            if route.method() == axum::http::Method::GET {
                let request = Request::head(&path).body(Body::empty()).unwrap();
                assert_eq!(call(&clinic, request).await.0, StatusCode::UNAUTHORIZED, "{name}: HEAD {path}");
            }
        }
        // After signing out, every session is over.
        for browser in &browsers {
            let (status, _) = call(&clinic, request(WorkRoute::Me, WorkRoute::Me.path(), Some(browser), None)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: a session after sign-out");
        }
        // Every view and refusal is in the audit, which verifies.
        let audit = clinic.state.store.admin_audit().unwrap();
        let has = |actor: &str, action: AdminAction, target: &str| {
            audit.iter().any(|l| l.actor == actor && l.action == action && l.target.as_deref() == Some(target))
        };
        assert!(has("CRD1", AdminAction::Viewed, "caseload"), "{name}");
        assert!(has("MGR1", AdminAction::Viewed, &case_id.to_string()), "{name}");
        assert!(has("ADM1", AdminAction::Refused, "caseload"), "{name}");
        assert!(has("PNL1", AdminAction::Refused, &case_id.to_string()), "{name}: off the agenda");
        assert!(!has("REF1", AdminAction::Refused, "me"), "{name}: anyone may see who they are");
        assert_eq!(audit.iter().filter(|l| l.action == AdminAction::SignedIn).count(), members.len(), "{name}");
        assert_eq!(audit.iter().filter(|l| l.action == AdminAction::SignedOut).count(), members.len(), "{name}");
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}

#[tokio::test]
async fn sessions_resist_csrf_fixation_expiry_guessing_and_guessed_passwords_in_every_store() {
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (case_id, _laptop) = a_case_from_a_laptop(&clinic, start());
        let coordinator = members.iter().find(|m| m.code == "CRD1").unwrap();
        let manager = members.iter().find(|m| m.code == "MGR1").unwrap();

        // The cookie is one a page's script cannot read, sent to this host only, over TLS only.
        let code = oathtool_code(&coordinator.secret, clock.now());
        let (status, headers, _) = send(&clinic, sign_in_request("CRD1", PASSWORD, &code, None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(set.starts_with(&format!("{SESSION_COOKIE}=")), "{name}: {set}");
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(set.split("; ").any(|a| a == attribute), "{name}: {attribute} in {set}");
        }
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store", "{name}");
        // The same authenticator code does not sign in twice.
        let (status, _, body) = send(&clinic, sign_in_request("CRD1", PASSWORD, &code, None)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::UNAUTHORIZED, "sign_in_refused"), "{name}");

        // CSRF: a change without the page's token, or with another's, is refused and changes nothing.
        let browser = Browser { cookie: cookie_from(&headers), csrf: String::new() };
        let me = |b: &Browser| request(WorkRoute::Me, WorkRoute::Me.path(), Some(b), None);
        let (_, body) = call(&clinic, me(&browser)).await;
        let csrf = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["csrf"].as_str().unwrap().to_owned();
        let browser = Browser { csrf, ..browser };
        clock.advance(Duration::seconds(30));
        let other = sign_in(&clinic, manager, clock.now()).await;
        for token in [None, Some(""), Some(other.csrf.as_str())] {
            let (status, body) =
                call(&clinic, request(WorkRoute::SignOut, WorkRoute::SignOut.path(), Some(&browser), token)).await;
            assert_eq!((status, code_of(&body).as_str()), (StatusCode::FORBIDDEN, "csrf_refused"), "{name}: {token:?}");
        }
        assert_eq!(call(&clinic, me(&browser)).await.0, StatusCode::OK, "{name}: still signed in");

        // Fixation: signing in with a session cookie already set ends that
        // session and always sets a new one, whoever's the old one was.
        let code = oathtool_code(&coordinator.secret, clock.now());
        let (status, headers, _) = send(&clinic, sign_in_request("CRD1", PASSWORD, &code, Some(&other.cookie))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let fresh = cookie_from(&headers);
        assert!(fresh != other.cookie && fresh != browser.cookie, "{name}: a new session every time");
        assert_eq!(call(&clinic, me(&other)).await.0, StatusCode::UNAUTHORIZED, "{name}: the planted session is over");
        let fresh = Browser { cookie: fresh, csrf: String::new() };

        // Guessing a case: an id that is not a case, and text that is not an
        // id, both answer 404 and the guess is audited (an id, never the text).
        for guess in [Uuid::from_u128(0xDEAD).to_string(), "../../etc/passwd".to_owned(), "WS-1".to_owned()] {
            let path = WorkRoute::Case.path().replace("{id}", &guess);
            let (status, body) = call(&clinic, request(WorkRoute::Case, &path, Some(&fresh), None)).await;
            assert!(status == StatusCode::NOT_FOUND, "{name}: {guess}: {status} {}", String::from_utf8_lossy(&body));
        }
        let audit = clinic.state.store.admin_audit().unwrap();
        assert!(audit.iter().any(|l| l.action == AdminAction::Refused
            && l.target.as_deref() == Some(Uuid::from_u128(0xDEAD).to_string().as_str())));
        assert!(!audit.iter().any(|l| l.target.as_deref().is_some_and(|t| t.contains("passwd") || t == "WS-1")));
        let path = WorkRoute::Case.path().replace("{id}", &case_id.to_string());
        assert_eq!(call(&clinic, request(WorkRoute::Case, &path, Some(&fresh), None)).await.0, StatusCode::OK);

        // Idle for 15 minutes ends a session; using it keeps it, up to 8 hours.
        clock.advance(Duration::minutes(14));
        assert_eq!(call(&clinic, me(&fresh)).await.0, StatusCode::OK, "{name}: 14 minutes idle");
        clock.advance(Duration::minutes(16));
        assert_eq!(call(&clinic, me(&fresh)).await.0, StatusCode::UNAUTHORIZED, "{name}: 16 minutes idle");
        let busy = sign_in(&clinic, coordinator, clock.now()).await;
        for _ in 0..(8 * 6 - 1) {
            clock.advance(Duration::minutes(10));
            assert_eq!(call(&clinic, me(&busy)).await.0, StatusCode::OK, "{name}: in use, within 8 hours");
        }
        clock.advance(Duration::minutes(10));
        assert_eq!(call(&clinic, me(&busy)).await.0, StatusCode::UNAUTHORIZED, "{name}: 8 hours after signing in");

        // Guessed passwords: from one address, three mistakes are free and
        // the fourth attempt waits (even with the right password), saying how long.
        let from = |address: &str, code: &str, password: &str, totp: &str| {
            let mut request = sign_in_request(code, password, totp, None);
            let address: std::net::SocketAddr = address.parse().unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(address));
            request
        };
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let (status, headers, _) =
                send(&clinic, from("192.0.2.1:40000", "MGR1", "wrong guess here", "000000")).await;
            statuses.push((status.as_u16(), headers.get(header::RETRY_AFTER).is_some()));
        }
        assert_eq!(statuses, [(401, false), (401, false), (401, false), (429, true)], "{name}");
        let code = oathtool_code(&manager.secret, clock.now());
        let (status, _, _) = send(&clinic, from("192.0.2.1:40001", "MGR1", PASSWORD, &code)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{name}: the right password waits too");
        // The account's own wait holds from another address, for at most a minute.
        let (status, _, _) = send(&clinic, from("198.51.100.7:40000", "MGR1", PASSWORD, &code)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{name}: the account waits from anywhere");
        clock.advance(Duration::seconds(61));
        let code = oathtool_code(&manager.secret, clock.now());
        let (status, headers, _) = send(&clinic, from("198.51.100.7:40000", "MGR1", PASSWORD, &code)).await;
        assert_eq!(status, StatusCode::OK, "{name}: a minute on, the member gets in");
        let manager_browser = Browser { cookie: cookie_from(&headers), csrf: String::new() };
        // Pruning forgets sessions nobody asked for again (the first browser,
        // idle for half an hour) and keeps a live one; a day on, the failures go too.
        let store = &*clinic.state.store;
        let policy = waymark_clinic::signin::SessionPolicy::default();
        let forget = |now: DateTime<Utc>| now - waymark_clinic::signin::FAILURES_REMEMBERED;
        let pruned = store.prune_sign_in(clock.now(), policy, forget(clock.now())).unwrap();
        assert!(pruned >= 1, "{name}: the idle session is forgotten");
        assert_eq!(call(&clinic, me(&manager_browser)).await.0, StatusCode::OK, "{name}: a live session stays");
        assert_eq!(call(&clinic, me(&browser)).await.0, StatusCode::UNAUTHORIZED, "{name}");
        let later = clock.now() + Duration::hours(25);
        assert!(store.prune_sign_in(later, policy, forget(later)).unwrap() >= 2, "{name}: the failures a day on");
        // One IPv6 host holds a whole /64: guesses at different codes from it count as one address.
        let mut statuses = Vec::new();
        for n in 1..=4 {
            let address = format!("[2001:db8:1:2::{n}]:40000");
            let (status, _, _) =
                send(&clinic, from(&address, &format!("NOONE{n}"), "wrong guess here", "000000")).await;
            statuses.push(status.as_u16());
        }
        assert_eq!(statuses, [401, 401, 401, 429], "{name}: one /64, one address");
        // A server listening on [::] sees IPv4 callers as ::ffff:a.b.c.d: each is still its own address.
        let mut statuses = Vec::new();
        for (n, address) in
            ["[::ffff:192.0.2.9]:1", "[::ffff:192.0.2.9]:2", "[::ffff:192.0.2.9]:3", "[::ffff:192.0.2.10]:1"]
                .into_iter()
                .enumerate()
        {
            let (status, _, _) =
                send(&clinic, from(address, &format!("MAPPED{n}"), "wrong guess here", "000000")).await;
            statuses.push(status.as_u16());
        }
        assert_eq!(statuses, [401, 401, 401, 401], "{name}: 192.0.2.10 is not held back by 192.0.2.9");
        // A staff code's own wait is capped at a minute, however many have guessed at it from elsewhere.
        for n in 0..8 {
            let address = format!("203.0.113.{n}:1");
            let (status, _, _) = send(&clinic, from(&address, "CAPPED", "wrong guess here", "000000")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: guess {n} is counted");
            clock.advance(Duration::seconds(61));
        }
        clock.advance(Duration::seconds(-31));
        let (status, _, _) = send(&clinic, from("203.0.113.100:1", "CAPPED", "wrong guess here", "000000")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{name}: within the minute");
        clock.advance(Duration::seconds(31));
        let (status, _, _) = send(&clinic, from("203.0.113.101:1", "CAPPED", "wrong guess here", "000000")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: a minute after the eighth, not 2 minutes");

        // A sign-in posted as text (what a form on another site can send) is refused unread.
        let code = oathtool_code(&coordinator.secret, clock.now() + Duration::seconds(30));
        let body = serde_json::json!({ "staff_code": "CRD1", "password": PASSWORD, "code": code }).to_string();
        let request =
            Request::post(WorkRoute::SignIn.path()).header(header::CONTENT_TYPE, "text/plain").body(Body::from(body));
        assert_eq!(call(&clinic, request.unwrap()).await.0, StatusCode::BAD_REQUEST, "{name}: text/plain");
        // A body that is not the sign-in form is refused with a 400, never a panic.
        for body in ["", "{}", "[]", r#"{"staff_code":"CRD1","password":"x","code":"1","role":"administrator"}"#] {
            let request = Request::post(WorkRoute::SignIn.path())
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            let (status, answer) = call(&clinic, request).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
            assert!(String::from_utf8_lossy(&answer).contains("staff_code, password, code"), "{name}: parsed, refused");
        }
    }
}

#[tokio::test]
async fn the_pages_are_served_from_the_files_read_at_start_under_a_strict_policy() {
    // Why: a request must never name a path on the clinic's disk, and the
    // page must run nothing it did not ship (a name with markup stays text).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("workspace.html"), "<!doctype html><div id=app></div>").unwrap();
    std::fs::write(dir.path().join("assets/workspace-1a2b.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join("icon.png"), [0x89, b'P', b'N', b'G']).unwrap();
    let (_, clinic) = stores().remove(0);
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let (status, _, body) = send(&clinic, get("/w/")).await;
    assert_eq!((status, code_of(&body).as_str()), (StatusCode::SERVICE_UNAVAILABLE, "setup"), "no pages configured");
    let ui = waymark_clinic::workspace::WorkspaceUi::load(dir.path()).unwrap();
    let mut clinic = clinic;
    clinic.state.workspace_ui = Some(Arc::new(ui));
    let (status, headers, body) = send(&clinic, get("/w/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), "text/html; charset=utf-8");
    assert_eq!(headers.get(header::CONTENT_SECURITY_POLICY).unwrap(), waymark_clinic::workspace::PAGE_POLICY);
    assert!(!waymark_clinic::workspace::PAGE_POLICY.contains("unsafe"), "nothing inline, nothing evaluated");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert!(String::from_utf8(body).unwrap().contains("id=app"));
    let (status, headers, _) = send(&clinic, get("/w/assets/workspace-1a2b.js")).await;
    assert_eq!(
        (status, headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap()),
        (StatusCode::OK, "text/javascript; charset=utf-8")
    );
    assert_eq!(send(&clinic, get("/w/icon.png")).await.0, StatusCode::OK);
    for path in [
        "/w/assets/../../Cargo.toml",
        "/w/assets/%2e%2e/%2e%2e/etc/passwd",
        "/w/assets/..%2f..%2fCargo.toml",
        "/w/..%2fCargo.toml",
        "/w/missing.js",
        "/w/assets/",
    ] {
        assert_eq!(send(&clinic, get(path)).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    // A folder without the page is refused when the clinic starts, not at the first request.
    let empty = tempfile::tempdir().unwrap();
    assert!(waymark_clinic::workspace::WorkspaceUi::load(empty.path()).is_err());
}

#[test]
fn the_workspace_pages_types_name_the_servers_roles_and_fields() {
    // Why: roles and answers are enums and shapes end to end; a role added
    // or a field renamed at the server must fail here until the page knows it.
    let types = include_str!("../../../ui/src/workspace/types.ts");
    let union: Vec<String> = StaffRole::ALL.iter().map(|r| format!("\"{}\"", r.as_str())).collect();
    let declared = types.split("export type StaffRole =").nth(1).unwrap().split(';').next().unwrap();
    let declared: Vec<String> = declared.split('|').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    assert_eq!(declared, union, "ui/src/workspace/types.ts StaffRole");
    // The unions no desktop command carries, so the bindings do not: each as the server names them.
    let union_of = |name: &str| -> Vec<String> {
        let declared = types.split(&format!("export type {name} =")).nth(1).unwrap().split(';').next().unwrap();
        declared.split('|').map(|s| s.trim().trim_matches('"').to_owned()).filter(|s| !s.is_empty()).collect()
    };
    let wire = |values: Vec<serde_json::Value>| -> Vec<String> {
        values.into_iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    use waymark_clinic::store::IntakeStatus;
    use waymark_domain::intake::{MatchedOn as M, SamePerson as P};
    let statuses = IntakeStatus::ALL.iter().map(|s| serde_json::to_value(s).unwrap()).collect();
    assert_eq!(union_of("IntakeStatus"), wire(statuses));
    let reasons = waymark_domain::DeclineReason::ALL.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    assert_eq!(union_of("DeclineReason"), wire(reasons));
    let people = P::ALL.iter().map(|p| serde_json::to_value(p).unwrap()).collect();
    assert_eq!(union_of("SamePerson"), wire(people));
    let actions: Vec<String> =
        AdminAction::KNOWN.iter().chain([&AdminAction::Unrecognised]).map(|a| a.as_str().to_owned()).collect();
    let mut declared_actions = union_of("AuditAction");
    declared_actions.sort();
    let mut actions = actions;
    actions.sort();
    assert_eq!(declared_actions, actions, "ui/src/workspace/types.ts AuditAction");
    let matched = M::ALL.iter().map(|m| serde_json::to_value(m).unwrap()).collect();
    assert_eq!(union_of("MatchedOn"), wire(matched));
    let fields_of = |name: &str| -> Vec<String> {
        let body = types.split(&format!("export type {name} = {{")).nth(1).unwrap().split('}').next().unwrap();
        body.split(';')
            .filter_map(|f| f.split(':').next())
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect()
    };
    let keys = |value: serde_json::Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
    let now = start();
    let signed_in = waymark_clinic::workspace::SignedInView {
        staff_code: "C".into(),
        name: "N".into(),
        role: StaffRole::Coordinator,
        csrf: "x".into(),
        ends_at: now,
    };
    let staff = waymark_clinic::workspace::StaffView {
        code: "C".into(),
        name: "N".into(),
        role: StaffRole::Coordinator,
        active: true,
        added_at: now,
    };
    let device = waymark_clinic::workspace::DeviceView {
        id: Uuid::nil(),
        advocate: "A".into(),
        confirmed: true,
        status: DeviceStatus::Active,
        enrolled_at: now,
        revoked_at: None,
        last_seen_at: None,
        acked_through: 0,
    };
    use waymark_clinic::panel;
    use waymark_clinic::workspace as ws;
    use waymark_domain::intake::{MatchedOn, SamePerson};
    let row = ws::ReferralRow {
        id: Uuid::nil(),
        number: 1,
        submitted_at: now,
        their_reference: None,
        status: waymark_clinic::store::IntakeStatus::Submitted,
        decline_reason: None,
        source: None,
        criteria: Vec::new(),
        advocate: None,
    };
    let duplicate = ws::DuplicateView {
        case_id: Uuid::nil(),
        reference: "R".into(),
        advocate: "A".into(),
        who: SamePerson::Victim,
        there: SamePerson::Victim,
        matched_on: vec![MatchedOn::Name],
    };
    let pending = ws::PendingDuplicateView {
        referral_id: Uuid::nil(),
        number: 2,
        who: SamePerson::Victim,
        there: SamePerson::Perpetrator,
        matched_on: vec![MatchedOn::Phone],
    };
    let view = ws::ReferralView {
        id: Uuid::nil(),
        number: 1,
        submitted_by: "R".into(),
        submitted_at: now,
        status: waymark_clinic::store::IntakeStatus::Accepted,
        decided_by: None,
        decided_at: None,
        decline_reason: None,
        advocate: None,
        case_id: None,
        reference: None,
        form: serde_json::json!({}),
        withheld: Vec::new(),
        postcode_district: None,
        duplicates: Vec::new(),
        pending_duplicates: Vec::new(),
    };
    for (name, value) in [
        ("SignedIn", serde_json::to_value(&signed_in).unwrap()),
        ("StaffEntry", serde_json::to_value(&staff).unwrap()),
        ("DeviceEntry", serde_json::to_value(&device).unwrap()),
        ("ReferralRow", serde_json::to_value(&row).unwrap()),
        ("ReferralReceipt", serde_json::to_value(ws::ReferralReceipt { id: Uuid::nil(), number: 1 }).unwrap()),
        ("DuplicateView", serde_json::to_value(&duplicate).unwrap()),
        ("PendingDuplicateView", serde_json::to_value(&pending).unwrap()),
        ("ReferralView", serde_json::to_value(&view).unwrap()),
        (
            "AdvocateView",
            serde_json::to_value(ws::AdvocateView { code: "A".into(), name: "N".into(), open_cases: 0 }).unwrap(),
        ),
        ("Accepted", serde_json::to_value(ws::Accepted { case_id: Uuid::nil(), reference: "R".into() }).unwrap()),
        (
            "IssuedCode",
            serde_json::to_value(ws::IssuedCode { code: "C".into(), qr_svg: "S".into(), expires_at: now }).unwrap(),
        ),
        (
            "MeetingView",
            serde_json::to_value(ws::MeetingView {
                id: Uuid::nil(),
                meets_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
                chair: "C".into(),
                invited: Vec::new(),
                agenda: Vec::new(),
                published_at: None,
                closed_at: None,
                research_due_on: None,
            })
            .unwrap(),
        ),
        (
            "AuditView",
            serde_json::to_value(ws::AuditView {
                lines: Vec::new(),
                total: 0,
                verified: true,
                broken_at: None,
                head: None,
            })
            .unwrap(),
        ),
        (
            "AuditLine",
            serde_json::to_value(waymark_clinic::store::AdminEvent {
                seq: 1,
                at: now,
                actor: "C".into(),
                action: AdminAction::Viewed,
                target: None,
                detail: serde_json::json!({}),
                hash: None,
            })
            .unwrap(),
        ),
        (
            "PanelMemberView",
            serde_json::to_value(ws::PanelMemberView { code: "P".into(), name: "N".into(), agency: None }).unwrap(),
        ),
        (
            "AgendaItemView",
            serde_json::to_value(ws::AgendaView { case_id: Uuid::nil(), reference: "R".into(), minutes: 15 }).unwrap(),
        ),
        (
            "NewSecondFactor",
            serde_json::to_value(ws::NewSecondFactor { secret: "S".into(), qr_svg: "Q".into() }).unwrap(),
        ),
        ("CaseBrief", serde_json::to_value(a_brief()).unwrap()),
        (
            "RetentionView",
            serde_json::to_value(waymark_clinic::retention::RetentionReview { cases: Vec::new(), erased: Vec::new() })
                .unwrap(),
        ),
        (
            "ErasedCase",
            serde_json::to_value(waymark_clinic::retention::ErasedCase {
                case_id: Uuid::nil(),
                erased_at: now,
                erased_by: "M".into(),
                reason: waymark_domain::ErasureReason::RetentionDue,
            })
            .unwrap(),
        ),
        ("ErasedAtClinic", serde_json::to_value(waymark_clinic::store::ErasedAtClinic::default()).unwrap()),
        ("ActionView", serde_json::to_value(an_action_view()).unwrap()),
        (
            "ResearchView",
            serde_json::to_value(panel::ResearchView {
                agency: waymark_domain::Agency::Police,
                summary: "S".into(),
                by: "P".into(),
                at: now,
                late: false,
            })
            .unwrap(),
        ),
        (
            "CriterionMet",
            serde_json::to_value(waymark_domain::panel::CriterionMet {
                criterion: waymark_domain::ReferralCriterion::Repeat,
                basis: waymark_domain::SelectionBasis::Records,
                why: "W".into(),
            })
            .unwrap(),
        ),
        (
            "SelectionRow",
            serde_json::to_value(panel::SelectionRow {
                case_id: Uuid::nil(),
                reference: "R".into(),
                advocate: "A".into(),
                met: Vec::new(),
                removed: None,
                last_heard_on: None,
                review_due_on: None,
                next_meeting: None,
            })
            .unwrap(),
        ),
        (
            "MeetingCase",
            serde_json::to_value(panel::MeetingCase {
                case_id: Uuid::nil(),
                reference: "R".into(),
                minutes: 15,
                met: Vec::new(),
                brief: Some(a_brief()),
                research: Vec::new(),
                awaiting: Vec::new(),
                record: None,
                actions: Vec::new(),
                earlier_open: Vec::new(),
            })
            .unwrap(),
        ),
        (
            "AttendanceView",
            serde_json::to_value(panel::AttendanceView {
                code: "P".into(),
                name: "N".into(),
                agency: None,
                mark: None,
            })
            .unwrap(),
        ),
        (
            "PathwayView",
            serde_json::to_value(waymark_clinic::pathways::PathwayView {
                perpetrator_id: Uuid::nil(),
                case_id: Uuid::nil(),
                reference: "R".into(),
                kind: waymark_domain::PathwayKind::Mappa,
                steps: Vec::new(),
            })
            .unwrap(),
        ),
    ] {
        let mut declared = fields_of(name);
        let mut sent = keys(value);
        declared.sort();
        sent.sort();
        assert_eq!(declared, sent, "ui/src/workspace/types.ts {name}");
    }
}

#[tokio::test]
async fn a_referral_is_screened_and_becomes_a_case_on_the_advocates_laptop_in_every_store() {
    // Why: a referral must reach the advocate without being typed twice, the
    // referrer must learn only where it stands, the screening must spot the
    // same perpetrator in another case, and nothing bad or half-made is kept.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (_, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let referrer = sign_in(&clinic, member("REF1"), clock.now()).await;
        let coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let manager = sign_in(&clinic, member("MGR1"), clock.now()).await;
        let submit = WorkRoute::ReferralSubmit;

        // A form missing what a referral needs is refused field by field, and nothing is kept:
        // first what cannot be read as the records at all, across all three at once,
        let mut unreadable = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        unreadable["victim"]["name"] = serde_json::json!("");
        unreadable["perpetrator"]["relationship"] = serde_json::json!("neighbourly");
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &unreadable)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid"), "{name}");
        let answer = json_of(&body);
        let fields: Vec<&str> =
            answer["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["victim.name", "perpetrator.relationship"], "{name}");
        // then every rule the records and the referral break.
        let mut bad = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        bad["case"]["referral.referrer_contact"] = serde_json::json!(" ");
        bad["case"]["referral.criteria"] = serde_json::json!([]);
        bad["case"]["referral.consent_recorded"] = serde_json::json!(false);
        bad["victim"]["safe_contact.phones"] = serde_json::json!([{ "number": "call me" }]);
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &bad)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "invalid"), "{name}");
        let mut fields: Vec<String> = json_of(&body)["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "case.referral.consent_recorded",
                "case.referral.criteria",
                "case.referral.referrer_contact",
                "victim.safe_contact.phones[0].number",
            ],
            "{name}"
        );
        assert!(!String::from_utf8_lossy(&body).contains("call me"), "{name}: an error never quotes a value");
        // What only the clinic sets cannot come in on the form.
        let mut claims = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        claims["case"]["advocate"] = serde_json::json!("ISA01");
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &claims)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(json_of(&body)["fields"][0]["field"], "case.advocate", "{name}");
        // Nor inside a structure sent whole: the referral's received date is the clinic's.
        let mut whole = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        whole["case"] = serde_json::json!({ "referral": { "received_on": "2020-01-01", "source": "police",
            "reason": "r", "consent_recorded": true } });
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &whole)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(json_of(&body)["fields"][0]["field"], "case.referral", "{name}");
        let mut typology = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        typology["perpetrator"]["typology"] = serde_json::json!("rejected");
        assert_eq!(
            call(&clinic, request_with(submit, submit.path(), &referrer, &typology)).await.0,
            StatusCode::BAD_REQUEST
        );
        assert!(clinic.state.store.referrals(None).unwrap().is_empty(), "{name}: nothing half-kept");

        // The referrer sends one; the coordinator keys another about the same man.
        let good = referral_form("Morgan Fielding (TEST)", "Drew Harrow (TEST)");
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &good)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let first = json_of(&body)["id"].as_str().unwrap().parse::<Uuid>().unwrap();
        let mut second_form = referral_form("Sasha Wren (TEST)", "HARROW, Drew (TEST)");
        second_form["victim"]["safe_contact.phones"][0]["number"] = serde_json::json!("07700 900789");
        // The referrer wrote where she lives into the reason, too.
        second_form["case"]["referral.reason"] = serde_json::json!("Followed home to 12 Larkspur Close twice");
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &coordinator, &second_form)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let second = json_of(&body)["id"].as_str().unwrap().parse::<Uuid>().unwrap();

        // The referrer's list: their own referral only, and nothing of the people in it.
        let list = |b: &Browser| request(WorkRoute::Referrals, WorkRoute::Referrals.path(), Some(b), None);
        let (status, body) = call(&clinic, list(&referrer)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let rows = json_of(&body);
        assert_eq!(rows.as_array().unwrap().len(), 1, "{name}");
        assert_eq!(
            (rows[0]["id"].as_str(), rows[0]["status"].as_str()),
            (Some(first.to_string().as_str()), Some("submitted"))
        );
        assert_eq!(rows[0]["their_reference"], "CRIME-77", "{name}");
        for word in ["Morgan", "Harrow", "Larkspur", "DC Example", "Repeated"] {
            assert!(!String::from_utf8_lossy(&body).contains(word), "{name}: the referrer's list shows {word}");
        }
        // The screening page is not the referrer's, even for their own referral.
        let page = |id: Uuid| WorkRoute::Referral.path().replace("{id}", &id.to_string());
        let (status, _) = call(&clinic, request(WorkRoute::Referral, &page(first), Some(&referrer), None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");

        // Accepting the first makes the case, assigned to ISA01.
        let accept = |id: Uuid| WorkRoute::ReferralAccept.path().replace("{id}", &id.to_string());
        let to = |code: &str| serde_json::json!({ "advocate": code });
        let (status, body) =
            call(&clinic, request_with(WorkRoute::ReferralAccept, &accept(first), &manager, &to("CRD1"))).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{name}: only an advocate holds a case: {}",
            String::from_utf8_lossy(&body)
        );
        let (status, body) =
            call(&clinic, request_with(WorkRoute::ReferralAccept, &accept(first), &manager, &to("ISA01"))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&body));
        let accepted = json_of(&body);
        let case_id = accepted["case_id"].as_str().unwrap().parse::<Uuid>().unwrap();
        assert_eq!(accepted["reference"], "CLN-2026-0001", "{name}");
        let (status, body) =
            call(&clinic, request_with(WorkRoute::ReferralAccept, &accept(first), &coordinator, &to("ISA01"))).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "referral_decided"), "{name}: once only");

        // A third, from the referrer, about the second's victim: both still waiting.
        let mut third_form = referral_form("Sasha Wren (TEST)", "Unknown");
        third_form["victim"]["safe_contact.phones"] = serde_json::json!([]);
        let (status, body) = call(&clinic, request_with(submit, submit.path(), &referrer, &third_form)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let third = json_of(&body)["id"].as_str().unwrap().parse::<Uuid>().unwrap();

        // The second referral's screening finds the same man in the first's case,
        // by its reference, and shows no one's address, safe phone or children.
        let (status, body) = call(&clinic, request(WorkRoute::Referral, &page(second), Some(&coordinator), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let view = json_of(&body);
        let duplicates = view["duplicates"].as_array().unwrap();
        assert_eq!(duplicates.len(), 1, "{name}: {duplicates:?}");
        assert_eq!(duplicates[0]["case_id"], case_id.to_string());
        assert_eq!(duplicates[0]["who"], "perpetrator");
        assert_eq!(duplicates[0]["reference"], "CLN-2026-0001");
        assert_eq!(duplicates[0]["matched_on"], serde_json::json!(["name", "date_of_birth"]));
        assert_eq!(view["postcode_district"], "ZZ99", "{name}");
        assert_eq!(
            view["withheld"],
            serde_json::json!(["victim.address", "victim.safe_contact", "victim.dependants", "case.referral.reason"]),
            "{name}"
        );
        // and the third, still waiting, about the same victim.
        let pending = view["pending_duplicates"].as_array().unwrap();
        assert_eq!(pending.len(), 1, "{name}: {pending:?}");
        assert_eq!(
            (pending[0]["referral_id"].as_str(), pending[0]["who"].as_str()),
            (Some(third.to_string().as_str()), Some("victim"))
        );
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("Sasha Wren") && !text.contains("Morgan Fielding"),
            "{name}: not the other case's victim"
        );
        for secret in ["Larkspur", "900456", "Brambleford", "Kit Child"] {
            assert!(!text.contains(secret), "{name}: {secret}");
        }
        // Only the coordinator declines; the manager assigns.
        let decline = WorkRoute::ReferralDecline.path().replace("{id}", &second.to_string());
        let reason = serde_json::json!({ "reason": "existing_case" });
        let (status, _) = call(&clinic, request_with(WorkRoute::ReferralDecline, &decline, &manager, &reason)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let (status, _) =
            call(&clinic, request_with(WorkRoute::ReferralDecline, &decline, &coordinator, &reason)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");

        // The referrer learns the outcome and nothing else: not who holds a case,
        // and not why one was declined ("already a case here" would say who is a client).
        let third_decline = WorkRoute::ReferralDecline.path().replace("{id}", &third.to_string());
        let (status, _) =
            call(&clinic, request_with(WorkRoute::ReferralDecline, &third_decline, &coordinator, &reason)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");
        let (_, body) = call(&clinic, list(&referrer)).await;
        let rows = json_of(&body);
        let row = |id: Uuid| rows.as_array().unwrap().iter().find(|r| r["id"] == id.to_string()).unwrap().clone();
        assert_eq!(row(first)["status"], "accepted", "{name}");
        assert_eq!(row(first)["advocate"], serde_json::Value::Null, "{name}: not who holds it");
        assert_eq!(row(third)["status"], "declined", "{name}");
        assert_eq!(row(third)["decline_reason"], serde_json::Value::Null, "{name}");

        // The advocate's laptop pulls the case whole: the referral with it,
        // and where the victim lives and her children, which the clinic never showed.
        let page = clinic.state.store.feed(device, "ISA01", 0, 1000).unwrap();
        laptop.sync_apply(&page.ops, page.through).unwrap();
        let file = laptop.case_file(waymark_domain::CaseId(case_id)).unwrap();
        assert_eq!((file.case.reference.as_str(), file.case.advocate.as_str()), ("CLN-2026-0001", "ISA01"), "{name}");
        assert_eq!(file.case.referral.their_reference.as_deref(), Some("CRIME-77"), "{name}");
        assert_eq!(file.case.referral.received_on, waymark_domain::time::london_date(start()), "{name}");
        let victim = file.victim.unwrap();
        assert_eq!(victim.name, "Morgan Fielding (TEST)", "{name}");
        assert_eq!(victim.address.unwrap().lines, ["12 Larkspur Close"], "{name}");
        assert_eq!(victim.dependants[0].school.as_deref(), Some("Brambleford Primary"), "{name}");
        assert!(!victim.safe_contact.phones[0].voicemail_ok, "{name}");
        assert_eq!(file.perpetrators[0].names, ["Drew Harrow (TEST)"], "{name}");
        assert!(laptop.sync_problems().unwrap().is_empty(), "{name}: {:?}", laptop.sync_problems().unwrap());

        // The audit names referrals and cases by id, never a person, and verifies.
        let audit = clinic.state.store.admin_audit().unwrap();
        let first_id = first.to_string();
        let has = |actor: &str, action: AdminAction| {
            audit
                .iter()
                .any(|l| l.actor == actor && l.action == action && l.target.as_deref() == Some(first_id.as_str()))
        };
        assert!(has("REF1", AdminAction::ReferralSubmitted) && has("MGR1", AdminAction::ReferralAccepted), "{name}");
        assert!(audit.iter().any(|l| l.actor == "CRD1" && l.action == AdminAction::ReferralDeclined), "{name}");
        let text = serde_json::to_string(&audit.iter().map(|l| (&l.target, &l.detail)).collect::<Vec<_>>()).unwrap();
        for word in ["Morgan", "Harrow", "Larkspur", "Sasha"] {
            assert!(!text.contains(word), "{name}: the audit holds {word}");
        }
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}

#[tokio::test]
async fn the_manager_reassigns_and_the_administrator_enrols_revokes_and_resets_in_the_browser_in_every_store() {
    // Why: these were command-line acts; in the browser they must do the
    // same thing, for the same roles only, and each must be audited.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (case_id, _dir, _laptop, device) = a_laptop_with_a_case(&clinic, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let admin = sign_in(&clinic, member("ADM1"), clock.now()).await;
        let coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let manager = sign_in(&clinic, member("MGR1"), clock.now()).await;

        // Reassigning: the manager only, to an active advocate, and the feed carries the move.
        let reassign = WorkRoute::CaseReassign.path().replace("{id}", &case_id.to_string());
        let to = |code: &str| serde_json::json!({ "advocate": code });
        let (status, _) =
            call(&clinic, request_with(WorkRoute::CaseReassign, &reassign, &coordinator, &to("ISA02"))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let (status, _) = call(&clinic, request_with(WorkRoute::CaseReassign, &reassign, &manager, &to("CRD1"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: only an advocate holds a case");
        let (status, _) = call(&clinic, request_with(WorkRoute::CaseReassign, &reassign, &manager, &to("ISA02"))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");
        assert_eq!(clinic.state.store.case_advocate(case_id).unwrap().as_deref(), Some("ISA02"), "{name}");
        let guessed = WorkRoute::CaseReassign.path().replace("{id}", &Uuid::from_u128(0xBAD).to_string());
        let (status, _) = call(&clinic, request_with(WorkRoute::CaseReassign, &guessed, &manager, &to("ISA01"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");

        // An enrolment code: bound to the advocate, pinned to this clinic, shown with its QR code.
        let body = serde_json::json!({ "advocate": "ISA01", "url": "https://clinic.example.invalid:8443" });
        let (status, answer) =
            call(&clinic, request_with(WorkRoute::EnrolmentIssue, WorkRoute::EnrolmentIssue.path(), &admin, &body))
                .await;
        assert_eq!(status, StatusCode::OK, "{name}: {}", String::from_utf8_lossy(&answer));
        let issued = json_of(&answer);
        let code = waymark_protocol::enrol::EnrolmentCode::parse(issued["code"].as_str().unwrap()).unwrap();
        assert_eq!(code.advocate.as_deref(), Some("ISA01"), "{name}");
        assert_eq!(code.fingerprint.as_deref(), Some("ab".repeat(32).as_str()), "{name}");
        assert!(issued["qr_svg"].as_str().unwrap().contains("<svg"), "{name}");
        let token = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(code.token.as_bytes()));
        assert!(clinic.state.store.enrolment_open(&token, Uuid::from_u128(0xD1), clock.now()).unwrap(), "{name}");
        for bad in [
            serde_json::json!({ "advocate": "CRD1", "url": "https://clinic.example.invalid:8443" }),
            serde_json::json!({ "advocate": "ISA01", "url": "http://clinic.example.invalid" }),
            serde_json::json!({ "advocate": "ISA01", "url": "https://evil.example.invalid/path?x" }),
        ] {
            let (status, _) =
                call(&clinic, request_with(WorkRoute::EnrolmentIssue, WorkRoute::EnrolmentIssue.path(), &admin, &bad))
                    .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {bad}");
        }

        // Revoking a laptop: its next contact is answered with a wipe order.
        let revoke = WorkRoute::DeviceRevoke.path().replace("{id}", &device.to_string());
        let (status, _) =
            call(&clinic, request(WorkRoute::DeviceRevoke, &revoke, Some(&admin), Some(&admin.csrf))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");
        assert_eq!(clinic.state.store.device(device).unwrap().unwrap().status, DeviceStatus::Revoked, "{name}");

        // A new password and a new second factor: the old ones stop working,
        // the new ones sign in (the code from oathtool, from the secret shown once).
        let admin_secret = member("ADM1").secret.clone();
        let confirm =
            |at: DateTime<Utc>| serde_json::json!({ "password": PASSWORD, "code": oathtool_code(&admin_secret, at) });
        let password = WorkRoute::StaffPassword.path().replace("{id}", "CRD1");
        // A session alone does not reset anyone: the administrator's own password and code again,
        let unconfirmed = serde_json::json!({ "password": "copper kettle harbour twine" });
        let (status, _) = call(&clinic, request_with(WorkRoute::StaffPassword, &password, &admin, &unconfirmed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        clock.advance(Duration::seconds(30));
        let wrong = serde_json::json!({ "password": "copper kettle harbour twine",
            "confirm": { "password": "not the password at all", "code": oathtool_code(&admin_secret, clock.now()) } });
        let (status, body) = call(&clinic, request_with(WorkRoute::StaffPassword, &password, &admin, &wrong)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::FORBIDDEN, "confirm_refused"), "{name}");
        assert_eq!(
            call(&clinic, request(WorkRoute::Me, WorkRoute::Me.path(), Some(&admin), None)).await.0,
            StatusCode::OK,
            "{name}: still signed in"
        );
        // and never their own account from a browser.
        clock.advance(Duration::seconds(30));
        let own = WorkRoute::StaffPassword.path().replace("{id}", "ADM1");
        let mine = serde_json::json!({ "password": "copper kettle harbour twine", "confirm": confirm(clock.now()) });
        let (status, _) = call(&clinic, request_with(WorkRoute::StaffPassword, &own, &admin, &mine)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        clock.advance(Duration::seconds(30));
        let weak = serde_json::json!({ "password": "password1", "confirm": confirm(clock.now()) });
        let (status, body) = call(&clinic, request_with(WorkRoute::StaffPassword, &password, &admin, &weak)).await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::BAD_REQUEST, "weak_passphrase"), "{name}");
        clock.advance(Duration::seconds(30));
        let fresh = serde_json::json!({ "password": "copper kettle harbour twine", "confirm": confirm(clock.now()) });
        let (status, _) = call(&clinic, request_with(WorkRoute::StaffPassword, &password, &admin, &fresh)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}");
        let me = |b: &Browser| request(WorkRoute::Me, WorkRoute::Me.path(), Some(b), None);
        assert_eq!(call(&clinic, me(&coordinator)).await.0, StatusCode::UNAUTHORIZED, "{name}: their sessions ended");
        let factor = WorkRoute::StaffSecondFactor.path().replace("{id}", "CRD1");
        clock.advance(Duration::seconds(30));
        let again = serde_json::json!({ "confirm": confirm(clock.now()) });
        let (status, body) = call(&clinic, request_with(WorkRoute::StaffSecondFactor, &factor, &admin, &again)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let shown = json_of(&body);
        assert!(shown["qr_svg"].as_str().unwrap().contains("<svg"), "{name}");
        clock.advance(Duration::seconds(60));
        let totp = oathtool_code(shown["secret"].as_str().unwrap(), clock.now());
        let (status, _, _) = send(&clinic, sign_in_request("CRD1", PASSWORD, &totp, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: the old password");
        let (status, _, _) = send(&clinic, sign_in_request("CRD1", "copper kettle harbour twine", &totp, None)).await;
        assert_eq!(status, StatusCode::OK, "{name}: the new password and second factor");

        let audit = clinic.state.store.admin_audit().unwrap();
        let has = |actor: &str, action: AdminAction, target: &str| {
            audit.iter().any(|l| l.actor == actor && l.action == action && l.target.as_deref() == Some(target))
        };
        assert!(has("MGR1", AdminAction::CaseReassigned, &case_id.to_string()), "{name}");
        assert!(has("ADM1", AdminAction::EnrolmentIssued, "ISA01"), "{name}");
        assert!(has("ADM1", AdminAction::DeviceRevoked, &device.to_string()), "{name}");
        assert!(has("ADM1", AdminAction::PasswordSet, "CRD1") && has("ADM1", AdminAction::SecondFactorReset, "CRD1"));
        let text = serde_json::to_string(&audit.iter().map(|l| (&l.target, &l.detail)).collect::<Vec<_>>()).unwrap();
        assert!(!text.contains("copper") && !text.contains(shown["secret"].as_str().unwrap()), "{name}");
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}

#[test]
fn a_clinic_change_whose_number_was_taken_meanwhile_is_refused_whole_and_numbered_again() {
    // Why: the clinic numbers its changes before the store's lock; one that
    // loses the number to another must not be quarantined while its author is
    // told it worked (a reassignment that never happened).
    for (name, clinic) in stores() {
        let store = &*clinic.state.store;
        let clinic_id = clinic.state.clinic_id;
        let now = start();
        let (case_id, _dir, _laptop, _device) = a_laptop_with_a_case(&clinic, now);
        let first = waymark_clinic::authoring::reassign(store, clinic_id, case_id, "ISA02", "MGR1", now).unwrap();
        // A change made with the number the first one took: the store refuses it and keeps nothing.
        let late = waymark_protocol::WireOp { op_id: Uuid::now_v7(), ..first.clone() };
        let head = store.feed_head().unwrap();
        let refused = store.store_batch(Origin::Clinic(clinic_id), Uuid::now_v7(), &[late], now);
        assert!(matches!(refused, Err(waymark_clinic::ClinicError::ClinicBusy)), "{name}: {refused:?}");
        assert_eq!(store.feed_head().unwrap(), head, "{name}");
        assert!(store.quarantine_list().unwrap().is_empty(), "{name}: nothing quarantined");
        // The next change is numbered after it and lands.
        let second = waymark_clinic::authoring::reassign(store, clinic_id, case_id, "ISA01", "MGR1", now).unwrap();
        assert_eq!(second.seq, first.seq + 1, "{name}");
        assert_eq!(store.case_advocate(case_id).unwrap().as_deref(), Some("ISA01"), "{name}");
    }
}

/// Sends what the laptop has not had acknowledged, as its sync would.

#[tokio::test]
async fn a_panel_member_sees_a_case_only_on_a_published_agenda_and_its_address_only_under_consent_in_every_store() {
    // Why: each agency sees the case in front of it and no more; where the
    // victim lives reaches the police officer on the panel only when her
    // consent or a recorded lawful basis covers the police.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (case_id, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let manager = sign_in(&clinic, member("MGR1"), clock.now()).await;
        let invited = sign_in(&clinic, member("PNL1"), clock.now()).await;
        let other = sign_in(&clinic, member("PNL2"), clock.now()).await;
        let case_path = WorkRoute::Case.path().replace("{id}", &case_id.to_string());
        let case_of = |b: &Browser| request(WorkRoute::Case, &case_path, Some(b), None);
        let meetings_of = |b: &Browser| request(WorkRoute::Meetings, WorkRoute::Meetings.path(), Some(b), None);

        // A meeting is the coordinator's to make; one that names the wrong people or cases is refused by field.
        let save = WorkRoute::MeetingSave;
        let (status, _) = call(&clinic, request_with(save, save.path(), &manager, &a_meeting_body(case_id))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let mut bad = a_meeting_body(case_id);
        bad["invited"] = serde_json::json!(["PNL1", "MGR1", "PNL1"]);
        bad["agenda"] = serde_json::json!([{ "case_id": Uuid::from_u128(0xBAD), "minutes": 90 }]);
        let (status, body) = call(&clinic, request_with(save, save.path(), &coordinator, &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        let fields: Vec<String> = json_of(&body)["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(fields, ["invited[1]", "invited[2]", "agenda[0].case_id", "agenda[0].minutes"], "{name}");
        let (status, body) =
            call(&clinic, request_with(save, save.path(), &coordinator, &a_meeting_body(case_id))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let meeting = json_of(&body);
        assert_eq!(meeting["agenda"][0]["reference"], "WS-1", "{name}");
        let id = meeting["id"].as_str().unwrap().to_owned();

        // Not yet published: the invited member sees neither the meeting nor the case.
        assert_eq!(call(&clinic, case_of(&invited)).await.0, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(json_of(&call(&clinic, meetings_of(&invited)).await.1), serde_json::json!([]), "{name}");
        let publish = WorkRoute::MeetingPublish.path().replace("{id}", &id);
        let (status, _) =
            call(&clinic, request(WorkRoute::MeetingPublish, &publish, Some(&coordinator), Some(&coordinator.csrf)))
                .await;
        assert_eq!(status, StatusCode::OK, "{name}");

        // Published: the invited member sees the case, without where she lives (no consent yet);
        // a member not invited sees neither.
        let (status, body) = call(&clinic, case_of(&invited)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let text = String::from_utf8_lossy(&body).into_owned();
        assert!(text.contains("WS-1") && !text.contains("Hiddenhurst") && !text.contains("rowan.hidden"), "{name}");
        assert_eq!(json_of(&call(&clinic, meetings_of(&invited)).await.1).as_array().unwrap().len(), 1, "{name}");
        assert_eq!(call(&clinic, case_of(&other)).await.0, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(json_of(&call(&clinic, meetings_of(&other)).await.1), serde_json::json!([]), "{name}");

        // The victim consents to sharing with the police: the officer now sees her address;
        // the coordinator still does not (no agency's consent is theirs).
        let victim = laptop.case_file(waymark_domain::CaseId(case_id)).unwrap().victim.unwrap();
        let consent =
            laptop_kit::patch(&[r#"consents:=[{"with":"Police","agency":"police","given_on":"2026-12-07"}]"#]);
        laptop.edit(waymark_domain::RecordKind::Victim, victim.id.as_uuid(), &consent).unwrap();
        push(&clinic, &laptop, device, clock.now());
        // Consent alone does not send an address marked do-not-disclose (a refuge),
        // nor the incident that names it.
        let (_, body) = call(&clinic, case_of(&invited)).await;
        assert!(!String::from_utf8_lossy(&body).contains("Hiddenhurst"), "{name}");
        let disclose = laptop_kit::patch(&["address.do_not_disclose:=false"]);
        laptop.edit(waymark_domain::RecordKind::Victim, victim.id.as_uuid(), &disclose).unwrap();
        push(&clinic, &laptop, device, clock.now());
        let (_, body) = call(&clinic, case_of(&invited)).await;
        let answer = json_of(&body);
        assert!(String::from_utf8_lossy(&body).contains("Hiddenhurst"), "{name}");
        assert!(!answer["withheld"].as_array().unwrap().iter().any(|w| w == "victim.address"), "{name}");
        let (_, body) = call(&clinic, case_of(&coordinator)).await;
        assert!(!String::from_utf8_lossy(&body).contains("Hiddenhurst"), "{name}");
        // Safety plans stay on the laptop whoever asks.
        assert!(!String::from_utf8_lossy(&call(&clinic, case_of(&invited)).await.1).contains("Marigoldcanary"));

        // The follow-up closes: the case is gone from the member again, and the meeting cannot change.
        let close = WorkRoute::MeetingClose.path().replace("{id}", &id);
        let (status, _) =
            call(&clinic, request(WorkRoute::MeetingClose, &close, Some(&coordinator), Some(&coordinator.csrf))).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(call(&clinic, case_of(&invited)).await.0, StatusCode::NOT_FOUND, "{name}");
        let (status, body) =
            call(&clinic, request(WorkRoute::MeetingPublish, &publish, Some(&coordinator), Some(&coordinator.csrf)))
                .await;
        assert_eq!((status, code_of(&body).as_str()), (StatusCode::CONFLICT, "meeting_closed"), "{name}");

        let audit = clinic.state.store.admin_audit().unwrap();
        let has = |actor: &str, action: AdminAction, target: &str| {
            audit.iter().any(|l| l.actor == actor && l.action == action && l.target.as_deref() == Some(target))
        };
        assert!(has("CRD1", AdminAction::MeetingPublished, &id) && has("CRD1", AdminAction::MeetingClosed, &id));
        assert!(has("PNL1", AdminAction::Viewed, &case_id.to_string()), "{name}");
        assert!(has("PNL2", AdminAction::Refused, &case_id.to_string()), "{name}");
        waymark_clinic::store::verify_audit(&audit, clinic.state.store.audit_bounds().unwrap(), None).unwrap();
    }
}

#[test]
fn a_meeting_nobody_closes_stops_opening_its_cases_after_its_follow_up() {
    // Why: a coordinator who forgets to close a follow-up must not leave a
    // case open to another agency for good.
    let meets_on = chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let meeting = waymark_clinic::store::PanelMeeting {
        id: Uuid::nil(),
        meets_on,
        chair: "CRD1".into(),
        invited: vec!["PNL1".into()],
        agenda: Vec::new(),
        created_by: "CRD1".into(),
        created_at: start(),
        published_at: Some(start()),
        closed_at: None,
        research_due_on: None,
        attendance: Vec::new(),
    };
    let last = meets_on + Duration::days(waymark_clinic::store::FOLLOW_UP_DAYS);
    assert!(meeting.opens_cases_to("PNL1", last));
    assert!(!meeting.opens_cases_to("PNL1", last + Duration::days(1)));
    assert!(!meeting.opens_cases_to("PNL2", meets_on), "not invited");
    let unpublished = waymark_clinic::store::PanelMeeting { published_at: None, ..meeting.clone() };
    assert!(!unpublished.opens_cases_to("PNL1", meets_on));
}

#[tokio::test]
async fn the_clinic_lists_a_case_the_laptop_escalated_until_the_advocate_reviews_it_in_every_store() {
    // Why: the coordinator must see the same escalation the advocate sees,
    // from the same analysis on the clinic's copy, and the advocate's review
    // (synced as an op) must take it off the list, not a flag anyone can set.
    let clock = Arc::new(TestClock::at(start()));
    for (name, clinic) in stores_at(&clock) {
        clock.set(start());
        let members = staff(&*clinic.state.store, start());
        let (case_id, _dir, mut laptop, device) = a_laptop_with_a_case(&clinic, start());
        let member = |code: &str| members.iter().find(|m| m.code == code).unwrap();
        let coordinator = sign_in(&clinic, member("CRD1"), clock.now()).await;
        let invited = sign_in(&clinic, member("PNL1"), clock.now()).await;
        let escalating = |b: &Browser| request(WorkRoute::Escalating, WorkRoute::Escalating.path(), Some(b), None);
        let listed = |body: &[u8]| -> Vec<String> {
            json_of(body)["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["reference"].as_str().unwrap().to_owned())
                .collect()
        };

        let (status, body) = call(&clinic, escalating(&coordinator)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(listed(&body).is_empty(), "one incident is no escalation: {name}");
        assert_eq!(call(&clinic, escalating(&invited)).await.0, StatusCode::FORBIDDEN, "{name}");

        let threat = laptop_kit::patch(&[
            "occurred_at=2026-12-06T20:00:00Z",
            "account=Said he would hurt her",
            "channel=phone",
            "behaviours+=threat_to_kill",
        ]);
        let case = waymark_domain::CaseId(case_id);
        laptop.add(waymark_domain::RecordKind::Incident, Some(case), &threat).unwrap();
        push(&clinic, &laptop, device, clock.now());
        let (_, body) = call(&clinic, escalating(&coordinator)).await;
        assert_eq!(listed(&body), ["WS-1"], "{name}");
        let signs = &json_of(&body)["rows"][0]["escalation"]["findings"];
        assert_eq!(signs[0]["sign"], "more_serious", "{name}");
        assert!(!signs.to_string().contains("Hiddenhurst"), "findings hold no address: {name}");

        let review =
            laptop_kit::patch(&["signs:=[\"more_serious\",\"risk_review_due\"]", "note=Plan updated Marigold"]);
        laptop.add(waymark_domain::RecordKind::EscalationReview, Some(case), &review).unwrap();
        // A task whose words show where she lives, confirmed on the laptop.
        let task = laptop_kit::patch(&["what=Fit locks at 7 Hiddenhurst Lane", "due_on=2026-12-08"]);
        laptop.with_address_confirmed(|v| v.add(waymark_domain::RecordKind::Task, Some(case), &task)).unwrap();
        push(&clinic, &laptop, device, clock.now());
        let (_, body) = call(&clinic, escalating(&coordinator)).await;
        assert!(listed(&body).is_empty(), "the advocate's review covers it: {name}");

        // The case as the coordinator reads it: the review, without what was
        // decided (a note stays on the laptop, as contact notes do), and
        // neither the task's address nor the patterns' places, in any section.
        let case_path = WorkRoute::Case.path().replace("{id}", &case_id.to_string());
        let (status, body) = call(&clinic, request(WorkRoute::Case, &case_path, Some(&coordinator), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        let text = String::from_utf8_lossy(&body);
        let file = &json_of(&body)["file"];
        assert_eq!(file["escalation_reviews"].as_array().unwrap().len(), 1, "{name}");
        assert!(file.get("patterns").is_none() && file.get("reminders").is_none(), "{name}");
        assert!(!text.contains("Marigold") && !text.contains("Hiddenhurst"), "{name}: {text}");
    }
}

fn a_brief() -> waymark_clinic::panel::CaseBrief {
    waymark_clinic::panel::CaseBrief {
        advocate: "A".into(),
        risk_level: None,
        risk_review_on: None,
        incidents: 0,
        next_hearing: None,
        days_since_contact: None,
        escalation: Vec::new(),
    }
}

fn an_action_view() -> waymark_clinic::panel::ActionView {
    waymark_clinic::panel::ActionView {
        id: Uuid::nil(),
        case_id: Uuid::nil(),
        reference: "R".into(),
        meeting_id: Uuid::nil(),
        meeting_on: None,
        agency: waymark_domain::Agency::Police,
        named_owner: None,
        action: "A".into(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
        status: waymark_domain::ActionStatus::Open,
        overdue: false,
        overdue_closure: None,
        note: None,
        task_done: None,
    }
}
