//! The operator: signs in (after a wrong password), lands on the federation status page of a
//! city with a county below it, and sees the child, the logs and the parent's exchanges; then
//! imports the city's list from an Excel workbook in the console: a workbook with bad rows is
//! refused with each row, column and reason shown, the corrected one is imported.

use quanze_domain::import::table_to_xlsx;
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

    // The list: import a workbook. One with bad rows is refused, naming each row and column.
    browser.click_text("本级清单").await;
    browser.wait_for_text("导入清单").await;
    let headers = ["事项编码", "事项名称", "职权类别", "设定依据", "实施主体", "法定办结时限"];
    let basis = "《城市市容和环境卫生管理条例》第十七条";
    let body = "泸州市城市管理局";
    let row = |cells: [&str; 6]| cells.map(String::from).to_vec();
    let mut rows = vec![
        row(["XK00072000", "城市建筑垃圾处置核准", "行政许可", basis, body, "20"]),
        row(["XK00072100", "临时占用城市道路许可", "许可证", basis, body, "20"]),
        row(["XK00072200", "户外广告设置许可", "行政许可", basis, body, "二十"]),
    ];
    let bad = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
    std::fs::write(bad.path(), table_to_xlsx("城管", &headers, &rows).unwrap()).unwrap();
    browser.choose_file("#import input[type=file]", bad.path()).await;
    browser.click("#import button[type=submit]").await;
    let error = browser.wait_visible("#import .error").await;
    assert!(error.contains("IMPORT_INVALID") && error.contains("未导入任何事项"), "{error}");
    assert!(error.contains("第 3 行") && error.contains("C 列") && error.contains("许可证"), "{error}");
    assert!(error.contains("第 4 行") && error.contains("F 列") && error.contains("二十"), "{error}");
    assert!(error.contains("城管"), "the worksheet is named: {error}");
    browser.shot("import-refused").await;
    let listed = city.get("/api/v1/items").await.expect(200);
    assert_eq!(listed["total"], 0, "nothing was imported: {listed}");

    rows[1][2] = "行政许可".into();
    rows[2][5] = "20".into();
    let good = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
    std::fs::write(good.path(), table_to_xlsx("城管", &headers, &rows).unwrap()).unwrap();
    browser.choose_file("#import input[type=file]", good.path()).await;
    browser.click("#import button[type=submit]").await;
    let text = browser.wait_for_text("户外广告设置许可").await;
    assert!(text.contains("共 3 项"), "{text}");
    browser.shot("imported").await;

    // Signing out ends the session: the page sends the browser back to the sign-in form.
    browser.click_text("退出").await;
    browser.wait_for_text("登录名").await;
    browser.open(&format!("{}/console/federation", city.url)).await;
    assert!(browser.path().await.starts_with("/console/login"), "{}", browser.path().await);
    browser.close().await;
}
