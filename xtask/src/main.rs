//! `cargo xtask run|test|bench|setup`: the project's own commands, so a fresh
//! Debian machine needs nothing but these.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages: building SQLCipher with vendored OpenSSL (perl, make, a C
/// compiler), the tests that use real tools (`age` decrypts a backup;
/// poppler's `pdftotext`, `pdftoppm`, `pdfimages` and `qpdf` read printouts;
/// `unzip` opens the quarterly return's workbook), the
/// Tauri shell (WebKitGTK and friends), and the end-to-end tests (WebKit's
/// WebDriver under Xvfb with a D-Bus session).
const DEBIAN_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "perl",
    "make",
    "file",
    "age",
    "poppler-utils",
    "unzip",
    "qpdf",
    "oathtool",
    // The clinic workspace's end-to-end test drives Debian's Chromium through its WebDriver.
    "chromium",
    "chromium-driver",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    "webkit2gtk-driver",
    "python3-venv",
    "xvfb",
    "xauth",
    "dbus-daemon",
    "libgl1-mesa-dri",
    // The end-to-end test runs the app under a US locale too.
    "locales",
    // The clinic's PostgreSQL store is tested against a real server (and `pg_dump`).
    "postgresql",
    // The package check: the clinic package's account (adduser) and `systemd-analyze verify` of its unit.
    "adduser",
    "systemd",
];

/// tauri-driver bridges WebDriver to WebKitWebDriver; this version passed here.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// The demo vault's passphrase. The demo vault holds only fictional data.
const DEMO_PASSPHRASE: &str = "fictional demo vault only";

mod demo_clinic;
mod dist;
mod tidy;

