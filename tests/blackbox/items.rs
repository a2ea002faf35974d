//! The item list over HTTPS: create, read, list with filters and paging, update elements,
//! cancel; node information, metrics and liveness.

use quanze_tests::samples::{construction_permit, food_licence, food_penalty};
use quanze_tests::{TestNode, codes, enc};
use serde_json::json;

#[tokio::test]
async fn healthz_and_node_info_of_a_fresh_node() {
    let node = TestNode::luxian().await;
    let health = node.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text.trim(), "ok");

    let info = node.info().await;
    assert_eq!(info["division"], "510521");
    assert_eq!(info["tier"], "county");
    assert_eq!(info["name"], "泸县");
    assert_eq!(info["engine"], "sqlite");
    assert!(info["head"].is_null(), "a fresh node has no log head: {info}");
    assert_eq!(info["items"], 0);
    assert_eq!(info["public_key"].as_str().map(str::len), Some(64), "hex Ed25519 key: {info}");
}

#[tokio::test]
async fn create_then_get_an_item() {
    let node = TestNode::luxian().await;
    let created = node.add_item(&food_licence()).await;
    let entry = &created["entry"];
    assert_eq!(entry["origin"], "510521");
    assert_eq!(entry["seq"], 1);
    let hash = entry["hash"].as_str().expect("entry hash");
    assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()), "hash is hex SHA-256: {hash}");
    assert_eq!(created["item"]["code"], "XK00035000");
    assert_eq!(created["item"]["category"], "licensing");

    let info = node.info().await;
    assert_eq!(info["head"]["seq"], 1);
    assert_eq!(info["head"]["hash"], hash, "the node's head is the entry just written");
    assert_eq!(info["items"], 1);

    let item = node.get("/api/v1/items/XK00035000").await.expect(200);
    assert_eq!(item["code"], "XK00035000");
    assert_eq!(item["name"], "食品经营许可");
    assert_eq!(item["category"], "licensing");
    assert_eq!(item["basis"], json!([{"law": "中华人民共和国食品安全法", "article": "第三十五条"}]));
    assert_eq!(item["implementing_body"], "泸县市场监督管理局");
    assert_eq!(item["time_limit"], json!({"legal_days": 20, "promised_days": 10}));
    assert_eq!(item["remedies"], food_licence()["remedies"]);
    assert_eq!(item["status"], "active");
    assert_eq!(item["node"], "510521");
    assert_eq!(item["last_seq"], 1);
}

#[tokio::test]
async fn list_filters_and_pages() {
    let node = TestNode::luxian().await;
    for item in [food_licence(), construction_permit(), food_penalty()] {
        node.add_item(&item).await;
    }
    let list = |query: String| {
        let node = &node;
        async move { node.get(&format!("/api/v1/items?{query}")).await.expect(200) }
    };
    let sorted = |page: &serde_json::Value| {
        let mut c = codes(page);
        c.sort();
        c
    };

    let all = list(String::new()).await;
    assert_eq!(all["total"], 3);
    assert_eq!(sorted(&all), ["CF00148000", "XK00021000", "XK00035000"]);

    let licensing = list(format!("category={}", enc("行政许可"))).await;
    assert_eq!(licensing["total"], 2);
    assert_eq!(sorted(&licensing), ["XK00021000", "XK00035000"]);
    // The English key filters the same.
    assert_eq!(sorted(&list("category=licensing".into()).await), ["XK00021000", "XK00035000"]);
    assert_eq!(sorted(&list(format!("category={}", enc("行政处罚"))).await), ["CF00148000"]);

    let market = list(format!("body={}", enc("泸县市场监督管理局"))).await;
    assert_eq!(market["total"], 2);
    assert_eq!(sorted(&market), ["CF00148000", "XK00035000"]);

    assert_eq!(sorted(&list(format!("q={}", enc("食品"))).await), ["CF00148000", "XK00035000"]);
    assert_eq!(sorted(&list(format!("q={}", enc("建筑"))).await), ["XK00021000"]);
    assert_eq!(sorted(&list("q=XK00021".into()).await), ["XK00021000"], "q matches the code too");
    assert_eq!(list(format!("q={}", enc("不存在的事项"))).await["total"], 0);

    assert_eq!(list("status=active".into()).await["total"], 3);
    assert_eq!(list("status=cancelled".into()).await["total"], 0);
    let combined = list(format!("category={}&body={}", enc("行政许可"), enc("泸县市场监督管理局"))).await;
    assert_eq!(codes(&combined), ["XK00035000"]);

    // Paging: pages of two are disjoint, cover the list, and each reports the full total.
    let first = list("offset=0&limit=2".into()).await;
    let second = list("offset=2&limit=2".into()).await;
    assert_eq!((first["total"].as_u64(), first["offset"].as_u64()), (Some(3), Some(0)));
    assert_eq!((second["total"].as_u64(), second["offset"].as_u64()), (Some(3), Some(2)));
    assert_eq!(codes(&first).len(), 2);
    assert_eq!(codes(&second).len(), 1);
    let mut paged = [codes(&first), codes(&second)].concat();
    assert_eq!(paged, codes(&all), "pages follow the order of the whole list");
    paged.sort();
    paged.dedup();
    assert_eq!(paged.len(), 3);
    let past_end = list("offset=10&limit=2".into()).await;
    assert_eq!(past_end["total"], 3);
    assert!(codes(&past_end).is_empty());
}

