//! Special-seal routes (专用分章): carve (one seal or many in one entry), list, show with
//! history, deliver, activate, recall, archive, replace, export (CSV, .xlsx, JSON) — and the public validity
//! question `GET /seals/check?seal=&item=&date=`, which needs no login like every read.
//!
//! Writes are entries through `Node::write`; the store re-checks every rule. This file resolves
//! what users type (a batch by document number, a serial written "(4)") into the op's exact
//! form, adds the writer's own checks (a seal already known to be recalled) and shapes the
//! answers. The verdict itself is `quanze_domain::grants::verdict`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quanze_domain::grants::{GrantKind, Seal, SealStatus, parse_serial, verdict};
use quanze_domain::import::{escape_formula, table_to_xlsx};
use quanze_domain::{DivisionCode, Op, RuleError};
use serde::Deserialize;
use serde_json::{Value, json};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams};
use super::grants::{date_or_today, find_grant, ref_text, visible};
use super::items::written;
pub use super::seal_view::seal_summary;
use super::seal_view::{SealCheck, SealDetail, SealList};
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list, carve))
        .routes(routes!(export))
        .routes(routes!(check))
        .routes(routes!(replace))
        .routes(routes!(show))
        .routes(routes!(deliver))
        .routes(routes!(activate))
        .routes(routes!(recall))
        .routes(routes!(archive))
}

/// A seal as users write it: the serial as a number or "(4)", the scope as batch references
/// (`grantor#seq` or a document number).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealInput {
    id: String,
    name: String,
    kind: String,
    /// The serial, a number or text such as "(4)".
    #[schema(value_type = Value)]
    serial: Value,
    issuer: String,
    #[schema(value_type = String)]
    holder: DivisionCode,
    holder_dept: String,
    #[serde(default)]
    scope: Vec<String>,
    carved: Option<NaiveDate>,
    registration: Option<String>,
    image_sha256: Option<String>,
}

fn bad_seal(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "BAD_SEAL", message)
}

/// Resolves a seal input into the op's form.
async fn resolve(node: &Node, input: SealInput) -> Result<Seal, ApiError> {
    let kind = GrantKind::parse(&input.kind).ok_or_else(|| {
        bad_seal(format!(
            "专用章 {} 的类别 “{}” 应为 审批 或 非审批 / kind must be approval or non_approval",
            input.id, input.kind
        ))
    })?;
    let serial = match &input.serial {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
        Value::String(s) => parse_serial(s),
        _ => None,
    }
    .ok_or_else(|| {
        bad_seal(format!("专用章 {} 的编号 “{}” 应为正整数，如 (4) / serial must be like (4)", input.id, input.serial))
    })?;
    let mut scope = Vec::with_capacity(input.scope.len());
    for r in &input.scope {
        scope.push(find_grant(node, r, Some(&input.holder)).await?.header.grant_ref);
    }
    Ok(Seal {
        id: input.id.trim().to_string(),
        name: input.name.trim().to_string(),
        kind,
        serial,
        issuer: input.issuer.trim().to_string(),
        holder: input.holder,
        holder_dept: input.holder_dept.trim().to_string(),
        scope,
        carved: date_or_today(node, input.carved),
        registration: input.registration.filter(|r| !r.trim().is_empty()),
        image_sha256: input.image_sha256.filter(|h| !h.trim().is_empty()),
    })
}

/// One seal or `{"seals": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum CarveBody {
    Many { seals: Vec<SealInput> },
    One(Box<SealInput>),
}

/// `POST /seals`: carve one seal, or many in one entry.
#[utoipa::path(post, path = "/seals", tag = "seals", request_body = CarveBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn carve(State(node): State<Node>, JsonBody(body): JsonBody<CarveBody>) -> Result<Response, ApiError> {
    let inputs = match body {
        CarveBody::Many { seals } => seals,
        CarveBody::One(one) => vec![*one],
    };
    if inputs.is_empty() {
        return Err(bad_seal("没有要登记的专用章 / no seal given".into()));
    }
    let mut ops = Vec::with_capacity(inputs.len());
    for input in inputs {
        ops.push(Op::SealCarve { seal: resolve(&node, input).await? });
    }
    let ids: Vec<String> =
        ops.iter().filter_map(|o| if let Op::SealCarve { seal } = o { Some(seal.id.clone()) } else { None }).collect();
    let entry = node.write(ops).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "seals": ids })))).into_response())
}

