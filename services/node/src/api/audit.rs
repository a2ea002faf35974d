//! The audit route (`GET /audit`) and the task that keeps the node's cached findings current.
//!
//! An audit of today reads the cache the store refreshes partition by partition as entries
//! arrive; an audit of a past day (or `source=full`) is recomputed from the entries of that day
//! or before, so it never changes once every log has been received past that day. The rules
//! are the domain's, the facts the store's; this file picks the path, renders the answer (JSON,
//! CSV, .xlsx, HTML) and never writes anything but the cache.

use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quanze_domain::audit::{AuditReport, NodeFact, Scope, evaluate};
use quanze_domain::import::table_to_xlsx;
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, QueryParams};
use crate::state::Node;
use utoipa::IntoParams;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// `510000`, `510500` or `tier:county`; default: this node's subtree.
    scope: Option<String>,
    /// Default: today (China time).
    as_of: Option<String>,
    /// json (default), csv, xlsx (the CSV's columns) or html.
    format: Option<String>,
    /// auto (default: the cache for today, a recomputation for a past day) or full.
    source: Option<String>,
}

/// One refresh at a time per process (the route's and the background task's), so two never
/// rewrite the same partition at once.
static REFRESH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn refresh(node: &Node, extra: &[NodeFact]) -> Result<quanze_store::RefreshStats, quanze_store::StoreError> {
    let _one = REFRESH.lock().await;
    node.store().audit_refresh(extra).await
}

/// Which path produced a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Full,
}

/// The node itself, named as configured (the store knows other nodes by their enrolment).
fn me(node: &Node) -> Vec<NodeFact> {
    vec![NodeFact { division: node.division().clone(), name: node.name().to_string() }]
}

/// Runs an audit of `scope` as of `as_of` (today when `None`), from the cache or recomputed.
pub async fn run(
    node: &Node,
    scope: &Scope,
    as_of: Option<NaiveDate>,
    force_full: bool,
) -> Result<(AuditReport, Source), ApiError> {
    let today = node.today();
    let as_of = as_of.unwrap_or(today);
    if as_of > today {
        return Err(ApiError::bad_query(format!(
            "审计日期 {as_of} 晚于今天 {today}：只能审计已经发生的状态 / as_of is in the future"
        )));
    }
    let store = node.store();
    let extra = me(node);
    let (mut report, source) = if as_of == today && !force_full {
        refresh(node, &extra).await?;
        let nodes = store.audit_nodes(as_of, &extra).await?;
        let evaluation = store.audit_cached(&|d| scope.contains(d), as_of).await?;
        (AuditReport::build(scope, as_of, &nodes, evaluation), Source::Cache)
    } else {
        let input = store.audit_input(scope, as_of, &extra).await?;
        let calendar = store.calendar().await?;
        let evaluation = evaluate(&input, &calendar, Some(as_of))?;
        let report = AuditReport::build(scope, as_of, &input.nodes, evaluation);
        // A province's facts are millions of strings: freeing them takes about a second, which
        // the answer need not wait for.
        tokio::task::spawn_blocking(move || drop(input));
        (report, Source::Full)
    };
    store.fill_evidence_hashes(&mut report.findings).await?;
    Ok((report, source))
}

/// The scope a query names (`510000`, `tier:county`); default: this node's subtree.
pub fn parse_scope(node: &Node, given: Option<&str>) -> Result<Scope, ApiError> {
    match given.map(str::trim) {
        None | Some("") => Ok(Scope::Division(node.division().clone())),
        Some(s) => Scope::parse(s).map_err(ApiError::bad_query),
    }
}

/// The day a query names (`YYYY-MM-DD`); `None` for today.
pub fn parse_as_of(given: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match given.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => d
            .parse::<NaiveDate>()
            .map(Some)
            .map_err(|_| ApiError::bad_query(format!("审计日期“{d}”应为 YYYY-MM-DD / as_of must be a date"))),
    }
}

#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, description = "The audit", content((Object = "application/json"), (String = "text/csv"), (String = "text/html"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn audit(State(node): State<Node>, QueryParams(q): QueryParams<AuditQuery>) -> Result<Response, ApiError> {
    let scope = parse_scope(&node, q.scope.as_deref())?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let force_full = match q.source.as_deref().unwrap_or("auto") {
        "auto" => false,
        "full" => true,
        other => {
            return Err(ApiError::bad_query(format!("source“{other}”应为 auto 或 full / source must be auto or full")));
        }
    };
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "html" | "xlsx") {
        return Err(ApiError::bad_query(format!(
            "格式“{format}”应为 json、csv、xlsx 或 html / format must be json, csv, xlsx or html"
        )));
    }
    let (report, source) = run(&node, &scope, as_of, force_full).await?;
    let source = match source {
        Source::Cache => "cache",
        Source::Full => "full",
    };
    let mut response = match format {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
            ],
            crate::audit_report::render_csv(&report),
        )
            .into_response(),
        "html" => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], crate::audit_report::render_html(&report))
            .into_response(),
        "xlsx" => {
            let rows: Vec<Vec<String>> =
                crate::audit_report::finding_rows(&report).into_iter().map(Vec::from).collect();
            let bytes =
                table_to_xlsx("审计问题", &crate::audit_report::CSV_HEADER, &rows).map_err(ApiError::internal)?;
            let name = format!("一致性审计-{}.xlsx", report.as_of);
            super::public::download_response(bytes, super::items::XLSX_CONTENT_TYPE, &name)
        }
        _ => {
            let mut value = serde_json::to_value(&report).map_err(ApiError::internal)?;
            value["source"] = source.into();
            axum::Json(value).into_response()
        }
    };
    if let Ok(v) = header::HeaderValue::from_str(source) {
        response.headers_mut().insert("x-quanze-audit-source", v);
    }
    Ok(response)
}

/// A refresh over this many entries (or a full one) read enough to leave freed heap behind.
const BURST_ENTRIES: u64 = 500;

/// Keeps the cached findings current: after entries arrive (a change notification), waits a
/// moment for the burst to end, then refreshes the partitions they touched. Stops with the task.
/// After a large refresh the allocator's free pages go back to the system.
pub fn start_refresher(node: Node) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut changes = node.subscribe();
        let extra = me(&node);
        loop {
            match refresh(&node, &extra).await {
                Ok(stats) if stats.full || stats.entries > 0 => {
                    if stats.full || stats.entries >= BURST_ENTRIES {
                        crate::rss::release_free_memory();
                    }
                    tracing::debug!(
                        entries = stats.entries,
                        partitions = stats.partitions,
                        full = stats.full,
                        "audit cache refreshed"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit cache refresh failed; retried on the next change"),
            }
            if changes.changed().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}