#[tokio::test]
async fn update_elements_then_cancel() {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    node.add_item(&construction_permit()).await;

    // Only the promised limit is named: the legal limit stays.
    let updated = node
        .patch_json(
            "/api/v1/items/XK00035000",
            &json!({"time_limit": {"promised_days": 5}, "implementing_body": "泸县行政审批局"}),
        )
        .await
        .expect(200);
    assert_eq!(updated["entry"]["seq"], 3);
    assert_eq!(updated["item"]["time_limit"], json!({"legal_days": 20, "promised_days": 5}));
    assert_eq!(updated["item"]["implementing_body"], "泸县行政审批局");
    let item = node.get("/api/v1/items/XK00035000").await.expect(200);
    assert_eq!(item["time_limit"], json!({"legal_days": 20, "promised_days": 5}));
    assert_eq!(item["implementing_body"], "泸县行政审批局");
    assert_eq!(item["name"], "食品经营许可", "elements not named stay");
    assert_eq!(item["last_seq"], 3);

    let reason = "依据川府发〔2025〕3号取消";
    let cancelled = node.post_json("/api/v1/items/XK00021000/cancel", &json!({ "reason": reason })).await.expect(200);
    assert_eq!(cancelled["entry"]["seq"], 4);
    assert_eq!(cancelled["item"]["status"], "cancelled");
    assert_eq!(cancelled["item"]["status_reason"], reason);
    let item = node.get("/api/v1/items/XK00021000").await.expect(200);
    assert_eq!(item["status"], "cancelled");
    assert_eq!(item["status_reason"], reason);
    assert_eq!(item["last_seq"], 4);
    assert_eq!(codes(&node.get("/api/v1/items?status=cancelled").await.expect(200)), ["XK00021000"]);
    assert_eq!(codes(&node.get("/api/v1/items?status=active").await.expect(200)), ["XK00035000"]);

    // A cancelled item cannot be changed or cancelled again, and nothing is written.
    let before = node.snapshot().await;
    node.patch_json("/api/v1/items/XK00021000", &json!({"time_limit": {"promised_days": 2}}))
        .await
        .expect_error(409, "ITEM_CANCELLED");
    node.post_json("/api/v1/items/XK00021000/cancel", &json!({"reason": "重复取消"}))
        .await
        .expect_error(409, "ITEM_CANCELLED");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "changing a cancelled item");
    assert_eq!(before.seq(), 4);
    assert_eq!(node.get("/api/v1/items/XK00021000").await.expect(200)["status_reason"], reason);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    node.add_item(&food_penalty()).await;
    node.get("/api/v1/items/XK99999000").await.expect_error(404, "NOT_FOUND");

    let metrics = node.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.starts_with("text/plain"), "content type {:?}", metrics.content_type);
    let value = |name: &str| -> u64 {
        let line = metrics
            .text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no sample of {name} in:\n{}", metrics.text));
        line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("bad sample {line:?}"))
    };
    assert!(metrics.text.contains("# TYPE quanze_items gauge"), "{}", metrics.text);
    assert!(metrics.text.contains("# TYPE quanze_http_requests_total counter"), "{}", metrics.text);
    assert_eq!(value("quanze_items"), 2);
    assert_eq!(value("quanze_own_log_seq"), 2);
    assert_eq!(value("quanze_entries_written_total"), 2);
    // Health polls, two writes and the 404 at least.
    assert!(value("quanze_http_requests_total") >= 4);
    assert!(value("quanze_http_client_errors_total") >= 1);
    for line in metrics.text.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let (name, val) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        assert!(
            name.starts_with("quanze_") && val.parse::<f64>().is_ok() && parts.next().is_none(),
            "bad line {line:?}"
        );
    }
}
