//! Waymark's encrypted store: the key file, the SQLCipher database, its
//! migrations, the one write path (record + op log + audit in one
//! transaction), queries, and encrypted backup. This is the only crate that
//! writes SQL.

pub mod access;
pub mod audit;
pub mod backup;
mod clocks;
pub mod db;
mod documents;
pub mod error;
mod fsutil;
mod heads;
pub mod keyfile;
mod operations;
pub mod problems;
pub mod queries;
mod rekey;
pub mod retention;
pub mod sync;
pub mod throttle;
pub mod vault;

pub use error::{Result, VaultError};
pub use keyfile::DbKey;
pub use keyfile::{MAX_WORK_FACTOR, SHIPPED_WORK_FACTOR};
pub use vault::{
    default_vault_dir, vault_exists, Env, InitOptions, Mutation, Replica, SystemClock, Vault, REPLICA_ACTOR,
};

/// For benchmarks only: a database key and direct database access, so the
/// encryption overhead can be measured against a plain SQLite file.
#[doc(hidden)]
pub mod bench_support {
    pub use crate::db::{migrate, open};
    pub use crate::keyfile::DbKey;
}

#[cfg(any(test, feature = "test-kit"))]
pub mod kit;
#[cfg(test)]
mod tests;
