//! `quanze demo`: a four-tier federation on this machine — 四川省 510000, 泸州市 510500, 泸县
//! 510521, 福集镇 510521100 — each a real `quanze serve` process with its own data directory
//! and port, on SQLite. It enrols each node with an invite from its parent, writes entries at
//! every tier, waits until every node holds the same heads, and prints what happened, each
//! node's memory, and where to look.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use quanze_domain::{DivisionCode, Tier};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{DemoArgs, InitArgs, NodeArgs};
use crate::client::NodeClient;
use crate::config::{CERT_FILE, CONFIG_FILE, TOKEN_FILE};
use crate::secrets::read_secret;

/// The demo's four nodes, top down.
pub const TIERS: [(&str, Tier, &str); 4] = [
    ("510000", Tier::Province, "四川省"),
    ("510500", Tier::City, "泸州市"),
    ("510521", Tier::County, "泸县"),
    ("510521100", Tier::Township, "福集镇"),
];

/// One running demo node.
#[derive(Debug)]
pub struct DemoNode {
    pub division: String,
    pub name: String,
    pub dir: PathBuf,
    pub url: String,
    pub api: NodeClient,
    process: tokio::process::Child,
}

impl DemoNode {
    pub fn pid(&self) -> Option<u32> {
        self.process.id()
    }

    /// Current resident memory of the node's process, MB.
    pub fn rss_mb(&self) -> f64 {
        self.pid().and_then(crate::rss::rss_of_pid).unwrap_or(0) as f64 / 1_048_576.0
    }

    /// Peak resident memory of the node's process, MB.
    pub fn peak_rss_mb(&self) -> f64 {
        self.pid().and_then(crate::rss::peak_rss_of_pid).unwrap_or(0) as f64 / 1_048_576.0
    }

    /// Stops the process with SIGTERM and waits for it.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        }
        match tokio::time::timeout(Duration::from_secs(20), self.process.wait()).await {
            Ok(r) => {
                r?;
            }
            Err(_) => self.process.kill().await?,
        }
        Ok(())
    }

    /// `(origin, seq, hash)` of every log the node holds.
    pub async fn heads(&self) -> anyhow::Result<Vec<(String, u64, String)>> {
        let v = self.api.get_json("/api/v1/fed/heads").await?;
        Ok(v["heads"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                let origin = h["origin"].as_str().unwrap_or("").to_string();
                (origin, h["seq"].as_u64().unwrap_or(0), h["hash"].as_str().unwrap_or("").to_string())
            })
            .collect())
    }
}

/// Starts `quanze serve` on `dir` as a child process and waits until it answers.
pub async fn spawn_node(dir: &Path, division: &str, name: &str) -> anyhow::Result<DemoNode> {
    let config = crate::config::Config::load(dir, &crate::config::Overrides::default())?;
    let log = std::fs::File::create(dir.join("serve.log"))?;
    let process = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--data-dir"])
        .arg(dir)
        .env("QUANZE_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("无法启动 quanze serve / cannot start quanze serve")?;
    let token = read_secret(&config.path(TOKEN_FILE))?.trim().to_string();
    let url = config.local_url();
    let api = NodeClient::new(&config.path(CERT_FILE), url.clone(), Some(token))?;
    api.wait_healthy(150).await.with_context(|| format!("{name} 未能启动，见 {}/serve.log", dir.display()))?;
    Ok(DemoNode { division: division.to_string(), name: name.to_string(), dir: dir.to_path_buf(), url, api, process })
}

/// A loopback address with a port free right now.
pub fn free_listen() -> anyhow::Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    Ok(format!("127.0.0.1:{port}"))
}

/// `quanze init --tier province` of 四川省 510000 in `dir`, on a free loopback port.
pub async fn init_province(dir: &Path) -> anyhow::Result<()> {
    let args =
        NodeArgs { data_dir: dir.to_path_buf(), database_url: None, listen: Some(free_listen()?), node_url: None };
    let (division, tier, name) = TIERS[0];
    crate::commands::init::make_root(&args, tier, DivisionCode::parse(division)?, name, &Default::default()).await?;
    Ok(())
}

