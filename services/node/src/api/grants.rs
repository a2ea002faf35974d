//! Grant routes (赋权): issue a batch, list and show batches with their deadlines, accept,
//! revoke (whole batch or items), extend the training period, and export the register.
//!
//! Every write is one entry through `Node::write`; the store re-checks every rule. What this
//! file adds are the writer's own checks the store must not make (a batch already known to be
//! revoked) and the defaults a user expects (today's date, the batch's departments). It never
//! writes SQL and decides no rule itself.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quanze_domain::grants::{Extension, GrantBatch, GrantKind, GrantRef, GrantStatus, check_not_revoked};
use quanze_domain::import::{escape_formula, table_to_xlsx};
use quanze_domain::{DivisionCode, Op};
use quanze_store::GrantRow;
use serde::{Deserialize, Serialize};
use serde_json::json;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams};
use super::items::written;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list, issue))
        .routes(routes!(export))
        .routes(routes!(show))
        .routes(routes!(accept))
        .routes(routes!(revoke))
        .routes(routes!(extend))
}

/// Finds a batch by `grantor#seq` (also `grantor:seq`, `grantor-seq`) or by document number;
/// a number that names batches to several nodes is narrowed to `grantee` when given.
pub async fn find_grant(node: &Node, reference: &str, grantee: Option<&DivisionCode>) -> Result<GrantRow, ApiError> {
    let r = reference.trim();
    let unknown =
        || ApiError::new(StatusCode::NOT_FOUND, "UNKNOWN_GRANT", format!("未知的赋权批次 “{r}” / unknown grant batch"));
    if let Some((origin, seq)) = r.split_once(['#', ':', '-'])
        && let (Ok(origin), Ok(seq)) = (DivisionCode::parse(origin), seq.parse::<u64>())
    {
        return node.store().grant(&origin, seq).await?.ok_or_else(unknown);
    }
    let mut found = node.store().grants_by_doc_no(r).await?;
    if let Some(g) = grantee {
        found.retain(|row| &row.header.grantee == g);
    }
    match found.len() {
        0 => Err(unknown()),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "AMBIGUOUS_REFERENCE",
            format!(
                "文号 “{r}” 对应多个赋权批次，请用 区划#序号 指明 / several batches have this number: use grantor#seq"
            ),
        )),
    }
}

pub fn ref_text(r: &GrantRef) -> String {
    format!("{}#{}", r.origin, r.seq)
}

/// True when this node may see the batch: it or a node below it grants or receives it.
pub fn visible(me: &DivisionCode, grantor: &DivisionCode, other: &DivisionCode) -> bool {
    grantor.is_within(me) || other.is_within(me)
}

/// A batch with its deadlines and its status on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantSummary {
    /// `grantor#seq`.
    #[serde(rename = "ref")]
    reference: String,
    /// SHA-256 of the issuing entry, hex.
    hash: String,
    grantor: DivisionCode,
    grantee: DivisionCode,
    doc_no: String,
    title: String,
    issued: NaiveDate,
    handover_due: NaiveDate,
    /// Not accepted by the handover due date (as of the day).
    handover_late: bool,
    training_months: u32,
    extensions: Vec<Extension>,
    training_until: NaiveDate,
    items: u64,
    items_revoked: u64,
    departments: Vec<String>,
    /// `null` until accepted.
    #[schema(required = true)]
    accepted_on: Option<NaiveDate>,
    /// `null` unless revoked as a whole.
    #[schema(required = true)]
    revoked_on: Option<NaiveDate>,
    revoke_reason: String,
    status: GrantStatus,
    /// The status in Chinese.
    status_label: String,
    /// When the issuing entry was written.
    at: String,
}

/// A batch with its deadlines and status on `today`.
pub fn summary(row: &GrantRow, today: NaiveDate) -> GrantSummary {
    let h = &row.header;
    let status = h.status_on(today);
    GrantSummary {
        reference: ref_text(&h.grant_ref),
        hash: h.grant_ref.hash.clone(),
        grantor: h.grant_ref.origin.clone(),
        grantee: h.grantee.clone(),
        doc_no: h.doc_no.clone(),
        title: h.title.clone(),
        issued: h.issued,
        handover_due: h.handover_due,
        handover_late: h.handover_late(today),
        training_months: h.training_months,
        extensions: h.extensions.clone(),
        training_until: h.training_until(),
        items: h.items,
        items_revoked: h.items_revoked,
        departments: h.departments.clone(),
        accepted_on: h.accepted_on,
        revoked_on: h.revoked_on,
        revoke_reason: h.revoke_reason.clone(),
        status,
        status_label: status.label().to_string(),
        at: row.at.clone(),
    }
}

/// `GET /grants`: the batches, as of today.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantList {
    today: NaiveDate,
    grants: Vec<GrantSummary>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `issued` (by this node), `received` (by this node) or `all` visible (default).
    role: Option<String>,
}

