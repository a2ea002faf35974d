//! `quanze grant …`: issue a grant batch (赋权) from a spreadsheet or JSON, list and show
//! batches with their deadlines, accept, revoke, extend the training period, export the
//! register. Everything goes through the running node's API; this file reads files, builds
//! request bodies and prints tables. Seals are `seals.rs`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use quanze_domain::import::ImportFormat;
use reqwest::Method;
use serde_json::{Value, json};

use super::client;
use super::items::{encode, entry_text, read_json};
use crate::cli::NodeArgs;

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Issue a batch as one signed entry. FILE is a batch (JSON) or an item sheet (CSV or Excel
    /// .xlsx/.xls: 事项编码, 赋权部门, 承接部门, optional 审批类别 and 需报省办结), with the
    /// document given by flags.
    Issue {
        file: PathBuf,
        /// 文号, e.g. 盘政发〔2016〕37号 (required for a sheet; overrides the JSON's).
        #[arg(long)]
        doc_no: Option<String>,
        #[arg(long)]
        title: Option<String>,
        /// Issue date (the 15-working-day handover window starts here); default today.
        #[arg(long)]
        issued: Option<String>,
        /// The receiving node's division code, e.g. 211122.
        #[arg(long)]
        grantee: Option<String>,
        /// Training and guidance period in months (1–3); default 3.
        #[arg(long)]
        training_months: Option<u32>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Batches this node issued, received, or sees below it, with deadlines and status.
    List {
        /// issued | received | all (default).
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One batch: deadlines, items, the seals valid for it, its history.
    Show {
        /// grantor#seq (e.g. 211100#12) or the document number.
        reference: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Accept a batch granted to this node (交接): its items enter this node's list as granted.
    Accept {
        reference: String,
        /// Receiving departments (repeat or comma separated); default every one the batch names.
        #[arg(long = "department", value_delimiter = ',')]
        departments: Vec<String>,
        /// Handover date; default today.
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Take back a whole batch, or some of its items (--item).
    Revoke {
        reference: String,
        /// Item codes (repeat or comma separated); none: the whole batch.
        #[arg(long = "item", value_delimiter = ',')]
        items: Vec<String>,
        #[arg(long)]
        reason: String,
        /// Effective date; default today.
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Extend the training and guidance period (根据工作需要适度延长).
    Extend {
        reference: String,
        #[arg(long)]
        months: u32,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The register of batches as CSV or .xlsx (for Excel) or JSON.
    Export {
        /// csv (default), xlsx (needs --out) or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        role: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A JSON value as table text: strings bare, null as `-`.
pub(super) fn s(v: &Value) -> String {
    match v {
        Value::String(t) => t.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Writes `body` to `out`, or standard output.
pub(super) fn write_out(out: Option<PathBuf>, body: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(&path, body).with_context(|| format!("无法写入 {} / cannot write", path.display()))?;
            eprintln!("已写入 / written: {}", path.display());
            Ok(())
        }
        None => {
            print!("{body}");
            Ok(())
        }
    }
}

pub async fn run(cmd: GrantCommand) -> anyhow::Result<()> {
    match cmd {
        GrantCommand::Issue { file, doc_no, title, issued, grantee, training_months, node } => {
            issue(file, [doc_no, title, issued, grantee], training_months, node).await
        }
        GrantCommand::List { role, json, node } => {
            let path = format!("/api/v1/grants?role={}", encode(role.as_deref().unwrap_or("all")));
            let res = client(&node)?.get_json(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            println!("赋权批次（{}）/ grant batches", s(&res["today"]));
            println!(
                "{:<14} {:<22} {:<7} {:<7} {:<11} {:<11} {:<11} {:>5} {:<10}",
                "批次 / ref", "文号 / doc no", "赋权方", "承接方", "交接期限", "承接日期", "培训期至", "事项", "状态"
            );
            for g in res["grants"].as_array().into_iter().flatten() {
                let late = if g["handover_late"] == true { "（交接逾期）" } else { "" };
                println!(
                    "{:<14} {:<22} {:<7} {:<7} {:<11} {:<11} {:<11} {:>5} {}{late}",
                    s(&g["ref"]),
                    s(&g["doc_no"]),
                    s(&g["grantor"]),
                    s(&g["grantee"]),
                    s(&g["handover_due"]),
                    s(&g["accepted_on"]),
                    s(&g["training_until"]),
                    g["items"],
                    s(&g["status_label"]),
                );
            }
            Ok(())
        }
        GrantCommand::Show { reference, json, node } => {
            let g = client(&node)?.get_json(&format!("/api/v1/grants/{}", encode(&reference))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&g)?);
                return Ok(());
            }
            println!("{} {}  {}", s(&g["ref"]), s(&g["doc_no"]), s(&g["title"]));
            println!(
                "赋权方 {} → 承接方 {}；印发 {}，交接期限 {}，承接 {}，培训指导期至 {}；状态：{}",
                s(&g["grantor"]),
                s(&g["grantee"]),
                s(&g["issued"]),
                s(&g["handover_due"]),
                s(&g["accepted_on"]),
                s(&g["training_until"]),
                s(&g["status_label"])
            );
            for i in g["item_list"].as_array().into_iter().flatten() {
                let revoked = if i["revoked_on"].is_null() {
                    String::new()
                } else {
                    format!("（{} 收回）", s(&i["revoked_on"]))
                };
                let up = if i["provincial"] == true { " 需报省办结" } else { "" };
                println!(
                    "  {:<14} {:<6} {:<14} → {:<14} {}{up}{revoked}",
                    s(&i["code"]),
                    s(&i["kind_label"]),
                    s(&i["grantor_dept"]),
                    s(&i["grantee_dept"]),
                    s(&i["name"])
                );
            }
            for seal in g["seals"].as_array().into_iter().flatten() {
                println!("  专用章 {} {}：{}", s(&seal["id"]), s(&seal["name"]), s(&seal["state_label"]));
            }
            Ok(())
        }
        GrantCommand::Accept { reference, departments, date, node } => {
            let mut body = json!({});
            if !departments.is_empty() {
                body["departments"] = json!(departments);
            }
            if let Some(d) = date {
                body["date"] = json!(d);
            }
            let path = format!("/api/v1/grants/{}/accept", encode(&reference));
            let res = client(&node)?.send_json(Method::POST, &path, &body).await?;
            let g = &res["grant"];
            println!(
                "已承接 / accepted {} {}：{} 项进入本级清单，承接部门 {} — 条目 / entry {}",
                s(&g["ref"]),
                s(&g["doc_no"]),
                g["items"].as_u64().unwrap_or(0) - g["items_revoked"].as_u64().unwrap_or(0),
                g["departments"].as_array().map(|d| d.iter().map(s).collect::<Vec<_>>().join("、")).unwrap_or_default(),
                entry_text(&res)
            );
            Ok(())
        }
        GrantCommand::Revoke { reference, items, reason, date, node } => {
            let mut body = json!({ "codes": items, "reason": reason });
            if let Some(d) = date {
                body["date"] = json!(d);
            }
            let path = format!("/api/v1/grants/{}/revoke", encode(&reference));
            let res = client(&node)?.send_json(Method::POST, &path, &body).await?;
            let g = &res["grant"];
            println!(
                "已收回 / revoked {} {}：已收回 {} / {} 项 — 条目 / entry {}",
                s(&g["ref"]),
                s(&g["doc_no"]),
                g["items_revoked"],
                g["items"],
                entry_text(&res)
            );
            Ok(())
        }
        GrantCommand::Extend { reference, months, reason, node } => {
            let path = format!("/api/v1/grants/{}/extend", encode(&reference));
            let res =
                client(&node)?.send_json(Method::POST, &path, &json!({ "months": months, "reason": reason })).await?;
            let g = &res["grant"];
            println!(
                "已延长 / extended {} 培训指导期至 {} — 条目 / entry {}",
                s(&g["ref"]),
                s(&g["training_until"]),
                entry_text(&res)
            );
            Ok(())
        }
        GrantCommand::Export { format, role, out, node } => {
            let path = format!(
                "/api/v1/grants/export?format={}&role={}",
                encode(&format),
                encode(role.as_deref().unwrap_or("all"))
            );
            if format == "xlsx" {
                let Some(out) = out else {
                    bail!("xlsx 是二进制文件，请加 --out 赋权登记.xlsx / an .xlsx is binary: give --out FILE.xlsx");
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

async fn issue(
    file: PathBuf,
    [doc_no, title, issued, grantee]: [Option<String>; 4],
    training_months: Option<u32>,
    node: NodeArgs,
) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let format = ImportFormat::from_file_name(&name).with_context(|| {
        format!("{name}: 文件应为 .json、.csv、.xlsx 或 .xls / expected .json, .csv, .xlsx or .xls")
    })?;
    let progress = crate::progress::spinner(format!("读取并解析 {name}……"));
    let mut body = match format {
        ImportFormat::Json => read_json(&file)?,
        ImportFormat::Csv | ImportFormat::Xlsx | ImportFormat::Xls => {
            let bytes = std::fs::read(&file).with_context(|| format!("无法读取 {name} / cannot read file"))?;
            let items = quanze_domain::parse_grant_sheet(format, &bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let (Some(_), Some(_), Some(_)) = (&doc_no, &title, &grantee) else {
                bail!(
                    "{name}: 事项表须用 --doc-no、--title 和 --grantee 给出文号、标题和承接方 / a sheet needs --doc-no, --title and --grantee"
                );
            };
            json!({ "items": items })
        }
    };
    let obj = body.as_object_mut().with_context(|| format!("{name}: 应为 JSON 对象 / expected a JSON object"))?;
    for (key, v) in [("doc_no", doc_no), ("title", title), ("issued", issued), ("grantee", grantee)] {
        if let Some(v) = v {
            obj.insert(key.into(), json!(v));
        }
    }
    if let Some(m) = training_months {
        obj.insert("training_months".into(), json!(m));
    }
    if !obj.contains_key("issued") {
        obj.insert("issued".into(), json!(crate::clock::process_clock().today().to_string()));
    }
    if !obj.contains_key("training_months") {
        obj.insert("training_months".into(), json!(3));
    }
    progress.set_message(format!(
        "提交赋权{}，节点对照本级清单检查并签名中……",
        crate::progress::rows_text(body["items"].as_array().map(Vec::len), "项")
    ));
    let res = client(&node)?.send_json(Method::POST, "/api/v1/grants", &body).await.with_context(|| name.clone());
    progress.finish_and_clear();
    let res = res?;
    let g = &res["grant"];
    println!(
        "已赋权 / issued {} {}：向 {} 赋权 {} 项，交接期限 {}，培训指导期至 {} — 条目 / entry {}",
        s(&res["ref"]),
        s(&g["doc_no"]),
        s(&g["grantee"]),
        g["items"],
        s(&g["handover_due"]),
        s(&g["training_until"]),
        entry_text(&res)
    );
    Ok(())
}
