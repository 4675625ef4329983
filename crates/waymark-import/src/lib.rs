//! Bringing a caseload in from a spreadsheet (CSV, or an Excel or
//! OpenDocument workbook read by calamine), so a service moving to Waymark
//! types nothing twice. A mapping file (`assets/import/example-mapping.toml`)
//! says which column fills which field of the case, its victim and its
//! perpetrator. Each row is one case: its three records are checked by the
//! same rules and written by the same one write path as any other, in one
//! transaction, so a row comes in whole or not at all. A case whose
//! reference the vault already holds is left as it is, so running the same
//! file again changes nothing. A dry run checks every row exactly as the
//! import would (the write path, rolled back) and writes no case; that the
//! file was checked is itself in the audit trail, as each import is.
//!
//! What is reported names the row, the column and the field, and the rule a
//! value broke, never the value: the report may be shown, logged or sent to
//! whoever keeps the spreadsheet.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use waymark_domain::patch::{Assignment, Op, Patch};
use waymark_domain::{FieldError, RecordKind};
use waymark_vault::{Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping file cannot be used; `field` names its part.
    #[error("the mapping file's {field} {message}")]
    Mapping { field: String, message: String },
    /// The spreadsheet cannot be read at all (no row is reported then).
    #[error("the spreadsheet could not be read: {what}")]
    Unreadable { what: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl ImportError {
    fn mapping(field: impl Into<String>, message: impl Into<String>) -> Self {
        ImportError::Mapping { field: field.into(), message: message.into() }
    }

    /// The stable error code the CLI prints.
    pub fn code(&self) -> waymark_domain::codes::ErrorCode {
        match self {
            ImportError::Vault(e) => e.code(),
            _ => waymark_domain::codes::ErrorCode::Invalid,
        }
    }
}

/// Which of a row's three records a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Case,
    Victim,
    Perpetrator,
}

impl Part {
    fn kind(self) -> RecordKind {
        match self {
            Part::Case => RecordKind::Case,
            Part::Victim => RecordKind::Victim,
            Part::Perpetrator => RecordKind::Perpetrator,
        }
    }
    fn wire(self) -> &'static str {
        match self {
            Part::Case => "case",
            Part::Victim => "victim",
            Part::Perpetrator => "perpetrator",
        }
    }
}

/// One column's place in a record.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    part: Part,
    /// The field's dotted path inside its record (`referral.received_on`).
    path: String,
    append: bool,
}

