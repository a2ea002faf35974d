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
mod fed;
mod grant_sheet;
pub(crate) mod grants;
pub mod items;
pub mod limits;
mod log;
mod public;
pub mod public_page;
pub(crate) mod recon;
pub mod recon_board;
pub(crate) mod recon_tasks;
pub mod requests;
pub(crate) mod seals;
mod users;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::{ApiError, QueryParams, parse_json};

use crate::state::Node;

/// The node's router; a request body must arrive within `body_read_timeout` (`limits.rs` holds
/// the body limit of every route).
pub fn router(node: Node, body_read_timeout: Duration) -> Router {
    let api = Router::new()
        .route("/node", get(node_info))
        .route("/items", get(items::list).post(items::create))
        .route("/items/{code}", get(items::show).patch(items::update))
        .route("/items/{code}/cancel", post(items::cancel))
        .route("/import", post(items::import))
        .route("/export", get(items::export))
        .route("/log", get(log::show))
        .route("/log/verify", get(log::verify))
        .route("/admin/rebuild", post(log::rebuild))
        .route("/fed/heads", get(fed::heads))
        .route("/fed/pull", get(fed::pull))
        .route("/fed/push", post(fed::push))
        .route("/fed/enroll", post(fed::enroll))
        .route("/fed/recover", get(fed::recover))
        .route("/fed/invites", post(fed::create_invite))
        .route("/fed/children/{division}/revoke", post(fed::revoke))
        .route("/fed/resolve", post(fed::resolve))
        .route("/fed/key/rotate", post(fed::rotate))
        .route("/fed/status", get(fed::status))
        .merge(calendar::routes())
        .merge(recon::routes())
        .route("/grants/sheet", post(grant_sheet::issue_sheet))
        .merge(catalogue_sheet::routes())
        .merge(grants::routes())
        .merge(seals::routes())
        .merge(audit::routes())
        .merge(requests::routes())
        .merge(public::api_routes())
        .merge(auth::routes())
        .merge(users::routes())
        .merge(checkpoints::routes())
        .fallback(|| async { ApiError::not_found("该接口 / this API route") })
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .merge(public::page_routes())
        .merge(crate::console::routes())
        .fallback(|| async { ApiError::not_found("该路径 / this path") })
        .method_not_allowed_fallback(method_not_allowed)
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

async fn healthz() -> &'static str {
    "ok\n"
}

async fn node_info(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let head = node.head().await;
    Ok(axum::Json(serde_json::json!({
        "division": node.division(),
        "tier": node.tier(),
        "name": node.name(),
        "public_key": node.public_key(),
        "cert_sha256": crate::federation::invite::fingerprint(node.cert_der()),
        "engine": node.store().engine(),
        "head": head,
        "items": node.store().count_items(node.division()).await?,
    })))
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
