//! The adjustment workflow in the browser: a clerk's request waits first in the 编办 reviewer's
//! queue; the reviewer opens it, reads the proposal, approves it with a comment, and its history
//! then shows both steps; the clerk sees the same history.

use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;
use quanze_tests::samples::food_penalty;
use reqwest::Method;
use serde_json::json;

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
    let token = county.post_json("/api/v1/users/jingban/tokens", &json!({"label": "测试"})).await.expect(201);
    let token = token["token"].as_str().unwrap().to_string();
    let proposal = json!({
        "kind": "adjust", "trigger": "information_changed", "trigger_date": "2025-10-13", "department": SCJ,
        "title": "关于调整食品处罚事项名称的申请", "reason": "事项名称与法条表述不一致",
        "changes": [{"op": "update", "code": "CF00148000", "patch": {"name": "对未取得食品经营许可从事食品经营活动的行政处罚"}}],
    });
    let filed = county.send(county.request(Method::POST, "/api/v1/requests").bearer_auth(&token).json(&proposal)).await;
    let id = filed.expect(201)["id"].as_u64().expect("the request's id");

    browser.sign_in(&county.url, "bianban", PASSWORD, "/console/requests").await;
    let text = browser.wait_for_text("关于调整食品处罚事项名称的申请").await;
    assert!(text.contains("待我办理") || text.contains("我的待办") || text.contains("待办"), "a queue: {text}");
    browser.shot("queue").await;
    browser.click(&format!("a[href='/console/requests/{id}']")).await;
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
