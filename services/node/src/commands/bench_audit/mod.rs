//! `quanze bench audit`: the uniformity audit (四级四同、同级一致) over a simulated province.
//!
//! A province data directory made as `quanze init` makes it (calendar included), on SQLite or on
//! an empty PostgreSQL database, its clock set 120 days back: its own list, the enrolment of each
//! city and one catalogue publication (city, county and township items, 20 working days to
//! reconcile). Then the signed logs of the cities, counties and townships, each enrolled by its
//! parent, each listing the catalogue items of its tier (adopted: same uniform elements, its own
//! implementing body) and local items with a local legal basis, ten days after the publication.
//! About 1 % violations are injected (renamed or missing catalogue items in some nodes, empty
//! responsibilities, items outside the catalogue with no local basis); a node whose list matches
//! the catalogue adopts it, the others leave their task open. Made node by node (never the whole
//! province in memory) and delivered through the node's own ingest path, ancestors first: ingest
//! rates. Then, each in its own child process so that its peak RSS is its own:
//! a) the full audit of the province as of `--as-of` (facts from the entries, rules, report,
//!    evidence hashes), phase by phase; b) the first refresh of the cached findings (everything
//!    recomputed) and the cached audit; c) one more entry delivered (a county renames one item)
//!    and the incremental refresh, with the partitions it recomputed.
//!
//! `--reuse` measures again on a province an earlier run left in `--dir` (the preparation's
//! figures are read back from `bench-prepared.json` there), `--steps` chooses the measurements:
//! prepare once, time many times.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use quanze_domain::audit::{AuditReport, NodeFact, Scope, evaluate};
use quanze_ledger::SignedEntryWire;
use quanze_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod province;

use province::{CAT, PROVINCE_ITEMS, Prepared, cities, prepare};

use crate::commands::bench_recon::deliver;
use crate::config::{Config, Overrides};

#[derive(Debug, Clone, clap::Args)]
pub struct AuditBenchArgs {
    /// Cities (at most 21: Sichuan's prefectures, with their real codes and names).
    #[arg(long, default_value_t = 21)]
    pub cities: usize,
    /// Counties, spread over the cities.
    #[arg(long, default_value_t = 183)]
    pub counties: usize,
    /// Townships, spread over the counties.
    #[arg(long, default_value_t = 3000)]
    pub townships: usize,
    /// Run on this PostgreSQL database instead of SQLite; it must be empty (see --reset-database).
    #[arg(long)]
    pub database_url: Option<String>,
    /// First drop and recreate the `public` schema of --database-url (only if it holds a quanze store).
    #[arg(long)]
    pub reset_database: bool,
    /// Working directory (default: a temporary one, removed at the end).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Day of the audit (default: today, China time).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// 复用之前一次运行在 --dir（及 --database-url）中留下的模拟省份，不再生成和导入，只重新测量；
    /// b) 先清空审计缓存，首次刷新仍为全部重算 / Measure again on the province an earlier run left
    /// in --dir (and --database-url): no generation or ingest; b) first empties the audit cache, so
    /// its first refresh again recomputes everything.
    #[arg(long)]
    pub reuse: bool,
    /// 要运行的测量，逗号分隔 / Measurements to run, comma separated: full (a), refresh (b),
    /// incremental (c). c) delivers one more entry, which stays in the database: a later --reuse
    /// audits it too (one more A01 finding), so leave `incremental` out of runs meant to be repeated.
    #[arg(long, value_delimiter = ',', default_values_t = ["full".to_string(), "refresh".to_string(), "incremental".to_string()])]
    pub steps: Vec<String>,
    /// Run one step in this process (prepare | full | refresh | incremental); used internally.
    #[arg(long, hide = true)]
    pub step: Option<String>,
}

/// One child step's measurements: (what, seconds, note) rows, findings per rule, peak RSS.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Step {
    rows: Vec<(String, f64, String)>,
    rules: BTreeMap<String, u64>,
    /// SHA-256 of the report's findings as JSON (evidence hashes included): equal digests, equal
    /// results, whatever code computed them.
    digest: String,
    peak_mb: f64,
}

