//! Restarting a node: after a graceful stop and a new `serve` on the same data directory the
//! list and the log head are still there, and the next write continues the log (no seq reuse).

use quanze_tests::TestNode;
use quanze_tests::samples::{construction_permit, food_licence, food_penalty};
use serde_json::json;

#[tokio::test]
async fn restart_keeps_the_list_and_continues_the_log() {
    let mut node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    node.add_item(&construction_permit()).await;
    node.patch_json("/api/v1/items/XK00035000", &json!({"time_limit": {"promised_days": 5}})).await.expect(200);
    let items = node.items().await;
    let info = node.info().await;
    assert_eq!(info["head"]["seq"], 3);

    node.stop().await;
    assert!(!node.is_running());
    node.restart().await;

    assert_eq!(node.items().await, items, "the list survives a restart");
    let again = node.info().await;
    assert_eq!(again["head"], info["head"]);
    assert_eq!(again["public_key"], info["public_key"], "same identity after a restart");

    let written = node.add_item(&food_penalty()).await;
    assert_eq!(written["entry"]["seq"], 4, "the log continues after the restart");
    let log = node.get("/api/v1/log").await.expect(200);
    let seqs: Vec<u64> = log["entries"].as_array().expect("entries").iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let report = node.get("/api/v1/log/verify").await.expect(200);
    assert_eq!(report["ok"], true, "{report}");

    // A second restart, and once more the next seq.
    node.stop().await;
    node.restart().await;
    assert_eq!(node.head_seq().await, 4);
    let written = node.post_json("/api/v1/items/XK00021000/cancel", &json!({"reason": "职能调整"})).await.expect(200);
    assert_eq!(written["entry"]["seq"], 5);
    node.stop().await;
}
