//! The console's review pages over HTTPS with real accounts signed in by cookie: the adjustment
//! requests (a clerk's filing reaches the establishment reviewer's queue first, the request
//! page shows the whole history and the reviewer's decision form) and the province auditor's
//! uniformity audit (heat map as of a day, drill-down to the findings and their evidence, the
//! evidence entry itself, the .xlsx export; a clerk is refused).

use std::io::Cursor;
use std::time::Duration;

use calamine::{Reader, Xlsx};
use quanze_tests::TestNode;
use quanze_tests::federation::{Federation, TIERS};
use quanze_tests::samples::{food_licence, food_penalty};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "泸县权责清单2025";
const SCJ: &str = "泸县市场监督管理局";
const CONVERGE: Duration = Duration::from_secs(60);

/// An account with a password (made by the operator).
async fn account(node: &TestNode, login: &str, roles: &[&str], department: Option<&str>) {
    let mut body = json!({"login": login, "name": format!("{login}同志"), "roles": roles, "password": PASSWORD});
    if let Some(d) = department {
        body["department"] = json!(d);
    }
    node.post_json("/api/v1/users", &body).await.expect(201);
}

/// A signed-in browser: the session cookie from `POST /api/v1/auth/login`.
struct Session<'a> {
    node: &'a TestNode,
    cookie: String,
}

