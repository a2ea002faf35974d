//! A parent restored from an older backup. The city's data directory is copied while it is
//! stopped; the federation goes on (the city writes entries of its own, the county pushes its
//! own, the province publishes); then the city is stopped and the old copy put back, with the
//! province down so it cannot simply catch up from above.
//!
//! The county detects the rollback (its parent serves a shorter history of logs it holds) and
//! refuses to follow it: its heads never go back, and `quanze status` shows the rollback. The
//! healing: the county returns the city's own lost entries (verified by the city with its own
//! key), pushes again its own entries the city had acknowledged, and once the province is back
//! the city catches up from above; then every node holds the same heads and the city's next
//! entry follows the returned ones.

use quanze_tests::codes;
use quanze_tests::federation::{
    CITY, COUNTY, Federation, Heads, PROVINCE, entry_head, eventually, fed_heads, item, wait_head,
};

use super::HEAL;

/// Asserts no head of `now` is behind `before`.
#[track_caller]
fn never_back(before: &Heads, now: &Heads, who: &str) {
    for (origin, (seq, _)) in before {
        let held = now.get(origin).map_or(0, |h| h.0);
        assert!(held >= *seq, "{who}: the head of {origin} went back from #{seq} to #{held}");
    }
}

#[tokio::test]
async fn a_parent_restored_from_an_old_backup_is_refused_then_gets_its_lost_entries_back() {
    let mut fed = Federation::start(3).await;
    let backup = fed.city().scratch("backup");
    fed.node_mut(CITY).stop().await;
    fed.city().backup_data_dir(&backup);
    fed.node_mut(CITY).restart().await;
    let restored_heads = fed_heads(fed.city()).await;

    // The federation goes on after the backup.
    let (province, city, county) = (fed.province(), fed.city(), fed.county());
    city.add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await;
    let c = entry_head(&city.add_item(&item("XK00092000", "城市建筑垃圾处置核准", "泸州市城市管理局")).await, CITY);
    county.add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await;
    let k = entry_head(&county.add_item(&item("XK00036000", "小餐饮经营许可", "泸县市场监督管理局")).await, COUNTY);
    let p =
        entry_head(&province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await, PROVINCE);
    wait_head(county, CITY, &c, HEAL, "the city's entries reach the county").await;
    wait_head(county, PROVINCE, &p, HEAL, "the province's entry reaches the county").await;
    wait_head(city, COUNTY, &k, HEAL, "the county's entries reach the city").await;
    eventually("the city acknowledges the county's entries", HEAL, async || {
        let s = county.fed_status().await;
        if s["outbox_depth"] == 0 { Ok(()) } else { Err(s.to_string()) }
    })
    .await;
    let county_before = fed_heads(county).await;

    // The city is put back to the backup while the province is down.
    fed.node_mut(PROVINCE).stop().await;
    fed.node_mut(CITY).stop().await;
    fed.city().restore_data_dir(&backup);
    fed.node_mut(CITY).restart().await;
    let restored = fed_heads(fed.city()).await;
    assert_eq!(restored, restored_heads, "the city serves the old history");
    assert!(restored.get(CITY).is_some_and(|h| h.0 < c.0), "the city lost entries of its own log");

    // The county refuses to follow: the rollback is reported, its heads never go back.
    let county = fed.county();
    let mut seen = county_before.clone();
    eventually("the county reports the rolled-back city", HEAL, async || {
        let heads = fed_heads(county).await;
        never_back(&seen, &heads, "the county");
        seen = heads;
        let s = county.fed_status().await;
        match s["parent"]["rollback"].as_str() {
            Some(r) if r.contains(PROVINCE) => Ok(()),
            _ => Err(s.to_string()),
        }
    })
    .await;
    let text = county.status_text().await;
    assert!(text.contains("⚠ 上级回滚 / parent rollback") && text.contains(PROVINCE), "quanze status: {text}");

    // Healing, part one (province still down): the county returns the city's own lost entries
    // and pushes again its own entries the city had acknowledged.
    let city = fed.city();
    wait_head(city, CITY, &c, HEAL, "the county returns the city's lost entries").await;
    wait_head(city, COUNTY, &k, HEAL, "the county pushes its acknowledged entries again").await;
    let listed = codes(&city.items().await);
    for code in ["XK00091000", "XK00092000"] {
        assert!(listed.iter().any(|l| l == code), "{code} is back on the city's list: {listed:?}");
    }
    city.assert_consistent("the city after its own entries came back").await;
    never_back(&county_before, &fed_heads(county).await, "the county");

    // Part two: the province is back; the city catches up from above, the rollback clears.
    fed.node_mut(PROVINCE).restart().await;
    fed.wait_converged(HEAL).await;
    let county = fed.county();
    eventually("the county no longer reports a rollback", HEAL, async || {
        let s = county.fed_status().await;
        if s["parent"]["rollback"].is_null() { Ok(()) } else { Err(s.to_string()) }
    })
    .await;

    // The city's next entry follows the returned ones and reaches everyone.
    let next =
        entry_head(&fed.city().add_item(&item("XK00093000", "户外广告设施设置审批", "泸州市城市管理局")).await, CITY);
    assert_eq!(next.0, c.0 + 1, "the city continues after its returned entries");
    fed.wait_converged(HEAL).await;
    for n in &fed.nodes {
        assert_eq!(fed_heads(n).await.get(CITY), Some(&next), "{} holds the city's next entry", n.division);
        n.assert_consistent("after healing").await;
        let status = n.fed_status().await;
        assert!(status["quarantined"].as_array().is_some_and(Vec::is_empty), "no fork: {status}");
    }
}

