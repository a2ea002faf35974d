//! The city establishment office's console pages on real nodes (province → city → county): a
//! 编办 clerk signs in with a password, publishes a change sheet (.xlsx) and typed 取消 lines,
//! sees them on 目录发布 and the county's status and due date on 对账看板, exports the board as
//! .xlsx; a bad sheet is refused row by row and publishes nothing; an auditor may look at the
//! board but not publish; without a session the pages send one to the sign-in page.

use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use quanze_domain::import::table_to_xlsx;
use quanze_tests::federation::{CITY, COUNTY, Federation, PROVINCE};
use quanze_tests::{Reply, TestNode, enc, install_crypto_provider};
use reqwest::Method;
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);
const PASSWORD: &str = "泸州市机构编制办公室2026";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOC_SHEET: &str = "泸编发〔2026〕3号";
const DOC_LINES: &str = "泸编发〔2026〕4号";
const TODAY: &str = "2026-04-20T10:00:00+08:00";

/// Makes an account (by the operator) and signs it in: the `name=value` of its session cookie.
async fn signed_in(node: &TestNode, login: &str, roles: &[&str]) -> String {
    let body = json!({"login": login, "name": format!("{login}同志"), "roles": roles, "password": PASSWORD});
    node.post_json("/api/v1/users", &body).await.expect(201);
    let res = node
        .request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status().as_u16(), 200);
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

fn as_user(node: &TestNode, cookie: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    node.request(method, path).header("cookie", cookie)
}

async fn page(node: &TestNode, cookie: &str, path: &str) -> String {
    let reply = node.send(as_user(node, cookie, Method::GET, path)).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.text);
    assert!(reply.content_type.starts_with("text/html"), "{}", reply.content_type);
    reply.text
}

async fn upload(node: &TestNode, cookie: &str, query: &str, bytes: Vec<u8>) -> Reply {
    let path = format!("/api/v1/catalogue/publications/sheet?{query}");
    node.send(as_user(node, cookie, Method::POST, &path).header("content-type", XLSX).body(bytes)).await
}

const SHEET_HEAD: [&str; 10] = [
    "调整方式",
    "事项编码",
    "事项名称",
    "职权类别",
    "设定依据",
    "实施主体",
    "法定办结时限",
    "承诺办结时限",
    "行使层级",
    "调整理由",
];

fn add_row(code: &str, name: &str) -> Vec<String> {
    [
        "新增",
        code,
        name,
        "行政许可",
        "《中华人民共和国食品安全法》第三十五条",
        "泸州市市场监督管理局",
        "20",
        "10",
        "县",
        "",
    ]
    .map(String::from)
    .to_vec()
}

fn sheet_query(doc_no: &str) -> String {
    format!(
        "doc_no={}&title={}&published=2026-03-02&effective=2026-03-02&tiers=county",
        enc(doc_no),
        enc("关于调整市县权责清单事项的通知")
    )
}

/// The rows of the first worksheet of an .xlsx, as text.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an .xlsx workbook");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("a worksheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| if let Data::Empty = c { String::new() } else { c.to_string() }).collect())
        .collect()
}

