//! `waymark-clinic`: the clinic administrator's command line. Each command
//! parses its arguments and calls the library. It lives in the library so
//! scenario tests can run the same program as a helper process.

use crate::{AppState, Clinic, ClinicError, ClinicFiles};
use age::secrecy::SecretString;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;
use waymark_protocol::Limits;

#[derive(Parser)]
#[command(name = "waymark-clinic", version, about = "The stalking clinic's sync server and its administration")]
struct Cli {
    /// The clinic folder (identity, certificate, database).
    #[arg(long, env = "WAYMARK_CLINIC_DIR", global = true, default_value = "clinic")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the clinic identity, a self-signed certificate and the recovery identity.
    Init {
        /// Host names or IP addresses the certificate is for (repeat for each).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// Where to write the recovery identity. Keep it offline: it resets
        /// an advocate's forgotten passphrase.
        #[arg(long)]
        recovery_out: PathBuf,
        #[arg(long, default_value_t = crate::identity::SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
        /// Keep the clinic's state in PostgreSQL, for several servers over one
        /// database: a file (owner-only, chmod 600) holding the connection string,
        /// e.g. `host=db.internal dbname=waymark user=waymark password=…`.
        #[arg(long)]
        postgres_file: Option<PathBuf>,
    },
    /// The staff register: who may be enrolled (advocates) and, later, who signs in.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Print a one-time enrolment code (valid for 24 hours) bound to one advocate, and its QR code.
    Enrol {
        /// The advocate's staff code; the laptop enrolled with this code receives their cases only.
        #[arg(long)]
        advocate: String,
        /// The address devices reach the clinic at, e.g. https://clinic.example:8443.
        #[arg(long)]
        url: String,
        /// The server uses a CA-issued certificate: devices check it against the usual roots instead of pinning.
        #[arg(long)]
        ca_issued: bool,
        /// Print the code only, without the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// List enrolled devices (unconfirmed ones sync nothing until `confirm`).
    Devices,
    /// Confirm whose laptop a device enrolled before codes were bound to an advocate is.
    Confirm {
        device: Uuid,
        /// The advocate's staff code, checked with them in person.
        #[arg(long)]
        advocate: String,
    },
    /// Refuse a device from now on. At its next contact it is told to erase its vault.
    Revoke { device: Uuid },
    /// Destroy this clinic's key file and database (decommissioning). Devices must enrol with a new clinic.
    Wipe {
        /// The clinic id, typed out to confirm.
        #[arg(long)]
        confirm: Uuid,
    },
    /// Record a panel review: SRP judgements and agreed actions, as field assignments.
    Review {
        /// The case id (as the laptops know it).
        #[arg(long)]
        case: Uuid,
        /// The staff code of the person recording it.
        #[arg(long)]
        by: String,
        /// `meeting_on=2026-11-20`, `agencies_present+=police`, `srp.<domain>.rating=high`, `actions:=[...]`.
        #[arg(required = true)]
        fields: Vec<String>,
    },
    /// Move a case to another advocate; their laptops receive its whole history.
    Reassign {
        #[arg(long)]
        case: Uuid,
        /// The new advocate's staff code.
        #[arg(long)]
        to: String,
        #[arg(long)]
        by: String,
    },
    /// App updates for the laptops: releases the app's builder signed, one
    /// per platform, offered to older laptops when they next sync.
    Updates {
        #[command(subcommand)]
        action: UpdatesAction,
    },
    /// Changes held apart because their id or slot was already taken with other content.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// The clinic's audit: what administrators decided and what staff read
    /// in the workspace, by whom and when (ids only).
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
    },
    /// Accepted changes whose free text shows the case's victim's address:
    /// the case, the record and the fields, never the text.
    Warnings,
    /// Counts of devices and ops.
    Status,
    /// Serve the sync API, and the staff workspace at /w/, over TLS.
    Serve {
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: String,
        /// A CA-issued certificate chain (PEM), instead of the clinic's own.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The largest sealed batch accepted, in bytes.
        #[arg(long, default_value_t = 16 * 1024 * 1024)]
        max_batch_bytes: u64,
        #[arg(long, default_value_t = 5000)]
        max_ops: u32,
        /// Requests a minute from one network address (raise it when many laptops share one office address).
        #[arg(long, default_value_t = crate::server::RateLimits::default().per_address)]
        per_address: u32,
        /// Enrolment attempts a minute from one address.
        #[arg(long, default_value_t = crate::server::RateLimits::default().enrol_per_address)]
        enrol_per_address: u32,
        /// Signed calls and pushes a minute from one laptop.
        #[arg(long, default_value_t = crate::server::RateLimits::default().per_device)]
        per_device: u32,
        /// The built workspace pages (ui/dist-workspace, from `npm run build:workspace`).
        /// Without it the workspace's API still answers, but no pages are served.
        #[arg(long)]
        workspace_ui: Option<PathBuf>,
    },
    /// Take an offline bundle from a device (`waymark sync export`), as if it had been pushed.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Add someone to the register.
    Add {
        /// Their staff code (letters, digits, '-' or '_'): what their changes are recorded under.
        code: String,
        /// Their name as colleagues know it, shown at the clinic only.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::StaffRole,
        /// The agency a panel member or a referrer works for: police, cps,
        /// probation, mental_health, victims_charity, or the service's own name.
        #[arg(long)]
        agency: Option<String>,
    },
    /// List the register.
    List,
    /// Stop someone syncing or being enrolled (their laptops keep their data; revoke a lost laptop instead).
    Deactivate { code: String },
    /// Let someone sync again.
    Activate { code: String },
    /// Set someone's workspace password (asked twice; an administrator's act, audited).
    Password {
        code: String,
        /// The administrator doing it.
        #[arg(long)]
        by: String,
        /// Read it from the first line of this file instead of asking (for a
        /// setup script): a regular file the clinic's account owns, mode 600.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Give someone a new authenticator secret, shown once with its QR code (audited).
    SecondFactor {
        code: String,
        #[arg(long)]
        by: String,
        /// The name their authenticator app shows for the clinic.
        #[arg(long, default_value = "Waymark clinic")]
        issuer: String,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Every line, oldest first (the default).
    List,
    /// Recompute the hash chain: exits non-zero naming the first line changed or removed.
    /// Prints the chain's head; keep it somewhere the database's holder cannot reach.
    Verify {
        /// A head printed by an earlier check (SEQ:HASH): that line must still hold that hash,
        /// which a rewrite of the whole chain with the database's key cannot keep.
        #[arg(long)]
        expect: Option<String>,
    },
}

fn update_target(text: &str) -> Result<waymark_protocol::messages::UpdateTarget, String> {
    waymark_protocol::messages::UpdateTarget::from_wire(text).ok_or_else(|| {
        let known: Vec<&str> = waymark_protocol::messages::UpdateTarget::ALL.iter().map(|t| t.wire()).collect();
        format!("one of {}", known.join(", "))
    })
}

#[derive(Subcommand)]
enum UpdatesAction {
    /// Offer a signed release to this platform's laptops, replacing the one there.
    Publish {
        /// The platform, as Tauri's updater names it (linux-x86_64, windows-x86_64, darwin-x86_64, darwin-aarch64).
        #[arg(long, value_parser = update_target)]
        target: waymark_protocol::messages::UpdateTarget,
        /// The release's version, as in the app's tauri.conf.json (e.g. 0.2.0).
        #[arg(long)]
        version: String,
        /// The installer the builder made (the .deb, .msi or .app.tar.gz).
        #[arg(long)]
        file: PathBuf,
        /// The .sig file `tauri signer sign` wrote beside it.
        #[arg(long)]
        signature: PathBuf,
        /// The app's update public key (.pub): the signature is checked here too
        /// before anything is offered, so laptops are never offered a file they would refuse.
        #[arg(long)]
        public_key: PathBuf,
        /// What the advocate is told about the release.
        #[arg(long)]
        notes: Option<String>,
    },
    /// The releases on offer.
    List,
    /// Stop offering a platform's release.
    Withdraw {
        #[arg(long, value_parser = update_target)]
        target: waymark_protocol::messages::UpdateTarget,
    },
}

#[derive(Subcommand)]
enum QuarantineAction {
    /// Every quarantined change: device, slot, op id, kind, case, and any decision. Never its content.
    List,
    /// Let one into the feed as the clinic's op, after the authority rules (audited).
    Release {
        id: i64,
        /// The administrator's staff code.
        #[arg(long)]
        by: String,
        /// Why (kept with the change, not in the audit).
        #[arg(long)]
        reason: String,
    },
    /// Keep one out for good (it stays kept; audited).
    Discard {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
}

/// Names a file holding the passphrase, for a service unit or a script. The
/// passphrase itself is never read from the environment, where it would sit
/// for the server's life and reach every child process and crash report.
const PASSPHRASE_FILE_VAR: &str = "WAYMARK_CLINIC_PASSPHRASE_FILE";

fn passphrase_from_file() -> Result<Option<SecretString>, ClinicError> {
    if std::env::var_os("WAYMARK_CLINIC_PASSPHRASE").is_some() {
        return Err(ClinicError::Setup(format!(
            "WAYMARK_CLINIC_PASSPHRASE is not read: put the passphrase in a file only the clinic's account can read and set {PASSPHRASE_FILE_VAR} to its path"
        )));
    }
    let Some(path) = std::env::var_os(PASSPHRASE_FILE_VAR) else { return Ok(None) };
    secret_from_file(std::path::Path::new(&path), PASSPHRASE_FILE_VAR).map(Some)
}

/// The first line of a secret's file, checked on the handle that reads it:
/// a regular file (not a link) owned by this account and readable by it only.
fn secret_from_file(path: &std::path::Path, named_by: &str) -> Result<SecretString, ClinicError> {
    crate::identity::read_private(path, named_by)
}

fn prompt(label: &str) -> Result<SecretString, ClinicError> {
    rpassword::prompt_password(format!("{label}: "))
        .map(SecretString::from)
        .map_err(|_| ClinicError::Setup(format!("no terminal to ask for the passphrase; set {PASSPHRASE_FILE_VAR}")))
}

/// The passphrase that opens the clinic folder.
fn passphrase() -> Result<SecretString, ClinicError> {
    match passphrase_from_file()? {
        Some(p) => Ok(p),
        None => prompt("Clinic passphrase"),
    }
}

/// A new clinic passphrase: asked twice when typed, checked by the one rule.
fn new_passphrase() -> Result<SecretString, ClinicError> {
    if let Some(p) = passphrase_from_file()? {
        return Ok(p);
    }
    eprintln!("Choose a passphrase of three or more random words (NCSC advice).");
    let first = prompt("New clinic passphrase")?;
    let second = prompt("Type it again")?;
    use age::secrecy::ExposeSecret;
    if first.expose_secret() != second.expose_secret() {
        return Err(ClinicError::Setup("the two passphrases differ; nothing was created".into()));
    }
    Ok(first)
}

/// The whole program: parse, run, report.
pub fn main() -> ExitCode {
    if std::env::var_os("WAYMARK_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("WAYMARK_LOG"))
            .init();
    }
    let cli = Cli::parse();
    // It holds the clinic's keys: no core dump, and no reading of its memory
    // by the account's other processes (an administrator's command, say).
    #[cfg(target_os = "linux")]
    if rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable).is_err() {
        tracing::warn!("the clinic could not mark itself undumpable");
    }
    // Before any database is opened: a locked process skips SQLCipher's
    // per-allocation locking. Not on PostgreSQL, where the feed reaches the
    // database sealed, only the clinic's copy of the records is SQLCipher, and
    // a locked process measured two to three times slower pushes
    // (ARCHITECTURE.md, "Memory"); there SQLCipher locks its own allocations.
    if !crate::identity::ClinicFiles::new(&cli.dir).postgres().exists() {
        match waymark_sqlcipher::lock_process_memory() {
            Ok(()) => tracing::debug!("the clinic's memory is locked whole"),
            Err(e) => {
                tracing::warn!("{e}; each database allocation is locked instead, which is slower");
                if matches!(cli.command, Command::Serve { .. }) {
                    eprintln!("warning: {e}; each database allocation is locked instead, which is slower");
                }
            }
        }
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), ClinicError> {
    let dir = cli.dir;
    match cli.command {
        Command::Init { hosts, recovery_out, work_factor, postgres_file } => {
            let postgres = postgres_file.map(|path| secret_from_file(&path, "--postgres-file")).transpose()?;
            // Opened before the clinic is made, so a place it cannot be written never loses it.
            let mut recovery_file = new_private(&recovery_out)?;
            let made = Clinic::init_on(
                &dir,
                &new_passphrase()?,
                &hosts,
                work_factor,
                crate::system_now(),
                postgres.as_ref().map(|p| p.expose_secret()),
            );
            let (clinic, recovery) = match made {
                Ok(made) => made,
                Err(e) => {
                    drop(recovery_file);
                    let _ = std::fs::remove_file(&recovery_out);
                    return Err(e);
                }
            };
            use age::secrecy::ExposeSecret;
            let text = format!(
                "# Waymark clinic recovery identity. Keep offline.\n{}\n",
                recovery.to_string().expose_secret()
            );
            std::io::Write::write_all(&mut recovery_file, text.as_bytes())
                .and_then(|()| recovery_file.sync_all())
                .map_err(|e| ClinicError::Setup(format!("write the recovery identity: {}", e.kind())))?;
            println!("clinic {} created in {}", clinic.info.clinic_id, dir.display());
            println!("certificate fingerprint (SHA-256): {}", clinic.info.fingerprint);
            println!("recovery identity written to {}; move it offline now", recovery_out.display());
        }
        Command::Staff { action } => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            match action {
                StaffAction::Add { code, name, role, agency } => {
                    crate::StaffMember::check_code(&code)?;
                    // A known agency by its name, anything else as the service's own.
                    let agency = agency.map(|a| {
                        serde_json::from_value::<waymark_domain::Agency>(serde_json::Value::String(a.clone()))
                            .unwrap_or(waymark_domain::Agency::Other(a))
                    });
                    if matches!(role, crate::StaffRole::PanelMember) && agency.is_none() {
                        return Err(ClinicError::BadRequest("a panel member needs --agency"));
                    }
                    let name = name.trim().to_owned();
                    if name.is_empty() || name.chars().count() > 120 {
                        return Err(ClinicError::BadRequest("a name is 1 to 120 characters"));
                    }
                    store.add_staff(&crate::StaffMember {
                        code: code.clone(),
                        name,
                        role,
                        active: true,
                        added_at: crate::system_now(),
                        agency,
                    })?;
                    println!("{code} added as {}", role.as_str());
                }
                StaffAction::List => {
                    println!("{:<12}  {:<13}  {:<8}  name", "code", "role", "active");
                    for m in store.staff_list()? {
                        println!(
                            "{:<12}  {:<13}  {:<8}  {}",
                            m.code,
                            m.role.as_str(),
                            if m.active { "yes" } else { "no" },
                            m.name
                        );
                    }
                }
                StaffAction::Deactivate { code } | StaffAction::Activate { code } if store.staff(&code)?.is_none() => {
                    return Err(ClinicError::UnknownStaff);
                }
                StaffAction::Deactivate { code } => {
                    store.set_staff_active(&code, false)?;
                    println!("{code} is inactive: their laptops are refused until reactivated");
                }
                StaffAction::Activate { code } => {
                    store.set_staff_active(&code, true)?;
                    println!("{code} is active");
                }
                StaffAction::Password { code, by, password_file } => {
                    let first = match password_file {
                        Some(path) => secret_from_file(&path, "--password-file")?,
                        None => {
                            eprintln!("Choose a password of three or more random words for {code} (NCSC advice).");
                            let first = prompt("New password")?;
                            let second = prompt("Type it again")?;
                            use age::secrecy::ExposeSecret;
                            if first.expose_secret() != second.expose_secret() {
                                return Err(ClinicError::BadRequest("the two passwords differ"));
                            }
                            first
                        }
                    };
                    let mut rng = rand::rngs::OsRng;
                    crate::signin::set_password(&*store, &code, &by, &first, crate::system_now(), &mut rng)?;
                    println!("{code}'s password is set; their other sessions have ended");
                }
                StaffAction::SecondFactor { code, by, issuer } => {
                    let mut rng = rand::rngs::OsRng;
                    let secret =
                        crate::signin::reset_second_factor(&*store, &code, &by, crate::system_now(), &mut rng)?;
                    let uri = secret.otpauth_uri(&issuer, &code);
                    if let Ok(qr) = qrcode::QrCode::new(uri.as_bytes()) {
                        println!("{}", qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
                    }
                    println!(
                        "Scan it with {code}'s authenticator app, or type this secret in: {}",
                        secret.base32().as_str()
                    );
                    println!("It is shown this once; their other sessions have ended.");
                }
            }
        }
        Command::Enrol { advocate, url, ca_issued, no_qr } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            let request = crate::enrolment::CodeRequest { advocate: &advocate, url: &url, ca_issued };
            let (code, expires) = crate::enrolment::issue_code(
                &*store,
                &clinic.info,
                &request,
                crate::system_now(),
                &mut rand::rngs::OsRng,
            )?;
            let code = code.to_text();
            if !no_qr {
                if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
                    println!("{}", qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
                }
            }
            println!("{code}");
            println!("for {advocate} only, valid once, until {}", waymark_domain::time::show_london(expires));
        }
        Command::Devices => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            println!("{:<36}  {:<10}  {:<11}  {:>8}  last seen", "device", "advocate", "status", "acked");
            for d in store.devices()? {
                let status = match (d.status, d.confirmed) {
                    (crate::DeviceStatus::Revoked, _) => "revoked",
                    (_, false) => "unconfirmed",
                    _ => "active",
                };
                let seen = d.last_seen_at.map_or_else(|| "never".into(), waymark_domain::time::show_london);
                println!("{:<36}  {:<10}  {:<11}  {:>8}  {seen}", d.id, d.advocate, status, d.acked_through);
            }
        }
        Command::Confirm { device, advocate } => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            if !store.confirm_device(device, &advocate)? {
                return Err(ClinicError::UnknownDevice);
            }
            println!("device {device} confirmed as {advocate}'s; it syncs their cases from its next contact");
        }
        Command::Revoke { device } => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            if !store.revoke(device, crate::system_now())? {
                return Err(ClinicError::UnknownDevice);
            }
            println!("device {device} revoked; it will be told to erase its vault at its next contact");
        }
        Command::Wipe { confirm } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            if clinic.info.clinic_id != confirm {
                return Err(ClinicError::BadRequest("the clinic id typed does not match this clinic"));
            }
            let files = clinic.files.clone();
            let on_postgres = clinic.postgres()?.is_some();
            // The database itself goes first, while this folder's key still proves it is this clinic's.
            if let Some(connection) = clinic.postgres()? {
                crate::store::PostgresStore::open(&connection, clinic.db_key_for_wipe())?.wipe()?;
            }
            drop(clinic);
            let db = files.database();
            for path in [
                files.secrets(),
                db.clone(),
                db.with_extension("db-wal"),
                db.with_extension("db-shm"),
                files.postgres(),
            ] {
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| ClinicError::Setup(format!("erase: {}", e.kind())))?;
                }
            }
            if on_postgres {
                println!("clinic {confirm} wiped: its tables in PostgreSQL and this folder's key file are gone; wipe every other server's copy of the folder too");
            } else {
                println!("clinic {confirm} wiped: its key file and database are gone");
            }
        }
        Command::Review { case, by, fields } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            let op = crate::authoring::clinic_review(
                &*store,
                &clinic.service_rules()?,
                clinic.info.clinic_id,
                case,
                &by,
                &fields,
                crate::system_now(),
            )?;
            println!("review {} recorded; the case's advocate receives it at their next sync", op.record_id);
        }
        Command::Reassign { case, to, by } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            crate::authoring::reassign(&*store, clinic.info.clinic_id, case, &to, &by, crate::system_now())?;
            println!("case reassigned; the new advocate's laptops receive its history at their next sync");
        }
        Command::Updates { action } => {
            let releases = crate::updates::Releases::at(ClinicFiles::new(&dir).updates());
            match action {
                UpdatesAction::Publish { target, version, file, signature, public_key, notes } => {
                    let publication = crate::updates::Publication {
                        target,
                        version: &version,
                        file: &file,
                        signature_file: &signature,
                        public_key_file: Some(&public_key),
                        notes: notes.as_deref(),
                    };
                    let release = releases.publish(&publication, crate::system_now())?;
                    println!(
                        "published {} {} ({} bytes, sha256 {}); its signature holds under the key given",
                        release.target.wire(),
                        release.version,
                        release.size,
                        release.sha256
                    );
                }
                UpdatesAction::List => {
                    for release in releases.list()? {
                        println!(
                            "{:<16} {:<12} {} {:>10} bytes  sha256 {}",
                            release.target.wire(),
                            release.version,
                            waymark_domain::time::show_london(release.published_at),
                            release.size,
                            release.sha256
                        );
                    }
                }
                UpdatesAction::Withdraw { target } => {
                    let had = releases.withdraw(target)?;
                    println!("{}", if had { "withdrawn" } else { "nothing was on offer for that platform" });
                }
            }
        }
        Command::Quarantine { action } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            match action {
                QuarantineAction::List => {
                    println!(
                        "{:>4}  {:<36}  {:>6}  {:<36}  {:<18}  {:<10}  decision",
                        "id", "device", "seq", "op", "kind", "id taken"
                    );
                    for q in store.quarantine_list()? {
                        let decision = q.decision.map_or_else(
                            || "undecided".to_owned(),
                            |d| format!("{} by {}", d.as_str(), q.decided_by.as_deref().unwrap_or("?")),
                        );
                        println!(
                            "{:>4}  {:<36}  {:>6}  {:<36}  {:<18}  {:<10}  {decision}",
                            q.id,
                            q.origin,
                            q.seq,
                            q.op_id,
                            // The kind came from a laptop: shown only when it is one this clinic knows.
                            waymark_domain::RecordKind::from_wire(&q.kind)
                                .map_or("(unknown)", waymark_domain::RecordKind::wire),
                            if q.id_taken { "yes" } else { "no" }
                        );
                    }
                }
                QuarantineAction::Release { id, by, reason } => {
                    let op = crate::authoring::release_quarantined(
                        &*store,
                        &clinic.service_rules()?,
                        clinic.info.clinic_id,
                        id,
                        &by,
                        &reason,
                        crate::system_now(),
                    )?;
                    println!(
                        "quarantined change {id} released as op {}; the case's laptops receive it at their next sync",
                        op.op_id
                    );
                }
                QuarantineAction::Discard { id, by, reason } => {
                    crate::authoring::discard_quarantined(
                        &*store,
                        &clinic.service_rules()?,
                        id,
                        &by,
                        &reason,
                        crate::system_now(),
                    )?;
                    println!("quarantined change {id} discarded; it stays kept, out of the feed");
                }
            }
        }
        Command::Audit { action: Some(AuditAction::Verify { expect }) } => {
            let anchor = match &expect {
                Some(text) => {
                    let (seq, hash) = text
                        .split_once(':')
                        .and_then(|(seq, hash)| Some((seq.parse::<i64>().ok()?, hash)))
                        .ok_or(ClinicError::BadRequest("--expect takes SEQ:HASH, as an earlier verify printed it"))?;
                    Some((seq, hash))
                }
                None => None,
            };
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            let found = crate::store::verify_audit(&store.admin_audit()?, store.audit_bounds()?, anchor)?;
            println!(
                "the audit verifies: {} lines in the hash chain, {} written before the chain began",
                found.chained, found.before_chain
            );
            if let Some((seq, hash)) = found.head {
                println!("head {seq}:{hash} (keep it elsewhere; `audit verify --expect {seq}:{hash}` checks it later)");
            }
        }
        Command::Audit { action: None | Some(AuditAction::List) } => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            for e in store.admin_audit()? {
                println!(
                    "{:>5}  {}  {:<10}  {:<22}  {}  {}",
                    e.seq,
                    waymark_domain::time::show_london(e.at),
                    e.actor,
                    e.action.as_str(),
                    e.target.as_deref().unwrap_or("-"),
                    e.detail
                );
            }
        }
        Command::Warnings => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            for w in store.text_warnings()? {
                println!(
                    "{}  case {}  {} {}  the victim's address in: {}",
                    waymark_domain::time::show_london(w.at),
                    w.case_id,
                    w.kind,
                    w.record_id,
                    w.fields.join(", ")
                );
            }
        }
        Command::Status => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let stats = clinic.open_store()?.stats()?;
            println!("clinic {}", clinic.info.clinic_id);
            println!("certificate fingerprint: {}", clinic.info.fingerprint);
            println!(
                "devices: {} active, {} revoked, {} unconfirmed; ops held: {}; quarantined: {}; refused: {}; recognised after a rejoin: {}",
                stats.devices_active,
                stats.devices_revoked,
                stats.devices_unconfirmed,
                stats.ops,
                stats.quarantined,
                stats.refused,
                stats.recognised
            );
        }
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            max_batch_bytes,
            max_ops,
            per_address,
            enrol_per_address,
            per_device,
            workspace_ui,
        } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let ca = tls_cert.as_deref().zip(tls_key.as_deref());
            let tls = clinic.tls_config(ca)?;
            let mut state = app_state(&clinic, Limits { max_batch_bytes, max_ops })?;
            state.projection = Some(Arc::new(clinic.open_projection(state.clock.clone())?));
            if let Some(dir) = &workspace_ui {
                state.workspace_ui = Some(Arc::new(crate::workspace::WorkspaceUi::load(dir)?));
            }
            state.throttle =
                crate::server::Throttle::new(crate::server::RateLimits { per_address, enrol_per_address, per_device });
            crate::signin::prepare();
            // What an older clinic, or one with other service files, held back.
            let let_in =
                state.store.rejudge_held(waymark_protocol::SCHEMA_VERSION, &state.service, crate::system_now())?;
            if let_in > 0 {
                tracing::info!(ops = let_in, "held changes judged again and let into the feed");
            }
            let listener = std::net::TcpListener::bind(&listen)
                .map_err(|e| ClinicError::Setup(format!("listen: {}", e.kind())))?;
            let address = listener.local_addr().map_err(|e| ClinicError::Setup(format!("listen: {}", e.kind())))?;
            // Tests and scripts read this line to find the port.
            println!("listening on https://{address}");
            let runtime =
                tokio::runtime::Runtime::new().map_err(|e| ClinicError::Setup(format!("runtime: {}", e.kind())))?;
            runtime
                .block_on(crate::server::serve(listener, tls, state))
                .map_err(|e| ClinicError::Setup(format!("serve: {}", e.kind())))?;
        }
        Command::Import { file } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let state = app_state(&clinic, Limits::default())?;
            let bytes =
                std::fs::read(&file).map_err(|e| ClinicError::Setup(format!("read the bundle: {}", e.kind())))?;
            let (_, _, stored) = crate::server::receive_upward(&state, &bytes, crate::server::Freshness::Bundle)?;
            println!(
                "bundle imported: {} new, {} already held, {} quarantined, {} refused; the clinic now holds this device's ops through {}",
                stored.inserted,
                stored.duplicates + stored.recognised,
                stored.quarantined.len(),
                stored.refused.len(),
                stored.acked_through
            );
        }
    }
    Ok(())
}

fn app_state(clinic: &Clinic, limits: Limits) -> Result<AppState, ClinicError> {
    Ok(AppState {
        store: clinic.open_store()?,
        clinic_id: clinic.info.clinic_id,
        keys: clinic.keys.clone(),
        limits,
        deadlines: crate::server::Deadlines::default(),
        clock: Arc::new(crate::system_now),
        throttle: crate::server::Throttle::new(crate::server::RateLimits::default()),
        service: Arc::new(clinic.service_rules()?),
        projection: None,
        workspace_ui: None,
        identity: Some(Arc::new(clinic.info.clone())),
        templates: Arc::new(crate::minutes::ClinicTemplates::with_overrides(&clinic.files.dir.join("templates"))?),
        updates: Some(Arc::new(crate::updates::Releases::at(clinic.files.updates()))),
        push_order: Arc::default(),
    })
}

/// A new file only its owner can read, for the recovery identity.
fn new_private(path: &std::path::Path) -> Result<std::fs::File, ClinicError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| ClinicError::Setup(format!("write the recovery identity: {}", e.kind())))
}
