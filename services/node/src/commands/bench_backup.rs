//! `quanze bench backup`: backup and restore time and archive size for the simulated province
//! that `quanze bench audit` leaves in its `--dir` (about 1.5 M items with the default shape),
//! on the backend it was prepared on; restored into SQLite and, with `--restore-database-url`,
//! into PostgreSQL. Reads the province, writes only the archive and the restored copies.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use quanze_store::Store;

use super::backup::{RestoreArgs, restore, write_backup};

#[derive(Debug, Args)]
pub struct BackupBenchArgs {
    /// The --dir of an earlier `quanze bench audit` run (its province is in `<dir>/510000`).
    #[arg(long)]
    pub dir: PathBuf,
    /// Also restore into this empty PostgreSQL database.
    #[arg(long)]
    pub restore_database_url: Option<String>,
}

pub async fn run(a: BackupBenchArgs) -> anyhow::Result<()> {
    let province = a.dir.join("510000");
    let node = crate::cli::NodeArgs { data_dir: province.clone(), database_url: None, listen: None, node_url: None };
    let config = super::load_config(&node).with_context(|| {
        format!("{}: 先运行 quanze bench audit --dir / run quanze bench audit first", a.dir.display())
    })?;
    let store = Store::open_read_only(&config.database()).await?;
    let (entries, items) = (store.count_entries().await?, store_items(&store).await?);
    let engine = format!("{:?}", store.engine());
    store.close().await;
    let archive = a.dir.join("bench.qzbackup");
    for old in [archive.clone(), a.dir.join("restored-sqlite")] {
        if old.exists() {
            bail!("{} 已存在，请先删除 / exists: delete it first", old.display());
        }
    }
    eprintln!("bench backup: {engine} province, {entries} entries, {items} items");
    let t = Instant::now();
    let manifest = write_backup(&config, &archive).await?;
    let backup_s = t.elapsed().as_secs_f64();
    let size_mb = std::fs::metadata(&archive)?.len() as f64 / 1e6;
    let mut rows = vec![format!(
        "| backup ({engine}, node idle) | {backup_s:.1} | archive {size_mb:.0} MB, {} entries |",
        manifest.entries
    )];
    let mut targets = vec![("SQLite", a.dir.join("restored-sqlite"), None)];
    if let Some(url) = &a.restore_database_url {
        targets.push(("PostgreSQL", a.dir.join("restored-pg"), Some(url.clone())));
    }
    for (name, data_dir, database_url) in targets {
        let t = Instant::now();
        restore(RestoreArgs { from: archive.clone(), data_dir, database_url }).await?;
        rows.push(format!(
            "| restore into {name} (check, re-verify every entry, rebuild) | {:.1} | |",
            t.elapsed().as_secs_f64()
        ));
    }
    println!("\n| step | seconds | note |\n|---|---:|---|");
    println!("| province | | {entries} entries, {items} items, {engine} |");
    for r in rows {
        println!("{r}");
    }
    Ok(())
}

/// Items of every list held.
async fn store_items(store: &Store) -> anyhow::Result<u64> {
    let mut n = 0;
    for (origin, _) in store.heads().await? {
        n += store.count_items(&quanze_domain::DivisionCode::parse(&origin)?).await?;
    }
    Ok(n)
}