impl Target {
    /// `case.referral.received_on`, as the report names it.
    fn field(&self) -> String {
        format!("{}.{}", self.part.wire(), self.path)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    sheet: SheetFile,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetFile {
    name: Option<String>,
    date_format: Option<String>,
}

/// A mapping file, checked: every column names a field a person may fill.
#[derive(Debug, Clone)]
pub struct Mapping {
    sheet: Option<String>,
    date_format: String,
    columns: Vec<(String, Target)>,
    /// By field (`case.referral.source`): a cell's words to the value kept.
    values: HashMap<String, HashMap<String, Value>>,
}

/// The largest spreadsheet an import reads, and the most rows and columns of
/// its sheet: a caseload is hundreds of rows, and a file that claims millions
/// is refused before it is laid out in memory.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
pub const MAX_ROWS: u32 = 100_000;
pub const MAX_COLUMNS: u32 = 1_000;

/// Each row must say when its referral came in and when its case opened:
/// left to default, they would be the day of the import, and a migrated
/// caseload would count as this quarter's new work in the commissioner's return.
const REQUIRED: [&str; 3] = ["reference", "referral.received_on", "opened_on"];

/// Fields whose text cells are dates in the mapping's format.
fn is_date_field(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.ends_with("_on") || last == "date_of_birth"
}

impl Mapping {
    pub fn from_toml(text: &str) -> Result<Mapping, ImportError> {
        let file: MappingFile =
            toml::from_str(text).map_err(|e| ImportError::mapping("text", format!("is not valid: {}", e.message())))?;
        let mut columns = Vec::new();
        for (column, target) in &file.columns {
            let at = || format!("column \"{column}\"");
            let (target, append) = match target.strip_suffix('+') {
                Some(t) => (t, true),
                None => (target.as_str(), false),
            };
            let (part, path) = target
                .split_once('.')
                .and_then(|(part, path)| {
                    let part = match part {
                        "case" => Part::Case,
                        "victim" => Part::Victim,
                        "perpetrator" => Part::Perpetrator,
                        _ => return None,
                    };
                    Some((part, path))
                })
                .ok_or_else(|| {
                    ImportError::mapping(at(), "must name case.<field>, victim.<field> or perpetrator.<field>")
                })?;
            let rules = part.kind().rules();
            let top = path.split('.').next().unwrap_or(path);
            if rules.protected.contains(&top) || rules.clinic_owned.contains(&top) || top == "case_id" {
                return Err(ImportError::mapping(at(), "names a field Waymark sets itself"));
            }
            let presented =
                rules.presented.iter().find(|p| p.field == path || path.starts_with(&format!("{}.", p.field)));
            match presented {
                None => {
                    return Err(ImportError::mapping(
                        at(),
                        format!("names {}.{path}, which is not a field", part.wire()),
                    ))
                }
                // Status, closure, the current risk, consents and lists of people have screens and rules
                // of their own (closing a case asks its outcomes; a risk level comes from an assessment).
                Some(p) if p.asked == waymark_domain::record::Asked::OwnScreen => {
                    return Err(ImportError::mapping(
                        at(),
                        format!("names {}.{path}, which is set on its own screen, not imported", part.wire()),
                    ))
                }
                Some(_) => {}
            }
            columns.push((column.clone(), Target { part, path: path.to_owned(), append }));
        }
        for field in REQUIRED {
            if !columns.iter().any(|(_, t)| t.part == Part::Case && t.path == field && !t.append) {
                return Err(ImportError::mapping(
                    "columns",
                    format!("must map a column to case.{field}: every imported case needs it"),
                ));
            }
        }
        let mut values = HashMap::new();
        for (field, words) in file.values {
            if !columns.iter().any(|(_, t)| t.field() == field) {
                return Err(ImportError::mapping(format!("values.\"{field}\""), "is for a field no column fills"));
            }
            let words = words
                .into_iter()
                .map(|(w, v)| {
                    let scalar =
                        matches!(v, toml::Value::String(_) | toml::Value::Boolean(_) | toml::Value::Integer(_));
                    let v = serde_json::to_value(v).ok().filter(|_| scalar).ok_or_else(|| {
                        ImportError::mapping(
                            format!("values.\"{field}\""),
                            "holds a value that is not text, a whole number or true/false",
                        )
                    })?;
                    Ok((w.trim().to_lowercase(), v))
                })
                .collect::<Result<HashMap<_, _>, ImportError>>()?;
            values.insert(field, words);
        }
        Ok(Mapping {
            sheet: file.sheet.name,
            date_format: file.sheet.date_format.unwrap_or_else(|| "%d/%m/%Y".into()),
            columns,
            values,
        })
    }

    /// The shipped example, for a typical spreadsheet.
    pub fn example() -> &'static str {
        include_str!("../../../assets/import/example-mapping.toml")
    }
}

/// A cell as the spreadsheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(chrono::NaiveDate),
    /// A formula's error (`#N/A`, `#REF!`): never imported as text.
    Error,
}

/// The file's format, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    /// An Excel workbook (xlsx, xlsm), read cell by cell by calamine.
    Workbook,
}

impl Format {
    pub fn of(file_name: &str) -> Option<Format> {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" | "xlsm" => Some(Format::Workbook),
            _ => None,
        }
    }
}

/// The header and the rows of the sheet, each row with its number as the
/// spreadsheet shows it (the header is row 1).
pub struct Sheet {
    header: Vec<String>,
    rows: Vec<(usize, Vec<Cell>)>,
}

