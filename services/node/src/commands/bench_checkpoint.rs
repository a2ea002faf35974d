//! `quanze bench checkpoint`: the cost of a cosigned checkpoint per 1 000 entries, in a real
//! store (SQLite in a working directory, or PostgreSQL with `--database-url` on an empty
//! database).
//!
//! `--entries` signed entries (one item op each) are appended `--every` at a time (rows inserted
//! directly, not timed). After each step one checkpoint is timed, everything a parent and child
//! do for it: extend the subtree table, the root, the consistency proof from the previous
//! checkpoint and its verification, the child's signature, the parent's verification and
//! cosignature, and the compare-and-set commit. Then `--proofs` inclusion proofs of random
//! entries of the whole log are timed (read and verified). Prints mean, p50, p99 and max.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::{DivisionCode, Op};
use quanze_ledger::{Checkpoint, NodeKey, SignedCheckpoint, format_at, merkle, sign_entry};
use quanze_store::{CosignOutcome, Store};

/// The benchmark's options.
#[derive(Debug, clap::Args)]
pub struct CheckpointBenchArgs {
    /// Entries appended to the log.
    #[arg(long, default_value_t = 100_000)]
    pub entries: usize,
    /// Entries between two checkpoints.
    #[arg(long, default_value_t = 1000)]
    pub every: usize,
    /// Inclusion proofs timed at the end.
    #[arg(long, default_value_t = 1000)]
    pub proofs: usize,
    /// PostgreSQL database to use instead of SQLite (it must be empty).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Working directory (default: a temporary one).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Mean, p50, p99 and max of `samples`, in milliseconds.
fn summary(samples: &mut [Duration]) -> (f64, f64, f64, f64) {
    samples.sort_unstable();
    let n = samples.len().max(1);
    let at = |q: f64| samples.get(((n as f64 * q).ceil() as usize).saturating_sub(1)).map_or(0.0, |d| ms(*d));
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    (mean, at(0.50), at(0.99), samples.last().map_or(0.0, |d| ms(*d)))
}

pub async fn run(args: CheckpointBenchArgs) -> anyhow::Result<()> {
    if args.entries == 0 || args.every == 0 {
        bail!("--entries 与 --every 必须大于 0 / must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let url = args.database_url.clone().unwrap_or_else(|| dir.join("checkpoint.db").display().to_string());
    let store = Store::open(&url).await.with_context(|| format!("cannot open {url}"))?;
    if store.count_entries().await? != 0 {
        bail!("数据库不是空的 / the database must be empty: {url}");
    }
    let result = bench(&store, &args).await;
    store.close().await;
    result
}

async fn bench(store: &Store, args: &CheckpointBenchArgs) -> anyhow::Result<()> {
    let (child, parent) = (NodeKey::generate()?, NodeKey::generate()?);
    let origin = DivisionCode::parse("510521")?;
    let cosigner = DivisionCode::parse("510500")?;
    let mut items = crate::commands::bench::generate_items(args.entries);
    let (mut head, mut size) = (None, 0u64);
    let (mut last_size, mut last_root) = (0u64, merkle::empty_root());
    let mut steps = Vec::new();
    let mut appending = Duration::ZERO;
    while (size as usize) < args.entries {
        let t = Instant::now();
        let step = args.every.min(args.entries - size as usize);
        let mut batch = Vec::with_capacity(step);
        for item in items.by_ref().take(step) {
            let entry = sign_entry(&child, &origin, head.as_ref(), chrono::Utc::now(), vec![Op::add(item)])?;
            head = Some(entry.head());
            batch.push(entry);
        }
        store.raw_insert_rows_for_bench(&batch).await?;
        size += batch.len() as u64;
        appending += t.elapsed();

        let t = Instant::now();
        store.merkle_fill(&origin).await?;
        let root = store.merkle_root(&origin, size).await?;
        let proof = store.consistency_proof(&origin, last_size, size).await?;
        merkle::verify_consistency(last_size, size, &last_root, &root, &proof)?;
        let body = Checkpoint { origin: origin.clone(), size, root, at: format_at(chrono::Utc::now()) };
        let signed = SignedCheckpoint::sign(&child, body)?;
        let received = SignedCheckpoint::verify(signed.checkpoint().clone(), signed.signature(), &child.public())?;
        let own_root = store.merkle_root(&origin, size).await?;
        if own_root != received.checkpoint().root {
            bail!("root mismatch at {size}");
        }
        let cosigned = received.cosign(cosigner.clone(), &parent)?;
        if store.cosign_commit(&cosigned, last_size).await? != CosignOutcome::Cosigned {
            bail!("compare-and-set failed at {size}");
        }
        steps.push(t.elapsed());
        (last_size, last_root) = (size, root);
    }

    let mut proofs = Vec::with_capacity(args.proofs);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..args.proofs {
        // xorshift: a fixed sequence of entries, spread over the whole log.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let seq = 1 + state % size;
        let t = Instant::now();
        let proof = store.inclusion_proof(&origin, seq, size).await?;
        let entry = store.entries(&origin, seq - 1, 1).await?;
        let leaf = merkle::entry_leaf(&entry.first().context("entry")?.entry.hash());
        merkle::verify_inclusion(&leaf, seq - 1, size, &proof, &last_root)?;
        proofs.push(t.elapsed());
    }

    let engine = if args.database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    let (mean, p50, p99, max) = summary(&mut steps);
    println!("checkpoint benchmark on {engine}: {size} entries, a checkpoint every {} entries", args.every);
    println!("(appending the entries, not timed: {:.1} s)", appending.as_secs_f64());
    println!();
    println!("| measure | n | mean ms | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| checkpoint per {} entries (subtree table, root, consistency proof + verify, sign, verify, cosign, CAS commit) | {} | {mean:.2} | {p50:.2} | {p99:.2} | {max:.2} |",
        args.every,
        steps.len()
    );
    if !proofs.is_empty() {
        let (mean, p50, p99, max) = summary(&mut proofs);
        println!(
            "| inclusion proof of a random entry in the {size}-entry log (read + verify) | {} | {mean:.2} | {p50:.2} | {p99:.2} | {max:.2} |",
            proofs.len()
        );
    }
    Ok(())
}
