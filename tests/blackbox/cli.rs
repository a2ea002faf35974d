//! The `quanze` CLI against a running node: item add/update/cancel/list, import (including a
//! refused file), export and re-import into a second node, log show.

use quanze_tests::samples::{BAD_CSV, VALID_CSV, food_licence};
use quanze_tests::{TestNode, codes, describe, items_without, workspace_root};
use serde_json::{Value, json};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn item_add_update_cancel_and_list() {
    let node = TestNode::luxian().await;
    let out = node
        .cli([
            "item",
            "add",
            "--code",
            "XK00041000",
            "--name",
            "公共场所卫生许可",
            "--category",
            "行政许可",
            "--basis",
            "《公共场所卫生管理条例》第八条",
            "--body",
            "泸县卫生健康局",
            "--legal-days",
            "20",
            "--promised-days",
            "15",
            "--remedy",
            "行政复议：依法向泸县人民政府申请行政复议",
        ])
        .await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("510521#1"), "names the entry: {}", describe(&out));

    let item = node.get("/api/v1/items/XK00041000").await.expect(200);
    assert_eq!(item["name"], "公共场所卫生许可");
    assert_eq!(item["category"], "licensing");
    assert_eq!(item["basis"], json!([{"law": "公共场所卫生管理条例", "article": "第八条"}]));
    assert_eq!(item["implementing_body"], "泸县卫生健康局");
    assert_eq!(item["time_limit"], json!({"legal_days": 20, "promised_days": 15}));
    assert_eq!(item["remedies"], json!(["行政复议：依法向泸县人民政府申请行政复议"]));

    let out = node.cli(["item", "list", "--json"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let page: Value = serde_json::from_slice(&out.stdout).expect("item list --json prints JSON");
    assert_eq!(codes(&page), ["XK00041000"]);
    assert_eq!(page["items"][0], item);

    let out = node.cli(["item", "update", "XK00041000", "--promised-days", "10"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(node.get("/api/v1/items/XK00041000").await.expect(200)["time_limit"]["promised_days"], 10);

    let out = node.cli(["item", "cancel", "XK00041000", "--reason", "依据川府发〔2025〕3号取消"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let item = node.get("/api/v1/items/XK00041000").await.expect(200);
    assert_eq!(item["status"], "cancelled");
    assert_eq!(item["status_reason"], "依据川府发〔2025〕3号取消");
    assert_eq!(node.head_seq().await, 3);

    // Filters and the table view.
    node.add_item(&food_licence()).await;
    let out = node.cli(["item", "list", "--json", "--status", "cancelled"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(codes(&serde_json::from_slice(&out.stdout).expect("JSON")), ["XK00041000"]);
    let out = node.cli(["item", "list", "--json", "--body", "泸县市场监督管理局", "--category", "行政许可"]).await;
    assert_eq!(codes(&serde_json::from_slice(&out.stdout).expect("JSON")), ["XK00035000"]);
    let out = node.cli(["item", "list"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("食品经营许可") && stdout(&out).contains("公共场所卫生许可"), "{}", describe(&out));

    // Refusals exit non-zero and name the problem; nothing is written.
    let out = node.cli(["item", "cancel", "XK00041000", "--reason", "再次取消"]).await;
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ITEM_CANCELLED"), "{}", describe(&out));
    let out = node
        .cli([
            "item",
            "add",
            "--code",
            "XK00036000",
            "--name",
            "食品生产许可",
            "--category",
            "行政许可",
            "--body",
            "泸县市场监督管理局",
        ])
        .await;
    assert!(!out.status.success(), "item without basis accepted: {}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VALIDATION_FAILED"), "{}", describe(&out));
    assert_eq!(node.head_seq().await, 4);
}

#[tokio::test]
async fn import_of_a_bad_file_names_the_file_and_rows() {
    let node = TestNode::luxian().await;
    let bad = node.scratch("泸县权责清单-有误.csv");
    std::fs::write(&bad, BAD_CSV).expect("write CSV");
    let out = node.cli([bad.as_os_str()]).await;
    assert!(!out.status.success(), "clap needs a command");

    let out = node.cli(["import".as_ref(), bad.as_os_str()]).await;
    assert!(!out.status.success(), "bad import accepted: {}", describe(&out));
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("泸县权责清单-有误.csv"), "names the file: {}", describe(&out));
    assert!(all.contains("IMPORT_INVALID"), "{}", describe(&out));
    assert!(all.contains("row 3") || all.contains("第 3 行"), "names row 3: {}", describe(&out));
    assert!(all.contains("row 4") || all.contains("第 4 行"), "names row 4: {}", describe(&out));
    assert!(all.contains("行政备案"), "names the bad category: {}", describe(&out));
    assert_eq!(node.head_seq().await, 0, "nothing written");

    let good = node.scratch("泸县权责清单.csv");
    std::fs::write(&good, VALID_CSV).expect("write CSV");
    let out = node.cli(["import".as_ref(), good.as_os_str()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("510521#1"), "one entry: {}", describe(&out));
    assert_eq!(node.items().await["total"], 3);
    assert_eq!(node.head_seq().await, 1);

    // Importing it again is refused row by row.
    let out = node.cli(["import".as_ref(), good.as_os_str()]).await;
    assert!(!out.status.success(), "re-import accepted: {}", describe(&out));
    let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("泸县权责清单.csv") && all.contains("XK00041000"), "{}", describe(&out));
    assert_eq!(node.head_seq().await, 1);
}

#[tokio::test]
async fn export_then_import_into_a_fresh_node_gives_the_same_list() {
    let node = TestNode::luxian().await;
    // The published sample list: every element, multi-valued cells, flows, a BOM.
    let sample = workspace_root().join("deploy/samples/luxian-list.csv");
    let out = node.cli(["import".as_ref(), sample.as_os_str()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let out = node
        .cli([
            "item",
            "add",
            "--code",
            "XK00041000",
            "--name",
            "公共场所卫生许可",
            "--category",
            "行政许可",
            "--basis",
            "《公共场所卫生管理条例》第八条；《公共场所卫生管理条例实施细则》第二十二条",
            "--body",
            "泸县卫生健康局",
            "--legal-days",
            "20",
            "--promised-days",
            "15",
        ])
        .await;
    assert!(out.status.success(), "{}", describe(&out));
    let out = node.cli(["item", "cancel", "GG00023000", "--reason", "依据川府发〔2025〕3号取消"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let original = node.items().await;
    assert_eq!(original["total"], 13);

    let csv = node.scratch("泸县权责清单-导出.csv");
    let out =
        node.cli(["export".as_ref(), "--format".as_ref(), "csv".as_ref(), "--output".as_ref(), csv.as_os_str()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let text = std::fs::read_to_string(&csv).expect("export wrote the file");
    assert!(text.starts_with('\u{feff}'), "CSV for Excel starts with a BOM");
    assert_eq!(text.lines().count(), 14, "header and 13 rows (no multi-line cells in this list)");

    let fresh = TestNode::luxian().await;
    let out = fresh.cli(["import".as_ref(), csv.as_os_str()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(fresh.head_seq().await, 1, "the whole file is one entry");
    let copied = fresh.items().await;
    assert_eq!(copied["total"], original["total"]);
    // The CSV has no column for status_reason (documented at `items_to_csv`), so the reason of
    // the cancelled item does not travel; everything else must be identical.
    let ignore = ["last_seq", "updated_at", "status_reason"];
    assert_eq!(items_without(&copied, &ignore), items_without(&original, &ignore));
    assert_eq!(fresh.get("/api/v1/items/GG00023000").await.expect(200)["status"], "cancelled");

    // JSON export keeps every element, including the reason.
    let json_file = node.scratch("泸县权责清单-导出.json");
    let out = node
        .cli(["export".as_ref(), "--format".as_ref(), "json".as_ref(), "--output".as_ref(), json_file.as_os_str()])
        .await;
    assert!(out.status.success(), "{}", describe(&out));
    let third = TestNode::luxian().await;
    let out = third.cli(["import".as_ref(), json_file.as_os_str()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let ignore = ["last_seq", "updated_at"];
    assert_eq!(items_without(&third.items().await, &ignore), items_without(&original, &ignore));
}

#[tokio::test]
async fn log_show_and_verify() {
    let node = TestNode::luxian().await;
    let out = node.cli(["log", "show"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("no entries"), "{}", describe(&out));

    node.add_item(&food_licence()).await;
    node.patch_json("/api/v1/items/XK00035000", &json!({"time_limit": {"promised_days": 5}})).await.expect(200);
    let out = node.cli(["log", "show"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("item.add XK00035000") && text.contains("item.update XK00035000"), "{}", describe(&out));

    let out = node.cli(["log", "show", "--json", "--after", "1"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(shown["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(shown["entries"][0]["seq"], 2);

    let out = node.cli(["log", "verify"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("2 entries verified"), "{}", describe(&out));
}
