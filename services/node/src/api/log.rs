//! Log routes: read entries (exact signed bytes plus a decoded view), verify every stored
//! entry, and rebuild the projections from the entries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use quanze_domain::DivisionCode;
use quanze_ledger::{EntryBody, SignedEntryWire};
use serde::{Deserialize, Serialize};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, QueryParams};
use crate::state::Node;
use crate::verify_log::verify_store;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    pub origin: Option<String>,
    pub after: Option<u64>,
    pub limit: Option<u64>,
}

/// `GET /log`: entries of one log after a seq.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    /// The log's division code.
    pub origin: DivisionCode,
    pub entries: Vec<LogEntry>,
}

/// One entry as the API shows it: the wire form (what a peer would verify) and its decoded body.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub seq: u64,
    #[serde(flatten)]
    #[schema(value_type = super::openapi::SignedEntryWireSchema)]
    pub wire: SignedEntryWire,
    /// The body decoded for reading (`{v, origin, seq, prev, at, op}`); `null` when the stored
    /// bytes do not decode.
    #[schema(value_type = Option<Object>, required = true)]
    pub decoded: Option<EntryBody>,
}

#[utoipa::path(get, path = "/log", tag = "log", params(LogQuery), responses((status = 200, description = "Entries of the log", body = LogPage)))]
pub async fn show(State(node): State<Node>, QueryParams(q): QueryParams<LogQuery>) -> Result<Json<LogPage>, ApiError> {
    let origin = match q.origin.as_deref() {
        None | Some("") => node.division().clone(),
        Some(o) => DivisionCode::parse(o).map_err(|e| ApiError::bad_query(e.to_string()))?,
    };
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_query("limit 应在 1–1000 之间 / limit must be 1–1000"));
    }
    let stored = node.store().entries(&origin, q.after.unwrap_or(0), limit).await?;
    let entries: Vec<LogEntry> = stored
        .into_iter()
        .map(|s| {
            let decoded = serde_json::from_slice(s.entry.bytes()).ok();
            let wire = SignedEntryWire {
                body: String::from_utf8_lossy(s.entry.bytes()).into_owned(),
                sig: hex::encode(s.entry.sig()),
                hash: s.stored_hash().unwrap_or(quanze_ledger::Hash([0; 32])),
            };
            LogEntry { seq: s.seq, wire, decoded }
        })
        .collect();
    Ok(Json(LogPage { origin, entries }))
}

#[utoipa::path(get, path = "/log/verify", tag = "log", responses((status = 200, description = "Every stored entry verifies", body = crate::verify_log::VerifyReport), (status = 409, description = "Some entry does not verify: the report", body = crate::verify_log::VerifyReport)))]
pub async fn verify(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let fallback = |origin: &DivisionCode, _seq: u64| node.own_key_fallback(origin);
    let report = verify_store(node.store(), &fallback).await.map_err(ApiError::internal)?;
    let status = if report.ok { StatusCode::OK } else { StatusCode::CONFLICT };
    Ok((status, Json(report)))
}

#[utoipa::path(post, path = "/admin/rebuild", tag = "log", responses((status = 200, description = "OK", body = Object)))]
pub async fn rebuild(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let replayed = node.rebuild().await.map_err(|e| match e {
        quanze_store::StoreError::Corrupt(m) => ApiError::new(
            StatusCode::CONFLICT,
            "LOG_CORRUPT",
            format!("条目校验失败，投影未改变 / verification failed, projections unchanged: {m}"),
        ),
        other => ApiError::internal(other),
    })?;
    Ok(Json(serde_json::json!({ "replayed": replayed })))
}

/// The log routes.
pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(show)).routes(routes!(verify)).routes(routes!(rebuild))
}
