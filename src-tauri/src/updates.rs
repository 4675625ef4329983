//! App updates from the clinic, through Tauri's updater. The laptop asks its
//! own clinic (pinned as the sync pins it), shows the advocate what is on
//! offer, and installs only when asked, and only bytes whose minisign
//! signature holds under the key built into this app: `Update::download`
//! checks it (and, in this plugin version, `install` again), and `install`
//! is only ever handed what `fetch_verified` returned. The file is fetched
//! only from the clinic's own address, without redirects, within a time limit.

use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};
use waymark_app::{DeskError, UpdateSource};
use waymark_domain::codes::ErrorCode;

/// How long fetching an update may take before it is given up.
const DOWNLOAD_LIMIT: Duration = Duration::from_secs(600);
/// The most of the clinic's notes shown to the advocate.
const NOTES_SHOWN: usize = 500;

/// What the advocate is asked about.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct UpdateInfo {
    pub version: String,
    /// The clinic's words about the release, as plain text, shortened.
    pub notes: Option<String>,
}

impl UpdateInfo {
    pub fn of(update: &Update) -> Self {
        // The clinic wrote these: no control or invisible formatting characters, and not at length.
        let notes = update.body.as_deref().map(|notes| {
            notes
                .chars()
                .filter(|c| waymark_protocol::messages::shown_in_notes(*c) && *c != '\n')
                .take(NOTES_SHOWN)
                .collect::<String>()
        });
        UpdateInfo { version: update.version.clone(), notes: notes.filter(|n| !n.trim().is_empty()) }
    }
}

/// The update found by the last check, until the advocate installs it.
#[derive(Default)]
pub struct PendingUpdate(pub Mutex<Option<Update>>);

/// The key this build trusts: `plugins.updater.pubkey` in tauri.conf.json,
/// which the release build sets (`cargo xtask dist`, from
/// `WAYMARK_UPDATE_PUBKEY`). Empty, as in a development build, means this app
/// never looks for updates.
pub fn release_key<R: Runtime>(app: &AppHandle<R>) -> Option<String> {
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("pubkey"))
        .and_then(|key| key.as_str())
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
}

fn refused(e: tauri_plugin_updater::Error) -> DeskError {
    use tauri_plugin_updater::Error;
    match e {
        Error::Minisign(_) | Error::Base64(_) | Error::SignatureUtf8(_) => DeskError::new(
            ErrorCode::UpdateUnverified,
            "The update your clinic offered is not signed with Waymark's key, so nothing was installed. Tell your clinic's administrator.",
        ),
        Error::SignedVersionMismatch { .. } | Error::MissingSignedVersion => DeskError::new(
            ErrorCode::UpdateUnverified,
            "The update your clinic offered is not signed as the version it was offered as, so nothing was installed. Tell your clinic's administrator.",
        ),
        Error::Reqwest(_) | Error::Network(_) => DeskError::new(
            ErrorCode::Offline,
            "The clinic could not be reached for the update. Try again when this laptop is online.",
        ),
        _ => DeskError::new(
            ErrorCode::UpdateFailed,
            "The update could not be installed; this version keeps working. Try again later, or ask your IT team.",
        ),
    }
}

/// Asks the clinic whether it offers a newer app than this one.
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    source: UpdateSource,
    key: &str,
) -> Result<Option<Update>, DeskError> {
    let url = tauri::Url::parse(&source.check_url)
        .map_err(|_| DeskError::new(ErrorCode::NotEnrolled, "This laptop's clinic address is damaged; enrol again."))?;
    let tls = source.tls;
    let updater = app
        .updater_builder()
        .pubkey(key)
        .endpoints(vec![url.clone()])
        .map_err(refused)?
        .configure_client(move |client| {
            client.tls_backend_preconfigured(tls.clone()).redirect(reqwest::redirect::Policy::none())
        })
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(refused)?;
    let Some(mut update) = updater.check().await.map_err(refused)? else { return Ok(None) };
    if !from_the_clinic(&update.download_url, &url) {
        tracing::warn!("the clinic offered an update from another address; not fetched");
        return Err(DeskError::new(
            ErrorCode::UpdateUnverified,
            "The clinic offered an update from another address, so nothing was fetched. Tell your clinic's administrator.",
        ));
    }
    update.timeout = Some(DOWNLOAD_LIMIT);
    Ok(Some(update))
}

/// Whether an offered file is on the clinic this laptop enrolled with (the
/// origin it was asked at), on its own file route, and nowhere else.
fn from_the_clinic(download: &tauri::Url, asked: &tauri::Url) -> bool {
    download.origin() == asked.origin()
        && download.username().is_empty()
        && download.password().is_none()
        && download.path().starts_with("/v1/updates/")
        && download.path().ends_with("/file")
}

/// The update's bytes, once their signature holds under the built-in key.
pub async fn fetch_verified(update: &Update) -> Result<Vec<u8>, DeskError> {
    update.download(|_, _| {}, || {}).await.map_err(refused)
}

