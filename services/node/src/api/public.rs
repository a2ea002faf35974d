//! The public list (权责清单公开): read-only, no login. The node's current list with search,
//! each item's elements and flow, the history of its changes with the requests and documents
//! that made them, downloads, and a signed digest proving the published list is the list the
//! node runs.
//!
//! Owns the public JSON routes under `/api/v1/public/` and the pages under `/public`
//! (rendered by `public_page.rs`). Shows only published things: items of the list, published
//! requests and the attachments they cite; never drafts, accounts or the trace's comments.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use quanze_domain::{Category, DivisionCode, PowerItem, items_to_csv, items_to_xlsx};
use quanze_store::{ItemFilter, ItemHistoryRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, QueryParams};
use super::public_page;
use super::public_schema::{
    ComputedDigest, ItemVersion, PublicDigest, PublicItem, PublicList, PublicListRow, PublishedDocument,
    PublishedRequest, PublishedStep, SignedDigest,
};
use crate::state::Node;

/// Routes nested under `/api/v1`.
pub fn api_routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(item))
        .routes(routes!(download))
        .routes(routes!(digest))
        .routes(routes!(attachment))
}

/// The HTML pages, at the top level.
pub fn page_routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(index_page)).routes(routes!(item_page))
}

const PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Text in the name or code.
    pub q: Option<String>,
    pub category: Option<String>,
    /// The implementing department (exact).
    pub department: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn filter_of(q: &SearchQuery) -> Result<ItemFilter, ApiError> {
    let category = match nonempty(&q.category) {
        Some(c) => Some(c.parse::<Category>().map_err(|e| ApiError::bad_query(format!("category：{e}")))?),
        None => None,
    };
    Ok(ItemFilter {
        category,
        status: None,
        implementing_body: nonempty(&q.department),
        q: nonempty(&q.q),
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(PAGE).clamp(1, 500),
    })
}

/// A page of the published list (cancelled items stay listed with their status).
pub async fn search(node: &Node, q: &SearchQuery) -> Result<(u64, Vec<PowerItem>), ApiError> {
    let filter = filter_of(q)?;
    let page = node.store().items(node.division(), &filter).await?;
    Ok((page.total, page.items.into_iter().map(|r| r.item).collect()))
}

/// `GET /api/v1/public/list?q=&category=&department=&offset=&limit=`
#[utoipa::path(get, path = "/public/list", tag = "public", params(SearchQuery), responses((status = 200, description = "One page of the published list", body = PublicList)), security(()))]
async fn list(
    State(node): State<Node>,
    QueryParams(q): QueryParams<SearchQuery>,
) -> Result<Json<PublicList>, ApiError> {
    let (total, items) = search(&node, &q).await?;
    let items = items
        .into_iter()
        .map(|i| PublicListRow {
            code: i.code,
            name: i.name,
            category: i.category.label().to_string(),
            implementing_body: i.implementing_body,
            status: i.status,
        })
        .collect();
    Ok(Json(PublicList { division: node.division().clone(), name: node.name().to_string(), total, items }))
}

/// One item's public data: elements, flow and the history with its documents.
pub async fn item_record(node: &Node, code: &str) -> Result<PublicItem, ApiError> {
    let row = node
        .store()
        .item(node.division(), code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("事项 {code} / item")))?;
    let history = node.store().item_history(node.division(), code).await?;
    let mut changes = Vec::new();
    for h in &history {
        changes.push(item_version(node, h).await?);
    }
    Ok(PublicItem { division: node.division().clone(), item: row.item, history: changes })
}

/// The same as JSON, for the public item page.
pub async fn item_view(node: &Node, code: &str) -> Result<Value, ApiError> {
    serde_json::to_value(item_record(node, code).await?).map_err(ApiError::internal)
}