pub fn read_sheet(bytes: &[u8], format: Format, mapping: &Mapping) -> Result<Sheet, ImportError> {
    let unreadable = |what: &str| ImportError::Unreadable { what: what.to_owned() };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(unreadable("it is larger than an import takes (50 MiB)"));
    }
    let mut all: Vec<Vec<Cell>> = Vec::new();
    match format {
        Format::Csv => {
            // A workbook saved as CSV by Excel starts with a byte-order mark.
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            for record in reader.records() {
                let record = record.map_err(|_| unreadable("a line is not CSV (or not UTF-8 text)"))?;
                all.push(
                    record
                        .iter()
                        .map(|t| if t.trim().is_empty() { Cell::Empty } else { Cell::Text(t.to_owned()) })
                        .collect(),
                );
            }
        }
        Format::Workbook => {
            use calamine::{DataRef, Reader, Xlsx};
            let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
                .map_err(|_| unreadable("it is not an Excel workbook (.xlsx)"))?;
            let name = match &mapping.sheet {
                Some(name) => name.clone(),
                None => book.sheet_names().first().cloned().ok_or_else(|| unreadable("the workbook has no sheet"))?,
            };
            let mut reader = book
                .worksheet_cells_reader(&name)
                .map_err(|_| ImportError::mapping("sheet.name", "names a sheet the workbook does not have"))?;
            // Cell by cell, never as the dense rectangle the sheet claims: two cells a
            // million rows apart would otherwise be laid out whole in memory.
            let mut cells: BTreeMap<(u32, u32), Cell> = BTreeMap::new();
            while let Some(cell) = reader.next_cell().map_err(|_| unreadable("a cell of the sheet cannot be read"))? {
                let (row, col) = cell.get_position();
                if row >= MAX_ROWS || col >= MAX_COLUMNS {
                    return Err(unreadable("the sheet is larger than an import takes (100,000 rows, 1,000 columns)"));
                }
                let text = |t: &str| if t.trim().is_empty() { Cell::Empty } else { Cell::Text(t.to_owned()) };
                let value = match cell.get_value() {
                    DataRef::Empty => continue,
                    DataRef::String(t) => text(t),
                    DataRef::SharedString(t) => text(t),
                    DataRef::Int(n) => Cell::Number(*n as f64),
                    DataRef::Float(f) => Cell::Number(*f),
                    DataRef::Bool(b) => Cell::Bool(*b),
                    DataRef::DateTime(dt) => {
                        let (y, m, d, ..) = dt.to_ymd_hms_milli();
                        chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                            .map_or(Cell::Error, Cell::Date)
                    }
                    DataRef::DateTimeIso(t) => Cell::Text(t.chars().take(10).collect()),
                    DataRef::DurationIso(t) => Cell::Text(t.clone()),
                    DataRef::Error(_) => Cell::Error,
                };
                cells.insert((row, col), value);
            }
            let width = cells.keys().map(|(_, c)| *c as usize + 1).max().unwrap_or(0);
            let height = cells.keys().map(|(r, _)| *r as usize + 1).max().unwrap_or(0);
            all = vec![vec![Cell::Empty; width]; height];
            for ((row, col), value) in cells {
                all[row as usize][col as usize] = value;
            }
        }
    }
    let mut rows = all.into_iter().enumerate().map(|(i, cells)| (i + 1, cells));
    let header = loop {
        match rows.next() {
            Some((_, cells)) if cells.iter().any(|c| *c != Cell::Empty) => {
                break cells
                    .into_iter()
                    .map(|c| match c {
                        Cell::Text(t) => t.trim().to_owned(),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
            }
            Some(_) => continue,
            None => return Err(unreadable("it has no header row")),
        }
    };
    for (column, _) in &mapping.columns {
        if !header.iter().any(|h| h == column) {
            return Err(ImportError::mapping(format!("column \"{column}\""), "is not in the spreadsheet's header row"));
        }
    }
    let rows = rows.filter(|(_, cells)| cells.iter().any(|c| *c != Cell::Empty)).collect();
    Ok(Sheet { header, rows })
}

impl Sheet {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

/// One problem with one row: where, and which rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The spreadsheet's row number.
    pub row: usize,
    /// The column the value came from, when one column holds it.
    pub column: Option<String>,
    /// The field it fills (`victim.date_of_birth`), or `row` for the whole row.
    pub field: String,
    pub message: String,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowOutcome {
    /// Imported (or, in a dry run, would be).
    Imported {
        row: usize,
        reference: String,
    },
    /// A case with this reference is already in the vault: left as it is.
    AlreadyHeld {
        row: usize,
        reference: String,
    },
    Failed {
        row: usize,
        errors: Vec<RowError>,
    },
}

/// The whole run's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub already_held: usize,
    pub failed: usize,
    /// Every failed row, in order.
    pub errors: Vec<RowError>,
    pub outcomes: Vec<RowOutcome>,
}

/// A row's three patches and its reference, or why it cannot be one.
struct RowPatches {
    reference: String,
    parts: BTreeMap<Part, Patch>,
}

fn cell_value(cell: &Cell, target: &Target, mapping: &Mapping) -> Result<Option<Value>, &'static str> {
    let field = target.field();
    let mapped =
        |text: &str| mapping.values.get(&field).and_then(|words| words.get(&text.trim().to_lowercase())).cloned();
    Ok(match cell {
        Cell::Empty => None,
        Cell::Error => return Err("holds a spreadsheet error (such as #N/A or #REF!): correct it in the spreadsheet"),
        Cell::Date(date) if is_date_field(&target.path) => Some(Value::String(date.to_string())),
        Cell::Date(_) => return Err("holds a date, but the field is not one"),
        Cell::Bool(b) => Some(mapped(if *b { "true" } else { "false" }).unwrap_or(Value::Bool(*b))),
        Cell::Number(n) => {
            let text = if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", *n as i64) } else { n.to_string() };
            Some(mapped(&text).unwrap_or(Value::String(text)))
        }
        Cell::Text(text) => match mapped(text) {
            Some(value) => Some(value),
            None if is_date_field(&target.path) => {
                let text = text.trim();
                let date = chrono::NaiveDate::parse_from_str(text, &mapping.date_format)
                    .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d"))
                    .map_err(|_| "must be a date, written as the mapping's date_format says (31/12/2026 by default)")?;
                Some(Value::String(date.to_string()))
            }
            None => Some(Value::String(text.trim().to_owned())),
        },
    })
}

