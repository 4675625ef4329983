//! `cargo xtask run|test|bench|setup`: the project's own commands, so a fresh
//! Debian machine needs nothing but these.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages: building SQLCipher with vendored OpenSSL (perl, make, a C
/// compiler) and the tests that use real tools (`age` decrypts a backup).
const DEBIAN_PACKAGES: &[&str] = &["build-essential", "pkg-config", "perl", "make", "age"];

/// The demo vault's passphrase. The demo vault holds only fictional data.
const DEMO_PASSPHRASE: &str = "fictional demo vault only";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "setup" => setup(),
        "test" => setup().and_then(|()| test()),
        "run" => setup().and_then(|()| run()),
        "bench" => setup().and_then(|()| bench()),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench|setup>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn status(mut cmd: Command, what: &str) -> Result<(), String> {
    eprintln!("==> {what}");
    let status = cmd.status().map_err(|e| format!("could not start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Installs the Debian packages that are missing (as root, or through sudo).
fn setup() -> Result<(), String> {
    if !Path::new("/usr/bin/dpkg-query").exists() {
        eprintln!("==> not a Debian system: install {} yourself", DEBIAN_PACKAGES.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = DEBIAN_PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut cmd = if is_root { Command::new("apt-get") } else { Command::new("sudo") };
        if !is_root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    status(apt(&["update", "-q"]), "apt-get update")?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&missing);
    status(apt(&install), &format!("apt-get install {}", missing.join(" ")))
}

fn test() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    status(fmt, "cargo fmt --check")?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--all-features", "--locked", "--", "-D", "warnings"]);
    status(clippy, "cargo clippy -D warnings")?;
    let nextest = cargo().args(["nextest", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    let mut tests = cargo();
    if nextest {
        tests.args(["nextest", "run", "--workspace", "--locked", "--no-fail-fast"]);
    } else {
        tests.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
    }
    status(tests, "the test suite")
}

fn bench() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-vault", "--features", "bench", "--bench", "vault"]);
    status(cmd, "vault benchmark")
}

/// Builds the CLI, creates the demo vault if it is not there, and shows its caseload.
fn run() -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "waymark-cli"]);
    status(build, "build waymark")?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let waymark = target.join("debug").join("waymark");
    let vault = root().join("demo-vault");
    let pass_file = target.join("demo-vault.passphrase");
    std::fs::write(&pass_file, format!("{DEMO_PASSPHRASE}\n")).map_err(|e| format!("write {}: {e}", pass_file.display()))?;
    let waymark_cmd = |args: &[&str]| {
        let mut cmd = Command::new(&waymark);
        cmd.args(args).env("WAYMARK_VAULT", &vault).env("WAYMARK_PASSPHRASE_FILE", &pass_file);
        cmd
    };
    if !vault.join("vault.key").exists() {
        status(waymark_cmd(&["init", "--advocate", "DEMO-ADV"]), "create the demo vault")?;
        status(waymark_cmd(&["demo", "--cases", "40", "--seed", "1"]), "fill it with a fictional caseload")?;
    }
    status(waymark_cmd(&["case", "list", "--sort", "risk"]), "show the caseload")?;
    println!();
    println!("Demo vault (fictional people only): {}", vault.display());
    println!("Demo passphrase: {DEMO_PASSPHRASE}");
    println!("Try: WAYMARK_VAULT={} {} case show DEMO-1-0001", vault.display(), waymark.display());
    Ok(())
}
