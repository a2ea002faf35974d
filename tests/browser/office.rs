//! The city 编办: signs in, publishes a catalogue change by uploading an Excel sheet (first one
//! with a bad row, refused with its row shown), lands on the reconciliation board and sees the
//! county's task with its due date and working days left, filters it and finds the export.

use quanze_domain::import::table_to_xlsx;
use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;

use crate::accounts::{PASSWORD, account};

const HEAD: [&str; 9] =
    ["调整方式", "事项编码", "事项名称", "职权类别", "设定依据", "实施主体", "法定办结时限", "行使层级", "调整理由"];

fn add(code: &str, name: &str) -> Vec<String> {
    let basis = "《中华人民共和国食品安全法》第三十五条";
    ["新增", code, name, "行政许可", basis, "泸州市市场监督管理局", "20", "县", ""].map(String::from).to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_city_office_publishes_a_sheet_and_watches_the_board() {
    let Some(mut browser) = Browser::start("office").await else { return };
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2026-04-20T10:00:00+08:00").await;
    }
    let city = fed.city();
    account(city, "bianban", "市编办李科长", &["establishment"], None).await;
    browser.sign_in(&city.url, "bianban", PASSWORD, "/console").await;
    assert_eq!(browser.path().await, "/console/publish", "the office starts on its publish page");
    browser.wait_for_text("上传调整表").await;

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("调整表-有错.xlsx");
    std::fs::write(
        &bad,
        table_to_xlsx("调整表", &HEAD, &[add("XK51050001", "市级新增许可一"), add("XK51050002", "")]).unwrap(),
    )
    .unwrap();
    browser.fill("#publish-sheet input[name=doc_no]", "泸编发〔2026〕3号").await;
    browser.fill("#publish-sheet input[name=title]", "关于调整市县两级行政许可事项目录的通知").await;
    browser.choose_file("#publish-sheet input[type=file]", &bad).await;
    browser.click("#publish-sheet button[type=submit]").await;
    let error = browser.wait_visible("#publish-sheet .error").await;
    assert!(error.contains("IMPORT_INVALID") && error.contains("第 3 行"), "{error}");
    browser.shot("sheet-refused").await;
    assert_eq!(city.get("/api/v1/catalogue/publications").await.expect(200)["publications"], serde_json::json!([]));

    let good = dir.path().join("调整表.xlsx");
    let rows = [add("XK51050001", "市级新增许可一"), add("XK51050002", "市级新增许可二")];
    std::fs::write(&good, table_to_xlsx("调整表", &HEAD, &rows).unwrap()).unwrap();
    browser.choose_file("#publish-sheet input[type=file]", &good).await;
    browser.click("#publish-sheet button[type=submit]").await;
    // Published: the browser goes to the board of the new publication.
    browser.wait_path("/console/board?ref=").await;
    let text = browser.wait_for_text("泸县").await;
    assert!(text.contains("泸编发〔2026〕3号"), "{text}");
    fed.wait_converged(std::time::Duration::from_secs(60)).await;
    browser.client.refresh().await.unwrap();
    let text = browser.wait_for_text("泸县").await;
    assert!(text.contains("待对标") || text.contains("已逾期"), "the county's task is open: {text}");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the board is {width} px wide in a {window} px window");
    browser.shot("board").await;
    let export = browser.client.find(fantoccini::Locator::Css("a[href*='format=xlsx']")).await;
    let href = export.expect("an .xlsx export link").attr("href").await.unwrap().unwrap();
    assert!(href.contains("/status") || href.contains("export"), "{href}");
    browser.close().await;
}