/// The seal `id` (of `grantor`, when given): 404 when unknown, 409 when several grantors use it.
async fn find_seal(node: &Node, id: &str, grantor: Option<&DivisionCode>) -> Result<SealStatus, ApiError> {
    let mut found = node.store().seals_by_id(id).await?;
    if let Some(g) = grantor {
        found.retain(|s| &s.grantor == g);
    }
    match found.len() {
        0 => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SEAL",
            format!("未知的专用章 “{}” / unknown seal", id.trim()),
        )),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "AMBIGUOUS_REFERENCE",
            format!("专用章编号 “{}” 属于多个刻制方，请加 grantor 指明 / several grantors use this id", id.trim()),
        )),
    }
}

/// The seal `id` of this node (only its grantor delivers, recalls, archives it).
async fn own_seal(node: &Node, id: &str) -> Result<SealStatus, ApiError> {
    match find_seal(node, id, Some(node.division())).await {
        Err(e) if e.code == "UNKNOWN_SEAL" => match node.store().seals_by_id(id).await?.first() {
            Some(s) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "NOT_SEAL_GRANTOR",
                format!(
                    "专用章 {} 由 {} 刻制，只有刻制方能送达、收回、封存或替换 / only the grantor does this",
                    s.seal.id, s.grantor
                ),
            )),
            None => Err(e),
        },
        other => other,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    state: Option<String>,
    holder: Option<String>,
}

/// The seals this node may see (it or a node below it carves or holds them), optionally of one
/// state (key or label) and one holder.
pub async fn visible_seals(
    node: &Node,
    state: Option<&str>,
    holder: Option<&str>,
) -> Result<Vec<SealStatus>, ApiError> {
    let me = node.division();
    let state = match state.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(quanze_domain::SealState::parse(s).ok_or_else(|| {
            ApiError::bad_query(format!(
                "未知状态 “{s}”，应为 carved/delivered/activated/recalled/archived / unknown state"
            ))
        })?),
    };
    Ok(node
        .store()
        .seals()
        .await?
        .into_iter()
        .filter(|s| visible(me, &s.grantor, &s.seal.holder))
        .filter(|s| state.is_none_or(|st| s.state == st))
        .filter(|s| holder.is_none_or(|h| h.is_empty() || s.seal.holder.as_str() == h))
        .collect())
}

