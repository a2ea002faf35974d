//! `quanze bench ingest`: appends item ops as signed entries through the node's real write path
//! (sign, then entry + projection in one SQLite transaction), with batches of 1 and 100 ops per
//! entry, and measures in the same run the bounds: raw Ed25519 sign and verify rates and a raw
//! insert of the same rows in one transaction. Each scenario runs in its own child process so its
//! peak RSS is its own. Finally it serves the 100 000-item node and reads its idle RSS.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::{Op, PowerItem};
use quanze_ledger::{NodeKey, UnverifiedEntry, sign_entry, verify_next};
use quanze_store::Store;
use serde::{Deserialize, Serialize};

use crate::cli::BenchCommand;
use crate::config::{Config, Overrides};

/// One scenario's result, printed by the child as one JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub scenario: String,
    pub ops: usize,
    pub entries: usize,
    pub seconds: f64,
    pub peak_rss_mb: f64,
}

impl Measured {
    fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.seconds
    }
    fn entries_per_s(&self) -> f64 {
        self.entries as f64 / self.seconds
    }
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    let (ops, batch, bound, dir) = match cmd {
        BenchCommand::Ingest { ops, batch, bound, dir } => (ops, batch, bound, dir),
        BenchCommand::Federation { entries, ops_per_entry, samples, dir } => {
            return crate::commands::bench_fed::run(entries, ops_per_entry, samples, dir).await;
        }
        BenchCommand::Recon { items, nodes, dir } => return crate::commands::bench_recon::run(items, nodes, dir).await,
        BenchCommand::Audit(args) => return crate::commands::bench_audit::run(args).await,
        BenchCommand::Checkpoint(args) => return crate::commands::bench_checkpoint::run(args).await,
        BenchCommand::Backup(args) => return crate::commands::bench_backup::run(args).await,
        BenchCommand::Grants { items, queries, concurrency, dir } => {
            return crate::commands::bench_grants::run(items, queries, concurrency, dir).await;
        }
        BenchCommand::Load { items, steps, seconds, dir } => {
            return crate::commands::bench_load::run(items, steps, seconds, dir).await;
        }
    };
    if ops == 0 {
        bail!("--ops 必须大于 0 / --ops must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    if let Some(b) = batch {
        let m = ingest(&dir, ops, b).await?;
        println!("{}", serde_json::to_string(&m)?);
        return Ok(());
    }
    if let Some(b) = bound {
        let m = match b.as_str() {
            "sign" | "verify" => sign_verify(ops.min(20_000), b == "verify")?,
            "insert" => raw_insert(&dir, ops).await?,
            "insert-items" => raw_insert_items(&dir, ops).await?,
            other => bail!("未知 --bound “{other}”，应为 sign|verify|insert|insert-items"),
        };
        println!("{}", serde_json::to_string(&m)?);
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("bench ingest: {ops} ops per scenario in {}", dir.display());
    let mut results = Vec::new();
    for b in [1usize, 100] {
        results.push(
            child(&[
                "--ops",
                &ops.to_string(),
                "--batch",
                &b.to_string(),
                "--dir",
                &dir.join(format!("batch-{b}")).display().to_string(),
            ])
            .await?,
        );
    }
    for b in ["sign", "verify", "insert", "insert-items"] {
        results.push(
            child(&[
                "--ops",
                &ops.to_string(),
                "--bound",
                b,
                "--dir",
                &dir.join(format!("bound-{b}")).display().to_string(),
            ])
            .await?,
        );
    }
    let idle = idle_rss(&dir.join("batch-100")).await?;
    print_table(&results, ops, idle);
    Ok(())
}

async fn child(args: &[&str]) -> anyhow::Result<Measured> {
    let exe = std::env::current_exe()?;
    let out = tokio::process::Command::new(exe).arg("bench").arg("ingest").args(args).output().await?;
    if !out.status.success() {
        bail!("bench child {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().context("bench child printed nothing")?;
    let m: Measured = serde_json::from_str(line)?;
    eprintln!("  {}: {:.2} s", m.scenario, m.seconds);
    Ok(m)
}

/// `n` distinct realistic items, made lazily (so the generator does not dominate peak RSS):
/// the sample county list, renumbered.
pub fn generate_items(n: usize) -> impl Iterator<Item = PowerItem> {
    let templates = quanze_domain::sample::sample_list("泸县");
    (0..n).map(move |i| {
        let mut item = templates[i % templates.len()].clone();
        let letters = item.category.letters();
        item.code = format!("{letters}{:05}{:03}", i / 1000, i % 1000);
        item.name = format!("{}（第{}项）", item.name, i + 1);
        item
    })
}

fn peak_mb() -> f64 {
    crate::rss::peak_rss_bytes().unwrap_or(0) as f64 / 1_048_576.0
}

/// The real write path: `Node::write` per entry, one transaction each, on a fresh node.
async fn ingest(dir: &Path, ops: usize, batch: usize) -> anyhow::Result<Measured> {
    let (_, _, node) = crate::commands::init::init_and_open_luxian(dir).await?;
    let items = generate_items(ops);
    let start = Instant::now();
    let mut entries = 0;
    let mut it = items.peekable();
    while it.peek().is_some() {
        let ops: Vec<Op> = it.by_ref().take(batch).map(Op::add).collect();
        node.write(ops).await?;
        entries += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    node.store().close().await;
    Ok(Measured { scenario: format!("batch {batch}"), ops, entries, seconds, peak_rss_mb: peak_mb() })
}

/// Raw Ed25519 over entry-sized messages (the bytes of batch-1 entries).
fn sign_verify(n: usize, verify: bool) -> anyhow::Result<Measured> {
    let key = NodeKey::generate()?;
    let origin = quanze_domain::DivisionCode::parse("510521")?;
    let signed: Vec<_> = generate_items(n)
        .map(|item| sign_entry(&key, &origin, None, chrono::Utc::now(), vec![Op::add(item)]))
        .collect::<Result<_, _>>()?;
    let public = key.public();
    let start = Instant::now();
    if verify {
        for e in &signed {
            verify_next(&origin, &public, None, UnverifiedEntry::new(e.bytes().to_vec(), *e.sig()))?;
        }
    } else {
        for e in &signed {
            std::hint::black_box(sign_entry(&key, &origin, None, chrono::Utc::now(), e.ops().to_vec())?);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let scenario =
        if verify { "raw verify (entry checks incl. canonical JSON)" } else { "raw sign (canonical JSON + Ed25519)" };
    Ok(Measured { scenario: scenario.into(), ops: n, entries: n, seconds, peak_rss_mb: peak_mb() })
}

/// The bound: the rows the batch-100 scenario writes (entry rows with the same signed bytes,
/// item rows, item-version rows, heads), inserted directly in one transaction with no chain
/// check, authority or rule. The entries are signed before the clock starts.
async fn raw_insert(dir: &Path, ops: usize) -> anyhow::Result<Measured> {
    std::fs::create_dir_all(dir)?;
    let store = Store::open(&dir.join("raw.db").display().to_string()).await?;
    let key = NodeKey::generate()?;
    let origin = quanze_domain::DivisionCode::parse("510521")?;
    let mut entries = Vec::with_capacity(ops.div_ceil(100));
    let mut head = None;
    let mut items = generate_items(ops).peekable();
    while items.peek().is_some() {
        let batch: Vec<Op> = items.by_ref().take(100).map(Op::add).collect();
        let entry = sign_entry(&key, &origin, head.as_ref(), chrono::Utc::now(), batch)?;
        head = Some(entry.head());
        entries.push(entry);
    }
    let start = Instant::now();
    store.raw_insert_rows_for_bench(&entries).await?;
    let seconds = start.elapsed().as_secs_f64();
    store.close().await;
    let scenario = "raw insert of the same rows (entries, items, item versions; one transaction)";
    Ok(Measured { scenario: scenario.into(), ops, entries: 1, seconds, peak_rss_mb: peak_mb() })
}

/// The item rows alone inserted directly in one transaction (the bound as first defined, before
/// the node kept item versions): shown for comparison with earlier runs.
async fn raw_insert_items(dir: &Path, ops: usize) -> anyhow::Result<Measured> {
    std::fs::create_dir_all(dir)?;
    let store = Store::open(&dir.join("raw.db").display().to_string()).await?;
    let node = quanze_domain::DivisionCode::parse("510521")?;
    let start = Instant::now();
    store.raw_insert_items_for_bench(&node, &mut generate_items(ops)).await?;
    let seconds = start.elapsed().as_secs_f64();
    store.close().await;
    Ok(Measured {
        scenario: "raw insert of the item rows only (one transaction)".into(),
        ops,
        entries: 1,
        seconds,
        peak_rss_mb: peak_mb(),
    })
}

/// Serves the node at `dir` (as a separate `quanze serve` process), waits until healthy, lets
/// it idle 3 s and reads its resident memory.
async fn idle_rss(dir: &Path) -> anyhow::Result<f64> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--data-dir", &dir.display().to_string(), "--listen", &listen])
        .env("QUANZE_LOG", "warn")
        .kill_on_drop(true)
        .spawn()?;
    let config = Config::load(dir, &Overrides { listen: Some(listen.clone()), database_url: None })?;
    let client = crate::client::NodeClient::for_config(&config, None)?;
    client.wait_healthy(100).await?;
    let info = client.get_json("/api/v1/node").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = child.id().and_then(crate::rss::rss_of_pid).unwrap_or(0) as f64 / 1_048_576.0;
    eprintln!("  serve idle with {} items: {rss:.1} MB", info["items"]);
    child.kill().await?;
    Ok(rss)
}

fn print_table(results: &[Measured], ops: usize, idle_mb: f64) {
    println!("| scenario | seconds | entries/s | ops/s | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|");
    for m in results {
        let entries = if m.entries > 1 { format!("{:.0}", m.entries_per_s()) } else { "—".to_string() };
        println!("| {} | {:.2} | {entries} | {:.0} | {:.1} |", m.scenario, m.seconds, m.ops_per_s(), m.peak_rss_mb);
    }
    println!("| serve idle holding {ops} items | | | | {idle_mb:.1} (current RSS) |");
    let by = |name: &str| results.iter().find(|m| m.scenario.starts_with(name));
    if let (Some(b100), Some(raw)) = (by("batch 100"), by("raw insert of the same rows")) {
        let ratio = b100.ops_per_s() / raw.ops_per_s() * 100.0;
        let verdict = if ratio >= 50.0 { "meets" } else { "MISSES" };
        println!("\nbatch-100 ingest = {ratio:.0}% of the raw-insert bound ({verdict} the ≥ 50% target)");
    }
    if let (Some(b100), Some(raw)) = (by("batch 100"), by("raw insert of the item rows only")) {
        let ratio = b100.ops_per_s() / raw.ops_per_s() * 100.0;
        println!("batch-100 ingest = {ratio:.0}% of the item-rows-only insert (for comparison with earlier runs)");
    }
    let verdict = if idle_mb < 60.0 { "meets" } else { "MISSES" };
    println!("serve idle RSS {idle_mb:.1} MB ({verdict} the < 60 MB target)");
}