fn patches_of(sheet: &Sheet, cells: &[Cell], row: usize, mapping: &Mapping) -> Result<RowPatches, Vec<RowError>> {
    let mut parts: BTreeMap<Part, Patch> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut reference = None;
    for (column, target) in &mapping.columns {
        let at = sheet.header.iter().position(|h| h == column).unwrap_or(usize::MAX);
        let cell = cells.get(at).unwrap_or(&Cell::Empty);
        match cell_value(cell, target, mapping) {
            Err(message) => errors.push(RowError {
                row,
                column: Some(column.clone()),
                field: target.field(),
                message: message.to_owned(),
            }),
            Ok(None) => {}
            Ok(Some(value)) => {
                if target.part == Part::Case && target.path == "reference" {
                    reference = value.as_str().map(str::to_owned);
                }
                let mut assignment = Assignment::set(&target.path, value);
                if target.append {
                    assignment.op = Op::Append;
                }
                parts.entry(target.part).or_default().0.push(assignment);
            }
        }
    }
    for field in REQUIRED {
        let given = parts.get(&Part::Case).is_some_and(|p| p.0.iter().any(|a| a.path.join(".") == field));
        let failed = errors.iter().any(|e| e.field == format!("case.{field}"));
        if !given && !failed {
            let column =
                mapping.columns.iter().find(|(_, t)| t.part == Part::Case && t.path == field).map(|(c, _)| c.clone());
            let message = if field == "reference" {
                "is required: the import knows a case by it"
            } else {
                "is required: an imported case keeps its own dates"
            };
            errors.push(RowError { row, column, field: format!("case.{field}"), message: message.into() });
        }
    }
    let Some(reference) = reference.filter(|r| !r.is_empty()) else {
        return Err(errors);
    };
    if errors.is_empty() {
        Ok(RowPatches { reference, parts })
    } else {
        Err(errors)
    }
}

