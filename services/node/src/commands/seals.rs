//! `quanze seal …`: carve special seals (专用分章) from JSON or a register sheet, list and show
//! them, deliver, activate, recall, archive, replace, export — and `seal check`, the validity
//! question anyone may ask. Everything goes through the running node's API.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client;
use super::grants::{s, write_out};
use super::items::{encode, entry_text, read_json};
use crate::cli::NodeArgs;

#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// Register carved seals as one signed entry. FILE is JSON (one seal, a list, or
    /// {"seals": [...]}) or CSV with the columns 编号, 全称, 类别, 序号, 刻制部门, 持有方, 持有部门,
    /// 适用批次 (文号 or grantor#seq, several separated by spaces), 刻制日期 and optional 备案号,
    /// 印模哈希.
    Carve {
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Seals this node issued, holds, or sees below it.
    List {
        /// carved | delivered | activated | recalled | archived.
        #[arg(long)]
        state: Option<String>,
        /// Holder division code.
        #[arg(long)]
        holder: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One seal with every recorded step.
    Show {
        id: String,
        #[arg(long)]
        grantor: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The grantor records that the seal reached its holder (送达).
    Deliver {
        id: String,
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The holder starts using a delivered seal (启用), once its batch was accepted.
    Activate {
        id: String,
        /// The grantor node, when several use this id.
        #[arg(long)]
        grantor: Option<String>,
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The grantor takes the seal back (收回), with the reason.
    Recall {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Seal a recalled seal away (封存).
    Archive {
        id: String,
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A new seal (e.g. the approval bureau's 审批专用章) takes over old ones, which are recalled.
    Replace {
        /// Seals replaced (repeat or comma separated).
        #[arg(long = "old", value_delimiter = ',', required = true)]
        old: Vec<String>,
        /// The new seal (JSON); its scope may be left out to take over the old seals' scope.
        #[arg(long = "new")]
        new: PathBuf,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Is seal S valid for item C on day D? Exit 0: valid; 3: not valid; 1: the question could
    /// not be answered (unknown seal, node unreachable).
    Check {
        #[arg(long)]
        seal: String,
        #[arg(long)]
        item: String,
        /// Default today.
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        grantor: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The seal register as CSV or .xlsx (for Excel) or JSON.
    Export {
        /// csv (default), xlsx (needs --out) or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// Exit status of `seal check` when the seal is not valid.
pub const NOT_VALID_EXIT: i32 = 3;

fn with_date(mut body: Value, date: Option<String>) -> Value {
    if let Some(d) = date {
        body["date"] = json!(d);
    }
    body
}

pub async fn run(cmd: SealCommand) -> anyhow::Result<()> {
    match cmd {
        SealCommand::Carve { file, node } => {
            let body = read_seals(&file)?;
            let res = client(&node)?
                .send_json(Method::POST, "/api/v1/seals", &body)
                .await
                .with_context(|| file.display().to_string())?;
            let ids: Vec<String> = res["seals"].as_array().into_iter().flatten().map(s).collect();
            println!("已登记刻制 / carved {} 枚：{} — 条目 / entry {}", ids.len(), ids.join("、"), entry_text(&res));
            Ok(())
        }
        SealCommand::List { state, holder, json, node } => {
            let path = format!(
                "/api/v1/seals?state={}&holder={}",
                encode(state.as_deref().unwrap_or("")),
                encode(holder.as_deref().unwrap_or(""))
            );
            let res = client(&node)?.get_json(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            println!(
                "{:<16} {:<6} {:<7} {:<11} {:<11} {:<11} {:<8} 全称 / name",
                "编号 / id", "类别", "持有方", "送达", "启用", "收回", "状态"
            );
            for x in res["seals"].as_array().into_iter().flatten() {
                println!(
                    "{:<16} {:<6} {:<7} {:<11} {:<11} {:<11} {:<8} {}",
                    s(&x["id"]),
                    s(&x["kind_label"]),
                    s(&x["holder"]),
                    s(&x["delivered_on"]),
                    s(&x["activated_on"]),
                    s(&x["recalled_on"]),
                    s(&x["state_label"]),
                    s(&x["name"])
                );
            }
            Ok(())
        }
        SealCommand::Show { id, grantor, json, node } => {
            let q = grantor.map(|g| format!("?grantor={}", encode(&g))).unwrap_or_default();
            let x = client(&node)?.get_json(&format!("/api/v1/seals/{}{q}", encode(&id))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&x)?);
                return Ok(());
            }
            println!("{} {}（{}，{}）", s(&x["id"]), s(&x["name"]), s(&x["kind_label"]), s(&x["state_label"]));
            println!(
                "刻制 {}（{}），持有 {} {}，适用批次 {}",
                s(&x["issuer"]),
                s(&x["grantor"]),
                s(&x["holder"]),
                s(&x["holder_dept"]),
                x["scope"].as_array().map(|a| a.iter().map(s).collect::<Vec<_>>().join(" ")).unwrap_or_default()
            );
            for e in x["events"].as_array().into_iter().flatten() {
                println!(
                    "  {} {:<14} {}#{} {}",
                    s(&e["day"]),
                    s(&e["action"]),
                    s(&e["origin"]),
                    e["seq"],
                    s(&e["detail"])
                );
            }
            Ok(())
        }
        SealCommand::Deliver { id, date, node } => step(&node, &id, "deliver", with_date(json!({}), date)).await,
        SealCommand::Activate { id, grantor, date, node } => {
            let mut body = with_date(json!({}), date);
            if let Some(g) = grantor {
                body["grantor"] = json!(g);
            }
            step(&node, &id, "activate", body).await
        }
        SealCommand::Recall { id, reason, date, node } => {
            step(&node, &id, "recall", with_date(json!({ "reason": reason }), date)).await
        }
        SealCommand::Archive { id, date, node } => step(&node, &id, "archive", with_date(json!({}), date)).await,
        SealCommand::Replace { old, new, reason, date, node } => {
            let seal = read_json(&new)?;
            let body = with_date(json!({ "replaces": old, "seal": seal, "reason": reason }), date);
            let res = client(&node)?.send_json(Method::POST, "/api/v1/seals/replace", &body).await?;
            println!(
                "已替换 / replaced {} → {}（{}）— 条目 / entry {}",
                old.join("、"),
                s(&res["seal"]["id"]),
                s(&res["seal"]["name"]),
                entry_text(&res)
            );
            Ok(())
        }
        SealCommand::Check { seal, item, date, grantor, json, node } => {
            let mut path = format!("/api/v1/seals/check?seal={}&item={}", encode(&seal), encode(&item));
            if let Some(d) = date {
                path.push_str(&format!("&date={}", encode(&d)));
            }
            if let Some(g) = grantor {
                path.push_str(&format!("&grantor={}", encode(&g)));
            }
            let v = client(&node)?.get_json(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let verdict = if v["valid"] == true { "有效 / valid" } else { "无效 / not valid" };
                println!(
                    "{verdict}：专用章 {} 用于事项 {}（{}），{}",
                    s(&v["seal"]["id"]),
                    s(&v["item"]),
                    s(&v["item_name"]),
                    s(&v["date"])
                );
                println!("理由 / reason [{}]：{}", s(&v["code"]), s(&v["reason"]));
                if !v["route"].is_null() {
                    println!("办理路径 / route：{}", s(&v["route"]["text"]));
                }
            }
            if v["valid"] != true {
                std::process::exit(NOT_VALID_EXIT);
            }
            Ok(())
        }
        SealCommand::Export { format, out, node } => {
            let path = format!("/api/v1/seals/export?format={}", encode(&format));
            if format == "xlsx" {
                let Some(out) = out else {
                    bail!("xlsx 是二进制文件，请加 --out 专用章登记.xlsx / an .xlsx is binary: give --out FILE.xlsx");
                };
                let bytes = client(&node)?.get_bytes(&path).await?;
                std::fs::write(&out, bytes).with_context(|| format!("无法写入 {} / cannot write", out.display()))?;
                eprintln!("已写入 / written: {}", out.display());
                return Ok(());
            }
            let body = client(&node)?.get_text(&path).await?;
            write_out(out, &body)
        }
    }
}

async fn step(node: &NodeArgs, id: &str, action: &str, body: Value) -> anyhow::Result<()> {
    let path = format!("/api/v1/seals/{}/{action}", encode(id));
    let res = client(node)?.send_json(Method::POST, &path, &body).await?;
    let x = &res["seal"];
    println!("专用章 {} {}：{} — 条目 / entry {}", s(&x["id"]), s(&x["name"]), s(&x["state_label"]), entry_text(&res));
    Ok(())
}

/// The columns of a seal register sheet: header, JSON key, required.
const COLUMNS: [(&str, &str, bool); 11] = [
    ("编号", "id", true),
    ("全称", "name", true),
    ("类别", "kind", true),
    ("序号", "serial", true),
    ("刻制部门", "issuer", true),
    ("持有方", "holder", true),
    ("持有部门", "holder_dept", true),
    ("适用批次", "scope", true),
    ("刻制日期", "carved", false),
    ("备案号", "registration", false),
    ("印模哈希", "image_sha256", false),
];

/// Reads seals from JSON or a CSV register; CSV errors name the file, row and column.
fn read_seals(file: &Path) -> anyhow::Result<Value> {
    let name = file.display().to_string();
    if name.to_lowercase().ends_with(".json") {
        return match read_json(file)? {
            Value::Array(list) => Ok(json!({ "seals": list })),
            other => Ok(other),
        };
    }
    if !name.to_lowercase().ends_with(".csv") {
        bail!("{name}: 文件应为 .json 或 .csv / expected a .json or .csv file");
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("无法读取 {name} / cannot read file"))?;
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{name}: 无法读取表头 / cannot read header"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut index = Vec::new();
    for (header, key, required) in COLUMNS {
        match headers.iter().position(|h| h == header) {
            Some(i) => index.push((header, key, Some(i))),
            None if required => bail!("{name}: 缺少列 “{header}” / missing column"),
            None => index.push((header, key, None)),
        }
    }
    let mut seals = Vec::new();
    let mut errors = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let row = n + 2;
        let record = record.with_context(|| format!("{name} 第 {row} 行：无法解析 / cannot parse row"))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut obj = Map::new();
        for (header, key, i) in &index {
            let cell = i.and_then(|i| record.get(i)).unwrap_or("").trim();
            let required = COLUMNS.iter().any(|(h, _, r)| h == header && *r);
            if cell.is_empty() {
                if required {
                    errors.push(format!("{name} 第 {row} 行 “{header}”：不能为空 / required"));
                }
                continue;
            }
            let value = if *key == "scope" { json!(cell.split_whitespace().collect::<Vec<_>>()) } else { json!(cell) };
            obj.insert(key.to_string(), value);
        }
        seals.push(Value::Object(obj));
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    if seals.is_empty() {
        bail!("{name}: 没有专用章 / no seal rows");
    }
    Ok(json!({ "seals": seals }))
}
