//! `waymark-clinic`: the clinic administrator's command line. Each command
//! parses its arguments and calls the library. It lives in the library so
//! scenario tests can run the same program as a helper process.

use crate::store::ClinicStore;
use crate::{AppState, Clinic, ClinicError};
use age::secrecy::SecretString;
use base64::Engine;
use chrono::Utc;
use clap::{Parser, Subcommand};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;
use waymark_protocol::enrol::EnrolmentCode;
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
    },
    /// Print a one-time enrolment code (valid for 24 hours) and its QR code.
    Enrol {
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
    /// List enrolled devices.
    Devices,
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
    /// Counts of devices and ops.
    Status,
    /// Serve the sync API over TLS.
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
    },
    /// Take an offline bundle from a device (`waymark sync export`), as if it had been pushed.
    Import { file: PathBuf },
}

fn passphrase() -> Result<SecretString, ClinicError> {
    if let Ok(p) = std::env::var("WAYMARK_CLINIC_PASSPHRASE") {
        return Ok(SecretString::from(p));
    }
    rpassword::prompt_password("Clinic passphrase: ").map(SecretString::from).map_err(|_| ClinicError::Setup("no passphrase given".into()))
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
        Command::Init { hosts, recovery_out, work_factor } => {
            let (clinic, recovery) = Clinic::init(&dir, &passphrase()?, &hosts, work_factor, Utc::now())?;
            use age::secrecy::ExposeSecret;
            let text = format!("# Waymark clinic recovery identity. Keep offline.\n{}\n", recovery.to_string().expose_secret());
            write_new_private(&recovery_out, text.as_bytes())?;
            println!("clinic {} created in {}", clinic.info.clinic_id, dir.display());
            println!("certificate fingerprint (SHA-256): {}", clinic.info.fingerprint);
            println!("recovery identity written to {}; move it offline now", recovery_out.display());
        }
        Command::Enrol { url, ca_issued, no_qr } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            let mut secret = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
            let expires = Utc::now() + chrono::Duration::hours(24);
            store.add_enrolment(&hex::encode(Sha256::digest(token.as_bytes())), expires)?;
            let code = EnrolmentCode {
                url,
                fingerprint: (!ca_issued).then(|| clinic.info.fingerprint.clone()),
                clinic_id: clinic.info.clinic_id,
                clinic: clinic.info.keys.clone(),
                recovery: Some(clinic.info.recovery.clone()),
                token,
            }
            .to_text();
            if !no_qr {
                if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
                    println!("{}", qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
                }
            }
            println!("{code}");
            println!("valid once, until {}", waymark_domain::time::show_london(expires));
        }
        Command::Devices => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            println!("{:<36}  {:<10}  {:<8}  {:>8}  last seen", "device", "advocate", "status", "acked");
            for d in store.devices()? {
                let status = if d.status == crate::DeviceStatus::Active { "active" } else { "revoked" };
                let seen = d.last_seen_at.map_or_else(|| "never".into(), waymark_domain::time::show_london);
                println!("{:<36}  {:<10}  {:<8}  {:>8}  {seen}", d.id, d.advocate, status, d.acked_through);
            }
        }
        Command::Revoke { device } => {
            let store = Clinic::unlock(&dir, &passphrase()?)?.open_store()?;
            if !store.revoke(device, Utc::now())? {
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
            drop(clinic);
            let db = files.database();
            for path in [files.secrets(), db.clone(), db.with_extension("db-wal"), db.with_extension("db-shm")] {
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| ClinicError::Setup(format!("erase: {}", e.kind())))?;
                }
            }
            println!("clinic {confirm} wiped: its key file and database are gone");
        }
        Command::Review { case, by, fields } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            let op = crate::authoring::clinic_review(&store, clinic.info.clinic_id, case, &by, &fields, Utc::now())?;
            println!("review {} recorded; the case's advocate receives it at their next sync", op.record_id);
        }
        Command::Reassign { case, to, by } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let store = clinic.open_store()?;
            crate::authoring::reassign(&store, clinic.info.clinic_id, case, &to, &by, Utc::now())?;
            println!("case reassigned; the new advocate's laptops receive its history at their next sync");
        }
        Command::Status => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let stats = clinic.open_store()?.stats()?;
            println!("clinic {}", clinic.info.clinic_id);
            println!("certificate fingerprint: {}", clinic.info.fingerprint);
            println!(
                "devices: {} active, {} revoked; ops held: {}; quarantined: {}",
                stats.devices_active, stats.devices_revoked, stats.ops, stats.quarantined
            );
        }
        Command::Serve { listen, tls_cert, tls_key, max_batch_bytes, max_ops } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let ca = tls_cert.as_deref().zip(tls_key.as_deref());
            let tls = clinic.tls_config(ca)?;
            let state = app_state(&clinic, Limits { max_batch_bytes, max_ops })?;
            let listener = std::net::TcpListener::bind(&listen).map_err(|e| ClinicError::Setup(format!("listen: {}", e.kind())))?;
            let address = listener.local_addr().map_err(|e| ClinicError::Setup(format!("listen: {}", e.kind())))?;
            // Tests and scripts read this line to find the port.
            println!("listening on https://{address}");
            let runtime = tokio::runtime::Runtime::new().map_err(|e| ClinicError::Setup(format!("runtime: {}", e.kind())))?;
            runtime.block_on(crate::server::serve(listener, tls, state)).map_err(|e| ClinicError::Setup(format!("serve: {}", e.kind())))?;
        }
        Command::Import { file } => {
            let clinic = Clinic::unlock(&dir, &passphrase()?)?;
            let state = app_state(&clinic, Limits::default())?;
            let bytes = std::fs::read(&file).map_err(|e| ClinicError::Setup(format!("read the bundle: {}", e.kind())))?;
            let stored = crate::server::receive_upward(&state, &bytes)?;
            println!(
                "bundle imported: {} new, {} already held, {} quarantined; the clinic now holds this device's ops through {}",
                stored.inserted,
                stored.duplicates,
                stored.quarantined.len(),
                stored.acked_through
            );
        }
    }
    Ok(())
}

fn app_state(clinic: &Clinic, limits: Limits) -> Result<AppState, ClinicError> {
    Ok(AppState {
        store: Arc::new(clinic.open_store()?),
        clinic_id: clinic.info.clinic_id,
        keys: clinic.keys.clone(),
        limits,
        clock: Arc::new(Utc::now),
    })
}

fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), ClinicError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| ClinicError::Setup(format!("write the recovery identity: {}", e.kind())))?;
    file.write_all(bytes).map_err(|e| ClinicError::Setup(format!("write the recovery identity: {}", e.kind())))
}
