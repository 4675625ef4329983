//! A real `waymark-clinic` process in a temporary folder, as the scenario
//! tests and the sync benchmark drive it.

use age::secrecy::SecretString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const CLINIC_PASSPHRASE: &str = "clinic scenario pass words";

pub struct ClinicProcess {
    binary: PathBuf,
    serve_args: Vec<String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
}

impl ClinicProcess {
    /// Initialises a clinic for 127.0.0.1 and localhost and serves it on a
    /// free loopback port. `binary` is the test's `CARGO_BIN_EXE_clinic`.
    pub fn init(binary: &Path, serve_args: &[&str]) -> Self {
        Self::init_with(binary, serve_args, None)
    }

    /// As `init`, with the clinic's state in the PostgreSQL database `connection` names.
    pub fn init_on_postgres(binary: &Path, serve_args: &[&str], connection: &str) -> Self {
        Self::init_with(binary, serve_args, Some(connection))
    }

    fn init_with(binary: &Path, serve_args: &[&str], postgres: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut clinic = ClinicProcess {
            binary: binary.to_owned(),
            serve_args: serve_args.iter().map(|a| (*a).to_owned()).collect(),
            dir,
            child: None,
            port: 0,
        };
        write_private(&clinic.passphrase_file(), CLINIC_PASSPHRASE);
        let recovery = clinic.recovery_file();
        let recovery = recovery.to_str().expect("a UTF-8 temporary path");
        let mut init = vec![
            "init",
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "--work-factor",
            "10",
            "--recovery-out",
            recovery,
        ];
        let postgres_file = clinic.dir.path().join("postgres.conf");
        if let Some(connection) = postgres {
            write_private(&postgres_file, connection);
            init.extend(["--postgres-file", postgres_file.to_str().expect("a UTF-8 temporary path")]);
        }
        clinic.run(&init);
        clinic.start();
        clinic
    }

    /// Another server of the same clinic, as a hosting team adds one behind
    /// its load balancer: a copy of the clinic's folder (its identity, key
    /// file and `postgres.conf`, not its cache), served on a port of its own.
    pub fn another_server(&self) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut clinic = ClinicProcess {
            binary: self.binary.clone(),
            serve_args: self.serve_args.clone(),
            dir,
            child: None,
            port: 0,
        };
        write_private(&clinic.passphrase_file(), CLINIC_PASSPHRASE);
        std::fs::create_dir(clinic.folder()).expect("the copy's folder");
        for name in ["clinic.json", "clinic.key", "cert.pem", "postgres.conf"] {
            // std::fs::copy keeps the owner-only permissions the clinic checks.
            std::fs::copy(self.folder().join(name), clinic.folder().join(name)).expect("the clinic's file is copied");
        }
        clinic.start();
        clinic
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env("WAYMARK_CLINIC_PASSPHRASE_FILE", self.passphrase_file())
            .env_remove("WAYMARK_LOG")
            .arg("--dir")
            .arg(self.folder());
        command
    }

    /// The file the passphrase is read from, as a service unit would name it.
    fn passphrase_file(&self) -> PathBuf {
        self.dir.path().join("passphrase")
    }

    pub fn folder(&self) -> PathBuf {
        self.dir.path().join("clinic")
    }

    /// The clinic's recovery identity, which `init` writes for keeping offline.
    pub fn recovery_file(&self) -> PathBuf {
        self.dir.path().join("recovery.txt")
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The server's process id, to read its memory.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the clinic is running").id()
    }

    /// Starts `serve`, on the same port as before after a restart.
    pub fn start(&mut self) {
        let mut child = self
            .command()
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.serve_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the clinic starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the clinic prints its address");
        self.port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("the clinic prints its port");
        self.child = Some(child);
    }

    /// Ends the server with SIGKILL: no shutdown, no flush.
    pub fn sigkill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("the clinic can be killed");
            child.wait().expect("the clinic is reaped");
        }
    }

    /// Runs an admin command on the clinic's folder and returns what it printed.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("the clinic command runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// A fresh enrolment code for a clinic at `url`, bound to `advocate`,
    /// who is added to the staff register first if they are not in it.
    pub fn code(&self, url: &str, advocate: &str) -> String {
        let listed = self.run(&["staff", "list"]);
        if !listed.lines().any(|l| l.split_whitespace().next() == Some(advocate)) {
            self.run(&[
                "staff",
                "add",
                advocate,
                "--name",
                &format!("Scenario advocate {advocate}"),
                "--role",
                "advocate",
            ]);
        }
        self.run(&["enrol", "--advocate", advocate, "--url", url, "--no-qr"])
            .lines()
            .find(|l| l.starts_with("WAYMARK1-"))
            .expect("a code")
            .to_owned()
    }

    pub fn stats(&self) -> waymark_clinic::store::Stats {
        let passphrase = SecretString::from(CLINIC_PASSPHRASE.to_owned());
        let clinic = waymark_clinic::Clinic::unlock(&self.folder(), &passphrase).expect("the clinic unlocks");
        clinic.open_store().expect("the store opens").stats().expect("the store counts")
    }
}

impl Drop for ClinicProcess {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// Writes a file only its owner can read, as the clinic requires of its passphrase file.
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("a private file");
    file.write_all(text.as_bytes()).expect("the file is written");
}
