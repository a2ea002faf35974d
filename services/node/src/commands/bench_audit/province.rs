//! The simulated province of `quanze bench audit`: Sichuan's 21 cities with their real codes and
//! names, counties and townships spread over them, the catalogue publication, each node's list
//! with about 1 % injected violations, generated node by node (never the whole province in
//! memory) and delivered through the province node's own ingest path.
//!
//! Owns the shape of the data and the preparation; it must not measure the audit (that is the
//! parent module's, in its own child processes).

use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use quanze_domain::audit::is_local_citation;
use quanze_domain::{CatalogueChange, Citation, DivisionCode, ItemPatch, Op, PowerItem, PubRef, Publication, Tier};
use quanze_ledger::{SignedEntryWire, UnverifiedEntry, sign_entry};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{AuditBenchArgs, peak_mb, secs};
use crate::commands::bench_recon::{SimLog, deliver};
use crate::config::{Config, Overrides};

const CITIES: &str = "510100成都市 510300自贡市 510400攀枝花市 510500泸州市 510600德阳市 510700绵阳市 510800广元市 \
    510900遂宁市 511000内江市 511100乐山市 511300南充市 511400眉山市 511500宜宾市 511600广安市 511700达州市 \
    511800雅安市 511900巴中市 512000资阳市 513200阿坝藏族羌族自治州 513300甘孜藏族自治州 513400凉山彝族自治州";
/// The local regulation cited by the local items made from each of the 12 sample templates.
const LOCAL_LAWS: &str = "《四川省食品小作坊、小经营店及摊贩管理条例》第十条|《四川省城乡规划条例》第四十条|\
    《四川省安全生产条例》第二十条|《四川省环境保护条例》第三十条|《四川省道路运输条例》第十五条|《四川省消防条例》第二十五条|\
    《四川省物业管理条例》第二十条|《四川省水资源条例》第二十二条|《四川省旅游条例》第十八条|\
    《四川省城市市容和环境卫生管理条例》第十二条|《四川省野生植物保护条例》第十条|《四川省人口与计划生育条例》第十五条";
/// Catalogue items per tier, and the province's own items.
pub(super) const CAT: [(Tier, usize); 3] = [(Tier::City, 1000), (Tier::County, 2000), (Tier::Township, 150)];
pub(super) const PROVINCE_ITEMS: usize = 2000;
/// Share of nodes that list the catalogue carelessly and, in them, the rates of missing and of
/// renamed catalogue items; in every node, the rates of local items with empty responsibilities
/// and of extra items outside the catalogue with no local basis.
const CARELESS: f64 = 0.2;
const MISSING: f64 = 0.025;
const RENAMED: f64 = 0.025;
const INCOMPLETE: f64 = 0.005;
const UNCATALOGUED: f64 = 0.005;

pub(super) fn cities() -> impl Iterator<Item = (&'static str, &'static str)> {
    CITIES.split_whitespace().map(|s| s.split_at(6))
}

/// Indices of a tier's catalogue items (codes `{letters}{10000 + j}000`).
fn catalogue_range(tier: Tier) -> Range<usize> {
    let mut start = 0;
    for (t, n) in CAT {
        if t == tier {
            return start..start + n;
        }
        start += n;
    }
    0..0
}

/// A node's own items: (first main number of their codes, count).
fn local_family(tier: Tier) -> (usize, usize) {
    match tier {
        Tier::Province => (20_000, PROVINCE_ITEMS),
        Tier::City => (30_000, 1000),
        Tier::County => (40_000, 1000),
        Tier::Township => (50_000, 150),
    }
}

/// Item `j` of a family from the sample templates: code `{letters}{main + j}000`, a distinct name.
fn item(templates: &[PowerItem], main: usize, j: usize, label: &str) -> PowerItem {
    let mut item = templates[j % templates.len()].clone();
    item.code = format!("{}{:05}000", item.category.letters(), main + j);
    item.name = format!("{}（{label}第{}项）", item.name, j + 1);
    item
}

/// The sample items with the implementing bodies of `name` (a township's government).
fn templates(name: &str, tier: Tier) -> Vec<PowerItem> {
    let mut t = quanze_domain::sample::sample_list(name);
    if tier == Tier::Township {
        t.iter_mut().for_each(|i| i.implementing_body = format!("{name}人民政府"));
    }
    t
}

fn renamed(name: &str) -> String {
    name.replacen('（', "审批（", 1)
}

/// Deterministic per-node randomness (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What was generated and injected.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(super) struct Counts {
    pub(super) entries: u64,
    pub(super) items: u64,
    pub(super) renamed: u64,
    pub(super) missing: u64,
    pub(super) incomplete: u64,
    pub(super) uncatalogued: u64,
    pub(super) adopted: u64,
    pub(super) open_tasks: u64,
}

