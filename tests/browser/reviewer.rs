//! The adjustment workflow in the browser: a clerk files a request with the console's form; it
//! waits first in the 编办 reviewer's queue; the reviewer opens it, reads the proposal, approves
//! it with a comment, and its history then shows both steps; the clerk sees the same history.

use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;
use quanze_tests::samples::food_penalty;

use crate::accounts::{PASSWORD, account};

const SCJ: &str = "泸县市场监督管理局";

#[tokio::test(flavor = "multi_thread")]
async fn a_reviewer_approves_a_request_from_the_queue() {
    let Some(mut browser) = Browser::start("reviewer").await else { return };
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2025-10-20T10:00:00+08:00").await;
    }
    let county = fed.county();
    county.add_item(&food_penalty()).await;
    account(county, "jingban", "市场监管局张经办", &["clerk"], Some(SCJ)).await;
    account(county, "bianban", "县编办审核人", &["establishment"], None).await;
    // The clerk files the request with the console's form.
    browser.sign_in(&county.url, "jingban", PASSWORD, "/console/requests/new").await;
    browser.wait_for_text("调整事项要素").await;
    let form = "details[open] form[data-api='/api/v1/requests']";
    browser.fill(&format!("{form} input[name=title]"), "关于调整食品处罚事项名称的申请").await;
    browser.fill(&format!("{form} textarea[name=reason]"), "事项名称与法条表述不一致").await;
    browser.fill(&format!("{form} input[name='changes.0.code']"), "CF00148000").await;
    browser
        .fill(&format!("{form} input[name='changes.0.patch.name']"), "对未取得食品经营许可从事食品经营活动的行政处罚")
        .await;
    let set_date = format!("document.querySelector(\"{form} input[name=trigger_date]\").value = '2025-10-13';");
    browser.client.execute(&set_date, vec![]).await.unwrap();
    browser.shot("clerk-files").await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text("编办").await;
    let started = std::time::Instant::now();
    let id = loop {
        let path = browser.path().await;
        if let Some(id) = path.strip_prefix("/console/requests/").and_then(|s| s.parse::<u64>().ok()) {
            break id;
        }
        assert!(started.elapsed().as_secs() < 20, "the filing did not open the request's page: {path}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let filed = county.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(filed.status, 200, "{}", filed.text);
    browser.click_text("退出").await;
    browser.wait_for_text("登录名").await;

    browser.sign_in(&county.url, "bianban", PASSWORD, "/console/requests").await;
    let text = browser.wait_for_text("关于调整食品处罚事项名称的申请").await;
    assert!(text.contains("待我办理") || text.contains("我的待办") || text.contains("待办"), "a queue: {text}");
    browser.shot("queue").await;
    browser.click(&format!("a[href='/console/requests/{id}']")).await;
    browser.wait_path(&format!("/console/requests/{id}")).await;
    let text = browser.wait_for_text("事项名称与法条表述不一致").await;
    assert!(text.contains("对未取得食品经营许可从事食品经营活动的行政处罚"), "the proposed name: {text}");
    browser.fill("textarea[name=comment]", "名称与《食品安全法》第一百二十二条表述一致，同意。").await;
    browser.click("form[data-api$='/steps'] button[type=submit]").await;
    let text = browser.wait_for_text("名称与《食品安全法》第一百二十二条表述一致").await;
    assert!(text.contains("县编办审核人"), "the step names its reviewer: {text}");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the request page is {width} px wide in a {window} px window");
    browser.shot("approved").await;

    // The clerk sees the same history.
    browser.click_text("退出").await;
    browser.wait_for_text("登录名").await;
    browser.sign_in(&county.url, "jingban", PASSWORD, &format!("/console/requests/{id}")).await;
    let text = browser.wait_for_text("名称与《食品安全法》第一百二十二条表述一致").await;
    assert!(text.contains("市场监管局张经办"), "the filing step: {text}");
    browser.shot("clerk-sees-history").await;
    browser.close().await;
}
