//! Federation of real processes: 四川省 510000 → 泸州市 510500 → 泸县 510521 → 福集镇 510521100,
//! each a `quanze serve` enrolled by its parent's invite (`quanze child invite`, `quanze init
//! --join`).
//!
//! * Entries travel down (long-poll pull) and up (push) within seconds.
//! * A dead city delays, but loses nothing: the others keep serving and writing, outboxes fill,
//!   and drain once the city is back.
//! * Entries a child pushes that fail a check are refused with a clear code and change nothing:
//!   forged signature, unknown origin, replay with an edited seq, gap, another node's list,
//!   enrolling a stranger, revoked key.
//! * A parent restored from an old backup (serving a shorter history of an ancestor's log) is
//!   refused by its child, whose heads never go backwards.
//! * Two validly signed entries at one seq are a fork: kept as evidence, the origin quarantined.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use quanze_domain::{DivisionCode, Enrolment, Op, Tier};
use quanze_ledger::NodeKey;
use quanze_tests::federation::{
    CITY, COUNTY, Federation, Heads, PROVINCE, TOWNSHIP, assert_refused, chain_head, cli_heads, eventually, fed_heads,
    forge, item, made_up_head, power_item, push,
};
use quanze_tests::{TestNode, describe, sha256_hex};
use serde_json::Value;

/// How long an entry may take to cross the federation (each way).
const TRAVEL: Duration = Duration::from_secs(15);

/// Waits until `node` holds `origin` at exactly `head` (seq, hash).
async fn wait_holds(node: &TestNode, origin: &str, head: &(u64, String), what: &str) -> Duration {
    let start = Instant::now();
    eventually(what, TRAVEL, async || {
        let heads = fed_heads(node).await;
        match heads.get(origin) {
            Some(h) if h == head => Ok(()),
            other => Err(format!("{} holds {origin} at {other:?}, want {head:?}", node.division)),
        }
    })
    .await;
    start.elapsed()
}

/// `(seq, hash)` of the entry in a write's answer (`{"entry": {origin, seq, hash}, …}`).
fn written_head(written: &Value, origin: &str) -> (u64, String) {
    let entry = &written["entry"];
    assert_eq!(entry["origin"], origin, "written by {origin}: {written}");
    (entry["seq"].as_u64().expect("entry.seq"), entry["hash"].as_str().expect("entry.hash").to_string())
}

/// The entry `origin#seq` as `node` holds it (`GET /api/v1/log?origin=…`).
async fn held_entry(node: &TestNode, origin: &str, seq: u64) -> Value {
    let page = node.get(&format!("/api/v1/log?origin={origin}&after={}&limit=1", seq - 1)).await.expect(200);
    let entry = page["entries"][0].clone();
    assert_eq!(entry["seq"], seq, "{} holds {origin}#{seq}: {page}", node.division);
    entry
}

#[tokio::test]
async fn entries_travel_down_to_the_township_and_up_to_the_province() {
    let fed = Federation::start(4).await;
    let (province, city, county, township) = (fed.province(), fed.city(), fed.county(), fed.township());

    // Down: the province's list change reaches the township through the city and the county.
    let written = province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await;
    let head = written_head(&written, PROVINCE);
    let down = wait_holds(township, PROVINCE, &head, "the province's entry reaches the township").await;
    let entry = held_entry(township, PROVINCE, head.0).await;
    assert_eq!(entry["hash"], head.1.as_str(), "the township holds the province's entry: {entry}");
    let body = entry["body"].as_str().expect("body");
    assert_eq!(sha256_hex(body.as_bytes()), head.1, "the exact signed bytes travelled");
    assert_eq!(entry["decoded"]["op"][0]["type"], "item.add");
    assert_eq!(entry["decoded"]["op"][0]["item"]["code"], "XK00071000");
    for n in [city, county] {
        assert_eq!(fed_heads(n).await.get(PROVINCE), Some(&head), "{} relayed the province's entry", n.division);
    }
    // Another node's log is not the township's own list.
    township.get("/api/v1/items/XK00071000").await.expect_error(404, "NOT_FOUND");

    // Up: the township's list change reaches the province through the county and the city.
    let written = township.add_item(&item("XK00073000", "农村村民宅基地审批", "福集镇人民政府")).await;
    let head = written_head(&written, TOWNSHIP);
    let up = wait_holds(province, TOWNSHIP, &head, "the township's entry reaches the province").await;
    let entry = held_entry(province, TOWNSHIP, head.0).await;
    assert_eq!(entry["hash"], head.1.as_str(), "the province holds the township's entry: {entry}");
    assert_eq!(entry["decoded"]["origin"], TOWNSHIP);
    assert_eq!(entry["decoded"]["op"][0]["item"]["code"], "XK00073000");
    for n in [city, county] {
        assert_eq!(fed_heads(n).await.get(TOWNSHIP), Some(&head), "{} relayed the township's entry", n.division);
    }
    province.get("/api/v1/items/XK00073000").await.expect_error(404, "NOT_FOUND");

    // Every node verifies every log it holds, relayed ones included.
    for n in &fed.nodes {
        let report = n.get("/api/v1/log/verify").await.expect(200);
        assert_eq!(report["ok"], true, "{} verifies its logs: {report}", n.division);
    }
    eprintln!("province → township {down:?}, township → province {up:?}");
}

