//! The authentication middleware: who is calling, and may they call this route at all.
//!
//! Owns resolving the caller — the operator token, an account's API token (both as
//! `Authorization: Bearer`) or the console's session cookie — into a `Principal` put in the
//! request's extensions, and enforcing the route's `Access` class (`access.rs`). Handlers may
//! check finer roles with the `Principal` extractor. Must not write anything.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quanze_domain::Role;

use super::access::{Access, classify};
use super::password::token_digest;
use super::{Principal, SESSION_COOKIE};
use crate::api::ApiError;
use crate::state::Node;

/// Runs before every route: open routes pass; every other route needs a caller, and writes
/// outside the workflow need the operator role.
pub async fn authenticate(State(node): State<Node>, mut req: Request, next: Next) -> Response {
    let access = classify(req.method(), req.uri().path());
    if access == Access::Open {
        return next.run(req).await;
    }
    let principal = match resolve(&node, req.headers()).await {
        Ok(Some(p)) => p,
        Ok(None) | Err(_) if access == Access::Console => return crate::console::to_sign_in(req.uri()),
        Ok(None) => return unauthorized("需要登录或令牌 / sign in or send a bearer token").into_response(),
        Err(e) => return e.into_response(),
    };
    let allowed = match access {
        Access::Operator => principal.require(Role::Operator),
        Access::Roles(roles) => principal.require_any(&[roles, &[Role::Operator]].concat()),
        _ => Ok(()),
    };
    if let Err(e) = allowed {
        return e.into_response();
    }
    if by_cookie_write(&req) {
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host =
            req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or(req.uri().authority().map(|a| a.as_str()));
        if !same_origin(origin, host) {
            tracing::warn!(?origin, ?host, path = %req.uri().path(), "cross-site write refused");
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "CROSS_SITE_REQUEST",
                "拒绝来自其他网站的请求，请在本节点的控制台中操作 / cross-site request refused",
            )
            .into_response();
        }
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// A request that changes something and is authenticated by the session cookie (no bearer
/// token): the kind a page of another site could make a browser send.
fn by_cookie_write(req: &Request) -> bool {
    !req.method().is_safe() && req.headers().get(header::AUTHORIZATION).is_none()
}

/// Whether the page that sent a request (its `Origin`, which browsers send with every write) is
/// this node (`host`, the request's host and port). No `Origin`: not a browser's cross-site
/// request (the session cookie is also `SameSite=Strict`); `null` or another site: refused.
fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// 401 `UNAUTHORIZED` with `message`.
pub fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
}

/// The caller, if any credentials were sent. A bearer token that is neither the operator's nor
/// a live API token is an error (no fall-back to the cookie); no credentials at all is `None`.
async fn resolve(node: &Node, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or("");
        if token.is_empty() {
            return Err(unauthorized("Authorization 应为 Bearer 令牌 / Authorization must be a bearer token"));
        }
        if let Some(expected) = node.operator_token()
            && constant_time_eq(token.as_bytes(), expected.as_bytes())
        {
            return Ok(Some(Principal::operator()));
        }
        return match node.store().token_account(&token_digest(token)).await? {
            Some(account) => Ok(Some(Principal::from_account(&account))),
            None => Err(unauthorized(
                "令牌无效、已撤销或账户已停用 / the token is unknown, revoked or its account disabled",
            )),
        };
    }
    let Some(session) = session_cookie(headers) else { return Ok(None) };
    let now = node.clock().now().timestamp();
    match node.store().session_account(&token_digest(session), now).await? {
        Some(account) => Ok(Some(Principal::from_account(&account))),
        None => Err(unauthorized("登录已失效，请重新登录 / the session has ended: sign in again")),
    }
}

/// The value of the `quanze_session` cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// Compares without an early exit, so the time taken does not tell how much of a token matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "theme=dark; quanze_session=abc123 ; lang=zh".parse().unwrap());
        assert_eq!(session_cookie(&headers), Some("abc123"));
        let mut other = HeaderMap::new();
        other.append(header::COOKIE, "xquanze_session=1; quanze_sessionx=2".parse().unwrap());
        assert_eq!(session_cookie(&other), None);
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, "quanze_session=".parse().unwrap());
        assert_eq!(session_cookie(&empty), None);
    }

    #[test]
    fn cookie_writes_must_come_from_the_node_itself() {
        assert!(same_origin(None, Some("127.0.0.1:7443")), "no Origin: not a cross-site browser request");
        assert!(same_origin(Some("https://127.0.0.1:7443"), Some("127.0.0.1:7443")));
        assert!(same_origin(Some("https://Node.Example.gov.cn"), Some("node.example.gov.cn")));
        assert!(!same_origin(Some("https://evil.example"), Some("127.0.0.1:7443")));
        assert!(!same_origin(Some("https://127.0.0.1:7444"), Some("127.0.0.1:7443")), "another port is another site");
        assert!(!same_origin(Some("null"), Some("127.0.0.1:7443")));
        assert!(!same_origin(Some("https://127.0.0.1:7443"), None));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
