//! Adjustment requests end to end over HTTPS with real accounts: 泸县 (under 泸州市 under 四川省,
//! clocks at 2025-10-20) takes one request down each route from filing to publication (a
//! cancellation through 编办 → 法制 → 政府, an element adjustment that 编办 decides), one that is
//! returned and re-filed, one rejected, one filed late; a clerk cannot file for another
//! department; the public list shows the changes, their history and documents, and a signed
//! digest of exactly what it serves; the city sees the county's trace. Bad input changes nothing.

use std::time::Duration;

use quanze_ledger::PublicKey;
use quanze_tests::federation::{COUNTY, Federation, TIERS};
use quanze_tests::samples::{construction_permit, food_licence, food_penalty};
use quanze_tests::{Reply, TestNode, sha256_hex};
use reqwest::Method;
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);
const SCJ: &str = "泸县市场监督管理局";
const ZJJ: &str = "泸县住房和城乡建设局";
const PASSWORD: &str = "泸县权责清单2025";

/// The people of a node, each with an API token.
struct People {
    clerk: String,
    other_clerk: String,
    establishment: String,
    legal: String,
    government: String,
    auditor: String,
    /// A 编办 reviewer who is also a clerk of 市场监管局.
    double: String,
}

async fn account(node: &TestNode, login: &str, roles: &[&str], department: Option<&str>) -> String {
    let mut body = json!({"login": login, "name": format!("{login}同志"), "roles": roles, "password": PASSWORD});
    if let Some(d) = department {
        body["department"] = json!(d);
    }
    node.post_json("/api/v1/users", &body).await.expect(201);
    let token = node.post_json(&format!("/api/v1/users/{login}/tokens"), &json!({"label": "测试"})).await.expect(201);
    token["token"].as_str().expect("a token").to_string()
}

async fn people(node: &TestNode) -> People {
    People {
        clerk: account(node, "zhang", &["clerk"], Some(SCJ)).await,
        other_clerk: account(node, "li", &["clerk"], Some(ZJJ)).await,
        establishment: account(node, "wang", &["establishment"], None).await,
        legal: account(node, "zhao", &["legal"], None).await,
        government: account(node, "chen", &["government"], None).await,
        auditor: account(node, "sun", &["auditor"], None).await,
        double: account(node, "zhou", &["clerk", "establishment"], Some(SCJ)).await,
    }
}

async fn call(node: &TestNode, token: &str, method: Method, path: &str, body: Option<&Value>) -> Reply {
    let mut rb = node.request(method, path).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(b);
    }
    node.send(rb).await
}

async fn file(node: &TestNode, token: &str, proposal: &Value) -> Reply {
    call(node, token, Method::POST, "/api/v1/requests", Some(proposal)).await
}

async fn decide(node: &TestNode, token: &str, id: u64, decision: &str, comment: &str) -> Reply {
    let body = json!({"decision": decision, "comment": comment});
    call(node, token, Method::POST, &format!("/api/v1/requests/{id}/steps"), Some(&body)).await
}

fn cancel_food_licence(trigger_date: &str) -> Value {
    json!({
        "kind": "cancel",
        "trigger": "government_decision",
        "trigger_date": trigger_date,
        "department": SCJ,
        "title": "关于取消“食品经营许可”县级实施的申请",
        "reason": "泸州市人民政府决定将该事项调整由市级实施",
        "changes": [{"op": "cancel", "code": "XK00035000", "reason": "市政府决定调整由市级实施"}],
    })
}

fn rename_penalty(name: &str) -> Value {
    json!({
        "kind": "adjust",
        "trigger": "information_changed",
        "trigger_date": "2025-10-13",
        "department": SCJ,
        "title": "关于调整食品处罚事项名称的申请",
        "reason": "事项名称与法条表述不一致",
        "changes": [{"op": "update", "code": "CF00148000", "patch": {"name": name}}],
    })
}

fn add_item(code: &str) -> Value {
    let mut item = food_licence();
    item["code"] = json!(code);
    item["name"] = json!("小餐饮经营许可");
    json!({
        "kind": "add",
        "trigger": "new_power",
        "trigger_date": "2025-10-10",
        "department": SCJ,
        "title": "关于新增“小餐饮经营许可”的申请",
        "reason": "《四川省食品小作坊、小经营店及摊贩管理条例》第十条",
        "changes": [{"op": "add", "item": item}],
    })
}

