//! App updates the clinic hands to laptops that only ever talk to it. The
//! administrator publishes a release the app's builder signed (Tauri's
//! updater key, minisign); the clinic keeps one per platform in the clinic
//! folder's `updates/` and passes its signature on. The laptop's updater
//! checks the signature against the key built into the app before it
//! installs anything, so the clinic is trusted with availability only: a
//! file it changed, or one never signed, is refused on the laptop.

use crate::identity::setup;
use crate::ClinicError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use waymark_protocol::messages::{UpdateOffer, UpdateTarget, PATH_UPDATE_FILE};

/// The longest release notes the clinic passes on.
const MAX_NOTES_CHARS: usize = 2000;
/// The largest installer the clinic serves (a Waymark installer is tens of MiB).
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Whether release notes are plain words: no control or invisible formatting
/// characters (bidirectional overrides, zero-width marks) that could make
/// them read differently on the laptop than in the command line.
fn plain_notes(notes: &str) -> bool {
    notes.chars().count() <= MAX_NOTES_CHARS && notes.chars().all(waymark_protocol::messages::shown_in_notes)
}

/// A release's version: three numbers of at most nine digits, no leading
/// zeros, no pre-release or build part (`1.4.0`), as the app's own versions
/// are and as the OpenAPI description's pattern says.
pub fn plain_version(text: &str) -> Option<semver::Version> {
    let parts: Vec<&str> = text.split('.').collect();
    let plain = |p: &&str| {
        !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()) && (*p == "0" || !p.starts_with('0'))
    };
    (parts.len() == 3 && parts.iter().all(plain)).then(|| semver::Version::parse(text).ok()).flatten()
}

/// A published release, as kept beside its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub target: UpdateTarget,
    pub version: String,
    pub notes: Option<String>,
    pub published_at: DateTime<Utc>,
    /// Base64 of the minisign signature's text, as `tauri signer sign` writes it.
    pub signature: String,
    /// Hex SHA-256 and size of the file, so an administrator can compare it with the builder's.
    pub sha256: String,
    pub size: u64,
}

/// What a publication is made of.
pub struct Publication<'a> {
    pub target: UpdateTarget,
    pub version: &'a str,
    pub file: &'a Path,
    /// The `.sig` file `tauri signer sign` wrote beside the file.
    pub signature_file: &'a Path,
    /// The app's update public key (the `.pub` file), to check the signature
    /// here too, before any laptop is offered the file. Optional: the laptop checks regardless.
    pub public_key_file: Option<&'a Path>,
    pub notes: Option<&'a str>,
}

/// The clinic folder's `updates/`: `<target>.json` and `<target>.update` each.
#[derive(Debug, Clone)]
pub struct Releases {
    dir: PathBuf,
}

/// The version a signature binds, from its trusted comment (the Tauri CLI's
/// `--app-version` writes `version:` among its tab-separated fields), as
/// the app's updater reads it. Laptops trust it only once the signature
/// verifies; the clinic reads it, verified when it is given the key, to tell
/// its administrator of a mismatch before any laptop refuses the file.
fn signed_version(trusted_comment: &str) -> Option<&str> {
    trusted_comment.split('\t').find_map(|field| field.strip_prefix("version:"))
}

/// The signature in a `.sig` file: base64 of a minisign signature's text.
fn signature(encoded: &str) -> Result<minisign_verify::Signature, ClinicError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ClinicError::Invalid("the signature file is not a Tauri updater signature (base64)".into()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ClinicError::Invalid("the signature file is not a Tauri updater signature".into()))?;
    minisign_verify::Signature::decode(&text)
        .map_err(|_| ClinicError::Invalid("the signature file does not hold a minisign signature".into()))
}

fn public_key(encoded: &str) -> Result<minisign_verify::PublicKey, ClinicError> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ClinicError::Invalid("the public key file is not a Tauri updater key (base64)".into()))?;
    minisign_verify::PublicKey::decode(&text)
        .map_err(|_| ClinicError::Invalid("the public key file does not hold a minisign public key".into()))
}

impl Releases {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn manifest(&self, target: UpdateTarget) -> PathBuf {
        self.dir.join(format!("{}.json", target.wire()))
    }

    fn file(&self, target: UpdateTarget) -> PathBuf {
        self.dir.join(format!("{}.update", target.wire()))
    }

