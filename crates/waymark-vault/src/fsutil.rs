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

/// Overwrites a file in place with random bytes and makes that durable, then
/// unlinks it and makes the unlinking durable. In place: the same blocks on
/// a file system that rewrites them. An SSD's wear levelling or a
/// copy-on-write file system (btrfs, APFS) may keep old blocks elsewhere;
/// what protects those is that they were encrypted.
pub fn shred(path: &Path, rng: &mut dyn rand::RngCore) -> Result<()> {
    overwrite_in_place(path, rng)?;
    std::fs::remove_file(path).map_err(VaultError::io("remove the shredded file"))?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

fn overwrite_in_place(path: &Path, rng: &mut dyn rand::RngCore) -> Result<()> {
    let mut file =
        std::fs::OpenOptions::new().write(true).open(path).map_err(VaultError::io("open the file to shred"))?;
    let len = file.metadata().map_err(VaultError::io("read the file to shred"))?.len();
    let mut left = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
        rng.fill_bytes(&mut chunk[..n]);
        file.write_all(&chunk[..n]).map_err(VaultError::io("shred the file"))?;
        left -= n as u64;
    }
    file.sync_all().map_err(VaultError::io("flush the shredded file"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shredded_file_is_rewritten_where_it_lies_before_it_goes() {
        // Why: `fs::write` truncates and writes new blocks, leaving the old key's blocks as they were.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        let secret = vec![0x5a_u8; 100_000];
        std::fs::write(&path, &secret).unwrap();
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        let mut rng = rand::rngs::mock::StepRng::new(1, 7);
        overwrite_in_place(&path, &mut rng).unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(after.len(), secret.len(), "the same length, so the same blocks");
        assert!(after.iter().filter(|b| **b == 0x5a).count() < 1000, "the secret bytes are gone");
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap()),
            inode,
            "the same file, not a new one"
        );
        shred(&path, &mut rng).unwrap();
        assert!(!path.exists());
    }
}
