//! A 200-row Excel caseload with 10 bad rows, written by a real workbook
//! writer and read back by calamine, through the shipped example mapping:
//! the dry run names exactly those rows (by row, column and field, never a
//! value) and writes nothing; the import brings in the other 190, each whole;
//! running it again changes nothing. And a CSV file as Excel saves one.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use std::collections::BTreeMap;
use waymark_import::{import, Format, Mapping, RowOutcome};
use waymark_vault::kit::{clock, new_vault};

const HEADER: [&str; 17] = [
    "Case ref",
    "Date referred",
    "Date opened",
    "Referred by",
    "Reason for referral",
    "Consent to refer",
    "Client name",
    "Known as",
    "Date of birth",
    "Gender",
    "Ethnicity",
    "Address line 1",
    "Address line 2",
    "Postcode",
    "Interpreter",
    "Alleged perpetrator",
    "Relationship",
];

/// One good row: every other one names a perpetrator.
fn good(n: usize) -> BTreeMap<&'static str, String> {
    let mut row = BTreeMap::new();
    row.insert("Case ref", format!("IMP-{n:04}"));
    row.insert("Date referred", format!("{:02}/10/2026", 1 + n % 28));
    row.insert("Date opened", format!("{:02}/10/2026", 1 + n % 28));
    row.insert("Referred by", ["Police", "Self", "IDVA", "MARAC"][n % 4].to_owned());
    row.insert("Reason for referral", "Repeated unwanted contact".to_owned());
    row.insert("Consent to refer", if n.is_multiple_of(3) { "No" } else { "Yes" }.to_owned());
    row.insert("Client name", format!("Imported Person{n} (TEST)"));
    row.insert("Date of birth", "04/03/1991".to_owned());
    row.insert("Gender", "Female".to_owned());
    row.insert("Ethnicity", "White".to_owned());
    row.insert("Address line 1", format!("{n} Quillfeather Row"));
    row.insert("Postcode", "ZZ99 1QR".to_owned());
    row.insert("Interpreter", "No".to_owned());
    if n.is_multiple_of(2) {
        row.insert("Alleged perpetrator", format!("Former Partner{n} (TEST)"));
        row.insert("Relationship", "Ex-partner".to_owned());
    }
    row
}

/// The ten bad rows, by their index among the 200, what spoils each, and
/// the field the report must name; and the words that must never appear in it.
fn spoil(n: usize, row: &mut BTreeMap<&'static str, String>) -> Option<(&'static str, &'static str)> {
    let (column, value, field) = match n {
        7 => ("Case ref", "", "case.reference"),
        23 => ("Date referred", "the week before last", "case.referral.received_on"),
        41 => ("Referred by", "Postmistress Odalys", "case.referral.source"),
        58 => ("Client name", "", "victim.name"),
        77 => ("Date opened", "01/09/2026", "case.opened_on"),
        // Rows 101 and 102 share a reference: neither is guessed at.
        101 | 102 => ("Case ref", "IMP-SAME", "case.reference"),
        120 => ("Reason for referral", "Waits outside 120 Quillfeather Row every night", "case.referral.reason"),
        150 => ("Relationship", "Zorblax neighbour", "perpetrator.relationship"),
        199 => ("Ethnicity", "Martianesque", "victim.ethnicity"),
        _ => return None,
    };
    row.insert(column, value.to_owned());
    if n == 150 {
        row.insert("Alleged perpetrator", "Someone Else (TEST)".to_owned());
    }
    Some((column, field))
}

const NEVER_IN_A_REPORT: &[&str] =
    &["week before", "Postmistress", "Odalys", "Quillfeather", "Zorblax", "Martianesque", "Person", "Partner"];

/// The caseload as a workbook (the header on row 1, so the 200 rows are 2 to 201).
fn workbook() -> (Vec<u8>, BTreeMap<usize, (&'static str, &'static str)>) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    let mut bad = BTreeMap::new();
    for n in 0..200 {
        let mut row = good(n);
        if let Some(spoilt) = spoil(n, &mut row) {
            bad.insert(n + 2, spoilt);
        }
        for (c, name) in HEADER.iter().enumerate() {
            if let Some(value) = row.get(name).filter(|v| !v.is_empty()) {
                sheet.write_string(n as u32 + 1, c as u16, value).unwrap();
            }
        }
    }
    (book.save_to_buffer().unwrap(), bad)
}

fn ops_waiting(vault: &waymark_vault::Vault) -> usize {
    vault.outbox_batch(0, 100_000).unwrap().len()
}

