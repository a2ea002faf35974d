//! `quanze catalogue …` (publish a catalogue change, list and show publications, the effective
//! catalogue) and `quanze recon …` (this node's tasks, the proposed diff, adopt / deviate / not
//! applicable, and the status table of every descendant). Everything goes through the running
//! node's API; this file reads files, builds request bodies and prints tables.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use quanze_domain::import::{ImportFormat, parse_items};
use reqwest::Method;
use serde_json::{Value, json};

use super::client;
use super::grants::s;
use super::items::{encode, entry_text, read_json};
use crate::cli::NodeArgs;

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Publish a catalogue change for lower tiers as one signed entry. FILE is a publication
    /// (JSON) or a change sheet (CSV or Excel .xlsx/.xls: 调整方式, 事项编码, 行使层级, 调整理由,
    /// 关联编码 and the item columns), with the document given by the flags.
    Publish(PublishArgs),
    /// Publications this node holds.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One publication: header and what it requires of each tier.
    Show {
        /// origin#seq (e.g. 510000#13) or the document number.
        reference: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The catalogue items that apply to this node.
    Items {
        /// Also cancelled items and items exercised at other tiers.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    pub file: PathBuf,
    /// 文号, e.g. 川委办〔2015〕17号 (required for a sheet; overrides the JSON's).
    #[arg(long)]
    pub doc_no: Option<String>,
    /// Title of the document.
    #[arg(long)]
    pub title: Option<String>,
    /// Publication date (the window starts here); default today.
    #[arg(long)]
    pub published: Option<String>,
    /// Effective date; default the publication date.
    #[arg(long)]
    pub effective: Option<String>,
    /// Tiers that must reconcile, e.g. 市,县,乡镇; default every tier below this node.
    #[arg(long, value_delimiter = ',')]
    pub tiers: Vec<String>,
    /// Window length; default 20.
    #[arg(long)]
    pub window_days: Option<u32>,
    /// working (工作日, default) or calendar (自然日).
    #[arg(long)]
    pub window_unit: Option<String>,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Args)]
