//! Accounts for the browser tests: made by the node's operator through the API, signed in by
//! the browser with this password.

use quanze_tests::TestNode;
use serde_json::json;

pub const PASSWORD: &str = "Kongzhitai-2026!";

/// Creates an account with `roles` (a clerk needs `department`).
pub async fn account(node: &TestNode, login: &str, name: &str, roles: &[&str], department: Option<&str>) {
    let mut body = json!({"login": login, "name": name, "roles": roles, "password": PASSWORD});
    if let Some(d) = department {
        body["department"] = json!(d);
    }
    node.post_json("/api/v1/users", &body).await.expect(201);
}