    /// Publishes a release for its platform, replacing the one there. The
    /// file is copied in before its manifest names it, each by a rename, so
    /// a laptop is never offered a file half written or another release's.
    pub fn publish(&self, p: &Publication<'_>, now: DateTime<Utc>) -> Result<Release, ClinicError> {
        let version = plain_version(p.version)
            .ok_or_else(|| ClinicError::Invalid("--version must be a version such as 1.4.0".into()))?;
        let notes = p.notes.map(str::trim).filter(|n| !n.is_empty());
        if notes.is_some_and(|n| !plain_notes(n)) {
            return Err(ClinicError::Invalid(format!(
                "--notes must be plain text of at most {MAX_NOTES_CHARS} characters"
            )));
        }
        let signature = std::fs::read_to_string(p.signature_file).map_err(setup("read the signature file"))?;
        let parsed = self::signature(&signature)?;
        let bytes = std::fs::read(p.file).map_err(setup("read the update file"))?;
        if bytes.is_empty() || bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(ClinicError::Invalid(format!(
                "the update file must hold something and at most {} MiB",
                MAX_FILE_BYTES >> 20
            )));
        }
        if let Some(key_file) = p.public_key_file {
            let key = std::fs::read_to_string(key_file).map_err(setup("read the public key file"))?;
            if public_key(&key)?.verify(&bytes, &parsed, true).is_err() {
                return Err(ClinicError::Invalid(
                    "the signature does not match this file under this key; nothing was published".into(),
                ));
            }
        }
        // Laptops install only a file signed for the version they are offered
        // (`requireSignedVersion`): one signed for no version, or another, would be refused by every laptop.
        let Some(signed) = signed_version(parsed.trusted_comment()) else {
            return Err(ClinicError::Invalid("the signature names no version: sign with `--app-version`".into()));
        };
        // The updater reads `v1.2.3` as `1.2.3`, and build metadata as part of the version.
        if plain_version(signed.trim_start_matches('v')).as_ref() != Some(&version) {
            let shown: String = signed.chars().filter(char::is_ascii_graphic).take(32).collect();
            return Err(ClinicError::Invalid(format!("the file was signed for version {shown}, not {version}")));
        }
        std::fs::create_dir_all(&self.dir).map_err(setup("make the updates folder"))?;
        let release = Release {
            target: p.target,
            version: version.to_string(),
            notes: notes.map(str::to_owned),
            published_at: now,
            signature: signature.trim().to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            size: bytes.len() as u64,
        };
        let manifest = serde_json::to_vec_pretty(&release).map_err(|_| ClinicError::Store("release".into()))?;
        replace(&self.file(p.target), &bytes)?;
        replace(&self.manifest(p.target), &manifest)?;
        Ok(release)
    }

    /// The release published for `target`, if any.
    pub fn release(&self, target: UpdateTarget) -> Result<Option<Release>, ClinicError> {
        match std::fs::read(self.manifest(target)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| ClinicError::Setup(format!("the release for {} is unreadable", target.wire()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(setup("read a release")(e)),
        }
    }

    pub fn list(&self) -> Result<Vec<Release>, ClinicError> {
        UpdateTarget::ALL.into_iter().filter_map(|t| self.release(t).transpose()).collect()
    }

    /// Stops offering `target`'s release. Returns whether there was one.
    pub fn withdraw(&self, target: UpdateTarget) -> Result<bool, ClinicError> {
        // The manifest goes first: from then on no laptop is offered the file.
        let had = match std::fs::remove_file(self.manifest(target)) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(setup("withdraw a release")(e)),
        };
        match std::fs::remove_file(self.file(target)) {
            Ok(()) => Ok(had),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(had),
            Err(e) => Err(setup("remove a release's file")(e)),
        }
    }

    /// The offer for a laptop on `current`, or `None` when it has the
    /// published version or a newer one. `base` is where the laptop reached
    /// this clinic (`https://host:port`), for the file's address.
    pub fn offer(&self, target: UpdateTarget, current: &str, base: &str) -> Result<Option<UpdateOffer>, ClinicError> {
        let current = plain_version(current).ok_or(ClinicError::BadRequest("current_version"))?;
        let Some(release) = self.release(target)? else { return Ok(None) };
        let published = plain_version(&release.version)
            .ok_or_else(|| ClinicError::Setup(format!("the release for {} has a bad version", target.wire())))?;
        if published <= current {
            return Ok(None);
        }
        // The manifest may have been edited by hand: its notes are checked again.
        let notes = release.notes.filter(|n| plain_notes(n));
        Ok(Some(UpdateOffer {
            version: release.version,
            notes,
            pub_date: release.published_at,
            // Naming the release, so a file published between a laptop's
            // check and its download is not handed out with the old signature.
            url: format!("{base}{}?sha256={}", PATH_UPDATE_FILE.replace("{target}", target.wire()), release.sha256),
            signature: release.signature,
        }))
    }

    /// Where the published file is and its size, if its manifest still names
    /// it (and, when `release_sha256` is given, names that release), and it is
    /// a regular file of the size published. It is served as a stream, so a
    /// download holds a small buffer, not the file; the laptop checks the
    /// signature of what it receives whatever the clinic serves.
    pub fn servable(
        &self,
        target: UpdateTarget,
        release_sha256: Option<&str>,
    ) -> Result<Option<(PathBuf, u64)>, ClinicError> {
        let Some(release) = self.release(target)? else { return Ok(None) };
        if release_sha256.is_some_and(|wanted| wanted != release.sha256) {
            return Ok(None);
        }
        let path = self.file(target);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(setup("read a release's file")(e)),
        };
        // Not a link (to a device, or another file), nor a file changed in size since.
        if !meta.file_type().is_file() || meta.len() != release.size || meta.len() > MAX_FILE_BYTES {
            tracing::warn!(target = target.wire(), "a release's file is not what was published; not served");
            return Ok(None);
        }
        Ok(Some((path, meta.len())))
    }
}

