//! The return's three files read back by tools nobody here wrote: the `csv`
//! reader, calamine for the workbook (and `unzip` for its properties), and
//! `pdftotext` and `qpdf` for the PDF.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use calamine::{Data, Reader, Xlsx};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;
use waymark_domain::report::QuarterlyReturn;
use waymark_domain::report::{quarterly_return, FigureKey, Quarter, ReturnFacts};
use waymark_domain::rules::Rules;
use waymark_report::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Eleven police referrals and one self-referral this quarter, ten closed, five
/// of them safer: a shown cell, suppressed ones and a share whose rest is not small.
fn sample() -> QuarterlyReturn {
    let cases = (1..=12u128)
        .map(|n| {
            let source = if n == 12 { "self" } else { "police" };
            let mut doc = json!({
                "id": format!("00000000-0000-0000-0000-{n:012}"), "reference": format!("T-{n}"), "status": "open", "advocate": "ADV1",
                "opened_on": d(2026, 10, 1), "referral": {"received_on": d(2026, 10, 1), "source": source, "reason": "r", "consent_recorded": true}
            });
            if n <= 10 {
                doc["status"] = json!("closed");
                doc["closure"] = json!({"closed_on": d(2026, 11, 1), "reason": "support_complete", "feels_safer": n <= 5});
            }
            serde_json::from_value(doc).unwrap()
        })
        .collect();
    let facts = ReturnFacts { cases, ..ReturnFacts::default() };
    quarterly_return(&facts, Quarter::new(2026, 3).unwrap(), d(2027, 1, 10), &Rules::shipped().report)
}

fn made_at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 9, 30, 0).unwrap()
}

#[test]
fn the_csv_holds_every_figure_and_row_as_the_return_does() {
    let report = sample();
    let bytes = csv(&report).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let expected: usize = report.figures.iter().map(|f| 1 + f.breakdown.len()).sum();
    assert_eq!(rows.len(), expected, "one line per figure and per breakdown row");
    let line = |figure: &str, breakdown: &str| {
        rows.iter().find(|r| &r[2] == figure && &r[4] == breakdown).unwrap_or_else(|| panic!("{figure}/{breakdown}"))
    };
    assert_eq!(&line("referrals_received", "")[6], "12");
    assert_eq!(&line("referrals_received", "probation")[6], "0", "zero is shown: it identifies no one");
    // One self-referral is a cell that could identify someone; the police row
    // then goes too, or it would give the 1 away by subtraction.
    assert_eq!(&line("referrals_received", "self")[8], "[c]");
    assert_eq!(&line("referrals_received", "self")[6], "", "a suppressed cell carries no number");
    assert_eq!(&line("referrals_received", "police")[8], "[c]");
    assert_eq!(&line("feels_safer", "")[8], "5 of 10 (50%)");
    assert_eq!(&line("feels_safer", "")[7], "10");
    assert_eq!(&line("mappa_referrals", "")[8], "[x]", "the laptop's return does not hold pathways");
    assert_eq!(file_name(&report, "csv"), "quarterly-return-2026-27-Q3-caseload.csv");
}

#[test]
fn the_workbook_reads_back_in_a_real_reader_with_numbers_as_numbers() {
    let report = sample();
    let bytes = xlsx(&report, made_at()).unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), vec!["2026-27-Q3".to_owned(), "Notes".to_owned()]);
    let sheet = book.worksheet_range("2026-27-Q3").unwrap();
    let row_of =
        |label: &str| sheet.rows().find(|r| r.get(1).is_some_and(|c| *c == label)).unwrap_or_else(|| panic!("{label}"));
    assert_eq!(row_of(FigureKey::ReferralsReceived.label())[3], Data::Float(12.0));
    assert_eq!(row_of(FigureKey::FeelsSafer.label())[3], Data::Float(5.0));
    assert_eq!(row_of(FigureKey::FeelsSafer.label())[4], Data::Float(10.0));
    assert_eq!(row_of(FigureKey::MappaReferrals.label())[3], Data::String("[x]".into()));
    let shown: usize = sheet.rows().filter(|r| r.get(5).is_some_and(|c| !c.to_string().is_empty())).count();
    assert_eq!(
        shown,
        1 + report.figures.iter().map(|f| 1 + f.breakdown.len()).sum::<usize>(),
        "the header and every line"
    );
    // The workbook's properties say what and when (the time passed in), and name no one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name(&report, "xlsx"));
    std::fs::write(&path, &bytes).unwrap();
    let core = waymark_typeset::kit::run_tool("unzip", &["-p", path.to_str().unwrap(), "docProps/core.xml"]);
    assert!(core.contains("Quarterly return 2026-27-Q3"), "{core}");
    assert!(core.contains("2027-01-10T09:30:00Z"), "{core}");
    assert!(!core.contains("<dc:creator>") || core.contains("<dc:creator></dc:creator>"), "{core}");
}

#[test]
fn the_pdf_shows_every_figure_and_is_a_valid_file() {
    let report = sample();
    let files: Vec<(&str, &[u8])> = vec![
        TEMPLATE,
        ("common.typ", include_bytes!("../../../assets/templates/common.typ")),
        ("service.toml", include_bytes!("../../../assets/templates/service.toml")),
        ("logo.svg", include_bytes!("../../../assets/templates/logo.svg")),
    ];
    let data = typst_data(&report, "10/01/2027 09:30");
    let compiled = waymark_typeset::Engine::new().compile(files, TEMPLATE.0, &data, made_at(), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name(&report, "pdf"));
    std::fs::write(&path, &compiled.pdf).unwrap();
    waymark_typeset::kit::assert_structurally_valid(&path);
    let text = waymark_typeset::kit::pages_of(&path).join("\n").split_whitespace().collect::<Vec<_>>().join(" ");
    for figure in &report.figures {
        assert!(text.contains(&figure.label.split_whitespace().collect::<Vec<_>>().join(" ")), "{}", figure.label);
    }
    assert!(text.contains("Q3 2026/27 (1 October to 31 December 2026)"));
    assert!(text.contains("5 of 10 (50%)"));
    assert!(text.contains("[c]"));
    assert!(!text.contains("T-1"), "no case reference");
}
