//! `quanze calendar`, `quanze policy`, `quanze request`: working days, the node's filing
//! window, and adjustment filings.
//!
//! Owns these three commands only. `calendar due|is-workday|years` ask the node of the data
//! directory (`GET /api/v1/calendar…`); when that node is not running they read the calendar
//! from its database (read-only), and when there is no node at all they use the arrangements
//! built into this binary and say so on stderr. Every write (`calendar publish`, `policy set`,
//! `request file`) goes through the running node's API with the operator token: the CLI never
//! writes the database and never counts days itself when a node can answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use quanze_domain::calendar::{Calendar, CalendarError, DayUnit, HolidayYear, Window};
use quanze_domain::requests::Trigger;
use quanze_store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use super::{client, load_config};
use crate::cli::NodeArgs;
use crate::client::{NodeClient, is_unreachable};
use crate::config::{CONFIG_FILE, Config};

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print the due date (YYYY-MM-DD) of a time limit counted from a day; the day itself is not
    /// counted, and a period ending on a holiday ends on the next working day.
    Due {
        /// The day the period starts from, e.g. 2025-09-28.
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        /// Length of the period.
        #[arg(long)]
        days: u32,
        /// working | calendar (or 工作日 | 自然日).
        #[arg(long, default_value = "working", value_parser = parse_unit)]
        unit: DayUnit,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Print `true` when the day is a working day, `false` otherwise.
    IsWorkday {
        /// The day, e.g. 2025-10-01.
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The holiday arrangements held, one line a year.
    Years {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Publish one year's arrangement (a JSON file like the built-in ones); root of trust only.
    Publish {
        /// `{"year": 2027, "notice": "…", "holidays": [{"name","from","to"}…], "workdays": [...]}`
        file: PathBuf,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the window departments have to file an adjustment request in.
    Show {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Set that window, e.g. `--request-window-days 7 --unit calendar`.
    Set {
        #[arg(long)]
        request_window_days: u32,
        /// working | calendar (or 工作日 | 自然日).
        #[arg(long, default_value = "working", value_parser = parse_unit)]
        unit: DayUnit,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Record a department's adjustment request (调整申请), dated today.
    File {
        /// The applying department, e.g. 区市场监管局.
        #[arg(long)]
        department: String,
        /// new_power | government_decision | basis_changed | restructuring |
        /// information_changed | other (or the Chinese label).
        #[arg(long, value_parser = parse_trigger)]
        trigger: Trigger,
        /// The day the change happened (变更之日).
        #[arg(long, value_parser = parse_date)]
        trigger_date: NaiveDate,
        /// What is to be adjusted.
        #[arg(long)]
        summary: String,
        /// Item codes concerned, comma separated.
        #[arg(long, value_delimiter = ',')]
        codes: Vec<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The requests filed, with due dates; late ones flagged.
    List {
        /// Only late requests.
        #[arg(long)]
        late: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    s.trim().parse().map_err(|_| format!("日期 “{s}” 无效，应为 YYYY-MM-DD / invalid date, expected YYYY-MM-DD"))
}

fn parse_unit(s: &str) -> Result<DayUnit, String> {
    s.parse().map_err(|e: quanze_domain::calendar::UnknownDayUnit| e.to_string())
}

fn parse_trigger(s: &str) -> Result<Trigger, String> {
    s.parse()
}

pub async fn calendar(cmd: CalendarCommand) -> anyhow::Result<()> {
    match cmd {
        CalendarCommand::Due { from, days, unit, node } => {
            if days == 0 {
                bail!("参数 --days 必须至少为 1 / --days must be at least 1");
            }
            let window = Window { days, unit };
            let path = format!("/api/v1/calendar/due?from={from}&days={days}&unit={unit}");
            let due = ask(&node, &path, |v| v["due"].as_str()?.parse().ok(), |cal| cal.due_date(from, window))
                .await
                .with_context(|| {
                    format!("无法计算到期日（--from {from} --days {days} --unit {unit}）/ cannot compute the due date")
                })?;
            println!("{due}");
        }
        CalendarCommand::IsWorkday { date, node } => {
            let path = format!("/api/v1/calendar/workday?date={date}");
            let workday =
                ask(&node, &path, |v| v["workday"].as_bool(), |cal| cal.is_workday(date)).await.with_context(|| {
                    format!("无法判断 {date} 是否为工作日 / cannot tell whether {date} is a working day")
                })?;
            println!("{workday}");
        }
        CalendarCommand::Years { json, node } => {
            let years = ask(
                &node,
                "/api/v1/calendar",
                |v| serde_json::from_value::<Vec<HolidayYear>>(v["years"].clone()).ok(),
                |cal| Ok(cal.years().into_iter().filter_map(|y| cal.year(y).cloned()).collect()),
            )
            .await
            .context("无法读取节假日安排 / cannot read the holiday arrangements")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&json!({ "years": years }))?);
            } else {
                print_years(&years);
            }
        }
        CalendarCommand::Publish { file, node } => {
            let year = read_year(&file)?;
            let body = serde_json::to_value(&year)?;
            let res = client(&node)?
                .send_json(Method::POST, "/api/v1/calendar/years", &body)
                .await
                .with_context(|| format!("{}: 发布失败 / not published", file.display()))?;
            println!(
                "已发布 {} 年节假日安排（{}，放假 {} 段，调休上班 {} 天）/ arrangement published — 条目 / entry {}",
                year.year,
                year.notice,
                year.holidays.len(),
                year.workdays.len(),
                entry_text(&res)
            );
        }
    }
    Ok(())
}

pub async fn policy(cmd: PolicyCommand) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::Show { json, node } => {
            let res = client(&node)?.get_json("/api/v1/policy").await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
            } else {
                let window: Window = serde_json::from_value(res["request_window"].clone())
                    .context("节点返回的时限无法识别 / the node answered an unknown window")?;
                println!("调整申请时限 / request window: {}", window_text(window));
            }
        }
        PolicyCommand::Set { request_window_days, unit, node } => {
            if request_window_days == 0 {
                bail!("参数 --request-window-days 必须至少为 1 / --request-window-days must be at least 1");
            }
            let window = Window { days: request_window_days, unit };
            let res = client(&node)?
                .send_json(Method::PUT, "/api/v1/policy", &json!({ "request_window": window }))
                .await
                .context("无法设置调整申请时限 / cannot set the request window")?;
            println!(
                "已设置调整申请时限 / request window set: {} — 条目 / entry {}",
                window_text(window),
                entry_text(&res)
            );
        }
    }
    Ok(())
}

pub async fn request(cmd: RequestCommand) -> anyhow::Result<()> {
    match cmd {
        RequestCommand::File { department, trigger, trigger_date, summary, codes, node } => {
            let codes: Vec<String> =
                codes.into_iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
            let body = json!({
                "department": department,
                "trigger": trigger,
                "trigger_date": trigger_date,
                "summary": summary,
                "codes": codes,
            });
            let res = client(&node)?
                .send_json(Method::POST, "/api/v1/filings", &body)
                .await
                .context("调整申请未登记 / filing not recorded")?;
            let r = &res["request"];
            println!("已登记调整申请 / filing recorded: #{} {department}，{}", res["entry"]["seq"], trigger.label());
            match r["due"].as_str() {
                Some(due) => {
                    let late = r["late_days"].as_i64().unwrap_or(0);
                    let status = if late > 0 {
                        format!("已逾期 {late} 个工作日 / late by {late} working days")
                    } else {
                        "未逾期 / on time".to_string()
                    };
                    println!("  应于 {due} 前提出 / due {due}：{status}");
                }
                None => println!(
                    "  无法计算到期日 / due date unknown: {}",
                    r["calendar_error"].as_str().unwrap_or("节假日安排缺失 / calendar missing")
                ),
            }
            println!("  条目 / entry {}", entry_text(&res));
        }
        RequestCommand::List { late, json, node } => {
            let path = if late { "/api/v1/filings?late=true" } else { "/api/v1/filings" };
            let res = client(&node)?.get_json(path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&res)?);
            } else {
                print_requests(&res);
            }
        }
    }
    Ok(())
}

