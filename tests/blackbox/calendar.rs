//! The working-day calendar, the filing window and adjustment filings, on real processes: due
//! dates and workdays from the calendar a node holds (the province publishes 2015–2026 at init),
//! publishing a year (root only, checked before anything is signed), the city counting with the
//! calendar it received through the log, the CLI with and without a node, and late filings on a
//! node whose clock is set to a past day.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use quanze_tests::federation::{Federation, eventually};
use quanze_tests::{TestNode, describe, quanze_command};
use serde_json::{Value, json};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// TEST DATA, not a real notice: a plausible 2027 arrangement (no 2027 notice is built in), so
/// that publishing a year can be tested. Every make-up day is a Saturday or Sunday.
fn test_year_2027() -> Value {
    json!({
        "year": 2027,
        "notice": "测试数据〔2027〕1号（非真实通知 / test data）",
        "holidays": [
            {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
            {"name": "春节", "from": "2027-02-06", "to": "2027-02-14"},
            {"name": "国庆节", "from": "2027-10-01", "to": "2027-10-07"}
        ],
        "workdays": ["2027-01-31", "2027-02-20", "2027-09-26", "2027-10-09"]
    })
}

/// The same TEST DATA with a make-up day on a Wednesday (2027-01-06): invalid.
fn invalid_year_2027() -> Value {
    let mut year = test_year_2027();
    year["workdays"] = json!(["2027-01-06"]);
    year
}

async fn due(node: &TestNode, from: &str, days: u32, unit: &str) -> Value {
    node.get(&format!("/api/v1/calendar/due?from={from}&days={days}&unit={unit}")).await.expect(200)
}

async fn is_workday(node: &TestNode, date: &str) -> bool {
    let v = node.get(&format!("/api/v1/calendar/workday?date={date}")).await.expect(200);
    assert_eq!(v["date"], date, "{v}");
    v["workday"].as_bool().unwrap_or_else(|| panic!("workday is a boolean: {v}"))
}

#[tokio::test]
async fn province_answers_due_dates_and_publishes_a_checked_year() {
    let province = TestNode::start("province", "510000", "四川省").await;
    let years = province.get("/api/v1/calendar").await.expect(200);
    let list = years["years"].as_array().expect("years");
    assert_eq!(list.len(), 12, "2015–2026 published at init: {years}");
    assert_eq!(list[0]["year"], 2015);
    assert_eq!(list[11]["year"], 2026);
    assert_eq!(province.head_seq().await, 12, "one calendar.year entry a year");

    // 20 working days from Sunday 2025-09-28 (itself a make-up working day, not counted),
    // skipping the 10-01..08 break and counting make-up Saturday 10-11.
    let d = due(&province, "2025-09-28", 20, "working").await;
    assert_eq!(d, json!({"from": "2025-09-28", "days": 20, "unit": "working", "due": "2025-10-31"}));
    // 7 days from 2025-09-24 end on 10-01, inside the break: moved to the first working day after.
    assert_eq!(due(&province, "2025-09-24", 7, "calendar").await["due"], "2025-10-09");
    // The unit defaults to working days.
    let d = province.get("/api/v1/calendar/due?from=2025-09-28&days=20").await.expect(200);
    assert_eq!(d["due"], "2025-10-31");
    assert!(is_workday(&province, "2025-09-28").await, "make-up Sunday");
    assert!(!is_workday(&province, "2025-10-03").await, "National Day break");

    province.get("/api/v1/calendar/workday?date=2027-03-01").await.expect_error(422, "CALENDAR_YEAR_MISSING");
    let body = province
        .get("/api/v1/calendar/due?from=2027-03-01&days=7&unit=calendar")
        .await
        .expect_error(422, "CALENDAR_YEAR_MISSING");
    assert!(body["message"].as_str().unwrap_or("").contains("2027"), "names the year: {body}");
    province.get("/api/v1/calendar/due?from=2025-09-28&days=0&unit=working").await.expect_error(422, "ZERO_DAYS");
    for (bad, param) in [
        ("/api/v1/calendar/due?from=2025-13-01&days=20&unit=working", "from"),
        ("/api/v1/calendar/due?from=2025-09-28&days=twenty&unit=working", "days"),
        ("/api/v1/calendar/due?from=2025-09-28&days=-1&unit=working", "days"),
        ("/api/v1/calendar/due?from=2025-09-28&days=20&unit=fortnight", "unit"),
        ("/api/v1/calendar/due?days=20&unit=working", "from"),
        ("/api/v1/calendar/due?from=2025-09-28", "days"),
        ("/api/v1/calendar/workday?date=yesterday", "date"),
        ("/api/v1/calendar/workday", "date"),
    ] {
        let body = province.get(bad).await.expect_error(400, "BAD_QUERY");
        let message = body["message"].as_str().unwrap_or("");
        assert!(message.contains(&format!("参数 {param}")), "{bad}: names the parameter {param}: {body}");
    }

    // A make-up day on a Wednesday: refused before signing, nothing written.
    let before = province.snapshot().await;
    let body =
        province.post_json("/api/v1/calendar/years", &invalid_year_2027()).await.expect_error(422, "BAD_CALENDAR");
    assert!(body["message"].as_str().unwrap_or("").contains("2027-01-06"), "names the day: {body}");
    TestNode::assert_unchanged(&before, &province.snapshot().await, "an invalid arrangement");
    // Writes need the operator token.
    let reply =
        province.send(province.request(reqwest::Method::POST, "/api/v1/calendar/years").json(&test_year_2027())).await;
    reply.expect_error(401, "UNAUTHORIZED");

    let created = province.post_json("/api/v1/calendar/years", &test_year_2027()).await.expect(201);
    assert_eq!(created["entry"]["seq"], 13, "{created}");
    assert_eq!(created["entry"]["origin"], "510000");
    assert_eq!(created["year"]["year"], 2027);
    let log = province.get("/api/v1/log?after=12").await.expect(200);
    assert!(log.to_string().contains("calendar.year"), "the entry is a calendar.year op: {log}");

    assert_eq!(province.get("/api/v1/calendar").await.expect(200)["years"].as_array().map(Vec::len), Some(13));
    assert!(is_workday(&province, "2027-03-01").await);
    assert!(is_workday(&province, "2027-01-31").await, "make-up Sunday of the test data");
    assert!(!is_workday(&province, "2027-02-08").await, "Monday inside the test Spring Festival break");
    assert_eq!(due(&province, "2027-03-01", 7, "calendar").await["due"], "2027-03-08");
}

#[tokio::test]
async fn only_the_root_publishes_and_the_city_counts_with_the_calendar_it_received() {
    let fed = Federation::start(2).await;
    let (province, city) = (fed.province(), fed.city());

    // The city holds the province's calendar through the log and answers the same.
    assert_eq!(city.get("/api/v1/calendar").await.expect(200)["years"].as_array().map(Vec::len), Some(12));
    for (from, days, unit) in
        [("2025-09-28", 20, "working"), ("2025-09-24", 7, "calendar"), ("2024-12-31", 5, "working")]
    {
        assert_eq!(due(city, from, days, unit).await, due(province, from, days, unit).await, "{from} {days} {unit}");
    }
    assert_eq!(due(city, "2025-09-28", 20, "working").await["due"], "2025-10-31");
    assert!(!is_workday(city, "2025-10-03").await);

    // A city may not publish a year: refused by authority, nothing written.
    let before = city.snapshot().await;
    let body = city.post_json("/api/v1/calendar/years", &test_year_2027()).await.expect_error(403, "UNAUTHORISED_OP");
    assert!(!body["message"].as_str().unwrap_or("").is_empty());
    TestNode::assert_unchanged(&before, &city.snapshot().await, "a city's calendar.year");
    city.get("/api/v1/calendar/workday?date=2027-03-01").await.expect_error(422, "CALENDAR_YEAR_MISSING");

    // What the province publishes reaches the city.
    province.post_json("/api/v1/calendar/years", &test_year_2027()).await.expect(201);
    eventually("the city holds 2027", Duration::from_secs(30), async || {
        let reply = city.get("/api/v1/calendar/due?from=2027-03-01&days=7&unit=calendar").await;
        if reply.status == 200 { Ok(reply.json()) } else { Err(reply.text) }
    })
    .await;
    assert_eq!(due(city, "2027-03-01", 7, "calendar").await["due"], "2027-03-08");
    assert!(is_workday(city, "2027-01-31").await);
}

#[tokio::test]
async fn cli_without_a_node_uses_the_built_in_calendar() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = async |args: &[&str]| {
        quanze_command().args(args).current_dir(dir.path()).output().await.expect("cannot run quanze")
    };

    let out = run(&["calendar", "due", "--from", "2025-09-28", "--days", "20", "--unit", "working"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "2025-10-31\n", "only the date on stdout: {}", describe(&out));
    assert!(stderr(&out).contains("内置的节假日安排 2015–2026"), "says which calendar: {}", describe(&out));

    let out = run(&["calendar", "due", "--from", "2025-09-24", "--days", "7", "--unit", "calendar"]).await;
    assert_eq!(stdout(&out), "2025-10-09\n", "{}", describe(&out));

    let out = run(&["calendar", "is-workday", "2025-10-01"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "false\n");
    let out = run(&["calendar", "is-workday", "2025-09-28"]).await;
    assert_eq!(stdout(&out), "true\n", "{}", describe(&out));

    let out = run(&["calendar", "due", "--from", "2027-01-04", "--days", "20", "--unit", "working"]).await;
    assert!(!out.status.success(), "2027 is not built in: {}", describe(&out));
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("2027") && err.contains("--from"), "names the year and the argument: {}", describe(&out));
    assert!(err.contains("尚未发布"), "Chinese first: {}", describe(&out));

    let out = run(&["calendar", "due", "--from", "2025-09-28", "--days", "0"]).await;
    assert!(!out.status.success() && stderr(&out).contains("--days"), "{}", describe(&out));
    let out = run(&["calendar", "due", "--from", "2025-13-01", "--days", "3"]).await;
    assert!(!out.status.success() && stderr(&out).contains("--from"), "{}", describe(&out));
    assert!(stderr(&out).contains("YYYY-MM-DD"), "{}", describe(&out));

    let out = run(&["calendar", "years"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out).lines().filter(|l| l.starts_with("20")).count(), 12, "{}", describe(&out));
    assert!(stdout(&out).contains("国办发明电〔2024〕12号"), "the 2025 notice: {}", describe(&out));
}

#[tokio::test]
async fn cli_asks_the_node_then_reads_its_data_directory_when_it_is_stopped() {
    let mut province = TestNode::start("province", "510000", "四川省").await;
    let out = province.cli(["calendar", "due", "--from", "2025-09-28", "--days", "20"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "2025-10-31\n");
    assert!(!stderr(&out).contains("内置"), "the node answered: {}", describe(&out));

    let file = province.scratch("2027.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&invalid_year_2027()).unwrap()).unwrap();
    let out = province.cli([Path::new("calendar"), Path::new("publish"), file.as_path()]).await;
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("2027.json"), "names the file: {}", describe(&out));
    assert_eq!(province.head_seq().await, 12);

    std::fs::write(&file, serde_json::to_vec_pretty(&test_year_2027()).unwrap()).unwrap();
    let out = province.cli([Path::new("calendar"), Path::new("publish"), file.as_path()]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("510000#13"), "names the entry: {}", describe(&out));

    let out = province.cli(["calendar", "years"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("测试数据〔2027〕1号"), "{}", describe(&out));

    province.stop().await;
    let out = province.cli(["calendar", "is-workday", "2027-01-31"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "true\n", "the published 2027 from the stopped node's database: {}", describe(&out));
    assert!(stderr(&out).contains("节点未运行"), "says where the answer comes from: {}", describe(&out));
    let out = province.cli(["calendar", "due", "--from", "2028-01-03", "--days", "1"]).await;
    assert!(!out.status.success() && stderr(&out).contains("2028"), "{}", describe(&out));
}

#[tokio::test]
async fn a_filing_after_the_window_is_listed_late_in_working_days() {
    let mut province = TestNode::start("province", "510000", "四川省").await;
    province.set_clock("2025-03-12").await;

    let policy = province.get("/api/v1/policy").await.expect(200);
    assert_eq!(policy["request_window"], json!({"days": 20, "unit": "working"}), "default window");
    let before = province.snapshot().await;
    let zero = json!({"request_window": {"days": 0, "unit": "calendar"}});
    province
        .send(province.authed(reqwest::Method::PUT, "/api/v1/policy").json(&zero))
        .await
        .expect_error(422, "ZERO_DAYS");
    TestNode::assert_unchanged(&before, &province.snapshot().await, "a zero-day window");

    let out = province.cli(["policy", "set", "--request-window-days", "7", "--unit", "calendar"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("7日"), "{}", describe(&out));
    let policy = province.get("/api/v1/policy").await.expect(200);
    assert_eq!(policy["request_window"], json!({"days": 7, "unit": "calendar"}));
    let out = province.cli(["policy", "show"]).await;
    assert!(out.status.success() && stdout(&out).contains("7日"), "{}", describe(&out));

    // Triggered Monday 2025-03-03: 7 days end Monday 03-10; filed Wednesday 03-12, two working
    // days late.
    let filing = json!({
        "department": "区市场监管局",
        "trigger": "basis_changed",
        "trigger_date": "2025-03-03",
        "summary": "《食品经营许可和备案管理办法》修改，调整食品经营许可的申请材料",
        "codes": ["XK00035000"]
    });
    let created = province.post_json("/api/v1/filings", &filing).await.expect(201);
    let request = &created["request"];
    assert_eq!(request["filed_on"], "2025-03-12", "dated by the node's clock: {created}");
    assert_eq!(request["due"], "2025-03-10");
    assert_eq!(request["late_days"], 2);
    assert_eq!(request["late"], true);
    assert_eq!(request["window"], json!({"days": 7, "unit": "calendar"}));
    let late_seq = created["entry"]["seq"].clone();

    // Filed on time through the CLI: triggered the day before.
    let out = province
        .cli([
            "request",
            "file",
            "--department",
            "区市场监管局",
            "--trigger",
            "information_changed",
            "--trigger-date",
            "2025-03-11",
            "--summary",
            "实施主体名称变更",
            "--codes",
            "XK1,XK2",
        ])
        .await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("2025-03-18"), "prints the due date: {}", describe(&out));

    // A trigger after today: refused, nothing written.
    let before = province.snapshot().await;
    let future =
        json!({"department": "区市场监管局", "trigger": "other", "trigger_date": "2025-03-13", "summary": "未来"});
    let body = province.post_json("/api/v1/filings", &future).await.expect_error(422, "BAD_FILING");
    assert!(body["message"].as_str().unwrap_or("").contains("2025-03-13"), "{body}");
    TestNode::assert_unchanged(&before, &province.snapshot().await, "a filing triggered after today");
    let blank = json!({"department": " ", "trigger": "other", "trigger_date": "2025-03-03", "summary": "x"});
    province.post_json("/api/v1/filings", &blank).await.expect_error(422, "BAD_FILING");
    let out = province
        .cli(["request", "file", "--department", "区市场监管局", "--trigger", "whim", "--trigger-date", "2025-03-03"])
        .await;
    assert!(!out.status.success(), "{}", describe(&out));

    let all = province.get("/api/v1/filings").await.expect(200);
    let rows = all["requests"].as_array().expect("requests");
    assert_eq!(rows.len(), 2, "{all}");
    assert!(all.get("calendar_error").is_none(), "{all}");
    assert_eq!(rows[1]["codes"], json!(["XK1", "XK2"]));
    assert_eq!(rows[1]["late"], false);
    let late = province.get("/api/v1/filings?late=true").await.expect(200);
    let late_rows = late["requests"].as_array().expect("requests");
    assert_eq!(late_rows.len(), 1, "{late}");
    assert_eq!(late_rows[0]["seq"], late_seq);
    assert_eq!(late_rows[0]["late_days"], 2);
    let on_time = province.get("/api/v1/filings?late=false").await.expect(200);
    assert_eq!(on_time["requests"].as_array().map(Vec::len), Some(1), "{on_time}");
    province.get("/api/v1/filings?late=maybe").await.expect_error(400, "BAD_QUERY");

    let out = province.cli(["request", "list", "--late"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("逾期 2 个工作日"), "{}", describe(&out));
    assert!(text.contains("设定依据失效、废止或更改"), "the trigger's label: {}", describe(&out));
    assert!(!text.contains("实施主体名称变更") && !text.contains("行政权力信息内容变更"), "{}", describe(&out));
    let out = province.cli(["request", "list", "--json"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    let listed: Value = serde_json::from_slice(&out.stdout).expect("request list --json prints JSON");
    assert_eq!(listed, all);
}

#[tokio::test]
async fn filings_without_a_calendar_are_listed_with_the_reason() {
    // A standalone node: no calendar published.
    let node = TestNode::luxian().await;
    assert_eq!(node.get("/api/v1/calendar").await.expect(200), json!({"years": []}));
    node.get("/api/v1/calendar/workday?date=2025-10-01").await.expect_error(422, "CALENDAR_YEAR_MISSING");

    let filing = json!({"department": "县司法局", "trigger": "restructuring", "trigger_date": "2025-03-03", "summary": "机构改革"});
    let created = node.post_json("/api/v1/filings", &filing).await.expect(201);
    assert!(created["request"]["due"].is_null(), "{created}");
    let all = node.get("/api/v1/filings").await.expect(200);
    let rows = all["requests"].as_array().expect("requests");
    assert_eq!(rows.len(), 1, "listed anyway: {all}");
    assert!(rows[0]["due"].is_null() && rows[0]["late"].is_null(), "{all}");
    assert!(all["calendar_error"].as_str().is_some_and(|e| e.contains("2025")), "{all}");
    // Unknown lateness is shown whatever the filter.
    assert_eq!(node.get("/api/v1/filings?late=true").await.expect(200)["requests"].as_array().map(Vec::len), Some(1));

    let out = node.cli(["request", "list"]).await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains("无法计算"), "{}", describe(&out));
}
