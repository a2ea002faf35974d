//! `POST /grants/sheet?format=xlsx&doc_no=…&title=…&grantee=…[&issued=…][&training_months=…]`:
//! a grant batch whose items come from an uploaded sheet (.xlsx, .xls or .csv) — what the
//! console's upload sends. The sheet is read by the domain's grant sheet rules; a sheet with any
//! bad row gets 422 `IMPORT_INVALID` with every row error and nothing is issued. The batch then
//! goes exactly where `POST /grants` sends a JSON batch.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use quanze_domain::import::{ImportFormat, parse_grant_sheet};
use quanze_domain::{DivisionCode, GrantBatch};
use serde::Deserialize;

use utoipa::IntoParams;

use super::error::{ApiError, JsonBody, QueryParams, RawBody};
use crate::state::Node;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SheetQuery {
    format: Option<String>,
    doc_no: Option<String>,
    title: Option<String>,
    grantee: Option<String>,
    issued: Option<String>,
    training_months: Option<u32>,
}

/// Default 培训指导期 (months) when the form leaves it out.
const DEFAULT_TRAINING_MONTHS: u32 = 3;

fn required(value: Option<String>, key: &str, label: &str) -> Result<String, ApiError> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "GRANT_FIELD_MISSING",
            format!("请填写{label} / {key} is required"),
        )
    })
}

/// The batch header of the query (400/422 naming the field), before the sheet is read.
fn header(node: &Node, q: SheetQuery) -> Result<(ImportFormat, GrantBatch), ApiError> {
    let format: ImportFormat = q
        .format
        .as_deref()
        .unwrap_or("xlsx")
        .parse()
        .map_err(|e: quanze_domain::import::UnknownFormat| ApiError::bad_query(e.to_string()))?;
    let doc_no = required(q.doc_no, "doc_no", "文号")?;
    let title = required(q.title, "title", "标题")?;
    let grantee_text = required(q.grantee, "grantee", "承接方区划代码")?;
    let grantee = DivisionCode::parse(&grantee_text).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "GRANT_FIELD_INVALID", format!("承接方：{e} / grantee"))
    })?;
    let issued = match q.issued.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => node.today(),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "GRANT_FIELD_INVALID",
                format!("印发日期 “{d}” 应为 YYYY-MM-DD / issued must be YYYY-MM-DD"),
            )
        })?,
    };
    let training_months = q.training_months.unwrap_or(DEFAULT_TRAINING_MONTHS);
    Ok((format, GrantBatch { doc_no, title, issued, grantee, training_months, items: Vec::new() }))
}

#[utoipa::path(post, path = "/grants/sheet", tag = "grants", params(SheetQuery), request_body(content((String = "text/csv"), (Vec<u8> = "application/octet-stream")), description = "The grant sheet: CSV, .xlsx or .xls"), responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub async fn issue_sheet(
    State(node): State<Node>,
    QueryParams(q): QueryParams<SheetQuery>,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let (format, mut batch) = header(&node, q)?;
    batch.items = parse_grant_sheet(format, &bytes).map_err(|e| {
        let n = e.errors.len();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IMPORT_INVALID",
            format!("赋权事项表有 {n} 处错误，未发出任何赋权 / the grant sheet has {n} errors; nothing was issued"),
        )
        .with_errors(e.errors)
    })?;
    super::grants::issue(State(node), JsonBody(batch)).await
}
