//! `waymark`: the command line over the vault. Thin: it parses arguments,
//! asks for passphrases, calls the core and prints. No business rules here.

mod args;
mod output;
mod secrets;

use args::*;
use clap::Parser;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use waymark_domain::patch::{Assignment, Patch};
use waymark_domain::RecordKind;
use waymark_print::PrintError;
use waymark_vault::backup::{BackupKey, BackupTo};
use waymark_vault::queries::CaseloadFilter;
use waymark_vault::{Env, InitOptions, Vault, VaultError};

/// A failure to report: a vault error, or a problem with how the command was used.
enum Failure {
    Vault(VaultError),
    Print(PrintError),
    Sync(waymark_sync::SyncError),
    Import(waymark_import::ImportError),
    Usage(String),
}

impl From<waymark_import::ImportError> for Failure {
    fn from(e: waymark_import::ImportError) -> Self {
        match e {
            waymark_import::ImportError::Vault(e) => Failure::Vault(e),
            other => Failure::Import(other),
        }
    }
}

impl From<PrintError> for Failure {
    fn from(e: PrintError) -> Self {
        match e {
            PrintError::Vault(e) => Failure::Vault(e),
            other => Failure::Print(other),
        }
    }
}

impl From<waymark_sync::SyncError> for Failure {
    fn from(e: waymark_sync::SyncError) -> Self {
        match e {
            waymark_sync::SyncError::Vault(e) => Failure::Vault(e),
            other => Failure::Sync(other),
        }
    }
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        Failure::Vault(e)
    }
}

impl From<waymark_domain::ValidationErrors> for Failure {
    fn from(e: waymark_domain::ValidationErrors) -> Self {
        Failure::Vault(VaultError::Invalid(e))
    }
}