/// Every task `main` knows, for the usage text and the tidy check that it lists them.
const TASKS: &[&str] = &[
    "run",
    "test",
    "tidy",
    "bench",
    "bench-desktop",
    "bench-print",
    "bench-sync",
    "bench-clinic",
    "bench-escalation",
    "fuzz",
    "schemathesis",
    "e2e-workspace",
    "setup",
    "bindings",
    "postgres",
    "dist",
    "dist-check",
];
const USAGE: &str =
    "usage: cargo xtask <run|test|tidy|bench|bench-desktop|bench-print|bench-sync|bench-clinic|bench-escalation|fuzz [COUNT] [SEED]|schemathesis|e2e-workspace|setup|bindings|postgres|dist [--debug]|dist-check>";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "tidy" => tidy::tidy(&root(), USAGE, TASKS),
        "setup" => setup(),
        "test" => setup().and_then(|()| test()),
        "run" => setup().and_then(|()| run()),
        "bench" => setup().and_then(|()| bench()),
        "bindings" => setup().and_then(|()| ui_install()).and_then(|()| bindings()),
        "bench-desktop" => setup().and_then(|()| bench_desktop()),
        "bench-print" => setup().and_then(|()| bench_print()),
        "bench-sync" => setup().and_then(|()| bench_sync()),
        "bench-clinic" => setup().and_then(|()| bench_clinic()),
        "bench-escalation" => bench_escalation(),
        "fuzz" => fuzz(),
        "schemathesis" => schemathesis(),
        // The clinic workspace's Chromium run alone (part of `test`).
        "e2e-workspace" => setup().and_then(|()| ui_build()).and_then(|()| workspace_end_to_end()),
        // The desktop app's and the clinic's .deb packages, in target/dist/.
        "dist" => setup().and_then(|()| dist::dist(std::env::args().nth(2).as_deref() != Some("--debug")).map(|_| ())),
        // The packages in debug, installed, served, enrolled and purged on this machine (part of `test`; as root).
        "dist-check" => setup().and_then(|()| dist::dist(false)).and_then(|packages| dist::check(&packages)),
        // Starts the test PostgreSQL and prints the connection string, for running `cargo test` by hand.
        "postgres" => {
            setup().and_then(|()| postgres_for_tests()).map(|conn| println!("WAYMARK_TEST_POSTGRES='{conn}'"))
        }
        _ => {
            eprintln!("{USAGE}");
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
    if !missing.is_empty() {
        let mut update = as_root("apt-get");
        update.args(["update", "-q"]);
        status(update, "apt-get update")?;
        let mut install = as_root("apt-get");
        install.args(["install", "-y", "-q", "--no-install-recommends"]).args(&missing);
        status(install, &format!("apt-get install {}", missing.join(" ")))?;
    }
    if !has_us_locale() {
        let mut generate = as_root("localedef");
        generate.args(["-i", "en_US", "-f", "UTF-8", "en_US.UTF-8"]);
        status(generate, "generate the en_US.UTF-8 locale")?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A command run as root: directly when we are, else through sudo.
fn as_root(program: &str) -> Command {
    let root = is_root();
    let mut cmd = if root { Command::new(program) } else { Command::new("sudo") };
    if !root {
        cmd.arg(program);
    }
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// The throwaway role and database the clinic's PostgreSQL tests make their schemas in.
const TEST_POSTGRES_ROLE: &str = "waymark_test";

/// Starts Debian's PostgreSQL cluster if it is down (listening on 127.0.0.1
/// only), makes the test role and database if missing, and returns the
/// connection string the tests read from `WAYMARK_TEST_POSTGRES`. One already
/// set in the environment is used as it is.
fn postgres_for_tests() -> Result<String, String> {
    if let Ok(given) = std::env::var("WAYMARK_TEST_POSTGRES") {
        return Ok(given);
    }
    let clusters = |what: &str| -> Result<Vec<Vec<String>>, String> {
        let out =
            Command::new("pg_lsclusters").arg("-h").output().map_err(|e| format!("{what}: pg_lsclusters: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|cols| cols.len() >= 4)
            .collect())
    };
    let mut found = clusters("find PostgreSQL")?;
    if found.is_empty() {
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e})"))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max()
            .ok_or("PostgreSQL is not installed")?;
        let mut create = as_root("pg_createcluster");
        create.args([version.as_str(), "main"]);
        status(create, "create a PostgreSQL cluster")?;
        found = clusters("find PostgreSQL")?;
    }
    let cluster = found.first().ok_or("no PostgreSQL cluster")?.clone();
    let (version, name, port, state) = (&cluster[0], &cluster[1], &cluster[2], &cluster[3]);
    if state != "online" {
        let mut start = as_root("pg_ctlcluster");
        start.args([version.as_str(), name.as_str(), "start", "--", "-o", "-c listen_addresses=127.0.0.1"]);
        status(start, "start PostgreSQL on 127.0.0.1")?;
    }
    let role = TEST_POSTGRES_ROLE;
    let sql = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN \
         CREATE ROLE {role} LOGIN PASSWORD '{role}'; END IF; END $$;"
    );
    let psql = |sql: &str, what: &str| {
        let mut cmd = as_root("runuser");
        cmd.args(["-u", "postgres", "--", "psql", "-p", port.as_str(), "-v", "ON_ERROR_STOP=1", "-Atc", sql]);
        cmd.output().map_err(|e| format!("{what}: {e}")).and_then(|o| {
            if o.status.success() {
                Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned())
            } else {
                Err(format!("{what}: {}", String::from_utf8_lossy(&o.stderr)))
            }
        })
    };
    psql(&sql, "make the PostgreSQL test role")?;
    if psql(&format!("SELECT 1 FROM pg_database WHERE datname = '{role}'"), "find the test database")?.is_empty() {
        psql(&format!("CREATE DATABASE {role} OWNER {role}"), "make the PostgreSQL test database")?;
    }
    Ok(format!("host=127.0.0.1 port={port} user={role} password={role} dbname={role}"))
}

/// Whether glibc has en_US.UTF-8, which the end-to-end test runs under.
fn has_us_locale() -> bool {
    Command::new("locale")
        .arg("-a")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.eq_ignore_ascii_case("en_US.utf8") || l.eq_ignore_ascii_case("en_US.UTF-8"))
        })
        .unwrap_or(false)
}

