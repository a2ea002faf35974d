//! The operator: signs in (after a wrong password), lands on the federation status page of a
//! city with a county below it, and sees the child, the logs and the parent's exchanges.

use quanze_tests::browser::Browser;
use quanze_tests::federation::Federation;
use serde_json::json;

const PASSWORD: &str = "Yunwei-2026!";

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_signs_in_and_watches_the_federation() {
    let Some(mut browser) = Browser::start("operator").await else { return };
    let fed = Federation::start(3).await;
    let city = fed.city();
    city.post_json(
        "/api/v1/users",
        &json!({"login": "yunwei", "name": "运维小李", "roles": ["operator"], "password": PASSWORD}),
    )
    .await
    .expect(201);

    // No session: the console sends the browser to the sign-in page and back afterwards.
    browser.open(&format!("{}/console/federation", city.url)).await;
    assert!(browser.path().await.starts_with("/console/login?next="), "{}", browser.path().await);
    browser.fill("#login input[name=login]", "yunwei").await;
    browser.fill("#login input[name=password]", "wrong-password").await;
    browser.click("#login button[type=submit]").await;
    let error = browser.wait_visible("#login .error").await;
    assert!(error.contains("登录名或密码错误"), "{error}");
    assert!(error.contains("BAD_CREDENTIALS"), "{error}");
    browser.shot("wrong-password").await;

    browser.fill("#login input[name=password]", PASSWORD).await;
    browser.click("#login button[type=submit]").await;
    let text = browser.wait_for_text("下级节点").await;
    assert_eq!(browser.path().await, "/console/federation");
    assert!(text.contains("运维小李"), "{text}");
    assert!(text.contains("510521"), "the county is listed: {text}");
    assert!(text.contains("泸县"), "{text}");
    assert!(text.contains("510000"), "the province's log is held: {text}");
    assert!(text.contains("最近一次拉取成功"), "{text}");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the page is {width} px wide in a {window} px window");
    browser.shot("federation").await;

    // Signing out ends the session: the page sends the browser back to the sign-in form.
    browser.click_text("退出").await;
    browser.wait_for_text("登录名").await;
    browser.open(&format!("{}/console/federation", city.url)).await;
    assert!(browser.path().await.starts_with("/console/login"), "{}", browser.path().await);
    browser.close().await;
}