/// Asks the node of the data directory (`path`, read with `answer`); when the node is not
/// running, answers with `local` on the calendar in its database; without a node, on the
/// built-in calendar.
async fn ask<T>(
    node: &NodeArgs,
    path: &str,
    answer: impl FnOnce(&Value) -> Option<T>,
    local: impl FnOnce(&Calendar) -> Result<T, CalendarError>,
) -> anyhow::Result<T> {
    if !node.data_dir.join(CONFIG_FILE).is_file() {
        let years = Calendar::builtin().years();
        let (first, last) = (years.first().copied().unwrap_or_default(), years.last().copied().unwrap_or_default());
        eprintln!("（未找到节点，使用本版本内置的节假日安排 {first}–{last} / no node here: built-in calendar）");
        return Ok(local(&Calendar::builtin())?);
    }
    let config = load_config(node)?;
    let node_client = NodeClient::for_config(&config, node.node_url.as_deref())?;
    match node_client.get_json(path).await {
        Ok(v) => answer(&v).with_context(|| format!("节点的回答无法识别 / unexpected answer from the node: {v}")),
        Err(e) if is_unreachable(&e) => {
            eprintln!(
                "（节点未运行，使用其数据目录中的节假日安排 / node not running: calendar from its data directory）"
            );
            Ok(local(&stored_calendar(&config).await?)?)
        }
        Err(e) => Err(e),
    }
}