/// The batches this node may see, filtered by role.
pub async fn visible_grants(node: &Node, role: Option<&str>) -> Result<Vec<GrantRow>, ApiError> {
    let me = node.division();
    let keep: fn(&DivisionCode, &GrantRow) -> bool = match role.unwrap_or("all") {
        "all" | "" => |me, r| visible(me, &r.header.grant_ref.origin, &r.header.grantee),
        "issued" => |me, r| &r.header.grant_ref.origin == me,
        "received" => |me, r| &r.header.grantee == me,
        other => {
            return Err(ApiError::bad_query(format!(
                "role 应为 issued、received 或 all，而不是 “{other}” / role must be issued, received or all"
            )));
        }
    };
    Ok(node.store().grants().await?.into_iter().filter(|r| keep(me, r)).collect())
}

/// `GET /grants`: batches this node issued, received or sees below it, with deadlines.
#[utoipa::path(get, path = "/grants", tag = "grants", params(ListQuery), responses((status = 200, description = "The batches with their deadlines", body = GrantList)))]
async fn list(State(node): State<Node>, QueryParams(q): QueryParams<ListQuery>) -> Result<Json<GrantList>, ApiError> {
    let today = node.today();
    let rows = visible_grants(&node, q.role.as_deref()).await?;
    Ok(Json(GrantList { today, grants: rows.iter().map(|r| summary(r, today)).collect() }))
}

/// `POST /grants`: one `grant.issue` entry.
#[utoipa::path(post, path = "/grants", tag = "grants", request_body = GrantBatch, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub(super) async fn issue(
    State(node): State<Node>,
    JsonBody(batch): JsonBody<GrantBatch>,
) -> Result<Response, ApiError> {
    let entry = node.write(vec![Op::GrantIssue { batch }]).await?;
    let row = node.store().grant(node.division(), entry.seq()).await?;
    let extra = json!({
        "ref": format!("{}#{}", node.division(), entry.seq()),
        "grant": row.as_ref().map(|r| summary(r, node.today())),
    });
    Ok((StatusCode::CREATED, Json(written(&entry, extra))).into_response())
}

/// `GET /grants/{ref}`: the batch with its items, the seals valid for it and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantDetail {
    #[serde(flatten)]
    summary: GrantSummary,
    item_list: Vec<GrantedItemView>,
    seals: Vec<super::seal_view::SealSummary>,
    events: Vec<quanze_store::GrantEventRow>,
}

/// One granted item of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantedItemView {
    code: String,
    name: String,
    /// 职权类别 in Chinese.
    category: &'static str,
    kind: GrantKind,
    kind_label: &'static str,
    grantor_dept: String,
    grantee_dept: String,
    provincial: bool,
    /// `null` unless the item was revoked.
    #[schema(required = true)]
    revoked_on: Option<NaiveDate>,
    revoke_reason: String,
}

/// `GET /grants/{ref}`: the batch, its items, the seals valid for it and its history.
#[utoipa::path(get, path = "/grants/{reference}", tag = "grants", params(("reference" = String, Path, description = "The reference, e.g. a document number")), responses((status = 200, description = "The batch, its items, seals and history", body = GrantDetail)))]
async fn show(State(node): State<Node>, Path(reference): Path<String>) -> Result<Json<GrantDetail>, ApiError> {
    let row = find_grant(&node, &reference, None).await?;
    let h = &row.header;
    let items = node.store().grant_items(&h.grant_ref.origin, h.grant_ref.seq).await?;
    let item_list = items
        .into_iter()
        .map(|g| GrantedItemView {
            category: g.category.label(),
            kind: g.kind,
            kind_label: g.kind.label(),
            code: g.code,
            name: g.name,
            grantor_dept: g.grantor_dept,
            grantee_dept: g.grantee_dept,
            provincial: g.provincial,
            revoked_on: g.revoked_on,
            revoke_reason: g.revoke_reason,
        })
        .collect();
    let seals = node
        .store()
        .seals()
        .await?
        .iter()
        .filter(|s| s.seal.scope.iter().any(|r| r.origin == h.grant_ref.origin && r.seq == h.grant_ref.seq))
        .map(super::seals::seal_summary)
        .collect();
    let events = node.store().grant_events(&format!("grant:{}", ref_text(&h.grant_ref))).await?;
    Ok(Json(GrantDetail { summary: summary(&row, node.today()), item_list, seals, events }))
}

/// Today unless a date is given.
pub fn date_or_today(node: &Node, date: Option<NaiveDate>) -> NaiveDate {
    date.unwrap_or_else(|| node.today())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    /// The receiving departments; absent: every department the batch names.
    departments: Option<Vec<String>>,
    date: Option<NaiveDate>,
}

