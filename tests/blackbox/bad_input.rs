//! Refused input: every bad request gets its documented 4xx status with a JSON body
//! `{code, message}` (message “中文 / English”), and changes nothing — the log head, the item
//! count and the list are the same afterwards. Also `quanze init` refusing bad divisions.

use quanze_tests::samples::{BAD_CSV, VALID_CSV, VALID_CSV_CODES, food_licence, food_penalty};
use quanze_tests::{TestNode, codes, describe, enc, quanze};
use reqwest::Method;
use serde_json::{Value, json};

/// A node holding one item (食品经营许可, entry #1).
async fn node_with_one_item() -> TestNode {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    node
}

/// `errors[].field` of a VALIDATION_FAILED body.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn malformed_json_is_400() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    for bad in [r#"{"code":"XK00036000","name":"#, "not json", r#"{"code": "XK00036000",}"#] {
        node.post_bytes("/api/v1/items", "application/json", bad).await.expect_error(400, "MALFORMED_JSON");
    }
    node.post_bytes("/api/v1/items/XK00035000/cancel", "application/json", "{reason")
        .await
        .expect_error(400, "MALFORMED_JSON");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "malformed JSON");
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let mut body = br#"{"code":"XK00036000","name":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xe9]);
    body.extend_from_slice(br#"","category":"#.as_slice());
    body.extend_from_slice(
        "\"行政许可\",\"basis\":[{\"law\":\"中华人民共和国食品安全法\"}],\"implementing_body\":\"泸县市场监督管理局\"}"
            .as_bytes(),
    );
    node.post_bytes("/api/v1/items", "application/json", body.clone()).await.expect_error(400, "INVALID_UTF8");
    let mut patch = br#"{"name":"#.to_vec();
    patch.extend_from_slice(&[b'"', 0xe9, 0xa3, b'"', b'}']); // a truncated 食
    node.send(
        node.authed(Method::PATCH, "/api/v1/items/XK00035000").header("content-type", "application/json").body(patch),
    )
    .await
    .expect_error(400, "INVALID_UTF8");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "invalid UTF-8");
}

#[tokio::test]
async fn unknown_category_is_422() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let mut item = food_penalty();
    item["category"] = json!("行政备案");
    let body = node.post_json("/api/v1/items", &item).await.expect_error(422, "UNKNOWN_CATEGORY");
    assert!(body["message"].as_str().unwrap_or("").contains("行政备案"), "{body}");
    node.patch_json("/api/v1/items/XK00035000", &json!({"category": "行政备案"}))
        .await
        .expect_error(422, "UNKNOWN_CATEGORY");
    // As a query filter it is a 400.
    node.get(&format!("/api/v1/items?category={}", enc("行政备案"))).await.expect_error(400, "UNKNOWN_CATEGORY");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "an unknown category");
}

#[tokio::test]
async fn missing_elements_are_422_naming_the_fields() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;

    let mut no_basis = food_penalty();
    no_basis["basis"] = json!([]);
    let body = node.post_json("/api/v1/items", &no_basis).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["basis"]);

    let mut empty_name = food_penalty();
    empty_name["name"] = json!("  ");
    let body = node.post_json("/api/v1/items", &empty_name).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["name"]);

    // Every bad field at once.
    let mut several = food_penalty();
    several["name"] = json!("");
    several["basis"] = json!([]);
    several["implementing_body"] = json!("");
    let body = node.post_json("/api/v1/items", &several).await.expect_error(422, "VALIDATION_FAILED");
    let named = fields(&body);
    for field in ["name", "basis", "implementing_body"] {
        assert!(named.iter().any(|f| f == field), "{field} not named: {body}");
    }
    for e in body["errors"].as_array().into_iter().flatten() {
        quanze_tests::assert_bilingual(e["message"].as_str().unwrap_or_else(|| panic!("no message: {e}")));
    }

    // An update that would empty the name is refused the same way.
    let body =
        node.patch_json("/api/v1/items/XK00035000", &json!({"name": ""})).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["name"]);
    // A cancellation needs a reason.
    node.post_json("/api/v1/items/XK00035000/cancel", &json!({"reason": " "}))
        .await
        .expect_error(422, "VALIDATION_FAILED");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "missing elements");
}