async fn item_version(node: &Node, h: &ItemHistoryRow) -> Result<ItemVersion, ApiError> {
    let mut request = None;
    if let Some(id) = h.request
        && let Some((r, steps)) = node.store().request(node.division(), id).await?
    {
        let p = r.proposal;
        let decided = steps.iter().rev().find(|s| s.action == "approve").and_then(|s| s.stage.map(|st| st.label()));
        request = Some(PublishedRequest {
            id: r.id,
            title: p.title,
            kind: p.kind.label().to_string(),
            trigger: p.trigger.label().to_string(),
            trigger_date: p.trigger_date,
            department: p.department,
            reason: p.reason,
            filed_on: r.filed_on,
            decided_by: decided,
            flow: steps
                .into_iter()
                .map(|s| PublishedStep {
                    action: s.action,
                    stage: s.stage.map(|st| st.label()),
                    role: s.actor.role.label().to_string(),
                    at: s.at,
                })
                .collect(),
            documents: p
                .attachments
                .into_iter()
                .map(|a| PublishedDocument {
                    url: format!("/api/v1/public/attachments/{}", a.sha256),
                    name: a.name,
                    sha256: a.sha256,
                    size: a.size,
                })
                .collect(),
        });
    }
    Ok(ItemVersion { seq: h.seq, day: h.day.clone(), name: h.name.clone(), status: h.status.clone(), request })
}

/// `GET /api/v1/public/items/{code}`
#[utoipa::path(get, path = "/public/items/{code}", tag = "public", params(("code" = String, Path, description = "事项编码 / item code")), responses((status = 200, description = "The item and its history", body = PublicItem)), security(()))]
async fn item(State(node): State<Node>, Path(code): Path<String>) -> Result<Json<PublicItem>, ApiError> {
    Ok(Json(item_record(&node, &code).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    format: Option<String>,
}

/// Every item of a list as held (cancelled ones with their status), by code.
async fn published_items(node: &Node, list: &DivisionCode) -> Result<Vec<PowerItem>, ApiError> {
    let mut items = Vec::new();
    let mut filter = ItemFilter { limit: 1000, ..Default::default() };
    loop {
        let page = node.store().items(list, &filter).await?;
        let n = page.items.len() as u64;
        items.extend(page.items.into_iter().map(|r| r.item));
        if n < filter.limit {
            break;
        }
        filter.offset += n;
    }
    items.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(items)
}

/// The exact bytes of the JSON download: RFC 8785 canonical JSON of `{division, items}`, so
/// anyone can hash what they downloaded and compare it with the signed digest.
async fn list_bytes(node: &Node, list: &DivisionCode) -> Result<(Vec<u8>, usize), ApiError> {
    let items = published_items(node, list).await?;
    let bytes =
        quanze_ledger::to_canonical_vec(&json!({ "division": list, "items": items })).map_err(ApiError::internal)?;
    Ok((bytes, items.len()))
}

/// `GET /api/v1/public/download?format=json|csv|xlsx`
#[utoipa::path(get, path = "/public/download", tag = "public", params(FormatQuery), responses((status = 200, description = "The published list", content((Object = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))), security(()))]
async fn download(State(node): State<Node>, QueryParams(q): QueryParams<FormatQuery>) -> Result<Response, ApiError> {
    let file = format!("{}-权责清单", node.division());
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let (bytes, _) = list_bytes(&node, node.division()).await?;
            Ok(download_response(bytes, "application/json", &format!("{file}.json")))
        }
        "csv" => {
            let items = published_items(&node, node.division()).await?;
            Ok(download_response(items_to_csv(&items).into_bytes(), "text/csv; charset=utf-8", &format!("{file}.csv")))
        }
        "xlsx" => {
            let items = published_items(&node, node.division()).await?;
            let bytes = items_to_xlsx(&items).map_err(ApiError::internal)?;
            Ok(download_response(bytes, super::items::XLSX_CONTENT_TYPE, &format!("{file}.xlsx")))
        }
        other => Err(ApiError::bad_query(format!(
            "format 应为 json、csv 或 xlsx，而不是 “{other}” / format must be json, csv or xlsx"
        ))),
    }
}

