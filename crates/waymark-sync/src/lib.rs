//! The device's sync engine. It reads and writes sync state only through the
//! vault, and talks to the clinic over TLS pinned to the certificate named in
//! the enrolment code. Every step is safe to cut off: the outbox shrinks only
//! after a durable acknowledgement, and pulled ops are applied together with
//! the cursor that covers them.

mod engine;
mod error;
mod transport;

pub use engine::{enrol, export_bundle, rejoin, sync_once, upward_header, SyncReport, VaultAccess, PUSH_BATCH_OPS};
pub use error::SyncError;
pub use transport::{tls_config, update_check_url, Https};
pub use waymark_protocol::messages::PUSHES_IN_FLIGHT;
