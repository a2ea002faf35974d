//! Delegated powers (赋权) and special seals (专用分章) across real nodes, on days the test sets
//! with each node's clock: the city grants the county 300 items of its list on 2016-09-09
//! (handover due 2016-10-08 after the Mid-Autumn and National Day breaks); the county accepts;
//! seals are carved, delivered and activated; validity is asked before and after activation,
//! after recall and after an item is revoked; the approval bureau's seal replaces a department's;
//! a county of another city cannot accept. The province sees every state.

use std::time::Duration;

use quanze_domain::grants::GrantRef;
use quanze_domain::sample_grants::{city_powers, grant_items};
use quanze_domain::{DivisionCode, Op};
use quanze_tests::federation::{Federation, assert_refused, fed_heads, forge, push, wait_head};
use quanze_tests::{TestNode, enc};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);
const DOC: &str = "泸市府发〔2016〕37号";
const SCJ: &str = "泸州市市场监督管理局";
const XSCJ: &str = "泸县市场监督管理局";

/// The sample city's powers, renamed for the test federation's city and county (泸州市, 泸县).
fn localise(v: Value) -> Value {
    let text = v.to_string().replace("盘锦市", "泸州市").replace("盘山县", "泸县");
    serde_json::from_str(&text).unwrap()
}

fn batch(n: usize, grantee: &str) -> Value {
    let items = city_powers(n);
    localise(json!({
        "doc_no": DOC,
        "title": "泸州市赋予泸县市级同等行政职权工作方案",
        "issued": "2016-09-09",
        "grantee": grantee,
        "training_months": 3,
        "items": grant_items(&items),
    }))
}

fn seal(id: &str, kind: &str, issuer: &str, serial: &str) -> Value {
    let label = if kind == "approval" { "行政审批专用章" } else { "非审批类事项办理专用章" };
    json!({
        "id": id, "name": format!("{issuer}{label}{serial}"), "kind": kind, "serial": serial, "issuer": issuer,
        "holder": "510521", "holder_dept": XSCJ, "scope": [DOC], "carved": "2016-09-20",
        "registration": "泸公备〔2016〕112号",
    })
}

async fn check(node: &TestNode, seal: &str, item: &str, date: &str) -> Value {
    let path = format!("/api/v1/seals/check?seal={}&item={}&date={date}", enc(seal), enc(item));
    node.get(&path).await.expect(200)
}

async fn set_all(fed: &mut Federation, now: &str) {
    for d in ["510000", "510500", "510521", "510521100"] {
        fed.node_mut(d).set_clock(now).await;
    }
}

