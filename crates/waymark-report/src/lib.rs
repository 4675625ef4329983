//! The commissioner's quarterly return (`waymark_domain::report`) as the
//! files a manager hands over: CSV, an Excel workbook, and the data the
//! Typst template (`assets/templates/quarterly-return.typ`) lays out as a PDF.
//! All three are made from `report::table`, so they cannot disagree. The
//! laptop and the clinic both call this crate; it reads and writes nothing.
//! A subject access answer's files are made here too (`subject_access`).

pub mod subject_access;

use serde_json::{json, Value};
use waymark_domain::report::{table, Cell, QuarterlyReturn, ReturnScope, Section};
use waymark_domain::time::show_date;

/// The PDF's template, and its name among a templates folder's files.
pub const TEMPLATE: (&str, &[u8]) =
    ("quarterly-return.typ", include_bytes!("../../../assets/templates/quarterly-return.typ"));

/// The marking on every page and sheet: suppressed aggregate figures.
pub const MARKING: &str = "OFFICIAL";

/// What the symbols in a cell mean (the ONS's shorthand), for every output.
pub const SYMBOLS: &[(&str, &str)] = &[
    ("[c]", "Suppressed: a count of people small enough to identify someone, or one that would give such a count away"),
    ("[x]", "Not available here: held at the clinic, not on an advocate's laptop"),
    ("[z]", "Not applicable: nothing to measure this quarter"),
];

#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The writer failed on data it made itself: a bug, never the records.
    #[error("the {format} file could not be written")]
    Write { format: &'static str },
}

/// The file's name: the quarter and the scope, nothing else.
pub fn file_name(report: &QuarterlyReturn, extension: &str) -> String {
    let scope = match report.scope {
        ReturnScope::Service => "service",
        ReturnScope::Caseload => "caseload",
    };
    format!("quarterly-return-{}-{scope}.{extension}", report.quarter.wire())
}

fn scope_label(scope: ReturnScope) -> &'static str {
    match scope {
        ReturnScope::Service => "The whole service (the clinic's records)",
        ReturnScope::Caseload => "One advocate's caseload (this laptop's records)",
    }
}

/// A cell's number, its whole (for a share), and how it is shown.
fn cell_parts(cell: &Cell) -> (Option<f64>, Option<u32>, String) {
    match *cell {
        Cell::Count { n } => (Some(f64::from(n)), None, cell.shown()),
        Cell::Share { n, of } => (Some(f64::from(n)), Some(of), cell.shown()),
        Cell::Days { days, .. } => (Some(days), None, cell.shown()),
        _ => (None, None, cell.shown()),
    }
}

/// The CSV file's header: one column per part of a line of `report::table`.
pub const CSV_COLUMNS: [&str; 9] =
    ["quarter", "section", "figure_key", "figure", "breakdown_key", "breakdown", "value", "of", "as_shown"];

/// One line per figure and per row of its breakdown, under a header.
pub fn csv(report: &QuarterlyReturn) -> Result<Vec<u8>, ReportFileError> {
    let failed = |_| ReportFileError::Write { format: "CSV" };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_COLUMNS).map_err(failed)?;
    for (section, figure, row) in table(report) {
        let cell = row.map_or(&figure.value, |r| &r.value);
        let (value, of, shown) = cell_parts(cell);
        out.write_record([
            report.quarter.wire(),
            section.label().to_owned(),
            figure.key.wire().to_owned(),
            figure.label.clone(),
            row.map(|r| r.key.clone()).unwrap_or_default(),
            row.map(|r| r.label.clone()).unwrap_or_default(),
            value.map(|v| v.to_string()).unwrap_or_default(),
            of.map(|v| v.to_string()).unwrap_or_default(),
            shown,
        ])
        .map_err(failed)?;
    }
    out.into_inner().map_err(|_| ReportFileError::Write { format: "CSV" })
}

