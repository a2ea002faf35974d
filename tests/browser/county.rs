//! The county 编办: signs in, finds the province's catalogue change in its reconciliation inbox
//! with the due date, opens the task, sees the proposed diff and adopts it with one click; the
//! task then shows as adopted.

use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;
use quanze_tests::samples::food_licence;
use serde_json::json;

use crate::accounts::{PASSWORD, account};

#[tokio::test(flavor = "multi_thread")]
async fn the_county_office_adopts_a_catalogue_change_from_its_inbox() {
    let Some(mut browser) = Browser::start("county").await else { return };
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    let mut local = food_licence();
    local["code"] = json!("XK60000000");
    local["name"] = json!("本地旧名称食品经营许可");
    fed.county().add_item(&local).await;
    let changes: Vec<_> = (0..2)
        .map(|i| {
            let mut item = food_licence();
            item["code"] = json!(format!("XK{:05}000", 60000 + i));
            item["name"] = json!(format!("目录事项{i:02}"));
            json!({"kind": "add", "item": item, "tiers": ["city", "county"]})
        })
        .collect();
    let publication = json!({
        "doc_no": "川府发〔2025〕50号", "title": "关于公布省市县三级行政许可事项目录的通知",
        "published": "2025-09-28", "effective": "2025-10-01", "tiers": ["city", "county"], "changes": changes,
    });
    fed.province().post_json("/api/v1/catalogue/publications", &publication).await.expect(201);
    fed.wait_converged(std::time::Duration::from_secs(60)).await;

    let county = fed.county();
    account(county, "bianban", "县编办王主任", &["establishment"], None).await;
    browser.sign_in(&county.url, "bianban", PASSWORD, "/console/inbox").await;
    let text = browser.wait_for_text("川府发〔2025〕50号").await;
    assert!(text.contains("2025-10-31"), "the due date, 20 working days on: {text}");
    browser.shot("inbox").await;

    browser.click_text("川府发〔2025〕50号").await;
    let text = browser.wait_for_text("拟调整内容").await;
    assert!(text.contains("本地旧名称食品经营许可") && text.contains("目录事项00"), "the diff: {text}");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the task page is {width} px wide in a {window} px window");
    browser.shot("task").await;

    browser.click("button[data-api$='/adopt']").await;
    browser.wait_gone("button[data-api$='/adopt']").await;
    let text = browser.wait_for_text("已采纳").await;
    assert!(!text.contains("无法直接采纳"), "{text}");
    browser.shot("adopted").await;
    let listed = county.get("/api/v1/items?q=目录事项01").await.expect(200);
    assert_eq!(listed["total"], 1, "adoption added the catalogue's item: {listed}");
    browser.close().await;
}
