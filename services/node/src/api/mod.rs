//! The HTTP surface of a node: `/healthz`, `/metrics` and the REST API under `/api/v1`.
//!
//! Owns routing, the body limit, request counting and where authentication sits: one
//! middleware (`crate::auth::authenticate`) wraps every route, the fallbacks included, and
//! applies the access table of `auth/access.rs`. Routes must be added before that layer.
//! Handlers call `Node` and the store, and never sign or write SQL themselves.

pub mod audit;
pub mod auth;
mod calendar;
mod catalogue_sheet;
mod checkpoints;
mod error;
pub(crate) mod fed;
mod grant_sheet;
pub(crate) mod grants;
pub mod items;
pub mod limits;
mod log;
pub mod openapi;
#[cfg(test)]
mod openapi_coverage;
mod public;
pub mod public_page;
mod public_schema;
pub(crate) mod recon;
pub mod recon_board;
mod recon_schema;
pub(crate) mod recon_tasks;
mod request_view;
pub mod requests;
mod seal_view;
pub(crate) mod seals;
mod users;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, QueryParams, parse_json};

use crate::state::Node;

/// The routes under `/api/v1`, each registered with its description (`routes!`): add a route
/// here or in its module's `routes()`, never with a plain `.route(...)` (see ARCHITECTURE.md,
/// "API description"; `openapi_coverage.rs` fails on an undescribed route).
fn api_routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(node_info))
        .merge(items::routes())
        .merge(log::routes())
        .merge(fed::routes())
        .merge(calendar::routes())
        .merge(recon::routes())
        .routes(routes!(grant_sheet::issue_sheet))
        .merge(catalogue_sheet::routes())
        .merge(grants::routes())
        .merge(seals::routes())
        .merge(audit::routes())
        .merge(requests::routes())
        .merge(public::api_routes())
        .merge(auth::routes())
        .merge(users::routes())
        .merge(checkpoints::routes())
}

/// The routes outside `/api/v1`: liveness, metrics, this description, the public pages and the
/// console.
fn site_routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(openapi::openapi_json))
        .merge(public::page_routes())
        .merge(crate::console::routes())
}

/// The OpenAPI document of every route (served at `/openapi.json`).
pub fn description() -> utoipa::openapi::OpenApi {
    openapi::document(site_routes().nest("/api/v1", api_routes()).into_openapi())
}

/// Every route with its fallbacks, before the layers and the state.
fn routes() -> Router<Node> {
    let api = api_routes()
        .split_for_parts()
        .0
        .fallback(|| async { ApiError::not_found("该接口 / this API route") })
        .method_not_allowed_fallback(method_not_allowed);
    site_routes()
        .split_for_parts()
        .0
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("该路径 / this path") })
        .method_not_allowed_fallback(method_not_allowed)
}

/// The node's router; a request body must arrive within `body_read_timeout` (`limits.rs` holds
/// the body limit of every route).
pub fn router(node: Node, body_read_timeout: Duration) -> Router {
    routes()
        // Every route above, by the full path; see `auth/access.rs` for who may call what.
        .layer(middleware::from_fn_with_state(node.clone(), crate::auth::authenticate))
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(move |req, next| limits::limit_body(body_read_timeout, req, next)))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn_with_state(node.clone(), count_requests))
        .with_state(node)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "该接口不支持此方法 / method not allowed on this route",
    )
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// This node: division, tier, name, keys, storage engine, log head and item count.
#[utoipa::path(get, path = "/node", tag = "node", responses((status = 200, description = "The node", body = NodeInfo)))]
async fn node_info(State(node): State<Node>) -> Result<axum::Json<NodeInfo>, ApiError> {
    Ok(axum::Json(NodeInfo {
        division: node.division().clone(),
        tier: node.tier(),
        name: node.name().to_string(),
        public_key: node.public_key(),
        cert_sha256: crate::federation::invite::fingerprint(node.cert_der()),
        engine: node.store().engine(),
        head: node.head().await,
        items: node.store().count_items(node.division()).await?,
    }))
}

/// `GET /api/v1/node`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct NodeInfo {
    #[schema(value_type = String, example = "510521")]
    division: quanze_domain::DivisionCode,
    #[schema(value_type = String, example = "county")]
    tier: quanze_domain::Tier,
    name: String,
    /// Ed25519 public key (`ed25519:` and base64).
    #[schema(value_type = String)]
    public_key: quanze_ledger::PublicKey,
    /// SHA-256 of the node's TLS certificate, the pin its children use.
    cert_sha256: String,
    /// `sqlite` or `postgres`.
    #[schema(value_type = String)]
    engine: quanze_store::Engine,
    /// The own log's head; `null` before the first entry.
    #[schema(value_type = Option<openapi::ChainHeadSchema>)]
    head: Option<quanze_ledger::ChainHead>,
    items: u64,
}

async fn count_requests(State(node): State<Node>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let c = node.counters();
    c.http_requests.fetch_add(1, Ordering::Relaxed);
    if res.status().is_client_error() {
        c.http_client_errors.fetch_add(1, Ordering::Relaxed);
    } else if res.status().is_server_error() {
        c.http_server_errors.fetch_add(1, Ordering::Relaxed);
    }
    tracing::debug!(%method, %path, status = res.status().as_u16(), "request");
    res
}

/// Prometheus text exposition of the node's counters and sizes.
#[utoipa::path(get, path = "/metrics", tag = "meta", security(()), responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
async fn metrics(State(node): State<Node>) -> Result<Response, ApiError> {
    let c = node.counters();
    let items = node.store().count_items(node.division()).await?;
    let entries = node.store().count_entries().await?;
    let head = node.head().await.map_or(0, |h| h.seq);
    let rss = crate::rss::current_rss_bytes().unwrap_or(0);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    };
    metric("quanze_http_requests_total", "counter", "HTTP requests served.", c.http_requests.load(Ordering::Relaxed));
    metric(
        "quanze_http_client_errors_total",
        "counter",
        "HTTP 4xx answers.",
        c.http_client_errors.load(Ordering::Relaxed),
    );
    metric(
        "quanze_http_server_errors_total",
        "counter",
        "HTTP 5xx answers.",
        c.http_server_errors.load(Ordering::Relaxed),
    );
    metric(
        "quanze_entries_written_total",
        "counter",
        "Entries this process appended to the own log.",
        c.entries_written.load(Ordering::Relaxed),
    );
    metric("quanze_ops_written_total", "counter", "Ops in those entries.", c.ops_written.load(Ordering::Relaxed));
    metric(
        "quanze_entries_received_total",
        "counter",
        "Entries of other logs verified and applied.",
        c.entries_received.load(Ordering::Relaxed),
    );
    metric(
        "quanze_entries_refused_total",
        "counter",
        "Delivered entries refused, forked or quarantined.",
        c.entries_refused.load(Ordering::Relaxed),
    );
    metric("quanze_entries_stored", "gauge", "Entries stored, all origins.", entries);
    metric("quanze_items", "gauge", "Items in the own list.", items);
    metric("quanze_own_log_seq", "gauge", "Seq of the own log head.", head);
    metric("quanze_resident_memory_bytes", "gauge", "Resident set size.", rss);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
