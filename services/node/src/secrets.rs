//! Secret files: the node's Ed25519 key and the operator token.
//!
//! Owns creating them with mode 0600 and refusing to load them when others can read them.
//! **Never regenerates a key that fails to load**: a node that silently changed its key would
//! change its identity. Must not log secret contents.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use quanze_ledger::NodeKey;

/// Creates `path` with mode 0600 and writes `content`; fails if it exists.
pub fn write_secret(path: &Path, content: &str) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("无法创建 {} / cannot create secret file", path.display()))?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Like `write_secret`, but first removes a stale file at `path` (a staged key left by a crash).
pub fn write_secret_replacing(path: &Path, content: &str) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("无法删除 {}", path.display())),
    }
    write_secret(path, content)
}

/// Reads a secret file, refusing one that group or others may read or write.
pub fn read_secret(path: &Path) -> anyhow::Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("无法读取 {} / cannot read secret file", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} 权限为 {mode:o}，其他用户可读；请执行 chmod 600 / file is readable by others (mode {mode:o}); run chmod 600",
            path.display()
        );
    }
    fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))
}

/// Loads the node key. Any failure is an error for the operator to fix, never a new key.
pub fn load_key(path: &Path) -> anyhow::Result<NodeKey> {
    let text = read_secret(path)?;
    NodeKey::from_seed_hex(&text).with_context(|| format!("{} 不是有效的节点密钥 / invalid node key", path.display()))
}

/// A new random operator token (32 bytes, hex).
pub fn new_token() -> anyhow::Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("系统随机数源不可用 / OS random failed: {e}"))?;
    Ok(hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_readable_key_is_refused_and_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        let key = NodeKey::generate().unwrap();
        write_secret(&path, &key.to_seed_hex()).unwrap();
        assert_eq!(load_key(&path).unwrap().public(), key.public());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_key(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        // The file is untouched: same key once permissions are fixed.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load_key(&path).unwrap().public(), key.public());
    }

    #[test]
    fn secrets_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operator.token");
        write_secret(&path, "a").unwrap();
        assert!(write_secret(&path, "b").is_err());
        assert_eq!(read_secret(&path).unwrap(), "a");
    }
}