type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Vault(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::from(1)
        }
        Err(Failure::Print(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::from(1)
        }
        Err(Failure::Sync(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::from(1)
        }
        Err(Failure::Import(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error[usage]: {message}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr only when WAYMARK_LOG is set, and carry ids, never personal data.
fn init_logging() {
    if let Ok(filter) = std::env::var("WAYMARK_LOG") {
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).try_init();
    }
}

fn vault_dir(cli: &Cli) -> Result<PathBuf, Failure> {
    if let Some(dir) = &cli.vault {
        return Ok(dir.clone());
    }
    waymark_vault::default_vault_dir()
        .ok_or_else(|| Failure::Usage("no home folder found; choose a vault with --vault DIR or WAYMARK_VAULT".into()))
}

fn unlock(dir: &Path) -> Result<Vault, Failure> {
    let passphrase = secrets::current_passphrase()?;
    Ok(Vault::unlock(dir, &passphrase, Env::system())?)
}

/// Set from `--address-confirmed`: the advocate accepts the address guard's
/// warning for this one command (recorded in the audit trail).
static ADDRESS_CONFIRMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A save, with the address guard's warning accepted when the command said so.
fn saving<T>(
    vault: &mut Vault,
    write: impl FnOnce(&mut Vault) -> waymark_vault::Result<T>,
) -> waymark_vault::Result<T> {
    if ADDRESS_CONFIRMED.load(std::sync::atomic::Ordering::Relaxed) {
        vault.with_address_confirmed(write)
    } else {
        write(vault)
    }
}

fn patch(fields: &[String]) -> Result<Patch, Failure> {
    Ok(Patch::parse(fields)?)
}

fn print(dir: &Path, json: bool, cmd: PrintCmd) -> Outcome {
    use waymark_print::{Options, Printer, Request};
    let printer = Printer::for_vault_dir(dir)?;
    let mut vault = unlock(dir)?;
    let (request, out, discreet) = match cmd {
        PrintCmd::SafetyPlan { case, version, out, discreet } => {
            (Request::SafetyPlan { case: vault.resolve_case(&case)?, version }, out, discreet)
        }
        PrintCmd::Chronology { case, out } => (Request::Chronology { case: vault.resolve_case(&case)? }, out, false),
        PrintCmd::Hearings { case, limit, out } => {
            let case = case.map(|c| vault.resolve_case(&c)).transpose()?;
            (Request::Hearings { case, limit }, out, false)
        }
    };
    let options = Options {
        discreet,
        large_print: out.large_print,
        address_confirmed: ADDRESS_CONFIRMED.load(std::sync::atomic::Ordering::Relaxed),
    };
    let prepared = printer.prepare(&mut vault, &request, options)?;
    waymark_print::save(&mut vault, &prepared, &out.out)?;
    output::done(
        json,
        &format!("Printed {} page(s) to the file you named. Keep it safe: a PDF is not encrypted.", prepared.pages()),
        json!({ "document": prepared.kind, "pages": prepared.pages(), "sha256": prepared.sha256, "discreet": discreet, "large_print": out.large_print }),
    );
    Ok(())
}

fn access(dir: &Path, json: bool, cmd: AccessCmd) -> Outcome {
    let mut vault = unlock(dir)?;
    match cmd {
        AccessCmd::Request { case, subject, perpetrator, received_on } => {
            let case = vault.resolve_case(&case)?;
            let on = received_on.unwrap_or_else(|| vault.today());
            let request = vault.access_request(case, subject.into_subject(), perpetrator, on)?;
            output::done(
                json,
                &format!(
                    "Recorded request {} from {}; answer it by {}.",
                    request.id,
                    request.subject.label().to_lowercase(),
                    waymark_domain::time::show_date(request.due_on)
                ),
                json!(request),
            );
        }
        AccessCmd::Identity { request, on } => {
            let on = on.unwrap_or_else(|| vault.today());
            let request = vault.access_identity_checked(request, on)?;
            output::done(
                json,
                &format!(
                    "Recorded the identity check of request {} on {}.",
                    request.id,
                    waymark_domain::time::show_date(on)
                ),
                json!(request),
            );
        }
        AccessCmd::List { case } => {
            let case = case.map(|c| vault.resolve_case(&c)).transpose()?;
            output::access_requests(json, &vault.access_requests(case)?);
        }
        AccessCmd::Review { request } => output::access_review(json, &vault.access_review(request)?),
        AccessCmd::Withhold { request, key, reason } => {
            output::access_review(json, &vault.access_withhold(request, &key, reason.into_reason())?)
        }
        AccessCmd::Release { request, keys } => {
            let mut review = None;
            for key in &keys {
                review = Some(vault.access_release(request, key)?);
            }
            if let Some(review) = review {
                output::access_review(json, &review);
            }
        }
        AccessCmd::Export { request, out } => {
            let extension = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            match extension.as_deref() {
                Some("json") => {
                    waymark_print::save_subject_access_json(&mut vault, request, &out)?;
                    output::done(
                        json,
                        "Saved the export as JSON. Keep it safe: the file is not encrypted.",
                        json!({ "format": "json" }),
                    );
                }
                Some("pdf") => {
                    use waymark_print::{Options, Printer, Request};
                    let printer = Printer::for_vault_dir(dir)?;
                    let options = Options {
                        address_confirmed: ADDRESS_CONFIRMED.load(std::sync::atomic::Ordering::Relaxed),
                        ..Options::default()
                    };
                    let prepared = printer.prepare(&mut vault, &Request::SubjectAccess { request }, options)?;
                    waymark_print::save(&mut vault, &prepared, &out)?;
                    output::done(
                        json,
                        &format!(
                            "Saved the export: {} page(s). Keep it safe: a PDF is not encrypted.",
                            prepared.pages()
                        ),
                        json!({ "format": "pdf", "pages": prepared.pages(), "sha256": prepared.sha256 }),
                    );
                }
                _ => return Err(Failure::Usage("--out: name a .pdf or .json file".into())),
            }
        }
    }
    Ok(())
}

fn import(
    dir: &Path,
    json: bool,
    file: Option<&Path>,
    mapping: Option<&Path>,
    dry_run: bool,
    example_mapping: bool,
) -> Outcome {
    if example_mapping {
        print!("{}", waymark_import::Mapping::example());
        return Ok(());
    }
    let (Some(file), Some(mapping)) = (file, mapping) else {
        return Err(Failure::Usage(
            "name the spreadsheet and its mapping: waymark import FILE --mapping MAPPING.toml [--dry-run] (see --example-mapping)".into(),
        ));
    };
    let format = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(waymark_import::Format::of)
        .ok_or_else(|| Failure::Usage("the spreadsheet must be a .csv, .xlsx, .xls or .ods file".into()))?;
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|e| Failure::Usage(format!("the {what} could not be read ({})", e.kind())))
    };
    let mapping_text = String::from_utf8(read(mapping, "mapping file")?)
        .map_err(|_| Failure::Usage("the mapping file must be UTF-8 text".into()))?;
    let mapping = waymark_import::Mapping::from_toml(&mapping_text)?;
    let bytes = read(file, "spreadsheet")?;
    let mut vault = unlock(dir)?;
    let report = waymark_import::import(&mut vault, &bytes, format, &mapping, dry_run)?;
    output::import(json, &report);
    Ok(())
}

fn quarterly_return(dir: &Path, json: bool, quarter: Option<&str>, out: Option<&Path>) -> Outcome {
    use waymark_domain::report::Quarter;
    use waymark_print::{Options, Printer, Request, TableFormat};
    let mut vault = unlock(dir)?;
    let quarter = match quarter {
        Some(text) => Quarter::from_wire(text).ok_or_else(|| {
            Failure::Usage("--quarter: write the quarter like 2026-27-Q3 (Q1 is April to June)".into())
        })?,
        None => Quarter::containing(vault.today()).previous(),
    };
    let Some(out) = out else {
        let report = waymark_print::quarterly_return(&vault, quarter)?;
        output::quarterly_return(json, &report);
        return Ok(());
    };
    let extension = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let format = match extension.as_deref() {
        Some("pdf") => None,
        Some("csv") => Some(TableFormat::Csv),
        Some("xlsx") => Some(TableFormat::Xlsx),
        _ => return Err(Failure::Usage("--out: name a .pdf, .csv or .xlsx file".into())),
    };
    match format {
        None => {
            let printer = Printer::for_vault_dir(dir)?;
            let prepared = printer.prepare(&mut vault, &Request::QuarterlyReturn { quarter }, Options::default())?;
            waymark_print::save(&mut vault, &prepared, out)?;
            output::done(
                json,
                &format!("Saved the {} return: {} page(s).", quarter.wire(), prepared.pages()),
                json!({ "quarter": quarter, "format": "pdf", "pages": prepared.pages(), "sha256": prepared.sha256 }),
            );
        }
        Some(format) => {
            waymark_print::save_return_table(&mut vault, quarter, format, out)?;
            output::done(
                json,
                &format!("Saved the {} return as {}.", quarter.wire(), format.extension()),
                json!({ "quarter": quarter, "format": format.extension() }),
            );
        }
    }
    Ok(())
}

fn sync(dir: &Path, json: bool, cmd: SyncCmd) -> Outcome {
    use std::sync::Mutex;
    use waymark_vault::sync::Resolution;
    let vault = unlock(dir)?;
    match cmd {
        SyncCmd::Enrol { code_file } => {
            waymark_sync::enrol(&Mutex::new(vault), &read_code(code_file.as_deref())?)?;
            output::done(
                json,
                "Enrolled with the clinic. Run `waymark sync now` to send and receive.",
                json!({ "enrolled": true }),
            );
        }
        SyncCmd::Rejoin { code_file } => {
            waymark_sync::rejoin(&Mutex::new(vault), &read_code(code_file.as_deref())?)?;
            output::done(
                json,
                "Enrolled again as a new device. Run `waymark sync now`: the clinic recognises what it already has, and the rest is sent.",
                json!({ "enrolled": true, "rejoined": true }),
            );
        }
        SyncCmd::Now => {
            let report = waymark_sync::sync_once(&Mutex::new(vault))?;
            let mut text = format!(
                "Synced: {} sent (the clinic holds everything through {}), {} received, {} new conflict(s).",
                report.pushed, report.acked_through, report.pulled, report.conflicts
            );
            let problems = report.failed + report.quarantined + report.refused;
            if problems > 0 {
                text.push_str(&format!(" {problems} change(s) need a person: see `waymark sync status`."));
            }
            output::done(json, &text, json!(report));
        }
        SyncCmd::Status => {
            output::sync_status(json, &vault.sync_status()?, &vault.sync_problems()?);
        }
        SyncCmd::Conflicts => output::conflicts(json, &vault.sync_conflicts()?),
        SyncCmd::Problems => output::problems(json, &vault.sync_problems()?),
        SyncCmd::Dismiss { id, reason } => {
            let mut vault = vault;
            vault.dismiss_problem(id, &reason)?;
            output::done(
                json,
                &format!("Problem {id} set aside; the reason is kept with it."),
                json!({ "dismissed": id }),
            );
        }
        SyncCmd::Retry { id } => {
            let mut vault = vault;
            let applied = vault.retry_problem(id)?;
            let text = if applied {
                format!("Problem {id}: the change applied and the problem is closed.")
            } else {
                format!("Problem {id}: the change still cannot apply; it stays on the list.")
            };
            output::done(json, &text, json!({ "problem": id, "applied": applied }));
        }
        SyncCmd::Resolve { id, keep } => {
            let mut vault = vault;
            let choice = match keep {
                Keep::Local => Resolution::Local,
                Keep::Remote => Resolution::Remote,
            };
            vault.resolve_conflict(&id, choice)?;
            output::done(
                json,
                "Conflict resolved; the decision goes to the clinic at the next sync.",
                json!({ "resolved": id }),
            );
        }
        SyncCmd::Export { out } => {
            let (bytes, ops) = waymark_sync::export_bundle(&vault)?;
            std::fs::write(&out, bytes).map_err(|_| Failure::Usage("the bundle file could not be written".into()))?;
            output::done(
                json,
                &format!("Wrote a sealed bundle of {ops} change(s). Take it to the clinic; they stay waiting here until the clinic acknowledges them online."),
                json!({ "ops": ops }),
            );
        }
    }
    Ok(())
}

fn run(cli: Cli) -> Outcome {
    let dir = vault_dir(&cli)?;
    let json = cli.json;
    ADDRESS_CONFIRMED.store(cli.address_confirmed, std::sync::atomic::Ordering::Relaxed);
    match cli.command {
        Command::Init { advocate, recovery_recipient, work_factor } => {
            let recovery = recovery_recipient.as_deref().map(waymark_vault::keyfile::parse_recipient).transpose()?;
            let passphrase = secrets::new_passphrase("New vault passphrase", true)?;
            let options = InitOptions { advocate, recovery, work_factor };
            let vault = Vault::init(&dir, &passphrase, &options, Env::system())?;
            output::done(
                json,
                &format!("Vault created in {} (key id {}).", dir.display(), vault.key_id()),
                json!({"key_id": vault.key_id(), "device_id": vault.device()}),
            );
            vault.lock();
        }
        Command::Unlock => {
            let passphrase = secrets::current_passphrase()?;
            let key_id = Vault::check_passphrase(&dir, &passphrase, Env::system())?;
            output::done(json, "Passphrase accepted; the vault opens.", json!({"key_id": key_id}));
        }
        Command::Passphrase(PassphraseCmd::Change { rekey: false, work_factor }) => {
            let old = secrets::current_passphrase()?;
            let new = secrets::new_passphrase("New passphrase", false)?;
            Vault::change_passphrase(&dir, &old, &new, work_factor, Env::system())?;
            output::done(
                json,
                "Passphrase changed. Only the key file was rewritten.",
                json!({"changed": true, "rekeyed": false}),
            );
        }
        Command::Passphrase(PassphraseCmd::Change { rekey: true, work_factor }) => {
            let old = secrets::current_passphrase()?;
            let new = secrets::new_passphrase("New passphrase", false)?;
            let key_id = Vault::rekey(&dir, &old, Some(&new), work_factor, Env::system())?;
            output::done(
                json,
                "Passphrase changed and the database re-keyed: old copies of the key file no longer open it.",
                json!({"changed": true, "rekeyed": true, "key_id": key_id}),
            );
        }
        Command::Rekey { work_factor } => {
            let passphrase = secrets::current_passphrase()?;
            let key_id = Vault::rekey(&dir, &passphrase, None, work_factor, Env::system())?;
            output::done(
                json,
                "The database has a new key: old copies of the key file no longer open it. Make a new backup; older backups keep their own passphrase.",
                json!({"rekeyed": true, "key_id": key_id}),
            );
        }
        Command::Recover { identity, work_factor } => {
            let text = std::fs::read_to_string(&identity)
                .map_err(|_| Failure::Usage("the identity file could not be read".into()))?;
            let identity = waymark_vault::keyfile::parse_identity(&text)?;
            let new = secrets::new_passphrase("New passphrase", false)?;
            Vault::recover(&dir, &identity, &new, work_factor, Env::system())?;
            output::done(json, "A new passphrase is set. The data is unchanged.", json!({"recovered": true}));
        }
        Command::Status => {
            let vault = unlock(&dir)?;
            let status = json!({
                "vault": dir.display().to_string(),
                "device_id": vault.device(),
                "key_id": vault.key_id(),
                "advocate": vault.actor(),
                "schema_version": waymark_vault::db::schema_version(),
                "pending_ops": vault.pending_ops()?,
            });
            output::value(json, &status);
        }
        Command::Case(cmd) => case_command(&dir, json, cmd)?,
        Command::Incident(cmd) => incident_command(&dir, json, cmd)?,
        Command::Victim(cmd) => record_command(&dir, json, RecordKind::Victim, cmd)?,
        Command::Perpetrator(cmd) => record_command(&dir, json, RecordKind::Perpetrator, cmd)?,
        Command::Risk(cmd) => record_command(&dir, json, RecordKind::RiskAssessment, cmd)?,
        Command::Plan(cmd) => record_command(&dir, json, RecordKind::SafetyPlan, cmd)?,
        Command::Hearing(cmd) => record_command(&dir, json, RecordKind::Hearing, cmd)?,
        Command::Order(cmd) => record_command(&dir, json, RecordKind::ProtectiveOrder, cmd)?,
        Command::Breach(cmd) => record_command(&dir, json, RecordKind::Breach, cmd)?,
        Command::Referral(cmd) => record_command(&dir, json, RecordKind::Referral, cmd)?,
        Command::Review(cmd) => record_command(&dir, json, RecordKind::ClinicReview, cmd)?,
        Command::Escalation(cmd) => record_command(&dir, json, RecordKind::EscalationReview, cmd)?,
        Command::Contact(cmd) => record_command(&dir, json, RecordKind::Contact, cmd)?,
        Command::Task(cmd) => task_command(&dir, json, cmd)?,
        Command::Reminders => {
            let vault = unlock(&dir)?;
            output::reminders(json, &vault, &vault.reminders()?)?;
        }
        Command::Hearings { case, limit } => {
            let vault = unlock(&dir)?;
            let case = case.map(|c| vault.resolve_case(&c)).transpose()?;
            let hearings = vault.upcoming_hearings(case, limit)?;
            let records: Vec<_> = hearings.into_iter().map(waymark_domain::Entity::into_record).collect();
            output::records(json, &records);
        }
        Command::Print(cmd) => print(&dir, json, cmd)?,
        Command::Import { file, mapping, dry_run, example_mapping } => {
            import(&dir, json, file.as_deref(), mapping.as_deref(), dry_run, example_mapping)?
        }
        Command::QuarterlyReturn { quarter, out } => quarterly_return(&dir, json, quarter.as_deref(), out.as_deref())?,
        Command::Sync(cmd) => sync(&dir, json, cmd)?,
        Command::Access(cmd) => access(&dir, json, cmd)?,
        Command::Retention => {
            let mut vault = unlock(&dir)?;
            output::retention(json, &vault.retention_review()?);
        }
        Command::Instruments => {
            let vault = unlock(&dir)?;
            output::instruments(json, vault.instruments());
        }
        Command::Backup { out, recipient, passphrase, work_factor } => {
            let to = match (recipient.is_empty(), passphrase) {
                (false, false) => BackupTo::Recipients(
                    recipient
                        .iter()
                        .map(|r| waymark_vault::keyfile::parse_recipient(r))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                (true, true) => BackupTo::Passphrase { passphrase: secrets::backup_passphrase(true)?, work_factor },
                (false, true) => {
                    return Err(Failure::Usage(
                        "age cannot seal one file to a passphrase and to recipients; make two backups".into(),
                    ))
                }
                (true, false) => {
                    return Err(Failure::Usage(
                        "say who can open the backup: --recipient age1... or --passphrase".into(),
                    ))
                }
            };
            let mut vault = unlock(&dir)?;
            let summary = vault.backup(&out, &to)?;
            output::done(
                json,
                &format!("Encrypted backup written: {} records, {} bytes.", summary.records, summary.bytes),
                json!(summary),
            );
        }
        Command::Restore { file, identity } => {
            let key = match identity {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|_| Failure::Usage("the identity file could not be read".into()))?;
                    BackupKey::Identity(waymark_vault::keyfile::parse_identity(&text)?)
                }
                None => BackupKey::Passphrase(secrets::backup_passphrase(false)?),
            };
            let mut vault = if waymark_vault::vault_exists(&dir) {
                unlock(&dir)?
            } else {
                let passphrase = secrets::new_passphrase("Passphrase for the restored vault", true)?;
                Vault::init(&dir, &passphrase, &InitOptions::new("RESTORED"), Env::system())?
            };
            let summary = vault.restore(&file, &key)?;
            output::done(json, &format!("Restored {} records.", summary.records), json!(summary));
        }
        Command::Audit(AuditCmd::Verify) => {
            let vault = unlock(&dir)?;
            let verified = vault.audit_verify()?;
            output::done(
                json,
                &format!("Audit trail verified: {} events, unbroken.", verified.events),
                json!(verified),
            );
        }
        Command::Audit(AuditCmd::List { case, limit }) => {
            let vault = unlock(&dir)?;
            let case = case.map(|c| vault.resolve_case(&c)).transpose()?;
            output::audit(json, &vault.audit_events(case, limit)?);
        }
        Command::Demo { cases, seed, incidents_per_case } => demo(&dir, json, cases, seed, incidents_per_case)?,
    }
    Ok(())
}

