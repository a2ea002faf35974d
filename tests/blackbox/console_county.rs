//! The county's console pages over HTTPS with real accounts signed in by cookie: the
//! reconciliation inbox (a province publication's task with its due date and diff, adopted by
//! posting exactly what the page's 采纳 button posts; a deviation without a reason refused and
//! changing nothing; a clerk kept out), and 赋权与印章 (a city's grant accepted and its seal
//! activated from the county's page, the seal register as .xlsx over HTTPS and from the CLI,
//! the city's issued list).

use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use quanze_domain::sample_grants::{city_powers, grant_items};
use quanze_tests::federation::Federation;
use quanze_tests::samples::food_licence;
use quanze_tests::{Reply, TestNode, describe, enc};
use reqwest::Method;
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);
const PASSWORD: &str = "泸县权责清单2025";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An account made by the operator; signs it in and returns the session cookie (`name=value`).
async fn signed_in(node: &TestNode, login: &str, roles: &[&str], department: Option<&str>) -> String {
    let mut body = json!({"login": login, "name": format!("{login}同志"), "roles": roles, "password": PASSWORD});
    if let Some(d) = department {
        body["department"] = json!(d);
    }
    node.post_json("/api/v1/users", &body).await.expect(201);
    let rb = node.request(Method::POST, "/api/v1/auth/login").json(&json!({"login": login, "password": PASSWORD}));
    let res = rb.send().await.expect("login request");
    assert_eq!(res.status().as_u16(), 200);
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

async fn page(node: &TestNode, cookie: &str, path: &str) -> Reply {
    node.send(node.request(Method::GET, path).header("cookie", cookie)).await
}

/// The page's HTML, asserting 200.
async fn html(node: &TestNode, cookie: &str, path: &str) -> String {
    let reply = page(node, cookie, path).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text);
    assert!(reply.content_type.starts_with("text/html"), "{}", reply.content_type);
    reply.text
}

