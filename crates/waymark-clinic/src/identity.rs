//! The clinic's folder: its identity (Ed25519 signing and X25519 sealing
//! keys), its TLS certificate, and the key of its database, all secrets in
//! one age file under the clinic passphrase.
//!
//! | File | Contents |
//! |---|---|
//! | `clinic.json` | Public: clinic id, public keys, certificate fingerprint, recovery recipient |
//! | `clinic.key` | age (scrypt): database key, signing and sealing keys, TLS private key |
//! | `clinic.db` | SQLCipher database (a clinic on one server) |
//! | `postgres.conf` | Instead of `clinic.db`: the PostgreSQL connection string (owner-only, 0600) |
//! | `cert.pem` | The self-signed TLS certificate (public) |
//!
//! Several servers over one PostgreSQL database each hold a copy of the
//! same folder (docs/postgres.md); each keeps its own `replica/`, a cache.

use crate::error::ClinicError;
use crate::store::{ClinicStore, PostgresStore, SqliteStore};
use age::secrecy::{ExposeSecret, SecretString};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;
use waymark_domain::records::ServiceRules;
use waymark_protocol::keys::SecretKeysText;
use waymark_protocol::{DeviceKeys, DevicePublic};
use zeroize::Zeroizing;

/// scrypt log2 N for the clinic key file; the same as the vault's.
pub const SHIPPED_WORK_FACTOR: u8 = 17;

#[derive(Debug, Clone)]
pub struct ClinicFiles {
    pub dir: PathBuf,
}

impl ClinicFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    pub fn public(&self) -> PathBuf {
        self.dir.join("clinic.json")
    }
    pub fn secrets(&self) -> PathBuf {
        self.dir.join("clinic.key")
    }
    pub fn database(&self) -> PathBuf {
        self.dir.join("clinic.db")
    }
    /// The PostgreSQL connection string, when the clinic keeps its state there.
    pub fn postgres(&self) -> PathBuf {
        self.dir.join("postgres.conf")
    }
    /// The clinic's copy of the records (`crate::projection`), rebuilt from the feed if lost.
    pub fn replica(&self) -> PathBuf {
        self.dir.join("replica")
    }
    /// The app updates this clinic hands to laptops (`crate::updates`).
    pub fn updates(&self) -> PathBuf {
        self.dir.join("updates")
    }
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicInfo {
    pub clinic_id: Uuid,
    pub keys: DevicePublic,
    pub fingerprint: String,
    pub recovery: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct Secrets {
    db_key: String,
    keys: SecretKeysText,
    tls_key_pem: String,
}

/// An unlocked clinic.
pub struct Clinic {
    pub files: ClinicFiles,
    pub info: PublicInfo,
    pub keys: Arc<DeviceKeys>,
    db_key: Zeroizing<[u8; 32]>,
    pub cert_pem: String,
    tls_key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clinic").field("id", &self.info.clinic_id).finish_non_exhaustive()
    }
}

pub(crate) fn setup(what: &str) -> impl Fn(std::io::Error) -> ClinicError + '_ {
    move |e| ClinicError::Setup(format!("{what}: {}", e.kind()))
}

/// The SHA-256 of a certificate in PEM, as hex: what a device pins.
pub fn fingerprint_of_pem(pem: &str) -> Result<String, ClinicError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| ClinicError::Setup("the certificate is not PEM".into()))?;
    Ok(hex::encode(Sha256::digest(der.as_ref())))
}