pub struct ReconArgs {
    #[command(subcommand)]
    pub command: Option<ReconCommand>,
    /// Print JSON (for the task list).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReconCommand {
    /// The proposed diff of this node's list against a publication.
    Show {
        /// origin#seq or document number.
        reference: String,
        #[arg(long)]
        json: bool,
    },
    /// Adopt: bring the list in line (one entry referencing the publication).
    Adopt {
        reference: String,
        /// Only these codes (comma separated); default every unresolved one.
        #[arg(long, value_delimiter = ',')]
        items: Vec<String>,
        /// A list file (CSV, Excel .xlsx/.xls or JSON) with local elements (implementing body, contacts, a
        /// shorter promised limit, …) for codes being adopted.
        #[arg(long)]
        local: Option<PathBuf>,
    },
    /// Deviate: keep the list different for some codes, with the reason and the legal basis.
    Deviate {
        reference: String,
        /// Codes (comma separated); default every unresolved one.
        #[arg(long, value_delimiter = ',')]
        items: Vec<String>,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        basis: String,
    },
    /// Not applicable to this node, with the reason.
    NotApplicable {
        reference: String,
        #[arg(long)]
        reason: String,
    },
    /// Every descendant's task for a publication: due date, status, days left or overdue.
    Status {
        #[arg(long)]
        publication: String,
        /// Judge on this day instead of today (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn catalogue(cmd: CatalogueCommand) -> anyhow::Result<()> {
    match cmd {
        CatalogueCommand::Publish(args) => publish(args).await,
        CatalogueCommand::List { json, node } => {
            let res = client(&node)?.get_json("/api/v1/catalogue/publications").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            println!(
                "{:<16} {:<24} {:<11} {:<12} {:>5}  标题 / title",
                "公布 / ref", "文号 / doc no", "公布日期", "期限", "调整"
            );
            for p in res["publications"].as_array().into_iter().flatten() {
                println!(
                    "{:<16} {:<24} {:<11} {:<12} {:>5}  {}",
                    s(&p["ref"]),
                    s(&p["doc_no"]),
                    s(&p["published"]),
                    window_text(&p["window"]),
                    p["changes"],
                    s(&p["title"])
                );
            }
            Ok(())
        }
        CatalogueCommand::Show { reference, json, node } => {
            let p = client(&node)?.get_json(&format!("/api/v1/catalogue/publications/{}", encode(&reference))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
                return Ok(());
            }
            println!("{} {}  {}", s(&p["ref"]), s(&p["doc_no"]), s(&p["title"]));
            println!(
                "公布 {}，施行 {}，期限 {}，对标层级 {}",
                s(&p["published"]),
                s(&p["effective"]),
                window_text(&p["window"]),
                p["tiers"]
            );
            for r in p["requirements"].as_array().into_iter().flatten() {
                let what = if r["expect"] == "present" {
                    format!("应在用：{}", s(&r["item"]["name"]))
                } else {
                    format!("应取消：{}", s(&r["reason"]))
                };
                println!("  {:<14} {:<24} {}", s(&r["code"]), tiers_text(&r["tiers"]), what);
            }
            Ok(())
        }
        CatalogueCommand::Items { all, json, node } => {
            let res = client(&node)?.get_json(&format!("/api/v1/catalogue?all={all}")).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            println!(
                "{:<14} {:<8} {:<10} {:<16} {:<11} 事项名称 / name",
                "事项编码", "公布方", "状态", "行使层级", "施行"
            );
            for i in res["items"].as_array().into_iter().flatten() {
                let force =
                    if i["in_force"] == true { s(&i["effective"]) } else { format!("{}起", s(&i["effective"])) };
                println!(
                    "{:<14} {:<8} {:<10} {:<16} {:<11} {}",
                    s(&i["code"]),
                    s(&i["publisher"]),
                    s(&i["status"]),
                    tiers_text(&i["tiers"]),
                    force,
                    s(&i["name"])
                );
            }
            println!("共 {} 项 / items", res["total"]);
            Ok(())
        }
    }
}

async fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let progress = crate::progress::spinner(format!("读取 {name}……"));
    let format = ImportFormat::from_file_name(&name).with_context(|| {
        format!("{name}: 文件应为 .json、.csv、.xlsx 或 .xls / expected .json, .csv, .xlsx or .xls")
    })?;
    let mut body = match format {
        ImportFormat::Json => read_json(&args.file)?,
        ImportFormat::Csv | ImportFormat::Xlsx | ImportFormat::Xls => {
            progress.set_message(format!("解析调整表 {name}……"));
            let bytes = std::fs::read(&args.file).with_context(|| format!("无法读取 {name} / cannot read file"))?;
            let changes = if format.is_workbook() {
                quanze_domain::parse_catalogue_workbook(&bytes)
            } else {
                quanze_domain::parse_catalogue_csv(&bytes)
            }
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let (Some(_), Some(_)) = (&args.doc_no, &args.title) else {
                bail!("{name}: 调整表须用 --doc-no 和 --title 给出文号和标题 / a sheet needs --doc-no and --title");
            };
            json!({ "changes": changes })
        }
    };
    let obj = body.as_object_mut().with_context(|| format!("{name}: 应为 JSON 对象 / expected a JSON object"))?;
    let today = crate::clock::process_clock().today().to_string();
    let set = |obj: &mut serde_json::Map<String, Value>, key: &str, v: Option<Value>| {
        if let Some(v) = v {
            obj.insert(key.into(), v);
        }
    };
    set(obj, "doc_no", args.doc_no.map(Value::from));
    set(obj, "title", args.title.map(Value::from));
    set(obj, "published", args.published.map(Value::from));
    set(obj, "effective", args.effective.map(Value::from));
    if !obj.contains_key("published") {
        obj.insert("published".into(), json!(today));
    }
    if !obj.contains_key("effective") {
        let published = obj["published"].clone();
        obj.insert("effective".into(), published);
    }
    if !args.tiers.is_empty() {
        let tiers: Vec<quanze_domain::Tier> = args
            .tiers
            .iter()
            .map(|t| t.parse().map_err(|e: quanze_domain::tier::UnknownTier| anyhow::anyhow!("--tiers: {e}")))
            .collect::<anyhow::Result<_>>()?;
        obj.insert("tiers".into(), json!(tiers));
    }
    if args.window_days.is_some() || args.window_unit.is_some() {
        let unit: quanze_domain::calendar::DayUnit = args
            .window_unit
            .as_deref()
            .unwrap_or("working")
            .parse()
            .map_err(|e| anyhow::anyhow!("--window-unit: {e}"))?;
        obj.insert("window".into(), json!({ "days": args.window_days.unwrap_or(20), "unit": unit }));
    }
    let api = client(&args.node)?;
    if !obj.contains_key("tiers") {
        let info = api.get_json("/api/v1/node").await?;
        let mine: quanze_domain::Tier = serde_json::from_value(info["tier"].clone())?;
        let below: Vec<_> = quanze_domain::Tier::ALL.into_iter().filter(|t| *t > mine).collect();
        obj.insert("tiers".into(), json!(below));
    }
    let count = body["changes"].as_array().map(Vec::len);
    progress
        .set_message(format!("提交{}，节点推算各层级对标要求并签名中……", crate::progress::rows_text(count, "项调整")));
    let res = api.send_json(Method::POST, "/api/v1/catalogue/publications", &body).await.with_context(|| name.clone());
    progress.finish_and_clear();
    let res = res?;
    let p = &res["publication"];
    println!(
        "已公布 / published {} {}：{} 项调整，各层级须对标事项 {}，期限 {} — 条目 / entry {}",
        s(&res["ref"]),
        s(&p["doc_no"]),
        p["changes"],
        required_text(&p["required_by_tier"]),
        window_text(&p["window"]),
        entry_text(&res)
    );
    Ok(())
}

