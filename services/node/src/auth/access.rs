//! Which caller each route lets in: the one table the authentication middleware applies.
//!
//! Owns the classification of (method, path) into an `Access` class, nothing else. A route that
//! is not named here falls into the default (reads: any signed-in caller; writes: the
//! operator), so a new route is never open by accident. Must not look at credentials.

use axum::http::Method;
use quanze_domain::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No login: liveness, metrics, the federation peer routes (authenticated by an invite
    /// token or by signed entries), the login itself and the public list.
    Open,
    /// The console's pages: a signed-in caller, or a redirect to the sign-in page; each page
    /// checks the roles it needs.
    Console,
    /// Some authenticated caller; the handlers check the roles (workflow, attachments, session).
    Handler,
    /// Any authenticated caller, auditors included (every other read).
    Read,
    /// One of these roles, or the operator: the establishment office's daily writes.
    Roles(&'static [Role]),
    /// The operator role (every other write).
    Operator,
}

/// The establishment office (编办) publishes catalogue changes, reconciles its list, and issues,
/// accepts and tracks delegated powers and their seals; the operator may do all of it too.
const OFFICE: &[Role] = &[Role::Establishment];

/// Exact paths open to everyone, whatever the method (other methods get 405 from the router).
const OPEN_PATHS: [&str; 12] = [
    "/healthz",
    "/metrics",
    "/api/v1/fed/enroll",
    "/api/v1/fed/push",
    "/api/v1/fed/pull",
    "/api/v1/fed/heads",
    "/api/v1/fed/recover",
    "/api/v1/auth/login",
    "/api/v1/fed/checkpoints",
    "/api/v1/fed/checkpoints/relay",
    "/openapi.json",
    "/api/v1/fed/confirm",
];

/// Path trees open to everyone: the public list (no login) and the console's sign-in page,
/// style sheet and script.
const OPEN_TREES: [&str; 4] = ["/public", "/api/v1/public", "/console/login", "/console/assets"];

/// Path trees whose handlers check the roles themselves (via the `Principal` extractor).
const HANDLER_TREES: [&str; 3] = ["/api/v1/requests", "/api/v1/attachments", "/api/v1/auth"];

/// `path` is `tree` or lies below it (`/public` and `/public/x`, not `/publicity`).
fn within(path: &str, tree: &str) -> bool {
    path.strip_prefix(tree).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The access class of a request, from its method and full path (`/api/v1/...`).
pub fn classify(method: &Method, path: &str) -> Access {
    if OPEN_PATHS.contains(&path) || OPEN_TREES.iter().any(|t| within(path, t)) {
        return Access::Open;
    }
    if within(path, "/console") {
        return Access::Console;
    }
    if HANDLER_TREES.iter().any(|t| within(path, t)) {
        return Access::Handler;
    }
    if matches!(*method, Method::GET | Method::HEAD) {
        return Access::Read;
    }
    if *method == Method::POST && office_write(path) { Access::Roles(OFFICE) } else { Access::Operator }
}

/// The establishment office's writes, matched segment by segment:
/// `POST /catalogue/publications[/sheet|/lines]`, `POST /recon/{ref}/{adopt|deviate|not-applicable}`,
/// `POST /grants`, `POST /grants/sheet`, `POST /grants/{ref}/{accept|revoke|extend}`, `POST /seals`,
/// `POST /seals/replace` and `POST /seals/{id}/{deliver|activate|recall|archive}`.
fn office_write(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/") else { return false };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return false;
    }
    matches!(
        segments.as_slice(),
        ["catalogue", "publications"]
            | ["catalogue", "publications", "sheet" | "lines"]
            | ["grants"]
            | ["grants", "sheet"]
            | ["seals"]
            | ["seals", "replace"]
            | ["recon", _, "adopt" | "deviate" | "not-applicable"]
            | ["grants", _, "accept" | "revoke" | "extend"]
            | ["seals", _, "deliver" | "activate" | "recall" | "archive"]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_its_class() {
        let cases: &[(Method, &str, Access)] = &[
            (Method::GET, "/healthz", Access::Open),
            (Method::GET, "/metrics", Access::Open),
            (Method::POST, "/api/v1/fed/enroll", Access::Open),
            (Method::POST, "/api/v1/fed/push", Access::Open),
            (Method::GET, "/api/v1/fed/pull", Access::Open),
            (Method::GET, "/api/v1/fed/heads", Access::Open),
            (Method::GET, "/api/v1/fed/recover", Access::Open),
            (Method::POST, "/api/v1/fed/confirm", Access::Open),
            (Method::POST, "/api/v1/auth/login", Access::Open),
            (Method::GET, "/public", Access::Open),
            (Method::GET, "/public/items/XK00035000", Access::Open),
            (Method::GET, "/api/v1/public/items", Access::Open),
            (Method::POST, "/api/v1/auth/logout", Access::Handler),
            (Method::GET, "/api/v1/auth/me", Access::Handler),
            (Method::GET, "/api/v1/requests", Access::Handler),
            (Method::POST, "/api/v1/requests", Access::Handler),
            (Method::POST, "/api/v1/requests/510521-3/approve", Access::Handler),
            (Method::POST, "/api/v1/attachments", Access::Handler),
            (Method::GET, "/api/v1/items", Access::Read),
            (Method::HEAD, "/api/v1/node", Access::Read),
            (Method::GET, "/api/v1/log", Access::Read),
            (Method::GET, "/api/v1/fed/status", Access::Read),
            (Method::GET, "/api/v1/users", Access::Read),
            (Method::GET, "/api/v1/audit", Access::Read),
            (Method::POST, "/api/v1/items", Access::Operator),
            (Method::PATCH, "/api/v1/items/XK00035000", Access::Operator),
            (Method::PUT, "/api/v1/policy", Access::Operator),
            (Method::DELETE, "/api/v1/items/XK00035000", Access::Operator),
            (Method::POST, "/api/v1/fed/invites", Access::Operator),
            (Method::POST, "/api/v1/users", Access::Operator),
            (Method::POST, "/api/v1/admin/rebuild", Access::Operator),
            (Method::OPTIONS, "/api/v1/items", Access::Operator),
            (Method::GET, "/api/v1/some/new/route", Access::Read),
            (Method::GET, "/console", Access::Console),
            (Method::GET, "/console/board", Access::Console),
            (Method::GET, "/console/requests/new", Access::Console),
            (Method::GET, "/console/requests/12", Access::Console),
            (Method::GET, "/console/audit/findings", Access::Console),
            (Method::GET, "/console/audit/entry/510000/3", Access::Console),
            (Method::GET, "/console/login", Access::Open),
            (Method::GET, "/console/assets/console.js", Access::Open),
            (Method::GET, "/consoles", Access::Read),
            (Method::POST, "/api/v1/catalogue/publications", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/catalogue/publications/sheet", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/catalogue/publications/lines", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/catalogue/publications/510500-3", Access::Operator),
            (Method::POST, "/api/v1/catalogue/publications/sheet/x", Access::Operator),
            (Method::GET, "/api/v1/recon/510500%233/status", Access::Read),
            (Method::POST, "/api/v1/recon/XK-2026-1/adopt", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/recon/XK-2026-1/deviate", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/recon/XK-2026-1/not-applicable", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/grants", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/grants/g1/accept", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/grants/sheet", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/seals/3/recall", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/seals/replace", Access::Roles(OFFICE)),
            (Method::POST, "/api/v1/recon/XK-2026-1/adopt/", Access::Operator),
            (Method::POST, "/api/v1/recon//adopt", Access::Operator),
            (Method::POST, "/api/v1/recon/a/b/adopt", Access::Operator),
            (Method::PATCH, "/api/v1/grants/g1/accept", Access::Operator),
            (Method::POST, "/api/v1/fed/key/rotate", Access::Operator),
            (Method::POST, "/api/v1/import", Access::Operator),
            (Method::POST, "/api/v1/some/new/route", Access::Operator),
            (Method::POST, "/api/v1/fed/checkpoints", Access::Open),
            (Method::POST, "/api/v1/fed/checkpoints/relay", Access::Open),
            (Method::GET, "/api/v1/public/checkpoints", Access::Open),
            (Method::GET, "/api/v1/public/proof/inclusion", Access::Open),
            (Method::GET, "/openapi.json", Access::Open),
        ];
        for (method, path, want) in cases {
            assert_eq!(classify(method, path), *want, "{method} {path}");
        }
    }

    #[test]
    fn look_alike_paths_are_not_open() {
        for path in [
            "/publicity",
            "/api/v1/publication",
            "/api/v1/fed/pull/",
            "/api/v1/fed/pullx",
            "/healthz/",
            "/api/v1/auth/login/",
            "/api/v1/auth/loginx",
            "/api/v1/%70ublic/items",
            "/API/v1/public",
            "/api/v1/fed/invites",
        ] {
            assert_ne!(classify(&Method::GET, path), Access::Open, "{path}");
            assert_ne!(classify(&Method::POST, path), Access::Open, "{path}");
        }
        assert_eq!(classify(&Method::POST, "/api/v1/requestsx"), Access::Operator);
        assert_eq!(classify(&Method::POST, "/api/v1/authx"), Access::Operator);
    }
}