impl Step {
    /// A row; its note ends with the process's peak RSS so far (where the peak was reached).
    fn row(&mut self, what: &str, secs: f64, note: String) {
        let sep = if note.is_empty() { "" } else { "; " };
        self.rows.push((what.to_string(), secs, format!("{note}{sep}peak RSS so far {:.0} MB", peak_mb())));
    }
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn peak_mb() -> f64 {
    crate::rss::peak_rss_bytes().unwrap_or(0) as f64 / 1_048_576.0
}

async fn timed<T>(f: impl Future<Output = Result<T, quanze_store::StoreError>>) -> anyhow::Result<(T, f64)> {
    let t = Instant::now();
    let v = f.await?;
    Ok((v, secs(t)))
}

/// a), b) or c), in this (child) process.
async fn run_step(step: &str, p_dir: &Path, as_of: NaiveDate, reuse: bool) -> anyhow::Result<Step> {
    let config = Config::load(p_dir, &Overrides::default())?;
    let store = Store::open(&config.database()).await?;
    let extra = [NodeFact { division: config.division.clone(), name: config.name.clone() }];
    let scope = Scope::Division(config.division.clone());
    let mut s = Step::default();
    let t0 = Instant::now();
    match step {
        "full" => {
            // As the API's full path does: the input lives until the report is built.
            let mut report = {
                let (input, t) = timed(store.audit_input(&scope, as_of, &extra)).await?;
                let calendar = store.calendar().await?;
                let (items, nodes, reqs) = (input.items.len(), input.nodes.len(), input.requirements.len());
                s.row(
                    "audit_input (facts as of the day)",
                    t,
                    format!("{items} items, {nodes} nodes, {reqs} requirements"),
                );
                let t = Instant::now();
                let ev = evaluate(&input, &calendar, Some(as_of))?;
                s.row("evaluate (rules A01–A10)", secs(t), format!("{} findings", ev.findings.len()));
                let t = Instant::now();
                let report = AuditReport::build(&scope, as_of, &input.nodes, ev);
                s.row("AuditReport::build", secs(t), format!("{} node lines", report.nodes.len()));
                // As the API does: the facts (millions of strings) are freed beside the rest.
                tokio::task::spawn_blocking(move || drop(input));
                report
            };
            let (_, t) = timed(store.fill_evidence_hashes(&mut report.findings)).await?;
            s.row("fill_evidence_hashes", t, String::new());
            s.rules = report.rules.iter().map(|r| (r.id.clone(), r.findings)).collect();
            let note = format!("**{} findings**", report.findings.len());
            s.row("**full audit, total**", secs(t0), note);
            s.digest = hex::encode(Sha256::digest(serde_json::to_vec(&report.findings)?));
        }
        "refresh" => {
            if reuse {
                store.audit_forget().await?;
            }
            let (stats, t) = timed(store.audit_refresh(&extra)).await?;
            s.row("first audit_refresh (everything recomputed)", t, format!("{stats:?}"));
            // Resets VmHWM (Linux `clear_refs` 5) to the current RSS, which still holds what the
            // allocator kept from the refresh: the peak below is its own only above that.
            let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
            let before = crate::rss::current_rss_bytes().unwrap_or(0) / 1_048_576;
            let (ev, t) = timed(store.audit_cached(&|_| true, as_of)).await?;
            let (f, u) = (ev.findings.len(), ev.units.checked.len());
            let rss = if reset { format!("RSS before it {before} MB, peak reset there") } else { String::new() };
            s.row("audit_cached, whole province", t, format!("{f} findings, {u} unit rows; {rss}"));
        }
        "incremental" => {
            let node = crate::server::open_node(&config).await?;
            let wire: SignedEntryWire = serde_json::from_slice(&std::fs::read(p_dir.join("bench-extra-entry.json"))?)?;
            let t = Instant::now();
            deliver(&node, vec![wire.into_unverified().context("bad saved entry")?]).await?;
            s.row("deliver one more entry (`item.update`)", secs(t), String::new());
            let (stats, t) = timed(store.audit_refresh(&extra)).await?;
            s.row("incremental audit_refresh", t, format!("{stats:?}"));
            let (ev, t) = timed(store.audit_cached(&|_| true, as_of)).await?;
            s.row("audit_cached after it", t, format!("{} findings", ev.findings.len()));
        }
        other => bail!("unknown step {other}"),
    }
    s.peak_mb = peak_mb();
    store.close().await;
    Ok(s)
}

pub async fn run(a: AuditBenchArgs) -> anyhow::Result<()> {
    if !(1..=cities().count()).contains(&a.cities) || a.counties < a.cities || a.counties > a.cities * 99 {
        bail!("--cities 应为 1–21，每市 1–99 个县 / --cities 1..=21, 1..=99 counties per city");
    }
    if a.townships < a.counties || a.townships > a.counties * 899 {
        bail!("每县应有 1–899 个乡镇 / 1..=899 townships per county");
    }
    let tmp = tempfile::tempdir()?;
    let root = a.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let p_dir = root.join("510000");
    let today = crate::clock::process_clock().today();
    let as_of = a.as_of.unwrap_or(today);
    if let Some(step) = &a.step {
        let out = match step.as_str() {
            "prepare" => serde_json::to_string(&prepare(&a, &p_dir).await?)?,
            other => serde_json::to_string(&run_step(other, &p_dir, as_of, a.reuse).await?)?,
        };
        println!("{out}");
        return Ok(());
    }
    if let Some(bad) = a.steps.iter().find(|s| !["full", "refresh", "incremental"].contains(&s.as_str())) {
        bail!("未知的测量 {bad}（应为 full、refresh、incremental）/ unknown step {bad}");
    }
    let saved = root.join("bench-prepared.json");
    if a.reuse {
        if a.dir.is_none() || !p_dir.exists() || !saved.exists() {
            bail!(
                "--reuse 需要之前一次运行留下的 --dir（含 {}）/ --reuse needs the --dir of an earlier run",
                saved.display()
            );
        }
    } else {
        if p_dir.exists() {
            bail!("{} 已存在，请先删除或加 --reuse / exists already: delete it first, or add --reuse", p_dir.display());
        }
        if let Some(url) = &a.database_url {
            check_database(url, a.reset_database).await?;
        }
        std::fs::create_dir_all(&root)?;
    }
    let backend = if a.database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    let shape = format!("--cities {} --counties {} --townships {}", a.cities, a.counties, a.townships);
    let mut base: Vec<String> = vec!["--dir".into(), root.display().to_string(), "--as-of".into(), as_of.to_string()];
    base.extend(shape.split(' ').map(String::from));
    base.extend(a.database_url.iter().flat_map(|u| ["--database-url".to_string(), u.clone()]));
    if a.reuse {
        base.push("--reuse".into());
    }
    let prep: Prepared = if a.reuse {
        eprintln!("bench audit on {backend}: reusing the province in {}", p_dir.display());
        serde_json::from_slice(&std::fs::read(&saved)?).with_context(|| format!("{}", saved.display()))?
    } else {
        let start = (today - Days::new(120)).to_string();
        eprintln!("bench audit on {backend}: preparing the province in {} (clock at {start})", p_dir.display());
        let prep: Prepared = child(Some(&start), "prepare", &base).await?;
        std::fs::write(&saved, serde_json::to_vec(&prep)?)?;
        eprintln!("ingest done in {:.1} s", prep.ingest_s);
        prep
    };
    let wants = |s: &str| a.steps.iter().any(|x| x == s);
    let mut full = Step::default();
    if wants("full") {
        eprintln!("a) full audit");
        full = child(None, "full", &base).await?;
    }
    let mut refresh = Step::default();
    if wants("refresh") {
        eprintln!("b) first refresh and cached audit");
        refresh = child(None, "refresh", &base).await?;
    }
    let mut inc = Step::default();
    if wants("incremental") {
        eprintln!("c) one more entry and the incremental refresh");
        inc = child(None, "incremental", &base).await?;
    }
    let size_mb = storage_mb(&p_dir, a.database_url.as_deref()).await.unwrap_or(0.0);

    let c = &prep.counts;
    let db = if a.database_url.is_some() { " --database-url postgres://…" } else { "" };
    let (nodes, sim_items, entries) =
        (1 + a.cities + a.counties + a.townships, c.items - PROVINCE_ITEMS as u64, c.entries);
    let (all_entries, cat, machine) =
        (entries + prep.province_entries, CAT.map(|t| t.1.to_string()).join("/"), machine());
    let (ingest, node_rate) = (prep.ingest_s, sim_items as f64 / prep.deliver_s);
    let (entry_rate, item_rate) = (entries as f64 / ingest, sim_items as f64 / ingest);
    println!("\n| step | seconds | result |\n|---|---:|---|");
    let reused = if a.reuse { " --reuse" } else { "" };
    println!("| command | | `quanze bench audit {shape} --as-of {as_of}{db}{reused} --steps {}` |", a.steps.join(","));
    println!("| machine, date, backend | | {machine}; {today}; **{backend}** |");
    println!(
        "| simulated province | | {nodes} nodes (1 + {} + {} + {}); **{} items** in {all_entries} signed entries; \
         catalogue of city/county/township items {cat}; database {size_mb:.0} MB |",
        a.cities, a.counties, a.townships, c.items
    );
    println!(
        "| injected violations | | {} renamed and {} missing catalogue items, {} with empty responsibilities, {} outside \
         the catalogue with no local basis; {} nodes adopted, {} left their task open |",
        c.renamed, c.missing, c.incomplete, c.uncatalogued, c.adopted, c.open_tasks
    );
    let earlier = if a.reuse { " (measured by the run that prepared it)" } else { "" };
    println!(
        "| ingest of the simulated logs (generated, signed, delivered through `Node::ingest`){earlier} | {ingest:.1} | \
         **{entry_rate:.0} entries/s, {item_rate:.0} items/s** ({entries} entries, {sim_items} items); {:.1} s inside \
         `Node::ingest` ({node_rate:.0} items/s); preparation in all {:.1} s, peak RSS {:.0} MB |",
        prep.deliver_s, prep.prepare_s, prep.peak_mb
    );
    for (label, step) in [("a)", &full), ("b)", &refresh), ("c)", &inc)] {
        for (what, secs, note) in &step.rows {
            println!("| {label} {what} | {secs:.3} | {note} |");
        }
    }
    let injected =
        [("A01", c.renamed), ("A02", c.missing), ("A03", c.uncatalogued), ("A06", c.open_tasks), ("A10", c.incomplete)];
    let per_rule: Vec<String> = full
        .rules
        .iter()
        .map(|(r, n)| {
            let expected = injected.iter().find(|i| i.0 == r).map_or(0, |i| i.1);
            format!("{r} {n} ({expected})")
        })
        .collect();
    if wants("full") {
        println!("| a) findings per rule (injected) | | {} |", per_rule.join(", "));
        println!("| a) SHA-256 of the findings (JSON) | | `{}` |", full.digest);
    }
    if wants("incremental") {
        println!("| c) the entry | | {} |", prep.changed);
    }
    if !wants("full") {
        return Ok(());
    }
    let (total, peak) = (full.rows.last().map_or(0.0, |r| r.1), full.peak_mb);
    let verdict = if total < 10.0 && peak < 2048.0 { "meets" } else { "misses" };
    println!(
        "\nFull audit of {} items on {backend}: {total:.1} s, peak RSS {peak:.0} MB — {verdict} the target (< 10 s, < 2 GB).",
        c.items
    );
    Ok(())
}

/// Runs one step in a child process (its clock at `now` when given); its last stdout line is JSON.
async fn child<T: for<'de> Deserialize<'de>>(now: Option<&str>, step: &str, base: &[String]) -> anyhow::Result<T> {
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.args(now.map(|n| ["--now", n]).iter().flatten()).args(["bench", "audit", "--step", step]).args(base);
    // Not `output()`: tokio's captures stderr too, and the child's progress belongs on ours.
    let (out, err) = (std::process::Stdio::piped(), std::process::Stdio::inherit());
    let out = cmd.env_remove("QUANZE_NOW").stdout(out).stderr(err).spawn()?.wait_with_output().await?;
    if !out.status.success() {
        bail!("bench audit step {step} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(serde_json::from_str(text.lines().last().context("bench child printed nothing")?)?)
}

/// Refuses a PostgreSQL database that holds tables, unless `reset` and they are a quanze store.
async fn check_database(url: &str, reset: bool) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_all(&pool)
            .await?;
    if !tables.is_empty() && !reset {
        bail!(
            "数据库不为空（{n} 个表），基准测试需要空数据库 / the database holds {n} tables: the benchmark needs an empty \
             database. If it holds only a previous run of this benchmark, add --reset-database to drop and recreate its \
             `public` schema; never point the benchmark at a database that holds anything else (e.g. the tests' one).",
            n = tables.len()
        );
    }
    if !tables.is_empty() {
        if !tables.iter().any(|t| t == "store_meta") {
            bail!("数据库中的表不是 quanze 的，不删除 / the tables are not a quanze store's: not dropped");
        }
        eprintln!("--reset-database: dropping and recreating the public schema");
        sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public").execute(&pool).await?;
    }
    pool.close().await;
    Ok(())
}

/// Size of the node's database: the files in its data directory, or the PostgreSQL database.
async fn storage_mb(p_dir: &Path, url: Option<&str>) -> anyhow::Result<f64> {
    let bytes = match url {
        Some(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
            let b: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&pool).await?;
            pool.close().await;
            b as u64
        }
        None => std::fs::read_dir(p_dir)?.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum(),
    };
    Ok(bytes as f64 / 1_048_576.0)
}

/// CPU model, cores and memory, from /proc.
fn machine() -> String {
    let read = |f: &str, key: &str| {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        text.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
    };
    let model = read("/proc/cpuinfo", "model name").unwrap_or_else(|| "?".into());
    let kib: f64 =
        read("/proc/meminfo", "MemTotal").and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores, {:.1} GB RAM", kib / 1_048_576.0)
}
