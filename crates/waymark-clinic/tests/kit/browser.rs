//! What the workspace's tests share: a member of staff for each role, a
//! signed-in browser, a real laptop vault with a case at the clinic, and
//! the forms the pages send.

use super::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;
use secrecy::SecretString;
use std::sync::Arc;
use uuid::Uuid;
use waymark_clinic::store::{AdminAction, ClinicStore, Origin};
use waymark_clinic::workspace::{WorkRoute, CSRF_HEADER};
use waymark_clinic::{DeviceRecord, DeviceStatus, StaffMember, StaffRole};
use waymark_domain::time::london_date;
use waymark_vault::kit as laptop_kit;

pub const PASSWORD: &str = "lantern orbit marmalade";

/// One member of staff for each role, with a password and an authenticator.
pub struct Member {
    pub code: &'static str,
    pub role: StaffRole,
    pub secret: String,
}

pub const MEMBERS: &[(&str, StaffRole)] = &[
    ("ADM1", StaffRole::Administrator),
    ("CRD1", StaffRole::Coordinator),
    ("MGR1", StaffRole::Manager),
    ("PNL1", StaffRole::PanelMember),
    ("PNL2", StaffRole::PanelMember),
    ("REF1", StaffRole::Referrer),
    ("ISA01", StaffRole::Advocate),
];

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 7).unwrap()
}

/// Registers everyone in `MEMBERS` (the kit registered the advocates) and
/// gives each a password and a second factor, as an administrator does.
pub fn staff(store: &dyn ClinicStore, now: DateTime<Utc>) -> Vec<Member> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    for (code, role) in MEMBERS {
        if store.staff(code).unwrap().is_none() {
            let name = format!("<b>{code}</b> (TEST)");
            store
                .add_staff(&StaffMember {
                    code: (*code).into(),
                    name,
                    role: *role,
                    active: true,
                    added_at: now,
                    // Two agencies at the table: the police and the victims' charity.
                    agency: match *code {
                        "PNL1" => Some(waymark_domain::Agency::Police),
                        "PNL2" => Some(waymark_domain::Agency::VictimsCharity),
                        _ => None,
                    },
                })
                .unwrap();
        }
    }
    MEMBERS
        .iter()
        .map(|(code, role)| {
            let password = SecretString::from(PASSWORD.to_owned());
            waymark_clinic::signin::set_password(store, code, "ADM1", &password, now, &mut rng).unwrap();
            let secret = waymark_clinic::signin::reset_second_factor(store, code, "ADM1", now, &mut rng).unwrap();
            Member { code, role: *role, secret: secret.base32().to_string() }
        })
        .collect()
}

/// A case opened on ISA01's real laptop vault and sent to the clinic.
pub fn a_case_from_a_laptop(clinic: &Clinic, now: DateTime<Utc>) -> (Uuid, tempfile::TempDir) {
    let (case, dir, _laptop, _device) = a_laptop_with_a_case(clinic, now);
    (case, dir)
}

/// ISA01's laptop, enrolled, with a case it sent to the clinic; and its device id.
pub fn a_laptop_with_a_case(
    clinic: &Clinic,
    now: DateTime<Utc>,
) -> (Uuid, tempfile::TempDir, waymark_vault::Vault, Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(waymark_domain::time::ManualClock::new(now));
    let mut laptop = waymark_vault::Vault::init(
        dir.path(),
        &laptop_kit::pass(laptop_kit::PASS),
        &laptop_kit::options_for("ISA01"),
        laptop_kit::env_at(&clock),
    )
    .unwrap();
    let store = &*clinic.state.store;
    let device = laptop_kit::link_to_clinic(&mut laptop, clinic.state.clinic_id, clinic.state.keys.public(), now);
    let record = DeviceRecord {
        id: device,
        advocate: String::new(),
        confirmed: true,
        keys: keys(1).public(),
        status: DeviceStatus::Active,
        enrolled_at: now,
        revoked_at: None,
        last_seen_at: None,
        acked_through: 0,
    };
    let token = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(TOKEN));
    store.enrol(&token, &record, Some("ISA01"), now).unwrap();
    let case = laptop_kit::patch(&["reference=WS-1", "referral.source=police", "referral.reason=Repeated contact"]);
    let victim = laptop_kit::patch(&[
        "name=<img src=x onerror=alert(1)> Rowan (DEMO)",
        "address.lines+=7 Hiddenhurst Lane",
        "address.postcode=ZZ99 7HL",
        "safe_contact.email=rowan.hidden@example.invalid",
    ]);
    let (case, _) = laptop.open_case(&case, &victim).unwrap();
    let plan = laptop_kit::patch(&["code_word=Marigoldcanary", "review_on=2027-01-07"]);
    laptop.add(waymark_domain::RecordKind::SafetyPlan, case.case_id(), &plan).unwrap();
    // Where it happened was her home: the advocate confirmed writing it down.
    let incident = laptop_kit::patch(&[
        "occurred_at=2026-12-01T21:00:00Z",
        "account=Waited by her door again",
        "location=outside 7 Hiddenhurst Lane",
        "channel=in_person",
        "behaviours+=loitering",
    ]);
    laptop.with_address_confirmed(|v| v.add(waymark_domain::RecordKind::Incident, case.case_id(), &incident)).unwrap();
    let ops = laptop.outbox_batch(0, 100).unwrap();
    let origin = Origin::Device {
        id: device,
        advocate: "ISA01",
        max_ahead_ms: waymark_clinic::authority::MAX_HLC_AHEAD_MS,
        service: &clinic.state.service,
    };
    let stored = store.store_batch(origin, Uuid::now_v7(), &ops, now).unwrap();
    assert!(stored.refused.is_empty() && stored.quarantined.is_empty(), "{stored:?}");
    (case.id(), dir, laptop, device)
}

