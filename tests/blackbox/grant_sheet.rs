//! A city 编办 issues a grant batch from an uploaded sheet (`POST /api/v1/grants/sheet`, what
//! the console's upload sends): a workbook with bad rows is refused with each row and column and
//! nothing is issued; the same batch as a CSV is issued; the header fields are required.

use quanze_domain::import::table_to_xlsx;
use quanze_domain::sample_grants::{city_powers, grant_csv};
use quanze_tests::federation::Federation;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn localise(text: &str) -> String {
    text.replace("盘锦市", "泸州市").replace("盘山县", "泸县")
}

#[tokio::test]
async fn a_grant_sheet_is_issued_whole_or_refused_with_its_row_errors() {
    let fed = Federation::start(3).await;
    let city = fed.city();
    let powers = city_powers(12);
    let json = localise(&serde_json::to_string(&powers).unwrap());
    city.post_bytes("/api/v1/import?format=json", "application/json", json).await.expect(201);
    let powers: Vec<quanze_domain::PowerItem> =
        serde_json::from_str(&localise(&serde_json::to_string(&powers).unwrap())).unwrap();
    let query =
        "doc_no=%E6%B3%B8%E5%BA%9C%E5%8F%91%E3%80%942026%E3%80%951%E5%8F%B7&title=%E8%B5%8B%E6%9D%83&grantee=510521";
    let before = city.head_seq().await;

    // A workbook whose second row names an item not in the list and whose third has no
    // receiving department.
    let csv = grant_csv(&powers[..3]);
    let mut rows: Vec<Vec<String>> =
        csv.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').map(String::from).collect()).collect();
    let headers: Vec<String> = rows.remove(0);
    rows[1][1] = "XK09999000".into();
    rows[2][5] = String::new();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let bytes = table_to_xlsx("赋权事项", &header_refs, &rows).unwrap();
    let body = city
        .post_bytes(&format!("/api/v1/grants/sheet?format=xlsx&{query}"), XLSX, bytes.clone())
        .await
        .expect_error(422, "IMPORT_INVALID");
    let errors: Vec<(u64, &str)> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body}"))
        .iter()
        .map(|e| (e["row"].as_u64().unwrap_or(0), e["column"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(errors, [(4, "F")], "the sheet rules name row and column: {body}");
    assert_eq!(body["errors"][0]["sheet"], "赋权事项", "{body}");
    assert_eq!(city.head_seq().await, before, "nothing issued");

    // Header fields are required and checked before the sheet.
    let body = city
        .post_bytes("/api/v1/grants/sheet?format=csv&title=x&grantee=510521", "text/csv", csv.clone())
        .await
        .expect_error(422, "GRANT_FIELD_MISSING");
    assert!(body["message"].as_str().unwrap().contains("文号"), "{body}");
    city.post_bytes(&format!("/api/v1/grants/sheet?format=pdf&{query}"), "text/csv", csv.clone())
        .await
        .expect_error(400, "BAD_QUERY");

    // The item not in the city's list is refused by the grant rules, after the sheet passed.
    rows[2][5] = "泸县市场监督管理局".into();
    let bytes = table_to_xlsx("赋权事项", &header_refs, &rows).unwrap();
    city.post_bytes(&format!("/api/v1/grants/sheet?format=xlsx&{query}"), XLSX, bytes)
        .await
        .expect_error(422, "ITEM_NOT_IN_GRANTOR_LIST");
    assert_eq!(city.head_seq().await, before, "nothing issued");

    // The good sheet, as a CSV, is one grant.issue entry of three items to the county.
    let issued = city
        .post_bytes(&format!("/api/v1/grants/sheet?format=csv&issued=2026-11-02&{query}"), "text/csv", csv)
        .await
        .expect(201);
    assert_eq!(issued["grant"]["items"], 3, "{issued}");
    assert_eq!(issued["grant"]["grantee"], "510521", "{issued}");
    assert_eq!(city.head_seq().await, before + 1);
}