/// The column a field's error belongs to: the one that fills that field, or the
/// field it is part of; none when several columns fill it together.
fn column_of(mapping: &Mapping, field: &str) -> Option<String> {
    let filling: Vec<&String> = mapping
        .columns
        .iter()
        .filter(|(_, t)| {
            let f = t.field();
            f == field || field.starts_with(&format!("{f}.")) || field.starts_with(&format!("{f}["))
        })
        .map(|(c, _)| c)
        .collect();
    (filling.len() == 1).then(|| filling[0].clone())
}

fn row_errors(mapping: &Mapping, row: usize, errors: Vec<FieldError>) -> Vec<RowError> {
    errors
        .into_iter()
        .map(|e| RowError { row, column: column_of(mapping, &e.field), field: e.field, message: e.rule })
        .collect()
}

/// What the vault's refusal of a row says, by field; never the value.
fn refusal(mapping: &Mapping, row: usize, error: VaultError) -> Result<Vec<RowError>, ImportError> {
    Ok(match error {
        VaultError::Invalid(errors) => row_errors(mapping, row, errors.0),
        VaultError::AddressInText { kind, fields } => fields
            .into_iter()
            .map(|f| {
                let field = format!("{}.{f}", kind.wire());
                RowError {
                    row,
                    column: column_of(mapping, &field),
                    field,
                    message: "shows the victim's address: keep it in the address columns only".into(),
                }
            })
            .collect(),
        VaultError::Duplicate { field } => vec![RowError {
            row,
            column: None,
            field: format!("case.{field}"),
            message: "is already used by another case".into(),
        }],
        // The vault itself failing (locked, damaged, full) stops the whole run.
        other => return Err(ImportError::Vault(other)),
    })
}

/// Imports (or, with `dry_run`, checks) every row of `sheet`. A row is one
/// case, written whole or not at all; a reference the vault holds is left as
/// it is; two rows with one reference are both refused. The run is recorded
/// in the audit trail with its counts and the file's SHA-256, whatever came of it.
pub fn import(
    vault: &mut Vault,
    file: &[u8],
    format: Format,
    mapping: &Mapping,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let sheet = read_sheet(file, format, mapping)?;
    let mut by_reference: HashMap<String, Vec<usize>> = HashMap::new();
    let mut prepared = Vec::with_capacity(sheet.rows.len());
    for (row, cells) in &sheet.rows {
        let patches = patches_of(&sheet, cells, *row, mapping);
        if let Ok(p) = &patches {
            by_reference.entry(p.reference.clone()).or_default().push(*row);
        }
        prepared.push((*row, patches));
    }
    let mut outcomes = Vec::with_capacity(prepared.len());
    let stopped = run_rows(vault, mapping, prepared, &by_reference, dry_run, &mut outcomes);
    if let Err(error) = stopped {
        // The rows already written have their own audit events; the run's says where it stopped.
        let _ = record_run(vault, &Run { file, format, dry_run, rows: sheet.rows.len(), stopped: true }, &outcomes);
        return Err(error);
    }
    finish(vault, file, format, dry_run, sheet.rows.len(), outcomes)
}