fn case_command(dir: &Path, json: bool, cmd: CaseCmd) -> Outcome {
    let mut vault = unlock(dir)?;
    match cmd {
        CaseCmd::Add { fields } => {
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.add(RecordKind::Case, None, &changes))?;
            output::saved(json, &record);
        }
        CaseCmd::Edit { case, fields } => {
            let id = vault.resolve_case(&case)?;
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.edit(RecordKind::Case, id.as_uuid(), &changes))?;
            output::saved(json, &record);
        }
        CaseCmd::Close { case, reason, on } => {
            let id = vault.resolve_case(&case)?;
            let mut closure = Patch(vec![Assignment::set("reason", serde_json::json!(reason.into_reason()))]);
            if let Some(on) = on {
                closure.0.push(Assignment::set("closed_on", serde_json::json!(on)));
            }
            let record = saving(&mut vault, |v| v.close_case(id, &closure))?;
            output::saved(json, &record);
        }
        CaseCmd::List { status, risk, search, sort } => {
            let filter = CaseloadFilter {
                status: status.map(Into::into),
                risk: risk.map(Into::into),
                search,
                sort: sort.into(),
            };
            let rows = vault.caseload(&filter)?;
            output::caseload(json, &rows);
        }
        CaseCmd::Show { case } => {
            let id = vault.resolve_case(&case)?;
            let file = vault.case_file(id)?;
            output::case_file(json, &file);
        }
    }
    Ok(())
}

