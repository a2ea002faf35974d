//! The web console: server-rendered Chinese pages under `/console` for each role's daily work.
//!
//! Owns the page shell (header, the navigation each role sees, the error page), sign-in and
//! the role's home page, and the routing of the page modules. Pages only read: they render what
//! the store and the domain say, and every action on a page is a `fetch` of the JSON API by
//! `assets/console.js`, so the console never writes by a path the API does not check. Must not
//! sign, write SQL or decide a rule itself. Every value shown is escaped (`html::escape`).

mod assets;
mod audit;
mod board;
mod federation;
mod grants;
pub mod html;
mod inbox;
mod list;
mod publish;
mod requests;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use quanze_domain::{Role, Tier};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::ApiError;
use crate::auth::Principal;
use crate::state::Node;
use html::escape;

/// The console's routes (all GET: pages read, the API writes).
pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(home))
        .routes(routes!(login_page))
        .merge(assets::routes())
        .merge(list::routes())
        .merge(publish::routes())
        .merge(board::routes())
        .merge(inbox::routes())
        .merge(grants::routes())
        .merge(requests::routes())
        .merge(audit::routes())
        .merge(federation::routes())
}

/// A console page, or the error page.
pub type PageResult = Result<Response, PageError>;

/// An error shown as a console page (status, Chinese message, the stable code).
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let body = format!(
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>出错了</title>\
             <link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body><main class=\"narrow\">\
             <h1>无法显示此页</h1><p class=\"error\">{message}</p><p class=\"muted\">错误代码 {code}（HTTP {status}）</p>\
             <p><a href=\"/console\">返回控制台首页</a></p></main></body></html>",
            message = escape(&e.message),
            code = escape(e.code),
            status = e.status.as_u16(),
        );
        with_headers((e.status, Html(body)).into_response())
    }
}

/// One part of the console, as the navigation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    List,
    Publish,
    Board,
    Inbox,
    Grants,
    Requests,
    Audit,
    Federation,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::List,
        Section::Publish,
        Section::Board,
        Section::Inbox,
        Section::Grants,
        Section::Requests,
        Section::Audit,
        Section::Federation,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::List => "本级清单",
            Section::Publish => "目录发布",
            Section::Board => "对账看板",
            Section::Inbox => "对账待办",
            Section::Grants => "赋权与印章",
            Section::Requests => "调整申请",
            Section::Audit => "一致性审计",
            Section::Federation => "联邦状态",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::List => "/console/list",
            Section::Publish => "/console/publish",
            Section::Board => "/console/board",
            Section::Inbox => "/console/inbox",
            Section::Grants => "/console/grants",
            Section::Requests => "/console/requests",
            Section::Audit => "/console/audit",
            Section::Federation => "/console/federation",
        }
    }

    /// The roles that use this part (the operator sees every part).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Section::List => &Role::ALL,
            Section::Publish | Section::Inbox => &[Role::Establishment],
            Section::Board => &[Role::Establishment, Role::Auditor],
            Section::Grants => &[Role::Establishment, Role::Government, Role::Auditor],
            Section::Requests => {
                &[Role::Clerk, Role::Establishment, Role::Legal, Role::Government, Role::Publisher, Role::Auditor]
            }
            Section::Audit => &[Role::Auditor, Role::Establishment],
            Section::Federation => &[Role::Auditor],
        }
    }

    /// Whether a node of `tier` has this part: only a node with lower levels publishes and
    /// watches their reconciliation; only a node with an upper level reconciles.
    pub fn on_tier(self, tier: Tier) -> bool {
        match self {
            Section::Publish | Section::Board => tier != Tier::Township,
            Section::Inbox => tier != Tier::Province,
            _ => true,
        }
    }

    fn open_to(self, user: &Principal, tier: Tier) -> bool {
        self.on_tier(tier) && (user.has(Role::Operator) || self.roles().iter().any(|r| user.has(*r)))
    }
}

/// 403 (as a page) unless `user` may use `section` on this node.
pub fn require(node: &Node, user: &Principal, section: Section) -> Result<(), PageError> {
    if !section.on_tier(node.tier()) {
        return Err(PageError(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_ON_THIS_TIER",
            format!("本级节点没有“{}”功能 / this tier has no {}", section.label(), section.path()),
        )));
    }
    let mut roles = section.roles().to_vec();
    roles.push(Role::Operator);
    user.require_any(&roles)?;
    Ok(())
}

/// The answer to a console page request without a (live) session: to the sign-in page, and back
/// here afterwards.
pub fn to_sign_in(uri: &Uri) -> Response {
    let back = uri.path_and_query().map_or("/console", |p| p.as_str());
    let target = format!("/console/login?next={}", html::url_component(back));
    with_headers(Redirect::to(&target).into_response())
}