fn npm(args: &[&str], what: &str) -> Result<(), String> {
    let mut cmd = Command::new("npm");
    cmd.args(args).current_dir(root().join("ui"));
    status(cmd, what)
}

/// Installs the UI's packages at their locked versions. npm runs no install scripts.
fn ui_install() -> Result<(), String> {
    let ui = root().join("ui");
    let installed = ui.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&installed), std::fs::metadata(ui.join("package-lock.json"))) {
        (Ok(i), Ok(l)) => i.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    // `npm install` keeps the locked versions. `npm ci` is not used: the npm on
    // these machines writes only this platform's optional packages into the
    // lock file and then refuses that same lock file in `npm ci`.
    npm(&["install", "--no-audit", "--no-fund", "--ignore-scripts"], "npm install (ui, as locked)")
}

/// Builds ui/dist, which the desktop binary embeds, and ui/dist-workspace,
/// the pages the clinic serves to staff.
fn ui_build() -> Result<(), String> {
    ui_install()?;
    npm(&["run", "build"], "build the UI")?;
    npm(&["run", "build:workspace"], "build the clinic workspace's pages")
}

/// Regenerates ui/src/lib/bindings.ts and docs/record-schemas.md from the Rust commands and types.
fn bindings() -> Result<(), String> {
    ui_build()?;
    for test in ["the_typescript_bindings_are_current", "the_record_schemas_document_is_current"] {
        let mut cmd = cargo();
        cmd.args(["test", "--locked", "-p", "waymark-desktop", "--lib", test]).env("WAYMARK_WRITE_BINDINGS", "1");
        status(cmd, "write the TypeScript bindings and the record schemas")?;
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"))
}

/// Installs tauri-driver into the target folder's tool cache when it is missing.
fn tauri_driver() -> Result<PathBuf, String> {
    let tools = target_dir().join("tools");
    let driver = tools.join("bin").join("tauri-driver");
    if driver.exists() {
        return Ok(driver);
    }
    let mut cmd = cargo();
    cmd.args(["install", "tauri-driver", "--locked", "--version", TAURI_DRIVER_VERSION, "--root"]).arg(&tools);
    status(cmd, "install tauri-driver")?;
    Ok(driver)
}

fn test() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    status(fmt, "cargo fmt --check")?;
    tidy::tidy(&root(), USAGE, TASKS)?;
    ui_build()?;
    npm(&["run", "format:check"], "prettier --check (the UI's formatting)")?;
    npm(&["run", "check"], "svelte-check (types and accessibility warnings)")?;
    npm(&["test"], "UI component tests (vitest)")?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--all-features", "--locked", "--", "-D", "warnings"]);
    status(clippy, "cargo clippy -D warnings")?;
    let nextest = cargo().args(["nextest", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    let postgres = postgres_for_tests()?;
    let mut tests = cargo();
    tests.env("WAYMARK_TEST_POSTGRES", &postgres);
    if nextest {
        tests.args(["nextest", "run", "--workspace", "--locked", "--no-fail-fast"]);
    } else {
        tests.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
    }
    status(tests, "the test suite")?;
    end_to_end()?;
    workspace_end_to_end()?;
    // The packages, built in debug to spare the release build's time, installed and purged on this machine.
    dist::check(&dist::dist(false)?)?;
    schemathesis()
}

/// Drives the clinic workspace in Debian's Chromium through chromium-driver:
/// a real clinic, its fictional staff, and a real laptop vault synced to it.
fn workspace_end_to_end() -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "waymark-clinic", "-p", "waymark-cli"]);
    status(build, "build the clinic server and the CLI")?;
    let debug = target_dir().join("debug");
    let dir = target_dir().join("tmp").join(format!("waymark-workspace-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let result = (|| {
        let clinic = demo_clinic::DemoClinic::open_or_create(&debug.join("waymark-clinic"), &dir.join("clinic"))?;
        let (mut server, url) = clinic.serve("127.0.0.1:0", &root().join("ui").join("dist-workspace"))?;
        let outcome = (|| {
            let cli = DemoCli::new(debug.join("waymark"), dir.join("vault"), dir.join("vault.passphrase"))?;
            cli.run(&["init", "--advocate", demo_clinic::DEMO_ADVOCATE], "create a laptop vault")?;
            if !demo_clinic::enrol(&cli, &clinic, &url, &dir)? {
                return Err("the laptop vault did not enrol with the clinic".to_owned());
            }
            cli.run(&["demo", "--cases", "8", "--seed", "3"], "fill it with fictional cases")?;
            cli.run(&["sync", "now"], "sync the laptop vault with the clinic")?;
            let secrets = clinic.secrets_file();
            let shots = root().join("docs").join("screenshots");
            let mut node = Command::new("node");
            node.args(["--test", "--test-concurrency=1", "e2e-workspace/"])
                .current_dir(root().join("ui"))
                .env("WAYMARK_WORKSPACE_URL", &url)
                .env("WAYMARK_STAFF_SECRETS", &secrets)
                .env("WAYMARK_STAFF_PASSWORD", demo_clinic::DEMO_STAFF_PASSWORD)
                .env("WAYMARK_SCREENSHOTS", &shots)
                // The laptop, for the test to sync and read what a referral became.
                .env("WAYMARK_CLI", &cli.binary)
                .env("WAYMARK_VAULT", &cli.vault)
                .env("WAYMARK_PASSPHRASE_FILE", &cli.pass_file);
            status(node, "the clinic workspace in Chromium")
        })();
        let _ = server.kill();
        let _ = server.wait();
        outcome
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The schemathesis version the API description is checked with (from PyPI, into the target folder).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Runs schemathesis, with every check it has, against a real clinic serving
/// its own OpenAPI description: every request the description admits must be
/// answered as the description says. It cannot sign requests, so the signed
/// routes are tried unauthenticated; the story tests and the fuzzer cover them signed.
fn schemathesis() -> Result<(), String> {
    let venv = target_dir().join("tools").join("schemathesis");
    let st = venv.join("bin").join("schemathesis");
    if !st.exists() {
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&venv);
        status(create, "create a Python environment for schemathesis")?;
        let mut install = Command::new(venv.join("bin").join("pip"));
        install.args(["install", "--quiet", SCHEMATHESIS]);
        status(install, "install schemathesis")?;
    }
    let clinic_bin = target_dir().join("debug").join("waymark-clinic");
    // Beside the build, not in the shared temp folder.
    let folder = target_dir().join("tmp").join(format!("waymark-schemathesis-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).map_err(|e| format!("make a clinic folder: {e}"))?;
    let pass_file = folder.join("passphrase");
    write_private(&pass_file, "schemathesis clinic pass words")?;
    let clinic = |args: &[&str]| {
        let mut cmd = Command::new(&clinic_bin);
        cmd.arg("--dir").arg(folder.join("clinic")).args(args).env("WAYMARK_CLINIC_PASSPHRASE_FILE", &pass_file);
        cmd
    };
    let recovery = folder.join("recovery.txt");
    let mut init = clinic(&["init", "--host", "127.0.0.1", "--work-factor", "10", "--recovery-out"]);
    init.arg(&recovery).stdout(std::process::Stdio::null());
    status(init, "set up a clinic for schemathesis")?;
    // Generous rate limits: the run sends hundreds of requests from one address.
    let mut serve =
        clinic(&["serve", "--listen", "127.0.0.1:0", "--per-address", "100000", "--enrol-per-address", "100000"]);
    let mut server =
        serve.stdout(std::process::Stdio::piped()).spawn().map_err(|e| format!("start the clinic: {e}"))?;
    // The reader stays open until the server stops, so it never writes into a closed pipe.
    let mut output = std::io::BufReader::new(server.stdout.take().ok_or("the clinic's output")?);
    let mut first = String::new();
    let url = std::io::BufRead::read_line(&mut output, &mut first)
        .ok()
        .and_then(|_| first.trim().strip_prefix("listening on ").map(str::to_owned));
    let result = match url {
        Some(url) => {
            let mut run = Command::new(&st);
            run.args([
                "run",
                &format!("{url}/v1/openapi.json"),
                "--tls-verify",
                "false",
                "--checks",
                "all",
                "--max-examples",
                "50",
                "--seed",
                "1",
            ])
            .current_dir(&folder);
            status(run, "schemathesis against the served OpenAPI description (all checks)")
        }
        None => Err("the clinic did not say where it listens".into()),
    };
    let _ = server.kill();
    let _ = server.wait();
    drop(output);
    let _ = std::fs::remove_dir_all(&folder);
    result
}

/// A node script from ui/ under a virtual display and a D-Bus session, as WebKitGTK needs.
fn under_xvfb(script: &[&str], envs: &[(&str, &OsStr)], what: &str) -> Result<(), String> {
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "xvfb-run", "-a", "--server-args=-screen 0 1280x1024x24"])
        .args(script)
        .current_dir(root().join("ui"))
        .env("NO_AT_BRIDGE", "1");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    status(cmd, what)
}

/// Drives the real app through tauri-driver and WebKitWebDriver under Xvfb.
fn end_to_end() -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "waymark-desktop", "-p", "waymark-clinic"]);
    status(build, "build the desktop app and the clinic server")?;
    let driver = tauri_driver()?;
    let app = target_dir().join("debug").join("waymark-desktop");
    let clinic = target_dir().join("debug").join("waymark-clinic");
    let shots = root().join("docs").join("screenshots");
    let envs = [
        ("WAYMARK_APP", app.as_os_str()),
        ("WAYMARK_CLINIC", clinic.as_os_str()),
        ("TAURI_DRIVER", driver.as_os_str()),
        ("WAYMARK_SCREENSHOTS", shots.as_os_str()),
    ];
    // Dates must read day/month/year whatever the system locale: the whole
    // run, typed dates included, under the C locale and a US one.
    for locale in ["C", "en_US.UTF-8"] {
        let locale = OsStr::new(locale);
        let mut with_locale = envs.to_vec();
        with_locale.extend([("LANG", locale), ("LC_ALL", locale)]);
        under_xvfb(
            &["npm", "run", "e2e"],
            &with_locale,
            &format!("end-to-end tests under {}", locale.to_string_lossy()),
        )?;
    }
    Ok(())
}