fn stages(request: &Value) -> Vec<&str> {
    request["route"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect()
}

/// Starts 四川省 → 泸州市 → 泸县 with every clock at 2025-10-20 10:00, and the county's list.
async fn federation() -> Federation {
    let mut nodes: Vec<TestNode> = Vec::new();
    for &(tier, division, name) in &TIERS[..3] {
        let mut node = match nodes.last() {
            None => TestNode::start(tier, division, name).await,
            Some(parent) => TestNode::join(parent, tier, division, name).await,
        };
        node.set_clock("2025-10-20T10:00:00+08:00").await;
        nodes.push(node);
    }
    let fed = Federation { nodes };
    fed.wait_converged(CONVERGE).await;
    for item in [food_licence(), construction_permit(), food_penalty()] {
        fed.county().add_item(&item).await;
    }
    fed
}

#[tokio::test]
async fn requests_go_their_route_to_the_public_list_and_the_parent_sees_the_trace() {
    let fed = federation().await;
    let county = fed.county();
    let p = people(county).await;

    // A document, then a cancellation: 编办 → 法制 → 政府, published by the government's approval.
    let pdf = b"%PDF-1.4 \xe6\xb3\xb8\xe5\xb8\x82\xe5\xba\x9c\xe5\x87\xbd\xe3\x80\x942025\xe3\x80\x95 12".to_vec();
    let up = county
        .send(
            county
                .request(Method::POST, "/api/v1/attachments?name=泸市府函〔2025〕12号.pdf")
                .bearer_auth(&p.clerk)
                .header("content-type", "application/pdf")
                .body(pdf.clone()),
        )
        .await
        .expect(201);
    assert_eq!(up["sha256"], json!(sha256_hex(&pdf)));
    let mut cancel = cancel_food_licence("2025-10-15");
    cancel["attachments"] = json!([{"name": "泸市府函〔2025〕12号.pdf", "sha256": up["sha256"], "size": pdf.len()}]);
    let filed = file(county, &p.clerk, &cancel).await.expect(201);
    let id = filed["id"].as_u64().unwrap();
    assert_eq!(stages(&filed), ["establishment_review", "legal_review", "government_approval"]);
    assert_eq!((filed["status"].as_str(), filed["late"].as_bool()), (Some("reviewing"), Some(false)), "{filed}");
    assert_eq!(filed["waiting_for"]["role"], "establishment");
    decide(county, &p.establishment, id, "approve", "同意报法制审核").await.expect(200);
    decide(county, &p.legal, id, "approve", "合法").await.expect(200);
    let done = decide(county, &p.government, id, "approve", "").await.expect(200);
    assert_eq!(done["status"], "published");
    let item = county.get("/api/v1/items/XK00035000").await.expect(200);
    assert_eq!(item["status"], "cancelled", "{item}");

    // An element adjustment: 编办 → 法制, and 编办 decides.
    let new_name = "对未取得食品经营许可从事食品经营活动的行政处罚";
    let adjust = file(county, &p.clerk, &rename_penalty(new_name)).await.expect(201);
    let adjust_id = adjust["id"].as_u64().unwrap();
    assert_eq!(stages(&adjust), ["establishment_review", "legal_review", "establishment_decision"]);
    decide(county, &p.establishment, adjust_id, "approve", "").await.expect(200);
    decide(county, &p.legal, adjust_id, "approve", "").await.expect(200);
    decide(county, &p.government, adjust_id, "approve", "").await.expect_error(403, "WRONG_ROLE");
    assert_eq!(decide(county, &p.establishment, adjust_id, "approve", "").await.expect(200)["status"], "published");
    assert_eq!(county.get("/api/v1/items/CF00148000").await.expect(200)["name"], new_name);

    // Returned for changes, re-filed, then through.
    let addition = file(county, &p.clerk, &add_item("XK00035001")).await.expect(201);
    let add_id = addition["id"].as_u64().unwrap();
    decide(county, &p.establishment, add_id, "return", "请补充设定依据的条款").await.expect(200);
    decide(county, &p.legal, add_id, "approve", "").await.expect_error(409, "REQUEST_RETURNED");
    let mut revised = add_item("XK00035001");
    revised["reason"] = json!("《四川省食品小作坊、小经营店及摊贩管理条例》第十条、第十一条");
    let path = format!("/api/v1/requests/{add_id}/resubmit");
    call(county, &p.other_clerk, Method::POST, &path, Some(&revised)).await.expect_error(403, "OTHER_DEPARTMENT");
    let refiled = call(county, &p.clerk, Method::POST, &path, Some(&revised)).await.expect(200);
    assert_eq!((refiled["revision"].as_u64(), refiled["stage"].as_str()), (Some(2), Some("establishment_review")));
    for token in [&p.establishment, &p.legal, &p.government] {
        decide(county, token, add_id, "approve", "").await.expect(200);
    }
    assert_eq!(county.get("/api/v1/items/XK00035001").await.expect(200)["name"], "小餐饮经营许可");

    // Rejected: closed, the list unchanged.
    let rejected = file(county, &p.clerk, &add_item("XK00035002")).await.expect(201);
    let rej_id = rejected["id"].as_u64().unwrap();
    decide(county, &p.establishment, rej_id, "approve", "").await.expect(200);
    decide(county, &p.legal, rej_id, "reject", "缺乏上位法依据").await.expect(200);
    decide(county, &p.government, rej_id, "approve", "").await.expect_error(409, "REQUEST_CLOSED");
    county.get("/api/v1/items/XK00035002").await.expect_error(404, "NOT_FOUND");

    // Filed late: the trigger was more than 20 working days ago.
    let mut late = rename_penalty("对未取得许可从事食品经营活动的处罚");
    late["trigger_date"] = json!("2025-08-01");
    let late = file(county, &p.clerk, &late).await.expect(201);
    assert_eq!(late["late"], true, "{late}");
    assert!(late["late_days"].as_i64().unwrap() > 0 && late["due"] == "2025-08-29", "{late}");
    let listed = call(county, &p.auditor, Method::GET, "/api/v1/requests", None).await.expect(200);
    assert_eq!(listed["requests"].as_array().unwrap().len(), 5);
    let filings = county.get("/api/v1/filings?late=true").await.expect(200);
    assert_eq!(filings["requests"].as_array().unwrap().len(), 1, "{filings}");

    // The trace: every action with who (name and role only), when and the comment.
    let trace = call(county, &p.auditor, Method::GET, &format!("/api/v1/requests/{add_id}"), None).await.expect(200);
    let actions: Vec<&str> = trace["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "return", "resubmit", "approve", "approve", "approve"]);
    assert_eq!(trace["steps"][1]["comment"], "请补充设定依据的条款");
    assert_eq!(
        trace["steps"][1]["actor"],
        json!({"name": "wang同志", "role": "establishment", "role_label": "编办审核人"})
    );

    // The public list, no login: the cancelled item, its history with the request and document.
    let public = county.send(county.request(Method::GET, "/api/v1/public/items/XK00035000")).await.expect(200);
    let last = public["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["status"].as_str(), last["request"]["id"].as_u64()), (Some("cancelled"), Some(id)), "{public}");
    let doc_url = last["request"]["documents"][0]["url"].as_str().unwrap().to_string();
    let doc = county.request(Method::GET, &doc_url).send().await.unwrap();
    assert_eq!(doc.status(), 200);
    assert_eq!(doc.bytes().await.unwrap().to_vec(), pdf);
    let search = county.send(county.request(Method::GET, "/api/v1/public/list?q=小餐饮")).await.expect(200);
    assert_eq!(search["total"], 1, "{search}");
    let page = county.send(county.request(Method::GET, "/public")).await;
    assert!(page.status == 200 && page.text.contains("清单一致性校验") && page.text.contains("小餐饮经营许可"));
    let item_page = county.send(county.request(Method::GET, "/public/items/XK00035000")).await;
    assert!(item_page.text.contains("关于取消“食品经营许可”县级实施的申请") && item_page.text.contains("泸市府函"));

    // The digest: the hash of the JSON download, signed by the county's key.
    let digest = county.send(county.request(Method::GET, "/api/v1/public/digest")).await.expect(200);
    let download = county.request(Method::GET, "/api/v1/public/download?format=json").send().await.unwrap();
    let bytes = download.bytes().await.unwrap().to_vec();
    assert_eq!(digest["statement"]["sha256"], json!(sha256_hex(&bytes)));
    let key: PublicKey = county.info().await["public_key"].as_str().unwrap().parse().unwrap();
    let statement = quanze_ledger::to_canonical_vec(&digest["statement"]).unwrap();
    assert!(key.verify_statement(&statement, digest["signature"].as_str().unwrap()), "{digest}");

    // The parent holds the county's log: the same trace, and the same digest of its list.
    fed.wait_converged(CONVERGE).await;
    let city = fed.city();
    let seen = city.get(&format!("/api/v1/requests/{add_id}?node={COUNTY}")).await.expect(200);
    assert_eq!(seen["steps"], trace["steps"]);
    let recomputed = city.get(&format!("/api/v1/public/digest?node={COUNTY}")).await.expect(200);
    assert_eq!(recomputed["statement"], digest["statement"], "the city's replica gives the same list");
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let fed = federation().await;
    let county = fed.county();
    let p = people(county).await;
    let before = county.snapshot().await;

    let reply = file(county, &p.clerk, &json!({"kind": "cancel"})).await;
    reply.expect(422);
    let mut no_date = cancel_food_licence("2025-10-15");
    no_date.as_object_mut().unwrap().remove("trigger_date");
    let body = file(county, &p.clerk, &no_date).await.expect_error(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["field"], "trigger_date", "{body}");
    let mut unknown = cancel_food_licence("2025-10-15");
    unknown["changes"][0]["code"] = json!("XK09999000");
    let body = file(county, &p.clerk, &unknown).await.expect_error(422, "BAD_REQUEST_CONTENT");
    assert_eq!(body["errors"][0]["field"], "changes[0]", "{body}");
    file(county, &p.clerk, &cancel_food_licence("2025-10-25")).await.expect_error(422, "BAD_REQUEST_CONTENT");
    file(county, &p.other_clerk, &cancel_food_licence("2025-10-15")).await.expect_error(403, "OTHER_DEPARTMENT");
    file(county, &p.establishment, &cancel_food_licence("2025-10-15")).await.expect_error(403, "FORBIDDEN_ROLE");
    file(county, &p.auditor, &cancel_food_licence("2025-10-15")).await.expect_error(403, "FORBIDDEN_ROLE");
    let mut ghost = cancel_food_licence("2025-10-15");
    ghost["attachments"] = json!([{"name": "x.pdf", "sha256": "ab".repeat(32), "size": 3}]);
    file(county, &p.clerk, &ghost).await.expect_error(422, "UNKNOWN_ATTACHMENT");
    let big = vec![b'x'; 5 * 1024 * 1024 + 1];
    let rb = county.request(Method::POST, "/api/v1/attachments?name=big.pdf").bearer_auth(&p.clerk).body(big);
    county.send(rb).await.expect_error(413, "ATTACHMENT_TOO_LARGE");
    county
        .send(county.request(Method::POST, "/api/v1/requests").json(&cancel_food_licence("2025-10-15")))
        .await
        .expect(401);
    TestNode::assert_unchanged(&before, &county.snapshot().await, "refused filings");

    // Steps: wrong role, the filer approving their own request, no comment on a return, a
    // request that does not exist.
    let filed = file(county, &p.double, &cancel_food_licence("2025-10-15")).await.expect(201);
    let id = filed["id"].as_u64().unwrap();
    let before = county.snapshot().await;
    decide(county, &p.legal, id, "approve", "").await.expect_error(403, "WRONG_ROLE");
    decide(county, &p.double, id, "approve", "").await.expect_error(403, "OWN_REQUEST");
    decide(county, &p.establishment, id, "return", " ").await.expect_error(422, "COMMENT_REQUIRED");
    decide(county, &p.establishment, 9999, "approve", "").await.expect_error(404, "NOT_FOUND");
    decide(county, &p.auditor, id, "approve", "").await.expect_error(403, "WRONG_ROLE");
    let stale = json!({"decision": "approve", "stage": "legal_review"});
    call(county, &p.legal, Method::POST, &format!("/api/v1/requests/{id}/steps"), Some(&stale))
        .await
        .expect_error(409, "WRONG_STAGE");
    TestNode::assert_unchanged(&before, &county.snapshot().await, "refused steps");

    // A clerk reads their department's requests only.
    let theirs = call(county, &p.other_clerk, Method::GET, "/api/v1/requests", None).await.expect(200);
    assert_eq!(theirs["requests"], json!([]));
    call(county, &p.other_clerk, Method::GET, &format!("/api/v1/requests/{id}"), None)
        .await
        .expect_error(404, "NOT_FOUND");
}
