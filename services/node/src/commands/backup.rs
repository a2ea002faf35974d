//! `quanze backup` and `quanze restore`.
//!
//! A backup reads the node's database directly in one read-only snapshot (SQLite WAL read
//! transaction, PostgreSQL `REPEATABLE READ READ ONLY`), so the node keeps serving and writing
//! and the CLI never writes its database; the data directory's files go in beside it. A restore
//! checks the whole archive before it writes anything, writes the files into a new data
//! directory, then restores the store in one transaction that re-verifies every entry.
//!
//! A restore interrupted half-way is detectable and retryable: `RESTORE_MARKER` is written first
//! and removed last, `quanze serve` refuses a directory that still holds it, and `restore` into
//! such a directory starts over. The restored node must catch up with its own log at its parent
//! before it signs again (`federation::catch_up`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Args;
use quanze_domain::DivisionCode;
use quanze_store::Store;

use crate::backup::{ArchiveWriter, FILE_PREFIX, FORMAT, Manifest};
use crate::cli::NodeArgs;
use crate::config::{
    CERT_FILE, CERT_KEY_FILE, CONFIG_FILE, ConfigFile, DB_FILE, KEY_FILE, NEXT_KEY_FILE, PARENT_CERT_FILE, TOKEN_FILE,
};
use crate::secrets::{load_key, write_secret};

/// Written first and removed last by `restore`: a directory holding it is half restored.
pub const RESTORE_MARKER: &str = "restore.incomplete";