/// Runs the `waymark` CLI on a demo vault whose passphrase it reads from a
/// file it writes beside the build output (the demo passphrase only).
struct DemoCli {
    binary: PathBuf,
    vault: PathBuf,
    pass_file: PathBuf,
}

impl DemoCli {
    fn new(binary: PathBuf, vault: PathBuf, pass_file: PathBuf) -> Result<Self, String> {
        write_private(&pass_file, DEMO_PASSPHRASE)?;
        Ok(Self { binary, vault, pass_file })
    }

    fn run(&self, args: &[&str], what: &str) -> Result<(), String> {
        let mut cmd = Command::new(&self.binary);
        cmd.args(args).env("WAYMARK_VAULT", &self.vault).env("WAYMARK_PASSPHRASE_FILE", &self.pass_file);
        status(cmd, what)
    }
}

/// The desktop figures: release build, a fresh vault of 500 demo cases (one
/// with 200 incidents), driven through tauri-driver.
fn bench_desktop() -> Result<(), String> {
    ui_build()?;
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "waymark-desktop", "-p", "waymark-cli"]);
    status(build, "release build of the app and the CLI")?;
    let release = target_dir().join("release");
    let vault = target_dir().join("bench-desktop-vault");
    let _ = std::fs::remove_dir_all(&vault);
    let cli = DemoCli::new(release.join("waymark"), vault.clone(), target_dir().join("bench-desktop.passphrase"))?;
    cli.run(&["init", "--advocate", "BENCH"], "create the benchmark vault")?;
    cli.run(&["demo", "--cases", "499", "--seed", "1"], "499 demo cases")?;
    cli.run(
        &["demo", "--cases", "1", "--seed", "2", "--incidents-per-case", "200"],
        "one demo case with 200 incidents",
    )?;
    let driver = tauri_driver()?;
    let app = release.join("waymark-desktop");
    let envs = [
        ("WAYMARK_APP", app.as_os_str()),
        ("TAURI_DRIVER", driver.as_os_str()),
        ("WAYMARK_VAULT", vault.as_os_str()),
        ("WAYMARK_BENCH_PASSPHRASE", OsStr::new(DEMO_PASSPHRASE)),
        ("WAYMARK_BENCH_BIG_CASE", OsStr::new("DEMO-2-0001")),
    ];
    under_xvfb(&["node", "bench/desktop.mjs"], &envs, "desktop benchmark")
}