/// An item JSON without a required key is refused naming that key in `errors`.
#[tokio::test]
async fn absent_required_keys_are_named_in_errors() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    for key in ["basis", "name", "implementing_body"] {
        let mut item = food_penalty();
        item.as_object_mut().expect("object").remove(key);
        let body = node.post_json("/api/v1/items", &item).await.expect_error(422, "VALIDATION_FAILED");
        assert_eq!(fields(&body), [key], "absent {key}");
    }
    TestNode::assert_unchanged(&before, &node.snapshot().await, "absent required keys");
}

/// Texts an exported spreadsheet could not carry back unchanged (a `；` or a line break inside one
/// element, outer spaces, control characters) are refused in new input — items, updates, JSON
/// imports — naming each field, so a download → edit → re-import never changes an item.
#[tokio::test]
async fn texts_a_spreadsheet_cannot_carry_are_422() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let mut item = food_penalty();
    item["name"] = json!(" 对未取得食品经营许可从事食品经营活动的处罚");
    item["responsibilities"] = json!(["受理责任；审查责任"]);
    item["supervision"] = json!(["日常\u{7}监督"]);
    let body = node.post_json("/api/v1/items", &item).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["name", "responsibilities", "supervision"], "{body}");
    for e in body["errors"].as_array().into_iter().flatten() {
        quanze_tests::assert_bilingual(e["message"].as_str().unwrap_or_else(|| panic!("no message: {e}")));
    }

    let body = node
        .patch_json("/api/v1/items/XK00035000", &json!({"remedies": ["行政复议\n行政诉讼"]}))
        .await
        .expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["remedies"], "{body}");

    let mut cited = food_penalty();
    cited["basis"] = json!([{"law": "中华人民共和国食品安全法", "article": "第一百二十二条;"}]);
    let body = node
        .post_bytes("/api/v1/import?format=json", "application/json", json!([cited]).to_string())
        .await
        .expect_error(422, "IMPORT_INVALID");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors list: {body}"));
    assert!(errors.iter().any(|e| e["row"] == 1 && e["field"] == "basis"), "{body}");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "texts a spreadsheet cannot carry");
}

#[tokio::test]
async fn duplicate_code_is_409() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let mut again = food_licence();
    again["name"] = json!("食品经营许可（重复）");
    let body = node.post_json("/api/v1/items", &again).await.expect_error(409, "DUPLICATE_CODE");
    assert!(body["message"].as_str().unwrap_or("").contains("XK00035000"), "{body}");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "a duplicate code");
    assert_eq!(node.get("/api/v1/items/XK00035000").await.expect(200)["name"], "食品经营许可");
}

#[tokio::test]
async fn promised_limit_over_legal_limit_is_422() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let mut item = food_penalty();
    item["time_limit"] = json!({"legal_days": 10, "promised_days": 20});
    let body = node.post_json("/api/v1/items", &item).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["promised_days"]);
    // Through an update: the stored legal limit is 20.
    let body = node
        .patch_json("/api/v1/items/XK00035000", &json!({"time_limit": {"promised_days": 25}}))
        .await
        .expect_error(422, "VALIDATION_FAILED");
    assert_eq!(fields(&body), ["promised_days"]);
    TestNode::assert_unchanged(&before, &node.snapshot().await, "a promised limit over the legal one");
}

#[tokio::test]
async fn body_over_8_mib_is_413() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    // A syntactically plausible item whose name alone is over 8 MiB.
    let mut body = br#"{"code":"CF00148000","name":""#.to_vec();
    body.resize(body.len() + 8 * 1024 * 1024 + 1, b'a');
    body.extend_from_slice(br#"","category":"penalty","basis":[{"law":"x"}],"implementing_body":"y"}"#);
    node.post_bytes("/api/v1/items", "application/json", body).await.expect_error(413, "PAYLOAD_TOO_LARGE");
    let csv = format!("{VALID_CSV}{}", "#".repeat(8 * 1024 * 1024));
    node.post_bytes("/api/v1/import?format=csv", "text/csv", csv).await.expect_error(413, "PAYLOAD_TOO_LARGE");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "an oversized body");
}

