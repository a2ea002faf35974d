//! `quanze log show|verify` and `quanze admin rebuild`. Verify and rebuild ask the running node
//! when it answers, and otherwise (or with `--offline`) work on the data directory directly.

use anyhow::bail;
use quanze_domain::DivisionCode;
use quanze_store::Store;
use serde_json::Value;

use super::{client, load_config};
use crate::cli::{AdminCommand, LogCommand, NodeArgs};
use crate::client::{ApiFailure, is_unreachable};
use crate::config::KEY_FILE;
use crate::secrets::load_key;
use crate::verify_log::{VerifyReport, verify_store};

pub async fn run(cmd: LogCommand) -> anyhow::Result<()> {
    match cmd {
        LogCommand::Show { origin, after, limit, json, node } => {
            let mut path = format!("/api/v1/log?after={after}&limit={limit}");
            if let Some(o) = origin {
                path.push_str(&format!("&origin={}", DivisionCode::parse(&o)?));
            }
            let res = client(&node)?.get_json(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
            } else {
                print_entries(&res);
            }
            Ok(())
        }
        LogCommand::Heads { json, node } => super::fed::heads(json, &node).await,
        LogCommand::Verify { offline, json, node } => {
            let report = if offline { verify_offline(&node).await? } else { verify_online_or_offline(&node).await? };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            if !report.ok {
                bail!("日志校验失败 / log verification failed");
            }
            Ok(())
        }
    }
}

async fn verify_online_or_offline(node: &NodeArgs) -> anyhow::Result<VerifyReport> {
    match client(node)?.get_json("/api/v1/log/verify").await {
        Ok(v) => Ok(serde_json::from_value(v)?),
        Err(e) if is_unreachable(&e) => {
            eprintln!("节点未运行，直接校验数据目录 / node not running: verifying the data directory");
            verify_offline(node).await
        }
        Err(e) => match e.downcast::<ApiFailure>() {
            // A failed verification is answered with 409 and the report.
            Ok(f) if f.status == 409 => Ok(serde_json::from_value(f.body)?),
            Ok(f) => Err(f.into()),
            Err(e) => Err(e),
        },
    }
}

async fn verify_offline(node: &NodeArgs) -> anyhow::Result<VerifyReport> {
    let config = load_config(node)?;
    let key = load_key(&config.path(KEY_FILE))?;
    let store = Store::open_read_only(&config.database()).await?;
    let own = config.division.clone();
    let public = key.public();
    let fallback = move |origin: &DivisionCode, _seq: u64| (origin == &own).then_some(public);
    let report = verify_store(&store, &fallback).await;
    store.close().await;
    report
}

pub async fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    let AdminCommand::Rebuild { offline, node } = cmd;
    let replayed = if offline {
        rebuild_offline(&node).await?
    } else {
        match client(&node)?.send_json(reqwest::Method::POST, "/api/v1/admin/rebuild", &Value::Null).await {
            Ok(v) => v["replayed"].as_u64().unwrap_or(0),
            Err(e) if is_unreachable(&e) => {
                eprintln!("节点未运行，直接重建数据目录 / node not running: rebuilding the data directory");
                rebuild_offline(&node).await?
            }
            Err(e) => return Err(e),
        }
    };
    println!("已从 {replayed} 个条目重建全部投影 / rebuilt every projection from {replayed} entries");
    Ok(())
}

async fn rebuild_offline(args: &NodeArgs) -> anyhow::Result<u64> {
    let config = load_config(args)?;
    let key = load_key(&config.path(KEY_FILE))?;
    let store = Store::open(&config.database()).await?;
    let node =
        crate::state::Node::new(config.division.clone(), config.tier, config.name.clone(), key, store.clone(), None)
            .await?;
    let n = node.rebuild().await?;
    store.close().await;
    Ok(n)
}

fn print_report(r: &VerifyReport) {
    if r.ok {
        println!("日志完整 / log intact: 已校验 {} 个条目 / {} entries verified", r.entries_checked, r.entries_checked);
    } else {
        println!("发现问题 / problems found ({} entries checked):", r.entries_checked);
        for p in &r.problems {
            println!("  条目 / entry {}#{}: {}", p.origin, p.seq, p.message);
        }
    }
    for h in &r.heads {
        println!("  {} 链头 / head #{} {}", h.origin, h.seq, h.hash);
    }
}

fn print_entries(res: &Value) {
    let entries = res["entries"].as_array().cloned().unwrap_or_default();
    for e in &entries {
        let d = &e["decoded"];
        let ops = d["op"].as_array().cloned().unwrap_or_default();
        let kinds: Vec<String> = ops
            .iter()
            .take(3)
            .map(|o| {
                let code = o["item"]["code"].as_str().or_else(|| o["code"].as_str()).unwrap_or("");
                format!("{} {}", o["type"].as_str().unwrap_or("?"), code)
            })
            .collect();
        let more = if ops.len() > 3 {
            format!(" …（共 {} 个操作 / {} ops）", ops.len(), ops.len())
        } else {
            String::new()
        };
        println!(
            "#{:<5} {} {}  {}{}",
            e["seq"],
            d["at"].as_str().unwrap_or(""),
            &e["hash"].as_str().unwrap_or("")[..12.min(e["hash"].as_str().unwrap_or("").len())],
            kinds.join("; "),
            more
        );
    }
    if entries.is_empty() {
        println!("（无条目 / no entries）");
    }
}