/// The print figures: render times (the `print` bench), then the binary size
/// the print engine adds, as two stripped release binaries that differ only
/// in whether they print.
fn bench_print() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-print", "--bench", "print"]);
    status(cmd, "print benchmark")?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "waymark-print",
        "--example",
        "size_without_print",
        "--example",
        "size_with_print",
    ]);
    status(build, "release build of the two size probes")?;
    let examples = target_dir().join("release").join("examples");
    let mut sizes = Vec::new();
    for name in ["size_without_print", "size_with_print"] {
        let stripped = target_dir().join(format!("{name}.stripped"));
        let mut strip = Command::new("strip");
        strip.arg("-o").arg(&stripped).arg(examples.join(name));
        status(strip, &format!("strip {name}"))?;
        sizes.push(std::fs::metadata(&stripped).map_err(|e| format!("{name}: {e}"))?.len() as f64 / 1_048_576.0);
    }
    println!(
        "stripped release binary: without printing {:.1} MiB, with printing {:.1} MiB; the print engine adds {:.1} MiB ({:.1}×)",
        sizes[0],
        sizes[1],
        sizes[1] - sizes[0],
        sizes[1] / sizes[0]
    );
    Ok(())
}

/// The sync figures: a 10,000-op push against the same frames posted to a
/// bare TLS endpoint, a no-op sync, and the clinic's memory under 20 laptops.
fn bench_sync() -> Result<(), String> {
    let postgres = postgres_for_tests()?;
    let mut cmd = cargo();
    cmd.env("WAYMARK_TEST_POSTGRES", &postgres);
    cmd.args(["bench", "--locked", "-p", "waymark-scenarios", "--bench", "sync"]);
    status(cmd, "sync benchmark")
}

