//! Catalogue and reconciliation routes: publish a catalogue change, list and show
//! publications, this node's effective catalogue, its reconciliation tasks (with the proposed
//! diff), adopt / deviate / not applicable. The upward status table of a publication (the
//! board) is `recon_board.rs`; publishing from a sheet or typed lines is `catalogue_sheet.rs`.
//!
//! Every write is one entry through `Node::write`; the store re-checks every rule. The rules
//! themselves (plan, propose, check, assess) are `quanze_domain`'s; this file only gathers what
//! they need and shapes the answers. It never writes SQL.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use quanze_domain::calendar::Calendar;
use quanze_domain::recon::{Action, Closing, assess, china_day, propose, requirements_for, with_local};
use quanze_domain::{DivisionCode, Expect, ItemPatch, Op, PowerItem, PubRef, Publication, TaskStatus, Tier};
use quanze_store::{PublicationRow, TaskRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, JsonBody, QueryParams, RawBody, parse_json};
use super::items::written;
use crate::state::Node;

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/catalogue", get(catalogue))
        .route("/catalogue/publications", get(publications).post(publish))
        .route("/catalogue/publications/{reference}", get(publication))
        .route("/recon", get(my_tasks))
        .route("/recon/{reference}", get(show_task))
        .route("/recon/{reference}/adopt", post(adopt))
        .route("/recon/{reference}/deviate", post(deviate))
        .route("/recon/{reference}/not-applicable", post(not_applicable))
        .route("/recon/{reference}/status", get(super::recon_board::status))
}

/// Finds a publication by `origin#seq` (also `origin:seq`, `origin-seq`) or by document number;
/// with its requirements list only when `full` (it can be megabytes).
pub async fn find_publication(node: &Node, reference: &str, full: bool) -> Result<PublicationRow, ApiError> {
    let r = reference.trim();
    let unknown = || {
        ApiError::new(StatusCode::NOT_FOUND, "UNKNOWN_PUBLICATION", format!("未知的公布 “{r}” / unknown publication"))
    };
    if let Some((origin, seq)) = r.split_once(['#', ':', '-'])
        && let (Ok(origin), Ok(seq)) = (DivisionCode::parse(origin), seq.parse::<u64>())
    {
        return node.store().publication(&origin, seq, full).await?.ok_or_else(unknown);
    }
    let mut found = node.store().publications_by_doc_no(r).await?;
    match found.len() {
        0 => Err(unknown()),
        1 if full => {
            let p = found.remove(0).pub_ref;
            node.store().publication(&p.origin, p.seq, true).await?.ok_or_else(unknown)
        }
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "AMBIGUOUS_REFERENCE",
            format!(
                "文号 “{r}” 对应多个公布，请用 区划#序号 指明 / several publications have this number: use origin#seq"
            ),
        )),
    }
}

pub fn ref_text(p: &PubRef) -> String {
    format!("{}#{}", p.origin, p.seq)
}

pub fn summary(p: &PublicationRow) -> serde_json::Value {
    json!({
        "ref": ref_text(&p.pub_ref),
        "publisher": p.pub_ref.origin,
        "doc_no": p.doc_no,
        "title": p.title,
        "published": p.published,
        "effective": p.effective,
        "tiers": p.tiers,
        "window": p.window,
        "changes": p.changes,
        "required_by_tier": p.required_by_tier,
        "at": p.at,
    })
}

/// `POST /catalogue/publications`: one `catalogue.publish` entry.
async fn publish(State(node): State<Node>, JsonBody(publication): JsonBody<Publication>) -> Result<Response, ApiError> {
    publish_publication(&node, publication).await
}

/// Writes `publication` as one `catalogue.publish` entry and answers 201 with its summary: the
/// one write path of every way to publish (JSON, a sheet, typed lines).
pub async fn publish_publication(node: &Node, publication: Publication) -> Result<Response, ApiError> {
    let entry = node.write(vec![Op::Publish { publication }]).await?;
    let row = node.store().publication(node.division(), entry.seq(), false).await?;
    let extra =
        json!({ "ref": format!("{}#{}", node.division(), entry.seq()), "publication": row.as_ref().map(summary) });
    Ok((StatusCode::CREATED, Json(written(&entry, extra))).into_response())
}

