//! The province auditor: signs in, sees the node × rule heat map as of a day, picks an earlier
//! day with the date picker (the county's cell goes back to 0), drills from the county's A02
//! cell to its findings and from a finding to the evidence entry in the province's log.

use quanze_tests::TestNode;
use quanze_tests::browser::Browser;
use quanze_tests::federation::{Federation, TIERS};
use quanze_tests::samples::food_licence;
use serde_json::json;

use crate::accounts::{PASSWORD, account};

const CONVERGE: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_auditor_drills_from_the_heat_map_to_the_evidence() {
    let Some(mut browser) = Browser::start("auditor").await else { return };
    // Enrolled on 2025-09-01; the province adds three items for counties on 2025-09-28 (due
    // 2025-10-31); the county adopts nothing, so from 2025-11-01 it misses all three.
    let mut nodes: Vec<TestNode> = Vec::new();
    for &(tier, division, name) in &TIERS[..3] {
        let mut node = match nodes.last() {
            None => TestNode::start(tier, division, name).await,
            Some(parent) => TestNode::join(parent, tier, division, name).await,
        };
        node.set_clock("2025-09-01T10:00:00+08:00").await;
        nodes.push(node);
    }
    let mut fed = Federation { nodes };
    fed.wait_converged(CONVERGE).await;
    for division in ["510000", "510500", "510521"] {
        fed.node_mut(division).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    let changes: Vec<_> = (0..3)
        .map(|i| {
            let mut item = food_licence();
            item["code"] = json!(format!("XK{:05}000", 61000 + i));
            item["name"] = json!(["食品经营许可", "药品零售企业许可", "医疗器械经营许可"][i]);
            json!({"kind": "add", "item": item, "tiers": ["county"]})
        })
        .collect();
    let publication = json!({
        "doc_no": "川府发〔2025〕51号", "title": "关于调整县级行政许可事项目录的通知",
        "published": "2025-09-28", "effective": "2025-10-01", "tiers": ["county"], "changes": changes,
    });
    fed.province().post_json("/api/v1/catalogue/publications", &publication).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    fed.node_mut("510000").set_clock("2025-11-05T10:00:00+08:00").await;
    let province = fed.province();
    account(province, "shenji", "省审计厅赵处长", &["auditor"], None).await;

    browser.sign_in(&province.url, "shenji", PASSWORD, "/console").await;
    assert!(browser.path().await.starts_with("/console/audit"), "{}", browser.path().await);
    browser.open(&format!("{}/console/audit?as_of=2025-11-04", province.url)).await;
    let cell = "a[href*='node=510521'][href*='rule=A02']";
    let count = browser.wait_visible(cell).await;
    assert_eq!(count.trim(), "3", "the county misses three items on 2025-11-04");
    let (width, window) = browser.fits_width().await;
    assert!(width <= window, "the heat map is {width} px wide in a {window} px window");
    browser.shot("heat-map").await;

    // The date picker: on 2025-10-15 the window was still open.
    browser
        .client
        .execute(
            "var f = document.querySelector('input[name=as_of]'); f.value = '2025-10-15'; f.form.submit();",
            vec![],
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while !browser.path().await.contains("as_of=2025-10-15") {
        assert!(started.elapsed().as_secs() < 20, "the picker did not reload the page");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(browser.wait_visible(cell).await.trim(), "0", "nothing was overdue on 2025-10-15");
    browser.shot("earlier-day").await;

    // Drill down from the cell to the findings, and from a finding to its evidence entry.
    browser.open(&format!("{}/console/audit?as_of=2025-11-04", province.url)).await;
    browser.click(cell).await;
    let text = browser.wait_for_text("药品零售企业许可").await;
    assert!(text.contains("医疗器械经营许可") && text.contains("食品经营许可"), "{text}");
    browser.shot("findings").await;
    browser.click("a[href^='/console/audit/entry/510000/']").await;
    let text = browser.wait_for_text("川府发〔2025〕51号").await;
    assert!(text.contains("510000"), "the entry of the province's log: {text}");
    browser.shot("evidence-entry").await;
    browser.close().await;
}