#[test]
fn a_spreadsheet_caseload_comes_in_whole_rows_and_once() {
    // Why: a service moving to Waymark brings its open cases in on day one;
    // a bad row must be found before anything is written, named so the
    // spreadsheet's keeper can fix it without the report repeating anyone's
    // details, and a second run must not make a second copy of anyone.
    let dir = tempfile::tempdir().unwrap();
    let mut vault = new_vault(dir.path(), &clock());
    let mapping = Mapping::from_toml(Mapping::example()).unwrap();
    let (file, bad) = workbook();

    let dry = import(&mut vault, &file, Format::Workbook, &mapping, true).unwrap();
    assert_eq!((dry.rows, dry.imported, dry.failed, dry.already_held), (200, 190, 10, 0));
    let failed: BTreeMap<usize, Vec<String>> = dry
        .outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Failed { row, errors } => Some((*row, errors.iter().map(|e| e.field.clone()).collect())),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed.keys().copied().collect::<Vec<_>>(),
        bad.keys().copied().collect::<Vec<_>>(),
        "exactly the bad rows"
    );
    for (row, (column, field)) in &bad {
        assert_eq!(failed[row], [field.to_string()], "row {row}");
        let error = dry.errors.iter().find(|e| e.row == *row).unwrap();
        assert_eq!(error.column.as_deref(), Some(*column), "row {row}: the column to fix");
    }
    let said = serde_json::to_string(&dry).unwrap();
    for word in NEVER_IN_A_REPORT {
        assert!(!said.contains(word), "the report repeats a value: {word}");
    }
    assert_eq!(vault.caseload(&Default::default()).unwrap().len(), 0, "a dry run writes nothing");
    assert_eq!(ops_waiting(&vault), 0);

    let done = import(&mut vault, &file, Format::Workbook, &mapping, false).unwrap();
    assert_eq!((done.imported, done.failed, done.already_held), (190, 10, 0));
    assert_eq!(done.errors, dry.errors, "the dry run said what the import found");
    let cases = vault.caseload(&Default::default()).unwrap();
    assert_eq!(cases.len(), 190);
    // Each case whole: the victim with it, a perpetrator where the row names one.
    let case = vault.resolve_case("IMP-0010").unwrap();
    let file10 = vault.case_file(case).unwrap();
    let victim = file10.victim.as_ref().unwrap();
    assert_eq!(victim.name, "Imported Person10 (TEST)");
    assert_eq!(victim.date_of_birth.unwrap().to_string(), "1991-03-04", "day/month/year, as the mapping says");
    assert_eq!(victim.ethnicity, Some(waymark_domain::Ethnicity::White));
    assert!(victim.address.as_ref().unwrap().do_not_disclose, "an imported address is withheld by default");
    assert_eq!(file10.perpetrators.len(), 1);
    assert_eq!(
        file10.case.referral.source,
        waymark_domain::ReferralSource::IdvaOrDomesticAbuse,
        "\"IDVA\", by the mapping's values"
    );
    assert!(file10.case.referral.consent_recorded);
    assert!(vault.case_file(vault.resolve_case("IMP-0011").unwrap()).unwrap().perpetrators.is_empty());
    assert!(vault.find_case("IMP-0150").unwrap().is_none(), "the row whose perpetrator was wrong brought in nothing");
    // Imported cases sync like any others: each record is an op waiting for the clinic.
    let perpetrators = (0..200usize).filter(|n| n.is_multiple_of(2) && !bad.contains_key(&(n + 2))).count();
    let ops = ops_waiting(&vault);
    assert_eq!(ops, 190 * 2 + perpetrators);

    let again = import(&mut vault, &file, Format::Workbook, &mapping, false).unwrap();
    assert_eq!((again.imported, again.already_held, again.failed), (0, 190, 10));
    assert_eq!(vault.caseload(&Default::default()).unwrap().len(), 190, "running it again changes nothing");
    assert_eq!(ops_waiting(&vault), ops);

    // Each run is in the audit: counts, rows and the file's hash, never a value.
    let runs: Vec<serde_json::Value> = vault
        .audit_events(None, 2_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == waymark_vault::audit::AuditAction::Import)
        .map(|e| e.detail)
        .collect();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().any(|r| r["dry_run"] == true && r["imported"] == 190 && r["failed"] == 10));
    assert_eq!(runs[0]["failed_rows"].as_array().unwrap().len(), 10);
    let audited = serde_json::to_string(&runs).unwrap();
    assert!(NEVER_IN_A_REPORT.iter().all(|w| !audited.contains(w)));
    vault.audit_verify().unwrap();
}

