//! Clock skew: the city's clock runs three days ahead of the province's and the county's two
//! days behind the real time (five behind its parent). Entries are accepted whatever their
//! `at` (the rule and its reasons: `federation::sync::CLOCK_SKEW_TOLERANCE` in the node), so
//! everything keeps syncing both ways and converges; each child shows its parent's clock offset,
//! with a warning beyond the tolerance, in `quanze status`.

use quanze_tests::TestNode;
use quanze_tests::federation::{CITY, COUNTY, Federation, PROVINCE, entry_head, eventually, fed_heads, item};

use super::HEAL;

const DAY: i64 = 24 * 3600;

/// An RFC 3339 instant `days` from now.
fn shifted(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days)).to_rfc3339()
}

/// Waits until `node` reports its parent's clock offset, and returns it (seconds).
async fn parent_offset(node: &TestNode) -> i64 {
    eventually("the parent's clock offset is reported", HEAL, async || {
        let s = node.fed_status().await;
        s["parent"]["parent_clock_offset_secs"].as_i64().ok_or_else(|| s.to_string())
    })
    .await
}

/// The `at` of the entry `origin#seq` as `node` holds it.
async fn entry_at(node: &TestNode, origin: &str, seq: u64) -> chrono::DateTime<chrono::FixedOffset> {
    let page = node.get(&format!("/api/v1/log?origin={origin}&after={}&limit=1", seq - 1)).await.expect(200);
    let entry = &page["entries"][0];
    let at = entry["decoded"]["at"].as_str().or_else(|| entry["at"].as_str());
    let at = at.unwrap_or_else(|| panic!("the entry has an `at`: {entry}"));
    chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("`at` is RFC 3339 ({e}): {at}"))
}

#[tokio::test]
async fn nodes_whose_clocks_differ_by_days_keep_syncing_and_show_the_offset() {
    let mut fed = Federation::start(3).await;
    fed.node_mut(CITY).set_clock(&shifted(3)).await;
    fed.node_mut(COUNTY).set_clock(&shifted(-2)).await;
    let (province, city, county) = (fed.province(), fed.city(), fed.county());

    let p =
        entry_head(&province.add_item(&item("XK00071000", "药品零售企业许可", "四川省药品监督管理局")).await, PROVINCE);
    let c = entry_head(&city.add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await, CITY);
    let k = entry_head(&county.add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await, COUNTY);
    fed.wait_converged(HEAL).await;
    for n in &fed.nodes {
        let heads = fed_heads(n).await;
        for (origin, head) in [(PROVINCE, &p), (CITY, &c), (COUNTY, &k)] {
            assert_eq!(heads.get(origin), Some(head), "{} holds {origin}'s entry", n.division);
        }
    }

    // Entries keep the signer's time: the province holds the city's entry three days "ahead"
    // and the county's two days "behind".
    let now = chrono::Utc::now();
    let city_at = entry_at(fed.province(), CITY, c.0).await;
    let county_at = entry_at(fed.province(), COUNTY, k.0).await;
    assert!((city_at.to_utc() - now).num_hours() >= 70, "the city's entry is stamped by its clock: {city_at}");
    assert!((now - county_at.to_utc()).num_hours() >= 46, "the county's entry is stamped by its clock: {county_at}");

    // Each child sees its parent's offset; both are beyond the tolerance and warned about.
    let (city, county) = (fed.city(), fed.county());
    let city_offset = parent_offset(city).await;
    assert!((city_offset + 3 * DAY).abs() < 600, "the province is 3 days behind the city: {city_offset} s");
    let county_offset = parent_offset(county).await;
    assert!((county_offset - 5 * DAY).abs() < 600, "the city is 5 days ahead of the county: {county_offset} s");
    for n in [city, county] {
        assert_eq!(n.fed_status().await["parent"]["clock_skew"], true, "{} warns about the skew", n.division);
        let text = n.status_text().await;
        assert!(text.contains("上级时钟偏差 / parent clock offset"), "quanze status: {text}");
        assert!(text.contains("时钟偏差过大"), "quanze status warns: {text}");
    }
    for n in &fed.nodes {
        n.assert_consistent("with skewed clocks").await;
    }
}
