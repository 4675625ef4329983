//! Crash-safe file replacement.

use crate::error::{Result, VaultError};
use std::io::Write;
use std::path::Path;

/// Writes `name` in `dir` through a temp file in the same folder, fsyncs it,
/// renames it over the old file and fsyncs the folder.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(VaultError::io("create temp file"))?;
    tmp.write_all(bytes).map_err(VaultError::io("write temp file"))?;
    tmp.as_file().sync_all().map_err(VaultError::io("sync temp file"))?;
    tmp.persist(dir.join(name)).map_err(|e| VaultError::io("replace file")(e.error))?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(VaultError::io("sync folder"))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