/// `GET /seals`: seals this node issued, holds, or sees below it.
#[utoipa::path(get, path = "/seals", tag = "seals", params(ListQuery), responses((status = 200, description = "The seals, with their state", body = SealList)))]
async fn list(State(node): State<Node>, QueryParams(q): QueryParams<ListQuery>) -> Result<Json<SealList>, ApiError> {
    let seals = visible_seals(&node, q.state.as_deref(), q.holder.as_deref()).await?;
    Ok(Json(SealList { seals: seals.iter().map(seal_summary).collect() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GrantorQuery {
    #[param(value_type = Option<String>)]
    grantor: Option<DivisionCode>,
}

/// `GET /seals/{id}`: the seal and every recorded step.
#[utoipa::path(get, path = "/seals/{id}", tag = "seals", params(("id" = String, Path, description = "The seal id"), GrantorQuery), responses((status = 200, description = "The seal and its steps", body = SealDetail)))]
async fn show(
    State(node): State<Node>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<GrantorQuery>,
) -> Result<Json<SealDetail>, ApiError> {
    let s = find_seal(&node, &id, q.grantor.as_ref()).await?;
    let events = node.store().grant_events(&format!("seal:{}/{}", s.grantor, s.seal.id)).await?;
    Ok(Json(SealDetail { seal: seal_summary(&s), events }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StepBody {
    date: Option<NaiveDate>,
    #[serde(default)]
    reason: String,
    /// For activation: the grantor node, when several use the id.
    #[schema(value_type = Option<String>)]
    grantor: Option<DivisionCode>,
}

async fn step(
    node: Node,
    id: String,
    body: StepBody,
    make: impl FnOnce(&SealStatus, NaiveDate, String) -> Op,
) -> Result<Response, ApiError> {
    let s = own_seal(&node, &id).await?;
    let op = make(&s, date_or_today(&node, body.date), body.reason);
    respond(&node, op, &s).await
}

async fn respond(node: &Node, op: Op, s: &SealStatus) -> Result<Response, ApiError> {
    let entry = node.write(vec![op]).await?;
    let now = find_seal(node, &s.seal.id, Some(&s.grantor)).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "seal": seal_summary(&now) })))).into_response())
}

#[utoipa::path(post, path = "/seals/{id}/deliver", tag = "seals", params(("id" = String, Path, description = "The seal id")), request_body = StepBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn deliver(
    State(node): State<Node>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Response, ApiError> {
    step(node, id, body, |s, date, _| Op::SealDeliver { seal: s.seal.id.clone(), date }).await
}

#[utoipa::path(post, path = "/seals/{id}/recall", tag = "seals", params(("id" = String, Path, description = "The seal id")), request_body = StepBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn recall(
    State(node): State<Node>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Response, ApiError> {
    step(node, id, body, |s, date, reason| Op::SealRecall { seal: s.seal.id.clone(), date, reason }).await
}

#[utoipa::path(post, path = "/seals/{id}/archive", tag = "seals", params(("id" = String, Path, description = "The seal id")), request_body = StepBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn archive(
    State(node): State<Node>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Response, ApiError> {
    step(node, id, body, |s, date, _| Op::SealArchive { seal: s.seal.id.clone(), date }).await
}

/// `POST /seals/{id}/activate`: the holder starts using a delivered seal.
#[utoipa::path(post, path = "/seals/{id}/activate", tag = "seals", params(("id" = String, Path, description = "The seal id")), request_body = StepBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn activate(
    State(node): State<Node>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Response, ApiError> {
    let mut found = node.store().seals_by_id(&id).await?;
    found.retain(|s| body.grantor.as_ref().is_none_or(|g| &s.grantor == g) && &s.seal.holder == node.division());
    let s = match found.len() {
        1 => found.remove(0),
        0 => find_seal(&node, &id, body.grantor.as_ref()).await?,
        _ => {
            return Err(find_seal(&node, &id, None)
                .await
                .err()
                .unwrap_or_else(|| ApiError::internal("ambiguous seal")));
        }
    };
    s.check_activatable().map_err(RuleError::from)?;
    let op =
        Op::SealActivate { grantor: s.grantor.clone(), seal: s.seal.id.clone(), date: date_or_today(&node, body.date) };
    respond(&node, op, &s).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplaceBody {
    replaces: Vec<String>,
    seal: SealInput,
    date: Option<NaiveDate>,
    reason: String,
}

/// `POST /seals/replace`: a new seal (e.g. the approval bureau's) takes over old ones.
#[utoipa::path(post, path = "/seals/replace", tag = "seals", request_body = ReplaceBody, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
async fn replace(State(node): State<Node>, JsonBody(body): JsonBody<ReplaceBody>) -> Result<Response, ApiError> {
    for id in &body.replaces {
        own_seal(&node, id).await?;
    }
    let seal = resolve(&node, body.seal).await?;
    let id = seal.id.clone();
    let op =
        Op::SealReplace { replaces: body.replaces, seal, date: date_or_today(&node, body.date), reason: body.reason };
    let entry = node.write(vec![op]).await?;
    let now = find_seal(&node, &id, Some(node.division())).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "seal": seal_summary(&now) })))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CheckQuery {
    seal: Option<String>,
    item: Option<String>,
    date: Option<NaiveDate>,
    #[param(value_type = Option<String>)]
    grantor: Option<DivisionCode>,
}

