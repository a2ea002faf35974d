//! The signed log: entries hash to their bodies, verification passes on an intact log and
//! finds a tampered entry (offline, by the CLI's fallback when the node is down, and by the
//! node itself once served again), and rebuilding the projections from the log keeps the list
//! exactly as it was.

use quanze_tests::samples::{construction_permit, food_licence, food_penalty};
use quanze_tests::{TestNode, describe, sha256_hex};
use serde_json::json;

/// Three entries: #1 食品经营许可, #2 the 食品 penalty, #3 a cancellation.
async fn node_with_three_entries() -> TestNode {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    node.add_item(&food_penalty()).await;
    node.post_json("/api/v1/items/XK00035000/cancel", &json!({"reason": "依据川府发〔2025〕3号取消"}))
        .await
        .expect(200);
    node
}

#[tokio::test]
async fn entries_hash_to_their_bodies_and_verify() {
    let node = node_with_three_entries().await;
    let log = node.get("/api/v1/log").await.expect(200);
    assert_eq!(log["origin"], "510521");
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    let mut prev_hash = None;
    for (i, e) in entries.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(e["seq"], seq);
        let body = e["body"].as_str().expect("body is a string");
        assert_eq!(
            e["hash"].as_str(),
            Some(sha256_hex(body.as_bytes()).as_str()),
            "entry #{seq}: hash is SHA-256 of body"
        );
        let sig = e["sig"].as_str().expect("sig");
        assert!(sig.len() == 128 && sig.chars().all(|c| c.is_ascii_hexdigit()), "Ed25519 signature in hex: {sig}");
        let decoded: serde_json::Value = serde_json::from_str(body).expect("body is JSON");
        assert_eq!(decoded, e["decoded"], "decoded view matches the body");
        assert_eq!(decoded["origin"], "510521");
        assert_eq!(decoded["seq"], seq);
        if let Some(prev) = prev_hash {
            assert!(body.contains(prev), "entry #{seq} links the previous hash {prev}: {body}");
        }
        prev_hash = e["hash"].as_str();
    }
    assert_eq!(entries[0]["decoded"]["op"][0]["type"], "item.add");
    assert_eq!(entries[0]["decoded"]["op"][0]["item"]["code"], "XK00035000");
    assert_eq!(entries[2]["decoded"]["op"][0]["type"], "item.cancel");
    assert_eq!(node.info().await["head"]["hash"], entries[2]["hash"]);

    let page = node.get("/api/v1/log?after=1&limit=1").await.expect(200);
    let page = page["entries"].as_array().expect("entries");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["seq"], 2);
    assert_eq!(page[0]["hash"], entries[1]["hash"]);

    let report = node.get("/api/v1/log/verify").await.expect(200);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries_checked"], 3);
    assert_eq!(report["problems"], json!([]));
    assert_eq!(report["heads"], json!([{"origin": "510521", "seq": 3, "hash": entries[2]["hash"]}]));
}

#[tokio::test]
async fn a_tampered_entry_is_found_offline_and_online() {
    let mut node = node_with_three_entries().await;
    let out = node.cli(["log", "verify"]).await;
    assert!(out.status.success(), "intact log verifies: {}", describe(&out));
    node.stop().await;
    let out = node.cli(["log", "verify", "--offline"]).await;
    assert!(out.status.success(), "intact log verifies offline: {}", describe(&out));

    // Change 食品 to 食物 (same length in UTF-8) inside the signed bytes of entry #2.
    quanze_tests::sqlite_exec(
        &node.database(),
        "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '食品', '食物') AS BLOB) WHERE seq = 2",
    )
    .await;

    let out = node.cli(["log", "verify", "--offline"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "offline verify passed a tampered log: {}", describe(&out));
    assert!(stdout.contains("510521#2"), "offline verify names the entry: {}", describe(&out));
    assert!(!stdout.contains("510521#1:") && !stdout.contains("510521#3:"), "only #2 is reported: {}", describe(&out));

    // Without --offline the CLI cannot reach the stopped node and verifies the directory itself.
    let out = node.cli(["log", "verify"]).await;
    assert!(!out.status.success(), "verify passed a tampered log: {}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("510521#2"), "verify names the entry: {}", describe(&out));

    let out = node.cli(["log", "verify", "--offline", "--json"]).await;
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["origin"], "510521");
    assert_eq!(report["problems"][0]["seq"], 2);

    // Served again, the node's own verification reports the same entry with 409, and a rebuild
    // from the broken log is refused without touching the list.
    node.restart().await;
    let report = node.get("/api/v1/log/verify").await.expect(409);
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["seq"], 2, "{report}");
    let items = node.items().await;
    node.post_json("/api/v1/admin/rebuild", &serde_json::Value::Null).await.expect_error(409, "LOG_CORRUPT");
    assert_eq!(node.items().await, items);
}

#[tokio::test]
async fn rebuild_keeps_the_list_online_and_offline() {
    let mut node = node_with_three_entries().await;
    node.add_item(&construction_permit()).await;
    node.patch_json("/api/v1/items/CF00148000", &json!({"remedies": ["行政复议", "行政诉讼"]})).await.expect(200);
    let before = node.items().await;
    let head = node.info().await["head"].clone();
    assert_eq!(head["seq"], 5);

    // Running: through the API.
    let out = node.cli(["admin", "rebuild"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 entries"), "{}", describe(&out));
    assert_eq!(node.items().await, before, "online rebuild changed the list");
    assert_eq!(node.info().await["head"], head);
    let replayed = node.post_json("/api/v1/admin/rebuild", &serde_json::Value::Null).await.expect(200);
    assert_eq!(replayed["replayed"], 5);
    assert_eq!(node.items().await, before);

    // Stopped: on the data directory, explicitly and by fallback.
    node.stop().await;
    for args in [&["admin", "rebuild", "--offline"][..], &["admin", "rebuild"][..]] {
        let out = node.cli(args).await;
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("5 entries"), "{}", describe(&out));
    }
    node.restart().await;
    assert_eq!(node.items().await, before, "offline rebuild changed the list");
    assert_eq!(node.info().await["head"], head);
    assert_eq!(node.get("/api/v1/log/verify").await.expect(200)["ok"], true);
}