fn incident_command(dir: &Path, json: bool, cmd: IncidentCmd) -> Outcome {
    match cmd {
        IncidentCmd::Add { case, fields } => {
            let mut vault = unlock(dir)?;
            let id = vault.resolve_case(&case)?;
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.add(RecordKind::Incident, Some(id), &changes))?;
            output::saved(json, &record);
        }
        IncidentCmd::Amend { incident, reason, fields } => {
            let mut vault = unlock(dir)?;
            let incident = parse_id(&incident)?;
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.amend_incident(incident, &reason, &changes))?;
            output::saved(json, &record);
        }
        IncidentCmd::List { case } => {
            let mut vault = unlock(dir)?;
            let id = vault.resolve_case(&case)?;
            let file = vault.case_file(id)?;
            output::incidents(json, &file.incidents);
        }
    }
    Ok(())
}

fn parse_id(text: &str) -> Result<uuid::Uuid, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::Usage("that is not a record id (a UUID as shown by the list commands)".into()))
}

fn record_command(dir: &Path, json: bool, kind: RecordKind, cmd: RecordCmd) -> Outcome {
    let mut vault = unlock(dir)?;
    match cmd {
        RecordCmd::Add { case, fields } => {
            let case = vault.resolve_case(&case)?;
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.add(kind, Some(case), &changes))?;
            output::saved(json, &record);
        }
        RecordCmd::Edit { id, fields } => {
            let changes = patch(&fields)?;
            let record_id = parse_id(&id)?;
            let record = saving(&mut vault, |v| v.edit(kind, record_id, &changes))?;
            output::saved(json, &record);
        }
        RecordCmd::List { case } => {
            let case = vault.resolve_case(&case)?;
            let records = vault.list_kind(kind, case)?;
            vault.record_event(
                waymark_vault::audit::AuditAction::List,
                Some(kind),
                None,
                Some(case),
                json!({"rows": records.len()}),
            )?;
            output::records(json, &records);
        }
        RecordCmd::Show { id } => {
            let record = vault.get_record(kind, parse_id(&id)?)?;
            vault.record_event(
                waymark_vault::audit::AuditAction::View,
                Some(kind),
                Some(record.id()),
                record.case_id(),
                json!({}),
            )?;
            output::record(json, &record);
        }
    }
    Ok(())
}