/// Security headers of every console answer: no framing, scripts only from the node itself.
fn with_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// A full page: the shell around `body`, with `section` marked in the navigation.
pub fn page(node: &Node, user: &Principal, section: Section, title: &str, body: &str) -> Response {
    let tier = node.tier();
    let mut nav = String::new();
    for s in Section::ALL.into_iter().filter(|s| s.open_to(user, tier)) {
        let class = if s == section { " class=\"active\"" } else { "" };
        nav.push_str(&format!("<a href=\"{}\"{class}>{}</a>", s.path(), s.label()));
    }
    let roles: Vec<&str> = user.roles.iter().map(|r| r.label()).collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} - {node_name}</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\"><script src=\"/console/assets/console.js\" defer></script>\
         </head><body><div id=\"q-busy\" hidden><div></div></div><header><div class=\"brand\">{node_name}<small>{tier} · {division} · 权责清单控制台</small></div>\
         <div class=\"who\">{user_name}（{roles}）<button type=\"button\" class=\"link\" data-api=\"/api/v1/auth/logout\" \
         data-then=\"/console/login\">退出</button></div></header><nav>{nav}</nav><main><h1>{title}</h1>\
         <div id=\"q-error\" class=\"error\" hidden></div>{body}</main></body></html>",
        title = escape(title),
        node_name = escape(node.name()),
        tier = escape(tier_label(tier)),
        division = escape(node.division().as_str()),
        user_name = escape(&user.name),
        roles = escape(&roles.join("、")),
    );
    with_headers(Html(html).into_response())
}

pub fn tier_label(tier: Tier) -> &'static str {
    match tier {
        Tier::Province => "省级",
        Tier::City => "市级",
        Tier::County => "县级",
        Tier::Township => "乡镇级",
    }
}

/// `GET /console`: the signed-in user's first page.
#[utoipa::path(get, path = "/console", tag = "console", responses((status = 303, description = "To the caller's first page, or to the sign-in page")))]
async fn home(State(node): State<Node>, user: Principal) -> Response {
    let tier = node.tier();
    let first = home_section(&user, tier);
    match first {
        Some(s) => Redirect::to(s.path()).into_response(),
        None => PageError(ApiError::new(
            StatusCode::FORBIDDEN,
            "NO_CONSOLE_ROLE",
            "您的账户没有可用的控制台功能，请联系节点运维分配角色 / no console part for your roles",
        ))
        .into_response(),
    }
}

/// The part a user starts in: the one their first role works in most.
fn home_section(user: &Principal, tier: Tier) -> Option<Section> {
    let preferred: &[Section] = if user.has(Role::Operator) {
        &[Section::Federation]
    } else if user.has(Role::Establishment) {
        &[Section::Publish, Section::Inbox]
    } else if user.has(Role::Auditor) {
        &[Section::Audit]
    } else {
        &[Section::Requests]
    };
    preferred
        .iter()
        .copied()
        .find(|s| s.open_to(user, tier))
        .or_else(|| Section::ALL.into_iter().find(|s| s.open_to(user, tier)))
}

/// `GET /console/login[?next=/console/...]`: the sign-in form (the script posts it to the API).
#[utoipa::path(get, path = "/console/login", tag = "console", security(()), responses((status = 200, description = "登录页 / the sign-in page", content_type = "text/html", body = String)))]
async fn login_page(State(node): State<Node>) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>登录 - {name}</title>\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\"><script src=\"/console/assets/console.js\" defer></script>\
         </head><body class=\"login\"><div id=\"q-busy\" hidden><div></div></div><main class=\"narrow\"><h1>{name}</h1><p class=\"muted\">{tier} · {division} · 权责清单控制台</p>\
         <form id=\"login\" data-api=\"/api/v1/auth/login\" data-then=\"next\">\
         <label>登录名<input name=\"login\" autocomplete=\"username\" required autofocus></label>\
         <label>密码<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">登录</button><div class=\"error\" hidden></div></form>\
         <p class=\"muted\">账户由本节点运维创建（quanze user add）。连续 5 次输错密码，账户锁定 15 分钟。\
         公众查询请访问 <a href=\"/public\">公开清单</a>。</p></main></body></html>",
        name = escape(node.name()),
        tier = tier_label(node.tier()),
        division = escape(node.division().as_str()),
    );
    with_headers(Html(html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role]) -> Principal {
        Principal {
            account: "u1".into(),
            login: "a".into(),
            name: "甲".into(),
            roles: roles.to_vec(),
            department: None,
        }
    }

    #[test]
    fn each_role_starts_where_it_works() {
        assert_eq!(home_section(&user(&[Role::Operator]), Tier::City), Some(Section::Federation));
        assert_eq!(home_section(&user(&[Role::Establishment]), Tier::City), Some(Section::Publish));
        assert_eq!(home_section(&user(&[Role::Establishment]), Tier::Township), Some(Section::Inbox));
        assert_eq!(home_section(&user(&[Role::Auditor]), Tier::Province), Some(Section::Audit));
        assert_eq!(home_section(&user(&[Role::Clerk]), Tier::County), Some(Section::Requests));
        assert_eq!(home_section(&user(&[]), Tier::County), None);
    }

    #[test]
    fn a_township_has_no_board_and_a_province_no_inbox() {
        assert!(!Section::Board.on_tier(Tier::Township));
        assert!(!Section::Publish.on_tier(Tier::Township));
        assert!(!Section::Inbox.on_tier(Tier::Province));
        assert!(Section::Inbox.on_tier(Tier::Township));
    }
}
