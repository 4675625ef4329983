//! The stalking clinic's sync server, as a library: storage behind a trait,
//! the clinic's identity and TLS certificate, and the axum HTTP API. The
//! `waymark-clinic` binary is a thin admin command line over it.
//!
//! This crate never depends on the desktop crates; it shares the pure
//! domain and the wire protocol with them, and the vault crate's records,
//! apply and merge for its own copy of the records (`projection`).

pub mod access;
pub mod authoring;
pub mod authority;
pub mod cli;
pub mod enrolment;
pub mod error;
pub mod identity;
pub mod intake;
pub mod minutes;
pub mod panel;
pub mod pathways;
pub mod projection;
pub mod push_order;
pub mod reports;
pub mod retention;
pub mod server;
pub mod signin;
pub mod store;
#[cfg(feature = "test-kit")]
pub mod test_kit;
pub mod text_guard;
pub mod updates;
pub mod workspace;

pub use error::ClinicError;

/// The clinic's one reading of the system clock; everything else is given the time.
#[allow(clippy::disallowed_methods)]
pub fn system_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub use identity::{Clinic, ClinicFiles};
pub use server::{router, AppState};
pub use store::{ClinicStore, DeviceRecord, DeviceStatus, StaffMember, StaffRole};

/// The OpenAPI description of the HTTP API, served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../docs/clinic-openapi.json");