/// `GET /seals/check?seal=ID&item=CODE&date=YYYY-MM-DD`: valid or not, why, and the route.
#[utoipa::path(get, path = "/seals/check", tag = "seals", params(CheckQuery), responses((status = 200, description = "The verdict, why, and the route", body = SealCheck)))]
async fn check(State(node): State<Node>, QueryParams(q): QueryParams<CheckQuery>) -> Result<Json<SealCheck>, ApiError> {
    let missing = |what: &str| ApiError::bad_query(format!("缺少参数 {what} / missing query parameter {what}"));
    let id = q.seal.filter(|s| !s.trim().is_empty()).ok_or_else(|| missing("seal"))?;
    let code = q.item.filter(|s| !s.trim().is_empty()).ok_or_else(|| missing("item"))?;
    let code = code.trim();
    let day = date_or_today(&node, q.date);
    let s = find_seal(&node, &id, q.grantor.as_ref()).await?;
    let candidates = node.store().scope_candidates(&s.seal.scope, code).await?;
    let v = verdict(&s, code, day, &candidates);
    let item_name = candidates.first().map(|(_, g)| g.name.clone());
    Ok(Json(SealCheck {
        seal: (&s).into(),
        item: code.to_string(),
        item_name,
        date: day,
        valid: v.valid,
        code: v.code,
        reason: v.reason,
        batch: v.batch,
        route: v.route,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    format: Option<String>,
    state: Option<String>,
    holder: Option<String>,
}

/// Columns of the seal register (CSV and .xlsx).
const REGISTER_HEAD: [&str; 20] = [
    "编号",
    "全称",
    "类别",
    "序号",
    "刻制部门",
    "刻制方",
    "持有方",
    "持有部门",
    "适用批次",
    "刻制日期",
    "送达日期",
    "启用日期",
    "收回日期",
    "收回理由",
    "封存日期",
    "状态",
    "替代为",
    "替代了",
    "备案号",
    "印模哈希",
];

/// One seal as a register row, in the order of `REGISTER_HEAD`.
fn register_row(s: &SealStatus) -> Vec<String> {
    let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    vec![
        s.seal.id.clone(),
        s.seal.name.clone(),
        s.seal.kind.label().to_string(),
        format!("({})", s.seal.serial),
        s.seal.issuer.clone(),
        s.grantor.to_string(),
        s.seal.holder.to_string(),
        s.seal.holder_dept.clone(),
        s.seal.scope.iter().map(ref_text).collect::<Vec<_>>().join(" "),
        s.seal.carved.to_string(),
        opt(s.delivered_on),
        opt(s.activated_on),
        opt(s.recalled_on),
        s.recall_reason.clone(),
        opt(s.archived_on),
        s.state.label().to_string(),
        s.replaced_by.clone().unwrap_or_default(),
        s.replaces.join(" "),
        s.seal.registration.clone().unwrap_or_default(),
        s.seal.image_sha256.clone().unwrap_or_default(),
    ]
}

/// `GET /seals/export?format=csv|xlsx|json`: the seal register.
#[utoipa::path(get, path = "/seals/export", tag = "seals", params(ExportQuery), responses((status = 200, description = "The seals as a sheet", content((Object = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn export(State(node): State<Node>, QueryParams(q): QueryParams<ExportQuery>) -> Result<Response, ApiError> {
    let seals = visible_seals(&node, q.state.as_deref(), q.holder.as_deref()).await?;
    match q.format.as_deref().unwrap_or("csv") {
        "json" => Ok(Json(json!({ "seals": seals.iter().map(seal_summary).collect::<Vec<_>>() })).into_response()),
        "xlsx" => {
            let table: Vec<Vec<String>> =
                seals.iter().map(|s| register_row(s).into_iter().map(escape_formula).collect()).collect();
            let bytes = table_to_xlsx("专用章登记", &REGISTER_HEAD, &table).map_err(ApiError::internal)?;
            Ok(super::public::download_response(bytes, super::items::XLSX_CONTENT_TYPE, "专用章登记.xlsx"))
        }
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(REGISTER_HEAD).map_err(ApiError::internal)?;
            for s in &seals {
                w.write_record(register_row(s)).map_err(ApiError::internal)?;
            }
            let body = w.into_inner().map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
        }
        other => Err(ApiError::bad_query(format!(
            "format 应为 csv、xlsx 或 json，而不是 “{other}” / format must be csv, xlsx or json"
        ))),
    }
}
