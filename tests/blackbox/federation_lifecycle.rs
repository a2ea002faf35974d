//! A node's life in the federation, with real processes (四川省 510000 → 泸州市 510500 → 泸县
//! 510521):
//!
//! * Key rotation (`quanze key rotate`): the node announces its next key in its own log, signs
//!   with it from the next seq; what it signed before stays valid everywhere, the old key signs
//!   nothing new, and the new key survives a restart.
//! * Disk loss (`quanze recover --join-again`): the parent re-enrols the division with a new key
//!   after the last entry it holds; the new node gets its own log back from the parent and
//!   continues at the next seq. The lost key signs nothing new.
//! * Invites: one use; a damaged or expired invite is refused before anything is written; a
//!   recovery invite is refused by `init --join` (and a first-time one by `recover`) without
//!   being used up; invites only for direct children.

use std::time::Duration;

use quanze_domain::Op;
use quanze_ledger::NodeKey;
use quanze_tests::federation::{
    CITY, COUNTY, Enrol, Federation, NewNode, assert_refused, chain_head, edit_invite, entry_head, fed_heads, forge,
    item, power_item, push, wait_head,
};
use quanze_tests::{TestNode, codes, describe};
use serde_json::{Value, json};

/// How long an entry may take to cross the federation (each way).
const TRAVEL: Duration = Duration::from_secs(15);

/// The entry `origin#seq` as `node` holds it (`GET /api/v1/log?origin=…`).
async fn held_entry(node: &TestNode, origin: &str, seq: u64) -> Value {
    let page = node.get(&format!("/api/v1/log?origin={origin}&after={}&limit=1", seq - 1)).await.expect(200);
    let entry = page["entries"][0].clone();
    assert_eq!(entry["seq"], seq, "{} holds {origin}#{seq}: {page}", node.division);
    entry
}

/// The enrolment of a `node.enroll` entry (as `GET /api/v1/log` decodes it).
#[track_caller]
fn enrolment_of(entry: &Value) -> Value {
    let op = &entry["decoded"]["op"];
    assert_eq!(op.as_array().map(Vec::len), Some(1), "one op: {entry}");
    assert_eq!(op[0]["type"], "node.enroll", "an enrolment: {entry}");
    op[0]["enrolment"].clone()
}

/// The node's current public key (`GET /api/v1/node`).
async fn public_key(node: &TestNode) -> String {
    node.info().await["public_key"].as_str().expect("public_key").to_string()
}

/// Standard error of a command, for matching messages.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An `item.add` of a new item of `implementing_body`'s list.
fn add_op(code: &str, name: &str, implementing_body: &str) -> Op {
    Op::add(power_item(&item(code, name, implementing_body)))
}