/// One node's list: the catalogue items of its tier and its own items, with violations
/// injected; true when it matches the catalogue (it may adopt).
fn node_list(name: &str, division: &DivisionCode, index: usize, counts: &mut Counts) -> (Vec<PowerItem>, bool) {
    let tier = division.tier();
    let t = templates(name, tier);
    let mut rng = Rng(division.as_str().parse::<u64>().unwrap_or(0));
    let careless = tier != Tier::Province && rng.next() < CARELESS;
    let (mut items, mut matches) = (Vec::new(), true);
    for j in catalogue_range(tier) {
        let mut it = item(&t, 10_000, j, "目录");
        let r = if careless { rng.next() } else { 1.0 };
        if r < MISSING + RENAMED {
            matches = false;
            if r < MISSING {
                counts.missing += 1;
                continue;
            }
            it.name = renamed(&it.name);
            counts.renamed += 1;
        }
        items.push(it);
    }
    let (main, n) = local_family(tier);
    let local = tier != Tier::Province;
    let mut extra = 0;
    for j in 0..n {
        let mut it = item(&t, main, j, if local { "地方" } else { "省级" });
        if local {
            it.basis = LOCAL_LAWS.split('|').nth(j % 12).map(Citation::parse_many).unwrap_or_default();
        }
        if rng.next() < INCOMPLETE {
            it.responsibilities.clear();
            counts.incomplete += 1;
        }
        items.push(it);
        if local && rng.next() < UNCATALOGUED {
            extra += 1;
            let mut x = item(&t, 0, extra - 1, "自设");
            x.code = format!("{}{:05}{extra:03}", x.category.letters(), 60_000 + index);
            x.basis.retain(|c| !is_local_citation(c));
            items.push(x);
        }
    }
    counts.uncatalogued += extra as u64;
    counts.items += items.len() as u64;
    (items, matches)
}

/// The catalogue publication: every catalogue item, lean (uniform elements, body, time limit).
fn publication(published: NaiveDate) -> Publication {
    let mut changes = Vec::new();
    for ((tier, _), prefix) in CAT.into_iter().zip(["市级", "县级", "乡镇"]) {
        let t = templates(prefix, tier);
        for j in catalogue_range(tier) {
            let mut it = item(&t, 10_000, j, "目录");
            (it.accountability, it.accountability_basis, it.supervision) = (vec![], vec![], vec![]);
            (it.remedies, it.flow, it.risk_points) = (vec![], vec![], vec![]);
            changes.push(CatalogueChange::Add { item: it, tiers: vec![tier] });
        }
    }
    let year = published.year();
    Publication {
        doc_no: format!("川府办发〔{year}〕18号"),
        title: format!("四川省市县乡权责清单通用目录（{year}年版）"),
        published,
        effective: published,
        tiers: CAT.iter().map(|(t, _)| *t).collect(),
        window: Default::default(),
        changes,
    }
}

/// The entry of c), signed but not delivered: (county, code, entry).
type Extra = (String, String, SignedEntryWire);

/// Makes the simulated logs node by node and hands them to the ingest in batches.
struct Gen {
    tx: mpsc::Sender<Vec<UnverifiedEntry>>,
    buf: Vec<UnverifiedEntry>,
    at: DateTime<Utc>,
    pub_ref: PubRef,
    counts: Counts,
    index: usize,
    extra: Option<Extra>,
}

impl Gen {
    fn sign(&mut self, log: &mut SimLog, ops: Vec<Op>) -> anyhow::Result<()> {
        self.at += TimeDelta::milliseconds(10);
        let e = sign_entry(&log.key, &log.division, log.head.as_ref(), self.at, ops)?;
        log.head = Some(e.head());
        self.buf.push(UnverifiedEntry::new(e.bytes().to_vec(), *e.sig()));
        self.counts.entries += 1;
        if self.buf.len() >= 50 {
            let batch = std::mem::take(&mut self.buf);
            self.tx.blocking_send(batch).map_err(|_| anyhow::anyhow!("ingest stopped"))?;
        }
        Ok(())
    }

    /// A node's list in entries of 100 `item.add`, then its adoption if its list matches.
    fn list(&mut self, log: &mut SimLog, name: &str) -> anyhow::Result<bool> {
        self.index += 1;
        let (items, matches) = node_list(name, &log.division.clone(), self.index, &mut self.counts);
        let mut it = items.into_iter().peekable();
        while it.peek().is_some() {
            let ops = it.by_ref().take(100).map(Op::add).collect();
            self.sign(log, ops)?;
        }
        if matches {
            self.sign(log, vec![Op::ReconAdopt { publication: self.pub_ref.clone(), codes: vec![] }])?;
            self.counts.adopted += 1;
        } else {
            self.counts.open_tasks += 1;
        }
        Ok(matches)
    }

    /// Enrols each `(code, name)` child of `parent`, one entry each.
    fn enrol(&mut self, parent: &mut SimLog, children: Vec<(String, String)>) -> anyhow::Result<Vec<(SimLog, String)>> {
        let enrol = |(code, name): (String, String)| {
            let child = SimLog::new(&code)?;
            self.sign(parent, vec![Op::Enroll { enrolment: child.enrolment(name.clone()) }])?;
            Ok((child, name))
        };
        children.into_iter().map(enrol).collect()
    }