/// Fetches, checks and installs the update the advocate was shown, then restarts into it.
pub async fn install<R: Runtime>(app: &AppHandle<R>, update: Update) -> Result<(), DeskError> {
    let bytes = fetch_verified(&update).await?;
    update.install(bytes).map_err(refused)?;
    tracing::info!(version = %update.version, "an update from the clinic was installed; restarting");
    app.restart()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Tauri's own signer (the npm CLI the UI builds with), written by nobody here.
    fn tauri_cli() -> std::path::PathBuf {
        let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/.bin/tauri");
        assert!(cli.exists(), "the Tauri CLI is missing: `cargo xtask test` installs the UI's packages first");
        cli
    }

    fn run(cli: &Path, args: &[&str], dir: &Path) {
        let out = std::process::Command::new(cli).args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "tauri {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A key pair made by `tauri signer generate`; returns the public key as tauri.conf.json holds it.
    fn key_pair(cli: &Path, dir: &Path, name: &str) -> String {
        run(cli, &["signer", "generate", "--ci", "-p", "", "-w", name], dir);
        std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap()
    }

    /// Signs `file` with the key pair `name` for `version`, as a release is
    /// signed (or for no version, as the CLI signed before `--app-version`);
    /// the .sig lands beside it.
    fn sign(cli: &Path, dir: &Path, name: &str, file: &str, version: Option<&str>) {
        let mut args = vec!["signer", "sign", "-f", name, "-p", ""];
        if let Some(version) = version {
            args.extend(["--app-version", version]);
        }
        args.push(file);
        run(cli, &args, dir);
    }

    /// An app with this build's own updater settings (tauri.conf.json), trusting `key`.
    fn app_trusting(key: &str) -> tauri::App<tauri::test::MockRuntime> {
        let shipped: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json reads");
        let mut updater = shipped["plugins"]["updater"].clone();
        updater["pubkey"] = serde_json::json!(key);
        let mut context = tauri::test::mock_context(tauri::test::noop_assets());
        context.config_mut().plugins.0.insert("updater".into(), updater);
        tauri::test::mock_builder().plugin(tauri_plugin_updater::Builder::new().build()).build(context).unwrap()
    }

    fn source(clinic: &waymark_clinic::test_kit::InProcessClinic, pin: &str) -> UpdateSource {
        UpdateSource {
            check_url: waymark_sync::update_check_url(&clinic.url),
            tls: waymark_sync::tls_config(Some(pin)).unwrap(),
        }
    }

    fn publish(updates: &Path, dir: &Path, file: &str, key_file: Option<&str>) {
        publish_checked(updates, dir, file, key_file, "99.0.0");
    }

    fn publish_as(updates: &Path, dir: &Path, file: &str, version: &str) {
        publish_checked(updates, dir, file, None, version);
    }

    fn publish_checked(updates: &Path, dir: &Path, file: &str, key_file: Option<&str>, version: &str) {
        let releases = waymark_clinic::updates::Releases::at(updates);
        let (file, signature_file) = (dir.join(file), dir.join(format!("{file}.sig")));
        let key_file = key_file.map(|k| dir.join(k));
        let publication = waymark_clinic::updates::Publication {
            target: waymark_protocol_target(),
            version,
            file: &file,
            signature_file: &signature_file,
            public_key_file: key_file.as_deref(),
            notes: Some("Safer printouts."),
        };
        releases.publish(&publication, waymark_clinic::system_now()).unwrap();
    }

    fn waymark_protocol_target() -> waymark_protocol::messages::UpdateTarget {
        waymark_protocol::messages::UpdateTarget::from_wire(&format!("linux-{}", std::env::consts::ARCH)).unwrap()
    }

    #[test]
    fn an_offered_file_is_fetched_only_from_the_enrolled_clinics_own_file_route() {
        // Why: the updater's signature check stops a foreign file, but a
        // clinic (or whoever took it over) must not point the laptop at
        // another server, which would learn that this laptop is a Waymark
        // laptop and where it is.
        let asked = tauri::Url::parse("https://clinic.example:8443/v1/updates/linux-x86_64/0.1.0").unwrap();
        let at = |text: &str| from_the_clinic(&tauri::Url::parse(text).unwrap(), &asked);
        assert!(at("https://clinic.example:8443/v1/updates/linux-x86_64/file?sha256=ab"));
        for elsewhere in [
            "https://elsewhere.example:8443/v1/updates/linux-x86_64/file",
            "https://clinic.example:9443/v1/updates/linux-x86_64/file",
            "http://clinic.example:8443/v1/updates/linux-x86_64/file",
            "https://clinic.example.evil.example:8443/v1/updates/linux-x86_64/file",
            "https://clinic.example:8443@evil.example/v1/updates/linux-x86_64/file",
            "https://someone@clinic.example:8443/v1/updates/linux-x86_64/file",
            "https://clinic.example:8443/v1/pull",
            "https://clinic.example:8443/v1/updates/../pull/file",
            "https://clinic.example:8443/elsewhere/v1/updates/x/file",
        ] {
            assert!(!at(elsewhere), "{elsewhere} was taken for the clinic's file route");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn only_an_update_signed_with_the_built_in_key_is_fetched_for_installing() {
        let cli = tauri_cli();
        let dir = tempfile::tempdir().unwrap();
        let updates = dir.path().join("updates");
        let clinic = waymark_clinic::test_kit::InProcessClinic::serve(None, Some(&updates));
        let trusted = key_pair(&cli, dir.path(), "release");
        let other = key_pair(&cli, dir.path(), "other");
        let package = b"a locally built package".repeat(4000);
        std::fs::write(dir.path().join("waymark.deb"), &package).unwrap();
        sign(&cli, dir.path(), "release", "waymark.deb", Some("99.0.0"));
        publish(&updates, dir.path(), "waymark.deb", Some("release.pub"));

        let app = app_trusting(&trusted);
        let handle = app.handle();
        assert_eq!(release_key(handle).as_deref(), Some(trusted.trim()));
        let check_now = |pin: &str| tauri::async_runtime::block_on(check(handle, source(&clinic, pin), &trusted));

        // Offered through the pinned connection, and its bytes pass the updater's own check.
        let update = check_now(&clinic.fingerprint).unwrap().expect("the clinic offers the newer release");
        assert_eq!(update.version, "99.0.0");
        assert_eq!(update.body.as_deref(), Some("Safer printouts."));
        let fetched = tauri::async_runtime::block_on(fetch_verified(&update)).unwrap();
        assert_eq!(fetched, package);

        // A release signed with another key (the clinic cannot tell; it was not given the key).
        std::fs::write(dir.path().join("other.deb"), b"something else entirely".repeat(100)).unwrap();
        sign(&cli, dir.path(), "other", "other.deb", Some("99.0.0"));
        publish(&updates, dir.path(), "other.deb", None);
        let update = check_now(&clinic.fingerprint).unwrap().expect("offered, as the clinic cannot check it");
        let refused = tauri::async_runtime::block_on(fetch_verified(&update)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::UpdateUnverified, "{}", refused.message);

        // The trusted key's signature of one file, handed out with another.
        std::fs::write(dir.path().join("swapped.deb"), b"not what was signed".repeat(100)).unwrap();
        std::fs::copy(dir.path().join("waymark.deb.sig"), dir.path().join("swapped.deb.sig")).unwrap();
        publish(&updates, dir.path(), "swapped.deb", None);
        let update = check_now(&clinic.fingerprint).unwrap().expect("offered");
        let refused = tauri::async_runtime::block_on(fetch_verified(&update)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::UpdateUnverified, "{}", refused.message);

        // A genuine older release relabelled as newer on the clinic's disk (a
        // downgrade to a release with a known flaw): its signature binds the older version.
        let relabel = |field: &str, value: &str| {
            let manifest = updates.join(format!("{}.json", waymark_protocol_target().wire()));
            let mut release: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
            release[field] = serde_json::json!(value);
            std::fs::write(&manifest, serde_json::to_vec(&release).unwrap()).unwrap();
        };
        std::fs::write(dir.path().join("older.deb"), b"a genuine older release".repeat(100)).unwrap();
        sign(&cli, dir.path(), "release", "older.deb", Some("98.0.0"));
        publish_as(&updates, dir.path(), "older.deb", "98.0.0");
        relabel("version", "99.0.0");
        let update = check_now(&clinic.fingerprint).unwrap().expect("offered under the new number");
        assert_eq!(update.version, "99.0.0");
        let refused = tauri::async_runtime::block_on(fetch_verified(&update)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::UpdateUnverified, "{}", refused.message);
        assert!(refused.message.contains("version"), "the advocate is told why: {}", refused.message);
        // The same file signed by the trusted key for no version, as older CLIs sign: refused too.
        sign(&cli, dir.path(), "release", "older.deb", None);
        relabel("signature", std::fs::read_to_string(dir.path().join("older.deb.sig")).unwrap().trim());
        let update = check_now(&clinic.fingerprint).unwrap().expect("offered");
        let refused = tauri::async_runtime::block_on(fetch_verified(&update)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::UpdateUnverified, "{}", refused.message);
        assert!(refused.message.contains("version"), "the advocate is told why: {}", refused.message);

        // A server that is not the enrolled clinic is not asked at all.
        let Err(elsewhere) = check_now(&"ab".repeat(32)) else { panic!("a server with another certificate was asked") };
        assert_eq!(elsewhere.code, ErrorCode::Offline);

        // A build without a key (a development build) never looks.
        assert!(release_key(app_trusting("").handle()).is_none());
        let _ = other;
    }
}