#[tokio::test]
async fn a_rotated_key_signs_from_the_next_seq_and_survives_a_restart() {
    let mut fed = Federation::start(3).await;
    let (province, city, county) = (fed.province(), fed.city(), fed.county());
    let old_key = city.key();
    let old_public = public_key(city).await;
    assert_eq!(old_key.public().to_hex(), old_public, "node.key is the key the city signs with");

    city.add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await;
    let before =
        entry_head(&city.add_item(&item("XK00092000", "城市建筑垃圾处置核准", "泸州市城市管理局")).await, CITY);

    let out = city.cli(["key", "rotate"]).await;
    assert!(out.status.success(), "quanze key rotate: {}", describe(&out));
    let new_public = public_key(city).await;
    assert_ne!(new_public, old_public, "the city has a new key");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&new_public),
        "key rotate prints the new key: {}",
        describe(&out)
    );
    assert_eq!(city.key().public().to_hex(), new_public, "node.key holds the new key");
    assert!(!city.data_dir.join("node.key.next").exists(), "no staged key is left behind");
    assert_eq!(city.fed_status().await["public_key"], new_public.as_str());

    // The rotation is the city's next entry: an enrolment of itself, valid from the seq after.
    let rotation = held_entry(city, CITY, before.0 + 1).await;
    let enrolment = enrolment_of(&rotation);
    assert_eq!(enrolment["division"], CITY, "{rotation}");
    assert_eq!(enrolment["key"], new_public.as_str(), "{rotation}");
    assert_eq!(enrolment["valid_from"], before.0 + 2, "{rotation}");

    city.add_item(&item("XK00093000", "户外广告设施设置审批", "泸州市城市管理局")).await;
    let after = entry_head(&city.add_item(&item("XK00094000", "城市道路占用挖掘许可", "泸州市城市管理局")).await, CITY);
    assert_eq!(after.0, before.0 + 3, "two entries after the rotation entry");

    // Both sides take the whole log, entries under the old key and under the new one.
    wait_head(province, CITY, &after, TRAVEL, "the city's entries after the rotation reach the province").await;
    wait_head(county, CITY, &after, TRAVEL, "the city's entries after the rotation reach the county").await;
    for n in &fed.nodes {
        let report = n.assert_verifies().await;
        let head = report["heads"].as_array().expect("heads").iter().find(|h| h["origin"] == CITY).cloned();
        assert_eq!(head.map(|h| h["seq"].clone()), Some(json!(after.0)), "{} verified the city's log", n.division);
    }
    for n in [province, county] {
        let held = held_entry(n, CITY, before.0 + 1).await;
        assert_eq!(held["hash"], rotation["hash"], "{} holds the rotation entry", n.division);
    }

    // The old key signs nothing new: an entry after the head signed with it is refused.
    let heads = fed_heads(province).await;
    let stale = forge(
        &old_key,
        CITY,
        chain_head(&heads, CITY),
        vec![add_op("XK00095000", "城市绿地占用审批", "泸州市城市管理局")],
    );
    let d = push(province, CITY, &[stale]).await;
    assert_refused(&d[0], "BAD_SIGNATURE", "the city's next entry signed with its old key");
    assert_eq!(fed_heads(province).await, heads, "the province applied nothing");

    // The rotated key was persisted: after a restart the city signs with it, and it is accepted.
    fed.node_mut(CITY).stop().await;
    fed.node_mut(CITY).restart().await;
    let (province, city, county) = (fed.province(), fed.city(), fed.county());
    assert_eq!(public_key(city).await, new_public, "the city signs with the rotated key after a restart");
    let again = entry_head(&city.add_item(&item("XK00096000", "市政设施建设类审批", "泸州市城市管理局")).await, CITY);
    assert_eq!(again.0, after.0 + 1);
    wait_head(province, CITY, &again, TRAVEL, "the city's entry after its restart reaches the province").await;
    wait_head(county, CITY, &again, TRAVEL, "the city's entry after its restart reaches the county").await;
    for n in &fed.nodes {
        n.assert_verifies().await;
    }
    for n in [province, county] {
        let status = n.fed_status().await;
        assert!(status["quarantined"].as_array().is_some_and(Vec::is_empty), "{}: {status}", n.division);
    }
}

#[tokio::test]
async fn a_child_that_was_down_while_its_parent_rotated_its_key_catches_up() {
    let mut fed = Federation::start(3).await;
    fed.node_mut(COUNTY).stop().await;
    let (province, city) = (fed.province(), fed.city());
    let old_public = public_key(city).await;
    let out = city.cli(["key", "rotate"]).await;
    assert!(out.status.success(), "quanze key rotate: {}", describe(&out));
    assert_ne!(public_key(city).await, old_public, "the city has a new key");
    let head = entry_head(&city.add_item(&item("XK00091000", "燃气经营许可", "泸州市住房和城乡建设局")).await, CITY);
    wait_head(province, CITY, &head, TRAVEL, "the city's entry after the rotation reaches the province").await;

    // The county comes back knowing only the city's old key: it must still take the entry that
    // announces the new one, and the city's entries signed with it.
    fed.node_mut(COUNTY).restart().await;
    let (city, county) = (fed.city(), fed.county());
    wait_head(county, CITY, &head, TRAVEL, "the city's rotation and next entry reach the county").await;
    let written = entry_head(&county.add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await, COUNTY);
    wait_head(city, COUNTY, &written, TRAVEL, "the county's entry reaches the city after the rotation").await;
    for n in &fed.nodes {
        n.assert_verifies().await;
    }
}