/// A referral form as the page sends it, about `victim` and `perpetrator`.
pub fn referral_form(victim: &str, perpetrator: &str) -> serde_json::Value {
    serde_json::json!({
        "case": {
            "referral.source": "police",
            "referral.referrer": "DC Example (TEST)",
            "referral.referrer_contact": "0113 496 0000",
            "referral.their_reference": "CRIME-77",
            "referral.reason": "Repeated unwanted contact and following",
            "referral.criteria": ["professional_judgement", "escalation"],
            "referral.victim_aware": true,
            "referral.consent_recorded": true,
            "referral.afraid_of": "Her former partner"
        },
        "victim": {
            "name": victim,
            "date_of_birth": "1991-03-04",
            "address.lines": ["12 Larkspur Close"],
            "address.postcode": "ZZ99 3LC",
            "safe_contact.phones": [{"number": "07700 900456", "voicemail_ok": false, "text_ok": true}],
            "dependants": [{"name": "Kit Child (TEST)", "date_of_birth": "2019-05-06", "relationship": "Son of both", "school": "Brambleford Primary"}]
        },
        "perpetrator": {
            "names": [perpetrator],
            "relationship": "ex_intimate_partner",
            "date_of_birth": "1980-05-06"
        }
    })
}

/// A meeting as the coordinator's page sends it: `case` on the agenda, PNL1 invited.
pub fn a_meeting_body(case: Uuid) -> serde_json::Value {
    serde_json::json!({
        "id": null, "meets_on": "2026-12-10", "chair": "CRD1", "invited": ["PNL1"],
        "agenda": [{ "case_id": case, "minutes": 15 }]
    })
}

/// A meeting kept as the save route keeps one, not yet published.
pub fn a_meeting(clinic: &Clinic, case: Uuid) -> Uuid {
    let meeting = waymark_clinic::store::PanelMeeting {
        id: Uuid::now_v7(),
        meets_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
        chair: "CRD1".into(),
        invited: vec!["PNL1".into()],
        agenda: vec![waymark_clinic::store::AgendaItem { case_id: case, minutes: 15 }],
        created_by: "CRD1".into(),
        created_at: start(),
        published_at: None,
        closed_at: None,
        research_due_on: None,
        attendance: Vec::new(),
    };
    clinic.state.store.save_meeting(&meeting, "CRD1", AdminAction::MeetingSaved, start()).unwrap();
    meeting.id
}

/// A perpetrator the laptop adds to `case` and sends to the clinic; their record id.
pub fn a_perpetrator(clinic: &Clinic, laptop: &mut waymark_vault::Vault, device: Uuid, case: Uuid) -> Uuid {
    let patch = laptop_kit::patch(&["names+=Casey Vance (TEST)", "relationship=ex_intimate_partner"]);
    let record =
        laptop.add(waymark_domain::RecordKind::Perpetrator, Some(waymark_domain::CaseId(case)), &patch).unwrap();
    push(clinic, laptop, device, start());
    record.id()
}

/// A meeting published to PNL1 (the police), who came; the case on its agenda.
pub fn a_held_meeting(clinic: &Clinic, case: Uuid) -> Uuid {
    let id = a_meeting(clinic, case);
    let store = &*clinic.state.store;
    let mut meeting = store.meetings().unwrap().into_iter().find(|m| m.id == id).unwrap();
    meeting.published_at = Some(start());
    // It met today.
    meeting.meets_on = london_date(start());
    meeting.attendance =
        vec![waymark_clinic::store::Attended { code: "PNL1".into(), mark: waymark_domain::Attendance::Present }];
    store.save_meeting(&meeting, "CRD1", AdminAction::MeetingPublished, start()).unwrap();
    id
}