#[tokio::test]
async fn a_dead_city_delays_but_loses_nothing() {
    let mut fed = Federation::start(4).await;
    fed.node_mut(CITY).stop().await;

    // Everyone else keeps serving and writing.
    let (province, county, township) = (fed.province(), fed.county(), fed.township());
    for n in [province, county, township] {
        let health = n.get("/healthz").await;
        assert_eq!(health.status, 200, "{} serves while the city is down: {}", n.division, health.text);
    }
    let p = written_head(
        &province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await,
        PROVINCE,
    );
    let c = written_head(&county.add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await, COUNTY);
    let t =
        written_head(&township.add_item(&item("XK00073000", "农村村民宅基地审批", "福集镇人民政府")).await, TOWNSHIP);

    // The township still reaches the county; the county's entries wait in its outbox.
    wait_holds(county, TOWNSHIP, &t, "the township's entry reaches the county while the city is down").await;
    let status = eventually("the county reports its outbox and the unreachable city", TRAVEL, async || {
        let s = county.fed_status().await;
        let depth = s["outbox_depth"].as_u64().unwrap_or(0);
        if depth >= 2 && s["parent"]["last_error"].is_string() { Ok(s) } else { Err(s.to_string()) }
    })
    .await;
    let unacked =
        |origin: &str| status["origins"].as_array().expect("origins").iter().find(|o| o["origin"] == origin).cloned();
    for origin in [COUNTY, TOWNSHIP] {
        let row = unacked(origin).unwrap_or_else(|| panic!("county status lists {origin}: {status}"));
        assert!(row["unacknowledged"].as_u64() >= Some(1), "{origin} is unacknowledged by the city: {status}");
    }
    assert_eq!(status["parent"]["division"], CITY, "{status}");
    assert!(
        fed_heads(township).await.get(PROVINCE).is_none_or(|h| h.0 < p.0),
        "nothing reaches the township around the dead city"
    );

    // The city comes back: every outbox drains and all four hold the same heads.
    fed.node_mut(CITY).restart().await;
    let start = Instant::now();
    let heads =
        eventually("outboxes drain and all four nodes hold identical heads", Duration::from_secs(30), async || {
            let mut depths = Vec::new();
            for n in &fed.nodes[1..] {
                depths.push((n.division.clone(), n.fed_status().await["outbox_depth"].as_u64()));
            }
            let mut all: Vec<(String, Heads)> = Vec::new();
            for n in &fed.nodes {
                all.push((n.division.clone(), cli_heads(n).await));
            }
            let drained = depths.iter().all(|(_, d)| *d == Some(0));
            let same = all.windows(2).all(|w| w[0].1 == w[1].1);
            let first = &all[0].1;
            let complete =
                first.get(PROVINCE) == Some(&p) && first.get(COUNTY) == Some(&c) && first.get(TOWNSHIP) == Some(&t);
            if drained && same && complete {
                Ok(first.clone())
            } else {
                Err(format!("outboxes {depths:?}\nheads {all:#?}"))
            }
        })
        .await;
    let origins: BTreeSet<&str> = heads.keys().map(String::as_str).collect();
    assert_eq!(origins, BTreeSet::from([PROVINCE, CITY, COUNTY, TOWNSHIP]), "every node holds every log");
    eprintln!("caught up {:?} after the city's restart", start.elapsed());
}

