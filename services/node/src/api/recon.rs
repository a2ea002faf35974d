//! Catalogue and reconciliation routes: publish a catalogue change, list and show
//! publications, this node's effective catalogue, its reconciliation tasks (with the proposed
//! diff), adopt / deviate / not applicable. The upward status table of a publication (the
//! board) is `recon_board.rs`; publishing from a sheet or typed lines is `catalogue_sheet.rs`.
//!
//! Every write is one entry through `Node::write`; the store re-checks every rule. The rules
//! themselves (plan, propose, check, assess) are `quanze_domain`'s; this file only gathers what
//! they need and shapes the answers; a task's standing and diff are computed in `recon_tasks`
//! (shared with the console). It never writes SQL.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quanze_domain::recon::{Action, propose, requirements_for, with_local};
use quanze_domain::{DivisionCode, Expect, ItemPatch, Op, PowerItem, PubRef, Publication};
use quanze_store::PublicationRow;
use serde::Deserialize;
use serde_json::json;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams, RawBody, parse_json};
use super::items::written;
use super::recon_schema::{
    CatalogueAnswer, CatalogueEntry, PublicationDetail, PublicationList, PublicationSummary, TaskDetail, TaskList,
    TaskSummary,
};
use super::recon_tasks::{self, my_publication, task_view};
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(publications, publish))
        .routes(routes!(publication))
        .routes(routes!(my_tasks))
        .routes(routes!(show_task))
        .routes(routes!(adopt))
        .routes(routes!(deviate))
        .routes(routes!(not_applicable))
        .routes(routes!(super::recon_board::status))
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

pub fn summary(p: &PublicationRow) -> PublicationSummary {
    p.into()
}

/// `POST /catalogue/publications`: one `catalogue.publish` entry.
#[utoipa::path(post, path = "/catalogue/publications", tag = "catalogue", request_body = Publication, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn publish(State(node): State<Node>, JsonBody(publication): JsonBody<Publication>) -> Result<Response, ApiError> {
    publish_publication(&node, publication).await
}

/// Writes `publication` as one `catalogue.publish` entry and answers 201 with its summary: the
/// one write path of every way to publish (JSON, a sheet, typed lines).
pub async fn publish_publication(node: &Node, publication: Publication) -> Result<Response, ApiError> {
    for item in publication.new_items() {
        super::items::sheet_faithful(item)?;
    }
    let entry = node.write(vec![Op::Publish { publication }]).await?;
    let row = node.store().publication(node.division(), entry.seq(), false).await?;
    let extra =
        json!({ "ref": format!("{}#{}", node.division(), entry.seq()), "publication": row.as_ref().map(summary) });
    Ok((StatusCode::CREATED, Json(written(&entry, extra))).into_response())
}

/// `GET /catalogue/publications`: every publication this node holds.
#[utoipa::path(get, path = "/catalogue/publications", tag = "catalogue", responses((status = 200, description = "Every publication held", body = PublicationList)))]
async fn publications(State(node): State<Node>) -> Result<Json<PublicationList>, ApiError> {
    let rows = node.store().publications().await?;
    Ok(Json(PublicationList { publications: rows.iter().map(summary).collect() }))
}

#[utoipa::path(get, path = "/catalogue/publications/{reference}", tag = "catalogue", params(("reference" = String, Path, description = "The reference, e.g. a document number")), responses((status = 200, description = "The publication and its requirements", body = PublicationDetail)))]
async fn publication(
    State(node): State<Node>,
    Path(reference): Path<String>,
) -> Result<Json<PublicationDetail>, ApiError> {
    let p = find_publication(&node, &reference, true).await?;
    Ok(Json(PublicationDetail { summary: summary(&p), requirements: p.requirements }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CatalogueQuery {
    /// Include cancelled items and items for other tiers.
    all: Option<bool>,
}

/// `GET /catalogue`: the catalogue items that apply to this node (published by an ancestor or by
/// itself, exercised at its tier), with whether they are in force yet.
#[utoipa::path(get, path = "/catalogue", tag = "catalogue", params(CatalogueQuery), responses((status = 200, description = "The catalogue items that apply to this node", body = CatalogueAnswer)))]
async fn catalogue(
    State(node): State<Node>,
    QueryParams(q): QueryParams<CatalogueQuery>,
) -> Result<Json<CatalogueAnswer>, ApiError> {
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
    let items: Vec<CatalogueEntry> = rows
        .into_iter()
        .filter(|r| all || (r.tiers.contains(&me.tier()) && r.item.status == quanze_domain::ItemStatus::Active))
        .map(|row| CatalogueEntry { in_force: row.effective <= today, row })
        .collect();
    Ok(Json(CatalogueAnswer { tier: me.tier(), division: me, total: items.len(), items }))
}

/// `GET /recon`: this node's tasks, newest publication first.
#[utoipa::path(get, path = "/recon", tag = "recon", responses((status = 200, description = "This node's tasks", body = TaskList)))]
async fn my_tasks(State(node): State<Node>) -> Result<Json<TaskList>, ApiError> {
    let tasks = recon_tasks::my_tasks(&node).await?;
    let tasks = tasks.into_iter().map(|t| TaskSummary { publication: summary(&t.publication), task: t.line }).collect();
    Ok(Json(TaskList { today: node.today(), tasks }))
}

/// `GET /recon/{ref}`: the task with the proposed diff of this node's list.
#[utoipa::path(get, path = "/recon/{reference}", tag = "recon", params(("reference" = String, Path, description = "The reference, e.g. a document number")), responses((status = 200, description = "The task and the proposed diff", body = TaskDetail)))]
async fn show_task(State(node): State<Node>, Path(reference): Path<String>) -> Result<Json<TaskDetail>, ApiError> {
    let view = task_view(&node, &reference).await?;
    Ok(Json(TaskDetail { publication: summary(&view.publication), task: view.line, diff: view.diff }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
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
#[utoipa::path(post, path = "/recon/{reference}/adopt", tag = "recon", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body(content = Option<AdoptBody>, description = "Empty: adopt every unresolved code"), responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
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
            Action::Cancel { reason, delegated: false } => ops.push(Op::cancel(*code, reason)),
            Action::Cancel { reason, delegated: true } => ops.push(Op::delegate(*code, reason)),
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviateBody {
    #[serde(default)]
    codes: Vec<String>,
    reason: String,
    basis: String,
}

/// `POST /recon/{ref}/deviate`: the list keeps differing for `codes`, with reason and basis.
#[utoipa::path(post, path = "/recon/{reference}/deviate", tag = "recon", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body = DeviateBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

#[utoipa::path(post, path = "/recon/{reference}/not-applicable", tag = "recon", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body = ReasonBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
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
