//! Catalogue publication and reconciliation across four real nodes, on days the test sets with
//! each node's clock (`QUANZE_NOW`): the province publishes 50 changes on 2025-09-28 (window 20
//! working days: due 2025-10-31); the city adopts on time, the county deviates on one item, the
//! township misses the deadline and adopts late. The province's status table shows exactly that.

use std::time::Duration;

use quanze_tests::federation::Federation;
use quanze_tests::samples::food_licence;
use quanze_tests::{TestNode, enc};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(60);

fn item(i: usize) -> Value {
    let mut item = food_licence();
    item["code"] = json!(format!("XK{:05}000", 60000 + i));
    item["name"] = json!(format!("目录事项{i:02}"));
    item["implementing_body"] = json!("省市场监督管理局");
    item
}

fn publication(n: usize) -> Value {
    let changes: Vec<Value> =
        (0..n).map(|i| json!({"kind": "add", "item": item(i), "tiers": ["city", "county", "township"]})).collect();
    json!({
        "doc_no": "川府发〔2025〕50号",
        "title": "关于公布省市县三级行政许可事项目录的通知",
        "published": "2025-09-28",
        "effective": "2025-10-01",
        "tiers": ["city", "county", "township"],
        "changes": changes,
    })
}

fn by_division<'a>(status: &'a Value, division: &str) -> &'a Value {
    status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["division"] == division)
        .unwrap_or_else(|| panic!("{division} in {status}"))
}

#[tokio::test]
async fn a_publication_is_adopted_deviated_and_missed_as_the_province_sees() {
    let mut fed = Federation::start(4).await;
    for division in ["510000", "510500", "510521", "510521100"] {
        fed.node_mut(division).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    let published = fed.province().post_json("/api/v1/catalogue/publications", &publication(50)).await.expect(201);
    let reference = published["ref"].as_str().unwrap().to_string();
    assert_eq!(published["publication"]["required_by_tier"], json!({"city": 50, "county": 50, "township": 50}));
    fed.wait_converged(CONVERGE).await;

    // Every affected node has its task open, with the legally right due date.
    for n in &fed.nodes[1..] {
        let tasks = n.get("/api/v1/recon").await.expect(200);
        let task = &tasks["tasks"][0]["task"];
        assert_eq!(
            (task["status"].as_str(), task["due"].as_str()),
            (Some("open"), Some("2025-10-31")),
            "{}",
            n.division
        );
        assert_eq!(task["required"], 50);
    }
    let diff = fed.county().get(&format!("/api/v1/recon/{}", enc(&reference))).await.expect(200);
    assert_eq!(diff["diff"].as_array().unwrap().len(), 50);
    assert!(diff["diff"].as_array().unwrap().iter().all(|d| d["action"] == "add"));

    // The city adopts everything on 2025-10-09.
    fed.node_mut("510500").set_clock("2025-10-09T10:00:00+08:00").await;
    let adopted =
        fed.city().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);
    assert_eq!(adopted["item_ops"], 50);
    assert_eq!(fed.city().info().await["items"], 50);
    let again = fed.city().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await;
    again.expect_error(409, "TASK_CLOSED");

    // The county adopts 49 items on 2025-10-20, one with its own implementing body, and deviates
    // on the last with a reason and a legal basis.
    fed.node_mut("510521").set_clock("2025-10-20T10:00:00+08:00").await;
    let county = fed.county();
    let codes: Vec<String> = (0..49).map(|i| item(i)["code"].as_str().unwrap().to_string()).collect();
    let mut local = item(0);
    local["name"] = json!("本地改过的名称");
    local["implementing_body"] = json!("泸县行政审批局");
    let body = json!({"codes": codes, "local": [local]});
    county.post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &body).await.expect(201);
    let kept = county.get(&format!("/api/v1/items/{}", item(0)["code"].as_str().unwrap())).await.expect(200);
    assert_eq!(
        (kept["name"].as_str(), kept["implementing_body"].as_str()),
        (Some("目录事项00"), Some("泸县行政审批局"))
    );
    let last = item(49)["code"].as_str().unwrap().to_string();
    let no_basis = json!({"codes": [last], "reason": "本县无此业务", "basis": " "});
    county
        .post_json(&format!("/api/v1/recon/{}/deviate", enc(&reference)), &no_basis)
        .await
        .expect_error(422, "MISSING_BASIS");
    let deviation =
        json!({"codes": [last], "reason": "本县无此业务", "basis": "《四川省行政审批事项清单管理办法》第十条"});
    county.post_json(&format!("/api/v1/recon/{}/deviate", enc(&reference)), &deviation).await.expect(201);

    // The province looks on 2025-11-04: the township has done nothing.
    fed.wait_converged(CONVERGE).await;
    fed.node_mut("510000").set_clock("2025-11-04T10:00:00+08:00").await;
    let status = fed.province().get(&format!("/api/v1/recon/{}/status", enc(&reference))).await.expect(200);
    assert_eq!(status["as_of"], "2025-11-04");
    assert_eq!(status["nodes"].as_array().unwrap().len(), 3, "{status}");
    let city = by_division(&status, "510500");
    assert_eq!(
        (city["status"].as_str(), city["late_days"].as_i64(), city["closed_on"].as_str()),
        (Some("adopted"), Some(0), Some("2025-10-09"))
    );
    let county = by_division(&status, "510521");
    assert_eq!((county["status"].as_str(), county["deviated"].as_u64()), (Some("deviated"), Some(1)));
    assert_eq!(county["reason"], "本县无此业务");
    let township = by_division(&status, "510521100");
    assert_eq!((township["status"].as_str(), township["days_overdue"].as_i64()), (Some("overdue"), Some(2)));
    assert_eq!(status["counts"], json!({"adopted": 1, "deviated": 1, "overdue": 1}));
    // The city sees the same for its subtree (itself, the county and the township).
    let from_city =
        fed.city().get(&format!("/api/v1/recon/{}/status?as_of=2025-11-04", enc(&reference))).await.expect(200);
    assert_eq!(from_city["counts"], status["counts"]);

    // The editorial office's screen on the command line.
    let out = fed.province().cli(["recon", "status", "--publication", &reference]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    for expected in ["川府发〔2025〕50号", "已对标", "有差异（已说明）", "已逾期", "逾 2", "本县无此业务"]
    {
        assert!(table.contains(expected), "{expected} in\n{table}");
    }

    // The township adopts on 2025-11-06: adopted, four working days late.
    fed.node_mut("510521100").set_clock("2025-11-06T10:00:00+08:00").await;
    fed.township().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    let status = fed.province().get(&format!("/api/v1/recon/{}/status", enc(&reference))).await.expect(200);
    let township = by_division(&status, "510521100");
    assert_eq!((township["status"].as_str(), township["late_days"].as_i64()), (Some("adopted"), Some(4)), "{township}");
}

