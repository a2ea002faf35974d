//! The node's accounts, for its operator: create, list, disable, issue an API token, reset a
//! password (`/users…`).
//!
//! Owns checking what the operator typed (login, name, roles by key or Chinese label, a
//! clerk's department, the password policy) before anything is stored. The middleware lets
//! only the operator role write here; the list is for the operator and auditors. Must not
//! touch the log (accounts are node-local) and never answers a password hash or a stored token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quanze_domain::Role;
use quanze_store::{AccountRow, NewAccount};
use serde::{Deserialize, Serialize};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::china_time;
use super::error::{ApiError, JsonBody};
use crate::auth::Principal;
use crate::auth::password::{check_policy, hash, random_hex, token_digest};
use crate::state::Node;
use utoipa::ToSchema;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(disable))
        .routes(routes!(issue_token))
        .routes(routes!(reset_password))
}

/// Longest login, display name, department or token label, in characters.
const MAX_TEXT: usize = 64;

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn unknown_account(login: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "UNKNOWN_ACCOUNT", format!("没有登录名为 “{login}” 的账户 / no such account"))
}

/// The account as the API shows it.
pub fn account_json(a: &AccountRow) -> AccountView {
    AccountView {
        account: format!("u{}", a.id),
        login: a.login.clone(),
        name: a.name.clone(),
        roles: a.roles.clone(),
        department: a.department.clone(),
        disabled: a.disabled,
        failed_logins: a.failed_logins,
        locked_until: a.locked_until.map(china_time),
        created_at: china_time(a.created_at),
    }
}

/// An account as the API shows it: never its password hash or tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// `u{id}`.
    account: String,
    login: String,
    name: String,
    roles: Vec<Role>,
    /// The clerk's department; `null` for other roles.
    #[schema(required = true)]
    department: Option<String>,
    disabled: bool,
    /// Consecutive failed logins since the last success or lock.
    failed_logins: u32,
    /// China time; `null` when not locked.
    #[schema(required = true)]
    locked_until: Option<String>,
    /// China time.
    created_at: String,
}

/// `GET /users`: every account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    accounts: Vec<AccountView>,
}

/// `POST /users/{login}/tokens`: the new API token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    token: String,
    label: String,
    login: String,
    /// `u{id}`.
    account: String,
}

/// A login as stored: trimmed, lower case, 2–64 of `a-z 0-9 . _ - @`, and not `operator`.
fn check_login(login: &str) -> Result<String, ApiError> {
    let login = login.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c);
    if login.len() < 2 || login.len() > MAX_TEXT || !login.chars().all(allowed) {
        return Err(invalid(
            "BAD_ACCOUNT",
            format!(
                "登录名 “{login}” 无效：应为 2–{MAX_TEXT} 个字母、数字或 . _ - @ / a login is 2–{MAX_TEXT} letters, digits \
                 or . _ - @"
            ),
        ));
    }
    if login == "operator" {
        return Err(invalid("BAD_ACCOUNT", "登录名 operator 留给节点运维令牌 / the login operator is reserved"));
    }
    Ok(login)
}

