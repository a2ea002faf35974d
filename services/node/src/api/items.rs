//! Item routes: list with filters and paging, get, create, update elements, cancel, and the
//! all-or-nothing import and the export of the whole list.
//! Every write becomes exactly one signed entry through `Node::write`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quanze_domain::import::{ImportFormat, items_to_csv, items_to_json, items_to_xlsx, parse_items};
use quanze_domain::{Category, ItemPatch, ItemStatus, Op, PowerItem, RowError, apply_item_op};
use quanze_ledger::VerifiedEntry;
use quanze_store::{ItemFilter, ItemRow};
use serde::Deserialize;
use serde_json::json;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams, RawBody};
use crate::state::Node;

/// Largest page a listing returns.
pub const MAX_PAGE: u64 = 1000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub category: Option<String>,
    pub status: Option<String>,
    pub body: Option<String>,
    pub q: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

impl ListQuery {
    /// The store filter of this query: 400 for an unknown category or status, or a bad limit.
    pub fn filter(self) -> Result<ItemFilter, ApiError> {
        let category = self
            .category
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(str::parse::<Category>)
            .transpose()
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "UNKNOWN_CATEGORY", e.to_string()))?;
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(ItemStatus::parse(s).ok_or_else(|| {
                ApiError::bad_query(format!("未知状态 “{s}”，应为 active/cancelled/delegated / unknown status"))
            })?),
        };
        let limit = self.limit.unwrap_or(100);
        if limit == 0 || limit > MAX_PAGE {
            return Err(ApiError::bad_query(format!("limit 应在 1–{MAX_PAGE} 之间 / limit must be 1–{MAX_PAGE}")));
        }
        Ok(ItemFilter {
            category,
            status,
            implementing_body: self.body.filter(|b| !b.is_empty()),
            q: self.q.filter(|q| !q.is_empty()),
            offset: self.offset.unwrap_or(0),
            limit,
        })
    }
}

#[utoipa::path(get, path = "/items", tag = "items", params(ListQuery), responses((status = 200, description = "One page of the list", body = quanze_store::Page<ItemRow>)))]
pub async fn list(
    State(node): State<Node>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let filter = q.filter()?;
    Ok(Json(node.store().items(node.division(), &filter).await?))
}

#[utoipa::path(get, path = "/items/{code}", tag = "items", params(("code" = String, Path, description = "事项编码 / item code")), responses((status = 200, description = "The item", body = ItemRow)))]
pub async fn show(State(node): State<Node>, Path(code): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let row = node.store().item(node.division(), &code).await?;
    row.map(Json).ok_or_else(|| ApiError::not_found(format!("事项 {code} / item {code}")))
}

fn invalid_item(errors: Vec<quanze_domain::FieldError>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED", "事项不符合要求 / invalid item")
        .with_errors(errors)
}

/// New items must survive a spreadsheet round trip (`quanze_domain::import::sheet_faithful_errors`):
/// 422 `VALIDATION_FAILED` naming each field that would not.
pub(super) fn sheet_faithful(item: &PowerItem) -> Result<(), ApiError> {
    let errors = quanze_domain::import::sheet_faithful_errors(item);
    if errors.is_empty() { Ok(()) } else { Err(invalid_item(errors)) }
}

pub(super) fn written(entry: &VerifiedEntry, extra: serde_json::Value) -> serde_json::Value {
    let mut out = json!({ "entry": entry.entry_ref() });
    if let (Some(obj), serde_json::Value::Object(more)) = (out.as_object_mut(), extra) {
        obj.extend(more);
    }
    out
}

#[utoipa::path(post, path = "/items", tag = "items", request_body = PowerItem, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub async fn create(State(node): State<Node>, JsonBody(item): JsonBody<PowerItem>) -> Result<Response, ApiError> {
    let op = Op::add(item);
    // Check before signing so the answer lists every field error; the store checks again.
    let warnings = match &op {
        Op::ItemAdd { item, .. } => {
            let warnings = item.validate().map_err(invalid_item)?;
            sheet_faithful(item)?;
            warnings
        }
        _ => Vec::new(),
    };
    let entry = node.write(vec![op.clone()]).await?;
    let Op::ItemAdd { item, .. } = op else { unreachable!("built above") };
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "item": item, "warnings": warnings })))).into_response())
}

