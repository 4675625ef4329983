//! A clinic served over TLS in the calling process, for tests and benches
//! in other crates (feature `test-kit`): `server::serve` on a loopback port
//! with a self-signed certificate, a memory store or one given, advocates
//! added on request and codes issued as the `enrol` command issues them.

use crate::store::{ClinicStore, MemoryStore};
use crate::{AppState, StaffMember, StaffRole};
use std::path::Path;
use std::sync::Arc;

/// A TLS certificate for 127.0.0.1 and its SHA-256, as a laptop pins it.
pub fn loopback_tls() -> (rustls::ServerConfig, String) {
    use sha2::Digest;
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a test certificate");
    let fingerprint = hex::encode(sha2::Sha256::digest(certified.cert.der()));
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).expect("its key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("a TLS configuration");
    (config, fingerprint)
}

/// A clinic serving on 127.0.0.1 until dropped.
pub struct InProcessClinic {
    pub url: String,
    pub fingerprint: String,
    pub state: AppState,
    runtime: Option<tokio::runtime::Runtime>,
}

impl InProcessClinic {
    /// Serves `store` (a memory store if `None`) without the copy of the
    /// records, handing out the app updates in `updates` if given.
    pub fn serve(store: Option<Arc<dyn ClinicStore>>, updates: Option<&Path>) -> Self {
        let (tls, fingerprint) = loopback_tls();
        let keys = Arc::new(waymark_protocol::DeviceKeys::generate(&mut rand::rngs::OsRng));
        let clinic_id = uuid::Uuid::now_v7();
        let unlimited =
            crate::server::RateLimits { per_address: 1_000_000, enrol_per_address: 1_000_000, per_device: 1_000_000 };
        let state = AppState {
            store: store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            clinic_id,
            keys: keys.clone(),
            limits: waymark_protocol::Limits::default(),
            deadlines: crate::server::Deadlines::default(),
            clock: Arc::new(crate::system_now),
            throttle: crate::server::Throttle::new(unlimited),
            service: Arc::new(waymark_domain::records::ServiceRules::shipped()),
            projection: None,
            workspace_ui: None,
            identity: Some(Arc::new(crate::identity::PublicInfo {
                clinic_id,
                keys: keys.public(),
                fingerprint: fingerprint.clone(),
                recovery: age::x25519::Identity::generate().to_public().to_string(),
                created_at: crate::system_now(),
            })),
            templates: Default::default(),
            updates: updates.map(|dir| Arc::new(crate::updates::Releases::at(dir))),
            push_order: Arc::default(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("https://{}", listener.local_addr().expect("its address"));
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.spawn(crate::server::serve(listener, tls, state.clone()));
        InProcessClinic { url, fingerprint, state, runtime: Some(runtime) }
    }

    /// A one-time enrolment code for `advocate`, added to the register first.
    pub fn code(&self, advocate: &str) -> String {
        let store = &*self.state.store;
        if store.staff(advocate).ok().flatten().is_none() {
            store
                .add_staff(&StaffMember {
                    code: advocate.into(),
                    name: format!("Test advocate {advocate}"),
                    role: StaffRole::Advocate,
                    active: true,
                    added_at: crate::system_now(),
                    agency: None,
                })
                .expect("an advocate");
        }
        let request = crate::enrolment::CodeRequest { advocate, url: &self.url, ca_issued: false };
        let info = self.state.identity.as_deref().expect("the clinic's public information");
        let (code, _) =
            crate::enrolment::issue_code(store, info, &request, crate::system_now(), &mut rand::rngs::OsRng)
                .expect("a code");
        code.to_text()
    }
}

impl Drop for InProcessClinic {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}