/// The workbook: the return on its first sheet (numbers as numbers, the
/// symbols as text), what the symbols mean on the second. Its properties
/// carry the title and the time it was made, never a person.
pub fn xlsx(report: &QuarterlyReturn, made_at: chrono::DateTime<chrono::Utc>) -> Result<Vec<u8>, ReportFileError> {
    use rust_xlsxwriter::{DocProperties, Format, Workbook};
    let failed = |_| ReportFileError::Write { format: "Excel" };
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(format!("Quarterly return {}", report.quarter.wire()))
            .set_author("")
            .set_creation_datetime(&made_at),
    );
    let bold = Format::new().set_bold();
    let indent = Format::new().set_indent(1);
    let sheet = book.add_worksheet();
    sheet.set_name(report.quarter.wire()).map_err(failed)?;
    sheet.write_string_with_format(0, 0, format!("Quarterly return: {}", report.period), &bold).map_err(failed)?;
    sheet.write_string(1, 0, scope_label(report.scope)).map_err(failed)?;
    sheet.write_string(2, 0, format!("Made on {}. {}", show_date(report.made_on), MARKING)).map_err(failed)?;
    let header = 4;
    for (col, name) in ["Section", "Figure", "Breakdown", "Value", "Of", "As shown"].iter().enumerate() {
        sheet.write_string_with_format(header, col as u16, *name, &bold).map_err(failed)?;
    }
    let mut last_section: Option<Section> = None;
    for (at, (section, figure, row)) in (header + 1..).zip(table(report)) {
        if last_section != Some(section) {
            sheet.write_string_with_format(at, 0, section.label(), &bold).map_err(failed)?;
            last_section = Some(section);
        }
        match row {
            None => sheet.write_string(at, 1, &figure.label).map_err(failed)?,
            Some(r) => sheet.write_string_with_format(at, 2, &r.label, &indent).map_err(failed)?,
        };
        let cell = row.map_or(&figure.value, |r| &r.value);
        let (value, of, shown) = cell_parts(cell);
        match value {
            Some(v) => sheet.write_number(at, 3, v).map_err(failed)?,
            None => sheet.write_string(at, 3, &shown).map_err(failed)?,
        };
        if let Some(of) = of {
            sheet.write_number(at, 4, f64::from(of)).map_err(failed)?;
        }
        sheet.write_string(at, 5, &shown).map_err(failed)?;
    }
    for (col, width) in [(0, 34.0), (1, 52.0), (2, 44.0), (3, 10.0), (4, 8.0), (5, 18.0)] {
        sheet.set_column_width(col, width).map_err(failed)?;
    }
    sheet.set_freeze_panes(header + 1, 0).map_err(failed)?;
    let notes = book.add_worksheet();
    notes.set_name("Notes").map_err(failed)?;
    notes.write_string_with_format(0, 0, "Symbol", &bold).map_err(failed)?;
    notes.write_string_with_format(0, 1, "Meaning", &bold).map_err(failed)?;
    for (i, (symbol, meaning)) in SYMBOLS.iter().enumerate() {
        notes.write_string(i as u32 + 1, 0, *symbol).map_err(failed)?;
        notes.write_string(i as u32 + 1, 1, *meaning).map_err(failed)?;
    }
    let rule = format!(
        "Counts of people by something about them from 1 to {} are suppressed; see docs/reports.md for every figure's definition.",
        report.suppress_below.saturating_sub(1)
    );
    notes.write_string(SYMBOLS.len() as u32 + 2, 0, rule).map_err(failed)?;
    notes.set_column_width(1, 100.0).map_err(failed)?;
    book.save_to_buffer().map_err(failed)
}

/// The template's data: each section's figures with their rows, as shown.
pub fn typst_data(report: &QuarterlyReturn, made_at: &str) -> Value {
    let sections: Vec<Value> = Section::ALL
        .iter()
        .map(|section| {
            let figures: Vec<Value> = report
                .figures
                .iter()
                .filter(|f| f.section == *section)
                .map(|f| {
                    json!({
                        "label": f.label,
                        "value": f.value.shown(),
                        "rows": f.breakdown.iter().map(|r| json!({"label": r.label, "value": r.value.shown()})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"title": section.label(), "figures": figures})
        })
        .collect();
    json!({
        "title": "Quarterly return",
        "period": report.period,
        "scope": scope_label(report.scope),
        "marking": MARKING,
        "made": made_at,
        "target_days": report.first_contact_target_days,
        "suppress_below": report.suppress_below,
        "symbols": SYMBOLS.iter().map(|(s, m)| json!({"symbol": s, "meaning": m})).collect::<Vec<_>>(),
        "sections": sections,
    })
}