#[tokio::test]
async fn writes_without_the_token_are_401() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let writes = [
        (Method::POST, "/api/v1/items", food_penalty()),
        (Method::PATCH, "/api/v1/items/XK00035000", json!({"time_limit": {"promised_days": 5}})),
        (Method::POST, "/api/v1/items/XK00035000/cancel", json!({"reason": "测试"})),
        (Method::POST, "/api/v1/import?format=json", json!([food_penalty()])),
        (Method::POST, "/api/v1/admin/rebuild", Value::Null),
    ];
    for (method, path, body) in writes {
        node.send(node.request(method.clone(), path).json(&body)).await.expect_error(401, "UNAUTHORIZED");
        let wrong = node.request(method.clone(), path).bearer_auth("0".repeat(node.token.len())).json(&body);
        node.send(wrong).await.expect_error(401, "UNAUTHORIZED");
        let not_bearer = node.request(method, path).header("authorization", node.token.clone()).json(&body);
        node.send(not_bearer).await.expect_error(401, "UNAUTHORIZED");
    }
    // Reads need a caller too (`get` sends the operator token).
    assert_eq!(node.get("/api/v1/items/XK00035000").await.status, 200);
    node.send(node.request(Method::GET, "/api/v1/items/XK00035000")).await.expect_error(401, "UNAUTHORIZED");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "writes without the token");
}

#[tokio::test]
async fn unknown_item_is_404() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    node.get("/api/v1/items/XK99999000").await.expect_error(404, "NOT_FOUND");
    node.patch_json("/api/v1/items/XK99999000", &json!({"name": "不存在"})).await.expect_error(404, "NOT_FOUND");
    node.post_json("/api/v1/items/XK99999000/cancel", &json!({"reason": "不存在"}))
        .await
        .expect_error(404, "NOT_FOUND");
    node.get("/api/v1/no-such-route").await.expect_error(404, "NOT_FOUND");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "an unknown item");
}

#[tokio::test]
async fn bad_limit_and_filters_are_400() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    for query in ["limit=0", "limit=1001", "status=bogus"] {
        node.get(&format!("/api/v1/items?{query}")).await.expect_error(400, "BAD_QUERY");
    }
    node.get("/api/v1/log?limit=0").await.expect_error(400, "BAD_QUERY");
    node.get("/api/v1/log?origin=51052").await.expect_error(400, "BAD_QUERY");
    node.get("/api/v1/export?format=ods").await.expect_error(400, "BAD_QUERY");
    node.post_bytes("/api/v1/import?format=xml", "text/xml", "<list/>").await.expect_error(400, "BAD_QUERY");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "bad query parameters");
}