impl<'a> Session<'a> {
    async fn sign_in(node: &'a TestNode, login: &str) -> Session<'a> {
        let res = node
            .request(Method::POST, "/api/v1/auth/login")
            .json(&json!({"login": login, "password": PASSWORD}))
            .send()
            .await
            .expect("login answers");
        assert_eq!(res.status().as_u16(), 200, "{login} signs in");
        let cookie = res
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
            .collect::<Vec<_>>()
            .join("; ");
        assert!(!cookie.is_empty(), "a session cookie");
        Session { node, cookie }
    }

    /// A console page: (status, HTML).
    async fn page(&self, path: &str) -> (u16, String) {
        let res = self.node.request(Method::GET, path).header("cookie", &self.cookie).send().await.expect("GET");
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// A console page that must answer 200.
    async fn ok(&self, path: &str) -> String {
        let (status, html) = self.page(path).await;
        assert_eq!(status, 200, "GET {path}: {html}");
        html
    }

    async fn bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let res = self.node.request(Method::GET, path).header("cookie", &self.cookie).send().await.expect("GET");
        (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
    }

    /// A file upload the way the console script sends it (raw bytes).
    async fn upload(&self, path: &str, content_type: &str, bytes: &[u8]) -> Value {
        let rb = self.node.request(Method::POST, path).header("cookie", &self.cookie);
        let res = rb.header("content-type", content_type).body(bytes.to_vec()).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 201, "upload to {path}");
        res.json().await.unwrap()
    }

    /// A JSON API call the way the console script makes it (cookie, JSON body).
    async fn post(&self, path: &str, body: &Value) -> Value {
        let res = self.node.request(Method::POST, path).header("cookie", &self.cookie).json(body).send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert!((200..300).contains(&status), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// The text between `from` and the next `to` (panics naming the page when missing).
fn between<'h>(html: &'h str, from: &str, to: &str) -> &'h str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from:?} in {html}")) + from.len();
    let rest = &html[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

fn proposal(kind: &str, title: &str, change: Value) -> Value {
    let trigger_date = (chrono::Utc::now().date_naive() - chrono::Days::new(3)).to_string();
    json!({
        "kind": kind,
        "trigger": if kind == "adjust" { "information_changed" } else { "government_decision" },
        "trigger_date": trigger_date,
        "department": SCJ,
        "title": title,
        "reason": "《中华人民共和国食品安全法》第三十五条；泸州市人民政府决定",
        "changes": [change],
    })
}

#[tokio::test]
async fn a_filed_request_is_first_in_the_reviewers_queue_and_its_page_shows_every_step() {
    let node = TestNode::luxian().await;
    for item in [food_licence(), food_penalty()] {
        node.add_item(&item).await;
    }
    account(&node, "zhang", &["clerk"], Some(SCJ)).await;
    account(&node, "li", &["clerk"], Some("泸县住房和城乡建设局")).await;
    account(&node, "wang", &["establishment"], None).await;
    account(&node, "zhao", &["legal"], None).await;
    let clerk = Session::sign_in(&node, "zhang").await;
    let other_clerk = Session::sign_in(&node, "li").await;
    let establishment = Session::sign_in(&node, "wang").await;
    let legal = Session::sign_in(&node, "zhao").await;

    // The clerk's filing form is the API's proposal shape; a reviewer has none.
    let form = clerk.ok("/console/requests/new").await;
    for field in
        ["name=\"changes.0.patch.name\"", "name=\"changes.0.item.basis.0.law\"", "data-upload=\"/api/v1/attachments\""]
    {
        assert!(form.contains(field), "{field} in the filing form");
    }
    assert_eq!(establishment.page("/console/requests/new").await.0, 403);

    // A: filed and approved by 编办 (now waiting for 法制); B: filed, waiting for 编办.
    let cancel = json!({"op": "cancel", "code": "XK00035000", "reason": "市政府决定调整由市级实施"});
    let a = clerk.post("/api/v1/requests", &proposal("cancel", "关于取消食品经营许可县级实施的申请", cancel)).await;
    let a_id = a["id"].as_u64().unwrap();
    establishment
        .post(&format!("/api/v1/requests/{a_id}/steps"), &json!({"decision": "approve", "comment": "同意报法制审核"}))
        .await;
    let rename =
        json!({"op": "update", "code": "CF00148000", "patch": {"name": "对未取得食品经营许可从事食品经营活动的处罚"}});
    let b = clerk.post("/api/v1/requests", &proposal("adjust", "关于调整食品处罚事项名称的申请", rename)).await;
    let b_id = b["id"].as_u64().unwrap();

    // 编办's queue holds B (first), A is among the others; 法制's queue holds A.
    let list = establishment.ok("/console/requests").await;
    let queue = between(&list, "id=\"queue\"", "id=\"others\"");
    let others = between(&list, "id=\"others\"", "</table>");
    assert!(queue.contains(&format!("href=\"/console/requests/{b_id}\"")), "B in 编办's queue: {queue}");
    assert!(queue.contains("待编办审核"), "{queue}");
    assert!(!queue.contains(&format!("href=\"/console/requests/{a_id}\"")), "A waits for 法制: {queue}");
    assert!(others.contains(&format!("href=\"/console/requests/{a_id}\"")), "A among the others: {others}");
    let legal_list = legal.ok("/console/requests").await;
    assert!(
        between(&legal_list, "id=\"queue\"", "id=\"others\"").contains(&format!("href=\"/console/requests/{a_id}\""))
    );
    // The clerk sees their department's requests and the filing link; another department's clerk sees none.
    let clerk_list = clerk.ok("/console/requests").await;
    assert!(clerk_list.contains("/console/requests/new") && clerk_list.contains("关于调整食品处罚事项名称的申请"));
    assert!(!other_clerk.ok("/console/requests").await.contains("关于调整食品处罚事项名称的申请"));
    assert_eq!(other_clerk.page(&format!("/console/requests/{b_id}")).await.0, 404);

    // B's page for 编办: the decision form; after the approval, both steps in the history.
    let page = establishment.ok(&format!("/console/requests/{b_id}")).await;
    assert!(page.contains(&format!("data-api=\"/api/v1/requests/{b_id}/steps\"")), "the decision form");
    assert!(page.contains("对未取得食品经营许可从事食品经营活动的处罚"), "the proposed name");
    establishment
        .post(&format!("/api/v1/requests/{b_id}/steps"), &json!({"decision": "approve", "comment": "要素调整合理"}))
        .await;
    let page = establishment.ok(&format!("/console/requests/{b_id}")).await;
    let history = between(&page, "id=\"history\"", "</table>");
    assert_eq!(history.matches("<tr>").count(), 3, "header and two steps: {history}");
    for text in ["提交申请", "zhang同志", "部门经办人", "同意", "wang同志", "编办审核人", "要素调整合理"]
    {
        assert!(history.contains(text), "{text} in the history: {history}");
    }
    assert!(!page.contains(&format!("data-api=\"/api/v1/requests/{b_id}/steps\"")), "编办 has decided");
    let for_legal = legal.ok(&format!("/console/requests/{b_id}")).await;
    assert!(for_legal.contains(&format!("data-api=\"/api/v1/requests/{b_id}/steps\"")), "法制's turn");

    // 法制 returns A: it is now in the clerk's queue, with the re-filing form prefilled; the
    // form's proposal goes back to 编办 as revision 2, and the history has all four steps.
    legal
        .post(
            &format!("/api/v1/requests/{a_id}/steps"),
            &json!({"decision": "return", "comment": "请补充政府决定文号"}),
        )
        .await;
    let clerk_list = clerk.ok("/console/requests").await;
    let queue = between(&clerk_list, "id=\"queue\"", "id=\"others\"");
    assert!(
        queue.contains(&format!("href=\"/console/requests/{a_id}\"")) && queue.contains("待修改后重新提交"),
        "{queue}"
    );
    let a_page = clerk.ok(&format!("/console/requests/{a_id}")).await;
    assert!(a_page.contains(&format!("data-api=\"/api/v1/requests/{a_id}/resubmit\"")), "the re-filing form");
    assert!(a_page.contains("XK00035000") && a_page.contains("请补充政府决定文号"));
    let mut revised = proposal(
        "cancel",
        "关于取消食品经营许可县级实施的申请（修改）",
        json!({"op": "cancel", "code": "XK00035000", "reason": "泸市府函〔2025〕12号"}),
    );
    revised["attachments"] = json!([]);
    let refiled = clerk.post(&format!("/api/v1/requests/{a_id}/resubmit"), &revised).await;
    assert_eq!(refiled["revision"], 2);
    let a_page = establishment.ok(&format!("/console/requests/{a_id}")).await;
    let history = between(&a_page, "id=\"history\"", "</table>");
    assert_eq!(history.matches("<tr>").count(), 5, "submit, approve, return, resubmit: {history}");
    assert!(history.contains("修改后重新提交") && history.contains("退回修改"), "{history}");

    // What the adjustment form posts (citations, a number, a list, no attachments) is a proposal
    // the API takes; an upload shows on the form with its hash ready to cite.
    let form_shaped = json!({
        "kind": "adjust", "title": "关于调整食品处罚事项依据和时限的申请", "department": SCJ,
        "trigger": "information_changed", "trigger_date": (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string(),
        "reason": "依据条款修订", "attachments": [],
        "changes": [{"op": "update", "code": "CF00148000", "patch": {
            "basis": [{"law": "中华人民共和国食品安全法", "article": "第一百二十二条"}],
            "time_limit": {"legal_days": 15}, "responsibilities": ["立案责任", "调查责任"]}}],
    });
    clerk.post("/api/v1/requests", &form_shaped).await;
    let doc = "泸市府函〔2025〕12号".as_bytes();
    let up = clerk.upload("/api/v1/attachments?name=%E5%87%BD.pdf", "application/pdf", doc).await;
    let sha = up["sha256"].as_str().unwrap();
    let form = clerk.ok(&format!("/console/requests/new?attach={sha}")).await;
    assert!(form.contains("函.pdf") && form.contains(&format!("&quot;sha256&quot;:&quot;{sha}&quot;")), "{form}");

    // A clerk has no audit page.
    assert_eq!(clerk.page("/console/audit").await.0, 403);
}

fn publication() -> Value {
    let changes: Vec<Value> = (0..3)
        .map(|i| {
            let mut item = food_licence();
            item["code"] = json!(format!("XK{:05}000", 61000 + i));
            item["name"] = json!(["食品经营许可", "药品零售企业许可", "医疗器械经营许可"][i]);
            json!({"kind": "add", "item": item, "tiers": ["county"]})
        })
        .collect();
    json!({
        "doc_no": "川府发〔2025〕51号",
        "title": "关于调整县级行政许可事项目录的通知",
        "published": "2025-09-28",
        "effective": "2025-10-01",
        "tiers": ["county"],
        "changes": changes,
    })
}

#[tokio::test]
async fn the_auditor_drills_from_the_heat_map_to_the_evidence_entry_as_of_a_day() {
    // 四川省 → 泸州市 → 泸县, enrolled 2025-09-01; the province publishes on 2025-09-28 (due
    // 2025-10-31); the county adopts nothing, so from 2025-11-01 it misses three items.
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
    fed.province().post_json("/api/v1/catalogue/publications", &publication()).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    fed.node_mut("510000").set_clock("2025-11-05T10:00:00+08:00").await;
    let province = fed.province();
    account(province, "sun", &["auditor"], None).await;
    account(province, "qian", &["clerk"], Some("四川省市场监督管理局")).await;
    let auditor = Session::sign_in(province, "sun").await;
    let clerk = Session::sign_in(province, "qian").await;
    assert_eq!(clerk.page("/console/audit").await.0, 403, "a clerk has no audit page");

    // The heat map as of 2025-11-04: the county's A02 cell counts 3 and links its findings.
    let cell = "/console/audit/findings?as_of=2025-11-04&amp;node=510521&amp;rule=A02";
    let late = auditor.ok("/console/audit?as_of=2025-11-04").await;
    assert!(late.contains("type=\"date\" name=\"as_of\" value=\"2025-11-04\""), "the day picker");
    assert!(late.contains("class=\"grid heat\"") && late.contains("泸县"), "the heat map");
    assert!(late.contains(&format!("href=\"{cell}\">3</a>")), "A02 × 泸县 = 3: {late}");
    assert!(late.contains("format=xlsx") && late.contains("format=csv") && late.contains("format=html"));
    // An earlier day: the deadline had not passed, the cell is 0.
    let early = auditor.ok("/console/audit?as_of=2025-10-15").await;
    assert!(
        early.contains("href=\"/console/audit/findings?as_of=2025-10-15&amp;node=510521&amp;rule=A02\">0</a>"),
        "{early}"
    );

    // Drill-down: the three missing items with their evidence, each linking its entry.
    let findings = auditor.ok(&cell.replace("&amp;", "&")).await;
    for i in 0..3 {
        assert!(findings.contains(&format!("XK{:05}000", 61000 + i)), "item {i} listed: {findings}");
    }
    let evidence = between(&findings, "href=\"/console/audit/entry/510000/", "\"");
    let seq: u64 = evidence.parse().unwrap_or_else(|_| panic!("an evidence seq: {evidence}"));
    let entry = auditor.ok(&format!("/console/audit/entry/510000/{seq}")).await;
    assert!(entry.contains("catalogue.publish") && entry.contains("川府发〔2025〕51号"), "{entry}");
    assert!(entry.contains("与字节一致"), "the stored hash is the bytes' hash");
    assert_eq!(auditor.page("/console/audit/entry/510000/99999").await.0, 404);

    // The findings as a workbook: the CSV's header, one row per finding.
    let (status, xlsx) = auditor.bytes("/api/v1/audit?format=xlsx&as_of=2025-11-04").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&xlsx));
    assert!(xlsx.starts_with(b"PK\x03\x04"), "an .xlsx is a zip");
    let report = province.get("/api/v1/audit?as_of=2025-11-04").await.expect(200);
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).expect("a workbook");
    let sheet = book.worksheet_range("审计问题").expect("the findings sheet");
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..3], ["单位代码", "单位名称", "规则编号"]);
    assert_eq!(rows.len() - 1, report["findings"].as_array().unwrap().len());
    assert!(rows.iter().any(|r| r[0] == "510521" && r[2] == "A02" && r[8].starts_with("510000#")), "{rows:?}");
}

#[tokio::test]
async fn cli_progress_stays_off_pipes_and_stdout_is_unchanged() {
    let node = TestNode::luxian().await;
    let file = node.scratch("清单.csv");
    std::fs::write(&file, quanze_tests::samples::VALID_CSV).unwrap();
    let out = node.cli(["import", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", quanze_tests::describe(&out));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stderr.is_empty(), "no progress drawn on a pipe: {stderr:?}");
    assert!(stdout.starts_with("已导入 3 项（一个条目）") && !stdout.contains('\r'), "{stdout:?}");
}
