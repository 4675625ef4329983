//! HTTPS to the clinic with rustls (ring). A self-signed clinic is trusted
//! only if its certificate's SHA-256 equals the fingerprint from the
//! enrolment code; a CA-issued one is checked against the usual roots.

use crate::error::SyncError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use waymark_protocol::messages::ErrorBody;

#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The pin replaces the name and chain checks: only this exact certificate is the clinic.
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// How long one request may take, from connecting to the last byte of the reply.
pub const REQUEST_TIME: Duration = Duration::from_secs(60);

/// The most a laptop reads of one reply: a pull page with a reassigned case's whole history fits.
pub const MAX_REPLY_BYTES: u64 = 128 * 1024 * 1024;

/// A connection to one clinic.
#[derive(Clone)]
pub struct Https {
    client: reqwest::blocking::Client,
    base: String,
}

impl Https {
    /// A client for this clinic, kept between rounds so an idle sync reuses
    /// its TLS connection instead of shaking hands again.
    pub fn cached(url: &str, fingerprint: Option<&str>) -> Result<Self, SyncError> {
        type Cache = Mutex<HashMap<(String, Option<String>), Https>>;
        static CLIENTS: OnceLock<Cache> = OnceLock::new();
        let key = (url.to_owned(), fingerprint.map(str::to_owned));
        let mut clients = CLIENTS.get_or_init(Cache::default).lock().map_err(|_| SyncError::Offline)?;
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = Https::new(url, fingerprint)?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    pub fn new(url: &str, fingerprint: Option<&str>) -> Result<Self, SyncError> {
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls_config(fingerprint)?)
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIME)
            .build()
            .map_err(|_| SyncError::Offline)?;
        Ok(Self { client, base: url.trim_end_matches('/').to_owned() })
    }

    /// POSTs a body; returns the response bytes, or the clinic's `{code, message}` as an error.
    pub fn post(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<Vec<u8>, SyncError> {
        self.post_within(path, headers, body, content_type, REQUEST_TIME)
    }

    /// As `post`, given `time` from connecting to the last byte of the reply.
    pub fn post_within(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        content_type: &str,
        time: Duration,
    ) -> Result<Vec<u8>, SyncError> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .timeout(time)
            .header("content-type", content_type)
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().map_err(classify)?;
        let status = response.status().as_u16();
        // A reply is never larger than a pull page; a server that sends more is not trusted with memory.
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(response, MAX_REPLY_BYTES + 1), &mut bytes)
            .map_err(|_| SyncError::Offline)?;
        if bytes.len() as u64 > MAX_REPLY_BYTES {
            return Err(SyncError::Protocol(waymark_protocol::ProtocolError::TooLarge { limit: MAX_REPLY_BYTES }));
        }
        if status == 200 {
            return Ok(bytes);
        }
        let mut body: ErrorBody = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| ErrorBody::new("http_error", format!("the clinic answered with status {status}")));
        // A refusal is not signed: its code must be one of ours in shape, and its words short and plain.
        if body.code.is_empty()
            || body.code.len() > 40
            || !body.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            body.code = "http_error".into();
        }
        body.message = body.message.chars().filter(|c| !c.is_control()).take(300).collect();
        if body.wipe {
            // Obeyed only once the engine has checked the clinic signed it for this request.
            return Err(SyncError::WipeOrder { signature: body.wipe_signature, request: None });
        }
        Err(SyncError::Refused {
            code: waymark_domain::codes::ErrorCode::from_wire(&body.code),
            message: body.message,
            status,
        })
    }
}

/// How a laptop checks the clinic's certificate: the pin from its enrolment
/// code, or the usual roots for a CA-issued one. The sync client and the app
/// updater's client both use it, so updates come only from the enrolled clinic.
pub fn tls_config(fingerprint: Option<&str>) -> Result<rustls::ClientConfig, SyncError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|_| SyncError::WrongServer)?;
    Ok(match fingerprint {
        Some(hex_pin) => {
            let bytes = hex::decode(hex_pin).map_err(|_| SyncError::NotEnrolled)?;
            let fingerprint: [u8; 32] = bytes.as_slice().try_into().map_err(|_| SyncError::NotEnrolled)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { fingerprint, provider }))
                .with_no_client_auth()
        }
        None => {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    })
}

/// The address Tauri's updater asks the clinic at `base` for a newer app:
/// the protocol's route with the updater's own placeholders, its
/// `{{target}}-{{arch}}` naming the platform as `UpdateTarget` does.
pub fn update_check_url(base: &str) -> String {
    let path = waymark_protocol::messages::PATH_UPDATE_CHECK
        .replace("{target}", "{{target}}-{{arch}}")
        .replace("{current_version}", "{{current_version}}");
    format!("{}{path}", base.trim_end_matches('/'))
}

fn classify(error: reqwest::Error) -> SyncError {
    // A certificate that fails the pin surfaces as a connect error whose source chain names it.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        // An io::Error hides its inner error from `source()`, and hyper nests them; unwrap each layer.
        let mut layer: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(candidate) = layer {
            if let Some(rustls::Error::InvalidCertificate(_)) = candidate.downcast_ref::<rustls::Error>() {
                return SyncError::WrongServer;
            }
            layer = candidate
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|i| i as &(dyn std::error::Error + 'static));
        }
        source = e.source();
    }
    SyncError::Offline
}