/// The first line of a file only the clinic's account can read: opened once,
/// not through a symbolic link, and checked on that handle, so the file
/// checked is the file read.
pub(crate) fn read_private(path: &Path, named_by: &str) -> Result<SecretString, ClinicError> {
    let unreadable = |_| ClinicError::Setup(format!("{named_by} names a file that could not be read"));
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let mut file = options.open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    // systemd hands a service its credentials (`LoadCredential=`) in a folder
    // only the service can read, owned by the service or by root and perhaps
    // readable by its group: there the file must still be regular, owned by
    // one of the two, and writable by its owner alone.
    let a_credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .is_some_and(|dir| path.parent().is_some_and(|parent| parent == Path::new(&dir)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let me = rustix::process::geteuid().as_raw();
        let mode = metadata.permissions().mode();
        let fine = match a_credential {
            true => metadata.is_file() && (metadata.uid() == me || metadata.uid() == 0) && mode & 0o022 == 0,
            false => metadata.is_file() && metadata.uid() == me && mode & 0o077 == 0,
        };
        if !fine {
            return Err(ClinicError::Setup(format!(
                "the file {named_by} names must be a regular file owned by the clinic's account and readable by it only (chmod 600)"
            )));
        }
    }
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut file, &mut text).map_err(unreadable)?;
    Ok(SecretString::from(text.lines().next().unwrap_or("").to_owned()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ClinicError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(setup("create a clinic file"))?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(setup("write a clinic file"))
}

impl Clinic {
    /// Creates the clinic's identity, certificate (for `hosts`), database key
    /// and recovery identity. The recovery identity is returned, never
    /// stored here: the administrator keeps it offline.
    pub fn init(
        dir: &Path,
        passphrase: &SecretString,
        hosts: &[String],
        work_factor: u8,
        now: DateTime<Utc>,
    ) -> Result<(Clinic, age::x25519::Identity), ClinicError> {
        Self::init_on(dir, passphrase, hosts, work_factor, now, None)
    }

    /// As `init`, keeping the clinic's state in the PostgreSQL database
    /// `postgres` names (a connection string) instead of an embedded one.
    /// The database must hold no clinic yet.
    pub fn init_on(
        dir: &Path,
        passphrase: &SecretString,
        hosts: &[String],
        work_factor: u8,
        now: DateTime<Utc>,
        postgres: Option<&str>,
    ) -> Result<(Clinic, age::x25519::Identity), ClinicError> {
        // The one passphrase rule the laptops use: it guards every case the clinic holds.
        let strength = waymark_domain::passphrase::rate(passphrase.expose_secret());
        if !strength.acceptable {
            return Err(ClinicError::WeakPassphrase { hint: strength.hint });
        }
        let files = ClinicFiles::new(dir);
        std::fs::create_dir_all(dir).map_err(setup("create the clinic folder"))?;
        if files.secrets().exists() || files.public().exists() {
            return Err(ClinicError::Setup("a clinic already exists in that folder".into()));
        }
        let keys = DeviceKeys::generate(&mut rand::rngs::OsRng);
        let recovery = age::x25519::Identity::generate();
        let mut db_key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(db_key.as_mut());
        // Checked before any file is written, and without claiming the database, so a refusal leaves nothing behind.
        if let Some(connection) = postgres {
            if PostgresStore::holds_a_clinic(connection)? {
                return Err(ClinicError::Setup(
                    "the PostgreSQL database already holds a clinic: copy that clinic's folder to this server instead"
                        .into(),
                ));
            }
        }
        let certified = rcgen::generate_simple_self_signed(hosts.to_vec())
            .map_err(|_| ClinicError::Setup("the host names are not valid".into()))?;
        let cert_pem = certified.cert.pem();
        let tls_key_pem = Zeroizing::new(certified.signing_key.serialize_pem());
        let info = PublicInfo {
            clinic_id: Uuid::now_v7(),
            keys: keys.public(),
            fingerprint: fingerprint_of_pem(&cert_pem)?,
            recovery: recovery.to_public().to_string(),
            created_at: now,
        };
        let secrets = Zeroizing::new(
            serde_json::to_vec(&Secrets {
                db_key: hex::encode(&db_key[..]),
                keys: keys.to_text(),
                tls_key_pem: tls_key_pem.to_string(),
            })
            .map_err(|_| ClinicError::Setup("secrets".into()))?,
        );
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(work_factor);
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|_| ClinicError::Setup("key file".into()))?;
        let mut sealed = Vec::new();
        let mut writer = encryptor.wrap_output(&mut sealed).map_err(setup("seal the key file"))?;
        writer.write_all(&secrets).map_err(setup("seal the key file"))?;
        writer.finish().map_err(setup("seal the key file"))?;
        write_private(&files.secrets(), &sealed)?;
        write_private(
            &files.public(),
            &serde_json::to_vec_pretty(&info).map_err(|_| ClinicError::Setup("public info".into()))?,
        )?;
        std::fs::write(files.certificate(), &cert_pem).map_err(setup("write the certificate"))?;
        let clinic = Clinic { files, info, keys: Arc::new(keys), db_key, cert_pem, tls_key_pem };
        match postgres {
            Some(connection) => {
                write_private(&clinic.files.postgres(), connection.as_bytes())?;
                // The last step: the new key claims the database.
                drop(PostgresStore::open(connection, &clinic.db_key)?);
            }
            // Creates and migrates the database now, so `serve` never creates one by accident.
            None => drop(SqliteStore::open(&clinic.files.database(), &clinic.db_key, true)?),
        }
        Ok((clinic, recovery))
    }

    /// Reads the clinic's secrets with the passphrase.
    pub fn unlock(dir: &Path, passphrase: &SecretString) -> Result<Clinic, ClinicError> {
        let files = ClinicFiles::new(dir);
        let info: PublicInfo =
            serde_json::from_slice(&std::fs::read(files.public()).map_err(setup("read clinic.json"))?)
                .map_err(|_| ClinicError::Setup("clinic.json is damaged".into()))?;
        let sealed = std::fs::read(files.secrets()).map_err(setup("read clinic.key"))?;
        let decryptor =
            age::Decryptor::new(sealed.as_slice()).map_err(|_| ClinicError::Setup("clinic.key is damaged".into()))?;
        let mut identity = age::scrypt::Identity::new(passphrase.clone());
        identity.set_max_work_factor(20);
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|_| ClinicError::WrongPassphrase)?;
        let mut plain = Zeroizing::new(Vec::new());
        reader.read_to_end(&mut plain).map_err(|_| ClinicError::WrongPassphrase)?;
        let secrets: Secrets =
            serde_json::from_slice(&plain).map_err(|_| ClinicError::Setup("clinic.key is damaged".into()))?;
        let key_bytes = Zeroizing::new(
            hex::decode(&secrets.db_key).map_err(|_| ClinicError::Setup("clinic.key is damaged".into()))?,
        );
        let mut db_key = Zeroizing::new([0u8; 32]);
        if key_bytes.len() != 32 {
            return Err(ClinicError::Setup("clinic.key is damaged".into()));
        }
        db_key.copy_from_slice(&key_bytes);
        let keys =
            DeviceKeys::from_text(&secrets.keys).map_err(|_| ClinicError::Setup("clinic.key is damaged".into()))?;
        let cert_pem = std::fs::read_to_string(files.certificate()).map_err(setup("read cert.pem"))?;
        Ok(Clinic {
            files,
            info,
            keys: Arc::new(keys),
            db_key,
            cert_pem,
            tls_key_pem: Zeroizing::new(secrets.tls_key_pem),
        })
    }

    /// The database key, for `wipe` to prove the PostgreSQL database is this clinic's before it drops it.
    pub(crate) fn db_key_for_wipe(&self) -> &[u8; 32] {
        &self.db_key
    }

    /// The clinic's copy of the records, in the folder's `replica/`.
    pub fn open_projection(&self, clock: crate::server::Clock) -> Result<crate::projection::Projection, ClinicError> {
        let rng = Box::new(<rand::rngs::StdRng as rand::SeedableRng>::from_entropy());
        crate::projection::Projection::open(&self.files.replica(), &self.db_key, self.info.clinic_id, clock, rng)
    }

    /// The clinic's store: PostgreSQL when the folder names one (`postgres.conf`), else its SQLCipher database.
    pub fn open_store(&self) -> Result<Arc<dyn ClinicStore>, ClinicError> {
        match self.postgres()? {
            Some(connection) => Ok(Arc::new(PostgresStore::open(&connection, &self.db_key)?)),
            None => Ok(Arc::new(SqliteStore::open(&self.files.database(), &self.db_key, false)?)),
        }
    }

    /// The PostgreSQL connection string, if the clinic keeps its state there.
    pub fn postgres(&self) -> Result<Option<Zeroizing<String>>, ClinicError> {
        let path = self.files.postgres();
        if !path.exists() {
            return Ok(None);
        }
        let text = read_private(&path, "postgres.conf")?;
        Ok(Some(Zeroizing::new(text.expose_secret().trim().to_owned())))
    }

    /// The service's rules and instruments: the clinic folder's `rules.toml`
    /// and `instruments/*.toml` over the shipped ones, the same files a
    /// service gives its laptops, so an op is judged as its laptop judged it.
    pub fn service_rules(&self) -> Result<ServiceRules, ClinicError> {
        let dir = &self.files.dir;
        // Only a missing file means the shipped rules; one that cannot be read stops the clinic.
        let rules = match std::fs::read_to_string(dir.join("rules.toml")) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ClinicError::Setup(format!("read rules.toml: {}", e.kind()))),
        };
        let mut files = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("instruments")) {
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.extension().is_some_and(|e| e == "toml") {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| ClinicError::Setup(format!("read an instrument file: {}", e.kind())))?;
                    files.push((name, text));
                }
            }
        }
        ServiceRules::from_files(rules.as_deref(), files).map_err(|e| ClinicError::Setup(format!("service rules: {e}")))
    }

    /// TLS with the clinic's own certificate, or a CA-issued chain and key.
    pub fn tls_config(&self, ca_issued: Option<(&Path, &Path)>) -> Result<rustls::ServerConfig, ClinicError> {
        use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
        let (chain_pem, key_pem) = match ca_issued {
            Some((chain, key)) => (
                std::fs::read(chain).map_err(setup("read the certificate chain"))?,
                Zeroizing::new(std::fs::read(key).map_err(setup("read the certificate key"))?),
            ),
            None => (self.cert_pem.as_bytes().to_vec(), Zeroizing::new(self.tls_key_pem.as_bytes().to_vec())),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
            .collect::<Result<_, _>>()
            .map_err(|_| ClinicError::Setup("the certificate chain is not PEM".into()))?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|_| ClinicError::Setup("the certificate key is not PEM".into()))?;
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|_| ClinicError::Setup("the certificate and key do not match".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_domain::codes::ErrorCode;

    #[test]
    fn a_guessable_clinic_passphrase_is_refused_and_nothing_is_written() {
        // The clinic passphrase guards every case the clinic holds; it once had no check at all.
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("clinic");
        let weak = SecretString::from("password1234".to_owned());
        let err = Clinic::init(
            &folder,
            &weak,
            &["localhost".into()],
            10,
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 9, 0, 0).unwrap(),
        )
        .err()
        .expect("refused");
        assert_eq!(err.code(), ErrorCode::WeakPassphrase);
        assert!(!folder.exists(), "a refused init leaves no folder behind");
        let strong = SecretString::from("clinic lantern orbit".to_owned());
        Clinic::init(
            &folder,
            &strong,
            &["localhost".into()],
            10,
            chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 9, 0, 0).unwrap(),
        )
        .expect("three random words are accepted");
    }
}
