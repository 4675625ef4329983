//! The sync figures: 10,000 ops pushed over loopback TLS to an empty clinic,
//! on SQLCipher and on PostgreSQL, against posting the same bytes to a bare
//! TLS endpoint in the same run; an incremental sync with nothing to do; the
//! clinic's memory while 20 laptops push at once; and 200 laptops pushing 500
//! ops each through two clinic servers over one PostgreSQL database. Run with
//! `cargo xtask bench-sync` (which starts PostgreSQL).
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use age::secrecy::SecretString;
use axum::routing::post;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use waymark_domain::patch::Patch;
use waymark_domain::RecordKind;
use waymark_scenarios::clinic::ClinicProcess;
use waymark_sync::{sync_once, Https};
use waymark_vault::{Env, Mutation, Vault};

/// One address enrols and drives many laptops here: the rate limits are for a flood, not for this.
const UNLIMITED: [&str; 8] =
    ["--max-ops", "5000", "--per-address", "1000000", "--enrol-per-address", "1000000", "--per-device", "1000000"];

fn start_clinic() -> ClinicProcess {
    ClinicProcess::init(Path::new(env!("CARGO_BIN_EXE_clinic")), &UNLIMITED)
}

fn start_clinic_on(schema: &waymark_clinic::store::postgres::test_kit::TestSchema) -> ClinicProcess {
    ClinicProcess::init_on_postgres(Path::new(env!("CARGO_BIN_EXE_clinic")), &UNLIMITED, &schema.connection())
}