#[utoipa::path(patch, path = "/items/{code}", tag = "items", params(("code" = String, Path, description = "事项编码 / item code")), request_body = ItemPatch, responses((status = 200, description = "Signed and appended: the entry and the item", body = super::openapi::WrittenSchema)))]
pub async fn update(
    State(node): State<Node>,
    Path(code): Path<String>,
    JsonBody(patch): JsonBody<ItemPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let op = Op::update(code.clone(), patch);
    let current = node.store().item(node.division(), &code).await?.map(|r| r.item);
    let next = apply_item_op(current.as_ref(), &op)?;
    sheet_faithful(&next)?;
    let entry = node.write(vec![op]).await?;
    Ok(Json(written(&entry, json!({ "item": next }))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    reason: String,
}

#[utoipa::path(post, path = "/items/{code}/cancel", tag = "items", params(("code" = String, Path, description = "事项编码 / item code")), request_body = CancelBody, responses((status = 200, description = "Signed and appended: the entry and the item", body = super::openapi::WrittenSchema)))]
pub async fn cancel(
    State(node): State<Node>,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<impl IntoResponse, ApiError> {
    let op = Op::cancel(code.clone(), body.reason);
    let current = node.store().item(node.division(), &code).await?.map(|r| r.item);
    let next = apply_item_op(current.as_ref(), &op)?;
    let entry = node.write(vec![op]).await?;
    Ok(Json(written(&entry, json!({ "item": next }))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    format: Option<String>,
}

fn format_of(q: &FormatQuery) -> Result<ImportFormat, ApiError> {
    q.format
        .as_deref()
        .unwrap_or("json")
        .parse()
        .map_err(|e: quanze_domain::import::UnknownFormat| ApiError::bad_query(e.to_string()))
}

/// Imports a whole file as one entry: every row passes, or nothing is written and every bad
/// row is named.
#[utoipa::path(post, path = "/import", tag = "items", params(FormatQuery), request_body(content((Object = "application/json"), (String = "text/csv"), (Vec<u8> = "application/octet-stream")), description = "The whole file: JSON, CSV, .xlsx or .xls"), responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub async fn import(
    State(node): State<Node>,
    QueryParams(q): QueryParams<FormatQuery>,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let format = format_of(&q)?;
    let refused = |errors: Vec<RowError>| {
        let n = errors.len();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IMPORT_INVALID",
            format!("导入失败，共 {n} 处错误，未导入任何事项 / import refused: {n} errors, nothing imported"),
        )
        .with_errors(errors)
    };
    let batch = parse_items(format, &bytes).map_err(|e| refused(e.errors))?;
    let mut clashes = Vec::new();
    for (item, row) in batch.items.iter().zip(&batch.rows) {
        if node.store().item(node.division(), &item.code).await?.is_some() {
            let message = format!("事项编码 “{}” 在清单中已存在 / code already in the list", item.code);
            let clash = RowError::new(*row, Some(quanze_domain::Field::Code), message);
            clashes.push(match &batch.sheet {
                Some(sheet) => clash.in_sheet(sheet),
                None => clash,
            });
        }
    }
    if !clashes.is_empty() {
        return Err(refused(clashes));
    }
    let count = batch.items.len();
    let ops = batch.items.into_iter().map(Op::add).collect();
    let entry = node.write(ops).await?;
    let mut answer = json!({ "imported": count, "warnings": batch.warnings });
    if let Some(sheet) = batch.sheet {
        answer["sheet"] = json!(sheet);
    }
    Ok((StatusCode::CREATED, Json(written(&entry, answer))).into_response())
}

/// Content type of an .xlsx workbook.
pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The whole list (every status) as CSV, JSON or an .xlsx workbook (a download named
/// `<division>-权责清单.xlsx`), ordered by code.
#[utoipa::path(get, path = "/export", tag = "items", params(FormatQuery), responses((status = 200, description = "The whole list", content((Vec<PowerItem> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn export(State(node): State<Node>, QueryParams(q): QueryParams<FormatQuery>) -> Result<Response, ApiError> {
    let format = format_of(&q)?;
    if format == ImportFormat::Xls {
        return Err(ApiError::bad_query(
            "导出仅支持 csv、xlsx 或 json（.xls 为旧格式，只能导入）/ export supports csv, xlsx or json; .xls is import only",
        ));
    }
    let mut items = Vec::new();
    let mut filter = ItemFilter { limit: MAX_PAGE, ..Default::default() };
    loop {
        let page = node.store().items(node.division(), &filter).await?;
        let n = page.items.len() as u64;
        items.extend(page.items.into_iter().map(|r| r.item));
        if n < filter.limit {
            break;
        }
        filter.offset += n;
    }
    let (body, content_type) = match format {
        ImportFormat::Csv => (items_to_csv(&items).into_bytes(), "text/csv; charset=utf-8"),
        ImportFormat::Json => (items_to_json(&items).into_bytes(), "application/json"),
        ImportFormat::Xlsx | ImportFormat::Xls => {
            let bytes = items_to_xlsx(&items).map_err(ApiError::internal)?;
            let name = format!("{}-权责清单.xlsx", node.division());
            return Ok(super::public::download_response(bytes, XLSX_CONTENT_TYPE, &name));
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The item routes.
pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(cancel))
        .routes(routes!(import))
        .routes(routes!(export))
}
