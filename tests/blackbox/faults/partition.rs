//! A city cut off from the province by a fault-injecting TCP proxy (the city's parent address
//! points at the proxy; TLS passes through it untouched) for ten simulated days, while the
//! province, the city and its county keep writing. During the outage `quanze status` on the
//! city shows the unreachable parent and its retries; after healing every node holds the same
//! heads of every log and nothing written on either side is lost.

use quanze_tests::federation::{
    CITY, COUNTY, Federation, PROVINCE, entry_head, eventually, fed_heads, item, wait_head,
};
use quanze_tests::proxy::{FaultProxy, Mode};

use super::HEAL;

/// A day `days` after today, for `--now`.
fn days_later(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days)).date_naive().to_string()
}

#[tokio::test]
async fn a_city_cut_off_for_days_converges_after_healing_and_loses_nothing() {
    let mut fed = Federation::start(3).await;
    let proxy = FaultProxy::start(fed.province().socket_addr()).await;
    fed.node_mut(CITY).stop().await;
    fed.city().set_parent_url(&proxy.url());
    fed.node_mut(CITY).restart().await;

    // Through the proxy, entries still travel both ways.
    let p0 = entry_head(
        &fed.province().add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await,
        PROVINCE,
    );
    wait_head(fed.county(), PROVINCE, &p0, HEAL, "the province's entry reaches the county through the proxy").await;
    assert!(proxy.accepted() > 0, "the city talks to the province through the proxy");

    // The cut: every connection is refused.
    proxy.set(Mode::Reset);
    let mut written = Vec::new();
    written.push((
        PROVINCE,
        entry_head(
            &fed.province().add_item(&item("XK00072000", "药品批发企业许可", "四川省药品监督管理局")).await,
            PROVINCE,
        ),
    ));
    written.push((
        CITY,
        entry_head(&fed.city().add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await, CITY),
    ));
    written.push((
        COUNTY,
        entry_head(&fed.county().add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await, COUNTY),
    ));
    let city = fed.city();
    let status = eventually("the city reports its parent unreachable", HEAL, async || {
        let s = city.fed_status().await;
        let error = s["parent"]["last_error"].as_str().unwrap_or_default().to_string();
        if error.contains("parent unreachable") { Ok(s) } else { Err(s.to_string()) }
    })
    .await;
    assert_eq!(status["parent"]["url"], proxy.url(), "{status}");
    let text = city.status_text().await;
    assert!(text.contains("上级不可达，自动重试中 / parent unreachable, retrying"), "quanze status: {text}");
    assert!(text.contains("最近错误 / last error"), "quanze status: {text}");

    // Ten days pass on every clock; both sides keep writing, the link still down, then a black
    // hole (connections accepted, never answered).
    let later = days_later(10);
    for division in [PROVINCE, CITY, COUNTY] {
        fed.node_mut(division).set_clock(&later).await;
    }
    proxy.set(Mode::BlackHole);
    written.push((
        PROVINCE,
        entry_head(
            &fed.province().add_item(&item("XK00073000", "医疗机构执业登记", "四川省卫生健康委员会")).await,
            PROVINCE,
        ),
    ));
    written.push((
        CITY,
        entry_head(&fed.city().add_item(&item("XK00092000", "城市建筑垃圾处置核准", "泸州市城市管理局")).await, CITY),
    ));
    written.push((
        COUNTY,
        entry_head(&fed.county().add_item(&item("XK00036000", "小餐饮经营许可", "泸县市场监督管理局")).await, COUNTY),
    ));
    let county = fed.county();
    // The county still reaches the city: the city's entries arrive, the province's do not.
    wait_head(county, CITY, &written[4].1, HEAL, "the city's entry reaches the county during the outage").await;
    assert!(
        fed_heads(county).await.get(PROVINCE).is_some_and(|h| h.0 < written[3].1.0),
        "nothing of the province reaches the county across the cut"
    );
    assert!(
        fed_heads(fed.province()).await.get(CITY).is_none_or(|h| h.0 < written[4].1.0),
        "nothing of the city reaches the province across the cut"
    );

    // Healed: everything converges and every entry written on either side is held everywhere.
    proxy.set(Mode::PASS);
    fed.wait_converged(HEAL).await;
    for n in &fed.nodes {
        let heads = fed_heads(n).await;
        for (origin, head) in &written {
            let held = heads.get(*origin).unwrap_or_else(|| panic!("{} holds {origin}", n.division));
            assert!(held.0 >= head.0, "{} holds {origin} up to #{} (written #{})", n.division, held.0, head.0);
        }
        n.assert_consistent("after healing").await;
    }
    let city = fed.city();
    eventually("the city's status shows the link back", HEAL, async || {
        let text = city.status_text().await;
        if text.contains("上级不可达") { Err(text) } else { Ok(()) }
    })
    .await;
    assert_eq!(city.fed_status().await["outbox_depth"], 0, "the city's outbox drained");
}
