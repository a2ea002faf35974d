//! Errors at the HTTP edge: a status, a stable machine-readable code and a bilingual message,
//! sent as `{"code": "...", "message": "中文 / English", "errors": [...]}`.
//! Also owns the body extractor that turns every malformed body into one of those errors.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use quanze_domain::{CatalogueError, GrantError, ReconError, RuleError, WorkflowError};
use quanze_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::limits::{BodyLimit, SMALL_BODY_BYTES, too_large, too_slow};
use crate::state::WriteError;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Row or field errors, when there are several.
    pub errors: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), errors: None }
    }

    pub fn with_errors(mut self, errors: impl Serialize) -> Self {
        self.errors = serde_json::to_value(errors).ok();
        self
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("未找到 {what} / not found"))
    }

    pub fn bad_query(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "BAD_QUERY", message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "内部错误，详见节点日志 / internal error, see the node log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code, message: &self.message, errors: self.errors.as_ref() };
        (self.status, Json(body)).into_response()
    }
}

impl From<quanze_domain::CalendarError> for ApiError {
    fn from(e: quanze_domain::CalendarError) -> Self {
        RuleError::Calendar(e).into()
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        let message = e.to_string();
        match e {
            RuleError::DuplicateCode(_) => ApiError::new(StatusCode::CONFLICT, "DUPLICATE_CODE", message),
            RuleError::NoSuchItem(_) => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message),
            RuleError::Cancelled(_) => ApiError::new(StatusCode::CONFLICT, "ITEM_CANCELLED", message),
            RuleError::Invalid { errors, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED", message).with_errors(errors)
            }
            RuleError::EmptyPatch(_) | RuleError::MissingReason(_) | RuleError::NotAnItemOp(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED", message)
            }
            RuleError::Catalogue(e) => {
                let status = match e {
                    CatalogueError::DuplicateCode(_) | CatalogueError::ChangedTwice(_) => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), message)
            }
            RuleError::Recon(e) => {
                let status = match e {
                    ReconError::UnknownPublication(_) => StatusCode::NOT_FOUND,
                    ReconError::TaskClosed(_) | ReconError::AlreadyResolved(_) => StatusCode::CONFLICT,
                    ReconError::NotAffected { .. } => StatusCode::FORBIDDEN,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), message)
            }
            RuleError::Calendar(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), message),
            RuleError::Filing(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "BAD_FILING", message),
            RuleError::Grant(e) => ApiError::new(grant_status(&e), e.code(), message),
            RuleError::GrantedItem(_) => ApiError::new(StatusCode::CONFLICT, "GRANTED_ITEM", message),
            RuleError::Workflow(e) => workflow_error(e),
            RuleError::NoSuchRequest(_) => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message),
            RuleError::TwoRequestsInOneEntry | RuleError::PublicationMismatch(_) => {
                ApiError::new(StatusCode::CONFLICT, "REQUEST_CONFLICT", message)
            }
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        workflow_error(e)
    }
}

/// A refused workflow action: 403 for who may act, 409 for where the request stands, 422 for
/// what it says (with every field named).
fn workflow_error(e: WorkflowError) -> ApiError {
    let message = e.to_string();
    let status = match &e {
        WorkflowError::NotAClerk(_)
        | WorkflowError::OtherDepartment { .. }
        | WorkflowError::WrongRole { .. }
        | WorkflowError::OwnRequest => StatusCode::FORBIDDEN,
        WorkflowError::Closed { .. }
        | WorkflowError::AwaitingResubmission { .. }
        | WorkflowError::NotReturned { .. }
        | WorkflowError::WrongStage { .. } => StatusCode::CONFLICT,
        WorkflowError::Invalid(_) | WorkflowError::CommentRequired => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let err = ApiError::new(status, e.code(), message);
    match e {
        WorkflowError::Invalid(problems) => err.with_errors(problems),
        _ => err,
    }
}

fn grant_status(e: &GrantError) -> StatusCode {
    if e.is_not_found() {
        StatusCode::NOT_FOUND
    } else if e.is_conflict() {
        StatusCode::CONFLICT
    } else if e.is_forbidden() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) if e.is_storage_full() => storage_full(&e),
            WriteError::Store(StoreError::Rule { error, .. }) => error.into(),
            WriteError::Store(StoreError::Authority { error, .. }) => {
                ApiError::new(StatusCode::FORBIDDEN, "UNAUTHORISED_OP", error.to_string())
            }
            WriteError::Ledger(quanze_ledger::LedgerError::TooLarge(n)) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("条目 {n} 字节超过上限 / entry too large"),
            ),
            held @ (WriteError::OwnLogUnconfirmed | WriteError::AwaitingChildren(_)) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "OWN_LOG_UNCONFIRMED", held.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_storage_full() {
            return storage_full(&e);
        }
        ApiError::internal(e)
    }
}

/// 507 `STORAGE_FULL`: the database could not write (disk full, file-size limit, quota). The
/// transaction was rolled back, so nothing was half-written; reads still work, and the same
/// request succeeds once space is freed (a child's push is retried by its backoff).
fn storage_full(e: &StoreError) -> ApiError {
    tracing::error!(error = %e, "storage full: write refused");
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "STORAGE_FULL",
        "存储空间不足，写入未完成且未留下任何改动；释放空间后重试 / storage full: nothing was written, retry once space is freed",
    )
}

/// A JSON body whose every failure is an `ApiError`: 413 over the size limit, 400 for invalid
/// UTF-8 or malformed JSON, 422 (or `UNKNOWN_CATEGORY`) when it does not fit the type.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = RawBody::from_request(req, state).await?.0;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes with the API's error codes.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_UTF8",
            format!("请求体不是有效的 UTF-8（第 {} 字节）/ body is not valid UTF-8", e.valid_up_to() + 1),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        if e.is_data() && text.contains("未知职权类别") {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "UNKNOWN_CATEGORY", text)
        } else if e.is_data() {
            let err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_FAILED",
                format!("字段不符合要求 / invalid field: {text}"),
            );
            match named_field(&text) {
                Some((kind, field)) => err.with_errors([serde_json::json!({ "field": field, "message": kind })]),
                None => err,
            }
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_JSON", format!("JSON 格式错误 / malformed JSON: {text}"))
        }
    })
}

/// The field a serde data error names (`missing field `basis``), with a bilingual reason.
fn named_field(text: &str) -> Option<(&'static str, &str)> {
    let (kind, rest) = if let Some(rest) = text.strip_prefix("missing field `") {
        ("缺少必填要素 / required element missing", rest)
    } else if let Some(rest) = text.strip_prefix("unknown field `") {
        ("未知字段 / unknown field", rest)
    } else {
        return None;
    };
    Some((kind, &rest[..rest.find('`')?]))
}

/// Query parameters whose every failure is a JSON `BAD_QUERY`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryParams(q))
            .map_err(|rej| ApiError::bad_query(format!("查询参数无效 / invalid query parameters: {}", rej.body_text())))
    }
}

/// The raw body, bounded by the route's body limit and deadline (`limits.rs`): 413 past the
/// limit, 408 past the deadline, both with our error shape.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map_or(SMALL_BODY_BYTES, |l| l.0);
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(limit)
            } else if let Some(timeout) = super::limits::timed_out(&rej) {
                too_slow(timeout)
            } else {
                ApiError::new(rej.status(), "BAD_BODY", format!("无法读取请求体 / cannot read body: {rej}"))
            }
        })
    }
}