/// Each row in turn; a failure of the vault itself (locked, full, damaged) stops the run.
fn run_rows(
    vault: &mut Vault,
    mapping: &Mapping,
    prepared: Vec<(usize, Result<RowPatches, Vec<RowError>>)>,
    by_reference: &HashMap<String, Vec<usize>>,
    dry_run: bool,
    outcomes: &mut Vec<RowOutcome>,
) -> Result<(), ImportError> {
    for (row, patches) in prepared {
        let outcome = match patches {
            Err(errors) => RowOutcome::Failed { row, errors },
            Ok(p) if by_reference.get(&p.reference).is_some_and(|rows| rows.len() > 1) => {
                let others: Vec<String> =
                    by_reference[&p.reference].iter().filter(|r| **r != row).map(|r| r.to_string()).collect();
                let column = column_of(mapping, "case.reference");
                let message = format!("is the same as row {}'s: each case once", others.join(", "));
                RowOutcome::Failed {
                    row,
                    errors: vec![RowError { row, column, field: "case.reference".into(), message }],
                }
            }
            Ok(p) if vault.find_case(&p.reference)?.is_some() => {
                RowOutcome::AlreadyHeld { row, reference: p.reference }
            }
            Ok(p) => {
                let empty = Patch::default();
                let part = |part: Part| p.parts.get(&part);
                match vault.import_case(
                    part(Part::Case).unwrap_or(&empty),
                    part(Part::Victim).unwrap_or(&empty),
                    part(Part::Perpetrator),
                    dry_run,
                ) {
                    Ok(()) => RowOutcome::Imported { row, reference: p.reference },
                    Err(e) => RowOutcome::Failed { row, errors: refusal(mapping, row, e)? },
                }
            }
        };
        outcomes.push(outcome);
    }
    Ok(())
}

fn finish(
    vault: &mut Vault,
    file: &[u8],
    format: Format,
    dry_run: bool,
    rows: usize,
    outcomes: Vec<RowOutcome>,
) -> Result<ImportReport, ImportError> {
    let errors: Vec<RowError> = outcomes
        .iter()
        .flat_map(|o| match o {
            RowOutcome::Failed { errors, .. } => errors.clone(),
            _ => Vec::new(),
        })
        .collect();
    let count = |f: fn(&RowOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let report = ImportReport {
        dry_run,
        rows,
        imported: count(|o| matches!(o, RowOutcome::Imported { .. })),
        already_held: count(|o| matches!(o, RowOutcome::AlreadyHeld { .. })),
        failed: count(|o| matches!(o, RowOutcome::Failed { .. })),
        errors,
        outcomes,
    };
    record_run(vault, &Run { file, format, dry_run, rows, stopped: false }, &report.outcomes)?;
    Ok(report)
}

/// What the audit says of a run, whatever came of it.
struct Run<'a> {
    file: &'a [u8],
    format: Format,
    dry_run: bool,
    rows: usize,
    /// A failure of the vault stopped it after the outcomes given.
    stopped: bool,
}

/// The run's audit line: counts, the failed rows' numbers and the file's
/// SHA-256, so a found copy of the spreadsheet can be matched to it; never a value.
fn record_run(vault: &mut Vault, run: &Run<'_>, outcomes: &[RowOutcome]) -> Result<(), VaultError> {
    let count = |f: fn(&RowOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let failed_rows: Vec<usize> = outcomes
        .iter()
        .filter_map(|o| match o {
            RowOutcome::Failed { row, .. } => Some(*row),
            _ => None,
        })
        .collect();
    vault.record_event(
        waymark_vault::audit::AuditAction::Import,
        None,
        None,
        None,
        serde_json::json!({
            "dry_run": run.dry_run,
            "format": run.format,
            "sha256": hex::encode(Sha256::digest(run.file)),
            "rows": run.rows,
            "imported": count(|o| matches!(o, RowOutcome::Imported { .. })),
            "already_held": count(|o| matches!(o, RowOutcome::AlreadyHeld { .. })),
            "failed": failed_rows.len(),
            "failed_rows": failed_rows,
            "stopped_after": run.stopped.then_some(outcomes.len()),
        }),
    )
}
