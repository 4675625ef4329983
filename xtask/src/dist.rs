//! `cargo xtask dist`: the packages a service's IT team installs. The
//! desktop app's `.deb` comes from Tauri's deb bundler, with the `waymark`
//! CLI beside the app; the clinic's is staged here and built with Debian's
//! own `dpkg-deb`, with its hardened systemd unit and maintainer scripts from
//! `assets/packaging/clinic/`. `check` installs both with `dpkg -i`, runs
//! the clinic from its unit's command line, enrols the installed CLI with
//! it, and purges both.

use crate::{as_root, cargo, root, status, target_dir, write_private};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The clinic package's files, with their modes, from `assets/packaging/clinic/`.
const CLINIC_SCRIPTS: &[&str] = &["postinst", "prerm", "postrm"];
const CLINIC_UNIT: &str = "waymark-clinic.service";
/// Where the unit expects the clinic's folder and its workspace pages.
const CLINIC_FOLDER: &str = "/var/lib/waymark-clinic/clinic";
const CLINIC_USER: &str = "waymark-clinic";
/// The desktop package's name, from `productName` in `src-tauri/tauri.conf.json`.
const DESKTOP_PACKAGE: &str = "waymark";

pub struct Packages {
    pub desktop: PathBuf,
    pub clinic: PathBuf,
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn architecture() -> Result<String, String> {
    let out = Command::new("dpkg").arg("--print-architecture").output().map_err(|e| format!("dpkg: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let target = to.join(path.file_name().ok_or("a file without a name")?);
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| format!("copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

/// Builds both packages (release, or debug for the install check) into `target/dist/`.
pub fn dist(release: bool) -> Result<Packages, String> {
    crate::ui_build()?;
    let profile = if release { "release" } else { "debug" };
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "waymark-clinic", "-p", "waymark-cli"]);
    if release {
        build.arg("--release");
    }
    status(build, &format!("{profile} build of the clinic server and the CLI"))?;
    let built = target_dir().join(profile);
    let out = target_dir().join("dist");
    std::fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let clinic = clinic_deb(&built, &out)?;
    let desktop = desktop_deb(&built, &out, release)?;
    eprintln!("==> packages:\n    {}\n    {}", desktop.display(), clinic.display());
    Ok(Packages { desktop, clinic })
}

fn clinic_deb(built: &Path, out: &Path) -> Result<PathBuf, String> {
    let arch = architecture()?;
    let name = format!("waymark-clinic_{}_{arch}", version());
    let stage = out.join(&name);
    let _ = std::fs::remove_dir_all(&stage);
    let assets = root().join("assets/packaging/clinic");
    let place = |relative: &str| stage.join(relative);
    std::fs::create_dir_all(place("usr/bin")).map_err(|e| e.to_string())?;
    std::fs::copy(built.join("waymark-clinic"), place("usr/bin/waymark-clinic"))
        .map_err(|e| format!("copy the clinic server: {e}"))?;
    set_mode(&place("usr/bin/waymark-clinic"), 0o755)?;
    copy_tree(&root().join("ui/dist-workspace"), &place("usr/share/waymark-clinic/workspace"))?;
    std::fs::create_dir_all(place("lib/systemd/system")).map_err(|e| e.to_string())?;
    std::fs::copy(assets.join(CLINIC_UNIT), place(&format!("lib/systemd/system/{CLINIC_UNIT}")))
        .map_err(|e| format!("copy the unit: {e}"))?;
    let doc = place("usr/share/doc/waymark-clinic");
    std::fs::create_dir_all(&doc).map_err(|e| e.to_string())?;
    std::fs::copy(root().join("README.md"), doc.join("README.md")).map_err(|e| e.to_string())?;
    std::fs::write(
        doc.join("copyright"),
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: waymark\n\nFiles: *\nCopyright: The Waymark authors\nLicense: AGPL-3.0-only\n",
    )
    .map_err(|e| e.to_string())?;
    let debian = place("DEBIAN");
    std::fs::create_dir_all(&debian).map_err(|e| e.to_string())?;
    for script in CLINIC_SCRIPTS {
        std::fs::copy(assets.join(script), debian.join(script)).map_err(|e| format!("copy {script}: {e}"))?;
        set_mode(&debian.join(script), 0o755)?;
    }
    let size_kib = du_kib(&stage)?;
    std::fs::write(
        debian.join("control"),
        format!(
            "Package: waymark-clinic\nVersion: {}\nArchitecture: {arch}\nMaintainer: The Waymark authors <waymark@localhost>\n\
             Installed-Size: {size_kib}\nDepends: adduser, libc6 (>= 2.36), libgcc-s1\nSection: net\nPriority: optional\n\
             Description: Waymark clinic server for a stalking advocacy service\n \
             Receives sealed changes from advocates' laptops, sends the clinic's\n \
             changes down, and serves the staff workspace. Runs as its own account\n \
             under a hardened systemd unit; see /usr/share/doc/waymark-clinic.\n",
            version()
        ),
    )
    .map_err(|e| e.to_string())?;
    let deb = out.join(format!("{name}.deb"));
    let mut pack = Command::new("dpkg-deb");
    pack.args(["--root-owner-group", "--build"]).arg(&stage).arg(&deb);
    status(pack, "dpkg-deb: the clinic package")?;
    Ok(deb)
}

fn du_kib(dir: &Path) -> Result<u64, String> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let meta = entry.metadata().map_err(|e| e.to_string())?;
        total += if meta.is_dir() { du_kib(&entry.path())? * 1024 } else { meta.len() };
    }
    Ok(total.div_ceil(1024))
}

/// The update key a release build trusts: `WAYMARK_UPDATE_PUBKEY`, the path
/// of the `.pub` file `tauri signer generate` wrote (its private half stays
/// with whoever signs releases). Unset, the app never looks for updates.
fn update_pubkey() -> Result<String, String> {
    let Some(path) = std::env::var_os("WAYMARK_UPDATE_PUBKEY") else { return Ok(String::new()) };
    let key = std::fs::read_to_string(&path)
        .map(|key| key.trim().to_owned())
        .map_err(|e| format!("read the update key WAYMARK_UPDATE_PUBKEY names: {e}"))?;
    // The private key built into every app would let anyone sign updates: only a public one is taken.
    let mut decode = Command::new("base64");
    decode.arg("-d").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = decode.spawn().map_err(|e| format!("base64: {e}"))?;
    if let Some(mut input) = child.stdin.take() {
        std::io::Write::write_all(&mut input, key.as_bytes()).map_err(|e| format!("base64: {e}"))?;
    }
    let text = child.wait_with_output().map_err(|e| format!("base64: {e}"))?.stdout;
    let first_line = String::from_utf8_lossy(&text).lines().next().unwrap_or_default().to_owned();
    if !first_line.contains("minisign public key") {
        return Err(
            "WAYMARK_UPDATE_PUBKEY must name the .pub file `tauri signer generate` wrote, never the private key".into(),
        );
    }
    Ok(key)
}

/// Tauri's deb bundler, from the Tauri CLI in the UI's packages, with the CLI placed beside the app.
fn desktop_deb(built: &Path, out: &Path, release: bool) -> Result<PathBuf, String> {
    let cli = built.join("waymark");
    let config = serde_json::json!({
        "bundle": {
            "active": true,
            "targets": ["deb"],
            "linux": { "deb": { "files": { "/usr/bin/waymark": cli.to_string_lossy() } } }
        },
        "plugins": { "updater": { "pubkey": update_pubkey()?, "requireSignedVersion": true } }
    });
    let mut tauri = Command::new(root().join("ui/node_modules/.bin/tauri"));
    tauri
        .current_dir(root().join("src-tauri"))
        .args(["build", "--ci", "--bundles", "deb", "--config"])
        .arg(config.to_string());
    if !release {
        tauri.arg("--debug");
    }
    status(tauri, "Tauri's deb bundler: the desktop package")?;
    let bundles = built.join("bundle/deb");
    let deb = std::fs::read_dir(&bundles)
        .map_err(|e| format!("read {}: {e}", bundles.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "deb") && p.to_string_lossy().contains(version()))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .ok_or("Tauri made no .deb")?;
    let target = out.join(deb.file_name().ok_or("a package without a name")?);
    std::fs::copy(&deb, &target).map_err(|e| format!("copy the desktop package: {e}"))?;
    Ok(target)
}

/// Installs both packages on this machine, runs the clinic as its unit
/// would, enrols the installed CLI and syncs, then purges both and checks
/// nothing of them is left but the clinic's state folder.
pub fn check(packages: &Packages) -> Result<(), String> {
    if !crate::is_root() {
        eprintln!("==> the package check installs and purges packages on this machine: skipped, as it needs root (CI runs it)");
        return Ok(());
    }
    // Never on a machine that has Waymark installed or a clinic's folder: the check purges both.
    let installed = |package: &str| {
        Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", package])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("installed"))
    };
    if installed(DESKTOP_PACKAGE)
        || installed("waymark-clinic")
        || Path::new("/var/lib/waymark-clinic").exists()
        || Command::new("getent").args(["passwd", CLINIC_USER]).status().is_ok_and(|s| s.success())
    {
        return Err("this machine already has Waymark installed, or a clinic in /var/lib/waymark-clinic: \
                    the package check installs and purges both, so it will not run here"
            .into());
    }
    let scratch = tempfile_dir("waymark-dist-check")?;
    let result = (|| {
        let mut install = as_root("dpkg");
        install.arg("-i").arg(&packages.desktop).arg(&packages.clinic);
        status(install, "dpkg -i both packages")?;
        // Installed again, as an upgrade is: the maintainer scripts run their upgrade paths.
        let mut again = as_root("dpkg");
        again.arg("-i").arg(&packages.clinic);
        status(again, "dpkg -i the clinic package again (its upgrade path)")?;
        let mut verify = Command::new("systemd-analyze");
        verify.args(["verify", &format!("/lib/systemd/system/{CLINIC_UNIT}")]);
        status(verify, "systemd-analyze verify the clinic's unit")?;
        for file in ["/usr/bin/waymark", "/usr/bin/waymark-desktop", "/usr/bin/waymark-clinic"] {
            if !Path::new(file).exists() {
                return Err(format!("{file} was not installed"));
            }
        }
        let unit = std::fs::read_to_string(format!("/lib/systemd/system/{CLINIC_UNIT}"))
            .map_err(|e| format!("the unit was not installed: {e}"))?;
        for hardening in [
            "User=waymark-clinic",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "StateDirectory=",
            "LoadCredential=passphrase:",
            "LimitMEMLOCK=infinity",
        ] {
            if !unit.lines().any(|l| l.starts_with(hardening)) {
                return Err(format!("the unit lacks {hardening}"));
            }
        }
        if !Command::new("getent").args(["passwd", CLINIC_USER]).status().is_ok_and(|s| s.success()) {
            return Err("the package made no waymark-clinic account".into());
        }
        run_clinic_as_its_unit(&unit, &scratch, &packages.desktop)
    })();
    let mut purge = as_root("dpkg");
    purge.args(["--purge", DESKTOP_PACKAGE, "waymark-clinic"]);
    let purged = status(purge, "dpkg --purge both packages");
    // The clinic's key file outlives the purge, as documented, handed to root.
    let kept = std::fs::metadata(format!("{CLINIC_FOLDER}/clinic.key"));
    let _ = as_root("rm").args(["-rf", "/var/lib/waymark-clinic"]).status();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    purged?;
    match kept {
        Ok(meta) if std::os::unix::fs::MetadataExt::uid(&meta) == 0 => {}
        Ok(_) => return Err("the clinic's key file was kept but not handed to root".into()),
        Err(_) => return Err("the purge took the clinic's key file, which it must keep".into()),
    }
    for gone in [
        "/usr/bin/waymark",
        "/usr/bin/waymark-desktop",
        "/usr/bin/waymark-clinic",
        "/lib/systemd/system/waymark-clinic.service",
        "/usr/share/waymark-clinic",
        "/etc/waymark-clinic",
    ] {
        if Path::new(gone).exists() {
            return Err(format!("{gone} is left after the purge"));
        }
    }
    if Command::new("getent").args(["passwd", CLINIC_USER]).status().is_ok_and(|s| s.success()) {
        return Err("the waymark-clinic account is left after the purge".into());
    }
    eprintln!("==> both packages installed, served, enrolled, synced and purged cleanly");
    Ok(())
}

fn tempfile_dir(name: &str) -> Result<PathBuf, String> {
    let dir = target_dir().join("tmp").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Hands a file or folder to the clinic's account, as systemd would its credential.
fn give_to_clinic(path: &Path) -> Result<(), String> {
    let mut chown = as_root("chown");
    chown.args(["-R", &format!("{CLINIC_USER}:{CLINIC_USER}")]).arg(path);
    status(chown, "hand a file to the clinic's account")
}

/// `waymark-clinic` as the clinic's account, with the passphrase file where
/// systemd would hand it over (`CREDENTIALS_DIRECTORY`, as `LoadCredential=` sets it).
/// Not with the unit's `LimitMEMLOCK=infinity`: raising a limit needs a
/// capability root may not hold here, so the server locks each allocation instead.
fn as_clinic(passphrase: &Path) -> Command {
    let mut cmd = as_root("runuser");
    cmd.args(["-u", CLINIC_USER, "--", "env"]).arg(format!("WAYMARK_CLINIC_PASSPHRASE_FILE={}", passphrase.display()));
    if let Some(dir) = passphrase.parent() {
        cmd.arg(format!("CREDENTIALS_DIRECTORY={}", dir.display()));
    }
    cmd
}

/// Runs an installed `waymark-clinic` command as the clinic's account: its words, or why not.
type ClinicCommand<'a> = dyn Fn(&[&str], &str) -> Result<String, String> + 'a;

/// Signs the app package just built with a key made here by Tauri's own
/// signer, as a release is signed, and publishes it on the installed clinic
/// as its administrator would, the clinic checking the signature against the key.
fn publish_an_update(own: &Path, desktop_deb: &Path, clinic: &ClinicCommand<'_>) -> Result<(), String> {
    let release = own.join("release");
    std::fs::create_dir_all(&release).map_err(|e| e.to_string())?;
    let deb = release.join("waymark.deb");
    std::fs::copy(desktop_deb, &deb).map_err(|e| format!("copy the app package: {e}"))?;
    let signer = root().join("ui/node_modules/.bin/tauri");
    let mut generate = Command::new(&signer);
    generate.current_dir(&release).args(["signer", "generate", "--ci", "-p", "", "-w", "update.key"]);
    status(generate, "tauri signer generate: an update key")?;
    let mut sign = Command::new(&signer);
    sign.current_dir(&release).args([
        "signer",
        "sign",
        "-f",
        "update.key",
        "-p",
        "",
        "--app-version",
        "99.0.0",
        "waymark.deb",
    ]);
    status(sign, "tauri signer sign: the app package")?;
    std::fs::remove_file(release.join("update.key")).map_err(|e| e.to_string())?;
    give_to_clinic(&release)?;
    let path = |name: &str| release.join(name).to_string_lossy().into_owned();
    let published = clinic(
        &[
            "updates",
            "publish",
            "--target",
            &format!("linux-{}", std::env::consts::ARCH),
            "--version",
            "99.0.0",
            "--file",
            &path("waymark.deb"),
            "--signature",
            &path("waymark.deb.sig"),
            "--public-key",
            &path("update.key.pub"),
        ],
        "publish a locally built, locally signed update",
    )?;
    // Coreutils' digest of the package as built, to compare with what the clinic keeps.
    let sum = Command::new("sha256sum").arg(desktop_deb).output().map_err(|e| format!("sha256sum: {e}"))?;
    let digest = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap_or_default().to_owned();
    let listed = clinic(&["updates", "list"], "list the clinic's updates")?;
    if !published.contains("its signature holds") || !listed.contains("99.0.0") || !listed.contains(&digest) {
        return Err(format!("the clinic did not take the signed update as built: {published} {listed}"));
    }
    Ok(())
}

fn run_clinic_as_its_unit(unit: &str, scratch: &Path, desktop_deb: &Path) -> Result<(), String> {
    // Where systemd would put the credential: root's file, readable by the
    // service's group only, in a folder of its own (inside the state folder:
    // the build's folders may be closed to the account).
    let own = Path::new("/var/lib/waymark-clinic/dist-check");
    let credentials = own.join("credentials");
    std::fs::create_dir_all(&credentials).map_err(|e| e.to_string())?;
    let passphrase = credentials.join("passphrase");
    write_private(&passphrase, "installed clinic lantern orbit")?;
    let recovery = own.join("recovery");
    std::fs::create_dir_all(&recovery).map_err(|e| e.to_string())?;
    give_to_clinic(own)?;
    let mut root_owned = as_root("chown");
    root_owned.args(["-R", &format!("root:{CLINIC_USER}")]).arg(&credentials);
    status(root_owned, "hand the credential to root, readable by the clinic's group")?;
    set_mode(&credentials, 0o750)?;
    set_mode(&passphrase, 0o440)?;
    let mut init = as_clinic(&passphrase);
    init.args([
        "/usr/bin/waymark-clinic",
        "--dir",
        CLINIC_FOLDER,
        "init",
        "--host",
        "127.0.0.1",
        "--work-factor",
        "10",
        "--recovery-out",
    ])
    .arg(recovery.join("recovery.txt"));
    status(init, "init the installed clinic as its own account")?;
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .ok_or("the unit has no ExecStart")?
        .replace("0.0.0.0:8443", "127.0.0.1:0");
    let args: Vec<&str> = exec.split_whitespace().collect();
    let mut serve = as_clinic(&passphrase);
    serve.args(&args).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut server = serve.spawn().map_err(|e| format!("start the clinic from its unit's command line: {e}"))?;
    let outcome = (|| {
        let mut line = String::new();
        BufReader::new(server.stdout.take().ok_or("no output")?)
            .read_line(&mut line)
            .map_err(|e| format!("read the clinic's address: {e}"))?;
        let url = line.trim().strip_prefix("listening on ").ok_or(format!("the clinic said {line:?}"))?.to_owned();
        let clinic = |args: &[&str], what: &str| -> Result<String, String> {
            let mut cmd = as_clinic(&passphrase);
            cmd.args(["/usr/bin/waymark-clinic", "--dir", CLINIC_FOLDER]).args(args);
            let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
            if !out.status.success() {
                return Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr)));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        clinic(&["staff", "add", "PKG01", "--name", "Package Check (TEST)", "--role", "advocate"], "add an advocate")?;
        let code = clinic(&["enrol", "--advocate", "PKG01", "--url", &url, "--no-qr"], "issue a code")?
            .lines()
            .find(|l| l.starts_with("WAYMARK1-"))
            .map(str::to_owned)
            .ok_or("no enrolment code was shown")?;
        let code_file = scratch.join("code");
        write_private(&code_file, &code)?;
        let cli = crate::DemoCli::new(
            PathBuf::from("/usr/bin/waymark"),
            scratch.join("vault"),
            scratch.join("vault.passphrase"),
        )?;
        cli.run(&["init", "--advocate", "PKG01"], "the installed CLI makes a vault")?;
        cli.run(
            &["sync", "enrol", "--code-file", &code_file.to_string_lossy()],
            "the installed CLI enrols with the installed clinic",
        )?;
        cli.run(&["demo", "--cases", "2", "--seed", "4"], "two fictional cases")?;
        cli.run(&["sync", "now"], "the installed CLI syncs with the installed clinic")?;
        let status_text = clinic(&["status"], "the clinic's counts")?;
        if !status_text.contains("devices: 1 active") {
            return Err(format!("the clinic does not list the enrolled laptop: {status_text}"));
        }
        publish_an_update(own, desktop_deb, &clinic)
    })();
    let _ = as_root("pkill").args(["-u", CLINIC_USER, "waymark-clinic"]).status();
    let _ = server.wait();
    outcome
}