#[tokio::test]
async fn bad_publications_and_recon_requests_change_nothing() {
    let fed = Federation::start(3).await;
    let province = fed.province();
    let before = province.head_seq().await;
    let mut unknown_code = publication(1);
    unknown_code["changes"] = json!([{"kind": "cancel", "code": "XK99999000", "reason": "法律修改"}]);
    province
        .post_json("/api/v1/catalogue/publications", &unknown_code)
        .await
        .expect_error(422, "UNKNOWN_CATALOGUE_CODE");
    let mut far = publication(1);
    far["published"] = json!("2030-03-02");
    far["effective"] = json!("2030-03-02");
    province.post_json("/api/v1/catalogue/publications", &far).await.expect_error(422, "CALENDAR_YEAR_MISSING");
    let mut to_itself = publication(1);
    to_itself["tiers"] = json!(["province", "city"]);
    province.post_json("/api/v1/catalogue/publications", &to_itself).await.expect_error(403, "UNAUTHORISED_OP");
    assert_eq!(province.head_seq().await, before, "nothing written");

    // A county publishing for the province is refused as unauthorised.
    let county: &TestNode = fed.county();
    let county_before = county.head_seq().await;
    let mut upward = publication(1);
    upward["tiers"] = json!(["province"]);
    county.post_json("/api/v1/catalogue/publications", &upward).await.expect_error(403, "UNAUTHORISED_OP");
    assert_eq!(county.head_seq().await, county_before);

    let published = province.post_json("/api/v1/catalogue/publications", &publication(2)).await.expect(201);
    let reference = published["ref"].as_str().unwrap().to_string();
    fed.wait_converged(CONVERGE).await;
    let county_before = county.head_seq().await;
    county.get("/api/v1/recon/510000%2399").await.expect_error(404, "UNKNOWN_PUBLICATION");
    county.post_json("/api/v1/recon/no-such-doc/adopt", &json!({})).await.expect_error(404, "UNKNOWN_PUBLICATION");
    let path = format!("/api/v1/recon/{}/deviate", enc(&reference));
    county.post_json(&path, &json!({"reason": "", "basis": "某法"})).await.expect_error(422, "MISSING_REASON");
    let stray = json!({"codes": ["XK00001000"]});
    county
        .post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &stray)
        .await
        .expect_error(422, "NOT_IN_PUBLICATION");
    province
        .post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({}))
        .await
        .expect_error(403, "NOT_AFFECTED");
    assert_eq!(county.head_seq().await, county_before, "nothing written");

    // Found by document number too; adopted; then closed.
    let doc = enc("川府发〔2025〕50号");
    county.post_json(&format!("/api/v1/recon/{doc}/adopt"), &json!({})).await.expect(201);
    county
        .post_json(&format!("/api/v1/recon/{doc}/not-applicable"), &json!({"reason": "x"}))
        .await
        .expect_error(409, "TASK_CLOSED");
}

