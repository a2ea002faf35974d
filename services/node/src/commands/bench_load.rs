//! `quanze bench load`: the public list and the federation endpoints under concurrent load, on
//! the four-tier federation of real `quanze serve` processes (HTTPS on loopback, SQLite).
//!
//! The county imports `--items` powers (the sample city vocabulary, renamed for 泸县; not
//! timed). Then, for each concurrency of `--steps`, as many clients — each its own HTTP/1.1
//! connection pinned to the county's certificate, like `wrk`'s connections — ask
//! `GET /api/v1/public/list?offset=…&limit=20` (pages cycling through the list) for `--seconds`:
//! requests/s, p50/p99/max latency, errors (anything but 200), and the county's resident memory
//! (VmRSS now, VmHWM peak). The highest throughput whose p99 stays under 50 ms is the answer.
//! Last, the same clients at the best concurrency ask `GET /api/v1/fed/heads` and
//! `GET /api/v1/fed/pull?wait=0` (what a child asks).
//!
//! Owns only the load generator and its report; must not reach into the node other than over
//! HTTPS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::sample_grants::city_powers;

use crate::commands::demo::{DemoNode, start_federation, wait_converged};

/// The bound the public list must meet.
const P99_BOUND_MS: f64 = 50.0;
/// Items per page of the public list, as the public page asks.
const PAGE: usize = 20;

/// What one step measured.
#[derive(Debug, Clone)]
struct Step {
    path: String,
    clients: usize,
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    rss_mb: f64,
    hwm_mb: f64,
}

impl Step {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.0} |",
            self.path,
            self.clients,
            self.per_second(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.errors,
            self.rss_mb,
            self.hwm_mb
        )
    }
}

pub async fn run(items: usize, steps: Vec<usize>, seconds: u64, dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    if items == 0 || seconds == 0 || steps.is_empty() || steps.contains(&0) {
        bail!("--items、--seconds、--steps 必须大于 0 / must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let root = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    let mut nodes = start_federation(&root).await?;
    let result = bench_on(&nodes, items, &steps, Duration::from_secs(seconds)).await;
    for n in &mut nodes {
        n.stop().await?;
    }
    result
}

async fn bench_on(nodes: &[DemoNode], items: usize, steps: &[usize], length: Duration) -> anyhow::Result<()> {
    let [_, _, county, _] = nodes else { bail!("four nodes expected") };
    wait_converged(nodes, Duration::from_secs(60)).await?;
    eprintln!("county imports {items} powers");
    let powers = city_powers(items);
    for chunk in powers.chunks(1000) {
        let text = serde_json::to_string(chunk)?.replace("盘锦市", "泸州市").replace("盘山县", "泸县");
        county.api.post_bytes("/api/v1/import?format=json", "application/json", text.into_bytes()).await?;
    }
    let pem = std::fs::read(county.dir.join(crate::config::CERT_FILE)).context("county certificate")?;
    let pages = items.div_ceil(PAGE).max(1);
    let list_path = move |i: usize| format!("/api/v1/public/list?offset={}&limit={PAGE}", (i % pages) * PAGE);
    println!(
        "Public list of {items} items, pages of {PAGE}, {}-second steps, HTTP/1.1 connections:\n",
        length.as_secs()
    );
    println!("| path | clients | requests/s | p50 ms | p99 ms | max ms | errors | RSS MB | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut results = Vec::new();
    for &clients in steps {
        let step = drive(county, &pem, clients, length, "/api/v1/public/list (pages)", list_path).await?;
        println!("{}", step.row());
        results.push(step);
    }
    let best = results
        .iter()
        .filter(|s| s.p99_ms < P99_BOUND_MS && s.errors == 0)
        .max_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    let fed_clients = best.map_or(steps[0], |s| s.clients);
    let heads = drive(county, &pem, fed_clients, length, "/api/v1/fed/heads", |_| "/api/v1/fed/heads".into()).await?;
    println!("{}", heads.row());
    let pull =
        drive(county, &pem, fed_clients, length, "/api/v1/fed/pull?wait=0", |_| "/api/v1/fed/pull?wait=0".into())
            .await?;
    println!("{}", pull.row());
    match best {
        Some(s) => println!(
            "\npublic list: highest throughput with p99 < {P99_BOUND_MS} ms and no errors: {:.0} requests/s \
             at {} clients (p99 {:.2} ms) — meets the bound",
            s.per_second(),
            s.clients,
            s.p99_ms
        ),
        None => println!("\npublic list: no step kept p99 < {P99_BOUND_MS} ms without errors — MISSES the bound"),
    }
    Ok(())
}

/// `clients` connections asking `path_of(i)` back to back for `length`.
async fn drive(
    node: &DemoNode,
    pem: &[u8],
    clients: usize,
    length: Duration,
    label: &str,
    path_of: impl Fn(usize) -> String + Send + Sync + 'static,
) -> anyhow::Result<Step> {
    let path_of = Arc::new(path_of);
    let start = Instant::now();
    let mut workers = Vec::with_capacity(clients);
    for w in 0..clients {
        // One client per worker: its own connection, as a separate visitor would have.
        let http = crate::tls::pinned_client_builder(pem)?.http1_only().pool_max_idle_per_host(1).build()?;
        let base = node.url.clone();
        let path_of = path_of.clone();
        workers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            let mut i = w;
            while start.elapsed() < length {
                let q = Instant::now();
                let ok = match http.get(format!("{base}{}", path_of(i))).send().await {
                    Ok(res) if res.status().is_success() => res.bytes().await.is_ok(),
                    _ => false,
                };
                latencies.push(q.elapsed());
                errors += usize::from(!ok);
                i += clients;
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| {
        let n = latencies.len();
        if n == 0 { 0.0 } else { ms(latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]) }
    };
    Ok(Step {
        path: label.to_string(),
        clients,
        requests: latencies.len(),
        errors,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        rss_mb: node.rss_mb(),
        hwm_mb: node.peak_rss_mb(),
    })
}