async fn publications(node: &TestNode) -> Vec<Value> {
    node.get("/api/v1/catalogue/publications").await.expect(200)["publications"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_city_office_publishes_and_watches_the_county_reconcile() {
    let mut fed = Federation::start(3).await;
    // Every node on one fixed day, after both publications' due dates.
    for division in [PROVINCE, CITY, COUNTY] {
        fed.node_mut(division).set_clock(TODAY).await;
    }
    let city = fed.city();
    let clerk = signed_in(city, "wang", &["establishment"]).await;
    let auditor = signed_in(city, "sun", &["auditor"]).await;

    // Without a session the pages send one to sign in, and come back afterwards.
    install_crypto_provider();
    let pem = std::fs::read(city.data_dir.join("tls/cert.pem")).unwrap();
    let no_follow = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/console/board", "/console/publish"] {
        let res = no_follow.get(format!("{}{path}", city.url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 303, "{path}");
        assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/console/login?next={}", enc(path)));
    }

    // A sheet with bad rows is refused naming sheet, row and field, and publishes nothing.
    let before = (city.head_seq().await, publications(city).await.len());
    let mut bad = vec![add_row("XK51050001", "市级新增许可一"), add_row("XK51050002", "")];
    bad.push(["变更", "XK51050003", "", "", "", "", "", "", "", ""].map(String::from).to_vec());
    let bytes = table_to_xlsx("调整表", &SHEET_HEAD, &bad).unwrap();
    let refused = upload(city, &clerk, &sheet_query(DOC_SHEET), bytes).await.expect_error(422, "IMPORT_INVALID");
    let errors = refused["errors"].as_array().unwrap();
    assert!(errors.iter().all(|e| e["sheet"] == "调整表"), "{refused}");
    assert!(errors.iter().any(|e| e["row"] == 3 && e["field"] == "name"), "{refused}");
    assert!(
        errors.iter().any(|e| e["row"] == 4 && e["message"].as_str().unwrap().contains("未知调整方式")),
        "{refused}"
    );
    assert_eq!((city.head_seq().await, publications(city).await.len()), before, "nothing published");

    // A good sheet publishes two new items for the county; typed lines cancel one of them.
    let good = vec![add_row("XK51050001", "市级新增许可一"), add_row("XK51050002", "市级新增许可二")];
    let bytes = table_to_xlsx("调整表", &SHEET_HEAD, &good).unwrap();
    let sheet = upload(city, &clerk, &sheet_query(DOC_SHEET), bytes).await.expect(201);
    let sheet_ref = sheet["ref"].as_str().unwrap().to_string();
    assert_eq!(sheet["publication"]["required_by_tier"], json!({"county": 2}), "{sheet}");
    let lines = json!({
        "doc_no": DOC_LINES, "title": "关于取消部分市级许可事项的通知", "published": "2026-03-09",
        "tiers": ["county"], "window_days": 20, "window_unit": "working",
        "lines": "取消 | XK51050002 | 上位法已修改",
    });
    let post = |body: Value, cookie: String| async move {
        city.send(as_user(city, &cookie, Method::POST, "/api/v1/catalogue/publications/lines").json(&body)).await
    };
    let typed = post(lines.clone(), clerk.clone()).await.expect(201);
    let lines_ref = typed["ref"].as_str().unwrap().to_string();
    assert_eq!(typed["publication"]["changes"], 1);
    let mut wrong = lines.clone();
    wrong["lines"] = json!("取消 | XK51050001");
    let e = post(wrong, clerk.clone()).await.expect_error(422, "IMPORT_INVALID");
    assert_eq!(e["errors"][0]["row"], 1, "{e}");

    // An auditor may not publish, by either route.
    post(lines.clone(), auditor.clone()).await.expect_error(403, "FORBIDDEN_ROLE");
    let bytes = table_to_xlsx("调整表", &SHEET_HEAD, &good).unwrap();
    upload(city, &auditor, &sheet_query("泸编发〔2026〕9号"), bytes).await.expect_error(403, "FORBIDDEN_ROLE");
    let publish_page = city.send(as_user(city, &auditor, Method::GET, "/console/publish")).await;
    assert_eq!(publish_page.status, 403, "{}", publish_page.text);

    // The county adopts the sheet's publication; the city's board shows it.
    fed.wait_converged(CONVERGE).await;
    let county = fed.county();
    county.post_json(&format!("/api/v1/recon/{}/adopt", enc(&sheet_ref)), &json!({})).await.expect(201);
    fed.wait_converged(CONVERGE).await;

    // 目录发布 lists both documents, each linked to its board.
    let html = page(city, &clerk, "/console/publish").await;
    for expected in [DOC_SHEET, DOC_LINES, "关于取消部分市级许可事项的通知", "2026-03-09", "县 2 项", "上传调整表"]
    {
        assert!(html.contains(expected), "{expected} in the publish page");
    }
    assert!(html.contains(&format!("/console/board?ref={}", enc(&sheet_ref))), "board link");
    // Progress at a glance: the county closed the sheet's task; the typed one is past its due
    // date on 2026-04-20.
    assert!(html.contains("已办结 1/1") && html.contains("已办结 0/1") && html.contains("逾期 1"), "progress");
    assert!(html.contains("data-upload=\"/api/v1/catalogue/publications/sheet\"") && html.contains("<progress"));

    // 对账看板, by default the latest publication, judged on a given day: the county is open
    // with the due date and working days left the API computes.
    let status = city.get(&format!("/api/v1/recon/{}/status?as_of=2026-03-20", enc(&lines_ref))).await.expect(200);
    let line = status["nodes"].as_array().unwrap().iter().find(|n| n["division"] == COUNTY).expect("the county");
    assert_eq!(line["status"], "open", "{status}");
    let (due, left) = (line["due"].as_str().unwrap(), line["days_left"].as_i64().unwrap());
    let html = page(city, &auditor, "/console/board?as_of=2026-03-20").await;
    for expected in [DOC_LINES, "泸县", COUNTY, "待对标", due, &format!("剩余 {left} 个工作日"), "导出 Excel"]
    {
        assert!(html.contains(expected), "{expected} in the board");
    }

    // The sheet's board: the county has adopted (on 2026-04-20, after the due date).
    let board = format!("/console/board?ref={}", enc(&sheet_ref));
    let html = page(city, &clerk, &board).await;
    let sheet_status = city.get(&format!("/api/v1/recon/{}/status", enc(&sheet_ref))).await.expect(200);
    let adopted = sheet_status["nodes"].as_array().unwrap().iter().find(|n| n["division"] == COUNTY).unwrap().clone();
    assert_eq!(
        (adopted["status"].as_str(), adopted["due"].as_str()),
        (Some("adopted"), Some("2026-03-30")),
        "{sheet_status}"
    );
    let late = format!("迟 {} 个工作日办结", adopted["late_days"].as_i64().unwrap());
    assert!(html.contains(&late), "{late} in the board");
    for expected in [DOC_SHEET, "已对标", adopted["due"].as_str().unwrap(), adopted["closed_on"].as_str().unwrap()] {
        assert!(html.contains(expected), "{expected} in the board");
    }
    // The status filter is applied by the node.
    let overdue_only = page(city, &clerk, &format!("{board}&status=overdue")).await;
    assert!(!overdue_only.contains("<td>泸县</td>") && overdue_only.contains("暂无记录"), "filtered out");
    let bad_filter = city.send(as_user(city, &clerk, Method::GET, &format!("{board}&status=late"))).await;
    assert_eq!(bad_filter.status, 400);

    // The export is the same board as an .xlsx workbook with Chinese headers.
    let res = as_user(city, &auditor, Method::GET, &format!("/api/v1/recon/{}/status?format=xlsx", enc(&sheet_ref)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], XLSX);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip");
    let rows = xlsx_rows(&bytes);
    assert_eq!(rows[0][..5], ["区划代码", "节点名称", "层级", "状态", "截止日期"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..5], [COUNTY, "泸县", "县", "已对标", adopted["due"].as_str().unwrap()]);
}
