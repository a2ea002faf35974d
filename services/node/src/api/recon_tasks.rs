//! This node's reconciliation tasks as data: each task's standing on a day (due date, days left
//! or overdue, status) and a task's proposed diff. The one place these are computed: the JSON
//! routes (`GET /recon`, `GET /recon/{ref}`, `GET /recon/{ref}/status`) and the console's inbox
//! pages call the same functions, so a page and the API never disagree.
//!
//! The rules (`assess`, `propose`, `requirements_for`) are `quanze_domain`'s; this file only
//! gathers what they need from the store. Must not write, sign, or shape HTTP answers.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use chrono::NaiveDate;
use quanze_domain::calendar::Calendar;
use quanze_domain::recon::{Action, Closing, assess, china_day, propose, requirements_for};
use quanze_domain::{DivisionCode, Expect, PowerItem, Requirement, TaskStatus, Tier};
use quanze_store::{PublicationRow, TaskRow};
use serde::Serialize;

use super::error::ApiError;
use super::recon::find_publication;
use crate::state::Node;

/// A task's standing, for tables.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskLine {
    pub division: String,
    pub name: String,
    pub tier: Tier,
    pub due: Option<NaiveDate>,
    pub status: Option<TaskStatus>,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_days: Option<i64>,
    pub required: u64,
    pub resolved: u64,
    pub deviated: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_error: Option<String>,
}

/// The standing on `today` of the task of `(division, name, tier)` for publication `p`.
pub fn task_line(
    cal: &Calendar,
    p: &PublicationRow,
    (division, name, tier): (String, String, Tier),
    task: Option<&TaskRow>,
    today: NaiveDate,
) -> TaskLine {
    let required = task.map_or_else(|| p.required_by_tier.get(&tier).copied().unwrap_or(0), |t| t.required);
    let closed_on = task.and_then(|t| t.closed_at.as_deref()).and_then(china_day);
    let closing = task.and_then(|t| {
        let status = match t.status.as_str() {
            "adopted" => TaskStatus::Adopted,
            "deviated" => TaskStatus::Deviated,
            "not_applicable" => TaskStatus::NotApplicable,
            _ => return None,
        };
        closed_on.map(|on| Closing { status, on })
    });
    let mut line = TaskLine {
        division,
        name,
        tier,
        due: None,
        status: None,
        label: String::new(),
        days_left: None,
        days_overdue: None,
        late_days: None,
        required,
        resolved: task.map_or(0, |t| t.resolved),
        deviated: task.map_or(0, |t| t.deviated),
        reason: task.map(|t| t.reason.clone()).unwrap_or_default(),
        closed_on,
        calendar_error: None,
    };
    match assess(cal, p.published, p.window, closing, today) {
        Ok(a) => {
            line.label = match (a.status, a.days_left, a.days_overdue, a.late_days) {
                (TaskStatus::Open, Some(n), _, _) => format!("待对标，剩余 {n} 个工作日"),
                (TaskStatus::Overdue, _, Some(n), _) => format!("已逾期 {n} 个工作日"),
                (s, _, _, Some(n)) if n > 0 => format!("{}（迟 {n} 个工作日）", s.label()),
                (s, ..) => s.label().to_string(),
            };
            line.due = Some(a.due);
            line.status = Some(a.status);
            line.days_left = a.days_left;
            line.days_overdue = a.days_overdue;
            line.late_days = a.late_days;
        }
        Err(e) => {
            line.label = "无法计算期限".into();
            line.calendar_error = Some(e.to_string());
        }
    }
    line
}

/// Publications of strict ancestors that require this node's tier to reconcile.
fn applies_to(p: &PublicationRow, me: &DivisionCode) -> bool {
    &p.pub_ref.origin != me && me.is_within(&p.pub_ref.origin) && p.tiers.contains(&me.tier())
}

/// One of this node's tasks: the publication (without its requirements) and its standing.
#[derive(Debug, Clone)]
pub struct MyTask {
    pub publication: PublicationRow,
    pub line: TaskLine,
}

/// This node's tasks on its today, newest publication first: `GET /recon` and the inbox.
pub async fn my_tasks(node: &Node) -> Result<Vec<MyTask>, ApiError> {
    let me = node.division().clone();
    let cal = node.store().calendar().await?;
    let today = node.today();
    let tasks: HashMap<(String, u64), TaskRow> =
        node.store().tasks_of_node(&me).await?.into_iter().map(|t| ((t.pub_origin.clone(), t.pub_seq), t)).collect();
    let mut out = Vec::new();
    for p in node.store().publications().await?.into_iter().rev().filter(|p| applies_to(p, &me)) {
        let task = tasks.get(&(p.pub_ref.origin.to_string(), p.pub_ref.seq));
        let line = task_line(&cal, &p, (me.to_string(), node.name().to_string(), me.tier()), task, today);
        out.push(MyTask { publication: p, line });
    }
    Ok(out)
}

/// The publication `reference` (with its requirements) as a task of this node.
pub async fn my_publication(node: &Node, reference: &str) -> Result<PublicationRow, ApiError> {
    let p = find_publication(node, reference, true).await?;
    if !applies_to(&p, node.division()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_AFFECTED",
            format!(
                "公布 {} 不要求本节点（{}级）对标 / the publication does not apply to this node",
                p.doc_no,
                node.tier().label()
            ),
        ));
    }
    Ok(p)
}

/// One requirement with what the list holds and what to do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    pub code: String,
    pub change: usize,
    pub expect: &'static str,
    pub catalogue_name: Option<String>,
    pub current: Option<PowerItem>,
    #[serde(flatten)]
    pub action: Action,
    pub resolution: Option<String>,
}

/// A task of this node with its proposed diff: `GET /recon/{ref}` and the inbox's task page.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// The publication with its requirements.
    pub publication: PublicationRow,
    pub line: TaskLine,
    pub diff: Vec<DiffLine>,
}

impl TaskView {
    /// The requirements on this node's tier (in the order of `diff`).
    pub fn requirements(&self, tier: Tier) -> Vec<&Requirement> {
        requirements_for(&self.publication.requirements, tier)
    }
}

/// The task `reference` of this node, judged on its today, with the diff of its list.
pub async fn task_view(node: &Node, reference: &str) -> Result<TaskView, ApiError> {
    let p = my_publication(node, reference).await?;
    let me = node.division().clone();
    let resolved: BTreeMap<String, String> =
        node.store().task_codes(&me, &p.pub_ref).await?.into_iter().map(|c| (c.code, c.resolution)).collect();
    let mut diff = Vec::new();
    for req in requirements_for(&p.requirements, me.tier()) {
        let current = node.store().item(&me, &req.code).await?.map(|r| r.item);
        let (expect, catalogue_name) = match &req.expect {
            Expect::Present { item } => ("present", Some(item.name.clone())),
            Expect::Absent { .. } => ("absent", None),
        };
        diff.push(DiffLine {
            code: req.code.clone(),
            change: req.change,
            expect,
            catalogue_name,
            action: propose(req, current.as_ref()),
            current,
            resolution: resolved.get(&req.code).cloned(),
        });
    }
    let tasks = node.store().tasks_of_node(&me).await?;
    let task = tasks.iter().find(|t| t.pub_origin == p.pub_ref.origin.as_str() && t.pub_seq == p.pub_ref.seq);
    let cal = node.store().calendar().await?;
    let line = task_line(&cal, &p, (me.to_string(), node.name().to_string(), me.tier()), task, node.today());
    Ok(TaskView { publication: p, line, diff })
}
