//! Upgrades: a node written by the previous release (`tests/fixtures/release-0.1.0`, made by
//! `tests/fixtures/make-release-fixture.sh`) opened by this binary. Its migrations run forward on
//! the SQLite file and on the PostgreSQL database loaded from the release's dump; then the log
//! verifies, the list is what the release served and equals a rebuild of the projections, the
//! accounts are still there, and the node writes on from where the release stopped.

use std::path::PathBuf;

use quanze_tests::postgres::FreshDatabase;
use quanze_tests::{TestNode, describe, workspace_root};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

fn fixture(backend: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/release-0.1.0").join(backend)
}

#[tokio::test]
async fn a_sqlite_node_of_the_previous_release_opens_and_writes_on() {
    let node = TestNode::from_copy(&fixture("sqlite"), "510521", None).await;
    upgraded_node_is_whole(&node).await;
}

#[tokio::test]
async fn a_postgres_node_of_the_previous_release_opens_and_writes_on() {
    let Some(db) = FreshDatabase::create("a_postgres_node_of_the_previous_release_opens_and_writes_on").await else {
        return;
    };
    // The dump as pg_dump wrote it, less psql's own meta-commands (`\restrict`).
    let dump = std::fs::read_to_string(fixture("postgres").join("dump.sql")).expect("dump.sql");
    let sql: String = dump.lines().filter(|l| !l.starts_with('\\')).map(|l| format!("{l}\n")).collect();
    let mut conn = PgConnection::connect(&db.url).await.expect("connect to the fresh database");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("load the release's dump");
    conn.close().await.ok();
    let mut node = TestNode::from_copy(&fixture("postgres"), "510521", Some(&db.url)).await;
    upgraded_node_is_whole(&node).await;
    node.stop().await;
    db.drop().await;
}

async fn upgraded_node_is_whole(node: &TestNode) {
    let out = node.cli(["log", "verify"]).await;
    assert!(out.status.success(), "log verify after the upgrade: {}", describe(&out));
    let info = node.info().await;
    let head = info["head"]["seq"].as_u64().expect("head seq");
    let list = node.items().await;
    let codes: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|i| i["code"].as_str()).collect();
    assert_eq!(codes.len(), 12, "the release's 12 items: {list}");
    let licence = node.get("/api/v1/items/XK00035000").await.expect(200);
    assert_eq!(licence["time_limit"]["promised_days"], 5, "{licence}");
    let cancelled = node.get("/api/v1/items/CF00148000").await.expect(200);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    // The projections equal a rebuild from the entries.
    let replayed = node.post_json("/api/v1/admin/rebuild", &Value::Null).await.expect(200);
    assert_eq!(replayed["replayed"].as_u64(), Some(head), "a standalone node holds only its own log: {replayed}");
    assert_eq!(node.items().await, list, "the upgraded projections equal a rebuild");

    // Node-local rows came along: the clerk's account.
    let users = node.get("/api/v1/users").await.expect(200);
    assert!(users.to_string().contains("\"clerk\""), "{users}");

    // And the node writes on from the release's head.
    let mut new_item = quanze_tests::samples::food_licence();
    new_item["code"] = json!("XK00099000");
    new_item["name"] = json!("升级后新增的许可");
    let written = node.add_item(&new_item).await;
    assert_eq!(written["entry"]["seq"].as_u64(), Some(head + 1), "{written}");
}