#[tokio::test]
async fn a_county_that_lost_its_disk_gets_its_log_back_and_continues_with_a_new_key() {
    let mut fed = Federation::start(3).await;
    let (city, county) = (fed.city(), fed.county());
    let written = [("XK00035000", "食品经营许可"), ("XK00036000", "小餐饮经营许可"), ("XK00037000", "食品小作坊登记")];
    let mut last = None;
    for (code, name) in written {
        last = Some(entry_head(&county.add_item(&item(code, name, "泸县市场监督管理局")).await, COUNTY));
    }
    let lost = last.expect("three writes");
    wait_head(city, COUNTY, &lost, TRAVEL, "the county's three entries reach the city").await;
    let old_key = NodeKey::from_seed_hex(&std::fs::read_to_string(county.data_dir.join("node.key")).expect("node.key"))
        .expect("node.key holds a hex seed");
    let old_public = public_key(county).await;

    // The disk is gone.
    fed.node_mut(COUNTY).stop().await;
    std::fs::remove_dir_all(&fed.county().data_dir).expect("cannot delete the county's data directory");

    let city = fed.city();
    let city_seq = city.head_seq().await;
    let invite = city.invite(COUNTY, "county", "泸县").await;
    let fresh = NewNode::new(COUNTY);
    let out = fresh.enrol(Enrol::Recover, &invite).await;
    assert!(out.status.success(), "quanze recover --join-again: {}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("restored {} entries", lost.0)),
        "recover reports what it restored: {}",
        describe(&out)
    );

    // The city re-enrolled the county with the new key, after the last entry it holds of it.
    assert_eq!(city.head_seq().await, city_seq + 1, "one enrolment entry at the city");
    let reenrol = held_entry(city, CITY, city_seq + 1).await;
    let enrolment = enrolment_of(&reenrol);
    assert_eq!(enrolment["division"], COUNTY, "{reenrol}");
    assert_eq!(enrolment["valid_from"], lost.0 + 1, "{reenrol}");
    assert_ne!(enrolment["key"], old_public.as_str(), "a new key: {reenrol}");

    let recovered = fresh.serve().await;
    assert_eq!(enrolment["key"], public_key(&recovered).await.as_str(), "the recovered node signs with the new key");
    // Its own log (and its ancestors') is back, as the city holds it, with the list.
    assert_eq!(fed_heads(&recovered).await, fed_heads(city).await, "the recovered county holds what the city holds");
    let listed = codes(&recovered.items().await);
    for (code, _) in written {
        assert!(listed.iter().any(|c| c == code), "{code} is back on the county's list: {listed:?}");
    }
    recovered.assert_verifies().await;

    // The lost key signs nothing new: the next entry signed with it is refused.
    let heads = fed_heads(city).await;
    let stale = forge(
        &old_key,
        COUNTY,
        chain_head(&heads, COUNTY),
        vec![add_op("XK00038000", "食品生产许可", "泸县市场监督管理局")],
    );
    let d = push(city, COUNTY, std::slice::from_ref(&stale)).await;
    assert_refused(&d[0], "BAD_SIGNATURE", "the county's next entry signed with the lost key");
    assert_eq!(fed_heads(city).await, heads, "the city applied nothing");

    // The recovered county continues at the next seq; it reaches the city and the province.
    let next =
        entry_head(&recovered.add_item(&item("XK00039000", "药品零售企业许可", "泸县市场监督管理局")).await, COUNTY);
    assert_eq!(next.0, lost.0 + 1, "the recovered county continues after its last entry");
    let (province, city) = (fed.province(), fed.city());
    wait_head(city, COUNTY, &next, TRAVEL, "the recovered county's entry reaches the city").await;
    wait_head(province, COUNTY, &next, TRAVEL, "the recovered county's entry reaches the province").await;

    // The lost key's entry at that seq, now held with another entry: still not a fork.
    let d = push(city, COUNTY, &[stale]).await;
    assert_refused(&d[0], "BAD_SIGNATURE", "the lost key's entry at a seq the city holds");
    assert_eq!(fed_heads(city).await.get(COUNTY), Some(&next), "the city keeps the recovered county's entry");
    let status = city.fed_status().await;
    assert!(status["quarantined"].as_array().is_some_and(Vec::is_empty), "no fork, nothing quarantined: {status}");

    fed.nodes[2] = recovered;
    fed.wait_converged(TRAVEL).await;
    for n in &fed.nodes {
        n.assert_verifies().await;
    }
}