pub async fn recon(args: ReconArgs) -> anyhow::Result<()> {
    let api = client(&args.node)?;
    let Some(command) = args.command else {
        let res = api.get_json("/api/v1/recon").await?;
        let late = api.get_json("/api/v1/filings?late=true").await.unwrap_or(Value::Null);
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "tasks": res["tasks"], "late_requests": late["requests"] }))?
            );
            return Ok(());
        }
        println!("对标任务（{}）/ reconciliation tasks", s(&res["today"]));
        println!(
            "{:<16} {:<24} {:<11} {:<8} {:<26} 标题 / title",
            "公布 / ref", "文号 / doc no", "截止 / due", "进度", "状态 / status"
        );
        for t in res["tasks"].as_array().into_iter().flatten() {
            let (p, task) = (&t["publication"], &t["task"]);
            println!(
                "{:<16} {:<24} {:<11} {:<8} {:<26} {}",
                s(&p["ref"]),
                s(&p["doc_no"]),
                s(&task["due"]),
                format!("{}/{}", task["resolved"], task["required"]),
                s(&task["label"]),
                s(&p["title"])
            );
        }
        let late: Vec<&Value> = late["requests"].as_array().into_iter().flatten().collect();
        if !late.is_empty() {
            println!("\n逾期提出的调整申请 / applications filed late");
            for r in late {
                println!(
                    "  #{} {} 变更日 {} 申请日 {} 截止 {} 迟 {} 个工作日：{}",
                    r["seq"],
                    s(&r["department"]),
                    s(&r["trigger_date"]),
                    s(&r["filed_on"]),
                    s(&r["due"]),
                    r["late_days"],
                    s(&r["summary"])
                );
            }
        }
        return Ok(());
    };
    match command {
        ReconCommand::Show { reference, json } => {
            let res = api.get_json(&format!("/api/v1/recon/{}", encode(&reference))).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            let (p, task) = (&res["publication"], &res["task"]);
            println!("{} {} {}", s(&p["ref"]), s(&p["doc_no"]), s(&p["title"]));
            println!("截止 / due {}：{}", s(&task["due"]), s(&task["label"]));
            println!("{:<14} {:<10} {:<10} {:<10} 说明 / detail", "事项编码", "目录要求", "建议操作", "处理");
            for d in res["diff"].as_array().into_iter().flatten() {
                let detail = match d["action"].as_str() {
                    Some("add") => format!("新增 {}", s(&d["item"]["name"])),
                    Some("update") => format!("统一要素：{}", patch_fields(&d["patch"])),
                    Some("cancel") => s(&d["reason"]),
                    Some("blocked") => s(&d["reason"]),
                    _ => String::new(),
                };
                let expect = if d["expect"] == "present" { "在用" } else { "取消/下放" };
                println!(
                    "{:<14} {:<10} {:<10} {:<10} {}",
                    s(&d["code"]),
                    expect,
                    action_label(d["action"].as_str().unwrap_or("")),
                    resolution_label(d["resolution"].as_str()),
                    detail
                );
            }
        }
        ReconCommand::Adopt { reference, items, local } => {
            let local_items = match &local {
                None => Vec::new(),
                Some(path) => {
                    let name = path.display().to_string();
                    let format = ImportFormat::from_file_name(&name).with_context(|| {
                        format!("{name}: 文件应为 .json、.csv、.xlsx 或 .xls / expected .json, .csv, .xlsx or .xls")
                    })?;
                    let bytes = std::fs::read(path).with_context(|| format!("无法读取 {name} / cannot read file"))?;
                    parse_items(format, &bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?.items
                }
            };
            let body = json!({ "codes": items, "local": local_items });
            let res =
                api.send_json(Method::POST, &format!("/api/v1/recon/{}/adopt", encode(&reference)), &body).await?;
            let adopted = res["adopted"].as_array().map_or(0, Vec::len);
            println!(
                "已对标 / adopted {} 项（{} 个清单操作）— 条目 / entry {}",
                adopted,
                res["item_ops"],
                entry_text(&res)
            );
        }
        ReconCommand::Deviate { reference, items, reason, basis } => {
            let body = json!({ "codes": items, "reason": reason, "basis": basis });
            let res =
                api.send_json(Method::POST, &format!("/api/v1/recon/{}/deviate", encode(&reference)), &body).await?;
            println!("已说明差异 / deviation recorded — 条目 / entry {}", entry_text(&res));
        }
        ReconCommand::NotApplicable { reference, reason } => {
            let path = format!("/api/v1/recon/{}/not-applicable", encode(&reference));
            let res = api.send_json(Method::POST, &path, &json!({ "reason": reason })).await?;
            println!("已标记不适用 / marked not applicable — 条目 / entry {}", entry_text(&res));
        }
        ReconCommand::Status { publication, as_of, json } => {
            let mut path = format!("/api/v1/recon/{}/status", encode(&publication));
            if let Some(d) = as_of {
                path.push_str(&format!("?as_of={}", encode(&d)));
            }
            let res = api.get_json(&path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
                return Ok(());
            }
            print_status(&res);
        }
    }
    Ok(())
}

