//! Prints the figures issue 2 asks for. Run with `cargo xtask bench`.
//!
//! 1. Unlock (key file + open database) at the shipped scrypt work factor.
//! 2. Encryption overhead: the same workload on SQLCipher with a key and on a
//!    plain SQLite file, in one run, as a ratio. Reads are interleaved
//!    (encrypted, plain, encrypted, ...) so machine noise hits both alike.
//! 3. Caseload listing of 500 cases with counts; one case with 200 incidents.
//! 4. Vault size for the workload, and where the bytes go.
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use age::secrecy::SecretString;
use std::path::Path;
use std::time::{Duration, Instant};
use waymark_demo::{generate, generate_case, DemoOptions};
use waymark_domain::CaseId;
use waymark_vault::keyfile::KeyFile;
use waymark_vault::queries::CaseloadFilter;
use waymark_vault::{Env, InitOptions, Mutation, Vault, SHIPPED_WORK_FACTOR};

const CASES: u32 = 500;
const INCIDENTS_PER_CASE: u32 = 40;
const RUNS: usize = 31;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map(|es| es.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// Writes the workload through the one write path and returns the write time
/// and the id of a 200-incident case added after it.
fn fill(vault: &mut Vault) -> (Duration, CaseId) {
    let options = DemoOptions {
        cases: CASES,
        seed: 42,
        now: waymark_domain::time::Clock::now(&waymark_vault::SystemClock),
        advocate: "BENCH".into(),
        incidents_per_case: Some(INCIDENTS_PER_CASE),
        clinic_reviews: true,
    };
    let caseload = generate(&options);
    let (write, ()) = time(|| {
        for case in caseload {
            // One transaction per case, op log and audit included.
            vault.commit(case.into_iter().map(Mutation::Create).collect()).expect("write");
        }
    });
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
    let (_, big) = generate_case(&mut rng, 9999, &DemoOptions { incidents_per_case: Some(200), ..options });
    let big_id = big[0].case_id().expect("case");
    vault.commit(big.into_iter().map(Mutation::Create).collect()).expect("write big case");
    (write, big_id)
}

fn list(v: &mut Vault) -> Duration {
    let (d, rows) = time(|| v.caseload(&CaseloadFilter::default()).expect("list"));
    assert_eq!(rows.len(), CASES as usize + 1);
    d
}

fn search(v: &mut Vault) -> Duration {
    let (d, rows) =
        time(|| v.caseload(&CaseloadFilter { search: Some("Testwood".into()), ..Default::default() }).expect("search"));
    assert!(!rows.is_empty());
    d
}

fn show(v: &mut Vault, case: CaseId) -> Duration {
    let (d, file) = time(|| v.case_file(case).expect("show"));
    assert_eq!(file.incidents.len(), 200);
    d
}

fn main() {
    println!(
        "waymark vault benchmark ({CASES} cases x {INCIDENTS_PER_CASE} incidents = {} incidents)\n",
        CASES * INCIDENTS_PER_CASE
    );
    let pass = SecretString::from("three random words here".to_owned());

    // 1. Unlocking at the shipped work factor, and one step either side for context.
    let dir = tempfile::tempdir().expect("tempdir");
    Vault::init(dir.path(), &pass, &InitOptions::new("BENCH"), Env::system()).expect("init").lock();
    let unlock = median(
        (0..5)
            .map(|_| {
                let (d, v) = time(|| Vault::unlock(dir.path(), &pass, Env::system()).expect("unlock"));
                v.lock();
                d
            })
            .collect(),
    );
    println!("1. unlock (key file + open database), scrypt N = 2^{SHIPPED_WORK_FACTOR}, r = 8, p = 1 (OWASP minimum):");
    println!("   median of 5: {:.0} ms   (goal <= 1000 ms)", ms(unlock));
    for wf in [SHIPPED_WORK_FACTOR - 1, SHIPPED_WORK_FACTOR + 1] {
        let file = KeyFile::wrap(&waymark_vault::bench_support::DbKey::generate(), &pass, wf, None).expect("wrap");
        let (d, _) = time(|| file.unwrap_with_passphrase(&pass).expect("unwrap"));
        println!("   for comparison, the key file alone at N = 2^{wf}: {:.0} ms", ms(d));
    }

    // 2-4. The same workload, encrypted and plain, in one process.
    let enc_dir = tempfile::tempdir().expect("tempdir");
    let plain_dir = tempfile::tempdir().expect("tempdir");
    let mut enc = Vault::init(
        enc_dir.path(),
        &pass,
        &InitOptions { work_factor: 10, ..InitOptions::new("BENCH") },
        Env::system(),
    )
    .expect("init");
    let mut plain = Vault::bench_plaintext(plain_dir.path(), "BENCH", Env::system()).expect("plain");
    let (enc_write, enc_big) = fill(&mut enc);
    let (plain_write, plain_big) = fill(&mut plain);
    let (mut el, mut pl, mut es, mut ps, mut eh, mut ph) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut ea = vec![];
    for _ in 0..RUNS {
        el.push(list(&mut enc));
        pl.push(list(&mut plain));
        es.push(search(&mut enc));
        ps.push(search(&mut plain));
        eh.push(show(&mut enc, enc_big));
        ph.push(show(&mut plain, plain_big));
        let file = enc.case_file(enc_big).expect("show");
        ea.push(time(|| file.address_mentions()).0);
    }
    let ea = median(ea);
    let (el, pl, es, ps, eh, ph) = (median(el), median(pl), median(es), median(ps), median(eh), median(ph));

    println!("\n2. encryption overhead (SQLCipher with key vs plain SQLite file, same workload, same run):");
    println!("   {:<40} {:>12} {:>12} {:>7}", "", "encrypted", "plain", "ratio");
    let row = |name: &str, e: Duration, p: Duration| {
        println!("   {name:<40} {:>9.1} ms {:>9.1} ms {:>6.2}x", ms(e), ms(p), e.as_secs_f64() / p.as_secs_f64())
    };
    row("write 20,000 incidents over 500 cases", enc_write, plain_write);
    row("list caseload, counts, next hearing", el, pl);
    row("search by name", es, ps);
    row("whole workload (write + list + search)", enc_write + el + es, plain_write + pl + ps);
    row("reads only (list + search)", el + es, pl + ps);
    println!("   goal: whole-workload ratio <= 1.30x   (medians of {RUNS} interleaved runs for reads)");

    println!("\n3. caseload listing of {} cases with counts: {:.1} ms (goal <= 20 ms)", CASES + 1, ms(el));
    println!("   one full case with 200 incidents:   {:.1} ms (goal <= 20 ms)", ms(eh));
    println!("   (plain SQLite for the same case: {:.1} ms)", ms(ph));
    println!(
        "   the address guard over that case's file (the header's warning): {:.1} ms, {:.2}x showing the case",
        ms(ea),
        ea.as_secs_f64() / eh.as_secs_f64()
    );

    // The payload is what a person wrote and what must be kept about it: every
    // record document, the op log's changes and the audit events.
    let documents = waymark_domain::RecordKind::ALL
        .iter()
        .map(|kind| format!("(SELECT coalesce(sum(length(doc)), 0) FROM {})", kind.table()))
        .collect::<Vec<_>>()
        .join(" + ");
    let breakdown: Vec<(&str, i64)> = [
        ("record documents", format!("SELECT {documents}")),
        ("op log changes", "SELECT sum(length(changes)) FROM ops".to_owned()),
        ("audit events", "SELECT sum(length(detail) + length(hash) + length(at) + length(coalesce(record_id, '')) + length(coalesce(case_id, ''))) FROM audit".to_owned()),
    ]
    .into_iter()
    .map(|(name, sql)| (name, enc.bench_scalar(&sql)))
    .collect();
    let payload: i64 = breakdown.iter().map(|(_, bytes)| bytes).sum();
    let pages = enc.bench_scalar("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
    let largest = enc.bench_table_sizes(8);
    enc.lock();
    plain.lock();
    let encrypted = folder_size(enc_dir.path()) as i64;
    println!(
        "\n4. vault size for the workload: {:.1} MiB encrypted, {:.1} MiB plain",
        mib(encrypted),
        mib(folder_size(plain_dir.path()) as i64)
    );
    for (name, bytes) in breakdown {
        println!("   {name:<18} {:>6.1} MiB of payload", mib(bytes));
    }
    println!(
        "   database pages     {:>6.1} MiB (payload plus indexes, page headers and SQLCipher's per-page IV and HMAC)",
        mib(pages)
    );
    println!(
        "   vault / payload    {:>6.2}x   ({:.1} MiB for {:.1} MiB; goal <= 2.00x)",
        encrypted as f64 / payload as f64,
        mib(encrypted),
        mib(payload)
    );
    println!("   largest tables and indexes (pages on disk):");
    for (name, bytes) in largest {
        println!("     {name:<32} {:>6.1} MiB", mib(bytes));
    }
}
