//! A clinic with a fictional staff, for `cargo xtask run` (kept in
//! `demo-clinic/` so its sign-ins last between runs) and the workspace's
//! end-to-end test (a fresh one each time). Every member gets a password
//! and an authenticator secret through the clinic's own commands, as an
//! administrator would give them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The demo staff's password (fictional clinic only).
pub const DEMO_STAFF_PASSWORD: &str = "fictional clinic staff only";
const CLINIC_PASSPHRASE: &str = "fictional demo clinic only";
/// The advocate the demo vault records its changes under.
pub const DEMO_ADVOCATE: &str = "DEMO-ADV";

/// (code, name, role) of each demo member of staff.
const STAFF: &[(&str, &str, &str)] = &[
    ("ADM1", "Alex Admin (DEMO)", "administrator"),
    ("CRD1", "Casey Coordinator (DEMO)", "coordinator"),
    ("MGR1", "Morgan Manager (DEMO)", "manager"),
    ("PNL1", "Pat Panel (DEMO)", "panel_member"),
    ("PNL2", "Sam Support (DEMO)", "panel_member"),
    ("REF1", "Robin Referrer (DEMO)", "referrer"),
    (DEMO_ADVOCATE, "Dana Advocate (DEMO)", "advocate"),
];

pub struct DemoClinic {
    binary: PathBuf,
    /// Holds `clinic/`, the passphrase file and `staff.json`.
    dir: PathBuf,
}

impl DemoClinic {
    /// Opens the demo clinic in `dir`, making it (identity, staff, passwords,
    /// authenticator secrets) when the folder holds none.
    pub fn open_or_create(binary: &Path, dir: &Path) -> Result<DemoClinic, String> {
        let clinic = DemoClinic { binary: binary.to_owned(), dir: dir.to_owned() };
        // A demo made by an older build, without someone the demo now has, is made again.
        let has_everyone = std::fs::read_to_string(clinic.secrets_file())
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).ok())
            .is_some_and(|secrets| STAFF.iter().all(|(code, _, _)| secrets.contains_key(*code)));
        if clinic.folder().join("clinic.json").exists() && has_everyone {
            return Ok(clinic);
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        crate::write_private(&clinic.passphrase_file(), CLINIC_PASSPHRASE)?;
        let recovery = dir.join("recovery.txt");
        let recovery = recovery.to_string_lossy().into_owned();
        let init = ["init", "--host", "127.0.0.1", "--host", "localhost", "--work-factor", "10", "--recovery-out"];
        clinic.run(&[&init[..], &[recovery.as_str()]].concat(), "create the demo clinic")?;
        let password_file = dir.join("staff-password");
        crate::write_private(&password_file, DEMO_STAFF_PASSWORD)?;
        let password_file = password_file.to_string_lossy().into_owned();
        let mut secrets = serde_json::Map::new();
        for (code, name, role) in STAFF {
            let mut add = vec!["staff", "add", code, "--name", name, "--role", role];
            // The demo's referrer and first panel member are police officers; the
            // second panel member works for the victims' charity.
            match (*code, *role) {
                ("PNL2", _) => add.extend(["--agency", "victims_charity"]),
                (_, "panel_member" | "referrer") => add.extend(["--agency", "police"]),
                _ => {}
            }
            clinic.run(&add, "add demo staff")?;
        }
        for (code, _, _) in STAFF {
            let by = "ADM1";
            let set = ["staff", "password", code, "--by", by, "--password-file", password_file.as_str()];
            clinic.run(&set, "set a demo password")?;
            let shown = clinic.output(&["staff", "second-factor", code, "--by", by], "give a demo authenticator")?;
            let secret = shown
                .lines()
                .find_map(|l| l.split("type this secret in: ").nth(1))
                .map(str::trim)
                .ok_or("the clinic showed no authenticator secret")?;
            secrets.insert((*code).to_owned(), serde_json::Value::String(secret.to_owned()));
        }
        let text = serde_json::to_string_pretty(&secrets).map_err(|e| e.to_string())?;
        crate::write_private(&clinic.secrets_file(), &text)?;
        Ok(clinic)
    }

    /// A clinic someone else made in `dir` (`clinic/` and `passphrase` beside it).
    pub fn existing(binary: &Path, dir: &Path) -> DemoClinic {
        DemoClinic { binary: binary.to_owned(), dir: dir.to_owned() }
    }

    pub fn folder(&self) -> PathBuf {
        self.dir.join("clinic")
    }

    fn passphrase_file(&self) -> PathBuf {
        self.dir.join("passphrase")
    }

    /// Each member's base32 authenticator secret (fictional staff only).
    pub fn secrets_file(&self) -> PathBuf {
        self.dir.join("staff.json")
    }

    pub fn secrets(&self) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let text = std::fs::read_to_string(self.secrets_file()).map_err(|e| format!("read the demo secrets: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("the demo secrets: {e}"))
    }

    pub fn staff() -> impl Iterator<Item = (&'static str, &'static str)> {
        STAFF.iter().map(|(code, _, role)| (*code, *role))
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.env("WAYMARK_CLINIC_PASSPHRASE_FILE", self.passphrase_file()).arg("--dir").arg(self.folder());
        command
    }

    fn run(&self, args: &[&str], what: &str) -> Result<(), String> {
        self.output(args, what).map(|_| ())
    }

    fn output(&self, args: &[&str], what: &str) -> Result<String, String> {
        let out = self.command().args(args).output().map_err(|e| format!("{what}: {e}"))?;
        if !out.status.success() {
            return Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `serve` on `listen` with the built workspace pages; returns the
    /// process and the address it printed.
    pub fn serve(&self, listen: &str, ui: &Path) -> Result<(Child, String), String> {
        let mut child = self
            .command()
            .args(["serve", "--listen", listen, "--workspace-ui"])
            .arg(ui)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start the demo clinic: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("the clinic's output")?;
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("the clinic's address: {e}"))?;
        match line.trim().strip_prefix("listening on ") {
            Some(url) => Ok((child, url.to_owned())),
            None => {
                let _ = child.kill();
                Err("the demo clinic did not start; see its message above".into())
            }
        }
    }

    /// A one-time enrolment code for the demo advocate's laptop, for a clinic at `url`.
    pub fn enrolment_code(&self, url: &str) -> Result<String, String> {
        let out = self.output(&["enrol", "--advocate", DEMO_ADVOCATE, "--url", url, "--no-qr"], "issue a code")?;
        out.lines().find(|l| l.starts_with("WAYMARK1-")).map(str::to_owned).ok_or("no enrolment code was shown".into())
    }
}

/// Enrols a demo vault with the clinic, so its cases reach the workspace at
/// the next sync. A vault enrolled before (with an earlier demo clinic) is left as it is.
pub fn enrol(cli: &crate::DemoCli, clinic: &DemoClinic, url: &str, scratch: &Path) -> Result<bool, String> {
    let code_file = scratch.join("enrolment-code");
    crate::write_private(&code_file, &clinic.enrolment_code(url)?)?;
    let code_file = code_file.to_string_lossy().into_owned();
    let enrolled = cli.run(&["sync", "enrol", "--code-file", &code_file], "enrol the demo vault with the demo clinic");
    let _ = std::fs::remove_file(&code_file);
    if let Err(message) = enrolled {
        eprintln!(
            "The demo vault did not enrol with the demo clinic ({message}); delete demo-vault/ to start both afresh."
        );
        return Ok(false);
    }
    Ok(true)
}
