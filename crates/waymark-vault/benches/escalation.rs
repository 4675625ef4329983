//! Prints the figures issue 16 asks for. Run with `cargo xtask bench-escalation`.
//!
//! 1. The escalation analysis over the 500-case demo caseload (20,000
//!    incidents) as the caseload column reads it from the vault, split into
//!    reading the records and the analysis itself, against listing the
//!    caseload without it in the same run.
//! 2. One case with 500 incidents.
//! 3. Detection on a few hundred generated cases: the generator's own label
//!    (steady or escalating) is the ground truth; misses and false alarms are
//!    reported, not tuned away.
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use waymark_demo::{generate_case, generate_labelled, Course, DemoOptions};
use waymark_domain::escalation::{analyse, CourseOfConduct, Escalation, IncidentFacts};
use waymark_domain::rules::Rules;
use waymark_domain::*;
use waymark_vault::queries::CaseloadFilter;
use waymark_vault::{Env, InitOptions, Mutation, Vault};

const CASES: u32 = 500;
const INCIDENTS_PER_CASE: u32 = 40;
const RUNS: usize = 21;
const DETECTION_CASES: u32 = 400;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// One case's records, as the analysis reads them.
#[derive(Default)]
struct CaseRecords {
    opened_on: Option<chrono::NaiveDate>,
    incidents: Vec<IncidentFacts>,
    orders: Vec<ProtectiveOrder>,
    breaches: Vec<Breach>,
    assessments: Vec<RiskAssessment>,
}

impl CaseRecords {
    fn of(records: &[Record]) -> Self {
        let mut out = CaseRecords::default();
        for record in records {
            match record {
                Record::Case(c) => out.opened_on = Some(c.opened_on),
                Record::Incident(i) => out.incidents.push(IncidentFacts::from(i)),
                Record::ProtectiveOrder(o) => out.orders.push(o.clone()),
                Record::Breach(b) => out.breaches.push(b.clone()),
                Record::RiskAssessment(a) => out.assessments.push(a.clone()),
                _ => {}
            }
        }
        out
    }

    fn analyse(&self, now: chrono::DateTime<chrono::Utc>, rules: &Rules) -> Escalation {
        let course = CourseOfConduct {
            opened_on: self.opened_on.unwrap(),
            incidents: &self.incidents,
            orders: &self.orders,
            breaches: &self.breaches,
            assessments: &self.assessments,
            reviews: &[],
        };
        analyse(&course, now, &rules.escalation)
    }
}

fn main() {
    let now = waymark_domain::time::Clock::now(&waymark_vault::SystemClock);
    let rules = Rules::shipped();
    let options = DemoOptions {
        cases: CASES,
        seed: 42,
        now,
        advocate: "BENCH".into(),
        incidents_per_case: Some(INCIDENTS_PER_CASE),
        clinic_reviews: true,
    };
    println!(
        "waymark escalation benchmark ({CASES} cases x {INCIDENTS_PER_CASE} incidents = {} incidents)\n",
        CASES * INCIDENTS_PER_CASE
    );
    let labelled = generate_labelled(&options);
    let dir = tempfile::tempdir().unwrap();
    let pass = age::secrecy::SecretString::from("three random words here".to_owned());
    let mut vault =
        Vault::init(dir.path(), &pass, &InitOptions { work_factor: 10, ..InitOptions::new("BENCH") }, Env::system())
            .unwrap();
    for (_, records) in &labelled {
        vault.commit(records.iter().cloned().map(Mutation::Create).collect()).unwrap();
    }
    let in_memory: Vec<CaseRecords> = labelled.iter().map(|(_, r)| CaseRecords::of(r)).collect();

    let (mut whole, mut alone, mut listing, mut read) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        whole.push(time(|| vault.escalations(now).unwrap()).0);
        alone.push(time(|| in_memory.iter().map(|c| c.analyse(now, &rules).findings.len()).sum::<usize>()).0);
        listing.push(time(|| vault.caseload(&CaseloadFilter::default()).unwrap()).0);
        read.push(time(|| vault.list_all::<Incident>().unwrap().len()).0);
    }
    let (whole, alone, listing, read) = (median(whole), median(alone), median(listing), median(read));
    println!("1. the whole caseload's escalation, as the caseload column computes it (medians of {RUNS}):");
    println!("   read every case's records from the vault and analyse: {:>7.1} ms   (goal <= 50 ms)", ms(whole));
    println!("   of which the analysis alone (records already in memory): {:>5.1} ms", ms(alone));
    println!("   baseline, reading the 20,000 incidents whole as the case screen does: {:.1} ms", ms(read));
    println!(
        "   column / reading the incidents whole: {:.2}x;  the caseload listing with its column: {:.1} ms",
        whole.as_secs_f64() / read.as_secs_f64(),
        ms(listing)
    );

    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    let (_, big) = generate_case(&mut rng, 9999, &DemoOptions { incidents_per_case: Some(500), ..options.clone() });
    let big_records = CaseRecords::of(&big);
    let big_id = big[0].case_id().unwrap();
    vault.commit(big.into_iter().map(Mutation::Create).collect()).unwrap();
    let one = median((0..RUNS).map(|_| time(|| big_records.analyse(now, &rules)).0).collect());
    let file = median((0..RUNS).map(|_| time(|| vault.case_file(big_id).unwrap()).0).collect());
    println!("\n2. one case with 500 incidents: the analysis {:.2} ms   (goal <= 5 ms)", ms(one));
    println!("   the whole case file it is part of (read, amendments, analysis, patterns): {:.1} ms", ms(file));

    let detection =
        generate_labelled(&DemoOptions { cases: DETECTION_CASES, seed: 16, incidents_per_case: None, ..options });
    let mut counts: HashMap<(Course, bool), u32> = HashMap::new();
    let mut by_sign: HashMap<(Course, EscalationSign), u32> = HashMap::new();
    for (course, records) in &detection {
        let found = CaseRecords::of(records).analyse(now, &rules);
        *counts.entry((*course, found.escalating())).or_default() += 1;
        for sign in found.signs() {
            *by_sign.entry((*course, sign)).or_default() += 1;
        }
    }
    let n = |course, flagged| counts.get(&(course, flagged)).copied().unwrap_or(0);
    println!("\n3. detection on {DETECTION_CASES} generated cases (seed 16; 4 to 60 incidents each):");
    println!(
        "   drawn escalating: {:>3}   flagged {:>3}   missed {:>3}",
        n(Course::Escalating, true) + n(Course::Escalating, false),
        n(Course::Escalating, true),
        n(Course::Escalating, false)
    );
    println!(
        "   drawn steady:     {:>3}   flagged {:>3} (false alarms)   quiet {:>3}",
        n(Course::Steady, true) + n(Course::Steady, false),
        n(Course::Steady, true),
        n(Course::Steady, false)
    );
    println!("   signs raised (escalating / steady cases):");
    for sign in EscalationSign::ALL {
        let get = |course| by_sign.get(&(course, *sign)).copied().unwrap_or(0);
        println!("     {:<40} {:>4} / {:>4}", sign.label(), get(Course::Escalating), get(Course::Steady));
    }
}