/// `GET /catalogue/publications`: every publication this node holds.
async fn publications(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let rows = node.store().publications().await?;
    Ok(Json(json!({ "publications": rows.iter().map(summary).collect::<Vec<_>>() })))
}

async fn publication(State(node): State<Node>, Path(reference): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let p = find_publication(&node, &reference, true).await?;
    let mut out = summary(&p);
    out["requirements"] = serde_json::to_value(&p.requirements).map_err(ApiError::internal)?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct CatalogueQuery {
    /// Include cancelled items and items for other tiers.
    all: Option<bool>,
}

/// `GET /catalogue`: the catalogue items that apply to this node (published by an ancestor or by
/// itself, exercised at its tier), with whether they are in force yet.
async fn catalogue(
    State(node): State<Node>,
    QueryParams(q): QueryParams<CatalogueQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let me = node.division().clone();
    let mut publishers: Vec<String> = Vec::new();
    let mut cursor = Some(me.clone());
    while let Some(d) = cursor {
        publishers.push(d.to_string());
        cursor = d.parent();
    }
    publishers.reverse();
    let today = node.today().to_string();
    let all = q.all.unwrap_or(false);
    let rows = node.store().catalogue(&publishers).await?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .filter(|r| all || (r.tiers.contains(&me.tier()) && r.item.status == quanze_domain::ItemStatus::Active))
        .map(|r| {
            let in_force = r.effective <= today;
            let mut v = serde_json::to_value(&r).unwrap_or_default();
            v["in_force"] = json!(in_force);
            v
        })
        .collect();
    Ok(Json(json!({ "division": me, "tier": me.tier(), "total": items.len(), "items": items })))
}

/// A task's standing, for tables.
#[derive(Debug, Serialize)]
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

/// `GET /recon`: this node's tasks, newest publication first.
async fn my_tasks(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let me = node.division().clone();
    let cal = node.store().calendar().await?;
    let today = node.today();
    let tasks: HashMap<(String, u64), TaskRow> =
        node.store().tasks_of_node(&me).await?.into_iter().map(|t| ((t.pub_origin.clone(), t.pub_seq), t)).collect();
    let mut out = Vec::new();
    for p in node.store().publications().await?.iter().rev().filter(|p| applies_to(p, &me)) {
        let task = tasks.get(&(p.pub_ref.origin.to_string(), p.pub_ref.seq));
        let line = task_line(&cal, p, (me.to_string(), node.name().to_string(), me.tier()), task, today);
        out.push(json!({ "publication": summary(p), "task": line }));
    }
    Ok(Json(json!({ "today": today, "tasks": out })))
}

/// The publication `reference` (with its requirements) as a task of this node.
async fn my_publication(node: &Node, reference: &str) -> Result<PublicationRow, ApiError> {
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
#[derive(Debug, Serialize)]
struct DiffLine {
    code: String,
    change: usize,
    expect: &'static str,
    catalogue_name: Option<String>,
    current: Option<PowerItem>,
    #[serde(flatten)]
    action: Action,
    resolution: Option<String>,
}

/// `GET /recon/{ref}`: the task with the proposed diff of this node's list.
async fn show_task(State(node): State<Node>, Path(reference): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let p = my_publication(&node, &reference).await?;
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
    Ok(Json(json!({ "publication": summary(&p), "task": line, "diff": diff })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdoptBody {
    /// Codes to adopt now; empty: every unresolved one.
    #[serde(default)]
    codes: Vec<String>,
    /// Local elements (implementing body, contacts, a shorter promised limit, …) for codes the
    /// catalogue requires present; their uniform elements come from the catalogue.
    #[serde(default)]
    local: Vec<PowerItem>,
}

/// Every element of `target` as a patch (to give an existing item the adopted state).
fn full_patch(target: &PowerItem) -> ItemPatch {
    ItemPatch {
        name: Some(target.name.clone()),
        category: Some(target.category),
        basis: Some(target.basis.clone()),
        implementing_body: Some(target.implementing_body.clone()),
        implementing_body_code: Some(target.implementing_body_code.clone().unwrap_or_default()),
        responsibilities: Some(target.responsibilities.clone()),
        accountability: Some(target.accountability.clone()),
        accountability_basis: Some(target.accountability_basis.clone()),
        supervision: Some(target.supervision.clone()),
        remedies: Some(target.remedies.clone()),
        time_limit: Some(target.time_limit.clone()),
        flow: Some(target.flow.clone()),
        risk_points: Some(target.risk_points.clone()),
    }
}

/// `POST /recon/{ref}/adopt`: one entry with the item ops that bring the list in line and the
/// `recon.adopt` that records it.
async fn adopt(
    State(node): State<Node>,
    Path(reference): Path<String>,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: AdoptBody =
        if bytes.iter().all(u8::is_ascii_whitespace) { AdoptBody::default() } else { parse_json(&bytes)? };
    let p = my_publication(&node, &reference).await?;
    let me = node.division().clone();
    let done: BTreeMap<String, String> =
        node.store().task_codes(&me, &p.pub_ref).await?.into_iter().map(|c| (c.code, c.resolution)).collect();
    let reqs = requirements_for(&p.requirements, me.tier());
    let wanted: Vec<&str> = if body.codes.is_empty() {
        reqs.iter().map(|r| r.code.as_str()).filter(|c| !done.contains_key(*c)).collect()
    } else {
        body.codes.iter().map(|c| c.trim()).collect()
    };
    let local: HashMap<&str, &PowerItem> = body.local.iter().map(|i| (i.code.as_str(), i)).collect();
    if let Some(stray) = local.keys().find(|c| !wanted.contains(c)) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "NOT_IN_PUBLICATION",
            format!("本地要素中的事项 “{stray}” 不在本次对标范围内 / local elements for a code not being adopted"),
        ));
    }
    let mut ops = Vec::new();
    for code in &wanted {
        // Unknown or resolved codes are left to the store, which refuses them with their code.
        let Some(req) = reqs.iter().find(|r| r.code == *code) else { continue };
        let current = node.store().item(&me, code).await?.map(|r| r.item);
        let action = match (&req.expect, local.get(code), &current) {
            (Expect::Present { item }, Some(l), None) => Action::Add { item: with_local(item, l) },
            (Expect::Present { item }, Some(l), Some(cur)) if cur.status == quanze_domain::ItemStatus::Active => {
                Action::Update { patch: full_patch(&with_local(item, l)) }
            }
            _ => propose(req, current.as_ref()),
        };
        match action {
            Action::None => {}
            Action::Add { item } => ops.push(Op::add(item)),
            Action::Update { patch } => ops.push(Op::update(*code, patch)),
            Action::Cancel { reason } => ops.push(Op::cancel(*code, reason)),
            Action::Blocked { reason } => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "ADOPT_BLOCKED",
                    format!(
                        "事项 “{code}” 无法按目录对标：{reason}；请对该事项说明差异 / cannot adopt this code, deviate instead"
                    ),
                ));
            }
        }
    }
    let item_ops = ops.len();
    let codes = if body.codes.is_empty() { Vec::new() } else { wanted.iter().map(|c| c.to_string()).collect() };
    ops.push(Op::ReconAdopt { publication: p.pub_ref.clone(), codes });
    let entry = node.write(ops).await?;
    let extra = json!({ "publication": ref_text(&p.pub_ref), "adopted": wanted, "item_ops": item_ops });
    Ok((StatusCode::CREATED, Json(written(&entry, extra))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviateBody {
    #[serde(default)]
    codes: Vec<String>,
    reason: String,
    basis: String,
}

/// `POST /recon/{ref}/deviate`: the list keeps differing for `codes`, with reason and basis.
async fn deviate(
    State(node): State<Node>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<DeviateBody>,
) -> Result<Response, ApiError> {
    let p = my_publication(&node, &reference).await?;
    let op =
        Op::ReconDeviate { publication: p.pub_ref.clone(), codes: body.codes, reason: body.reason, basis: body.basis };
    let entry = node.write(vec![op]).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "publication": ref_text(&p.pub_ref) })))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn not_applicable(
    State(node): State<Node>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> Result<Response, ApiError> {
    let p = my_publication(&node, &reference).await?;
    let op = Op::ReconNotApplicable { publication: p.pub_ref.clone(), reason: body.reason };
    let entry = node.write(vec![op]).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "publication": ref_text(&p.pub_ref) })))).into_response())
}