fn task_command(dir: &Path, json: bool, cmd: TaskCmd) -> Outcome {
    match cmd {
        TaskCmd::Add { case, fields } => {
            let mut vault = unlock(dir)?;
            let case = case.map(|c| vault.resolve_case(&c)).transpose()?;
            let changes = patch(&fields)?;
            let record = saving(&mut vault, |v| v.add(RecordKind::Task, case, &changes))?;
            output::saved(json, &record);
        }
        TaskCmd::Done { id } => {
            let mut vault = unlock(dir)?;
            let record_id = parse_id(&id)?;
            let record = saving(&mut vault, |v| v.complete_task(record_id))?;
            output::saved(json, &record);
        }
        TaskCmd::Record(cmd) => record_command(dir, json, RecordKind::Task, cmd)?,
    }
    Ok(())
}

fn demo(dir: &Path, json: bool, cases: u32, seed: u64, incidents_per_case: Option<u32>) -> Outcome {
    let mut vault = if waymark_vault::vault_exists(dir) {
        unlock(dir)?
    } else {
        let passphrase = secrets::new_passphrase("Passphrase for the demo vault", true)?;
        Vault::init(dir, &passphrase, &InitOptions::new("DEMO-ADV"), Env::system())?
    };
    let existing = vault.caseload(&CaseloadFilter::default())?;
    if existing.iter().any(|row| !row.reference.starts_with("DEMO-")) {
        return Err(Failure::Usage(
            "this vault holds real cases; demo data goes only into a separate vault (use --vault)".into(),
        ));
    }
    let options = waymark_demo::DemoOptions {
        cases,
        seed,
        now: vault.now(),
        advocate: vault.actor().to_owned(),
        incidents_per_case,
        // A vault that syncs receives its panel reviews from the clinic.
        clinic_reviews: vault.sync_link()?.is_none(),
    };
    let mut written = 0usize;
    for (index, case) in waymark_demo::generate(&options).into_iter().enumerate() {
        // One transaction per case: a demo case appears whole or not at all.
        let records = case.into_iter().map(waymark_vault::Mutation::Create).collect();
        match vault.commit(records) {
            Ok(ids) => written += ids.len(),
            Err(VaultError::Duplicate { field: "reference" }) => {
                return Err(Failure::Usage(format!(
                    "demo case {} already exists; use another --seed or a new vault",
                    index + 1
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
    output::done(
        json,
        &format!("Created {cases} fictional demo cases ({written} records)."),
        json!({"cases": cases, "records": written}),
    );
    Ok(())
}

/// An enrolment code from a file, or else standard input; never an argument,
/// which shell history and the process list would keep.
fn read_code(file: Option<&std::path::Path>) -> Result<String, Failure> {
    let mut text = String::new();
    match file {
        Some(path) => {
            text =
                std::fs::read_to_string(path).map_err(|_| Failure::Usage("the code file could not be read".into()))?;
        }
        None => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprintln!("Paste the enrolment code, then press Enter and Ctrl-D:");
            }
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|_| Failure::Usage("no code on standard input".into()))?;
        }
    }
    Ok(text.trim().to_owned())
}
