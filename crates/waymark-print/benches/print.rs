//! Prints the figures the print issue asks for. Run with `cargo xtask bench-print`
//! (which also reports the binary size the print engine adds).
//!
//! 1. A safety plan, warm (the printer already built and used once): the
//!    median of 21 renders, against a one-line document through the same
//!    engine in the same run (Typst's fixed cost per document).
//! 2. A chronology of 500 incidents: the median of 5 renders, against reading
//!    the same case from the vault (the data cost) in the same run.
//! 3. The first render after start (fonts and the standard library built).
//!
//! Every render starts with Typst's memo cache empty (the engine evicts it so
//! no case text stays in memory), so repeats here are not cache hits.
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};
use waymark_domain::time::ManualClock;
use waymark_domain::Record;
use waymark_print::{Engine, Options, Printer, Request, Templates};
use waymark_vault::{Env, InitOptions, Mutation, Vault};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp folder");
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).single().expect("a valid time");
    let env = Env { clock: Arc::new(ManualClock::new(now)), rng: Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(1)) };
    let options = InitOptions { work_factor: 10, ..InitOptions::new("BENCH") };
    let mut vault =
        Vault::init(&dir.path().join("vault"), &SecretString::from("bench passphrase words".to_owned()), &options, env)
            .expect("vault");
    let demo = waymark_demo::DemoOptions {
        cases: 1,
        seed: 5,
        now,
        advocate: "BENCH".into(),
        incidents_per_case: Some(500),
        clinic_reviews: true,
    };
    let records = waymark_demo::generate(&demo).remove(0);
    let case = records.iter().find_map(|r| if let Record::Case(c) = r { Some(c.id) } else { None }).expect("a case");
    vault.commit(records.into_iter().map(Mutation::Create).collect()).expect("write");

    let (cold_build, printer) = timed(|| Printer::for_vault_dir(&dir.path().join("vault")).expect("printer"));
    let plan = Request::SafetyPlan { case, version: None };
    let discreet = Options { discreet: true, large_print: false, address_confirmed: false };
    let (first_plan, prepared) = timed(|| printer.prepare(&mut vault, &plan, discreet).expect("plan"));
    println!("safety plan pages: {}", prepared.pages());

    // A one-line document through the same engine: what any document costs.
    let engine = Engine::new();
    let templates = Templates::shipped().expect("templates").with_document("one-line.typ", "= Hello\n\nOne line.\n");
    let trivial = serde_json::json!({});
    let mut baseline = Vec::new();
    let mut plans = Vec::new();
    for _ in 0..21 {
        // Interleaved, so machine noise hits both alike.
        baseline.push(
            timed(|| engine.compile(templates.files(), "one-line.typ", &trivial, now, false).expect("trivial")).0,
        );
        plans.push(timed(|| printer.prepare(&mut vault, &plan, discreet).expect("plan")).0);
    }
    let plan_ms = ms(median(plans));
    let base_ms = ms(median(baseline));

    let chronology = Request::Chronology { case };
    let mut reads = Vec::new();
    let mut chronologies = Vec::new();
    let mut pages = 0;
    for _ in 0..5 {
        reads.push(timed(|| vault.case_file(case).expect("read")).0);
        let (took, prepared) =
            timed(|| printer.prepare(&mut vault, &chronology, Options::default()).expect("chronology"));
        pages = prepared.pages();
        chronologies.push(took);
    }
    let chron_ms = ms(median(chronologies));
    let read_ms = ms(median(reads));

    println!("printer built (fonts, library, templates): {:.1} ms", ms(cold_build));
    println!("first safety plan after start: {:.1} ms", ms(first_plan));
    println!(
        "safety plan, discreet, warm: {plan_ms:.1} ms (goal ≤ 300 ms); one-line document {base_ms:.1} ms; ratio {:.1}×",
        plan_ms / base_ms
    );
    println!(
        "chronology of 500 incidents ({pages} pages): {chron_ms:.0} ms (goal ≤ 2000 ms); reading the case {read_ms:.1} ms; ratio {:.1}×",
        chron_ms / read_ms
    );
}
