//! The authenticated caller of one API request and its role checks.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use quanze_domain::{Actor, Role};

use crate::api::ApiError;

/// The caller of an API request, as the authentication middleware established it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Principal {
    /// The account id (`u7`); `operator` for the node's operator token.
    pub account: String,
    /// The login name; `operator` for the operator token.
    pub login: String,
    /// Display name.
    pub name: String,
    pub roles: Vec<Role>,
    /// The clerk's department; `null` for other roles.
    #[schema(required = true)]
    pub department: Option<String>,
}

impl Principal {
    /// The holder of the node's `operator.token`.
    pub fn operator() -> Principal {
        Principal {
            account: "operator".into(),
            login: "operator".into(),
            name: "节点运维".into(),
            roles: vec![Role::Operator],
            department: None,
        }
    }

    /// The holder of a local account (a session or an API token of it).
    pub fn from_account(account: &quanze_store::AccountRow) -> Principal {
        Principal {
            account: format!("u{}", account.id),
            login: account.login.clone(),
            name: account.name.clone(),
            roles: account.roles.clone(),
            department: account.department.clone(),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Ok when the caller holds `role`, else 403 `FORBIDDEN_ROLE` naming the role needed.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        self.require_any(&[role])
    }

    /// Ok when the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        let needed: Vec<String> = roles.iter().map(|r| format!("{}（{}）", r.label(), r.key())).collect();
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN_ROLE",
            format!(
                "需要角色：{} / this action needs the role {}",
                needed.join("或"),
                roles.iter().map(|r| r.key()).collect::<Vec<_>>().join(" or ")
            ),
        ))
    }

    /// The actor written to the log when this caller acts in `role` (checked first).
    pub fn actor(&self, role: Role) -> Result<Actor, ApiError> {
        self.require(role)?;
        Ok(Actor {
            id: self.account.clone(),
            name: self.name.clone(),
            role,
            department: if role == Role::Clerk { self.department.clone() } else { None },
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "需要登录或令牌 / sign in or send a bearer token")
        })
    }
}