#[tokio::test]
async fn invites_are_single_use_checked_and_only_for_direct_children() {
    let fed = Federation::start(2).await;
    let city = fed.city();

    // Only direct children: not another city, a grandchild, an ancestor or itself.
    for (division, tier, name) in [
        ("510600", "city", "德阳市"),
        ("510521100", "township", "福集镇"),
        ("510000", "province", "四川省"),
        ("510500", "city", "泸州市"),
    ] {
        let body = json!({ "division": division, "tier": tier, "name": name });
        city.post_json("/api/v1/fed/invites", &body).await.expect_error(422, "BAD_INVITE");
    }
    for ttl in [0, 721] {
        let body = json!({ "division": COUNTY, "tier": "county", "name": "泸县", "ttl_hours": ttl });
        city.post_json("/api/v1/fed/invites", &body).await.expect_error(422, "BAD_INVITE");
    }
    let out = city.cli(["child", "invite", "--division", "510600", "--tier", "city", "--name", "德阳市"]).await;
    assert!(!out.status.success(), "child invite for 510600: {}", describe(&out));
    assert!(stderr(&out).contains("BAD_INVITE"), "{}", describe(&out));

    // One use: the second `init --join` with the same invite is refused and writes nothing.
    let invite = city.invite(COUNTY, "county", "泸县").await;
    let first = NewNode::new(COUNTY);
    let out = first.enrol(Enrol::Join, &invite).await;
    assert!(out.status.success(), "init --join: {}", describe(&out));
    let mut county = first.serve().await;
    let city_seq = city.head_seq().await;
    let second = NewNode::new(COUNTY);
    let out = second.enrol(Enrol::Join, &invite).await;
    assert!(!out.status.success(), "the invite used twice: {}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("INVITE_INVALID") || err.contains("邀请码无效"), "{}", describe(&out));
    assert_eq!(second.files(), Vec::<std::path::PathBuf>::new(), "nothing written for the refused join");
    assert_eq!(city.head_seq().await, city_seq, "the city wrote nothing for the refused join");

    // A damaged or expired invite is refused before the parent is asked or anything is written.
    let other = city.invite("510502", "county", "江阳区").await;
    let jiangyang = NewNode::new("510502");
    for (bad, what, says) in [
        (other[..other.len() - 7].to_string(), "a truncated invite", "邀请码"),
        (other[..other.len() / 2].to_string(), "half an invite", "邀请码"),
        (edit_invite(&other, |v| v["expires_at"] = json!("2020-01-01T00:00:00.000Z")), "an expired invite", "过期"),
    ] {
        let out = jiangyang.enrol(Enrol::Join, &bad).await;
        assert!(!out.status.success(), "{what}: {}", describe(&out));
        let err = stderr(&out);
        assert!(err.contains(says) && err.contains("invite"), "{what} is named: {}", describe(&out));
        assert_eq!(jiangyang.files(), Vec::<std::path::PathBuf>::new(), "{what}: nothing written");
    }
    assert_eq!(city.head_seq().await, city_seq, "the city was not asked");

    // `recover` for a division never enrolled: refused, and the invite stays usable.
    let out = jiangyang.enrol(Enrol::Recover, &other).await;
    assert!(!out.status.success(), "recover for a division never enrolled: {}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("ENROLL_MISMATCH") && err.contains("init --join"), "{}", describe(&out));
    assert_eq!(jiangyang.files(), Vec::<std::path::PathBuf>::new(), "nothing written for the refused recover");
    assert_eq!(city.head_seq().await, city_seq, "the city wrote nothing for the refused recover");
    let out = jiangyang.enrol(Enrol::Join, &other).await;
    assert!(out.status.success(), "the same invite with init --join: {}", describe(&out));
    assert_eq!(city.head_seq().await, city_seq + 1, "the city enrolled 510502");

    // A recovery invite: `init --join` is refused and points to `recover`; the same invite then
    // works with `recover --join-again`.
    let c1 = entry_head(&county.add_item(&item("XK00035000", "食品经营许可", "泸县市场监督管理局")).await, COUNTY);
    wait_head(city, COUNTY, &c1, TRAVEL, "the county's entry reaches the city").await;
    county.stop().await;
    let city_seq = city.head_seq().await;
    let again = city.invite(COUNTY, "county", "泸县").await;
    let fresh = NewNode::new(COUNTY);
    let out = fresh.enrol(Enrol::Join, &again).await;
    assert!(!out.status.success(), "init --join for a division enrolled before: {}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("ENROLL_MISMATCH") && err.contains("recover"), "{}", describe(&out));
    assert_eq!(fresh.files(), Vec::<std::path::PathBuf>::new(), "nothing written for the refused join");
    assert_eq!(city.head_seq().await, city_seq, "the city wrote nothing for the refused join");
    let out = fresh.enrol(Enrol::Recover, &again).await;
    assert!(out.status.success(), "recover --join-again with the same invite: {}", describe(&out));
    let recovered = fresh.serve().await;
    assert_eq!(fed_heads(&recovered).await.get(COUNTY), Some(&c1), "the county's log is back");
    let c2 = entry_head(&recovered.add_item(&item("XK00036000", "小餐饮经营许可", "泸县市场监督管理局")).await, COUNTY);
    assert_eq!(c2.0, c1.0 + 1);
    wait_head(city, COUNTY, &c2, TRAVEL, "the recovered county's entry reaches the city").await;
}