/// A laptop with `ops` ops waiting: one case, then incidents, committed in chunks.
fn laptop(dir: &Path, advocate: &str, ops: usize) -> Mutex<Vault> {
    let reference = format!("BENCH-{advocate}");
    let options = waymark_vault::kit::options_for(advocate);
    let mut v =
        Vault::init(dir, &SecretString::from("bench pass words here".to_owned()), &options, Env::system()).unwrap();
    let case = v
        .add(
            RecordKind::Case,
            None,
            &Patch::parse(&[&format!("reference={reference}"), "referral.source=police", "referral.reason=Bench"])
                .unwrap(),
        )
        .unwrap();
    let case = case.case_id();
    let incident = Patch::parse(&[
        format!("account={}", "Waited outside the house and followed to the bus stop. ".repeat(3)),
        "channel=in_person".into(),
        "behaviours+=loitering".into(),
    ])
    .unwrap();
    let mut left = ops - 1;
    while left > 0 {
        let n = left.min(500);
        let drafts: Vec<Mutation> =
            (0..n).map(|_| Mutation::Create(v.draft(RecordKind::Incident, case, &incident).unwrap())).collect();
        v.commit(drafts).unwrap();
        left -= n;
    }
    Mutex::new(v)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A TLS endpoint that reads the body and answers `{}`: no sealing, signing or storage.
fn bare_endpoint() -> (u16, String, tokio::runtime::Runtime) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(certified.cert.der()))
    };
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = axum::Router::new()
        .route(
            "/bare",
            post(|body: axum::body::Bytes| async move {
                if body.is_empty() {
                    ""
                } else {
                    "{}"
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    runtime.spawn(
        async move { axum_server::from_tcp_rustls(listener, tls).unwrap().serve(app.into_make_service()).await },
    );
    (port, fingerprint, runtime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Pushes `ops` ops from a fresh laptop to `server` and times it; returns the
/// time, the frames the push sent (sealed as it seals them) and the laptop.
fn timed_push(server: &ClinicProcess, dir: &Path, ops: u64) -> (Duration, Vec<Vec<u8>>, Mutex<Vault>) {
    let device = laptop(dir, "ISA00", ops as usize);
    waymark_sync::enrol(&device, &server.code(&server.url(), "ISA00")).unwrap();
    let frames: Vec<Vec<u8>> = {
        // The frames the push will send, sealed the same way, posted as-is to the bare endpoint.
        use waymark_protocol::*;
        let v = device.lock().unwrap();
        let (link, keys) = (v.sync_link().unwrap().unwrap(), v.sync_keys().unwrap().unwrap());
        let mut frames = Vec::new();
        let mut after = 0;
        loop {
            let ops = v.outbox_batch(after, waymark_sync::PUSH_BATCH_OPS).unwrap();
            let Some(last) = ops.last() else { break };
            let header = waymark_sync::upward_header(v.device().as_uuid(), link.clinic_id, &ops, after, v.now());
            after = last.seq;
            frames.push(encode(&seal(header, &ops, &link.clinic.recipient().unwrap(), &keys.signing).unwrap()));
        }
        frames
    };
    let started = Instant::now();
    let report = sync_once(&device).unwrap();
    let push = started.elapsed();
    assert_eq!(report.acked_through, ops);
    (push, frames, device)
}

fn main() {
    let root = tempfile::tempdir().unwrap();

    // 1. Push 10,000 ops to an empty clinic, on each store, against the bare upload of the same bytes.
    let mut server = start_clinic();
    let (push, frames, device) = timed_push(&server, &root.path().join("laptop"), 10_000);
    let schema = waymark_clinic::store::postgres::test_kit::schema();
    let mut on_postgres = start_clinic_on(&schema);
    let (push_pg, _, _) = timed_push(&on_postgres, &root.path().join("laptop-pg"), 10_000);
    on_postgres.sigkill();

    let (bare_port, fingerprint, runtime) = bare_endpoint();
    let bare = Https::new(&format!("https://127.0.0.1:{bare_port}"), Some(&fingerprint)).unwrap();
    let bodies = frames;
    let _ = bare.post("/bare", &[], vec![1], "application/octet-stream");
    let started = Instant::now();
    // The same requests the push makes: one hello, the batches, no pull.
    bare.post("/bare", &[], b"{}".to_vec(), "application/json").unwrap();
    for body in &bodies {
        bare.post("/bare", &[], body.clone(), "application/octet-stream").unwrap();
    }
    let bare_time = started.elapsed();
    drop(runtime);
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "push 10,000 ops over loopback TLS to an empty clinic: {:.0} ms, {:.0} ops/s ({} batches, {:.1} MiB)",
        push.as_secs_f64() * 1e3,
        10_000.0 / push.as_secs_f64(),
        bodies.len(),
        bytes as f64 / 1048576.0
    );
    println!("posting the same bytes to a bare TLS endpoint: {:.0} ms", bare_time.as_secs_f64() * 1e3);
    println!("ratio: {:.2}x the bare upload (goal: at most 3x)", push.as_secs_f64() / bare_time.as_secs_f64());
    println!(
        "the same push to a clinic on PostgreSQL: {:.0} ms, {:.0} ops/s, {:.2}x the bare upload",
        push_pg.as_secs_f64() * 1e3,
        10_000.0 / push_pg.as_secs_f64(),
        push_pg.as_secs_f64() / bare_time.as_secs_f64()
    );

    // 2. An incremental sync with nothing to do.
    let mut idle = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let report = sync_once(&device).unwrap();
        idle.push(started.elapsed());
        assert_eq!(report.pushed + u64::from(report.pulled), 0);
    }
    println!(
        "incremental sync with nothing to do: {:.1} ms median of 21 (goal: at most 50 ms)",
        median(idle).as_secs_f64() * 1e3
    );
    server.sigkill();

    // 3. The clinic's memory while 20 laptops push at once. Each is a different
    // advocate's, so no laptop also pulls the others' cases and the figure is the push.
    let mut server = start_clinic();
    let laptops: Vec<Mutex<Vault>> =
        (0..20).map(|i| laptop(&root.path().join(format!("l{i}")), &format!("ISA{:02}", i + 1), 1_000)).collect();
    for l in &laptops {
        let advocate = l.lock().unwrap().actor().to_owned();
        waymark_sync::enrol(l, &server.code(&server.url(), &advocate)).unwrap();
    }
    let pid = server.pid();
    let idle_rss = rss_kib(pid, "VmRSS:");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for l in &laptops {
            scope.spawn(move || sync_once(l).unwrap());
        }
    });
    let elapsed = started.elapsed();
    let peak = rss_kib(pid, "VmHWM:");
    println!(
        "clinic memory, 20 laptops pushing 1,000 ops each at once: peak RSS {:.1} MiB (idle {:.1} MiB, {:.1}x); all 20,000 ops stored in {:.0} ms",
        peak as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
        peak as f64 / idle_rss.max(1) as f64,
        elapsed.as_secs_f64() * 1e3
    );
    server.sigkill();

    // 4. 200 laptops pushing 500 ops each through two clinic servers over one PostgreSQL database,
    // half to each, all at once. Each is a different advocate's, so the figure is the push.
    let schema = waymark_clinic::store::postgres::test_kit::schema();
    let first = start_clinic_on(&schema);
    let second = first.another_server();
    let laptops: Vec<Mutex<Vault>> =
        (0..200).map(|i| laptop(&root.path().join(format!("p{i}")), &format!("PG{i:03}"), 500)).collect();
    for (i, l) in laptops.iter().enumerate() {
        let advocate = l.lock().unwrap().actor().to_owned();
        let server = if i % 2 == 0 { &first } else { &second };
        waymark_sync::enrol(l, &server.code(&server.url(), &advocate)).unwrap();
    }
    // A server too busy to take a batch says so (503, nothing saved) and the
    // laptop tries again, as its backoff would, here after a short pause.
    let retries = std::sync::atomic::AtomicU32::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for l in &laptops {
            let retries = &retries;
            scope.spawn(move || {
                for attempt in 0..60 {
                    match sync_once(l) {
                        Ok(_) => return,
                        Err(e) if attempt < 59 => {
                            let _ = e;
                            retries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        Err(e) => panic!("a laptop never got its batch in: {e:?}"),
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let stored = first.stats().ops;
    assert_eq!(stored, 200 * 500, "every op is held once");
    println!(
        "200 laptops pushing 500 ops each through two clinic servers on one PostgreSQL: {:.1} s, {:.0} ops/s, {} rounds told to retry; peak RSS {:.1} MiB and {:.1} MiB",
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64(),
        retries.load(std::sync::atomic::Ordering::SeqCst),
        rss_kib(first.pid(), "VmHWM:") as f64 / 1024.0,
        rss_kib(second.pid(), "VmHWM:") as f64 / 1024.0
    );
}