/// The calendar held in the database of a node that is not running.
async fn stored_calendar(config: &Config) -> anyhow::Result<Calendar> {
    let store = Store::open_read_only(&config.database())
        .await
        .with_context(|| format!("无法打开节点数据库 {} / cannot open the node's database", config.database()))?;
    let calendar = store.calendar().await;
    store.close().await;
    Ok(calendar?)
}

fn read_year(path: &Path) -> anyhow::Result<HolidayYear> {
    let name = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("无法读取 {name} / cannot read"))?;
    let year: HolidayYear = serde_json::from_str(&text)
        .with_context(|| format!("{name}: 不是有效的节假日安排 JSON / not a HolidayYear"))?;
    year.validate().with_context(|| format!("{name}: 节假日安排有误 / invalid arrangement"))?;
    Ok(year)
}

fn window_text(w: Window) -> String {
    let en = match w.unit {
        DayUnit::Working => "working days",
        DayUnit::Calendar => "calendar days",
    };
    format!("{w}（{} {en}）", w.days)
}

fn entry_text(res: &Value) -> String {
    let e = &res["entry"];
    format!("{}#{} {}", e["origin"].as_str().unwrap_or("?"), e["seq"], e["hash"].as_str().unwrap_or(""))
}

fn print_years(years: &[HolidayYear]) {
    if years.is_empty() {
        println!("（尚无节假日安排 / no holiday arrangements held）");
        return;
    }
    println!("{} {} {} 通知文号 / notice", pad("年份", 6), pad("放假安排", 10), pad("调休上班", 10));
    for y in years {
        println!(
            "{} {} {} {}",
            pad(&y.year.to_string(), 6),
            pad(&y.holidays.len().to_string(), 10),
            pad(&y.workdays.len().to_string(), 10),
            y.notice
        );
    }
}

/// `s` padded with spaces to `width` terminal columns (a CJK or full-width character takes two).
fn pad(s: &str, width: usize) -> String {
    let used: usize = s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

fn print_requests(res: &Value) {
    let rows = res["requests"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        println!("（没有调整申请 / no filings）");
    } else {
        println!(
            "{} {} {} {} {} {} 状态 / status",
            pad("序号", 6),
            pad("申请部门", 20),
            pad("调整情形", 28),
            pad("变更日期", 10),
            pad("申请日期", 10),
            pad("到期日", 10)
        );
    }
    let s = |v: &Value| v.as_str().unwrap_or("—").to_string();
    for r in &rows {
        let trigger = r["trigger"].as_str().and_then(|t| t.parse::<Trigger>().ok()).map_or("?", |t| t.label());
        let status = match (r["late"].as_bool(), r["late_days"].as_i64()) {
            (Some(true), Some(n)) => format!("逾期 {n} 个工作日 / {n} working days late"),
            (Some(false), _) => "按时 / on time".to_string(),
            _ => format!("无法计算 / unknown: {}", s(&r["calendar_error"])),
        };
        println!(
            "{} {} {} {} {} {} {status}",
            pad(&r["seq"].to_string(), 6),
            pad(&s(&r["department"]), 20),
            pad(trigger, 28),
            pad(&s(&r["trigger_date"]), 10),
            pad(&s(&r["filed_on"]), 10),
            pad(&s(&r["due"]), 10),
        );
    }
    if let Some(e) = res["calendar_error"].as_str() {
        eprintln!("提示 / note: {e}");
    }
}
