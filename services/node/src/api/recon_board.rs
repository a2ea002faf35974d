//! The reconciliation board of a publication (对账看板): every node of an affected tier at or
//! below this node and below the publisher, with its due date, status and working days left or
//! overdue, and the counts by status.
//!
//! Owns `board` — the one computation behind `GET /recon/{ref}/status` (JSON, or `format=xlsx`
//! for the export) and the console's board page — and the export's table. The status of a task
//! is `recon::task_line`'s (the domain's `assess`); nothing here judges a task another way. Reads
//! only: never writes, signs or touches SQL.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quanze_domain::import::{escape_formula, table_to_xlsx};
use quanze_domain::{DivisionCode, TaskStatus, Tier};
use quanze_store::{PublicationRow, TaskRow};
use serde::Deserialize;
use serde_json::json;

use utoipa::IntoParams;

use super::error::{ApiError, QueryParams};
use super::recon::{find_publication, summary};
use super::recon_tasks::task_line;
use crate::state::Node;

pub use super::recon::ref_text;
pub use super::recon_tasks::TaskLine;

/// Key of a line whose due date could not be computed (a year missing from the calendar).
pub const UNKNOWN: &str = "unknown";

/// The status filters a board offers, in display order: key and Chinese label.
pub const STATUS_FILTERS: [(&str, &str); 6] = [
    ("open", "待对标"),
    ("overdue", "已逾期"),
    ("adopted", "已对标"),
    ("deviated", "有差异（已说明）"),
    ("not_applicable", "不适用"),
    (UNKNOWN, "无法计算期限"),
];

/// The board of one publication on one day.
#[derive(Debug)]
pub struct Board {
    pub publication: PublicationRow,
    pub as_of: NaiveDate,
    /// Every node that must reconcile, by tier then division.
    pub lines: Vec<TaskLine>,
    /// Number of lines per status key (`open`, `overdue`, …, `unknown`).
    pub counts: BTreeMap<&'static str, usize>,
}

impl Board {
    /// The lines with status key `status` (all lines for `None`).
    pub fn lines_with(&self, status: Option<&str>) -> Vec<&TaskLine> {
        self.lines.iter().filter(|l| status.is_none_or(|s| status_key(l) == s)).collect()
    }
}

/// The status key of a line (`unknown` when the calendar could not judge it).
pub fn status_key(line: &TaskLine) -> &'static str {
    line.status.map_or(UNKNOWN, TaskStatus::key)
}

/// A status filter from a query: `None` for empty or `all`; 400 for an unknown key.
pub fn status_filter(q: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match q.map(str::trim).filter(|s| !s.is_empty() && *s != "all") {
        None => Ok(None),
        Some(s) => STATUS_FILTERS.iter().find(|(k, _)| *k == s).map(|(k, _)| Some(*k)).ok_or_else(|| {
            let keys: Vec<&str> = STATUS_FILTERS.iter().map(|(k, _)| *k).collect();
            ApiError::bad_query(format!(
                "status 应为 {} 之一，而不是 “{s}” / status must be one of {}",
                keys.join("、"),
                keys.join(", ")
            ))
        }),
    }
}

/// A judging day from a query (`None` for empty): 400 when it is no date.
pub fn as_of_date(q: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_query(format!("as_of “{s}” 不是日期（YYYY-MM-DD）/ bad date"))),
    }
}