#[tokio::test]
async fn pushed_entries_that_fail_a_check_are_refused_and_change_nothing() {
    let fed = Federation::start(4).await;
    let (city, county, township) = (fed.city(), fed.county(), fed.township());
    let t1 =
        written_head(&township.add_item(&item("XK00073000", "农村村民宅基地审批", "福集镇人民政府")).await, TOWNSHIP);
    wait_holds(county, TOWNSHIP, &t1, "the township's entry #1 reaches the county").await;
    let before = fed_heads(county).await;
    let head = chain_head(&before, TOWNSHIP).expect("the county holds the township's log");
    let township_key = township.key();
    let next_item = || Op::add(power_item(&item("XK00074000", "乡村建设规划许可", "福集镇人民政府")));

    // (a) Signed by a key that is not the township's.
    let forged = forge(&NodeKey::generate().expect("key"), TOWNSHIP, Some(head), vec![next_item()]);
    let d = push(county, TOWNSHIP, &[forged]).await;
    assert_refused(&d[0], "BAD_SIGNATURE", "an entry signed with a random key");

    // (b) A township the county never enrolled.
    let stranger = forge(&NodeKey::generate().expect("key"), "510521101", None, vec![next_item()]);
    let d = push(county, TOWNSHIP, &[stranger]).await;
    assert_refused(&d[0], "NOT_ENROLLED", "an entry of the never-enrolled 510521101");

    // (c) The township's entry #1 again: the same bytes are a harmless duplicate; the same bytes
    // with the seq edited to the next one no longer match the signature.
    let first = held_entry(county, TOWNSHIP, 1).await;
    let wire = |body: &str| serde_json::json!({"body": body, "sig": first["sig"], "hash": sha256_hex(body.as_bytes())});
    let body = first["body"].as_str().expect("body");
    let d = push(county, TOWNSHIP, &[wire(body)]).await;
    assert_eq!(d[0]["outcome"], "duplicate", "the same entry again: {}", d[0]);
    assert_eq!(body.matches("\"seq\":1,").count(), 1, "entry #1 names its seq once: {body}");
    let replayed = body.replace("\"seq\":1,", &format!("\"seq\":{},", head.seq + 1));
    let d = push(county, TOWNSHIP, &[wire(&replayed)]).await;
    assert_refused(&d[0], "BAD_SIGNATURE", "entry #1 replayed with a new seq, not re-signed");

    // (d) Properly signed by the township, but one entry is missing before it.
    let gap = forge(&township_key, TOWNSHIP, Some(made_up_head(head.seq + 1)), vec![next_item()]);
    let d = push(county, TOWNSHIP, &[gap]).await;
    assert_refused(&d[0], "SEQ_GAP", "an entry two after the head");
    assert_eq!(d[0]["seq"], head.seq + 2);

    // (e) Properly signed, in sequence, but editing the county's list.
    let county_code = DivisionCode::parse(COUNTY).expect("division");
    let on_county = Op::ItemAdd {
        item: power_item(&item("XK00075000", "县级事项", "泸县人民政府")),
        list: Some(county_code),
    };
    let d = push(county, TOWNSHIP, &[forge(&township_key, TOWNSHIP, Some(head), vec![on_county])]).await;
    assert_refused(&d[0], "UNAUTHORISED", "the township adding an item to the county's list");
    county.get("/api/v1/items/XK00075000").await.expect_error(404, "NOT_FOUND");

    // (e') The county, properly signed and in sequence, enrolling 德阳市 510600, which is not its
    // child, pushed to the city.
    let city_before = fed_heads(city).await;
    let county_head = chain_head(&city_before, COUNTY).expect("the city holds the county's log");
    assert_eq!(city_before.get(COUNTY), before.get(COUNTY), "the city is in step with the county");
    let enrol = Op::Enroll {
        enrolment: Enrolment {
            division: DivisionCode::parse("510600").expect("division"),
            tier: Tier::City,
            name: "德阳市".into(),
            key: NodeKey::generate().expect("key").public().to_hex(),
            valid_from: 1,
        },
    };
    let d = push(city, COUNTY, &[forge(&county.key(), COUNTY, Some(county_head), vec![enrol])]).await;
    assert_refused(&d[0], "UNAUTHORISED", "the county enrolling 510600");
    assert_eq!(fed_heads(city).await, city_before, "the city applied nothing");
    assert!(!city.fed_status().await["children"].to_string().contains("510600"), "510600 is not enrolled anywhere");

    // Not a child of the receiver, and a log the sender may not deliver.
    let reply = county
        .send(county.request(reqwest::Method::POST, "/api/v1/fed/push").json(&serde_json::json!({
            "from": CITY, "entries": []
        })))
        .await;
    reply.expect_error(403, "NOT_A_CHILD");
    let own = forge(&county.key(), COUNTY, chain_head(&before, COUNTY), vec![next_item()]);
    let d = push(county, TOWNSHIP, &[own]).await;
    assert_refused(&d[0], "OUT_OF_SCOPE", "the township delivering the county's own log");

    assert_eq!(fed_heads(county).await, before, "the refused entries changed nothing at the county");
    let status = county.fed_status().await;
    let recorded: BTreeSet<&str> = status["recent_refusals"]
        .as_array()
        .expect("recent_refusals")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    for code in ["BAD_SIGNATURE", "SEQ_GAP", "UNAUTHORISED"] {
        assert!(recorded.contains(code), "the county records the {code} refusal as evidence: {status}");
    }
    assert!(status["quarantined"].as_array().is_some_and(Vec::is_empty), "no fork from any of this: {status}");

    // (f) The county revokes the township's key after its current entry; the township's next
    // entry, properly signed and in sequence, is refused.
    let out = county
        .cli(["child", "revoke", "--division", TOWNSHIP, "--after", &head.seq.to_string(), "--reason", "密钥泄露"])
        .await;
    assert!(out.status.success(), "quanze child revoke: {}", describe(&out));
    let status = county.fed_status().await;
    let child = status["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["division"] == TOWNSHIP)
        .cloned()
        .unwrap_or_else(|| panic!("the county lists its child: {status}"));
    assert_eq!(child["active"], false, "the township's key is revoked: {status}");
    let next = forge(&township_key, TOWNSHIP, Some(head), vec![next_item()]);
    let d = push(county, TOWNSHIP, &[next]).await;
    assert_refused(&d[0], "KEY_REVOKED", "the township's entry after the revocation");
    assert_eq!(fed_heads(county).await.get(TOWNSHIP), before.get(TOWNSHIP), "nothing of the township applied");
}

#[tokio::test]
async fn a_county_refuses_a_city_restored_from_an_old_backup() {
    let mut fed = Federation::start(3).await;
    let backup = fed.city().scratch("backup");
    fed.node_mut(CITY).stop().await;
    fed.city().backup_data_dir(&backup);
    fed.node_mut(CITY).restart().await;
    let old = fed_heads(fed.city()).await;
    let old_province = old.get(PROVINCE).expect("the city holds the province's log").0;

    // Two more entries of the province reach the county.
    let province = fed.province();
    province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await;
    let p = written_head(
        &province.add_item(&item("XK00072000", "药品批发企业许可", "四川省药品监督管理局")).await,
        PROVINCE,
    );
    assert_eq!(p.0, old_province + 2);
    wait_holds(fed.county(), PROVINCE, &p, "the province's two entries reach the county").await;
    let county_before = fed_heads(fed.county()).await;

    // The city comes back from the backup, with the same port, certificate and key. The province
    // is down, so the city cannot simply catch up again before the county looks.
    fed.node_mut(PROVINCE).stop().await;
    fed.node_mut(CITY).stop().await;
    fed.city().restore_data_dir(&backup);
    fed.node_mut(CITY).restart().await;
    assert_eq!(fed_heads(fed.city()).await, old, "the restored city serves the old history");

    let county = fed.county();
    let mut seen = county_before.clone();
    let rollback = eventually("the county refuses the rolled-back city", Duration::from_secs(30), async || {
        let heads = fed_heads(county).await;
        for (origin, (seq, _)) in &seen {
            let now = heads.get(origin).map_or(0, |h| h.0);
            assert!(now >= *seq, "the county's head of {origin} went back from #{seq} to #{now}");
        }
        seen = heads;
        let status = county.fed_status().await;
        match status["parent"]["rollback"].as_str() {
            Some(r) if r.contains(PROVINCE) => Ok(r.to_string()),
            _ => Err(status.to_string()),
        }
    })
    .await;
    assert!(rollback.contains(&format!("#{}", p.0)), "the rollback names what the county holds: {rollback}");
    assert_eq!(fed_heads(county).await, county_before, "the county kept every head");
    // And it stays refused: nothing of the shorter history is taken.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fed_heads(county).await, county_before, "the county kept every head");
    let status = county.fed_status().await;
    assert!(status["parent"]["rollback"].is_string(), "the rollback is still reported: {status}");
}

#[tokio::test]
async fn a_second_entry_at_a_held_seq_is_a_fork_and_quarantines_the_origin() {
    let fed = Federation::start(4).await;
    let (county, township) = (fed.county(), fed.township());
    let t1 =
        written_head(&township.add_item(&item("XK00073000", "农村村民宅基地审批", "福集镇人民政府")).await, TOWNSHIP);
    assert_eq!(t1.0, 1, "the township's first entry");
    wait_holds(county, TOWNSHIP, &t1, "the township's entry #1 reaches the county").await;
    let key = township.key();

    // Another entry #1, validly signed by the township's key.
    let other = forge(
        &key,
        TOWNSHIP,
        None,
        vec![Op::add(power_item(&item("XK00074000", "乡村建设规划许可", "福集镇人民政府")))],
    );
    let other_hash = other["hash"].as_str().expect("hash").to_string();
    let d = push(county, TOWNSHIP, &[other]).await;
    assert_eq!(d[0]["outcome"], "fork", "a second entry #1: {}", d[0]);
    assert_eq!(d[0]["origin"], TOWNSHIP);
    assert_eq!(d[0]["seq"], 1);

    let status = county.fed_status().await;
    let forks: Vec<&Value> =
        status["forks"].as_array().expect("forks").iter().filter(|f| f["origin"] == TOWNSHIP).collect();
    assert_eq!(forks.len(), 2, "both entries kept as evidence: {status}");
    assert!(forks.iter().all(|f| f["seq"] == 1 && f["resolved_by"].is_null()), "{status}");
    let hashes: BTreeSet<&str> = forks.iter().filter_map(|f| f["hash"].as_str()).collect();
    assert_eq!(hashes, BTreeSet::from([t1.1.as_str(), other_hash.as_str()]), "the two branches: {status}");
    let quarantined: Vec<&str> =
        status["quarantined"].as_array().expect("quarantined").iter().filter_map(Value::as_str).collect();
    assert_eq!(quarantined, [TOWNSHIP], "{status}");
    assert_eq!(fed_heads(county).await.get(TOWNSHIP), Some(&t1), "the branch already held stays");

    // A further, valid township entry is not applied.
    let heads = fed_heads(county).await;
    let next = forge(
        &key,
        TOWNSHIP,
        chain_head(&heads, TOWNSHIP),
        vec![Op::add(power_item(&item("XK00076000", "临时占用林地审批", "福集镇人民政府")))],
    );
    let d = push(county, TOWNSHIP, &[next]).await;
    assert_eq!(d[0]["outcome"], "quarantined", "the township's next entry: {}", d[0]);
    assert_eq!(d[0]["seq"], 2);

    // So is the township's own next write, pushed by the township itself: it sees the refusal.
    township.add_item(&item("XK00077000", "农村集体经营性建设用地审批", "福集镇人民政府")).await;
    let refusals = eventually("the township sees its push refused", TRAVEL, async || {
        let s = township.fed_status().await;
        let refusals = s["parent"]["push_refusals"].to_string();
        if refusals.contains("QUARANTINED") { Ok(refusals) } else { Err(s.to_string()) }
    })
    .await;
    assert!(refusals.contains(&format!("{TOWNSHIP}#2")), "{refusals}");
    assert_eq!(fed_heads(county).await.get(TOWNSHIP), Some(&t1), "nothing more of the township applied");
    assert_eq!(township.fed_status().await["outbox_depth"], 1, "the refused entry stays in the township's outbox");
}
