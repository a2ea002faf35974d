//! The API description: `/openapi.json`, an OpenAPI 3.1 document generated from the code.
//!
//! Owns the document's frame (title, security schemes, the shared error shape and the error
//! answers every operation may give) and the route that serves it. The operations themselves
//! come from the `#[utoipa::path]` attribute on each handler, registered with the router by
//! utoipa-axum's `routes!` in `api/mod.rs` and the route modules, so the router and the document
//! are built by the same lines. Must not route anything itself or describe a handler here.
//! `api/openapi_coverage.rs` tests that every route the router serves is described.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};

/// The error answer of every route (`api/error.rs`): a stable code, a bilingual message
/// (Chinese first) and, for row or field errors, their list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorSchema {
    /// Stable machine-readable code in UPPER_SNAKE, e.g. `VALIDATION_FAILED`.
    #[schema(example = "NOT_FOUND")]
    pub code: String,
    /// 中文 / English.
    #[schema(example = "未找到 该接口 / this API route / not found")]
    pub message: String,
    /// Row or field errors, when there are several.
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<serde_json::Value>>,
}

/// The frame of the document; the operations are added from the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Quanze node API",
        description = "权责清单节点接口 / The HTTP API of one Quanze node. Every error is `Error` \
                       with a stable code; writes need the operator token or a signed-in \
                       account with the route's role.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorSchema)),
    modifiers(&Frame),
    security(("bearer" = []), ("session" = []), ()),
)]
struct Base;

struct Frame;

impl Modify for Frame {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The node's operator token (`secrets/operator.token`) or an account's API token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The console's session cookie, set by `POST /api/v1/auth/login`",
            ))),
        );
        components.responses.insert("Error".into(), RefOr::T(error_response()));
    }
}

fn error_response() -> Response {
    ResponseBuilder::new()
        .description("Error: a stable code and a bilingual message")
        .content("application/json", Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Error")))))
        .build()
}

/// The full document: the frame, the operations of `routes`, and on every operation the
/// shared error answers (`4XX`, `5XX`) where it does not document that status itself. A page
/// (an operation answering `text/html`) shows its errors as a page (`console::PageError`).
/// A request line or head too long for the server's buffer is answered by the HTTP layer
/// before any route runs, with 414 or 431 and no body: documented as such on every operation.
pub fn document(routes: OpenApi) -> OpenApi {
    let mut doc = <Base as utoipa::OpenApi>::openapi();
    doc.merge(routes);
    let components = doc.components.get_or_insert_with(Default::default);
    components.responses.insert("PageError".into(), RefOr::T(page_error_response()));
    components.responses.insert("HeadTooLarge".into(), RefOr::T(head_too_large_response()));
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            for status in ["414", "431"] {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::new("#/components/responses/HeadTooLarge")));
            }
            let error = if is_page(op) { "#/components/responses/PageError" } else { "#/components/responses/Error" };
            for range in ["4XX", "5XX"] {
                op.responses
                    .responses
                    .entry(range.to_string())
                    .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::new(error)));
            }
        }
    }
    doc
}

/// An operation whose success is an HTML page, or a redirect to one.
fn is_page(op: &Operation) -> bool {
    op.responses.responses.values().any(|r| match r {
        RefOr::T(r) => r.content.contains_key("text/html"),
        RefOr::Ref(_) => false,
    }) || op.responses.responses.keys().all(|k| k == "303")
}

fn head_too_large_response() -> Response {
    ResponseBuilder::new().description("URI or headers longer than the server reads (HTTP layer, no body)").build()
}

fn page_error_response() -> Response {
    ResponseBuilder::new()
        .description("Error page: the bilingual message and the stable code, as HTML")
        .content("text/html", Content::new(Some(String::schema())))
        .build()
}

/// Every operation of a path item.
pub fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The document as JSON, built once per process.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let doc = super::description();
        serde_json::to_string_pretty(&doc).expect("an OpenAPI document serialises")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document_json())
}

/// The head of a log (`quanze_ledger::ChainHead`).
#[derive(Debug, ToSchema)]
#[schema(as = ChainHead)]
pub struct ChainHeadSchema {
    pub seq: u64,
    /// SHA-256 of the entry, hex.
    pub hash: String,
}

/// The answer of a write: the signed entry it appended, and what the route adds (the item, the
/// request, the seal, …).
#[derive(Debug, ToSchema)]
#[schema(as = Written)]
pub struct WrittenSchema {
    pub entry: EntryRefSchema,
}

/// An entry of a log, by origin, seq and hash (`quanze_ledger::EntryRef`).
#[derive(Debug, ToSchema)]
#[schema(as = EntryRef)]
pub struct EntryRefSchema {
    /// The log's division code.
    pub origin: String,
    pub seq: u64,
    /// SHA-256 of the entry's bytes, hex.
    pub hash: String,
}

/// An entry as it travels (`quanze_ledger::SignedEntryWire`): the signed bytes as a string,
/// exactly as signed, the signature and, for readers, the hash.
#[derive(Debug, ToSchema)]
#[schema(as = SignedEntryWire)]
pub struct SignedEntryWireSchema {
    /// The entry's canonical JSON (RFC 8785), as a string.
    pub body: String,
    /// Ed25519 signature, 128 hex digits.
    pub sig: String,
    /// SHA-256 of `body`, hex; receivers recompute it.
    pub hash: String,
}

/// What a checkpoint states (`quanze_ledger::Checkpoint`): the first `size` entries of
/// `origin`'s log have Merkle root `root`.
#[derive(Debug, ToSchema)]
#[schema(as = Checkpoint)]
pub struct CheckpointSchema {
    pub origin: quanze_domain::DivisionCode,
    pub size: u64,
    /// Merkle root, hex.
    pub root: String,
    /// When the origin signed it: RFC 3339, UTC, milliseconds.
    pub at: String,
}

/// A checkpoint as it travels (`quanze_ledger::CheckpointWire`): the body, the origin's
/// signature and, once cosigned, the cosigner and its signature.
#[derive(Debug, ToSchema)]
#[schema(as = CheckpointWire)]
pub struct CheckpointWireSchema {
    pub checkpoint: CheckpointSchema,
    pub signature: String,
    pub cosigner: Option<quanze_domain::DivisionCode>,
    pub cosignature: Option<String>,
}

/// A filing as recorded (`quanze_store::FilingRow`): the node, the entry, the filing's fields
/// (`quanze_domain::Filing`, spelled out: that schema refuses other fields) and the window in
/// force when it was filed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FilingRow)]
pub struct FilingRowSchema {
    pub node: String,
    pub seq: u64,
    pub department: String,
    pub trigger: quanze_domain::Trigger,
    pub trigger_date: chrono::NaiveDate,
    pub summary: String,
    /// Item codes concerned; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    pub filed_on: chrono::NaiveDate,
    pub window: quanze_domain::calendar::Window,
}
