//! `quanze bench recon`: the catalogue and reconciliation benchmarks.
//!
//! a) On the four-tier federation of real `quanze serve` processes (HTTPS on loopback, SQLite):
//!    the province publishes a catalogue change of `--items` new items for city, county and
//!    township; timed from the start of the POST until `GET /recon` on the city, the county and
//!    the township lists the task (polled every 20 ms), and the POST's own time (sign + apply
//!    at the province).
//! b) The county adopts every item (`POST /recon/{ref}/adopt {}`: one entry with `--items`
//!    `item.add` ops and the `recon.adopt`); the POST's time, and the time until the province
//!    holds the entry and its status table shows the county adopted.
//! c) The province's status table over `--nodes` simulated descendants: a province data
//!    directory made as `quanze init` makes it (calendar included), a 50-item publication in
//!    its log, then the signed logs of about `--nodes`/30 cities enrolled by the province and of
//!    their counties (`--nodes` nodes in all), half of the counties adopting, delivered through
//!    the node's own ingest path (ancestors first). The node is then served and
//!    `GET /recon/{ref}/status` timed over HTTPS: median of 20.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use quanze_domain::{CatalogueChange, DivisionCode, Enrolment, Expect, Op, PowerItem, PubRef, Publication, Tier};
use quanze_ledger::{ChainHead, NodeKey, UnverifiedEntry, VerifiedEntry, sign_entry};
use reqwest::Method;
use serde_json::{Value, json};

use crate::commands::demo::{DemoNode, spawn_node, start_federation, wait_converged};

/// Items of the publication of (c).
const STATUS_ITEMS: usize = 50;
/// Timed status queries in (c).
const STATUS_QUERIES: usize = 20;
/// How often the benchmark polls a node.
const POLL: Duration = Duration::from_millis(20);
/// Longest wait for any one event.
const LIMIT: Duration = Duration::from_secs(600);

pub async fn run(items: usize, nodes: usize, dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    if items == 0 {
        bail!("--items 必须大于 0 / --items must be positive");
    }
    if !(2..=99 * 100).contains(&nodes) {
        bail!("--nodes 应在 2 到 9900 之间（每市最多 99 个县，最多 99 个市）/ --nodes must be 2..=9900");
    }
    let tmp = tempfile::tempdir()?;
    let root = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;
    let date = Utc::now().format("%Y-%m-%d");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("quanze bench recon — {date}, {cores} CPU cores");
    println!("command: quanze bench recon --items {items} --nodes {nodes}");

    let flow = publish_and_adopt(&root.join("tiers"), items).await?;
    let status = status_table(&root.join("status"), nodes).await?;

    println!("\n| benchmark | result | note |");
    println!("|---|---|---|");
    println!(
        "| a) province POST /catalogue/publications, {items} `add` changes | {:.0} ms | sign + apply at the province (one entry, {:.1} MB of JSON sent) |",
        flow.post_ms,
        flow.post_bytes as f64 / 1_048_576.0
    );
    for (name, ms, status) in &flow.opened {
        println!(
            "| a) task listed by `GET /recon` at {name} | {ms:.0} ms after the POST started | task status “{status}” (published 2025-09-28, judged today) |"
        );
    }
    println!(
        "| b) county POST /recon/{{ref}}/adopt {{}} | {:.0} ms | one entry: {} `item.add` + `recon.adopt`, {:.1} MB |",
        flow.adopt_ms,
        flow.adopt_item_ops,
        flow.adopt_entry_bytes as f64 / 1_048_576.0
    );
    println!(
        "| b) province holds the county's adopt entry | {:.0} ms after the adopt POST started | pushed county → city → province; polled at the province's heads |",
        flow.held_ms
    );
    println!(
        "| b) province's status shows the county adopted | {:.0} ms after the adopt POST started | `GET /recon/{{ref}}/status` at the province, {:.0} ms for that query |",
        flow.shown_ms, flow.status_query_ms
    );
    println!(
        "| c) province `GET /recon/{{ref}}/status` over {} descendants ({} cities, {} counties, {} adopted) | median {:.0} ms, min {:.0} ms, max {:.0} ms of {STATUS_QUERIES} | {} rows, {:.0} KB answer; counts {} |",
        status.cities + status.counties,
        status.cities,
        status.counties,
        status.adopters,
        status.median_ms,
        status.min_ms,
        status.max_ms,
        status.rows,
        status.answer_bytes as f64 / 1024.0,
        status.counts
    );
    println!(
        "| c) setup: deliver the simulated logs through the node's ingest | {:.2} s for {} entries | {} city enrolment entries, then {} county adopt entries × ({STATUS_ITEMS} `item.add` + `recon.adopt`) |",
        status.ingest_s, status.ingested, status.counties, status.adopters
    );
    Ok(())
}