/// The escalation figures: the whole 500-case caseload's analysis as the
/// caseload column reads it, one 500-incident case, and the detection
/// counts against the demo generator's own labels.
fn bench_escalation() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-vault", "--bench", "escalation"]);
    status(cmd, "escalation benchmark")
}

/// The workspace figures: projecting about 100,000 ops and the caseload
/// answer for 5,000 cases (the `clinic` bench), then the caseload page's
/// paint in Chromium against a release clinic serving what the bench left.
fn bench_clinic() -> Result<(), String> {
    ui_build()?;
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-scenarios", "--bench", "clinic"]);
    status(cmd, "clinic benchmark")?;
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "waymark-clinic"]);
    status(build, "release build of the clinic")?;
    let out = target_dir().join("bench-clinic");
    let clinic = demo_clinic::DemoClinic::existing(&target_dir().join("release").join("waymark-clinic"), &out);
    let (mut server, url) = clinic.serve("127.0.0.1:0", &root().join("ui").join("dist-workspace"))?;
    let mut node = Command::new("node");
    node.arg("bench/workspace.mjs")
        .current_dir(root().join("ui"))
        .env("WAYMARK_WORKSPACE_URL", &url)
        .env("WAYMARK_BENCH_CLINIC", out.join("bench.json"));
    let result = status(node, "the caseload page in Chromium");
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// The protocol fuzzer: a million inputs unless told otherwise (`cargo xtask fuzz 5000000 7`).
fn fuzz() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-protocol", "--bench", "fuzz", "--"]);
    cmd.args(std::env::args().skip(2));
    status(cmd, "protocol fuzzer")
}

