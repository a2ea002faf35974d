//! Delegated powers (赋权) in the browser: the city 编办 issues a grant batch by uploading the
//! Excel sheet of its items (a sheet with a bad row first: refused, the row and column shown,
//! nothing issued); the county 编办 finds it among the grants received and accepts it with one
//! click, and the batch enters its training period.

use quanze_domain::import::table_to_xlsx;
use quanze_domain::sample_grants::{city_powers, grant_csv};
use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;

use crate::accounts::{PASSWORD, account};

fn localise(text: &str) -> String {
    text.replace("盘锦市", "泸州市").replace("盘山县", "泸县")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_city_issues_a_grant_from_a_sheet_and_the_county_accepts_it() {
    let Some(mut browser) = Browser::start("grants").await else { return };
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2016-09-09T10:00:00+08:00").await;
    }
    let powers = city_powers(8);
    let listed = localise(&serde_json::to_string(&powers).unwrap());
    fed.city().post_bytes("/api/v1/import?format=json", "application/json", listed.clone()).await.expect(201);
    let powers: Vec<quanze_domain::PowerItem> = serde_json::from_str(&listed).unwrap();
    let csv = grant_csv(&powers[..4]);
    let mut rows: Vec<Vec<String>> =
        csv.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').map(String::from).collect()).collect();
    let headers: Vec<String> = rows.remove(0);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();

    let city = fed.city();
    account(city, "bianban", "市编办李科长", &["establishment"], None).await;
    browser.sign_in(&city.url, "bianban", PASSWORD, "/console/grants").await;
    browser.wait_for_text("下发赋权（上传事项表）").await;
    browser.fill("#issue-grant input[name=doc_no]", "泸市府发〔2016〕37号").await;
    browser.fill("#issue-grant input[name=title]", "泸州市赋予泸县市级同等行政职权工作方案").await;
    browser.fill("#issue-grant input[name=grantee]", "510521").await;

    let mut bad = rows.clone();
    bad[2][5] = String::new();
    let bad_file = dir.path().join("赋权事项-有错.xlsx");
    std::fs::write(&bad_file, table_to_xlsx("赋权事项", &headers, &bad).unwrap()).unwrap();
    browser.choose_file("#issue-grant input[type=file]", &bad_file).await;
    browser.click("#issue-grant button[type=submit]").await;
    let error = browser.wait_visible("#issue-grant .error").await;
    assert!(error.contains("IMPORT_INVALID") && error.contains("第 4 行") && error.contains("F 列"), "{error}");
    browser.shot("sheet-refused").await;
    assert_eq!(city.get("/api/v1/grants").await.expect(200)["grants"], serde_json::json!([]), "nothing issued");

    let good_file = dir.path().join("赋权事项.xlsx");
    std::fs::write(&good_file, table_to_xlsx("赋权事项", &headers, &rows).unwrap()).unwrap();
    browser.choose_file("#issue-grant input[type=file]", &good_file).await;
    browser.click("#issue-grant button[type=submit]").await;
    let text = browser.wait_for_text("泸市府发〔2016〕37号").await;
    assert!(text.contains("待交接"), "the batch awaits its handover: {text}");
    browser.shot("issued").await;

    fed.wait_converged(std::time::Duration::from_secs(60)).await;
    fed.node_mut("510521").set_clock("2016-09-30T10:00:00+08:00").await;
    let county = fed.county();
    account(county, "bianban", "县编办王主任", &["establishment"], None).await;
    browser.click_text("退出").await;
    browser.wait_for_text("登录名").await;
    browser.sign_in(&county.url, "bianban", PASSWORD, "/console/grants").await;
    let text = browser.wait_for_text("收到的赋权").await;
    assert!(text.contains("泸市府发〔2016〕37号") && text.contains("待交接"), "{text}");
    browser.click("button[data-api$='/accept']").await;
    browser.wait_gone("button[data-api$='/accept']").await;
    let text = browser.wait_for_text("2016-09-30").await;
    assert!(!text.contains("待交接") && text.contains("培训指导期"), "accepted on 2016-09-30: {text}");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the grants page is {width} px wide in a {window} px window");
    browser.shot("accepted").await;
    let list = county.get("/api/v1/items?status=granted").await.expect(200);
    assert_eq!(list["total"], 4, "the granted items are in the county's list: {list}");
    browser.close().await;
}