/// `POST /grants/{ref}/accept`: the grantee takes the batch over.
#[utoipa::path(post, path = "/grants/{reference}/accept", tag = "grants", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body = AcceptBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn accept(
    State(node): State<Node>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<AcceptBody>,
) -> Result<Response, ApiError> {
    let row = find_grant(&node, &reference, Some(node.division())).await?;
    check_not_revoked(&row.header).map_err(quanze_domain::RuleError::from)?;
    let departments = body.departments.unwrap_or_else(|| row.header.departments.clone());
    let date = date_or_today(&node, body.date);
    let op = Op::GrantAccept { batch: row.header.grant_ref.clone(), departments, date };
    let entry = node.write(vec![op]).await?;
    let row = find_grant(&node, &ref_text(&row.header.grant_ref), None).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "grant": summary(&row, node.today()) })))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    /// Items to take back; absent or empty: the whole batch.
    #[serde(default)]
    codes: Vec<String>,
    reason: String,
    date: Option<NaiveDate>,
}

/// `POST /grants/{ref}/revoke`: the grantor takes back the batch or some items.
#[utoipa::path(post, path = "/grants/{reference}/revoke", tag = "grants", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body = RevokeBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn revoke(
    State(node): State<Node>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<RevokeBody>,
) -> Result<Response, ApiError> {
    let row = find_grant(&node, &reference, None).await?;
    let date = date_or_today(&node, body.date);
    let op = Op::GrantRevoke { batch: row.header.grant_ref.clone(), codes: body.codes, reason: body.reason, date };
    let entry = node.write(vec![op]).await?;
    let row = find_grant(&node, &ref_text(&row.header.grant_ref), None).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "grant": summary(&row, node.today()) })))).into_response())
}

/// `POST /grants/{ref}/extend`: the grantor extends the training period.
#[utoipa::path(post, path = "/grants/{reference}/extend", tag = "grants", params(("reference" = String, Path, description = "The reference, e.g. a document number")), request_body = Extension, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn extend(
    State(node): State<Node>,
    Path(reference): Path<String>,
    JsonBody(extension): JsonBody<Extension>,
) -> Result<Response, ApiError> {
    let row = find_grant(&node, &reference, None).await?;
    let entry = node.write(vec![Op::GrantExtend { batch: row.header.grant_ref.clone(), extension }]).await?;
    let row = find_grant(&node, &ref_text(&row.header.grant_ref), None).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "grant": summary(&row, node.today()) })))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    format: Option<String>,
    role: Option<String>,
}

/// `GET /grants/export?format=csv|xlsx|json`: the register of visible batches.
#[utoipa::path(get, path = "/grants/export", tag = "grants", params(ExportQuery), responses((status = 200, description = "The grants as a sheet", content((GrantList = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn export(State(node): State<Node>, QueryParams(q): QueryParams<ExportQuery>) -> Result<Response, ApiError> {
    let today = node.today();
    let rows = visible_grants(&node, q.role.as_deref()).await?;
    let format = q.format.as_deref().unwrap_or("csv");
    if format == "json" {
        let grants = rows.iter().map(|r| summary(r, today)).collect();
        return Ok(Json(GrantList { today, grants }).into_response());
    }
    if !matches!(format, "csv" | "xlsx") {
        return Err(ApiError::bad_query(format!(
            "format 应为 csv、xlsx 或 json，而不是 “{format}” / format must be csv, xlsx or json"
        )));
    }
    const HEAD: [&str; 16] = [
        "批次",
        "文号",
        "标题",
        "赋权方",
        "承接方",
        "印发日期",
        "交接期限",
        "承接日期",
        "交接逾期",
        "培训指导期至",
        "状态",
        "事项数",
        "已收回事项数",
        "收回日期",
        "收回理由",
        "承接部门",
    ];
    let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let h = &r.header;
            vec![
                ref_text(&h.grant_ref),
                h.doc_no.clone(),
                h.title.clone(),
                h.grant_ref.origin.to_string(),
                h.grantee.to_string(),
                h.issued.to_string(),
                h.handover_due.to_string(),
                opt(h.accepted_on),
                if h.handover_late(today) { "是" } else { "否" }.to_string(),
                h.training_until().to_string(),
                h.status_on(today).label().to_string(),
                h.items.to_string(),
                h.items_revoked.to_string(),
                opt(h.revoked_on),
                h.revoke_reason.clone(),
                h.departments.join("、"),
            ]
        })
        .collect();
    if format == "xlsx" {
        let table: Vec<Vec<String>> =
            table.into_iter().map(|row| row.into_iter().map(escape_formula).collect()).collect();
        let bytes = table_to_xlsx("赋权登记", &HEAD, &table).map_err(ApiError::internal)?;
        return Ok(super::public::download_response(bytes, super::items::XLSX_CONTENT_TYPE, "赋权登记.xlsx"));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEAD).map_err(ApiError::internal)?;
    for row in &table {
        w.write_record(row).map_err(ApiError::internal)?;
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}