pub(super) fn download_response(bytes: Vec<u8>, content_type: &str, name: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", super::requests::rfc5987(name));
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

/// What the node signs about its published list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DigestStatement {
    pub division: String,
    /// The node's own log head the list was read at.
    pub head_seq: u64,
    pub items: u64,
    /// SHA-256 of the JSON download's bytes.
    pub sha256: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DigestQuery {
    /// Another node of the federation, computed from its log as this node holds it (unsigned).
    node: Option<String>,
}

/// The digest of a list as this node holds it.
pub async fn digest_of(node: &Node, list: &DivisionCode) -> Result<DigestStatement, ApiError> {
    let head = node.store().head(list).await?.map_or(0, |h| h.seq);
    let (bytes, n) = list_bytes(node, list).await?;
    Ok(DigestStatement {
        division: list.to_string(),
        head_seq: head,
        items: n as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// The node's own digest, signed with its key over the statement's canonical JSON.
pub async fn signed_digest(node: &Node) -> Result<SignedDigest, ApiError> {
    let statement = digest_of(node, node.division()).await?;
    let bytes = quanze_ledger::to_canonical_vec(&statement).map_err(ApiError::internal)?;
    let signature = node.sign_statement(&bytes).await;
    // The latest checkpoint of our log cosigned by the parent: the history the parent vouches for.
    let checkpoint = node.store().latest_checkpoint(node.division()).await?;
    Ok(SignedDigest {
        checkpoint,
        statement,
        signature,
        public_key: node.public_key().to_hex(),
        signed: true,
        how_to_verify: "下载 JSON 清单（/api/v1/public/download?format=json），计算其 SHA-256 与 statement.sha256 比对；\
            用节点公钥按 Ed25519 验证 statement 的 RFC 8785 规范 JSON 的签名 / hash the JSON download and compare; \
            verify the Ed25519 signature over the statement's canonical JSON",
    })
}

/// `GET /api/v1/public/digest[?node=]`
#[utoipa::path(get, path = "/public/digest", tag = "public", params(DigestQuery), responses((status = 200, description = "The signed digest, or another node's computed one", body = PublicDigest)), security(()))]
async fn digest(
    State(node): State<Node>,
    QueryParams(q): QueryParams<DigestQuery>,
) -> Result<Json<PublicDigest>, ApiError> {
    match nonempty(&q.node) {
        Some(code) if code != node.division().as_str() => {
            let list = DivisionCode::parse(&code).map_err(|e| ApiError::bad_query(format!("node：{e}")))?;
            if node.store().head(&list).await?.is_none() {
                return Err(ApiError::not_found(format!("节点 {code} 的日志 / the log of node {code}")));
            }
            let statement = digest_of(&node, &list).await?;
            let computed_by = node.division().clone();
            Ok(Json(PublicDigest::Computed(ComputedDigest { statement, signed: false, computed_by })))
        }
        _ => Ok(Json(PublicDigest::Signed(Box::new(signed_digest(&node).await?)))),
    }
}

/// `GET /api/v1/public/attachments/{sha256}`: a document cited by a published request.
#[utoipa::path(get, path = "/public/attachments/{sha256}", tag = "public", params(("sha256" = String, Path, description = "SHA-256 of the attachment, hex")), responses((status = 200, description = "The attachment", content_type = "application/octet-stream", body = Vec<u8>)), security(()))]
async fn attachment(State(node): State<Node>, Path(sha): Path<String>) -> Result<Response, ApiError> {
    if !node.store().attachment_published(node.division(), &sha).await? {
        return Err(ApiError::not_found(format!("公开附件 {sha} / published attachment")));
    }
    super::requests::attachment_response(&node, &sha).await
}

#[utoipa::path(get, path = "/public", tag = "pages", params(SearchQuery), responses((status = 200, description = "公开清单页面 / the public list page", content_type = "text/html", body = String)), security(()))]
async fn index_page(State(node): State<Node>, QueryParams(q): QueryParams<SearchQuery>) -> Result<Response, ApiError> {
    let (total, items) = search(&node, &q).await?;
    let digest = serde_json::to_value(signed_digest(&node).await?).map_err(ApiError::internal)?;
    Ok(Html(public_page::index(&node, &q, total, &items, &digest)).into_response())
}

#[utoipa::path(get, path = "/public/items/{code}", tag = "pages", params(("code" = String, Path, description = "事项编码 / item code")), responses((status = 200, description = "公开事项页面 / the public page of an item", content_type = "text/html", body = String)), security(()))]
async fn item_page(State(node): State<Node>, Path(code): Path<String>) -> Result<Response, ApiError> {
    match item_view(&node, &code).await {
        Ok(view) => Ok(Html(public_page::item(&node, &view)).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            Ok((StatusCode::NOT_FOUND, Html(public_page::not_found(&node, &code))).into_response())
        }
        Err(e) => Err(e),
    }
}
