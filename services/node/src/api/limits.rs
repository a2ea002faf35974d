//! How big a request body may be and how long it may take to arrive.
//!
//! Owns the body limit of every route (one table, by path) and the middleware that applies it:
//! a `Content-Length` over the limit is answered 413 before a byte of the body is read, and a
//! body that streams past the limit (chunked, or lying about its length) fails when it crosses
//! it. The same middleware puts a deadline on the whole body (`[server] body_read_timeout_secs`),
//! so a client that trickles its body gets 408 instead of holding a task. The extractors in
//! `error.rs` turn both failures into the API's error shape. Must not read or parse bodies
//! itself, nor know about authentication.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use super::error::ApiError;

const MIB: usize = 1024 * 1024;

/// JSON calls that carry one record or one decision (items, accounts, seals, steps, invites…).
pub const SMALL_BODY_BYTES: usize = MIB;
/// Whole lists and sheets: imports, grant batches, catalogue publications, reconciliation,
/// adjustment proposals. Each becomes one entry, which may not exceed the ledger's
/// `MAX_ENTRY_BYTES` (8 MiB), so a larger body could never be written anyway.
pub const BULK_BODY_BYTES: usize = quanze_ledger::MAX_ENTRY_BYTES;
/// An attachment (the workflow's 5 MiB) with room for the handler to name the limit itself.
pub const ATTACHMENT_BODY_BYTES: usize = quanze_domain::requests::workflow::MAX_ATTACHMENT_BYTES as usize + 64 * 1024;
/// A child's push: a batch is cut after 6 MiB of entry bytes, so it holds at most 6 MiB plus
/// one entry of up to 8 MiB, each sent as a JSON string (quotes escaped): 32 MiB covers it.
pub const PUSH_BODY_BYTES: usize = 32 * MIB;

/// The body limit of a request, by its path (the one table of this module).
pub fn body_limit(method: &Method, path: &str) -> usize {
    if method == Method::GET || method == Method::HEAD {
        return SMALL_BODY_BYTES;
    }
    let Some(api) = path.strip_prefix("/api/v1") else {
        return SMALL_BODY_BYTES;
    };
    match api {
        "/fed/push" => PUSH_BODY_BYTES,
        "/attachments" => ATTACHMENT_BODY_BYTES,
        "/import" | "/grants" | "/grants/sheet" | "/requests" | "/catalogue/publications" => BULK_BODY_BYTES,
        _ if api.starts_with("/catalogue/publications/") || api.starts_with("/recon/") => BULK_BODY_BYTES,
        _ if api.starts_with("/requests/") && api.ends_with("/resubmit") => BULK_BODY_BYTES,
        _ => SMALL_BODY_BYTES,
    }
}

/// The limit that applied to a request, for the 413's message (put in its extensions).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The 413 of a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    let size = if limit.is_multiple_of(MIB) { format!("{} MiB", limit / MIB) } else { format!("{} KiB", limit / 1024) };
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("请求体超过 {size} 上限 / body exceeds the {size} limit of this route"),
    )
}

/// The 408 of a body that did not arrive within `timeout`.
pub fn too_slow(timeout: Duration) -> ApiError {
    let secs = timeout.as_secs();
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "BODY_TIMEOUT",
        format!("请求体未在 {secs} 秒内传完 / the body did not arrive within {secs} s"),
    )
}

/// The length a request declares, if it declares a readable one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Middleware: applies the route's body limit and the body deadline (see the module comment).
pub async fn limit_body(timeout: Duration, req: Request, next: Next) -> Response {
    let limit = body_limit(req.method(), req.uri().path());
    if declared_length(req.headers()).is_some_and(|n| n > limit as u64) {
        return too_large(limit).into_response();
    }
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(BodyLimit(limit));
    let body = DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(timeout)), timeout };
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// The error a body gives when its deadline passes; `error.rs` finds it in the error's sources.
#[derive(Debug, Clone, Copy)]
pub struct BodyReadTimeout(pub Duration);

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body not received within {} s", self.0.as_secs())
    }
}

impl std::error::Error for BodyReadTimeout {}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyReadTimeout(self.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` (or one of its sources) is a body deadline that passed.
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(t) = e.downcast_ref::<BodyReadTimeout>() {
            return Some(t.0);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;
    use crate::api::error::RawBody;

    fn app(timeout: Duration) -> Router {
        Router::new()
            .route("/api/v1/items", post(|RawBody(b): RawBody| async move { b.len().to_string() }))
            .route("/api/v1/fed/push", post(|RawBody(b): RawBody| async move { b.len().to_string() }))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .layer(axum::middleware::from_fn(move |req, next| limit_body(timeout, req, next)))
    }

    async fn call(app: Router, req: Request) -> (StatusCode, serde_json::Value) {
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    fn post_to(path: &str, body: Body) -> Request {
        Request::builder().method(Method::POST).uri(path).body(body).unwrap()
    }

    #[test]
    fn every_kind_of_route_has_its_limit() {
        assert_eq!(body_limit(&Method::POST, "/api/v1/items"), SMALL_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/auth/login"), SMALL_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/import"), BULK_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/catalogue/publications/sheet"), BULK_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/recon/510000-3/adopt"), BULK_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/requests/7/resubmit"), BULK_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/requests/7/steps"), SMALL_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/attachments"), ATTACHMENT_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/api/v1/fed/push"), PUSH_BODY_BYTES);
        assert_eq!(body_limit(&Method::POST, "/console/list"), SMALL_BODY_BYTES);
        assert_eq!(body_limit(&Method::GET, "/api/v1/fed/push"), SMALL_BODY_BYTES);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_413_before_reading() {
        let mut req = post_to("/api/v1/items", Body::from("{}"));
        req.headers_mut().insert(header::CONTENT_LENGTH, (SMALL_BODY_BYTES + 1).to_string().parse().unwrap());
        let (status, body) = call(app(Duration::from_secs(5)), req).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
        assert!(body["message"].as_str().unwrap().starts_with("请求体超过 1 MiB"), "{body}");
    }

    #[tokio::test]
    async fn a_streamed_body_past_the_limit_is_413_and_the_larger_route_takes_it() {
        let chunks = || {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures_util::stream::iter((0..20).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
            Body::from_stream(stream)
        };
        let (status, body) = call(app(Duration::from_secs(5)), post_to("/api/v1/items", chunks())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
        let res = app(Duration::from_secs(5)).oneshot(post_to("/api/v1/fed/push", chunks())).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        assert_eq!(bytes, (20 * 64 * 1024).to_string());
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_408() {
        let never = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
        let (status, body) =
            call(app(Duration::from_millis(200)), post_to("/api/v1/items", Body::from_stream(never))).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
        assert_eq!(body["code"], "BODY_TIMEOUT");
    }
}