/// Data directory files a backup carries: (name, secret).
const NODE_FILES: [(&str, bool); 7] = [
    (CONFIG_FILE, false),
    (KEY_FILE, true),
    (NEXT_KEY_FILE, true),
    (TOKEN_FILE, true),
    (CERT_FILE, false),
    (CERT_KEY_FILE, true),
    (PARENT_CERT_FILE, false),
];

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The archive to write (a new file, mode 0600).
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive written by `quanze backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// The new data directory (absent or empty).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Restore into this database (postgres://… of an empty database) instead of quanze.db in
    /// the new data directory.
    #[arg(long)]
    pub database_url: Option<String>,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = super::load_config(&args.node)?;
    let manifest = write_backup(&config, &args.to).await?;
    println!(
        "已备份 {} {}：{} 个条目，{} 行本地数据 → {} / backup written",
        manifest.division,
        manifest.name,
        manifest.entries,
        manifest.local_rows,
        args.to.display()
    );
    println!(
        "⚠ 备份含节点私钥和运维令牌，请像私钥一样保管（文件权限 0600）/ the archive contains the node's private key: keep it like the key itself"
    );
    Ok(())
}

/// Writes the backup of the node configured by `config` to `to` (via `to.partial`, renamed when
/// complete). The node may be running.
pub async fn write_backup(config: &crate::config::Config, to: &Path) -> anyhow::Result<Manifest> {
    if to.exists() {
        bail!("{} 已存在；备份不覆盖文件 / the file exists; a backup never overwrites", to.display());
    }
    let partial = PathBuf::from(format!("{}.partial", to.display()));
    let _ = std::fs::remove_file(&partial);
    let result = write_archive(config, &partial).await;
    match result {
        Ok(m) => {
            std::fs::rename(&partial, to)?;
            Ok(m)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_archive(config: &crate::config::Config, path: &Path) -> anyhow::Result<Manifest> {
    let store = Store::open_read_only(&config.database()).await.with_context(|| {
        format!("无法打开数据库 / cannot open database {}", crate::server::redact(&config.database()))
    })?;
    let mut archive = ArchiveWriter::create(path)?;
    for (name, _) in NODE_FILES {
        let file = config.path(name);
        if file.exists() {
            let bytes = std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            archive.add(&format!("{FILE_PREFIX}{name}"), &bytes)?;
        }
    }
    let progress = crate::progress::counter("备份条目", "条");
    let reading = store.clone();
    let counting = progress.clone();
    let summary = archive
        .add_store(|mut sink| async move {
            let summary = reading
                .backup_read(&mut |record| {
                    if matches!(record, quanze_store::backup::BackupRecord::Entry { .. }) {
                        counting.inc(1);
                    }
                    sink.put(&record)
                })
                .await?;
            Ok((summary, sink))
        })
        .await;
    progress.finish_and_clear();
    let engine = format!("{:?}", store.engine()).to_lowercase();
    store.close().await;
    let summary = summary?;
    archive.finish(Manifest {
        format: FORMAT.into(),
        product_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: summary.schema_version,
        division: config.division.to_string(),
        tier: config.tier.to_string(),
        name: config.name.clone(),
        engine,
        created_at: Utc::now().to_rfc3339(),
        entries: summary.entries,
        local_rows: summary.rows,
        origins: Manifest::origins_from(&summary),
        parts: Vec::new(),
    })
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let checking = crate::progress::spinner("校验备份 / checking the backup");
    let archive = crate::backup::check(&args.from);
    checking.finish_and_clear();
    let archive = archive?;
    let manifest = &archive.manifest;
    let config_bytes = archive.file(CONFIG_FILE).context("备份中没有 quanze.toml / no config in the backup")?;
    let mut config: ConfigFile = toml::from_str(std::str::from_utf8(config_bytes)?).context("备份中的 quanze.toml")?;
    let key_text =
        String::from_utf8(archive.file(KEY_FILE).context("备份中没有 node.key / no key in the backup")?.to_vec())?;
    let key = quanze_ledger::NodeKey::from_seed_hex(&key_text).context("备份中的 node.key 无效 / invalid key")?;
    prepare_target(&args.data_dir)?;
    let dir = &args.data_dir;
    write_secret(&dir.join(RESTORE_MARKER), &format!("restoring from {}\n", args.from.display()))?;
    config.database.url = args.database_url.clone().unwrap_or_default();
    for (name, secret) in NODE_FILES {
        let Some(bytes) = archive.file(name) else { continue };
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if name == CONFIG_FILE {
            let header =
                "# Quanze node configuration. Precedence: this file < QUANZE_* environment < command-line flags.\n";
            std::fs::write(&path, format!("{header}{}", toml::to_string(&config)?))?;
        } else if secret {
            write_secret(&path, std::str::from_utf8(bytes).with_context(|| name.to_string())?)?;
        } else {
            std::fs::write(&path, bytes)?;
        }
    }
    load_key(&dir.join(KEY_FILE))?;
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => dir.join(DB_FILE).display().to_string(),
    };
    let store = Store::open(&url)
        .await
        .with_context(|| format!("无法打开数据库 / cannot open database {}", crate::server::redact(&url)))?;
    let own = (config.node.division.clone(), key.public());
    let fallback = move |origin: &DivisionCode, _seq: u64| (origin == &own.0).then_some(own.1);
    let progress = crate::progress::bar(manifest.entries, "恢复条目 / restoring entries");
    let counting = progress.clone();
    let mut records = archive.records()?.inspect(move |r| {
        if matches!(r, Ok(quanze_store::backup::BackupRecord::Entry { .. })) {
            counting.inc(1);
        }
    });
    let replayed = store.restore(&mut records, &fallback).await;
    progress.finish_and_clear();
    store.close().await;
    let replayed = replayed.context("恢复失败，可修正后重新执行 quanze restore / restore failed; run it again")?;
    std::fs::remove_file(dir.join(RESTORE_MARKER))?;
    println!(
        "已恢复 {} {}：重新校验并重放 {replayed} 个条目 → {} / restored (every entry re-verified)",
        manifest.division,
        manifest.name,
        dir.display()
    );
    println!(
        "启动后节点先从上级取回备份之后本节点写下的条目，核对之前不接受写入 / on start the node fetches its own newer entries from its parent and accepts no writes until then"
    );
    Ok(())
}

/// The target must be absent or empty, or left by an interrupted restore (then emptied).
fn prepare_target(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        if !entries.is_empty() {
            if !dir.join(RESTORE_MARKER).exists() {
                bail!("{} 不是空目录；恢复只写入新目录 / the target directory is not empty", dir.display());
            }
            eprintln!("上次恢复未完成，重新开始 / an earlier restore was interrupted: starting over");
            for e in entries {
                let path = e.path();
                if e.file_type()?.is_dir() { std::fs::remove_dir_all(&path)? } else { std::fs::remove_file(&path)? }
            }
        }
    }
    std::fs::create_dir_all(dir.join("tls")).with_context(|| format!("无法创建目录 {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}
