//! The sync figures: the server side of a 10,000-op push over loopback TLS
//! to an empty clinic on each store (memory, SQLCipher, PostgreSQL), against
//! posting the same sealed bytes to a bare TLS endpoint in the same run, both
//! over a warm connection, with a floor of the same rows put into plain
//! SQLite, the laptop's sealing timed apart, and its whole round to a clinic
//! process; an incremental sync with nothing to do; the
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

/// A TLS endpoint that reads the body and answers `{}`: no opening, judging or storage.
fn bare_endpoint() -> (u16, String, tokio::runtime::Runtime) {
    // The same certificate and settings as the in-process clinic, so only the server's work differs.
    let (config, fingerprint) = waymark_clinic::test_kit::loopback_tls();
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

/// How many times each clinic's push is timed.
const RUNS: usize = 3;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A laptop's outbox, sealed as a push seals it, frame by frame, with the
/// signed claim each frame is posted with; and how long the sealing took.
struct Sealed {
    hello: Signed,
    frames: Vec<Signed>,
    sealing: Duration,
    ops: Vec<waymark_protocol::WireOp>,
}

/// A request's signed claim headers and its body.
type Signed = (Vec<(&'static str, String)>, Vec<u8>);

fn seal_outbox(device: &Mutex<Vault>) -> Sealed {
    use waymark_protocol::*;
    let v = device.lock().unwrap();
    let (link, keys) = (v.sync_link().unwrap().unwrap(), v.sync_keys().unwrap().unwrap());
    let recipient = link.clinic.recipient().unwrap();
    let started = Instant::now();
    let mut frames = Vec::new();
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let ops = v.outbox_batch(after, waymark_sync::PUSH_BATCH_OPS).unwrap();
        let Some(last) = ops.last() else { break };
        let header = waymark_sync::upward_header(v.device().as_uuid(), link.clinic_id, &ops, after, v.now());
        after = last.seq;
        let frame = encode(&seal(header, &ops, &recipient, &keys.signing).unwrap());
        frames.push((waymark_scenarios::kit::push_headers(&v, &frame), frame));
        all.extend(ops);
    }
    let sealing = started.elapsed();
    let hello_body = b"{}".to_vec();
    let claim = auth::Claim {
        device: v.device().as_uuid(),
        request_id: uuid::Uuid::now_v7(),
        path: messages::PATH_HELLO.into(),
        body_sha256: auth::body_hash(&hello_body),
        at: v.now(),
    };
    let (claim, signature) = auth::sign_request(&claim, &keys.signing);
    let hello = (vec![(auth::CLAIM_HEADER, claim), (auth::SIGNATURE_HEADER, signature)], hello_body);
    Sealed { hello, frames, sealing, ops: all }
}

/// Posts `frames` to `path` with up to `waymark_sync::PUSHES_IN_FLIGHT` in
/// flight, as a laptop pushes, and returns the replies in order.
fn post_in_flight(https: &Https, path: &str, frames: &[Signed]) -> Vec<Vec<u8>> {
    std::thread::scope(|scope| {
        let mut in_flight = std::collections::VecDeque::new();
        let mut replies = Vec::new();
        for (headers, frame) in frames {
            if in_flight.len() == waymark_sync::PUSHES_IN_FLIGHT {
                replies
                    .push(in_flight.pop_front().map(|h: std::thread::ScopedJoinHandle<_>| h.join().unwrap()).unwrap());
            }
            in_flight.push_back(
                scope.spawn(move || https.post(path, headers, frame.clone(), "application/octet-stream").unwrap()),
            );
        }
        replies.extend(in_flight.into_iter().map(|h| h.join().unwrap()));
        replies
    })
}

/// Posts the hello and the frames over connections already warm, as the
/// bare upload does; returns the time and the last acknowledgement.
fn post_sealed(https: &Https, sealed: &Sealed) -> (Duration, u64) {
    use waymark_protocol::messages::*;
    let started = Instant::now();
    let (headers, body) = &sealed.hello;
    https.post(PATH_HELLO, headers, body.clone(), "application/json").unwrap();
    let mut acked = 0;
    for reply in post_in_flight(https, PATH_PUSH, &sealed.frames) {
        let reply: PushResponse = serde_json::from_slice(&reply).unwrap();
        assert!(reply.refused.is_empty() && reply.quarantined.is_empty());
        acked = reply.acked_through;
    }
    (started.elapsed(), acked)
}

/// Connections to `url` with their TLS handshakes done, as many as a push keeps in flight.
fn warm_client(url: &str, fingerprint: &str, path: &str) -> Https {
    let https = Https::new(url, Some(fingerprint)).unwrap();
    // Any answer, even a refusal, means a connection is up; at once, so each takes its own.
    std::thread::scope(|scope| {
        for _ in 0..waymark_sync::PUSHES_IN_FLIGHT {
            scope.spawn(|| https.post(path, &[], vec![1], "application/octet-stream"));
        }
    });
    https
}

/// The server side of a push of a fresh laptop's 10,000 ops, over a warm connection.
fn push_sealed(url: &str, fingerprint: &str, device: &Mutex<Vault>) -> (Duration, Sealed) {
    let sealed = seal_outbox(device);
    let https = warm_client(url, fingerprint, waymark_protocol::messages::PATH_HELLO);
    let (took, acked) = post_sealed(&https, &sealed);
    assert_eq!(acked, 10_000, "the clinic acknowledged every op");
    (took, sealed)
}

/// The same to a memory store served in this process, the receive path's floor.
fn push_to_memory(dir: &Path) -> (Duration, Sealed) {
    let clinic = waymark_clinic::test_kit::InProcessClinic::serve(None, None);
    let device = laptop(dir, "ISA00", 10_000);
    waymark_sync::enrol(&device, &clinic.code("ISA00")).unwrap();
    push_sealed(&clinic.url, &clinic.fingerprint, &device)
}

/// The same to a clinic process, as `serve` runs on its store.
fn push_to_process(server: &ClinicProcess, dir: &Path) -> Duration {
    let device = laptop(dir, "ISA00", 10_000);
    waymark_sync::enrol(&device, &server.code(&server.url(), "ISA00")).unwrap();
    push_sealed(&server.url(), &waymark_scenarios::kit::clinic_fingerprint(server), &device).0
}

/// The feed's rows the push stores (each op's row and its record's home, and
/// the batch; not the few assignment rows a case op adds, nor the device's
/// acknowledgement), inserted into a plain SQLite file with the store's
/// schema and settings, in one transaction a batch: the storage floor.
fn plain_sqlite_floor(dir: &Path, ops: &[waymark_protocol::WireOp]) -> Duration {
    let conn = waymark_clinic::store::plain_with_schema(&dir.join("plain.db")).unwrap();
    let at = waymark_clinic::system_now().to_rfc3339();
    let rows: Vec<(String, String)> = ops
        .iter()
        .map(|op| {
            let text = op.canonical_bytes();
            (waymark_protocol::WireOp::hash_of(&text), String::from_utf8(text).unwrap())
        })
        .collect();
    let started = Instant::now();
    for chunk in ops.iter().zip(&rows).collect::<Vec<_>>().chunks(waymark_sync::PUSH_BATCH_OPS as usize) {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.execute(
            "INSERT INTO batches (batch_id, device, at) VALUES (?1, ?2, ?3)",
            rusqlite::params![uuid::Uuid::now_v7().to_string(), chunk[0].0.origin.to_string(), at],
        )
        .unwrap();
        for (op, (hash, text)) in chunk {
            conn.prepare_cached("INSERT INTO ops (op_id, origin, seq, case_id, kind, content_hash, op, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .unwrap()
                .execute(rusqlite::params![op.op_id.to_string(), op.origin.to_string(), op.seq as i64, op.case_id.map(|c| c.to_string()), op.kind, hash, text, at])
                .unwrap();
            conn.prepare_cached("INSERT OR IGNORE INTO record_homes (record_id, case_id, owner) VALUES (?1, ?2, ?3)")
                .unwrap()
                .execute(rusqlite::params![op.record_id.to_string(), op.case_id.map(|c| c.to_string()), "ISA00"])
                .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    started.elapsed()
}

/// Pushes `ops` ops from a fresh laptop to the clinic process `server` with
/// the laptop's own sync round, sealing, handshake and all, and times it.
fn whole_round(server: &ClinicProcess, dir: &Path, ops: u64) -> (Duration, Mutex<Vault>) {
    let device = laptop(dir, "ISA00", ops as usize);
    waymark_sync::enrol(&device, &server.code(&server.url(), "ISA00")).unwrap();
    let started = Instant::now();
    let report = sync_once(&device).unwrap();
    let push = started.elapsed();
    assert_eq!(report.acked_through, ops);
    (push, device)
}

/// Runs the plain-SQLite floor in a fresh process of this bench: the vaults
/// opened here switched on SQLCipher's per-allocation locking, which is
/// global to a process and would slow plain SQLite too.
fn plain_floor_apart(dir: &Path, ops: &[waymark_protocol::WireOp]) -> Duration {
    let file = dir.join("floor-ops.json");
    std::fs::write(&file, serde_json::to_vec(ops).unwrap()).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["plain-floor", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "the plain-SQLite floor failed");
    let micros: u64 = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
    Duration::from_micros(micros)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, file] = args.as_slice() {
        if mode == "plain-floor" {
            let ops: Vec<waymark_protocol::WireOp> = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
            let dir = tempfile::tempdir().unwrap();
            println!("{}", plain_sqlite_floor(dir.path(), &ops).as_micros());
            return;
        }
    }
    let root = tempfile::tempdir().unwrap();
    let only_push = std::env::args().any(|a| a == "push");

    // 1. The server side of a push of 10,000 ops to an empty clinic, on each
    // store, against posting the same bytes to a bare TLS endpoint. Both are
    // posted sealed and signed beforehand, over a connection already warm, so
    // the only difference is the server's work; the laptop's sealing is timed apart.
    // The clinics are timed three times each (a fresh clinic and laptop each
    // time): single runs on this two-core machine vary by a quarter.
    let (first_memory, sealed) = push_to_memory(&root.path().join("m0"));
    let mut memory_runs = vec![first_memory];
    memory_runs.extend((1..RUNS).map(|n| push_to_memory(&root.path().join(format!("m{n}"))).0));
    let sqlcipher_runs: Vec<Duration> = (0..RUNS)
        .map(|n| {
            let mut server = start_clinic();
            let took = push_to_process(&server, &root.path().join(format!("s{n}")));
            server.sigkill();
            took
        })
        .collect();
    let (on_memory, on_sqlcipher) = (median(memory_runs.clone()), median(sqlcipher_runs.clone()));
    let schema = waymark_clinic::store::postgres::test_kit::schema();
    let mut server = start_clinic_on(&schema);
    let on_postgres = push_to_process(&server, &root.path().join("p"));
    server.sigkill();
    let plain = plain_floor_apart(root.path(), &sealed.ops);

    let (bare_port, fingerprint, runtime) = bare_endpoint();
    let bare = warm_client(&format!("https://127.0.0.1:{bare_port}"), &fingerprint, "/bare");
    let unsigned: Vec<Signed> = sealed.frames.iter().map(|(_, frame)| (Vec::new(), frame.clone())).collect();
    let bare_times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            bare.post("/bare", &[], sealed.hello.1.clone(), "application/json").unwrap();
            post_in_flight(&bare, "/bare", &unsigned);
            started.elapsed()
        })
        .collect();
    drop(runtime);
    let bare_time = median(bare_times);
    let bytes: usize = sealed.frames.iter().map(|(_, f)| f.len()).sum();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |d: Duration| d.as_secs_f64() / bare_time.as_secs_f64();
    println!(
        "push 10,000 ops ({} batches, {:.1} MiB) to an empty clinic, sealed and signed beforehand, over warm TLS connections, two batches in flight as a laptop sends them:",
        sealed.frames.len(),
        bytes as f64 / 1048576.0
    );
    println!("  the same bytes to a bare TLS endpoint (baseline, median of 5): {:.1} ms", ms(bare_time));
    let range = |runs: &[Duration]| {
        let (low, high) =
            (runs.iter().min().copied().unwrap_or_default(), runs.iter().max().copied().unwrap_or_default());
        format!("median of {RUNS}, {:.0} to {:.0} ms", ms(low), ms(high))
    };
    println!(
        "  clinic on the memory store, served in this process without its copy of the records (the receive path's floor): {:.0} ms ({}), {:.1}x",
        ms(on_memory),
        range(&memory_runs),
        ratio(on_memory)
    );
    println!(
        "  a clinic process on SQLCipher: {:.0} ms ({}), {:.0} ops/s, {:.1}x (goal: at most 3x)",
        ms(on_sqlcipher),
        range(&sqlcipher_runs),
        10_000.0 / on_sqlcipher.as_secs_f64(),
        ratio(on_sqlcipher)
    );
    println!(
        "  a clinic process on PostgreSQL (its process not locked, see ARCHITECTURE.md): {:.0} ms, {:.0} ops/s, {:.1}x",
        ms(on_postgres),
        10_000.0 / on_postgres.as_secs_f64(),
        ratio(on_postgres)
    );
    println!(
        "  the feed's rows into plain SQLite in the same transactions (floor): {:.0} ms, {:.1}x",
        ms(plain),
        ratio(plain)
    );
    println!("  the laptop's sealing of those batches, apart: {:.0} ms", ms(sealed.sealing));

    // 2. The laptop's whole round to a clinic process (sealing, the signed
    // hello, the TLS handshake, acknowledgements), then a sync with nothing to do.
    let mut server = start_clinic();
    let (round, device) = whole_round(&server, &root.path().join("laptop"), 10_000);
    println!("  the laptop's whole sync round to a clinic process on SQLCipher: {:.0} ms", ms(round));
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
    if only_push {
        return;
    }

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
