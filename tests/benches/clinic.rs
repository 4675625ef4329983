//! The clinic workspace's figures: projecting about 100,000 ops (5,000 cases
//! from 80 advocates' laptops) into the clinic's copy of the records, against
//! reading the same feed alone in the same run, with the process's memory;
//! then the caseload answer and the commissioner's quarterly return for those
//! 5,000 cases, against the smallest signed-in answer (`/w/api/me`). Leaves a real clinic folder in the target
//! directory for the browser's first-paint figure (`cargo xtask bench-clinic`).
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use age::secrecy::SecretString;
use axum::body::Body;
use axum::http::{header, Request};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;
use uuid::Uuid;
use waymark_clinic::store::{ClinicStore, DeviceRecord, DeviceStatus, Origin, StaffMember, StaffRole};
use waymark_vault::{Env, Mutation, Vault};

const ADVOCATES: u32 = 80;
const CASES: u32 = 5_000;
/// With the demo's other records, about 20 ops a case: about 100,000 in all.
const INCIDENTS_PER_CASE: u32 = 6;
const CLINIC_PASSPHRASE: &str = "bench clinic pass words";
const STAFF_PASSWORD: &str = "bench staff pass words";

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    kib as f64 / 1024.0
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn main() {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target"));
    let out = target.join("bench-clinic");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let clinic_dir = out.join("clinic");
    let passphrase = SecretString::from(CLINIC_PASSPHRASE.to_owned());
    let (clinic, _) = waymark_clinic::Clinic::init(&clinic_dir, &passphrase, &["127.0.0.1".into()], 10, at).unwrap();
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(out.join("passphrase")).unwrap();
        writeln!(file, "{CLINIC_PASSPHRASE}").unwrap();
    }
    let store: Arc<dyn ClinicStore> = clinic.open_store().unwrap();
    let service = waymark_domain::records::ServiceRules::shipped();

    // 80 laptops, each with its share of the 5,000 demo cases, pushed to the clinic.
    let started = Instant::now();
    let laptops = tempfile::tempdir().unwrap();
    let mut ops_total = 0usize;
    for a in 0..ADVOCATES {
        let advocate = format!("ISA{a:02}");
        let member = StaffMember {
            code: advocate.clone(),
            name: format!("Advocate {a} (BENCH)"),
            role: StaffRole::Advocate,
            active: true,
            added_at: at,
            agency: None,
        };
        store.add_staff(&member).unwrap();
        let clock = Arc::new(waymark_domain::time::ManualClock::new(at));
        let env = Env {
            clock: clock.clone(),
            rng: Box::new(<rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(a.into())),
        };
        let dir = laptops.path().join(&advocate);
        let mut vault = Vault::init(
            &dir,
            &SecretString::from("bench laptop pass words".to_owned()),
            &waymark_vault::kit::options_for(&advocate),
            env,
        )
        .unwrap();
        let device =
            waymark_vault::kit::link_to_clinic(&mut vault, clinic.info.clinic_id, clinic.info.keys.clone(), at);
        let token = format!("bench-token-{a}");
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&token));
        store.add_enrolment(&hash, &advocate, at + chrono::Duration::days(1)).unwrap();
        let record = DeviceRecord {
            id: device,
            advocate: String::new(),
            confirmed: true,
            keys: waymark_protocol::DeviceKeys::generate(&mut rand::rngs::OsRng).public(),
            status: DeviceStatus::Active,
            enrolled_at: at,
            revoked_at: None,
            last_seen_at: None,
            acked_through: 0,
        };
        store.enrol(&hash, &record, Some(&advocate), at).unwrap();
        let share = CASES / ADVOCATES + u32::from(a < CASES % ADVOCATES);
        let options = waymark_demo::DemoOptions {
            cases: share,
            seed: u64::from(a) + 1,
            now: at,
            advocate: advocate.clone(),
            incidents_per_case: Some(INCIDENTS_PER_CASE),
            clinic_reviews: false,
        };
        for case in waymark_demo::generate(&options) {
            vault.commit(case.into_iter().map(Mutation::Create).collect()).unwrap();
        }
        let origin = Origin::Device {
            id: device,
            advocate: &advocate,
            max_ahead_ms: waymark_clinic::authority::MAX_HLC_AHEAD_MS,
            service: &service,
        };
        let mut acked = 0;
        loop {
            let ops = vault.outbox_batch(acked, 5_000).unwrap();
            if ops.is_empty() {
                break;
            }
            let stored = store.store_batch(origin, Uuid::now_v7(), &ops, at + chrono::Duration::minutes(1)).unwrap();
            assert!(stored.refused.is_empty() && stored.quarantined.is_empty(), "{stored:?}");
            ops_total += ops.len();
            acked = stored.acked_through;
            vault.sync_acknowledge(acked, &[], &[]).unwrap();
        }
        vault.lock();
    }
    drop(laptops);
    eprintln!("set-up: {ops_total} ops from {ADVOCATES} laptops in {:.0} s", started.elapsed().as_secs_f64());

    // Baseline: reading the whole feed, page by page, as the projection does.
    let started = Instant::now();
    let mut through = 0;
    let mut read = 0usize;
    loop {
        let page = store.feed_all(through, 2_000).unwrap();
        if page.through <= through {
            break;
        }
        read += page.ops.len();
        through = page.through;
    }
    let reading = started.elapsed().as_secs_f64();
    assert_eq!(read, ops_total);

    let rss_before = rss_mib("VmRSS:");
    let clock: waymark_clinic::server::Clock = Arc::new(waymark_clinic::system_now);
    let projection = Arc::new(clinic.open_projection(clock.clone()).unwrap());
    let started = Instant::now();
    let caught = projection.catch_up(&*store).unwrap();
    let projecting = started.elapsed().as_secs_f64();
    let rss_after = rss_mib("VmRSS:");
    assert_eq!(caught.applied as usize, ops_total, "every op applies to the clinic's copy");
    println!(
        "clinic copy: projected {ops_total} ops ({CASES} cases, {ADVOCATES} advocates) in {projecting:.1} s, {:.0} ops/s; reading the same feed alone took {reading:.2} s (projecting costs {:.1}x reading)",
        ops_total as f64 / projecting,
        projecting / reading
    );
    println!(
        "clinic memory while projecting: {rss_before:.0} MiB before, {rss_after:.0} MiB after, peak {:.0} MiB",
        rss_mib("VmHWM:")
    );

    // The caseload page's answer, through the real router, for a signed-in coordinator.
    let coordinator = StaffMember {
        code: "CRD1".into(),
        name: "Coordinator (BENCH)".into(),
        role: StaffRole::Coordinator,
        active: true,
        added_at: at,
        agency: None,
    };
    store.add_staff(&coordinator).unwrap();
    let admin = StaffMember { code: "ADM1".into(), role: StaffRole::Administrator, ..coordinator.clone() };
    store.add_staff(&admin).unwrap();
    let now = waymark_clinic::system_now();
    let mut rng = rand::rngs::OsRng;
    let password = SecretString::from(STAFF_PASSWORD.to_owned());
    waymark_clinic::signin::set_password(&*store, "CRD1", "ADM1", &password, now, &mut rng).unwrap();
    let secret = waymark_clinic::signin::reset_second_factor(&*store, "CRD1", "ADM1", now, &mut rng).unwrap();
    let state = waymark_clinic::AppState {
        store: store.clone(),
        clinic_id: clinic.info.clinic_id,
        keys: clinic.keys.clone(),
        limits: waymark_protocol::Limits::default(),
        deadlines: waymark_clinic::server::Deadlines::default(),
        clock,
        throttle: waymark_clinic::server::Throttle::new(waymark_clinic::server::RateLimits::default()),
        service: Arc::new(service),
        projection: Some(projection),
        workspace_ui: None,
        identity: None,
        templates: Default::default(),
        updates: None,
        push_order: std::sync::Arc::default(),
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let router = waymark_clinic::router(state);
        let code = secret.code_at(waymark_clinic::system_now());
        let body = serde_json::json!({ "staff_code": "CRD1", "password": STAFF_PASSWORD, "code": code });
        let response = router
            .clone()
            .oneshot(
                Request::post("/w/api/sign-in")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(response.status().is_success(), "the bench coordinator signs in");
        let cookie =
            response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let time = |path: &'static str| {
            let (router, cookie) = (router.clone(), cookie.clone());
            async move {
                let mut samples = Vec::new();
                let mut size = 0;
                for _ in 0..11 {
                    let request = Request::get(path).header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
                    let started = Instant::now();
                    let response = router.clone().oneshot(request).await.unwrap();
                    assert!(response.status().is_success(), "{path}");
                    size = response.into_body().collect().await.unwrap().to_bytes().len();
                    samples.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                (median(samples), size)
            }
        };
        let (me, _) = time("/w/api/me").await;
        let (caseload, size) = time("/w/api/caseload").await;
        println!(
            "caseload answer for {CASES} cases across {ADVOCATES} advocates: median {caseload:.1} ms server time, {:.0} KiB; /w/api/me {me:.2} ms ({:.0}x)",
            size as f64 / 1024.0,
            caseload / me
        );
        // The commissioner's quarterly return over the same 5,000 cases (goal: at most 2 s),
        // the figures alone and each file a manager downloads.
        for (format, path) in [
            ("figures", "/w/api/reports/quarterly?quarter=2026-27-Q3&format=json"),
            ("CSV", "/w/api/reports/quarterly?quarter=2026-27-Q3&format=csv"),
            ("workbook", "/w/api/reports/quarterly?quarter=2026-27-Q3&format=xlsx"),
            ("PDF", "/w/api/reports/quarterly?quarter=2026-27-Q3&format=pdf"),
        ] {
            let (made, size) = time(path).await;
            println!(
                "quarterly return ({format}) over {CASES} cases: median {made:.0} ms server time ({:.2} s, goal at most 2 s), {:.0} KiB; {:.0}x /w/api/me",
                made / 1000.0,
                size as f64 / 1024.0,
                made / me
            );
        }
    });
    let bench = serde_json::json!({
        "clinic": clinic_dir,
        "passphrase_file": out.join("passphrase"),
        "staff_code": "CRD1",
        "password": STAFF_PASSWORD,
        "secret": secret.base32().as_str(),
    });
    std::fs::write(out.join("bench.json"), bench.to_string()).unwrap();
}
