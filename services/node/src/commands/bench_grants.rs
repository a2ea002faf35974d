//! `quanze bench grants`: the grant and seal benchmarks, on the four-tier federation of real
//! `quanze serve` processes (HTTPS on loopback, SQLite).
//!
//! a) The city's list holds `--items` powers (imported in 1 000-item entries, not timed). The
//!    city issues one batch of all of them to the county; timed from the start of the POST
//!    until the county's `GET /grants?role=received` lists it (sync), then the county's accept,
//!    then until `GET /items?status=granted` on the county counts every item.
//! b) A seal of the market regulator is carved, delivered and activated for the batch; then
//!    `--queries` validity questions `GET /seals/check?seal=&item=&date=` go to the county over
//!    HTTPS from `--concurrency` clients, cycling through the batch's codes (valid, kind
//!    mismatch and not-covered answers mixed as the data gives them): queries per second and
//!    the latency percentiles.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::sample_grants::{city_powers, grant_items};
use reqwest::Method;
use serde_json::{Value, json};

use crate::commands::demo::{DemoNode, start_federation, wait_converged};

const POLL: Duration = Duration::from_millis(20);
const LIMIT: Duration = Duration::from_secs(600);
/// The batch's dates: fixed, inside the calendar years every node holds.
const ISSUED: &str = "2026-06-01";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The sample city's powers, renamed for the demo's city and county (泸州市, 泸县).
fn localise(v: Value) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&v.to_string().replace("盘锦市", "泸州市").replace("盘山县", "泸县"))?)
}

pub async fn run(
    items: usize,
    queries: usize,
    concurrency: usize,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    if items == 0 || queries == 0 || concurrency == 0 {
        bail!("--items、--queries、--concurrency 必须大于 0 / must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let root = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    let mut nodes = start_federation(&root).await?;
    let result = bench_on(&nodes, items, queries, concurrency).await;
    for n in &mut nodes {
        n.stop().await?;
    }
    result
}

async fn wait_until(
    what: &str,
    t0: Instant,
    mut probe: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<f64> {
    loop {
        if probe().await? {
            return Ok(ms(t0.elapsed()));
        }
        if t0.elapsed() > LIMIT {
            bail!("{what}: not within {LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn bench_on(nodes: &[DemoNode], items: usize, queries: usize, concurrency: usize) -> anyhow::Result<()> {
    let [_, city, county, _] = nodes else { bail!("four nodes expected") };
    wait_converged(nodes, Duration::from_secs(60)).await?;
    let powers = city_powers(items);
    eprintln!("city imports {items} powers");
    for chunk in powers.chunks(1000) {
        let body = localise(serde_json::to_value(chunk)?)?;
        city.api.post_bytes("/api/v1/import?format=json", "application/json", serde_json::to_vec(&body)?).await?;
    }
    let batch = localise(json!({
        "doc_no": "泸市府发〔2026〕9号",
        "title": "泸州市赋予泸县市级同等行政职权的决定",
        "issued": ISSUED,
        "grantee": county.division,
        "training_months": 3,
        "items": grant_items(&powers),
    }))?;
    let batch_bytes = serde_json::to_vec(&batch)?.len();

    // a) issue → listed at the county → accepted → in the county's list.
    let t0 = Instant::now();
    let res = city.api.send_json(Method::POST, "/api/v1/grants", &batch).await?;
    let post_ms = ms(t0.elapsed());
    let reference = res["ref"].as_str().context("ref")?.replace('#', "%23");
    let listed_ms = wait_until("the county lists the batch", t0, async || {
        let v = county.api.get_json("/api/v1/grants?role=received").await?;
        Ok(v["grants"].as_array().is_some_and(|g| !g.is_empty()))
    })
    .await?;
    let t1 = Instant::now();
    let accept = json!({ "date": "2026-06-10" });
    county.api.send_json(Method::POST, &format!("/api/v1/grants/{reference}/accept"), &accept).await?;
    let accept_ms = ms(t1.elapsed());
    let in_list_ms = wait_until("granted items in the county's list", t0, async || {
        let v = county.api.get_json("/api/v1/items?status=granted&limit=1").await?;
        Ok(v["total"].as_u64() == Some(items as u64))
    })
    .await?;
    println!(
        "a) {items}-item batch ({:.2} MB): POST {post_ms:.0} ms; listed at the county {listed_ms:.0} ms; \
         accept POST {accept_ms:.0} ms; all {items} items in the county's list {in_list_ms:.0} ms after the issue",
        batch_bytes as f64 / 1e6
    );

    // b) one activated seal, then the validity questions.
    let scj = "泸州市市场监督管理局";
    let seal = json!({
        "id": "LZ-SCJ-SP-4", "name": format!("{scj}行政审批专用章(4)"), "kind": "approval", "serial": "(4)",
        "issuer": scj, "holder": county.division, "holder_dept": "泸县市场监督管理局",
        "scope": [res["ref"]], "carved": "2026-06-02",
    });
    city.api.send_json(Method::POST, "/api/v1/seals", &seal).await?;
    city.api.send_json(Method::POST, "/api/v1/seals/LZ-SCJ-SP-4/deliver", &json!({"date": "2026-06-05"})).await?;
    wait_until("the county holds the delivered seal", Instant::now(), async || {
        let v = county.api.get_json("/api/v1/seals?state=delivered").await?;
        Ok(v["seals"].as_array().is_some_and(|s| !s.is_empty()))
    })
    .await?;
    county.api.send_json(Method::POST, "/api/v1/seals/LZ-SCJ-SP-4/activate", &json!({"date": "2026-06-12"})).await?;
    let codes: Vec<String> = powers.iter().map(|p| p.code.clone()).collect();
    let t2 = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let api = county.api.clone();
        let codes = codes.clone();
        let n = queries / concurrency + usize::from(w < queries % concurrency);
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            let mut valid = 0usize;
            for i in 0..n {
                let code = &codes[(w + i * concurrency) % codes.len()];
                let q = Instant::now();
                let v =
                    api.get_json(&format!("/api/v1/seals/check?seal=LZ-SCJ-SP-4&item={code}&date=2026-07-01")).await?;
                lat.push(q.elapsed());
                valid += usize::from(v["valid"] == true);
            }
            anyhow::Ok((lat, valid))
        }));
    }
    let mut lat = Vec::with_capacity(queries);
    let mut valid = 0;
    for w in workers {
        let (l, v) = w.await??;
        lat.extend(l);
        valid += v;
    }
    let secs = t2.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| ms(lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1]);
    println!(
        "b) {queries} validity queries, {concurrency} clients: {:.0} queries/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         {valid} answered valid; county RSS {:.0} MB",
        queries as f64 / secs,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        county.rss_mb()
    );
    Ok(())
}
