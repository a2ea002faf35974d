//! The uniformity audit across four real nodes over HTTPS: the province publishes three
//! catalogue items for counties and townships on 2025-09-28 (due 2025-10-31); the township
//! adopts them, the county does nothing. The province's audit as of a day before the deadline
//! has no reconciliation findings, one after it names the county's three missing items and its
//! overdue task with the entries that prove them; today's answer from the node's cache equals a
//! recomputation; the CLI writes the HTML heat map; bad queries get 400 and a stable code.

use std::time::Duration;

use quanze_tests::TestNode;
use quanze_tests::federation::{Federation, TIERS};
use quanze_tests::samples::food_licence;
use quanze_tests::{describe, enc};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);

fn publication() -> Value {
    let changes: Vec<Value> = (0..3)
        .map(|i| {
            let mut item = food_licence();
            item["code"] = json!(format!("XK{:05}000", 61000 + i));
            item["name"] = json!(["食品经营许可", "药品零售企业许可", "医疗器械经营许可"][i]);
            item["responsibilities"] = json!(["受理责任：公示应当提交的材料，一次性告知补正材料"]);
            item["accountability"] = json!(["对符合法定条件的申请不予受理的"]);
            json!({"kind": "add", "item": item, "tiers": ["county", "township"]})
        })
        .collect();
    json!({
        "doc_no": "川府发〔2025〕51号",
        "title": "关于调整县乡两级行政许可事项目录的通知",
        "published": "2025-09-28",
        "effective": "2025-10-01",
        "tiers": ["county", "township"],
        "changes": changes,
    })
}

/// (node, rule, subject) of every finding.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["node"].as_str().unwrap().into(),
                f["rule"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_province_audits_every_level_as_of_any_day() {
    // Each parent enrols its child on 2025-09-01 (an audit knows a node from its enrolment on).
    let mut nodes: Vec<TestNode> = Vec::new();
    for (i, &(tier, division, name)) in TIERS.iter().enumerate() {
        let mut node = match nodes.last() {
            None => TestNode::start(tier, division, name).await,
            Some(parent) => TestNode::join(parent, tier, division, name).await,
        };
        node.set_clock(if i < 3 { "2025-09-01T10:00:00+08:00" } else { "2025-09-28T10:00:00+08:00" }).await;
        nodes.push(node);
    }
    let mut fed = Federation { nodes };
    fed.wait_converged(CONVERGE).await;
    for division in ["510000", "510500", "510521"] {
        fed.node_mut(division).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    let published = fed.province().post_json("/api/v1/catalogue/publications", &publication()).await.expect(201);
    let reference = published["ref"].as_str().unwrap().to_string();
    fed.wait_converged(CONVERGE).await;
    fed.node_mut("510521100").set_clock("2025-10-09T10:00:00+08:00").await;
    fed.township().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    fed.node_mut("510000").set_clock("2025-11-05T10:00:00+08:00").await;
    let province = fed.province();

    // Before the deadline: no reconciliation findings anywhere.
    let early = province.get("/api/v1/audit?scope=510000&as_of=2025-10-15").await.expect(200);
    assert_eq!(early["source"], "full");
    assert!(findings(&early).iter().all(|(_, rule, _)| rule != "A02" && rule != "A06"), "{early}");

    // After it: the county's three missing items and its overdue task, nothing for the township.
    let late = province.get("/api/v1/audit?scope=510000&as_of=2025-11-04").await.expect(200);
    let late_findings = findings(&late);
    for i in 0..3 {
        let code = format!("XK{:05}000", 61000 + i);
        assert!(late_findings.contains(&("510521".into(), "A02".into(), code.clone())), "{code}: {late_findings:?}");
        assert!(
            !late_findings.iter().any(|(n, _, s)| n == "510521100" && *s == code),
            "the township adopted {code}: {late_findings:?}"
        );
    }
    let overdue: Vec<_> = late_findings.iter().filter(|(_, rule, _)| rule == "A06").collect();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0].0, "510521");
    let a02 = late["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "A02").unwrap();
    let evidence = &a02["evidence"][0];
    assert_eq!((evidence["origin"].as_str(), evidence["hash"].as_str().map(str::len)), (Some("510000"), Some(64)));
    let county = late["nodes"].as_array().unwrap().iter().find(|n| n["division"] == "510521").unwrap();
    assert!(county["score"].as_f64().unwrap() < 1.0 && county["counts"]["A02"] == 3, "{county}");
    assert_eq!(late["rules"].as_array().unwrap().len(), 10);

    // Today from the cache equals a recomputation, and the past day stays as it was.
    let cached = province.get("/api/v1/audit?scope=510000").await.expect(200);
    let full = province.get("/api/v1/audit?scope=510000&source=full").await.expect(200);
    assert_eq!((cached["source"].as_str(), full["source"].as_str()), (Some("cache"), Some("full")));
    assert_eq!(findings(&cached), findings(&full));
    assert_eq!(cached["nodes"], full["nodes"]);
    assert_eq!(
        province.get("/api/v1/audit?scope=510000&as_of=2025-11-04").await.expect(200)["findings"],
        late["findings"]
    );

    // Peers of one tier; CSV; the HTML report through the CLI.
    let counties = province.get("/api/v1/audit?scope=tier:county&as_of=2025-11-04").await.expect(200);
    assert!(counties["nodes"].as_array().unwrap().iter().all(|n| n["tier"] == "county"));
    let csv = province.authed(reqwest::Method::GET, "/api/v1/audit?format=csv&as_of=2025-11-04").send().await.unwrap();
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("A02") && csv.contains("510000#"), "{csv}");
    let html = province.scratch("audit.html");
    let out =
        province.cli(["audit", "--as-of", "2025-11-04", "--format", "html", "--out", html.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("权责清单一致性审计") && page.contains("泸县") && page.contains("A02"), "{page}");
    let table = province.cli(["audit", "--as-of", "2025-11-04"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.status.success() && text.contains("510521") && text.contains("目录事项未列入清单"),
        "{}",
        describe(&table)
    );

    // Bad queries: 400 with a stable code, for the CLI a non-zero exit naming the problem.
    for query in
        ["scope=51050", "scope=tier:village", "as_of=2025-13-01", "as_of=2026-01-01", "format=xls", "source=guess"]
    {
        province.get(&format!("/api/v1/audit?{query}")).await.expect_error(400, "BAD_QUERY");
    }
    let bad = province.cli(["audit", "--as-of", "yesterday"]).await;
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"), "{}", describe(&bad));
}