fn print_status(res: &Value) {
    let p = &res["publication"];
    println!("{} {} {}（{}）", s(&p["ref"]), s(&p["doc_no"]), s(&p["title"]), s(&res["as_of"]));
    println!(
        "{:<10} {:<16} {:<6} {:<11} {:<16} {:>10} {:>8}",
        "区划", "名称", "层级", "截止", "状态", "剩余/逾期", "进度"
    );
    for n in res["nodes"].as_array().into_iter().flatten() {
        let days = match (n["days_left"].as_i64(), n["days_overdue"].as_i64(), n["late_days"].as_i64()) {
            (Some(l), _, _) => format!("剩 {l}"),
            (_, Some(o), _) => format!("逾 {o}"),
            (_, _, Some(l)) if l > 0 => format!("迟 {l}"),
            _ => "-".into(),
        };
        let tier: Option<quanze_domain::Tier> = serde_json::from_value(n["tier"].clone()).ok();
        println!(
            "{:<10} {:<16} {:<6} {:<11} {:<16} {:>10} {:>8}",
            s(&n["division"]),
            s(&n["name"]),
            tier.map_or("?", |t| t.label()),
            s(&n["due"]),
            n["status"].as_str().map_or("?", status_label),
            days,
            format!("{}/{}", n["resolved"], n["required"])
        );
        if let Some(reason) = n["reason"].as_str() {
            println!("{:<10} 理由 / reason: {reason}", "");
        }
    }
    let counts = res["counts"]
        .as_object()
        .map(|c| c.iter().map(|(k, v)| format!("{} {v}", status_label(k))).collect::<Vec<_>>().join("，"));
    println!("合计 / total: {}", counts.unwrap_or_default());
}

fn window_text(w: &Value) -> String {
    let unit = if w["unit"] == "calendar" { "日" } else { "个工作日" };
    format!("{}{unit}", w["days"])
}

fn tiers_text(t: &Value) -> String {
    t.as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| serde_json::from_value::<quanze_domain::Tier>(t.clone()).ok())
        .map(|t| t.label())
        .collect::<Vec<_>>()
        .join("、")
}

/// `市 50、县 50` from `{"city": 50, "county": 50}`.
fn required_text(v: &Value) -> String {
    let parts: Vec<String> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, n)| k.parse::<quanze_domain::Tier>().ok().map(|t| format!("{} {n}", t.label())))
        .collect();
    parts.join("、")
}

fn patch_fields(p: &Value) -> String {
    p.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join("、")).unwrap_or_default()
}

fn action_label(a: &str) -> &'static str {
    match a {
        "add" => "新增",
        "update" => "调整要素",
        "cancel" => "取消",
        "blocked" => "需说明差异",
        _ => "无需调整",
    }
}

fn resolution_label(r: Option<&str>) -> &'static str {
    match r {
        Some("adopted") => "已对标",
        Some("deviated") => "有差异",
        Some("not_applicable") => "不适用",
        _ => "待处理",
    }
}

fn status_label(k: &str) -> &'static str {
    match k {
        "open" => "待对标",
        "adopted" => "已对标",
        "deviated" => "有差异（已说明）",
        "not_applicable" => "不适用",
        "overdue" => "已逾期",
        _ => "未知",
    }
}
