//! `quanze demo --single`: one county node (泸县 510521) on SQLite, driven over its real HTTPS
//! API — import a sample list, add, adjust, cancel, a refused duplicate, verify the log — and
//! where to look afterwards.

use std::net::TcpListener;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::json;

use crate::cli::DemoArgs;
use crate::client::NodeClient;
use crate::config::{CERT_FILE, CONFIG_FILE, TOKEN_FILE};
use crate::secrets::read_secret;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    if !args.single {
        bail!(
            "四级联邦演示将随联邦功能提供；现在请使用 --single / the four-tier demo comes with federation; use --single"
        );
    }
    let dir = args.dir.join("510521");
    if dir.exists() {
        if !dir.join(CONFIG_FILE).exists() {
            bail!(
                "{} 已存在且不是演示节点，请换 --dir / exists and is not a demo node; choose another --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("无法清理上次的演示 {}", dir.display()))?;
    }
    step("1", "创建县级节点 泸县 510521 / init a county node");
    let (made, config, node) = crate::commands::init::init_and_open_luxian(&dir).await?;
    println!("   数据目录 {}，公钥 {}", dir.display(), made.public_key);

    let listener = TcpListener::bind("127.0.0.1:0").context("无法绑定端口 / cannot bind")?;
    let url = format!("https://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = config.clone();
    let server = tokio::spawn(async move {
        crate::server::run(listener, node, &cfg, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let token = read_secret(&config.path(TOKEN_FILE))?.trim().to_string();
    let api = NodeClient::new(&config.path(CERT_FILE), url.clone(), Some(token))?;
    api.wait_healthy(100).await?;
    step("2", &format!("节点已在 {url} 提供 HTTPS 服务（证书已固定）/ serving HTTPS, certificate pinned"));

    let result = drive(&api).await;
    if args.serve && result.is_ok() {
        println!("\n节点继续运行于 {url}，按 Ctrl-C 停止 / serving until ctrl-c");
        crate::server::shutdown_signal().await;
    }
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    result?;
    let d = dir.display();
    println!("\n演示完成 / demo finished. 继续探索 / explore further:");
    println!("  quanze serve --data-dir {d}");
    println!("  quanze item list --data-dir {d} --category 行政许可");
    println!("  quanze log show --data-dir {d}");
    println!("  quanze log verify --data-dir {d} --offline");
    println!("  quanze export --format csv --data-dir {d} --output 泸县权责清单.csv");
    Ok(())
}

fn step(n: &str, text: &str) {
    println!("[{n}] {text}");
}

async fn drive(api: &NodeClient) -> anyhow::Result<()> {
    let csv = quanze_domain::sample::sample_csv();
    let res = api.post_bytes("/api/v1/import?format=csv", "text/csv", csv.into_bytes()).await?;
    step(
        "3",
        &format!(
            "导入示例清单 {} 项，作为一个签名条目 #{} / imported the sample list as one signed entry",
            res["imported"], res["entry"]["seq"]
        ),
    );

    let item = json!({
        "code": "XK00041000",
        "name": "公共场所卫生许可",
        "category": "行政许可",
        "basis": [{"law": "公共场所卫生管理条例", "article": "第八条"}],
        "implementing_body": "泸县卫生健康局",
        "responsibilities": ["受理责任：公示依法应当提交的材料，一次性告知补正材料", "审查责任：对申请材料进行审查，提出审查意见"],
        "remedies": ["行政复议", "行政诉讼"],
        "time_limit": {"legal_days": 20, "promised_days": 15}
    });
    let res = api.send_json(Method::POST, "/api/v1/items", &item).await?;
    step("4", &format!("新增 公共场所卫生许可 XK00041000，条目 #{} / added one item", res["entry"]["seq"]));

    let res = api
        .send_json(
            Method::PATCH,
            "/api/v1/items/XK00041000",
            &json!({"time_limit": {"legal_days": 20, "promised_days": 5}}),
        )
        .await?;
    step("5", &format!("承诺时限调整为 5 个工作日，条目 #{} / promised limit adjusted", res["entry"]["seq"]));

    let sample = quanze_domain::sample::sample_list("泸县");
    let last = sample.last().context("示例清单为空 / empty sample list")?;
    let reason = "依据川府发〔2025〕3号，该事项调整由上级实施 / moved upward by a provincial decision";
    let path = format!("/api/v1/items/{}/cancel", crate::commands::items::encode(&last.code));
    let res = api.send_json(Method::POST, &path, &json!({ "reason": reason })).await?;
    step(
        "6",
        &format!(
            "取消 {} {}，条目 #{} / cancelled one item with its reason",
            last.code, last.name, res["entry"]["seq"]
        ),
    );

    match api.send_json(Method::POST, "/api/v1/items", &item).await {
        Err(e) => step("7", &format!("重复编码被拒绝，未写入任何内容 / duplicate refused, nothing written: {e}")),
        Ok(_) => bail!("重复编码未被拒绝 / duplicate was accepted"),
    }

    let page = api.get_json("/api/v1/items?category=%E8%A1%8C%E6%94%BF%E8%AE%B8%E5%8F%AF&limit=100").await?;
    step("8", &format!("行政许可事项共 {} 项 / licensing items:", page["total"]));
    for it in page["items"].as_array().into_iter().flatten() {
        println!(
            "     {}  {}  {}",
            it["code"].as_str().unwrap_or(""),
            it["name"].as_str().unwrap_or(""),
            it["implementing_body"].as_str().unwrap_or("")
        );
    }
    let report = api.get_json("/api/v1/log/verify").await?;
    step(
        "9",
        &format!(
            "日志校验：{} 个条目全部通过签名与链校验 / every entry verified: ok={}",
            report["entries_checked"], report["ok"]
        ),
    );
    Ok(())
}