async fn post(node: &TestNode, cookie: &str, path: &str, body: &str) -> Reply {
    let rb = node
        .request(Method::POST, path)
        .header("cookie", cookie)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    node.send(rb).await
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// The `data-body` of the button that posts to `api` (what the console script sends).
fn button_body(page: &str, api: &str) -> String {
    let at = page.find(&format!("data-api=\"{api}\"")).unwrap_or_else(|| panic!("a button for {api} in\n{page}"));
    let tag = &page[at..at + page[at..].find('>').unwrap()];
    let start = tag.find("data-body=\"").unwrap_or_else(|| panic!("data-body in {tag}")) + "data-body=\"".len();
    unescape(&tag[start..start + tag[start..].find('"').unwrap()])
}

fn catalogue_item(i: usize) -> Value {
    let mut item = food_licence();
    item["code"] = json!(format!("XK{:05}000", 60000 + i));
    item["name"] = json!(format!("目录事项{i:02}"));
    item
}

#[tokio::test]
async fn the_county_office_reconciles_a_publication_from_its_inbox() {
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    // The county already has the first item under an older name.
    let mut local = catalogue_item(0);
    local["name"] = json!("本地旧名称食品经营许可");
    fed.county().add_item(&local).await;
    let changes: Vec<Value> =
        (0..2).map(|i| json!({"kind": "add", "item": catalogue_item(i), "tiers": ["city", "county"]})).collect();
    let publication = json!({
        "doc_no": "川府发〔2025〕50号", "title": "关于公布省市县三级行政许可事项目录的通知",
        "published": "2025-09-28", "effective": "2025-10-01", "tiers": ["city", "county"], "changes": changes,
    });
    let published = fed.province().post_json("/api/v1/catalogue/publications", &publication).await.expect(201);
    let reference = published["ref"].as_str().unwrap().to_string();
    fed.wait_converged(CONVERGE).await;

    let county = fed.county();
    let office = signed_in(county, "wang", &["establishment"], None).await;
    let clerk = signed_in(county, "zhang", &["clerk"], Some("泸县市场监督管理局")).await;

    // The inbox: the task with the due date the API computes (20 working days: 2025-10-31).
    let api_task = county.get("/api/v1/recon").await.expect(200)["tasks"][0]["task"].clone();
    assert_eq!(api_task["due"], "2025-10-31");
    let inbox = html(county, &office, "/console/inbox").await;
    for expected in ["川府发〔2025〕50号", "2025-10-31", "20 个工作日", "待对标", "0/2"] {
        assert!(inbox.contains(expected), "{expected} in\n{inbox}");
    }
    let left = format!("剩余 {} 个工作日", api_task["days_left"]);
    assert!(inbox.contains(&left), "{left} in\n{inbox}");
    let task_path = format!("/console/inbox/{}", enc(&reference));
    assert!(inbox.contains(&task_path), "a link to the task in\n{inbox}");

    // A clerk may not see the inbox; without a session one is sent to sign in.
    let refused = page(county, &clerk, "/console/inbox").await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let anonymous = county.send(county.request(Method::GET, "/console/inbox")).await;
    assert!(anonymous.status == 303 || anonymous.status == 302 || anonymous.text.contains("登录"), "{anonymous:?}");

    // The task page: the local value struck out against the catalogue's, the new item added.
    let task = html(county, &office, &task_path).await;
    for expected in [
        "<b id=\"due\">2025-10-31</b>",
        "<td class=\"old\">本地旧名称食品经营许可</td><td class=\"new\">目录事项00</td>",
        "<td class=\"old\">（本级清单无此事项）</td><td class=\"new\">目录事项01</td>",
        "修改",
        "新增",
        "差异说明",
        "不适用",
    ] {
        assert!(task.contains(expected), "{expected} in\n{task}");
    }

    // A deviation without a reason is refused and writes nothing.
    let api = format!("/api/v1/recon/{}", enc(&reference));
    let before = county.head_seq().await;
    let no_reason = post(county, &office, &format!("{api}/deviate"), r#"{"reason":"","basis":"某法第十条"}"#).await;
    no_reason.expect_error(422, "MISSING_REASON");
    let missing = post(county, &office, &format!("{api}/deviate"), r#"{"basis":"某法第十条"}"#).await;
    assert!((400..500).contains(&missing.status), "{missing:?}");
    assert_eq!(county.head_seq().await, before, "nothing written");
    // A clerk cannot adopt either.
    assert_eq!(post(county, &clerk, &format!("{api}/adopt"), "{}").await.status, 403);

    // 采纳: what the button posts, with the office's session.
    let adopt_api = format!("/api/v1/recon/{}/adopt", enc(&reference));
    let body = button_body(&task, &adopt_api);
    assert_eq!(body, "{}");
    let adopted = post(county, &office, &adopt_api, &body).await.expect(201);
    assert_eq!(adopted["item_ops"], 2);
    let item = county.get("/api/v1/items/XK60000000").await.expect(200);
    assert_eq!(item["name"], "目录事项00");

    // The page reloads to the new status.
    let inbox = html(county, &office, "/console/inbox").await;
    assert!(inbox.contains("已对标") && inbox.contains("2/2"), "{inbox}");
    let task = html(county, &office, &task_path).await;
    assert!(task.contains("本任务已办结") && task.contains("已采纳"), "{task}");
    assert!(!task.contains(&format!("data-api=\"{adopt_api}\"")), "no adopt button once closed");
}

const DOC: &str = "泸市府发〔2016〕37号";
const SCJ: &str = "泸州市市场监督管理局";
const XSCJ: &str = "泸县市场监督管理局";

fn localise(v: Value) -> Value {
    serde_json::from_str(&v.to_string().replace("盘锦市", "泸州市").replace("盘山县", "泸县")).unwrap()
}

#[tokio::test]
async fn the_county_accepts_a_grant_and_activates_its_seal_from_the_console() {
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2016-09-09T10:00:00+08:00").await;
    }
    let powers = city_powers(40);
    let listed = localise(serde_json::to_value(&powers).unwrap());
    fed.city().post_bytes("/api/v1/import?format=json", "application/json", listed.to_string()).await.expect(201);
    let batch = localise(json!({
        "doc_no": DOC, "title": "泸州市赋予泸县市级同等行政职权工作方案", "issued": "2016-09-09",
        "grantee": "510521", "training_months": 3, "items": grant_items(&powers),
    }));
    let issued = fed.city().post_json("/api/v1/grants", &batch).await.expect(201);
    let reference = issued["ref"].as_str().unwrap().to_string();
    assert_eq!(issued["grant"]["handover_due"], "2016-10-08");
    let seal = json!({
        "id": "LZ-SCJ-SP-4", "name": "泸州市市场监督管理局行政审批专用章(4)", "kind": "approval", "serial": "(4)",
        "issuer": SCJ, "holder": "510521", "holder_dept": XSCJ, "scope": [DOC], "carved": "2016-09-09",
    });
    fed.city().post_json("/api/v1/seals", &seal).await.expect(201);
    fed.city().post_json("/api/v1/seals/LZ-SCJ-SP-4/deliver", &json!({})).await.expect(201);
    fed.wait_converged(CONVERGE).await;

    fed.node_mut("510521").set_clock("2016-09-30T10:00:00+08:00").await;
    let county = fed.county();
    let office = signed_in(county, "wang", &["establishment"], None).await;
    let auditor = signed_in(county, "sun", &["auditor"], None).await;

    let grants = html(county, &office, "/console/grants").await;
    let accept_api = format!("/api/v1/grants/{}/accept", enc(&reference));
    for expected in [
        DOC,
        "待交接",
        "2016-10-08",
        "LZ-SCJ-SP-4",
        "已送达",
        "/api/v1/grants/export?format=xlsx",
        "/api/v1/seals/export?format=xlsx",
        "href=\"/console/requests\"",
        accept_api.as_str(),
    ] {
        assert!(grants.contains(expected), "{expected} in\n{grants}");
    }
    // An auditor reads the same page without any action.
    let read_only = html(county, &auditor, "/console/grants").await;
    assert!(read_only.contains(DOC) && !read_only.contains("data-api=\"/api/v1/grants"), "{read_only}");

    // 接收, as the button posts it; the page then shows the training period.
    let accepted = post(county, &office, &accept_api, &button_body(&grants, &accept_api)).await.expect(201);
    assert_eq!(accepted["grant"]["accepted_on"], "2016-09-30");
    let grant_path = format!("/console/grants/{}", enc(&reference));
    let grant = html(county, &office, &grant_path).await;
    for expected in ["培训指导期", "2016-09-30", "2016-12-09（3 个月）", XSCJ, "grant.accept", "赋权中"] {
        assert!(grant.contains(expected), "{expected} in\n{grant}");
    }
    assert!(!grant.contains(&format!("data-api=\"{accept_api}\"")), "accepted once");
    assert!(!grant.contains("/revoke"), "only the grantor revokes");

    // 启用 the delivered seal.
    let activate_api = "/api/v1/seals/LZ-SCJ-SP-4/activate";
    let body = button_body(&grant, activate_api);
    post(county, &office, activate_api, &body).await.expect(201);
    let grants = html(county, &office, "/console/grants").await;
    assert!(grants.contains("已启用") && grants.contains("启用 2016-09-30"), "{grants}");

    // The seal register as a workbook: the header row and the seal's row.
    let res =
        county.request(Method::GET, "/api/v1/seals/export?format=xlsx").header("cookie", &office).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()[reqwest::header::CONTENT_TYPE], XLSX);
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK\x03\x04"), "an .xlsx is a zip");
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("a readable workbook");
    assert_eq!(book.sheet_names(), ["专用章登记"]);
    let range = book.worksheet_range("专用章登记").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| if let Data::String(s) = c { s.clone() } else { c.to_string() }).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(&rows[0][..4], ["编号", "全称", "类别", "序号"]);
    assert_eq!((rows[1][0].as_str(), rows[1][3].as_str(), rows[1][15].as_str()), ("LZ-SCJ-SP-4", "(4)", "已启用"));

    // The same workbook from the command line (binary: only to a file).
    let file = county.scratch("专用章登记.xlsx");
    let out = county.cli(["seal", "export", "--format", "xlsx", "--out", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK\x03\x04"));
    assert!(!county.cli(["seal", "export", "--format", "xlsx"]).await.status.success(), "xlsx needs --out");

    // The city's office sees the batch it issued, accepted, with its revoke and extend forms.
    fed.wait_converged(CONVERGE).await;
    let city = fed.city();
    let city_office = signed_in(city, "li", &["establishment"], None).await;
    let issued_page = html(city, &city_office, "/console/grants").await;
    assert!(issued_page.contains("下发的赋权") && issued_page.contains("培训指导期"), "{issued_page}");
    let batch_page = html(city, &city_office, &grant_path).await;
    assert!(batch_page.contains("/revoke") && batch_page.contains("/extend"), "{batch_page}");
}
