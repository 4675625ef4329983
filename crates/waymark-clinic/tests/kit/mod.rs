//! What the clinic's integration tests share: a clinic over every store,
//! its router driven in process, and an independent authenticator.
#![allow(dead_code)] // Each test file uses its own part of the kit.

pub mod browser;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use rand::SeedableRng;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tower::ServiceExt;
use uuid::Uuid;
use waymark_clinic::server::Deadlines;
use waymark_clinic::store::{ClinicStore, MemoryStore, SqliteStore};
use waymark_clinic::{router, AppState, StaffMember, StaffRole};
use waymark_protocol::*;

pub const TOKEN: &str = "one-time-token";

pub struct Clinic {
    pub state: AppState,
    _dirs: Vec<tempfile::TempDir>,
    /// The PostgreSQL store's throwaway schema, dropped after the store.
    pub schema: Option<waymark_clinic::store::postgres::test_kit::TestSchema>,
}

impl Clinic {
    /// The folders the clinic keeps files in (its store's, if any, and its copy of the records).
    pub fn folders(&self) -> Vec<&std::path::Path> {
        self._dirs.iter().map(tempfile::TempDir::path).collect()
    }
}

pub fn keys(seed: u64) -> DeviceKeys {
    DeviceKeys::generate(&mut rand::rngs::StdRng::seed_from_u64(seed))
}

/// Tokens issued for the tests, each bound to an advocate in the register.
pub const TOKENS: &[(&str, &str)] = &[(TOKEN, "ISA01"), ("second", "ISA01"), ("third", "ISA02"), ("fourth", "ISA01")];

pub fn clinic_with(
    store: Arc<dyn ClinicStore>,
    dir: Option<tempfile::TempDir>,
    clock: waymark_clinic::server::Clock,
) -> Clinic {
    for code in ["ISA01", "ISA02"] {
        let added_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        store
            .add_staff(&StaffMember {
                code: code.into(),
                name: format!("Advocate {code}"),
                role: StaffRole::Advocate,
                active: true,
                added_at,
                agency: None,
            })
            .unwrap();
    }
    for (token, advocate) in TOKENS {
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token));
        store.add_enrolment(&hash, advocate, Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()).unwrap();
    }
    let state = AppState {
        store,
        clinic_id: Uuid::from_u128(0xC11),
        keys: Arc::new(keys(100)),
        limits: Limits { max_batch_bytes: 256 * 1024, max_ops: 1000 },
        deadlines: Deadlines { call: std::time::Duration::from_secs(3), ..Deadlines::default() },
        clock: clock.clone(),
        throttle: waymark_clinic::server::Throttle::new(waymark_clinic::server::RateLimits::default()),
        service: Arc::new(waymark_domain::records::ServiceRules::shipped()),
        projection: None,
        workspace_ui: None,
        identity: Some(Arc::new(waymark_clinic::identity::PublicInfo {
            clinic_id: Uuid::from_u128(0xC11),
            keys: keys(100).public(),
            fingerprint: "ab".repeat(32),
            recovery: "age1recoverykeyofthetestclinic".into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        })),
        templates: Default::default(),
        updates: None,
        push_order: Arc::default(),
    };
    // Every clinic keeps its copy of the records, as `serve` does.
    let copy = tempfile::tempdir().unwrap();
    let projection = waymark_clinic::projection::Projection::open(
        &copy.path().join("replica"),
        &[9u8; 32],
        state.clinic_id,
        clock,
        Box::new(rand::rngs::StdRng::seed_from_u64(5)),
    )
    .unwrap();
    let updates = Some(Arc::new(waymark_clinic::updates::Releases::at(copy.path().join("updates"))));
    let state = AppState { projection: Some(Arc::new(projection)), updates, ..state };
    Clinic { state, _dirs: dir.into_iter().chain([copy]).collect(), schema: None }
}

/// A clinic on each store, its clock at noon on 22 November 2026.
pub fn stores() -> Vec<(&'static str, Clinic)> {
    stores_at(&Arc::new(TestClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap())))
}

/// A clinic on each store, reading `clock`.
pub fn stores_at(clock: &Arc<TestClock>) -> Vec<(&'static str, Clinic)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("clinic.db"), &[7u8; 32], true).unwrap();
    let reading = |clock: &Arc<TestClock>| -> waymark_clinic::server::Clock {
        let clock = clock.clone();
        Arc::new(move || clock.now())
    };
    let (postgres, schema) = waymark_clinic::store::postgres::test_kit::store(&[7u8; 32]);
    let on_postgres = Clinic { schema: Some(schema), ..clinic_with(Arc::new(postgres), None, reading(clock)) };
    vec![
        ("memory", clinic_with(Arc::new(MemoryStore::new()), None, reading(clock))),
        ("sqlcipher", clinic_with(Arc::new(sqlite), Some(dir), reading(clock))),
        ("postgres", on_postgres),
    ]
}

/// A clock a test moves on by hand.
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(start: DateTime<Utc>) -> Self {
        TestClock(AtomicI64::new(start.timestamp_micros()))
    }
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0.load(Ordering::SeqCst)).unwrap()
    }
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.store(at.timestamp_micros(), Ordering::SeqCst);
    }
    pub fn advance(&self, by: chrono::Duration) {
        self.0.fetch_add(by.num_microseconds().unwrap(), Ordering::SeqCst);
    }
}

pub async fn call(clinic: &Clinic, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = send(clinic, request).await;
    (status, body)
}

/// Drives the router in process and returns the answer whole, headers too.
pub async fn send(clinic: &Clinic, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = router(clinic.state.clone()).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

pub fn post(path: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path).body(Body::from(body)).unwrap()
}

/// The code an authenticator app shows at `at`, computed by Debian's
/// oathtool (written by nobody here) from the base32 secret the clinic shows.
pub fn oathtool_code(base32: &str, at: chrono::DateTime<Utc>) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", "--now", &at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), base32])
        .output()
        .expect("oathtool is installed by `cargo xtask setup`");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
