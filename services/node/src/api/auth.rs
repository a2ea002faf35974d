//! Console sign-in: `POST /auth/login` (password → session cookie), `POST /auth/logout`,
//! `GET /auth/me`.
//!
//! Owns the login decision: the per-client brake (429 `TOO_MANY_ATTEMPTS`), the per-account
//! lock-out after `MAX_FAILED_LOGINS` consecutive failures (429 `ACCOUNT_LOCKED`, also for the
//! right password), and one answer for an unknown login, a wrong password and a disabled account
//! (401 `BAD_CREDENTIALS`, after the same argon2 work). Times come from the node's clock. Must
//! not touch the log: sessions are node-local rows keyed by the SHA-256 of the cookie.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody};
use crate::auth::password::{random_hex, token_digest, verify};
use crate::auth::{LOCK_SECS, MAX_FAILED_LOGINS, Principal, SESSION_COOKIE, SESSION_SECS};
use crate::state::Node;
use utoipa::ToSchema;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

/// The client's address (unspecified when the server was not set up to record it).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientIp(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    login: String,
    password: String,
}

/// A Unix time as China time, RFC 3339 (`2025-10-09T09:15:00+08:00`).
pub fn china_time(unix: i64) -> String {
    let east8 = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    DateTime::from_timestamp(unix, 0)
        .map(|t| t.with_timezone(&east8).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// A 429 with `Retry-After` (seconds until `until`).
fn retry_later(code: &'static str, message: String, now: i64, until: i64) -> Response {
    let retry = (until - now).max(1).to_string();
    let mut res = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn locked(now: i64, until: i64) -> Response {
    let at = china_time(until);
    retry_later(
        "ACCOUNT_LOCKED",
        format!(
            "连续 {MAX_FAILED_LOGINS} 次登录失败，账户已锁定至 {at} / account locked until {at} after \
             {MAX_FAILED_LOGINS} failed logins"
        ),
        now,
        until,
    )
}

fn bad_credentials() -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, "BAD_CREDENTIALS", "登录名或密码错误 / wrong login or password")
        .into_response()
}

/// The `Set-Cookie` value of a session (or, with `None`, one that ends it).
fn session_cookie(token: Option<&str>) -> HeaderValue {
    let (value, age) = match token {
        Some(t) => (t, SESSION_SECS),
        None => ("", 0),
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("quanze_session=; Path=/; Max-Age=0"))
}

/// `POST /auth/login {login, password}`: 200 with the caller and a session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses((status = 200, description = "Signed in: the session cookie is set", body = Object)), security(()))]
pub async fn login(
    State(node): State<Node>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    let now = node.clock().now().timestamp();
    let limiter = node.login_limiter();
    if let Some(until) = limiter.blocked_until(ip, now) {
        let at = china_time(until);
        return Ok(retry_later(
            "TOO_MANY_ATTEMPTS",
            format!(
                "本机登录失败次数过多，请于 {at} 后再试 / too many failed logins from this address: try again after {at}"
            ),
            now,
            until,
        ));
    }
    let login = req.login.trim().to_lowercase();
    let Some(record) = node.store().login_record(&login).await? else {
        verify(&req.password, None).await;
        limiter.record_failure(ip, now);
        return Ok(bad_credentials());
    };
    let account = record.account;
    if let Some(until) = account.locked_until.filter(|u| *u > now) {
        return Ok(locked(now, until));
    }
    let ok = verify(&req.password, Some(record.password_hash)).await;
    if !ok {
        limiter.record_failure(ip, now);
    }
    if account.disabled {
        return Ok(bad_credentials());
    }
    if !ok {
        return Ok(match node.store().record_login_failure(account.id, MAX_FAILED_LOGINS, now + LOCK_SECS).await? {
            Some(until) => {
                tracing::warn!(login = %account.login, %ip, "account locked after failed logins");
                locked(now, until)
            }
            None => bad_credentials(),
        });
    }
    node.store().record_login_success(account.id).await?;
    let token = random_hex().map_err(ApiError::internal)?;
    node.store().create_session(&token_digest(&token), account.id, now, now + SESSION_SECS).await?;
    tracing::info!(login = %account.login, %ip, "signed in");
    let mut res = Json(Principal::from_account(&account)).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(Some(&token)));
    Ok(res)
}

/// `POST /auth/logout`: ends the session of the cookie sent (if any) and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204, description = "Signed out")))]
pub async fn logout(State(node): State<Node>, _caller: Principal, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(session) = crate::auth::middleware::session_cookie(&headers) {
        node.store().delete_session(&token_digest(session)).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(None));
    Ok(res)
}

/// `GET /auth/me`: the caller as the middleware resolved it.
#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, description = "The caller", body = crate::auth::Principal)))]
pub async fn me(caller: Principal) -> Json<Principal> {
    Json(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_http_only_and_strict() {
        let c = session_cookie(Some("ab12")).to_str().unwrap().to_string();
        assert_eq!(c, "quanze_session=ab12; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=28800");
        assert!(session_cookie(None).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn times_are_shown_in_china_time() {
        assert_eq!(china_time(1_760_000_000), "2025-10-09T16:53:20+08:00");
    }
}