#[test]
fn a_csv_saved_by_excel_reads_as_the_workbook_does() {
    // Why: many services keep the caseload as CSV; Excel writes it with a
    // byte-order mark and its own quoting, and a column the mapping names
    // but the file lacks must stop the run before anything is read.
    let dir = tempfile::tempdir().unwrap();
    let mut vault = new_vault(dir.path(), &clock());
    let mapping = Mapping::from_toml(Mapping::example()).unwrap();
    let mut text = String::from("\u{feff}");
    text.push_str(&HEADER.join(","));
    text.push('\n');
    text.push_str("CSV-1,02/11/2026,02/11/2026,Self,\"Messages, calls and gifts\",Y,\"Quill, Ada (TEST)\",,,,Prefer not to say,,,,Yes,,\n");
    let report = import(&mut vault, text.as_bytes(), Format::Csv, &mapping, false).unwrap();
    assert_eq!((report.imported, report.failed), (1, 0), "{report:?}");
    let file = vault.case_file(vault.resolve_case("CSV-1").unwrap()).unwrap();
    assert_eq!(file.case.referral.reason, "Messages, calls and gifts");
    assert!(file.victim.as_ref().unwrap().interpreter_needed, "Yes, as the mapping's values say");
    assert_eq!(file.victim.as_ref().unwrap().ethnicity, Some(waymark_domain::Ethnicity::PreferNotToSay));

    let short = "Case ref,Client name\nCSV-2,Someone (TEST)\n";
    let err = import(&mut vault, short.as_bytes(), Format::Csv, &mapping, true).unwrap_err();
    assert!(err.to_string().contains("is not in the spreadsheet's header row"), "{err}");
    let bad = Mapping::from_toml("[columns]\n\"Ref\" = \"case.advocate\"\n").unwrap_err();
    assert!(bad.to_string().contains("a field Waymark sets itself"), "{bad}");
    let unknown =
        Mapping::from_toml("[columns]\n\"Ref\" = \"case.reference\"\n\"X\" = \"victim.shoe_size\"\n").unwrap_err();
    assert!(unknown.to_string().contains("not a field"), "{unknown}");
    assert_eq!(Format::of("caseload.XLSX"), Some(Format::Workbook));
    assert_eq!(Format::of("caseload.txt"), None);
}

#[test]
fn a_mapping_or_a_sheet_that_would_overreach_is_refused_before_any_row() {
    // Why: a case's status, closure, risk and consents have screens and rules
    // of their own, a migrated case must keep its own dates, and a workbook
    // claiming a million rows must not be laid out in memory.
    let columns = "[columns]\n\"Ref\" = \"case.reference\"\n\"In\" = \"case.referral.received_on\"\n\"Open\" = \"case.opened_on\"\n";
    for (extra, said) in [
        ("\"S\" = \"case.status\"\n", "set on its own screen"),
        ("\"R\" = \"case.risk_level\"\n", "set on its own screen"),
        ("\"C\" = \"case.closure.feels_safer\"\n", "set on its own screen"),
        ("\"K\" = \"victim.consents+\"\n", "set on its own screen"),
        ("\"P\" = \"victim.case_id\"\n", "a field Waymark sets itself"),
    ] {
        let err = Mapping::from_toml(&format!("{columns}{extra}")).unwrap_err();
        assert!(err.to_string().contains(said), "{extra}: {err}");
    }
    let no_dates = Mapping::from_toml("[columns]\n\"Ref\" = \"case.reference\"\n").unwrap_err();
    assert!(no_dates.to_string().contains("case.referral.received_on"), "{no_dates}");
    let table = format!("{columns}[values.\"case.referral.received_on\"]\n\"x\" = {{ a = 1 }}\n");
    assert!(Mapping::from_toml(&table).unwrap_err().to_string().contains("not text"));

    let mapping = Mapping::from_toml(columns).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in ["Ref", "In", "Open"].iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    sheet.write_string(1_000_000, 0, "far away").unwrap();
    let bomb = book.save_to_buffer().unwrap();
    assert!(bomb.len() < 20_000, "a small file that claims a million rows");
    let dir = tempfile::tempdir().unwrap();
    let mut vault = new_vault(dir.path(), &clock());
    let err = import(&mut vault, &bomb, Format::Workbook, &mapping, true).unwrap_err();
    assert!(err.to_string().contains("larger than an import takes"), "{err}");
    // A row without its dates is named, not given today's.
    let text = "Ref,In,Open\nD-1,,01/10/2026\n";
    let report = import(&mut vault, text.as_bytes(), Format::Csv, &mapping, true).unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!((report.errors[0].row, report.errors[0].field.as_str()), (2, "case.referral.received_on"));
}
