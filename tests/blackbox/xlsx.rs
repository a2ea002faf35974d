//! Excel workbooks over HTTPS and through the CLI: a list exported as .xlsx by one node imports
//! into a fresh node as the same list; a workbook with bad rows is refused naming the worksheet
//! and the rows, and writes nothing. Workbooks are built in the test, never stored as fixtures.

use quanze_domain::import::{ImportFormat, parse_items, table_to_xlsx};
use quanze_tests::samples::{VALID_CSV, food_licence};
use quanze_tests::{TestNode, describe};
use reqwest::Method;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET` with the operator token, answering status, headers and the raw (binary) body.
async fn get_bytes(node: &TestNode, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = node.authed(Method::GET, path).send().await.unwrap_or_else(|e| panic!("GET {path}: {e:?}"));
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.bytes().await.expect("cannot read the answer body").to_vec())
}

/// The whole list as the JSON export gives it (items only, by code).
async fn exported(node: &TestNode) -> Value {
    node.get("/api/v1/export?format=json").await.expect(200)
}

#[tokio::test]
async fn an_xlsx_export_imports_into_a_fresh_node_as_the_same_list() {
    let source = TestNode::luxian().await;
    source.add_item(&food_licence()).await;
    source.post_bytes("/api/v1/import?format=csv", "text/csv", VALID_CSV).await.expect(201);

    let (status, headers, bytes) = get_bytes(&source, "/api/v1/export?format=xlsx").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(headers[reqwest::header::CONTENT_TYPE], XLSX);
    let disposition = headers[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap();
    // 510521-权责清单.xlsx, RFC 5987 encoded.
    assert_eq!(disposition, "attachment; filename*=UTF-8''510521-%E6%9D%83%E8%B4%A3%E6%B8%85%E5%8D%95.xlsx");
    assert_eq!(parse_items(ImportFormat::Xlsx, &bytes).expect("a readable workbook").items.len(), 4);

    let target = TestNode::luxian().await;
    let body = target.post_bytes("/api/v1/import?format=xlsx", XLSX, bytes).await.expect(201);
    assert_eq!((body["imported"].as_u64(), body["sheet"].as_str()), (Some(4), Some("权责清单")), "{body}");
    assert_eq!(body["entry"]["seq"], 1, "the whole workbook is one entry");
    assert_eq!(exported(&target).await, exported(&source).await);

    // The public download offers the same workbook.
    let (status, headers, public) = get_bytes(&source, "/api/v1/public/download?format=xlsx").await;
    assert_eq!((status, headers[reqwest::header::CONTENT_TYPE].to_str().unwrap()), (200, XLSX));
    assert_eq!(parse_items(ImportFormat::Xlsx, &public).unwrap().items.len(), 4);

    // The grant register as a workbook too (empty here: the header row only).
    let (status, headers, register) = get_bytes(&source, "/api/v1/grants/export?format=xlsx").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&register));
    assert_eq!(headers[reqwest::header::CONTENT_TYPE], XLSX);
    assert!(register.starts_with(b"PK"), "an .xlsx is a zip");

    // The CLI: export to a file, import into a third node by the file's extension.
    let file = source.scratch("泸县权责清单.xlsx");
    let out = source.cli(["export", "--format", "xlsx", "--output", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let third = TestNode::luxian().await;
    let out = third.cli(["import", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(exported(&third).await, exported(&source).await);
}

#[tokio::test]
async fn a_bad_workbook_is_refused_naming_sheet_and_rows_and_nothing_is_written() {
    let node = TestNode::luxian().await;
    node.add_item(&food_licence()).await;
    let before = node.snapshot().await;
    let headers = ["事项编码", "事项名称", "职权类别", "设定依据", "实施主体", "法定办结时限"];
    let row = |cells: [&str; 6]| cells.map(String::from).to_vec();
    let basis = "《公共场所卫生管理条例》第八条";
    let rows = vec![
        row(["XK00041000", "公共场所卫生许可", "行政许可", basis, "泸县卫生健康局", "20"]),
        row(["XK00042000", "卫生许可变更", "许可证", basis, "泸县卫生健康局", "20"]),
        row(["XK00043000", "卫生许可注销", "行政许可", basis, "泸县卫生健康局", "二十"]),
    ];
    let bytes = table_to_xlsx("卫生许可", &headers, &rows).unwrap();
    let body =
        node.post_bytes("/api/v1/import?format=xlsx", XLSX, bytes.clone()).await.expect_error(422, "IMPORT_INVALID");
    let errors: Vec<(&str, u64, &str, &str)> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {body}"))
        .iter()
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or("");
            (text("sheet"), e["row"].as_u64().unwrap_or(0), text("column"), text("field"))
        })
        .collect();
    assert_eq!(errors, [("卫生许可", 3, "C", "category"), ("卫生许可", 4, "F", "legal_days")], "{body}");

    // The CLI names the worksheet and the row too, and exits non-zero.
    let file = node.scratch("卫生许可.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let out = node.cli(["import", file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("工作表 “卫生许可” 第 3 行"), "{}", describe(&out));
    assert!(stderr.contains("（C 列）"), "the CLI names the column: {}", describe(&out));

    // Not a workbook at all: one error on row 1, no sheet.
    let body = node
        .post_bytes("/api/v1/import?format=xls", "application/vnd.ms-excel", "事项编码,事项名称")
        .await
        .expect_error(422, "IMPORT_INVALID");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!((body["errors"][0]["row"].as_u64(), body["errors"][0].get("sheet")), (Some(1), None), "{body}");
    TestNode::assert_unchanged(&before, &node.snapshot().await, "a refused workbook");
    node.get("/api/v1/items/XK00041000").await.expect_error(404, "NOT_FOUND");
    // Export as .xls is refused: it is an import-only format.
    node.get("/api/v1/export?format=xls").await.expect_error(400, "BAD_QUERY");
}
