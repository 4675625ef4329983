//! `cargo xtask fuzz [COUNT] [SEED]`: the protocol fuzzer over a million
//! generated and mutated inputs by default. Prints the count per target and
//! every crash, and fails if there was one.
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

#[path = "../tests/support/fuzz.rs"]
mod fuzz;

fn main() {
    // cargo bench passes `--bench`; the numbers are ours.
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let count = numbers.first().copied().unwrap_or(1_000_000);
    let seed = numbers.get(1).copied().unwrap_or(1);
    let started = std::time::Instant::now();
    let outcome = fuzz::run(count, seed);
    println!("protocol fuzz, seed {seed}: {} inputs in {:.1} s", outcome.inputs, started.elapsed().as_secs_f64());
    for (target, n) in &outcome.by_target {
        println!("  {target:<16} {n:>9}");
    }
    println!("accepted by a parser: {}", outcome.accepted);
    println!("crashes: {}", outcome.crashes.len());
    for crash in &outcome.crashes {
        println!("  {crash}");
    }
    if !outcome.crashes.is_empty() {
        std::process::exit(1);
    }
}
