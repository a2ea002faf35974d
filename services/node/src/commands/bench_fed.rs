//! `quanze bench federation`: the federation benchmarks, on real `quanze serve` processes over
//! HTTPS on loopback (SQLite):
//!
//! a) a county ingests a city's log (N entries × M ops) by its pull loop, against the raw bound
//!    measured in the same run (verify the same entries + insert the same item rows in one
//!    transaction);
//! b) province → township propagation through four tiers with long-poll, p50/p99;
//! c) bytes on the wire per op, gzip and identity;
//! d) peak RSS of each node of the four-tier federation after (b).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::{DivisionCode, Op, Tier};
use quanze_ledger::{ChainHead, verify_next};
use quanze_store::{KeyLookup, Store};
use reqwest::Method;
use serde_json::json;

use crate::cli::{InitArgs, NodeArgs};
use crate::commands::demo::{DemoNode, free_listen, init_province, spawn_node, start_federation};

pub async fn run(
    entries: usize,
    ops_per_entry: usize,
    samples: usize,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    if entries == 0 || ops_per_entry == 0 || samples == 0 {
        bail!("--entries、--ops-per-entry、--samples 必须大于 0 / must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let root = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    let date = chrono::Utc::now().format("%Y-%m-%d");
    println!(
        "quanze bench federation — {date}, {} CPU cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let a = ingest_over_https(&root.join("ingest"), entries, ops_per_entry).await?;
    let (b, c, d) = four_tiers(&root.join("tiers"), samples).await?;

    println!("\n| benchmark | result | target |");
    println!("|---|---|---|");
    println!(
        "| a) county ingests {} entries × {} ops from its city over HTTPS | {:.2} s: {:.0} entries/s, {:.0} ops/s | |",
        entries,
        ops_per_entry,
        a.seconds,
        a.entries_per_s(),
        a.ops_per_s()
    );
    println!(
        "| a) raw bound: verify the same {} entries ({:.2} s) + insert the same rows in one transaction ({:.2} s) | {:.2} s: {:.0} ops/s | |",
        entries,
        a.bound_verify,
        a.bound_insert,
        a.bound_seconds(),
        a.bound_ops_per_s()
    );
    let ratio = a.ops_per_s() / a.bound_ops_per_s() * 100.0;
    println!("| a) ingest / bound | {ratio:.0} % | ≥ 50 % ({}) |", verdict(ratio >= 50.0));
    println!(
        "| b) province → township, {} entries, long-poll | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms | p99 < 1 s ({}) |",
        samples,
        b.p50,
        b.p99,
        b.max,
        verdict(b.p99 < 1000.0)
    );
    println!(
        "| c) bytes on the wire per op (the township's pull from the county) | identity {:.0} B/op, gzip {:.0} B/op ({:.1}×) | |",
        c.identity_per_op,
        c.gzip_per_op,
        c.identity_per_op / c.gzip_per_op.max(1.0)
    );
    for (name, mb) in &d {
        let target =
            if name.contains("510521100") { format!("< 40 MB ({})", verdict(*mb < 40.0)) } else { String::new() };
        println!("| d) peak RSS {name} | {mb:.1} MB | {target} |");
    }
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "MISSES" }
}

struct Ingest {
    entries: usize,
    ops: usize,
    seconds: f64,
    bound_verify: f64,
    bound_insert: f64,
}

impl Ingest {
    fn entries_per_s(&self) -> f64 {
        self.entries as f64 / self.seconds
    }
    fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.seconds
    }
    fn bound_seconds(&self) -> f64 {
        self.bound_verify + self.bound_insert
    }
    fn bound_ops_per_s(&self) -> f64 {
        self.ops as f64 / self.bound_seconds()
    }
}

async fn join(parent: &DemoNode, dir: &Path, division: &str, tier: Tier, name: &str) -> anyhow::Result<()> {
    let body = json!({ "division": division, "tier": tier.key(), "name": name, "ttl_hours": 1 });
    let res = parent.api.send_json(Method::POST, "/api/v1/fed/invites", &body).await?;
    let args = InitArgs {
        tier: None,
        division: None,
        name: None,
        standalone: false,
        join: Some(res["invite"].as_str().context("invite")?.to_string()),
        address: Default::default(),
        node: NodeArgs {
            data_dir: dir.to_path_buf(),
            database_url: None,
            listen: Some(free_listen()?),
            node_url: None,
        },
    };
    crate::commands::init::init(&args).await?;
    Ok(())
}

/// a) Province and city enrolled; the city's log filled offline; the county started alone and
/// timed until it holds the whole city log.
async fn ingest_over_https(root: &Path, entries: usize, ops_per_entry: usize) -> anyhow::Result<Ingest> {
    eprintln!("a) preparing: {entries} entries × {ops_per_entry} ops in the city's log");
    let (p_dir, c_dir, k_dir) = (root.join("510000"), root.join("510500"), root.join("510521"));
    init_province(&p_dir).await?;
    let mut province = spawn_node(&p_dir, "510000", "四川省").await?;
    join(&province, &c_dir, "510500", Tier::City, "泸州市").await?;
    let mut city = spawn_node(&c_dir, "510500", "泸州市").await?;
    join(&city, &k_dir, "510521", Tier::County, "泸县").await?;
    city.stop().await?;
    province.stop().await?;
    // Fill the city's log through its real write path while it is stopped.
    let config = crate::config::Config::load(&c_dir, &crate::config::Overrides::default())?;
    let node = crate::server::open_node(&config).await?;
    let mut items = crate::commands::bench::generate_items(entries * ops_per_entry).peekable();
    while items.peek().is_some() {
        node.write(items.by_ref().take(ops_per_entry).map(Op::add).collect()).await?;
    }
    let city_head = node.head().await.context("city head")?;
    node.store().close().await;
    drop(node);

    let city = spawn_node(&c_dir, "510500", "泸州市").await?;
    eprintln!("a) county pulling {} entries from the city …", city_head.seq);
    let start = Instant::now();
    let mut county = spawn_node(&k_dir, "510521", "泸县").await?;
    loop {
        let heads = county.heads().await?;
        if heads.iter().any(|(o, s, _)| o == "510500" && *s >= city_head.seq) {
            break;
        }
        if start.elapsed() > Duration::from_secs(1800) {
            bail!("county did not catch up in 30 min");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("a) done in {seconds:.2} s; measuring the raw bound");
    let mut city = city;
    county.stop().await?;
    city.stop().await?;

    // The bound: verify the same entries and insert the same rows, in this process.
    let store = Store::open_read_only(&config.database()).await?;
    let origin = DivisionCode::parse("510500")?;
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = store.entries(&origin, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        stored.extend(page);
    }
    let key = match store.key_for(&origin, 1).await? {
        KeyLookup::Key(k) => k,
        other => bail!("city key: {other:?}"),
    };
    store.close().await;
    let start = Instant::now();
    let mut head: Option<ChainHead> = None;
    let mut rows = Vec::new();
    for s in stored {
        let v = verify_next(&origin, &key, head.as_ref(), s.entry)?;
        head = Some(v.head());
        rows.extend(v.ops().iter().filter_map(|op| match op {
            Op::ItemAdd { item, .. } => Some(item.clone()),
            _ => None,
        }));
    }
    let bound_verify = start.elapsed().as_secs_f64();
    let raw = Store::open(&root.join("raw.db").display().to_string()).await?;
    let start = Instant::now();
    raw.raw_insert_items_for_bench(&DivisionCode::parse("510521")?, &mut rows.into_iter()).await?;
    let bound_insert = start.elapsed().as_secs_f64();
    raw.close().await;
    Ok(Ingest { entries, ops: entries * ops_per_entry, seconds, bound_verify, bound_insert })
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
}

struct Wire {
    identity_per_op: f64,
    gzip_per_op: f64,
}

/// b), c), d) on the four-tier federation.
async fn four_tiers(root: &Path, samples: usize) -> anyhow::Result<(Latency, Wire, Vec<(String, f64)>)> {
    let mut nodes = start_federation(root).await?;
    crate::commands::demo::wait_converged(&nodes, Duration::from_secs(60)).await?;
    eprintln!("b) {samples} province entries, each timed until the township holds it");
    let mut lat = Vec::with_capacity(samples);
    let items: Vec<_> = crate::commands::bench::generate_items(samples).collect();
    for (i, item) in items.into_iter().enumerate() {
        let t0 = Instant::now();
        let res = nodes[0].api.send_json(Method::POST, "/api/v1/items", &serde_json::to_value(&item)?).await?;
        let seq = res["entry"]["seq"].as_u64().context("seq")?;
        loop {
            let heads = nodes[3].heads().await?;
            if heads.iter().any(|(o, s, _)| o == "510000" && *s >= seq) {
                break;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                bail!("entry {i} did not reach the township in 60 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    let pick = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    let latency = Latency { p50: pick(0.5), p99: pick(0.99), max: *lat.last().unwrap_or(&0.0) };

    // c) what the township pulls from the county: the province's one-item entries, the
    // enrolments, and the county's sample list (one entry of 12 items with every element).
    let county = &nodes[2];
    let csv = quanze_domain::sample::sample_csv();
    county.api.post_bytes("/api/v1/import?format=csv", "text/csv", csv.into_bytes()).await?;
    let wire = wire_bytes(county).await?;

    let rss = nodes.iter().map(|n| (format!("{} {}", n.division, n.name), n.peak_rss_mb())).collect();
    for n in &mut nodes {
        n.stop().await?;
    }
    Ok((latency, wire, rss))
}

/// Bytes of a pull answer from `node` for everything it serves, with and without gzip, per op.
async fn wire_bytes(node: &DemoNode) -> anyhow::Result<Wire> {
    let pem = std::fs::read(node.dir.join(crate::config::CERT_FILE))?;
    let cert = reqwest::Certificate::from_pem(&pem)?;
    let client = reqwest::Client::builder().tls_certs_only([cert]).https_only(true).no_gzip().build()?;
    let url = format!("{}/api/v1/fed/pull?after=&wait=0", node.url);
    let identity = client.get(&url).header("accept-encoding", "identity").send().await?.bytes().await?;
    let gzip = client.get(&url).header("accept-encoding", "gzip").send().await?.bytes().await?;
    let body: crate::federation::wire::PullResponse = serde_json::from_slice(&identity)?;
    let ops: usize = body
        .entries
        .iter()
        .filter_map(|e| serde_json::from_str::<quanze_ledger::EntryBody>(&e.body).ok())
        .map(|b| b.op.len())
        .sum();
    Ok(Wire { identity_per_op: identity.len() as f64 / ops as f64, gzip_per_op: gzip.len() as f64 / ops as f64 })
}
