//! The demo's console accounts: on each of the four demo nodes, one account per role that works
//! there, all with one password made for this run, and the console address of each node.
//! Writes accounts through each node's API (as its operator); nothing else.

use anyhow::Context;
use reqwest::Method;
use serde_json::json;

use super::demo::DemoNode;

/// (login, display name, roles, department) of the demo's people on a node of `division`.
fn people(division: &str) -> Vec<(&'static str, &'static str, &'static [&'static str], Option<&'static str>)> {
    let mut people: Vec<(&str, &str, &[&str], Option<&str>)> = vec![
        ("yunwei", "节点运维", &["operator"], None),
        ("bianban", "编办审核人", &["establishment"], None),
        ("shenji", "审计监督人员", &["auditor"], None),
    ];
    if division.len() == 6 && !division.ends_with("0000") {
        // A city or county: the adjustment workflow's people too.
        people.extend([
            ("jingban", "市场监管局经办人", &["clerk"][..], Some("市场监督管理局")),
            ("fazhi", "司法局法制审核人", &["legal"][..], None),
            ("zhengfu", "政府审定人", &["government"][..], None),
            ("gongkai", "信息公开专员", &["publisher"][..], None),
        ]);
    }
    people
}

/// A password for this demo run: `demo-` and 12 random hex digits.
pub fn demo_password() -> anyhow::Result<String> {
    Ok(format!("demo-{}", &crate::auth::password::random_hex()?[..12]))
}

/// Creates the accounts on every node and prints where to sign in.
pub async fn add_accounts(nodes: &[DemoNode], password: &str) -> anyhow::Result<()> {
    for n in nodes {
        let mut logins = Vec::new();
        for (login, name, roles, department) in people(&n.division) {
            let mut body = json!({ "login": login, "name": name, "roles": roles, "password": password });
            if let Some(d) = department {
                body["department"] = json!(format!("{}{d}", n.name));
            }
            n.api
                .send_json(Method::POST, "/api/v1/users", &body)
                .await
                .with_context(|| format!("{} 无法创建账户 {login} / cannot create the account", n.name))?;
            logins.push(login);
        }
        println!("   {:<10} {:<4} {}/console  账户 / logins: {}", n.division, n.name, n.url, logins.join(" "));
    }
    println!("   密码（本次演示生成）/ password of every demo account: {password}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_people_are_on_cities_and_counties() {
        assert_eq!(people("510000").len(), 3);
        assert_eq!(people("510500").len(), 7);
        assert_eq!(people("510521").len(), 7);
        assert_eq!(people("510521100").len(), 3);
    }

    #[test]
    fn each_demo_password_is_new() {
        let a = demo_password().unwrap();
        assert!(a.starts_with("demo-") && a.len() == 17, "{a}");
        assert_ne!(a, demo_password().unwrap());
    }
}