const SHEET: &str = "\
调整方式,事项编码,事项名称,职权类别,设定依据,实施主体,行使层级,调整理由,关联编码
新增,XK60100000,目录事项甲,行政许可,《中华人民共和国食品安全法》第三十五条,省市场监督管理局,市；县,,
新增,XK60101000,目录事项乙,行政许可,《中华人民共和国食品安全法》第三十五条,省市场监督管理局,市,,
";

#[tokio::test]
async fn an_office_publishes_a_sheet_and_a_city_adopts_from_the_command_line() {
    let fed = Federation::start(2).await;
    let (province, city) = (fed.province(), fed.city());
    let bad = province.scratch("bad.csv");
    std::fs::write(&bad, SHEET.replace("市,,\n", "村,,\n")).unwrap();
    let before = province.head_seq().await;
    let out = province
        .cli(["catalogue", "publish", bad.to_str().unwrap(), "--doc-no", "川府发〔2025〕7号", "--title", "目录"])
        .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("第 3 行") && err.contains("行使层级") && err.contains("bad.csv"),
        "{err}"
    );
    assert_eq!(province.head_seq().await, before, "nothing written");

    let sheet = province.scratch("调整.csv");
    std::fs::write(&sheet, SHEET).unwrap();
    let args =
        ["catalogue", "publish", sheet.to_str().unwrap(), "--doc-no", "川府发〔2025〕7号", "--title", "目录调整"];
    let out = province.cli(args.into_iter().chain(["--published", "2025-09-28", "--tiers", "市"])).await;
    assert!(out.status.success(), "{}", quanze_tests::describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 项调整"));
    fed.wait_converged(CONVERGE).await;

    let out = city.cli(["recon"]).await;
    let tasks = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && tasks.contains("川府发〔2025〕7号") && tasks.contains("2025-10-31"), "{tasks}");
    let out = city.cli(["recon", "show", "川府发〔2025〕7号"]).await;
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("XK60100000") && diff.contains("XK60101000") && diff.contains("新增"), "{diff}");
    let out = city.cli(["recon", "adopt", "川府发〔2025〕7号"]).await;
    assert!(out.status.success(), "{}", quanze_tests::describe(&out));
    assert_eq!(city.info().await["items"], 2);
    let out = city.cli(["recon", "adopt", "川府发〔2025〕7号"]).await;
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("已办结"));
    let out = city.cli(["catalogue", "items"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("共 2 项"));
}

/// 下放: the province delegates a city item to the counties; the city adopts and keeps the item
/// as 已下放 (delegated), not 已取消, in its list and on its public page; the county adds it.
#[tokio::test]
async fn a_delegated_item_is_kept_as_delegated_where_it_was_given_up() {
    let mut fed = Federation::start(3).await;
    for d in ["510000", "510500", "510521"] {
        fed.node_mut(d).set_clock("2025-09-28T10:00:00+08:00").await;
    }
    let mut first = publication(1);
    first["tiers"] = json!(["city"]);
    first["changes"][0]["tiers"] = json!(["city"]);
    let added = fed.province().post_json("/api/v1/catalogue/publications", &first).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    let reference = added["ref"].as_str().unwrap().to_string();
    fed.city().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);

    let down = json!({
        "doc_no": "川府发〔2025〕60号", "title": "关于下放部分行政许可事项的决定",
        "published": "2025-09-29", "effective": "2025-10-01", "tiers": ["city", "county"],
        "changes": [{"kind": "delegate", "code": "XK60000000", "tiers": ["county"], "reason": "便于就近办理"}],
    });
    let delegated = fed.province().post_json("/api/v1/catalogue/publications", &down).await.expect(201);
    fed.wait_converged(CONVERGE).await;
    let reference = delegated["ref"].as_str().unwrap().to_string();
    let task = fed.city().get(&format!("/api/v1/recon/{}", enc(&reference))).await.expect(200);
    assert!(task.to_string().contains("\"delegated\":true"), "the city's task proposes a delegation: {task}");
    fed.city().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);
    let item = fed.city().get("/api/v1/items/XK60000000").await.expect(200);
    assert_eq!(item["status"], "delegated", "已下放, not 已取消: {item}");
    let page = fed.city().get("/public/items/XK60000000").await;
    assert!(page.text.contains("已下放"), "{}", page.text);

    let adopted =
        fed.county().post_json(&format!("/api/v1/recon/{}/adopt", enc(&reference)), &json!({})).await.expect(201);
    assert_eq!(adopted["item_ops"], 1, "the county takes the item: {adopted}");
    assert_eq!(fed.county().get("/api/v1/items/XK60000000").await.expect(200)["status"], "active");
}