/// A city restored with `quanze restore` while the only copy of its newest entries is at its
/// county (the province was down when it wrote them). After catching up with the province it
/// still refuses writes — signing now would reuse a seq the county holds — and says which child
/// it waits for; a forged confirmation is refused. Once the county is back, it returns the
/// city's entries and confirms; the city's next entry follows them, with no fork anywhere.
#[tokio::test]
async fn a_restored_parent_holds_its_writes_until_its_children_confirm() {
    let mut fed = Federation::start(3).await;
    let city = fed.city();
    city.add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await;
    let archive = city.scratch("city.qzbackup");
    let out = city.cli(["backup", "--to", archive.to_str().unwrap()]).await;
    assert!(out.status.success(), "quanze backup: {}", quanze_tests::describe(&out));
    let backed_up = fed_heads(city).await.get(CITY).cloned().expect("the city's own head");

    // With the province down, the city's next entries reach only the county.
    fed.node_mut(PROVINCE).stop().await;
    let city = fed.city();
    city.add_item(&item("XK00092000", "城市建筑垃圾处置核准", "泸州市城市管理局")).await;
    let c = entry_head(&city.add_item(&item("XK00093000", "户外广告设施设置审批", "泸州市城市管理局")).await, CITY);
    wait_head(fed.county(), CITY, &c, HEAL, "the city's entries reach the county").await;

    // The city loses its disk and is restored; the county is down, the province back up.
    fed.node_mut(COUNTY).stop().await;
    let city = fed.node_mut(CITY);
    city.stop().await;
    std::fs::remove_dir_all(&city.data_dir).unwrap();
    let out = quanze_tests::quanze([
        "restore",
        "--from",
        archive.to_str().unwrap(),
        "--data-dir",
        city.data_dir.to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success(), "quanze restore: {}", quanze_tests::describe(&out));
    fed.node_mut(PROVINCE).restart().await;
    fed.node_mut(CITY).restart().await;

    let city = fed.city();
    eventually("the restored city caught up with the province and waits for the county", HEAL, async || {
        let s = city.fed_status().await;
        if s["own_log_unconfirmed"] == false && s["awaiting_children"] == serde_json::json!([COUNTY]) {
            Ok(())
        } else {
            Err(s.to_string())
        }
    })
    .await;
    assert_eq!(fed_heads(city).await.get(CITY), Some(&backed_up), "the province had none of the newer entries");
    let refused =
        city.post_json("/api/v1/items", &item("XK00094000", "临时占用城市道路审批", "泸州市城市管理局")).await;
    let body = refused.expect_error(503, "OWN_LOG_UNCONFIRMED");
    assert!(body["message"].as_str().is_some_and(|m| m.contains(COUNTY)), "names the awaited child: {body}");
    let text = city.status_text().await;
    assert!(text.contains("等待下级确认") && text.contains(COUNTY), "quanze status: {text}");
    // Anyone can post to the confirmation route: a statement not signed by the county's key counts for nothing.
    let forged = serde_json::json!({
        "node": COUNTY, "at": chrono::Utc::now().to_rfc3339(), "heads": [], "sig": "0".repeat(128),
    });
    city.post_json("/api/v1/fed/confirm", &forged).await.expect_error(403, "NODE_SIGNATURE_INVALID");
    assert_eq!(city.fed_status().await["awaiting_children"], serde_json::json!([COUNTY]));

    // The county comes back: it returns the city's entries, then confirms; writes resume.
    fed.node_mut(COUNTY).restart().await;
    let city = fed.city();
    wait_head(city, CITY, &c, HEAL, "the county returns the city's lost entries").await;
    let written = eventually("the restored city accepts writes again", HEAL, async || {
        let reply =
            city.post_json("/api/v1/items", &item("XK00094000", "临时占用城市道路审批", "泸州市城市管理局")).await;
        if reply.status == 201 { Ok(reply.json()) } else { Err(reply.json().to_string()) }
    })
    .await;
    assert_eq!(entry_head(&written, CITY).0, c.0 + 1, "the city's next entry follows the returned ones");
    assert_eq!(city.fed_status().await["awaiting_children"], serde_json::json!([]));
    fed.wait_converged(HEAL).await;
    for n in &fed.nodes {
        n.assert_consistent("after the restored city resumed").await;
        let status = n.fed_status().await;
        assert!(status["quarantined"].as_array().is_some_and(Vec::is_empty), "no fork at {}: {status}", n.division);
    }
}