/// A catalogue item: 行政许可 with a code `XK` + 8 digits, about 600 bytes of JSON.
fn catalogue_item(code: u64, n: usize) -> anyhow::Result<PowerItem> {
    let item: PowerItem = serde_json::from_value(json!({
        "code": format!("XK{code:08}"),
        "name": format!("食品经营许可（基准第{n}项）"),
        "category": "行政许可",
        "basis": [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}],
        "implementing_body": "县级市场监督管理局",
        "responsibilities": ["受理责任：公示依法应当提交的材料，一次性告知补正材料", "审查责任：对申请材料进行审查"],
        "remedies": ["行政复议：依法向本级人民政府申请行政复议", "行政诉讼：依法向人民法院提起行政诉讼"],
        "time_limit": {"legal_days": 20, "promised_days": 10}
    }))?;
    Ok(item)
}

/// A publication of `items` new items (codes from `first`) for city, county and township.
fn publication(doc_no: &str, published: NaiveDate, items: usize, first: u64) -> anyhow::Result<Publication> {
    let tiers = vec![Tier::City, Tier::County, Tier::Township];
    let changes = (0..items)
        .map(|i| Ok(CatalogueChange::Add { item: catalogue_item(first + i as u64, i + 1)?, tiers: tiers.clone() }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Publication {
        doc_no: doc_no.to_string(),
        title: "关于调整市县乡权责清单目录的通知（基准测试）".into(),
        published,
        effective: published,
        tiers,
        window: Default::default(),
        changes,
    })
}

struct Flow {
    post_ms: f64,
    post_bytes: usize,
    /// Node name, ms from the POST's start until its `GET /recon` lists the task, task status.
    opened: Vec<(String, f64, String)>,
    adopt_ms: f64,
    adopt_item_ops: u64,
    adopt_entry_bytes: usize,
    held_ms: f64,
    shown_ms: f64,
    status_query_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Polls `GET /recon` at `node` until a task of the publication numbered `doc_no` is listed
/// and not closed; returns the time since `t0` and the task's status.
async fn wait_task(node: &DemoNode, doc_no: &str, t0: Instant) -> anyhow::Result<(f64, String)> {
    loop {
        let v = node.api.get_json("/api/v1/recon").await?;
        let found = v["tasks"].as_array().into_iter().flatten().find(|t| t["publication"]["doc_no"] == doc_no);
        if let Some(t) = found {
            let status = t["task"]["status"].as_str().unwrap_or("?").to_string();
            if status == "open" || status == "overdue" {
                return Ok((ms(t0.elapsed()), status));
            }
            bail!("{} lists the task as “{status}”, expected open", node.name);
        }
        if t0.elapsed() > LIMIT {
            bail!("{} did not list the task within {LIMIT:?}", node.name);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// a) and b) on the four-tier federation.
async fn publish_and_adopt(root: &Path, items: usize) -> anyhow::Result<Flow> {
    let mut nodes = start_federation(root).await?;
    let result = publish_and_adopt_on(&nodes, items).await;
    for n in &mut nodes {
        n.stop().await?;
    }
    result
}

async fn publish_and_adopt_on(nodes: &[DemoNode], items: usize) -> anyhow::Result<Flow> {
    let [province, city, county, township] = nodes else { bail!("four nodes expected") };
    wait_converged(nodes, Duration::from_secs(60)).await?;
    let doc_no = format!("川权责基准〔2025〕{}号", Utc::now().timestamp_millis() % 100_000);
    let published = NaiveDate::from_ymd_opt(2025, 9, 28).context("date")?;
    let body = serde_json::to_value(publication(&doc_no, published, items, 60_000_000)?)?;
    let post_bytes = serde_json::to_vec(&body)?.len();
    eprintln!("a) province publishes {items} items ({:.1} MB); polling the three lower nodes", post_bytes as f64 / 1e6);

    let t0 = Instant::now();
    let post = async {
        let res = province.api.send_json(Method::POST, "/api/v1/catalogue/publications", &body).await?;
        anyhow::Ok((ms(t0.elapsed()), res))
    };
    let (posted, c, k, t) = tokio::join!(
        post,
        wait_task(city, &doc_no, t0),
        wait_task(county, &doc_no, t0),
        wait_task(township, &doc_no, t0)
    );
    let (post_ms, res) = posted?;
    let reference = res["ref"].as_str().context("ref in the publish answer")?.to_string();
    let mut opened = Vec::new();
    for (node, r) in [(city, c), (county, k), (township, t)] {
        let (t, status) = r?;
        opened.push((format!("{} {}", node.division, node.name), t, status));
    }
    eprintln!("a) {reference}: POST {post_ms:.0} ms; tasks listed at {:?}", opened);

    // b) the county adopts everything.
    let path_ref = reference.replace('#', "%23");
    eprintln!("b) county adopts {reference}");
    let t1 = Instant::now();
    let res = county.api.send_json(Method::POST, &format!("/api/v1/recon/{path_ref}/adopt"), &json!({})).await?;
    let adopt_ms = ms(t1.elapsed());
    let adopt_seq = res["entry"]["seq"].as_u64().context("entry.seq in the adopt answer")?;
    let adopt_item_ops = res["item_ops"].as_u64().unwrap_or(0);
    let held_ms = loop {
        let heads = province.heads().await?;
        if heads.iter().any(|(o, s, _)| o == &county.division && *s >= adopt_seq) {
            break ms(t1.elapsed());
        }
        if t1.elapsed() > LIMIT {
            bail!("the province did not receive the county's adopt entry within {LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    };
    let as_of = Utc::now().date_naive();
    let (shown_ms, status_query_ms) = loop {
        let q = Instant::now();
        let v = province.api.get_json(&format!("/api/v1/recon/{path_ref}/status?as_of={as_of}")).await?;
        let query_ms = ms(q.elapsed());
        let line = v["nodes"].as_array().into_iter().flatten().find(|l| l["division"] == county.division.as_str());
        if line.is_some_and(|l| l["status"] == "adopted") {
            break (ms(t1.elapsed()), query_ms);
        }
        if t1.elapsed() > LIMIT {
            bail!("the province's status did not show the county adopted within {LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    };
    let adopt_entry_bytes = entry_bytes(county, &county.division, adopt_seq).await.unwrap_or(0);
    Ok(Flow {
        post_ms,
        post_bytes,
        opened,
        adopt_ms,
        adopt_item_ops,
        adopt_entry_bytes,
        held_ms,
        shown_ms,
        status_query_ms,
    })
}

/// Size of the signed bytes of entry `origin#seq` as `node` serves it.
async fn entry_bytes(node: &DemoNode, origin: &str, seq: u64) -> anyhow::Result<usize> {
    let page = node.api.get_json(&format!("/api/v1/log?origin={origin}&after={}&limit=1", seq - 1)).await?;
    let body = page["entries"][0]["body"].as_str().context("entry body")?;
    Ok(body.len())
}

struct StatusTable {
    cities: usize,
    counties: usize,
    adopters: usize,
    ingested: usize,
    ingest_s: f64,
    rows: usize,
    answer_bytes: usize,
    counts: String,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

/// A simulated node's log: its key and head.
pub(crate) struct SimLog {
    pub(crate) division: DivisionCode,
    pub(crate) key: NodeKey,
    pub(crate) head: Option<ChainHead>,
}

impl SimLog {
    pub(crate) fn new(division: &str) -> anyhow::Result<SimLog> {
        Ok(SimLog { division: DivisionCode::parse(division)?, key: NodeKey::generate()?, head: None })
    }

    pub(crate) fn enrolment(&self, name: String) -> Enrolment {
        Enrolment {
            division: self.division.clone(),
            tier: self.division.tier(),
            name,
            key: self.key.public().to_hex(),
            valid_from: 1,
        }
    }

    fn sign(&mut self, ops: Vec<Op>) -> anyhow::Result<UnverifiedEntry> {
        let e: VerifiedEntry = sign_entry(&self.key, &self.division, self.head.as_ref(), Utc::now(), ops)?;
        self.head = Some(e.head());
        Ok(UnverifiedEntry::new(e.bytes().to_vec(), *e.sig()))
    }
}

/// Delivers `entries` to `node` as a child's push would, in batches; fails on any refusal.
pub(crate) async fn deliver(node: &crate::state::Node, entries: Vec<UnverifiedEntry>) -> anyhow::Result<()> {
    let mut it = entries.into_iter().peekable();
    while it.peek().is_some() {
        let batch: Vec<_> = it.by_ref().take(500).collect();
        for d in node.ingest("bench", crate::state::Scope::Descendants, batch).await? {
            if !matches!(d, quanze_store::Delivery::Applied { .. }) {
                bail!("simulated entry not applied: {}", crate::federation::sync::describe(&d));
            }
        }
    }
    Ok(())
}

/// c) the province's status table over `total` simulated descendants.
async fn status_table(dir: &Path, total: usize) -> anyhow::Result<StatusTable> {
    let cities = total.div_ceil(30).clamp(1, 99);
    let counties = total - cities;
    if counties > cities * 99 {
        bail!("{total} nodes do not fit in {cities} cities of at most 99 counties");
    }
    eprintln!("c) preparing the province with {cities} cities and {counties} counties");
    let p_dir = dir.join("510000");
    crate::commands::demo::init_province(&p_dir).await?;
    let config = crate::config::Config::load(&p_dir, &crate::config::Overrides::default())?;
    let node = crate::server::open_node(&config).await?;

    // The publication, in force a week ago, reconciled within 20 working days.
    let as_of = Utc::now().date_naive();
    let published = as_of - chrono::Days::new(7);
    let p = publication("川权责基准〔2026〕1号", published, STATUS_ITEMS, 70_000_000)?;
    let entry = node.write(vec![Op::Publish { publication: p }]).await?;
    let pub_ref = PubRef { origin: node.division().clone(), seq: entry.seq(), hash: entry.hash().to_hex() };
    let row = node.store().publication(&pub_ref.origin, pub_ref.seq, true).await?.context("publication row")?;
    // The catalogue's items as the requirements state them (an adopting list must match them).
    let catalogue: Vec<PowerItem> = row
        .requirements
        .iter()
        .filter_map(|r| match &r.expect {
            Expect::Present { item } if r.tiers.contains(&Tier::County) => Some(item.clone()),
            _ => None,
        })
        .collect();

    // The province enrols each city (one entry each, as with invites); each city enrols its
    // counties; every other county adopts.
    let mut city_logs = Vec::with_capacity(cities);
    for c in 0..cities {
        let log = SimLog::new(&format!("51{:02}00", c + 1))?;
        node.write(vec![Op::Enroll { enrolment: log.enrolment(format!("基准市{}", c + 1)) }]).await?;
        city_logs.push(log);
    }
    let mut city_entries = Vec::with_capacity(counties);
    let mut county_entries = Vec::new();
    let mut adopters = 0;
    let mut made = 0;
    for (c, city) in city_logs.iter_mut().enumerate() {
        let here = counties / cities + usize::from(c < counties % cities);
        for k in 0..here {
            let mut county = SimLog::new(&format!("51{:02}{:02}", c + 1, k + 1))?;
            let enrolment = county.enrolment(format!("基准市{}县{}", c + 1, k + 1));
            city_entries.push(city.sign(vec![Op::Enroll { enrolment }])?);
            if made % 2 == 0 {
                let mut ops: Vec<Op> = catalogue.iter().cloned().map(Op::add).collect();
                ops.push(Op::ReconAdopt { publication: pub_ref.clone(), codes: vec![] });
                county_entries.push(county.sign(ops)?);
                adopters += 1;
            }
            made += 1;
        }
    }
    let ingested = city_entries.len() + county_entries.len();
    eprintln!("c) delivering {ingested} entries");
    let start = Instant::now();
    deliver(&node, city_entries).await?;
    deliver(&node, county_entries).await?;
    let ingest_s = start.elapsed().as_secs_f64();
    node.store().close().await;
    drop(node);

    let mut province = spawn_node(&p_dir, "510000", "四川省").await?;
    let result = time_status(&province, &pub_ref, as_of).await;
    province.stop().await?;
    let (rows, answer_bytes, counts, mut times) = result?;
    times.sort_by(f64::total_cmp);
    Ok(StatusTable {
        cities,
        counties,
        adopters,
        ingested,
        ingest_s,
        rows,
        answer_bytes,
        counts,
        median_ms: (times[(times.len() - 1) / 2] + times[times.len() / 2]) / 2.0,
        min_ms: times[0],
        max_ms: times[times.len() - 1],
    })
}

/// One warm-up query, then `STATUS_QUERIES` timed ones: rows, answer size, counts, times (ms).
async fn time_status(
    province: &DemoNode,
    pub_ref: &PubRef,
    as_of: NaiveDate,
) -> anyhow::Result<(usize, usize, String, Vec<f64>)> {
    let path = format!("/api/v1/recon/{}%23{}/status?as_of={as_of}", pub_ref.origin, pub_ref.seq);
    let text = province.api.get_text(&path).await?;
    let v: Value = serde_json::from_str(&text)?;
    let rows = v["nodes"].as_array().map_or(0, Vec::len);
    let counts = v["counts"]
        .as_object()
        .map(|m| m.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let mut times = Vec::with_capacity(STATUS_QUERIES);
    for _ in 0..STATUS_QUERIES {
        let t = Instant::now();
        std::hint::black_box(province.api.get_text(&path).await?);
        times.push(ms(t.elapsed()));
    }
    Ok((rows, text.len(), counts, times))
}