/// A query parameter that does not parse is a JSON `BAD_QUERY`, like every other bad query.
#[tokio::test]
async fn non_numeric_paging_is_a_json_bad_query() {
    let node = node_with_one_item().await;
    for path in ["/api/v1/items?limit=abc", "/api/v1/items?offset=-1", "/api/v1/log?after=x"] {
        node.get(path).await.expect_error(400, "BAD_QUERY");
    }
    // Unknown paths and methods answer with the same JSON error shape.
    node.get("/nope").await.expect_error(404, "NOT_FOUND");
    node.get("/api/v1/nope").await.expect_error(404, "NOT_FOUND");
    let res = node.authed(reqwest::Method::DELETE, "/api/v1/items/XK00035000").send().await.expect("DELETE");
    assert_eq!(res.status().as_u16(), 405);
    let body: serde_json::Value = res.json().await.expect("JSON error body");
    assert_eq!(body["code"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn invalid_csv_import_names_every_bad_row_and_imports_nothing() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    let body =
        node.post_bytes("/api/v1/import?format=csv", "text/csv", BAD_CSV).await.expect_error(422, "IMPORT_INVALID");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors list: {body}"));
    let row3: Vec<&Value> = errors.iter().filter(|e| e["row"] == 3).collect();
    let row4: Vec<&Value> = errors.iter().filter(|e| e["row"] == 4).collect();
    assert!(!row3.is_empty(), "row 3 (wrong column count) not reported: {body}");
    assert!(
        row3.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains('4') && m.contains('7'))),
        "row 3 message names 4 and 7 columns: {body}"
    );
    assert!(row4.iter().any(|e| e["field"] == "category"), "row 4 category not reported: {body}");
    assert!(
        row4.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("行政备案"))),
        "row 4 message names the category: {body}"
    );
    assert!(errors.iter().all(|e| e["row"] != 2), "row 2 is valid: {body}");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "an invalid import");
    node.get("/api/v1/items/XK00041000").await.expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn valid_csv_import_is_one_entry_and_reimport_is_refused() {
    let node = node_with_one_item().await;
    let before = node.snapshot().await;
    assert_eq!(before.seq(), 1);
    let body = node.post_bytes("/api/v1/import?format=csv", "text/csv", VALID_CSV).await.expect(201);
    assert_eq!(body["imported"], 3);
    assert_eq!(body["entry"]["seq"], 2, "the whole file is one entry");
    let after = node.snapshot().await;
    assert_eq!(after.seq(), 2);
    assert_eq!(after.items, 4);
    for code in VALID_CSV_CODES {
        let item = node.get(&format!("/api/v1/items/{code}")).await.expect(200);
        assert_eq!(item["last_seq"], 2, "{code}");
    }
    let qr = node.get("/api/v1/items/QR00007000").await.expect(200);
    assert_eq!(qr["basis"].as_array().map(Vec::len), Some(2), "two citations in one cell: {qr}");
    assert_eq!(qr["time_limit"], json!({"legal_days": 30, "promised_days": 5}));
    assert_eq!(qr["category"], "confirmation");

    // The same file again: every code is already in the list; nothing is written.
    let body =
        node.post_bytes("/api/v1/import?format=csv", "text/csv", VALID_CSV).await.expect_error(422, "IMPORT_INVALID");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors list: {body}"));
    let mut rows: Vec<u64> = errors.iter().filter_map(|e| e["row"].as_u64()).collect();
    rows.sort();
    assert_eq!(rows, [2, 3, 4], "{body}");
    assert!(errors.iter().all(|e| e["field"] == "code"), "{body}");
    TestNode::assert_unchanged(&after, &node.snapshot().await, "a re-import");
    let mut listed = codes(&node.items().await);
    listed.sort();
    assert_eq!(listed, ["JC00041000", "QR00007000", "XK00035000", "XK00041000"]);
}

#[tokio::test]
async fn init_refuses_a_division_that_does_not_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("city", "510521", "泸县", "county code for a city"),
        ("county", "510500", "泸州市", "city code for a county"),
        ("county", "51052", "泸县", "five digits"),
        ("county", "51052X", "泸县", "not digits"),
        ("prefecture", "510500", "泸州市", "unknown tier"),
    ];
    for (i, (tier, division, name, why)) in cases.into_iter().enumerate() {
        let data_dir = dir.path().join(format!("node-{i}"));
        let out = quanze([
            "init",
            "--tier",
            tier,
            "--division",
            division,
            "--name",
            name,
            "--standalone",
            "--data-dir",
            data_dir.to_str().expect("UTF-8 path"),
        ])
        .await;
        assert!(!out.status.success(), "init accepted {why} (--tier {tier} --division {division}): {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("错误 / error"), "{why}: {}", describe(&out));
        assert!(!data_dir.join("quanze.toml").exists(), "{why}: init wrote a config file");
        assert!(!data_dir.join("node.key").exists(), "{why}: init wrote a key");
    }
    // The same command with a fitting tier works (control).
    let ok_dir = dir.path().join("luzhou");
    let out = quanze([
        "init",
        "--tier",
        "city",
        "--division",
        "510500",
        "--name",
        "泸州市",
        "--standalone",
        "--data-dir",
        ok_dir.to_str().expect("UTF-8 path"),
    ])
    .await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(ok_dir.join("quanze.toml").is_file());
}