/// Writes `bytes` to a sibling temporary file, syncs it and renames it over `path`.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), ClinicError> {
    use std::io::Write;
    // Its own temporary name: the file's and the manifest's must not meet.
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary).map_err(setup("write a release"))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(setup("write a release"))?;
    std::fs::rename(&temporary, path).map_err(setup("write a release"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Whether `signature` (as published) signs `bytes` under `key` (the `.pub` file's text).
    fn signature_holds(bytes: &[u8], encoded: &str, key: &str) -> Result<bool, ClinicError> {
        Ok(public_key(key)?.verify(bytes, &signature(encoded)?, true).is_ok())
    }

    /// A minisign key pair and a signature made the way `tauri signer sign
    /// --app-version` makes them, by the minisign crate: base64 of the `.pub`
    /// and `.sig` texts, the signature bound to `version` if given.
    fn signed(bytes: &[u8], version: Option<&str>) -> (String, String) {
        use base64::Engine;
        let b64 = |t: String| base64::engine::general_purpose::STANDARD.encode(t);
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let comment = match version {
            Some(version) => format!("timestamp:1\tfile:waymark.deb\tversion:{version}"),
            None => "timestamp:1\tfile:waymark.deb".to_owned(),
        };
        let signature =
            minisign::sign(Some(&pair.pk), &pair.sk, std::io::Cursor::new(bytes), Some(&comment), None).unwrap();
        (b64(pair.pk.to_box().unwrap().to_string()), b64(signature.to_string()))
    }

    /// Publishes `dir`'s waymark.deb with its .sig as `version`, checked under `key` if given.
    fn publish(releases: &Releases, dir: &Path, version: &str, key: Option<&Path>) -> Result<Release, ClinicError> {
        let (file, signature_file) = (dir.join("waymark.deb"), dir.join("waymark.deb.sig"));
        let publication = Publication {
            target: UpdateTarget::LinuxX86_64,
            version,
            file: &file,
            signature_file: &signature_file,
            public_key_file: key,
            notes: Some("Fixes the printout's footer."),
        };
        releases.publish(&publication, Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap())
    }

    #[test]
    fn a_published_release_is_offered_to_older_laptops_only_and_served_as_published() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"a signed package".repeat(100);
        let (key, signature) = signed(&bytes, Some("0.2.0"));
        std::fs::write(dir.path().join("waymark.deb"), &bytes).unwrap();
        std::fs::write(dir.path().join("waymark.deb.sig"), &signature).unwrap();
        std::fs::write(dir.path().join("key.pub"), &key).unwrap();
        let releases = Releases::at(dir.path().join("updates"));
        publish(&releases, dir.path(), "0.2.0", Some(&dir.path().join("key.pub"))).unwrap();

        let offer = releases.offer(UpdateTarget::LinuxX86_64, "0.1.0", "https://clinic:8443").unwrap().unwrap();
        assert_eq!(offer.version, "0.2.0");
        assert!(offer.url.starts_with("https://clinic:8443/v1/updates/linux-x86_64/file?sha256="), "{}", offer.url);
        // The laptop gets the builder's signature unchanged, and it holds for the file served.
        assert_eq!(offer.signature, signature);
        let named = offer.url.split_once("?sha256=").unwrap().1;
        let (path, size) = releases.servable(UpdateTarget::LinuxX86_64, Some(named)).unwrap().unwrap();
        let served = std::fs::read(path).unwrap();
        assert_eq!((served.len() as u64, &served), (size, &bytes));
        // Another release's name finds nothing: the laptop would not get bytes its signature does not cover.
        assert!(releases.servable(UpdateTarget::LinuxX86_64, Some(&"0".repeat(64))).unwrap().is_none());
        assert!(signature_holds(&served, &offer.signature, &key).unwrap());
        // Nothing for a laptop already there or ahead, or on another platform.
        assert!(releases.offer(UpdateTarget::LinuxX86_64, "0.2.0", "https://c").unwrap().is_none());
        assert!(releases.offer(UpdateTarget::LinuxX86_64, "0.3.0", "https://c").unwrap().is_none());
        assert!(releases.offer(UpdateTarget::WindowsX86_64, "0.1.0", "https://c").unwrap().is_none());
        for odd in ["not a version", "0.1.0-beta.1", "01.0.0", "1234567890.0.0", "1.0", "1.0.0.0", ""] {
            assert!(
                matches!(releases.offer(UpdateTarget::LinuxX86_64, odd, "https://c"), Err(ClinicError::BadRequest(_))),
                "{odd:?} was taken as a version"
            );
        }

        // A file changed in size on disk after publication is not served as the release.
        std::fs::write(releases.file(UpdateTarget::LinuxX86_64), b"something else").unwrap();
        assert!(releases.servable(UpdateTarget::LinuxX86_64, None).unwrap().is_none());
        #[cfg(unix)]
        {
            // Nor is a link put in its place, even to a file of the right size.
            let file = releases.file(UpdateTarget::LinuxX86_64);
            std::fs::remove_file(&file).unwrap();
            std::fs::write(dir.path().join("elsewhere"), &bytes).unwrap();
            std::os::unix::fs::symlink(dir.path().join("elsewhere"), &file).unwrap();
            assert!(releases.servable(UpdateTarget::LinuxX86_64, None).unwrap().is_none());
        }

        assert!(releases.withdraw(UpdateTarget::LinuxX86_64).unwrap());
        assert!(releases.offer(UpdateTarget::LinuxX86_64, "0.1.0", "https://c").unwrap().is_none());
        assert!(releases.list().unwrap().is_empty());
    }

    #[test]
    fn a_file_its_signature_does_not_cover_is_not_published() {
        let dir = tempfile::tempdir().unwrap();
        let (key, signature_of_other) = signed(b"another file", Some("0.2.0"));
        std::fs::write(dir.path().join("waymark.deb"), b"this file").unwrap();
        std::fs::write(dir.path().join("waymark.deb.sig"), &signature_of_other).unwrap();
        std::fs::write(dir.path().join("key.pub"), &key).unwrap();
        let releases = Releases::at(dir.path().join("updates"));
        let refused = publish(&releases, dir.path(), "0.2.0", Some(&dir.path().join("key.pub")));
        assert!(matches!(refused, Err(ClinicError::Invalid(_))), "{refused:?}");
        assert!(releases.list().unwrap().is_empty(), "a refused release left something behind");

        // Not a signature at all, or not a version: refused whatever the key.
        std::fs::write(dir.path().join("waymark.deb.sig"), "plain words").unwrap();
        assert!(publish(&releases, dir.path(), "0.2.0", None).is_err());
        std::fs::write(dir.path().join("waymark.deb.sig"), &signature_of_other).unwrap();
        assert!(publish(&releases, dir.path(), "latest", None).is_err());
        assert!(releases.list().unwrap().is_empty());
    }

    #[test]
    fn a_file_is_published_only_as_the_version_its_signature_binds() {
        // Why: laptops install only a file signed for the version offered
        // (`requireSignedVersion`), so an older genuine release cannot be
        // offered as a newer one. The clinic tells its administrator at once
        // rather than offer what every laptop would refuse.
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"a signed package".repeat(100);
        let releases = Releases::at(dir.path().join("updates"));
        std::fs::write(dir.path().join("waymark.deb"), &bytes).unwrap();
        for version in [Some("0.1.0"), Some("0.2.0-rc.1"), Some("0.2.0+build.7"), None] {
            let (key, signature) = signed(&bytes, version);
            std::fs::write(dir.path().join("waymark.deb.sig"), &signature).unwrap();
            std::fs::write(dir.path().join("key.pub"), &key).unwrap();
            let refused = publish(&releases, dir.path(), "0.2.0", Some(&dir.path().join("key.pub")));
            assert!(
                matches!(&refused, Err(ClinicError::Invalid(why)) if why.contains("version")),
                "{version:?}: {refused:?}"
            );
            assert!(releases.list().unwrap().is_empty(), "a refused release left something behind");
        }
        // Spelled as the updater also reads it.
        let (key, signature) = signed(&bytes, Some("v0.2.0"));
        std::fs::write(dir.path().join("waymark.deb.sig"), &signature).unwrap();
        std::fs::write(dir.path().join("key.pub"), &key).unwrap();
        publish(&releases, dir.path(), "0.2.0", Some(&dir.path().join("key.pub"))).unwrap();
        assert_eq!(releases.list().unwrap().len(), 1);
    }
}