#[tokio::test]
async fn a_grant_is_handed_over_sealed_replaced_and_revoked() {
    let mut fed = Federation::start(4).await;
    set_all(&mut fed, "2016-09-09T10:00:00+08:00").await;
    let powers = localise(serde_json::to_value(city_powers(300)).unwrap());
    let imported = fed.city().post_bytes("/api/v1/import?format=json", "application/json", powers.to_string()).await;
    assert_eq!(imported.expect(201)["imported"], 300);
    // The items the test asks about: a licence and a penalty of the market regulator.
    let code_of = |category: &str| {
        let list = powers.as_array().unwrap();
        let found = list.iter().find(|p| p["implementing_body"] == SCJ && p["category"] == category);
        found.unwrap_or_else(|| panic!("a {category} item of {SCJ}"))["code"].as_str().unwrap().to_string()
    };
    let (licence, penalty) = (code_of("licensing"), code_of("penalty"));

    // Bad batches change nothing: outside the subtree, an item not in the list, a training
    // period of four months, and a county granting to its city.
    let city = fed.city();
    let before = city.head_seq().await;
    city.post_json("/api/v1/grants", &batch(3, "510302")).await.expect_error(403, "UNAUTHORISED_OP");
    let mut unknown = batch(3, "510521");
    unknown["items"][0]["code"] = json!("XK09999000");
    city.post_json("/api/v1/grants", &unknown).await.expect_error(422, "ITEM_NOT_IN_GRANTOR_LIST");
    let mut long = batch(3, "510521");
    long["training_months"] = json!(4);
    city.post_json("/api/v1/grants", &long).await.expect_error(422, "TRAINING_PERIOD");
    let upward = batch(3, "510500");
    fed.county().post_json("/api/v1/grants", &upward).await.expect_error(403, "UNAUTHORISED_OP");
    assert_eq!(city.head_seq().await, before);

    let issued = city.post_json("/api/v1/grants", &batch(300, "510521")).await.expect(201);
    let reference = issued["ref"].as_str().unwrap().to_string();
    assert_eq!(issued["grant"]["handover_due"], "2016-10-08");
    assert_eq!(issued["grant"]["items"], 300);
    assert_eq!(issued["grant"]["training_until"], "2016-12-09");

    // Seals for the market regulator, registered on 2016-09-28: approval and non-approval; a
    // duplicate serial and a scope naming an unknown batch are refused.
    fed.node_mut("510500").set_clock("2016-09-28T10:00:00+08:00").await;
    let city = fed.city();
    let approval = seal("LZ-SCJ-SP-4", "approval", SCJ, "(4)");
    let other = seal("LZ-SCJ-FSP-4", "non_approval", SCJ, "(4)");
    city.post_json("/api/v1/seals", &json!({ "seals": [approval, other] })).await.expect(201);
    let mut dup = seal("LZ-SCJ-SP-4B", "approval", SCJ, "（4）");
    city.post_json("/api/v1/seals", &dup).await.expect_error(409, "DUPLICATE_SERIAL");
    dup["scope"] = json!(["泸市府发〔2016〕99号"]);
    dup["serial"] = json!(5);
    city.post_json("/api/v1/seals", &dup).await.expect_error(404, "UNKNOWN_GRANT");
    city.post_json("/api/v1/seals/LZ-SCJ-SP-4/deliver", &json!({"date": "2016-09-28"})).await.expect(201);
    // The training period may only grow by an extension entry, of 1–6 months, with a reason.
    let extend = format!("/api/v1/grants/{}/extend", enc(&reference));
    city.post_json(&extend, &json!({"months": 7, "reason": "专业性强"})).await.expect_error(422, "TRAINING_PERIOD");
    let extended = city.post_json(&extend, &json!({"months": 2, "reason": "不动产登记专业性强，延长指导"})).await;
    assert_eq!(extended.expect(201)["grant"]["training_until"], "2017-02-09");
    fed.wait_converged(CONVERGE).await;

    // The county sees the batch awaiting handover; activating before accepting is refused.
    fed.node_mut("510521").set_clock("2016-09-30T10:00:00+08:00").await;
    let county = fed.county();
    let received = county.get("/api/v1/grants?role=received").await.expect(200);
    assert_eq!(received["grants"][0]["status"], "awaiting_handover");
    county.post_json("/api/v1/seals/LZ-SCJ-SP-4/activate", &json!({})).await.expect_error(409, "ILLEGAL_TRANSITION");
    let accepted =
        county.post_json(&format!("/api/v1/grants/{}/accept", enc(&reference)), &json!({})).await.expect(201);
    assert_eq!(accepted["grant"]["accepted_on"], "2016-09-30");
    let granted = county.get("/api/v1/items?status=granted&limit=1000").await.expect(200);
    assert_eq!(granted["total"], 300);
    let one = county.get(&format!("/api/v1/items/{}", enc(&licence))).await.expect(200);
    assert_eq!(one["status"], "granted");
    assert_eq!(one["grant"], reference.as_str());
    assert_eq!(one["implementing_body"], XSCJ);
    // An undelivered seal cannot be activated; the delivered one is, on 2016-10-10.
    county.post_json("/api/v1/seals/LZ-SCJ-FSP-4/activate", &json!({})).await.expect_error(409, "ILLEGAL_TRANSITION");
    let before_activation = check(county, "LZ-SCJ-SP-4", &licence, "2016-10-09").await;
    assert_eq!(
        (before_activation["valid"].as_bool(), before_activation["code"].as_str()),
        (Some(false), Some("NOT_ACTIVATED"))
    );
    county.post_json("/api/v1/seals/LZ-SCJ-SP-4/activate", &json!({"date": "2016-09-30"})).await.expect(201);
    let valid = check(county, "LZ-SCJ-SP-4", &licence, "2016-10-20").await;
    assert_eq!(valid["valid"], true, "{valid}");
    assert_eq!(valid["route"]["closes_locally"], true);
    assert_eq!(check(county, "LZ-SCJ-SP-4", &penalty, "2016-10-20").await["code"], "KIND_MISMATCH");

    // The CLI gives the same answer, with exit 0 for valid and 3 for not valid.
    let out = county.cli(["seal", "check", "--seal", "LZ-SCJ-SP-4", "--item", &licence, "--date", "2016-10-20"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("有效"));
    let out = county.cli(["seal", "check", "--seal", "LZ-SCJ-SP-4", "--item", &licence, "--date", "2016-09-01"]).await;
    assert_eq!(out.status.code(), Some(3));

    // On 2017-03-01 the city's approval bureau takes over: its seal replaces the department's.
    fed.wait_converged(CONVERGE).await;
    set_all(&mut fed, "2017-03-01T10:00:00+08:00").await;
    let mut bureau = seal("LZ-SPJ-SP-4", "approval", "泸州市行政审批局", "(4)");
    bureau["scope"] = json!([]);
    bureau["carved"] = json!("2017-02-20");
    let body = json!({ "replaces": ["LZ-SCJ-SP-4"], "seal": bureau, "date": "2017-03-01", "reason": "审批权划转市行政审批局，原专用章收回封存" });
    let replaced = fed.city().post_json("/api/v1/seals/replace", &body).await.expect(201);
    assert_eq!(replaced["seal"]["covers"], json!([SCJ]));
    fed.city().post_json("/api/v1/seals/LZ-SCJ-SP-4/archive", &json!({"date": "2017-03-01"})).await.expect(201);
    fed.city().post_json("/api/v1/seals/LZ-SPJ-SP-4/deliver", &json!({"date": "2017-03-01"})).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    let county = fed.county();
    county.post_json("/api/v1/seals/LZ-SCJ-SP-4/activate", &json!({})).await.expect_error(409, "ILLEGAL_TRANSITION");
    county.post_json("/api/v1/seals/LZ-SPJ-SP-4/activate", &json!({"date": "2017-03-01"})).await.expect(201);
    let old = check(county, "LZ-SCJ-SP-4", &licence, "2017-03-01").await;
    assert_eq!(old["code"], "RECALLED");
    assert!(old["reason"].as_str().unwrap().contains("LZ-SPJ-SP-4"), "{old}");
    assert_eq!(check(county, "LZ-SCJ-SP-4", &licence, "2017-02-28").await["valid"], true);
    assert_eq!(check(county, "LZ-SPJ-SP-4", &licence, "2017-03-01").await["valid"], true);

    // The city takes one item back on 2017-03-01: the county's list shows it cancelled, and the
    // bureau's seal no longer covers it.
    let revoke = json!({ "codes": [licence], "reason": "该事项由市行政审批局统一办理", "date": "2017-03-01" });
    fed.city().post_json(&format!("/api/v1/grants/{}/revoke", enc(&reference)), &revoke).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    let county = fed.county();
    assert_eq!(county.get(&format!("/api/v1/items/{}", enc(&licence))).await.expect(200)["status"], "cancelled");
    assert_eq!(check(county, "LZ-SPJ-SP-4", &licence, "2017-03-01").await["code"], "ITEM_REVOKED");

    // The province sees every batch and seal and answers the same questions.
    let province = fed.province();
    let grants = province.get("/api/v1/grants").await.expect(200);
    let g = &grants["grants"][0];
    assert_eq!(
        (g["items"].as_u64(), g["items_revoked"].as_u64(), g["accepted_on"].as_str()),
        (Some(300), Some(1), Some("2016-09-30"))
    );
    let seals = province.get("/api/v1/seals").await.expect(200);
    let states: Vec<(String, String)> = seals["seals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["state"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(states.len(), 3, "{states:?}");
    for (id, state) in [("LZ-SCJ-SP-4", "archived"), ("LZ-SCJ-FSP-4", "carved"), ("LZ-SPJ-SP-4", "activated")] {
        assert!(states.contains(&(id.to_string(), state.to_string())), "{id} {state} in {states:?}");
    }
    assert_eq!(check(province, "LZ-SCJ-SP-4", &licence, "2016-10-20").await["valid"], true);
    let csv = province.get("/api/v1/seals/export?format=csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.contains("LZ-SPJ-SP-4") && csv.text.contains("已封存"), "{}", csv.text);
    let shown = province.get(&format!("/api/v1/grants/{}", enc(&reference))).await.expect(200);
    assert_eq!(shown["item_list"].as_array().unwrap().len(), 300);
    let history: Vec<&str> =
        shown["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(history, ["grant.issue", "grant.extend", "grant.accept", "grant.revoke"]);
    // A county of another city cannot accept the batch (it joins last: the federation above
    // waits for all its nodes to hold the same logs, which a second city's subtree does not).
    let zigong = TestNode::join(fed.province(), "city", "510300", "自贡市").await;
    let ziliujing = TestNode::join(&zigong, "county", "510302", "自流井区").await;
    let before = ziliujing.head_seq().await;
    let refused = ziliujing.post_json(&format!("/api/v1/grants/{}/accept", enc(&reference)), &json!({})).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.text);
    assert!(refused.text.contains("NOT_GRANTEE") || refused.text.contains("UNKNOWN_GRANT"), "{}", refused.text);
    assert_eq!(ziliujing.head_seq().await, before);
    // The same acceptance signed by that county and pushed to the province is refused by the
    // province's own check, not only by the county's API.
    // (The new county has written nothing yet: its first entry, once the province holds the
    // city's enrolment of it.)
    let city_heads = fed_heads(&zigong).await;
    let enrolled = city_heads.get("510300").cloned().expect("the second city's own head");
    wait_head(fed.province(), "510300", &enrolled, CONVERGE, "the second city's log at the province").await;
    let (origin, seq) = reference.split_once('#').unwrap();
    let batch = GrantRef {
        origin: DivisionCode::parse(origin).unwrap(),
        seq: seq.parse().unwrap(),
        hash: issued["entry"]["hash"].as_str().unwrap().to_string(),
    };
    let op = Op::GrantAccept { batch, departments: vec![XSCJ.into()], date: "2017-03-01".parse().unwrap() };
    let forged = forge(&ziliujing.key(), "510302", None, vec![op]);
    let deliveries = push(fed.province(), "510300", &[forged]).await;
    assert_refused(&deliveries[0], "RULE", "a county of another city accepting");
    assert!(deliveries[0]["message"].as_str().unwrap().contains("承接方"), "{}", deliveries[0]);
}