/// Makes and starts the four nodes in `root`, each enrolled by its parent's invite.
pub async fn start_federation(root: &Path) -> anyhow::Result<Vec<DemoNode>> {
    let mut nodes: Vec<DemoNode> = Vec::new();
    for (division, tier, name) in TIERS {
        let dir = root.join(division);
        match nodes.last() {
            None => init_province(&dir).await?,
            Some(parent) => {
                let body = json!({ "division": division, "tier": tier.key(), "name": name, "ttl_hours": 1 });
                let res = parent.api.send_json(Method::POST, "/api/v1/fed/invites", &body).await?;
                let invite = res["invite"].as_str().context("invite")?.to_string();
                let args = InitArgs {
                    tier: None,
                    division: None,
                    name: None,
                    standalone: false,
                    join: Some(invite),
                    address: Default::default(),
                    node: NodeArgs {
                        data_dir: dir.clone(),
                        database_url: None,
                        listen: Some(free_listen()?),
                        node_url: None,
                    },
                };
                crate::commands::init::init(&args).await?;
            }
        }
        nodes.push(spawn_node(&dir, division, name).await?);
    }
    Ok(nodes)
}

/// Waits until every node holds every origin at the head its writer has. Returns the time taken.
pub async fn wait_converged(nodes: &[DemoNode], limit: Duration) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let mut expected: Vec<(String, u64, String)> = Vec::new();
        for n in nodes {
            if let Some(own) = n.heads().await?.into_iter().find(|h| h.0 == n.division) {
                expected.push(own);
            }
        }
        let mut all = true;
        for n in nodes {
            let held = n.heads().await?;
            all &= expected.iter().all(|e| held.contains(e));
        }
        if all {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("{} 秒内未能同步 / nodes did not converge within {limit:?}", limit.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let root = &args.dir;
    if root.exists() {
        let ours = TIERS.iter().any(|(d, _, _)| root.join(d).join(CONFIG_FILE).exists());
        if !ours && std::fs::read_dir(root)?.next().is_some() {
            bail!("{} 已存在且不是演示目录，请换 --dir / exists and is not a demo directory", root.display());
        }
        std::fs::remove_dir_all(root).with_context(|| format!("无法清理上次的演示 {}", root.display()))?;
    }
    std::fs::create_dir_all(root)?;
    step("1", "创建四级节点并逐级登记（上级生成一次性邀请码，下级凭码加入）/ four nodes, each enrolled by its parent");
    let mut nodes = start_federation(root).await?;
    for n in &nodes {
        println!("   {:<10} {:<4} {}  数据目录 {}", n.division, n.name, n.url, n.dir.display());
    }
    let mut result = drive(&nodes).await;
    if result.is_ok() {
        step("10", "为每个节点创建控制台账户 / console accounts on every node (sign in with a browser)");
        let password = super::demo_console::demo_password()?;
        result = super::demo_console::add_accounts(&nodes, &password).await;
    }
    if result.is_ok() {
        println!("\n各节点内存 / memory of each node (RSS now, peak):");
        for n in &nodes {
            println!("   {:<10} {:<4} {:>6.1} MB  峰值 {:>6.1} MB", n.division, n.name, n.rss_mb(), n.peak_rss_mb());
        }
    }
    if args.serve && result.is_ok() {
        println!("\n四个节点继续运行，按 Ctrl-C 停止 / serving until ctrl-c");
        crate::server::shutdown_signal().await;
    }
    for n in &mut nodes {
        n.stop().await?;
    }
    result?;
    let d = |division: &str| root.join(division).display().to_string();
    println!("\n演示完成 / demo finished. 继续探索 / explore further:");
    println!("  quanze serve --data-dir {}        # 依次启动四个节点 / start each node again", d("510000"));
    println!("  quanze status --data-dir {}      # 上级、同步延迟、待推送 / parent, lag, outbox", d("510521100"));
    println!("  quanze log heads --json --data-dir {}", d("510000"));
    println!("  quanze log show --origin 510521100 --data-dir {}", d("510000"));
    println!("  quanze item list --data-dir {}", d("510521"));
    println!("  quanze demo --serve     # 演示后节点继续运行，可用浏览器登录控制台 / keep serving for the console");
    println!("  各节点日志 / node logs: {}/*/serve.log", root.display());
    Ok(())
}

fn step(n: &str, text: &str) {
    println!("[{n}] {text}");
}

fn item(code: &str, name: &str, law: &str, article: &str, body: &str) -> Value {
    json!({
        "code": code,
        "name": name,
        "category": "行政许可",
        "basis": [{"law": law, "article": article}],
        "implementing_body": body,
        "responsibilities": ["受理责任：公示应当提交的材料，一次性告知补正材料", "审查责任：对申请材料进行审查，提出审查意见"],
        "remedies": ["行政复议", "行政诉讼"],
        "time_limit": {"legal_days": 20, "promised_days": 10}
    })
}

async fn drive(nodes: &[DemoNode]) -> anyhow::Result<()> {
    let [province, city, county, township] = nodes else { bail!("four nodes expected") };
    let t = wait_converged(nodes, Duration::from_secs(60)).await?;
    step("2", &format!("登记条目已逐级下发，四个节点持有相同链头（{} ms）/ enrolments replicated", t.as_millis()));

    let writes = [
        (
            province,
            "3",
            "XK00071000",
            "药品零售企业许可",
            "中华人民共和国药品管理法",
            "第五十二条",
            "四川省药品监督管理局",
        ),
        (city, "4", "XK00072000", "城市建筑垃圾处置核准", "城市市容和环境卫生管理条例", "第十七条", "泸州市城市管理局"),
    ];
    for (node, n, code, name, law, article, body) in writes {
        let res = node.api.send_json(Method::POST, "/api/v1/items", &item(code, name, law, article, body)).await?;
        step(n, &format!("{} 新增 {name}，日志 #{} / {} writes", node.name, res["entry"]["seq"], node.division));
    }
    let csv = quanze_domain::sample::sample_csv();
    let res = county.api.post_bytes("/api/v1/import?format=csv", "text/csv", csv.into_bytes()).await?;
    step(
        "5",
        &format!(
            "泸县 导入示例清单 {} 项，作为一个签名条目 #{} / the county imports its list",
            res["imported"], res["entry"]["seq"]
        ),
    );
    let start = Instant::now();
    let res = township
        .api
        .send_json(
            Method::POST,
            "/api/v1/items",
            &item("XK00073000", "农村村民宅基地审批", "中华人民共和国土地管理法", "第六十二条", "福集镇人民政府"),
        )
        .await?;
    step("6", &format!("福集镇 新增一项，镇日志 #{} / the township writes", res["entry"]["seq"]));
    let t = wait_converged(nodes, Duration::from_secs(60)).await?;
    step(
        "7",
        &format!(
            "全部条目已验证并送达每个应持有的节点（{} ms）：省→镇 向下拉取，镇→省 向上推送 / converged",
            (start.elapsed().max(t)).as_millis()
        ),
    );
    println!("   各节点持有的日志 / logs held by each node (origin #seq):");
    for n in nodes {
        let heads = n.heads().await?;
        let list: Vec<String> = heads.iter().map(|(o, s, _)| format!("{o}#{s}")).collect();
        println!("   {:<10} {:<4} {}", n.division, n.name, list.join("  "));
    }
    let page = province.api.get_json("/api/v1/log?origin=510521100").await?;
    let entries = page["entries"].as_array().map_or(0, Vec::len);
    step(
        "8",
        &format!("省级节点持有福集镇日志 {entries} 条，签名由福集镇密钥验证 / the province holds the township's log"),
    );
    // The county's next entry, with a signature that is not the county's.
    let next = city.heads().await?.iter().find(|h| h.0 == "510521").map_or(1, |h| h.1 + 1);
    let body =
        format!("{{\"at\":\"2026-01-01T00:00:00.000Z\",\"op\":[],\"origin\":\"510521\",\"seq\":{next},\"v\":1}}");
    let forged =
        json!({ "from": "510521", "entries": [{ "body": body, "sig": "00".repeat(64), "hash": "00".repeat(32) }] });
    let res = city.api.send_json(Method::POST, "/api/v1/fed/push", &forged).await?;
    let outcome = &res["deliveries"][0];
    step(
        "9",
        &format!(
            "伪造签名的条目被泸州市拒收：{} {} / a forged entry is refused and nothing applied",
            outcome["code"].as_str().unwrap_or("?"),
            outcome["message"].as_str().unwrap_or("")
        ),
    );
    Ok(())
}