/// The board of the publication `reference` (origin#seq or document number), judged on
/// `as_of` (default today).
pub async fn board(node: &Node, reference: &str, as_of: Option<NaiveDate>) -> Result<Board, ApiError> {
    let p = find_publication(node, reference, false).await?;
    let today = as_of.unwrap_or_else(|| node.today());
    let me = node.division().clone();
    let publisher = p.pub_ref.origin.clone();
    let mut nodes: BTreeMap<String, (String, Tier)> = BTreeMap::new();
    for e in node.store().enrolments(None).await? {
        let Ok(division) = DivisionCode::parse(&e.division) else { continue };
        let below_publisher = division != publisher && division.is_within(&publisher);
        if below_publisher && division.is_within(&me) && p.tiers.contains(&division.tier()) {
            // Rows come ordered by valid_from: the last name given wins.
            let name = if e.name.is_empty() {
                nodes.get(&e.division).map(|n| n.0.clone()).unwrap_or_default()
            } else {
                e.name
            };
            nodes.insert(e.division.clone(), (name, division.tier()));
        }
    }
    let tasks: HashMap<String, TaskRow> = node
        .store()
        .tasks_of_publication(&publisher, p.pub_ref.seq)
        .await?
        .into_iter()
        .map(|t| (t.node.clone(), t))
        .collect();
    let cal = node.store().calendar().await?;
    let mut lines: Vec<TaskLine> = nodes
        .into_iter()
        .map(|(division, (name, tier))| {
            let task = tasks.get(&division);
            task_line(&cal, &p, (division, name, tier), task, today)
        })
        .collect();
    lines.sort_by(|a, b| (a.tier, &a.division).cmp(&(b.tier, &b.division)));
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for l in &lines {
        *counts.entry(status_key(l)).or_default() += 1;
    }
    Ok(Board { publication: p, as_of: today, lines, counts })
}

/// Working days left, overdue or late of a line, as a person reads it (empty when none).
pub fn days_text(line: &TaskLine) -> String {
    match (line.days_left, line.days_overdue, line.late_days) {
        (Some(0), _, _) => "今日到期".into(),
        (Some(n), _, _) => format!("剩余 {n} 个工作日"),
        (_, Some(n), _) => format!("逾期 {n} 个工作日"),
        (_, _, Some(0)) => "按期办结".into(),
        (_, _, Some(n)) => format!("迟 {n} 个工作日办结"),
        _ => String::new(),
    }
}

/// Headers of the exported board.
pub const EXPORT_HEAD: [&str; 14] = [
    "区划代码",
    "节点名称",
    "层级",
    "状态",
    "截止日期",
    "剩余工作日",
    "逾期工作日",
    "迟办工作日",
    "办结日期",
    "须对标事项",
    "已处理事项",
    "说明差异事项",
    "理由",
    "说明",
];

/// The export's rows: one a line, every cell text (guarded against formulas).
pub fn export_rows(lines: &[&TaskLine]) -> Vec<Vec<String>> {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    lines
        .iter()
        .map(|l| {
            [
                l.division.clone(),
                l.name.clone(),
                l.tier.label().to_string(),
                l.status.map_or("无法计算期限", TaskStatus::label).to_string(),
                l.due.map(|d| d.to_string()).unwrap_or_default(),
                num(l.days_left),
                num(l.days_overdue),
                num(l.late_days),
                l.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                l.required.to_string(),
                l.resolved.to_string(),
                l.deviated.to_string(),
                l.reason.clone(),
                l.calendar_error.clone().unwrap_or_else(|| days_text(l)),
            ]
            .into_iter()
            .map(escape_formula)
            .collect()
        })
        .collect()
}

/// File name of an exported board: the document number made safe for a file name.
pub fn export_name(p: &PublicationRow, as_of: NaiveDate) -> String {
    let doc: String = p
        .doc_no
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    format!("对账看板-{doc}-{as_of}.xlsx")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Judge open tasks on this day instead of today.
    as_of: Option<String>,
    /// Only the lines with this status key.
    status: Option<String>,
    /// `json` (default) or `xlsx`.
    format: Option<String>,
}

