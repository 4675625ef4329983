//! Importing 1,000 spreadsheet rows (an Excel workbook through the shipped
//! example mapping, each row a case with its victim, every other one with a
//! perpetrator): the dry run and the import, their time and rows per second,
//! against writing the same 1,000 cases straight through the vault's write
//! path in the same run (no spreadsheet, no mapping).
#![allow(clippy::unwrap_used)] // A benchmark stops at its first failure, where it failed.

use std::time::Instant;
use waymark_domain::patch::Patch;
use waymark_import::{import, Format, Mapping};
use waymark_vault::kit::{clock, new_vault};

const ROWS: usize = 1_000;
const HEADER: [&str; 10] = [
    "Case ref",
    "Date referred",
    "Date opened",
    "Referred by",
    "Reason for referral",
    "Consent to refer",
    "Client name",
    "Date of birth",
    "Alleged perpetrator",
    "Relationship",
];

fn cells(n: usize) -> Vec<String> {
    let perpetrator = n.is_multiple_of(2);
    vec![
        format!("BEN-{n:05}"),
        format!("{:02}/10/2026", 1 + n % 28),
        format!("{:02}/10/2026", 1 + n % 28),
        "Police".into(),
        "Repeated unwanted contact".into(),
        "Yes".into(),
        format!("Bench Person{n} (TEST)"),
        "04/03/1991".into(),
        if perpetrator { format!("Bench Partner{n} (TEST)") } else { String::new() },
        if perpetrator { "Ex-partner".into() } else { String::new() },
    ]
}

fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    for n in 0..ROWS {
        for (c, value) in cells(n).iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            sheet.write_string(n as u32 + 1, c as u16, value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn main() {
    let mapping_text: String = {
        // The example's columns this sheet has, and all its value lists for them.
        let example = Mapping::example();
        let keep = |line: &str| !line.starts_with('"') || HEADER.iter().any(|h| line.starts_with(&format!("\"{h}\"")));
        let mut out = String::new();
        let mut in_columns = false;
        for line in example.lines() {
            if line.starts_with('[') {
                in_columns = line == "[columns]";
            }
            if !in_columns || keep(line) {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.replace("[values.\"victim.interpreter_needed\"]\n\"Yes\" = true\n\"No\" = false\n", "")
            .replace(
                "[values.\"victim.ethnicity\"]\n\"Asian\" = \"asian\"\n\"Black\" = \"black\"\n\"Mixed\" = \"mixed\"\n\"White\" = \"white\"\n\"Other\" = \"other_ethnic_group\"\n\"Prefer not to say\" = \"prefer_not_to_say\"\n",
                "",
            )
    };
    let mapping = Mapping::from_toml(&mapping_text).unwrap();
    let file = workbook();

    // Baseline: the same cases through the vault's write path, from field assignments.
    let dir = tempfile::tempdir().unwrap();
    let mut vault = new_vault(dir.path(), &clock());
    let rows: Vec<(Patch, Patch, Option<Patch>)> = (0..ROWS)
        .map(|n| {
            let c = cells(n);
            let case = Patch::parse(&[
                format!("reference={}", c[0]),
                "referral.received_on=2026-10-01".into(),
                "referral.source=police".into(),
                "opened_on=2026-10-01".into(),
                format!("referral.reason={}", c[4]),
                "referral.consent_recorded:=true".into(),
            ])
            .unwrap();
            let victim = Patch::parse(&[format!("name={}", c[6]), "date_of_birth=1991-03-04".into()]).unwrap();
            let perpetrator = (n.is_multiple_of(2)).then(|| {
                Patch::parse(&[format!("names+={}", c[8]), "relationship=ex_intimate_partner".into()]).unwrap()
            });
            (case, victim, perpetrator)
        })
        .collect();
    let started = Instant::now();
    for (case, victim, perpetrator) in &rows {
        vault.import_case(case, victim, perpetrator.as_ref(), false).unwrap();
    }
    let direct = started.elapsed().as_secs_f64();

    let dir = tempfile::tempdir().unwrap();
    let mut vault = new_vault(dir.path(), &clock());
    let started = Instant::now();
    let dry = import(&mut vault, &file, Format::Workbook, &mapping, true).unwrap();
    let checking = started.elapsed().as_secs_f64();
    assert_eq!((dry.imported, dry.failed), (ROWS, 0), "{:?}", dry.errors.first());
    let started = Instant::now();
    let done = import(&mut vault, &file, Format::Workbook, &mapping, false).unwrap();
    let importing = started.elapsed().as_secs_f64();
    assert_eq!(done.imported, ROWS);
    let started = Instant::now();
    let again = import(&mut vault, &file, Format::Workbook, &mapping, false).unwrap();
    let rerun = started.elapsed().as_secs_f64();
    assert_eq!(again.already_held, ROWS);

    println!(
        "import of {ROWS} rows from a {} KiB workbook: {importing:.2} s, {:.0} rows/s; the same cases straight through the write path took {direct:.2} s ({:.2}x)",
        file.len() / 1024,
        ROWS as f64 / importing,
        importing / direct
    );
    println!(
        "dry run of the same rows: {checking:.2} s, {:.0} rows/s; running the import again (nothing to do): {rerun:.2} s",
        ROWS as f64 / checking
    );
}