    /// Each city's enrolments of its counties and its list, then each county's enrolments of
    /// its townships and its list, then its townships' lists: every log after its enrolment.
    fn run(mut self, cities: Vec<(SimLog, String)>, a: &AuditBenchArgs) -> anyhow::Result<(Counts, Option<Extra>)> {
        let share = |total: usize, parts: usize, i: usize| total / parts + usize::from(i < total % parts);
        let mut county_index = 0;
        for (c, (mut city, city_name)) in cities.into_iter().enumerate() {
            let prefix = &city.division.as_str()[..4];
            let names: Vec<_> = (1..=share(a.counties, a.cities, c))
                .map(|k| (format!("{prefix}{k:02}"), format!("{city_name}第{k}县")))
                .collect();
            let counties = self.enrol(&mut city, names)?;
            self.list(&mut city, &city_name)?;
            for (mut county, county_name) in counties {
                let div = county.division.to_string();
                let n = share(a.townships, a.counties, county_index);
                county_index += 1;
                let towns = self.enrol(
                    &mut county,
                    (1..=n).map(|k| (format!("{div}{:03}", 100 + k), format!("{county_name}第{k}镇"))).collect(),
                )?;
                if self.list(&mut county, &county_name)? && self.extra.is_none() {
                    let j = catalogue_range(Tier::County).start;
                    let first = item(&templates(&county_name, Tier::County), 10_000, j, "目录");
                    let patch = ItemPatch { name: Some(renamed(&first.name)), ..Default::default() };
                    let op = Op::update(first.code.clone(), patch);
                    let e = sign_entry(&county.key, &county.division, county.head.as_ref(), Utc::now(), vec![op])?;
                    self.extra = Some((div, first.code, e.to_wire()));
                }
                for (mut town, town_name) in towns {
                    self.list(&mut town, &town_name)?;
                }
            }
            eprintln!("  {city_name}: {} entries, {} items so far", self.counts.entries, self.counts.items);
        }
        let rest = std::mem::take(&mut self.buf);
        self.tx.blocking_send(rest).map_err(|_| anyhow::anyhow!("ingest stopped"))?;
        Ok((self.counts, self.extra))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Prepared {
    pub(super) counts: Counts,
    pub(super) province_entries: u64,
    pub(super) ingest_s: f64,
    pub(super) deliver_s: f64,
    pub(super) prepare_s: f64,
    pub(super) peak_mb: f64,
    pub(super) changed: String,
}

/// The province and its own writes (the parent set the clock back), then the simulated logs.
pub(super) async fn prepare(a: &AuditBenchArgs, p_dir: &Path) -> anyhow::Result<Prepared> {
    let t0 = Instant::now();
    let database_url = a.database_url.clone();
    let args = crate::cli::NodeArgs { data_dir: p_dir.to_path_buf(), database_url, listen: None, node_url: None };
    let province = DivisionCode::parse("510000")?;
    crate::commands::init::make_root(&args, Tier::Province, province.clone(), "四川省", &Default::default()).await?;
    let node = crate::server::open_node(&Config::load(p_dir, &Overrides::default())?).await?;
    let mut counts = Counts::default();
    let (own, _) = node_list("四川省", &province, 0, &mut counts);
    for chunk in own.chunks(100) {
        node.write(chunk.iter().cloned().map(Op::add).collect()).await?;
    }
    let mut cities_ = Vec::new();
    for (code, name) in cities().take(a.cities) {
        let log = SimLog::new(code)?;
        node.write(vec![Op::Enroll { enrolment: log.enrolment(name.to_string()) }]).await?;
        cities_.push((log, name.to_string()));
    }
    let entry = node.write(vec![Op::Publish { publication: publication(node.today()) }]).await?;
    let province_entries = entry.seq(); // calendar years included
    let pub_ref = PubRef { origin: province, seq: entry.seq(), hash: entry.hash().to_hex() };
    eprintln!("prepare: province ready ({:.1} s); generating and delivering the simulated logs", secs(t0));

    let (tx, mut rx) = mpsc::channel(4);
    let at = node.clock().now() + TimeDelta::days(10);
    let generator = Gen { tx, buf: Vec::new(), at, pub_ref, counts, index: 0, extra: None };
    let shape = a.clone();
    let t1 = Instant::now();
    let worker = tokio::task::spawn_blocking(move || generator.run(cities_, &shape));
    let mut deliver_s = 0.0;
    while let Some(batch) = rx.recv().await {
        let t = Instant::now();
        deliver(&node, batch).await?;
        deliver_s += secs(t);
    }
    let (counts, extra) = worker.await??;
    let ingest_s = secs(t1);
    let (county, code, wire) = extra.context("no county adopted: no entry for c)")?;
    std::fs::write(p_dir.join("bench-extra-entry.json"), serde_json::to_vec(&wire)?)?;
    node.store().close().await;
    let changed = format!("county {county} renames its item {code} (`item.update`, name only)");
    Ok(Prepared { counts, province_entries, ingest_s, deliver_s, prepare_s: secs(t0), peak_mb: peak_mb(), changed })
}