fn bench() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "waymark-vault", "--features", "bench", "--bench", "vault"]);
    status(cmd, "vault benchmark")
}

/// Where `cargo xtask run` serves the demo clinic (and its workspace at /w/).
const DEMO_CLINIC_LISTEN: &str = "127.0.0.1:8443";

/// Builds the UI, the CLI, the desktop app and the clinic; creates the
/// fictional demo vault and demo clinic if they are not there (the vault
/// enrolled with the clinic and synced); serves the clinic with its
/// workspace; and starts the app on the vault.
fn run() -> Result<(), String> {
    ui_build()?;
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "waymark-cli", "-p", "waymark-desktop", "-p", "waymark-clinic"]);
    status(build, "build waymark, the desktop app and the clinic")?;
    let target = target_dir();
    let vault = root().join("demo-vault");
    let cli = DemoCli::new(target.join("debug").join("waymark"), vault.clone(), target.join("demo-vault.passphrase"))?;
    let new_vault = !vault.join("vault.key").exists();
    if new_vault {
        cli.run(&["init", "--advocate", demo_clinic::DEMO_ADVOCATE], "create the demo vault")?;
    }
    let clinic_dir = root().join("demo-clinic");
    let clinic = demo_clinic::DemoClinic::open_or_create(&target.join("debug").join("waymark-clinic"), &clinic_dir)?;
    let (mut server, url) = clinic.serve(DEMO_CLINIC_LISTEN, &root().join("ui").join("dist-workspace"))?;
    let enrolled = clinic_dir.join("vault-enrolled");
    // Enrolled first, so the demo leaves the panel reviews to the clinic.
    if !enrolled.exists() && demo_clinic::enrol(&cli, &clinic, &url, &clinic_dir)? {
        write_private(&enrolled, "yes")?;
    }
    if new_vault {
        cli.run(&["demo", "--cases", "60", "--seed", "1"], "fill it with a fictional caseload")?;
    }
    if let Err(message) = cli.run(&["sync", "now"], "sync the demo vault") {
        eprintln!("{message}");
    }
    println!();
    println!("Demo vault (fictional people only): {}", vault.display());
    println!("Demo passphrase: {DEMO_PASSPHRASE}");
    println!();
    println!("Clinic workspace (fictional staff; accept the demo clinic's self-signed certificate): {url}/w/");
    println!("Every demo member's password: {}", demo_clinic::DEMO_STAFF_PASSWORD);
    let secrets = clinic.secrets()?;
    for (code, role) in demo_clinic::DemoClinic::staff() {
        let secret = secrets.get(code).and_then(|s| s.as_str()).unwrap_or("?");
        println!("  {code:<9} {role:<14} authenticator code: oathtool --totp -b {secret}");
    }
    let outcome = if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        println!("No display here, so the desktop app cannot open; showing the caseload from the CLI instead.");
        cli.run(&["case", "list", "--sort", "risk"], "show the caseload")?;
        println!("The clinic keeps serving at {url}/w/ until you press Ctrl-C.");
        server.wait().map(|_| ()).map_err(|e| format!("the demo clinic: {e}"))
    } else {
        let mut app = Command::new(target.join("debug").join("waymark-desktop"));
        app.env("WAYMARK_VAULT", &vault);
        status(app, "Waymark")
    };
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

/// A passphrase file readable by its owner only, as the clinic requires.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    writeln!(file, "{text}").map_err(|e| format!("write {}: {e}", path.display()))
}