/// An open action the police own on `case`, from a held meeting, kept as the meeting route keeps one.
pub fn a_police_action(clinic: &Clinic, case: Uuid) -> Uuid {
    let meeting = a_held_meeting(clinic, case);
    let action = waymark_clinic::panel::PanelAction {
        id: Uuid::now_v7(),
        case_id: case,
        meeting_id: meeting,
        agency: waymark_domain::Agency::Police,
        named_owner: None,
        action: "Serve the notice".into(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        status: waymark_domain::ActionStatus::Open,
        overdue: None,
        note: None,
        task: None,
        updated_by: "CRD1".into(),
        updated_at: start(),
    };
    let line = waymark_clinic::store::AuditLine {
        actor: "CRD1",
        action: AdminAction::PanelCaseRecorded,
        target: None,
        detail: serde_json::json!({}),
    };
    use waymark_clinic::panel::Doc;
    clinic.state.store.save_panel(&[action.stored().unwrap()], &[], &line, start()).unwrap();
    action.id
}

/// A request with a JSON body, as the page sends a change.
pub fn request_with(route: WorkRoute, path: &str, browser: &Browser, body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(route.method())
        .uri(path)
        .header(header::COOKIE, &browser.cookie)
        .header(CSRF_HEADER, &browser.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A referral waiting for screening, kept the way the form route keeps one.
pub fn a_waiting_referral(clinic: &Clinic, now: DateTime<Utc>) -> Uuid {
    let fields = serde_json::from_value(referral_form("Avery Sample (TEST)", "Jordan Sample (TEST)")).unwrap();
    waymark_clinic::intake::submit(&*clinic.state.store, &clinic.state.service, &fields, "REF1", now).unwrap().0
}

/// A signed-in browser: its cookie and the CSRF token its page keeps.
#[derive(Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

pub fn sign_in_request(code: &str, password: &str, totp: &str, cookie: Option<&str>) -> Request<Body> {
    let body = serde_json::json!({ "staff_code": code, "password": password, "code": totp });
    let mut request = Request::post(WorkRoute::SignIn.path()).header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

/// The session cookie a sign-in set, as the browser would send it back.
pub fn cookie_from(headers: &HeaderMap) -> String {
    let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

pub async fn sign_in(clinic: &Clinic, member: &Member, at: DateTime<Utc>) -> Browser {
    let code = oathtool_code(&member.secret, at);
    let (status, headers, body) = send(clinic, sign_in_request(member.code, PASSWORD, &code, None)).await;
    assert_eq!(status, StatusCode::OK, "{}: {}", member.code, String::from_utf8_lossy(&body));
    let view: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(view["role"], member.role.as_str());
    Browser { cookie: cookie_from(&headers), csrf: view["csrf"].as_str().unwrap().to_owned() }
}

pub fn request(route: WorkRoute, path: &str, browser: Option<&Browser>, csrf: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().method(route.method()).uri(path);
    if let Some(browser) = browser {
        request = request.header(header::COOKIE, &browser.cookie);
    }
    if let Some(csrf) = csrf {
        request = request.header(CSRF_HEADER, csrf);
    }
    request.body(Body::empty()).unwrap()
}

pub fn code_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["code"].as_str().unwrap_or_default().to_owned()
}

pub fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

pub fn push(clinic: &Clinic, laptop: &waymark_vault::Vault, device: Uuid, now: DateTime<Utc>) {
    let ops = laptop.outbox_batch(0, 1000).unwrap();
    let origin = Origin::Device {
        id: device,
        advocate: "ISA01",
        max_ahead_ms: waymark_clinic::authority::MAX_HLC_AHEAD_MS,
        service: &clinic.state.service,
    };
    let stored = clinic.state.store.store_batch(origin, Uuid::now_v7(), &ops, now).unwrap();
    assert!(stored.refused.is_empty() && stored.quarantined.is_empty(), "{stored:?}");
}

/// The panel's SRP judgement of a case, every domain rated with its reason, as the record form sends it.
pub fn an_srp_judgement() -> serde_json::Value {
    serde_json::json!({
        "violence": { "rating": "moderate", "rationale": "Threats, no violence yet." },
        "persistence": { "rating": "high", "rationale": "Contact continued after the warning." },
        "recurrence": { "rating": "high", "rationale": "Stalked a former partner before." },
        "psychosocial_damage": { "rating": "high", "rationale": "Stopped working." }
    })
}
