//! A short run of the protocol fuzzer, so every CI run throws some
//! thousands of hostile inputs at each parser. `cargo xtask fuzz` runs a
//! million and prints the figures.

#[path = "support/fuzz.rs"]
mod fuzz;

#[test]
fn no_hostile_input_crashes_a_parser() {
    // A fresh seed each day widens coverage over time; a failure prints it to reproduce.
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    let outcome = fuzz::run(100_000, seed);
    eprintln!(
        "protocol fuzz (seed {seed}): {} inputs, {} accepted, {:?}",
        outcome.inputs, outcome.accepted, outcome.by_target
    );
    assert_eq!(outcome.inputs, 100_000);
    // Every target ran, so a change that starved one would show.
    assert!(outcome.by_target.len() >= 10, "{:?}", outcome.by_target);
    assert!(outcome.crashes.is_empty(), "seed {seed}: {:#?}", outcome.crashes);
}