/// Trimmed, non-empty, at most `MAX_TEXT` characters.
fn check_text(value: &str, what: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_TEXT {
        return Err(invalid(
            "BAD_ACCOUNT",
            format!("{what}不能为空，且不超过 {MAX_TEXT} 个字符 / {what}: 1–{MAX_TEXT} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Roles by key (`clerk`) or label (`部门经办人`), without repeats, in the vocabulary's order.
fn parse_roles(given: &[String]) -> Result<Vec<Role>, ApiError> {
    if given.is_empty() {
        return Err(invalid("UNKNOWN_ROLE", "至少需要一个角色 / at least one role is required"));
    }
    let mut roles = Vec::new();
    for r in given {
        roles.push(r.parse::<Role>().map_err(|e| invalid("UNKNOWN_ROLE", e))?);
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn check_password(password: &str) -> Result<(), ApiError> {
    check_policy(password).map_err(|m| invalid("WEAK_PASSWORD", m))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    login: String,
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    department: Option<String>,
    password: String,
}

/// `POST /users`: a new account (operator).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateRequest, responses((status = 201, description = "The account", body = AccountView)))]
pub async fn create(State(node): State<Node>, JsonBody(req): JsonBody<CreateRequest>) -> Result<Response, ApiError> {
    let login = check_login(&req.login)?;
    let name = check_text(&req.name, "姓名 / name")?;
    let roles = parse_roles(&req.roles)?;
    let department = match req.department.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(check_text(d, "部门 / department")?),
        None => None,
    };
    if roles.contains(&Role::Clerk) && department.is_none() {
        return Err(invalid(
            "DEPARTMENT_REQUIRED",
            "部门经办人须绑定一个部门（--department）/ a clerk must belong to one department (--department)",
        ));
    }
    check_password(&req.password)?;
    if node.store().account_by_login(&login).await?.is_some() {
        return Err(login_taken(&login));
    }
    let password_hash = hash(&req.password).await.map_err(ApiError::internal)?;
    let new = NewAccount { login, name, roles, department, password_hash, created_at: node.clock().now().timestamp() };
    let account = node.store().create_account(&new).await?.ok_or_else(|| login_taken(&new.login))?;
    tracing::info!(login = %account.login, roles = ?account.roles, "account created");
    Ok((StatusCode::CREATED, Json(account_json(&account))).into_response())
}

fn login_taken(login: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "LOGIN_TAKEN", format!("登录名 “{login}” 已被使用 / the login is taken"))
}

/// `GET /users`: every account, without secrets (operator and auditors).
#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, description = "Every account", body = AccountList)))]
pub async fn list(State(node): State<Node>, caller: Principal) -> Result<Json<AccountList>, ApiError> {
    caller.require_any(&[Role::Operator, Role::Auditor])?;
    let accounts = node.store().accounts().await?.iter().map(account_json).collect();
    Ok(Json(AccountList { accounts }))
}

/// `POST /users/{login}/disable`: no more logins; the account's sessions and tokens stop now.
#[utoipa::path(post, path = "/users/{login}/disable", tag = "users", params(("login" = String, Path, description = "The account login")), responses((status = 200, description = "The account, disabled", body = AccountView)))]
pub async fn disable(State(node): State<Node>, Path(login): Path<String>) -> Result<Json<AccountView>, ApiError> {
    let login = login.trim().to_lowercase();
    if !node.store().disable_account(&login, node.clock().now().timestamp()).await? {
        return Err(unknown_account(&login));
    }
    tracing::info!(%login, "account disabled");
    let account = node.store().account_by_login(&login).await?.ok_or_else(|| unknown_account(&login))?;
    Ok(Json(account_json(&account)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[serde(default)]
    label: Option<String>,
}

/// `POST /users/{login}/tokens {label?}`: a new API token for the account, shown once.
#[utoipa::path(post, path = "/users/{login}/tokens", tag = "users", params(("login" = String, Path, description = "The account login")), request_body = TokenRequest, responses((status = 201, description = "The token, shown once", body = IssuedToken)))]
pub async fn issue_token(
    State(node): State<Node>,
    Path(login): Path<String>,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Response, ApiError> {
    let login = login.trim().to_lowercase();
    let account = node.store().account_by_login(&login).await?.ok_or_else(|| unknown_account(&login))?;
    if account.disabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ACCOUNT_DISABLED",
            format!("账户 “{login}” 已停用 / the account is disabled"),
        ));
    }
    let label = match req.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => check_text(l, "标签 / label")?,
        None => "api".to_string(),
    };
    let token = random_hex().map_err(ApiError::internal)?;
    node.store().add_api_token(&token_digest(&token), account.id, &label, node.clock().now().timestamp()).await?;
    tracing::info!(%login, %label, "API token issued");
    let body = IssuedToken { token, label, login, account: format!("u{}", account.id) };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    password: String,
}

/// `POST /users/{login}/password {password}`: a new password; clears a lock, ends sessions.
#[utoipa::path(post, path = "/users/{login}/password", tag = "users", params(("login" = String, Path, description = "The account login")), request_body = PasswordRequest, responses((status = 200, description = "The account", body = AccountView)))]
pub async fn reset_password(
    State(node): State<Node>,
    Path(login): Path<String>,
    JsonBody(req): JsonBody<PasswordRequest>,
) -> Result<Json<AccountView>, ApiError> {
    let login = login.trim().to_lowercase();
    check_password(&req.password)?;
    if node.store().account_by_login(&login).await?.is_none() {
        return Err(unknown_account(&login));
    }
    let password_hash = hash(&req.password).await.map_err(ApiError::internal)?;
    if !node.store().set_password(&login, &password_hash).await? {
        return Err(unknown_account(&login));
    }
    tracing::info!(%login, "password reset");
    let account = node.store().account_by_login(&login).await?.ok_or_else(|| unknown_account(&login))?;
    Ok(Json(account_json(&account)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_keys_and_labels_and_name_the_unknown_one() {
        let roles = parse_roles(&["法制审核人".into(), "clerk".into(), "clerk".into()]).unwrap();
        assert_eq!(roles, vec![Role::Clerk, Role::Legal]);
        let err = parse_roles(&["clerk".into(), "mayor".into()]).unwrap_err();
        assert_eq!(err.code, "UNKNOWN_ROLE");
        assert!(err.message.contains("mayor"), "{}", err.message);
        assert!(parse_roles(&[]).is_err());
    }

    #[test]
    fn logins_are_lower_case_and_plain() {
        assert_eq!(check_login(" Zhang.Wei ").unwrap(), "zhang.wei");
        assert!(check_login("张伟").is_err());
        assert!(check_login("a").is_err());
        assert!(check_login("Operator").is_err());
        assert!(check_login("a b").is_err());
    }
}