/// `GET /recon/{ref}/status[?as_of=&status=&format=xlsx]`: the board as JSON (the editorial
/// office's screen) or as an .xlsx workbook.
#[utoipa::path(get, path = "/recon/{reference}/status", tag = "recon", params(("reference" = String, Path, description = "The reference, e.g. a document number"), StatusQuery), responses((status = 200, description = "The board", content((Object = "application/json"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn status(
    State(node): State<Node>,
    Path(reference): Path<String>,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Response, ApiError> {
    let filter = status_filter(q.status.as_deref())?;
    let format = q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()).unwrap_or("json");
    if !matches!(format, "json" | "xlsx") {
        return Err(ApiError::bad_query(format!(
            "format 应为 json 或 xlsx，而不是 “{format}” / format must be json or xlsx"
        )));
    }
    let b = board(&node, &reference, as_of_date(q.as_of.as_deref())?).await?;
    let lines = b.lines_with(filter);
    if format == "xlsx" {
        let bytes = table_to_xlsx("对账看板", &EXPORT_HEAD, &export_rows(&lines)).map_err(ApiError::internal)?;
        let name = export_name(&b.publication, b.as_of);
        return Ok(super::public::download_response(bytes, super::items::XLSX_CONTENT_TYPE, &name));
    }
    Ok(Json(json!({
        "publication": summary(&b.publication),
        "as_of": b.as_of,
        "due": b.lines.iter().find_map(|l| l.due),
        "counts": b.counts,
        "nodes": lines,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: Option<TaskStatus>, left: Option<i64>, over: Option<i64>, late: Option<i64>) -> TaskLine {
        TaskLine {
            division: "510521".into(),
            name: "泸县".into(),
            tier: Tier::County,
            due: NaiveDate::from_ymd_opt(2025, 10, 31),
            status,
            label: String::new(),
            days_left: left,
            days_overdue: over,
            late_days: late,
            required: 3,
            resolved: 1,
            deviated: 0,
            reason: String::new(),
            closed_on: None,
            calendar_error: None,
        }
    }

    #[test]
    fn days_read_as_people_say_them() {
        assert_eq!(days_text(&line(Some(TaskStatus::Open), Some(5), None, None)), "剩余 5 个工作日");
        assert_eq!(days_text(&line(Some(TaskStatus::Open), Some(0), None, None)), "今日到期");
        assert_eq!(days_text(&line(Some(TaskStatus::Overdue), None, Some(2), None)), "逾期 2 个工作日");
        assert_eq!(days_text(&line(Some(TaskStatus::Adopted), None, None, Some(0))), "按期办结");
        assert_eq!(days_text(&line(Some(TaskStatus::Adopted), None, None, Some(4))), "迟 4 个工作日办结");
        assert_eq!(days_text(&line(None, None, None, None)), "");
    }

    #[test]
    fn status_filters_accept_known_keys_only() {
        assert_eq!(status_filter(None).unwrap(), None);
        assert_eq!(status_filter(Some(" all ")).unwrap(), None);
        assert_eq!(status_filter(Some("")).unwrap(), None);
        assert_eq!(status_filter(Some("overdue")).unwrap(), Some("overdue"));
        assert_eq!(status_filter(Some("unknown")).unwrap(), Some(UNKNOWN));
        let e = status_filter(Some("late")).unwrap_err();
        assert_eq!(e.code, "BAD_QUERY");
        assert!(as_of_date(Some("2025-13-01")).is_err());
        assert_eq!(as_of_date(Some(" 2025-11-04 ")).unwrap(), NaiveDate::from_ymd_opt(2025, 11, 4));
    }

    #[test]
    fn export_rows_are_text_and_guarded() {
        let mut l = line(Some(TaskStatus::Deviated), None, None, Some(0));
        l.reason = "=HYPERLINK(\"x\")".into();
        let rows = export_rows(&[&l]);
        assert_eq!(rows[0].len(), EXPORT_HEAD.len());
        assert_eq!(rows[0][3], "有差异（已说明）");
        assert_eq!(rows[0][4], "2025-10-31");
        assert!(rows[0][12].starts_with('\''), "{}", rows[0][12]);
        assert_eq!(rows[0][13], "按期办结");
    }

    #[test]
    fn export_names_are_safe_file_names() {
        let p = PublicationRow {
            pub_ref: quanze_domain::PubRef {
                origin: DivisionCode::parse("510500").unwrap(),
                seq: 3,
                hash: String::new(),
            },
            doc_no: "泸编发〔2026〕3号/附件".into(),
            title: String::new(),
            published: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            effective: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            tiers: vec![Tier::County],
            window: Default::default(),
            changes: 1,
            requirements: vec![],
            required_by_tier: BTreeMap::new(),
            at: String::new(),
        };
        assert_eq!(
            export_name(&p, NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()),
            "对账看板-泸编发〔2026〕3号_附件-2026-03-09.xlsx"
        );
    }
}
