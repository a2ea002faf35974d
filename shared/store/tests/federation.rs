//! Conformance tests of the store's federation layer: delivery of entries from peers
//! (`Store::ingest`) against the key history, run on every backend like `conformance.rs`
//! (`sqlite_<name>` on a temporary file, `postgres_<name>` on a fresh database of
//! `QUANZE_TEST_DATABASE_URL`).
//!
//! The federation is 四川省 510000 (the trust root) → 泸州市 510500 → 泸县 510521 → 福集镇
//! 510521100, each enrolled in its parent's log. Covers: a four-tier chain applied once and then
//! duplicate; entries parked until their enrolment arrives; authority; key rotation; revocation;
//! forks, quarantine and their resolution; bad bytes, gaps and wrong links. Every refusal must
//! leave the snapshot unchanged while the other entries of its batch apply, and a rebuild with no
//! fallback key must reproduce the incremental state.

mod common;

use common::data::*;
use common::on_each_backend;
use quanze_domain::{DivisionCode, Enrolment, Op};
use quanze_ledger::{ChainHead, NodeKey, PublicKey, UnverifiedEntry, VerifiedEntry};
use quanze_store::{Delivery, EnrolmentRow, KeyLookup, Store};

on_each_backend! {
    four_tier_chain_applies_once
        => sqlite_four_tier_chain_applies_once, postgres_four_tier_chain_applies_once;
    entries_wait_for_their_enrolment
        => sqlite_entries_wait_for_their_enrolment, postgres_entries_wait_for_their_enrolment;
    unauthorised_entries_change_nothing
        => sqlite_unauthorised_entries_change_nothing, postgres_unauthorised_entries_change_nothing;
    key_rotation_switches_keys_at_valid_from
        => sqlite_key_rotation_switches_keys_at_valid_from, postgres_key_rotation_switches_keys_at_valid_from;
    revoked_key_signs_nothing_more
        => sqlite_revoked_key_signs_nothing_more, postgres_revoked_key_signs_nothing_more;
    fork_quarantines_until_resolved
        => sqlite_fork_quarantines_until_resolved, postgres_fork_quarantines_until_resolved;
    bad_bytes_gaps_and_wrong_links_are_refused
        => sqlite_bad_bytes_gaps_and_wrong_links_are_refused, postgres_bad_bytes_gaps_and_wrong_links_are_refused;
    parked_origin_parks_its_later_entries
        => sqlite_parked_origin_parks_its_later_entries, postgres_parked_origin_parks_its_later_entries;
    entry_after_a_missing_rotation_is_a_gap
        => sqlite_entry_after_a_missing_rotation_is_a_gap, postgres_entry_after_a_missing_rotation_is_a_gap;
    rebuild_keeps_a_later_fork_quarantined
        => sqlite_rebuild_keeps_a_later_fork_quarantined, postgres_rebuild_keeps_a_later_fork_quarantined;
    late_revocation_keeps_rebuild_equal_to_incremental
        => sqlite_late_revocation_keeps_rebuild_equal_to_incremental,
           postgres_late_revocation_keeps_rebuild_equal_to_incremental;
}

const PEER: &str = "child 510500";

/// One delivery outcome in a line: `applied 510500#1`, `NOT_ENROLLED 510521#2`, …
fn brief(d: &Delivery) -> String {
    match d {
        Delivery::Applied { origin, seq } => format!("applied {origin}#{seq}"),
        Delivery::Duplicate { origin, seq } => format!("duplicate {origin}#{seq}"),
        Delivery::Fork { origin, seq } => format!("fork {origin}#{seq}"),
        Delivery::Quarantined { origin, seq } => format!("quarantined {origin}#{seq}"),
        Delivery::Refused { origin, seq, code, .. } => format!("{code} {origin}#{seq}"),
    }
}

/// `what origin#seq` for each entry.
fn each(what: &str, entries: &[VerifiedEntry]) -> Vec<String> {
    entries.iter().map(|e| format!("{what} {}#{}", e.origin(), e.seq())).collect()
}

async fn deliver_raw(store: &Store, entries: Vec<UnverifiedEntry>) -> Vec<String> {
    store.ingest(PEER, entries).await.unwrap().iter().map(brief).collect()
}

async fn deliver(store: &Store, entries: &[VerifiedEntry]) -> Vec<String> {
    deliver_raw(store, unverified(entries)).await
}

/// A federation whose province is the store's root of trust.
async fn rooted(store: &Store) -> Federation {
    let fed = Federation::new();
    store.set_trust_root(&division(SICHUAN), &fed.province.public()).await.unwrap();
    fed
}

/// A rebuild that knows no key beyond the store's own key history.
fn no_fallback(_: &DivisionCode, _: u64) -> Option<PublicKey> {
    None
}

/// Rebuilding from the entries, with no fallback key, reproduces the incremental state.
async fn assert_rebuild_agrees(store: &Store) {
    let incremental = store.snapshot().await.unwrap();
    let replayed = store.rebuild(&no_fallback).await.unwrap_or_else(|e| panic!("rebuild with no fallback: {e}"));
    assert_eq!(replayed, store.count_entries().await.unwrap());
    assert_eq!(store.snapshot().await.unwrap(), incremental, "rebuild equals incremental delivery");
}

/// The snapshot lines about `nodes` (items, heads and enrolments whose node is one of them).
fn about<'a>(snapshot: &'a [String], nodes: &[&str]) -> Vec<&'a str> {
    snapshot.iter().map(String::as_str).filter(|l| l.split(' ').nth(1).is_some_and(|n| nodes.contains(&n))).collect()
}

fn key(w: &Writer) -> KeyLookup {
    KeyLookup::Key(w.public())
}

/// The signature `seed`'s key makes over `bytes`.
fn sign_raw(seed: u8, bytes: &[u8]) -> [u8; 64] {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(NodeKey::from_seed(&[seed; 32]).sign_statement(bytes), &mut sig).unwrap();
    sig
}

fn enrolment_row(of: &Writer, tier: &str, name: &str, valid_from: u64, by: (&str, u64)) -> EnrolmentRow {
    EnrolmentRow {
        division: of.origin.to_string(),
        valid_from,
        public_key: Some(of.public().to_hex()),
        tier: tier.into(),
        name: name.into(),
        by_origin: by.0.into(),
        by_seq: by.1,
    }
}

/// Test 1: the whole chain in one batch applies; the same batch again is all duplicates.
async fn four_tier_chain_applies_once(store: Store) {
    let mut fed = rooted(&store).await;
    let mut entries = fed.chain();
    entries.push(fed.county.sign(vec![update("XK00035000", move_to("泸县行政审批局"))]));
    entries.push(fed.township.sign(vec![add(catalogue_item(3, 9, "福集镇")), add(catalogue_item(2, 10, "福集镇"))]));
    assert_eq!(deliver(&store, &entries).await, each("applied", &entries));

    let heads: Vec<(String, ChainHead)> =
        fed.writers().iter().map(|w| (w.origin.to_string(), w.head.unwrap())).collect();
    assert_eq!(store.heads().await.unwrap(), heads);
    assert_eq!(store.count_entries().await.unwrap(), 6);
    let counts = [(SICHUAN, 1), (LUZHOU, 1), (LUXIAN, 1), (FUJI, 3)];
    for (node, n) in counts {
        assert_eq!(store.count_items(&division(node)).await.unwrap(), n, "{node}");
    }
    let licence = store.item(&division(LUXIAN), "XK00035000").await.unwrap().unwrap();
    assert_eq!((licence.item.implementing_body.as_str(), licence.last_seq), ("泸县行政审批局", 2));

    assert_eq!(
        store.enrolments(None).await.unwrap(),
        [
            enrolment_row(&fed.city, "city", "泸州市", 1, (SICHUAN, 1)),
            enrolment_row(&fed.county, "county", "泸县", 1, (LUZHOU, 1)),
            enrolment_row(&fed.township, "township", "福集镇", 1, (LUXIAN, 1)),
        ]
    );
    assert_eq!(store.enrolments(Some(&division(LUXIAN))).await.unwrap().len(), 1);
    assert_eq!(store.trust_root().await.unwrap(), Some((SICHUAN.to_string(), fed.province.public().to_hex())));
    for (w, seq) in fed.writers().into_iter().zip([1, 1, 2, 9]) {
        assert_eq!(store.key_for(&w.origin, seq).await.unwrap(), key(w), "{}#{seq}", w.origin);
    }
    assert_eq!(store.key_for(&division("510522"), 1).await.unwrap(), KeyLookup::Unknown);

    let before = store.snapshot().await.unwrap();
    assert_eq!(deliver(&store, &entries).await, each("duplicate", &entries));
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.count_entries().await.unwrap(), 6);
    assert!(store.refusals(10).await.unwrap().is_empty());
    assert_rebuild_agrees(&store).await;
}

/// Test 2: entries whose origin is not enrolled yet are parked (not refused as evidence), and
/// apply when delivered again after the enrolling logs.
async fn entries_wait_for_their_enrolment(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    let township = [chain[3].clone(), fed.township.sign(vec![add(catalogue_item(3, 9, "福集镇"))])];
    assert_eq!(deliver(&store, &township).await, each("NOT_ENROLLED", &township));
    assert!(store.snapshot().await.unwrap().is_empty(), "nothing applied");
    assert_eq!(store.count_entries().await.unwrap(), 0);
    assert_eq!(store.key_for(&division(FUJI), 1).await.unwrap(), KeyLookup::Unknown);
    assert!(store.refusals(10).await.unwrap().is_empty(), "parked entries are not evidence");

    // The county's own enrolment is in the city's log, which has not arrived either.
    assert_eq!(deliver(&store, &chain[2..3]).await, ["NOT_ENROLLED 510521#1"]);
    assert!(store.snapshot().await.unwrap().is_empty());

    assert_eq!(deliver(&store, &chain[..2]).await, each("applied", &chain[..2]));
    assert_eq!(store.key_for(&division(FUJI), 1).await.unwrap(), KeyLookup::Unknown, "enrolled by the county");
    assert_eq!(deliver(&store, &chain[2..3]).await, ["applied 510521#1"]);
    assert_eq!(store.key_for(&division(FUJI), 1).await.unwrap(), key(&fed.township));
    assert_eq!(deliver(&store, &township).await, each("applied", &township));
    assert_eq!(store.count_items(&division(FUJI)).await.unwrap(), 2);
    assert_eq!(store.head(&division(FUJI)).await.unwrap(), fed.township.head);
    assert!(store.refusals(10).await.unwrap().is_empty());
    assert_rebuild_agrees(&store).await;
}

/// Test 3: a township editing its county's list, a county enrolling a city of another
/// prefecture and a province enrolling a township are refused; valid entries of other origins
/// in the same batch apply.
async fn unauthorised_entries_change_nothing(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    assert_eq!(deliver(&store, &chain).await, each("applied", &chain));
    let before = store.snapshot().await.unwrap();

    // Op 0 is allowed and would add an item: the refusal at op 1 must undo it.
    let on_county_list = Op::ItemAdd { item: catalogue_item(3, 9, "福集镇"), list: Some(division(LUXIAN)) };
    let township_bad = fed.township.next(vec![add(catalogue_item(1, 9, "福集镇")), on_county_list]);
    let deyang = Writer::new("510600", 31);
    let county_bad =
        fed.county.next(vec![add(construction_permit()), Op::Enroll { enrolment: deyang.enrolment("德阳市", 1) }]);
    let province_bad = fed.province.next(vec![Op::Enroll { enrolment: fed.township.enrolment("福集镇", 1) }]);
    let bad = [township_bad, county_bad, province_bad];
    assert_eq!(deliver(&store, &bad).await, each("UNAUTHORISED", &bad));
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.count_entries().await.unwrap(), 4);

    // Mixed with valid entries of other origins, in one batch.
    let city2 = fed.city.sign(vec![add(catalogue_item(4, 88, "泸州市"))]);
    let province2 = fed.province.sign(vec![add(catalogue_item(8, 2, "四川省"))]);
    let batch = [bad[0].clone(), city2.clone(), bad[1].clone(), bad[2].clone(), province2.clone()];
    assert_eq!(
        deliver(&store, &batch).await,
        [
            "UNAUTHORISED 510521100#2",
            "applied 510500#2",
            "UNAUTHORISED 510521#2",
            "UNAUTHORISED 510000#2",
            "applied 510000#2"
        ]
    );
    let after = store.snapshot().await.unwrap();
    assert_eq!(about(&after, &[LUXIAN, FUJI, "510600"]), about(&before, &[LUXIAN, FUJI, "510600"]));
    assert_eq!(store.item(&division(FUJI), "XK00009000").await.unwrap(), None, "op 0 of the refused entry undone");
    assert_eq!(store.item(&division(LUXIAN), "XK00012000").await.unwrap(), None);
    assert_eq!(store.item(&division(LUXIAN), "QZ00009000").await.unwrap(), None);
    assert_eq!(store.key_for(&division("510600"), 1).await.unwrap(), KeyLookup::Unknown);
    assert_eq!(store.enrolments(None).await.unwrap().len(), 3);
    assert_eq!(store.head(&division(LUZHOU)).await.unwrap(), Some(city2.head()));
    assert_eq!(store.head(&division(SICHUAN)).await.unwrap(), Some(province2.head()));

    // The refused seqs are still free: the valid entries written there apply.
    let good =
        [fed.township.sign(vec![add(catalogue_item(1, 9, "福集镇"))]), fed.county.sign(vec![add(water_permit())])];
    assert_eq!(deliver(&store, &good).await, each("applied", &good));

    let refusals = store.refusals(10).await.unwrap();
    let seen: Vec<(&str, &str, u64, &str)> =
        refusals.iter().map(|r| (r.code.as_str(), r.origin.as_str(), r.seq, r.peer.as_str())).collect();
    let expected: Vec<(&str, &str, u64, &str)> = [SICHUAN, LUXIAN, FUJI, SICHUAN, LUXIAN, FUJI]
        .into_iter()
        .map(|origin| ("UNAUTHORISED", origin, 2, PEER))
        .collect();
    assert_eq!(seen, expected, "newest first");
    assert!(refusals[2].message.contains("第 2 个操作"), "names the op: {}", refusals[2].message);
    assert_rebuild_agrees(&store).await;
}

/// Test 4: a county names its next key, valid from the seq after the rotation entry: later
/// entries under the old key are refused, under the new one applied; earlier ones stay valid.
async fn key_rotation_switches_keys_at_valid_from(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    assert_eq!(deliver(&store, &chain).await, each("applied", &chain));
    let old_key = fed.county.public();
    let new_key = public_of(33);
    let current = fed.county.enrolment("泸县", 1);
    let next_key = |valid_from| Enrolment { key: new_key.to_hex(), valid_from, ..current.clone() };

    let county2 = fed.county.sign(vec![add(construction_permit())]);
    let not_ahead = fed.county.next(vec![Op::Enroll { enrolment: next_key(3) }]); // #3, valid from 3
    let rotation = fed.county.sign(vec![Op::Enroll { enrolment: next_key(4) }, add(water_permit())]); // #3
    let stale = fed.county.next(vec![add(food_penalty())]); // #4 under the old key
    assert_eq!(
        deliver(&store, &[county2.clone(), not_ahead, rotation, stale.clone()]).await,
        ["applied 510521#2", "UNAUTHORISED 510521#3", "applied 510521#3", "BAD_SIGNATURE 510521#4"]
    );
    let before = store.snapshot().await.unwrap();
    assert_eq!(deliver(&store, std::slice::from_ref(&stale)).await, ["BAD_SIGNATURE 510521#4"]);
    assert_eq!(store.snapshot().await.unwrap(), before);

    let county = division(LUXIAN);
    assert_eq!(store.key_for(&county, 3).await.unwrap(), KeyLookup::Key(old_key));
    assert_eq!(store.key_for(&county, 4).await.unwrap(), KeyLookup::Key(new_key));
    assert_eq!(store.key_for(&county, 1000).await.unwrap(), KeyLookup::Key(new_key));
    let mut rotated = enrolment_row(&fed.county, "county", "泸县", 4, (LUXIAN, 3));
    rotated.public_key = Some(new_key.to_hex());
    assert_eq!(
        store.enrolments(Some(&county)).await.unwrap(),
        [enrolment_row(&fed.county, "county", "泸县", 1, (LUZHOU, 1)), rotated]
    );

    fed.county.use_key(33);
    let fresh = [
        fed.county.sign(vec![add(food_penalty())]),
        fed.county.sign(vec![update("XK00035000", move_to("泸县行政审批局"))]),
    ];
    assert_eq!(deliver(&store, &fresh).await, each("applied", &fresh));
    // Entries signed before the rotation keep their key: held ones are duplicates, and the
    // township enrolled under the old key goes on.
    let township2 = fed.township.sign(vec![add(catalogue_item(3, 9, "福集镇"))]);
    assert_eq!(
        deliver(&store, &[chain[2].clone(), county2, township2]).await,
        ["duplicate 510521#1", "duplicate 510521#2", "applied 510521100#2"]
    );
    assert_eq!(store.count_items(&county).await.unwrap(), 4);
    let codes: Vec<String> = store.refusals(10).await.unwrap().into_iter().map(|r| r.code).collect();
    assert_eq!(codes, ["BAD_SIGNATURE", "BAD_SIGNATURE", "UNAUTHORISED"]);
    assert_rebuild_agrees(&store).await;
}

/// Test 5: the city revokes the county's key after #1: #2 is refused until the city enrols the
/// county again.
async fn revoked_key_signs_nothing_more(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    assert_eq!(deliver(&store, &chain).await, each("applied", &chain));
    let revoke = Op::Revoke { division: division(LUXIAN), after: 1, reason: "密钥泄露".into() };
    let city2 = fed.city.sign(vec![revoke]);
    assert_eq!(deliver(&store, std::slice::from_ref(&city2)).await, ["applied 510500#2"]);

    let county = division(LUXIAN);
    assert_eq!(store.key_for(&county, 1).await.unwrap(), key(&fed.county));
    assert_eq!(store.key_for(&county, 2).await.unwrap(), KeyLookup::Revoked { from: 2 });
    assert_eq!(store.key_for(&county, 50).await.unwrap(), KeyLookup::Revoked { from: 2 });
    let mut revoked = enrolment_row(&fed.county, "county", "泸县", 2, (LUZHOU, 2));
    revoked.public_key = None;
    assert_eq!(
        store.enrolments(Some(&county)).await.unwrap(),
        [enrolment_row(&fed.county, "county", "泸县", 1, (LUZHOU, 1)), revoked]
    );

    let before = store.snapshot().await.unwrap();
    let county2 = fed.county.next(vec![add(construction_permit())]);
    assert_eq!(deliver(&store, std::slice::from_ref(&county2)).await, ["KEY_REVOKED 510521#2"]);
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.count_entries().await.unwrap(), 5);
    let refusal = &store.refusals(1).await.unwrap()[0];
    assert_eq!((refusal.code.as_str(), refusal.origin.as_str(), refusal.seq), ("KEY_REVOKED", LUXIAN, 2));

    // Enrolled again under a new key from #2: the county goes on under it.
    fed.county.use_key(34);
    let city3 = fed.city.sign(vec![Op::Enroll { enrolment: fed.county.enrolment("泸县", 2) }]);
    let county2_new = fed.county.sign(vec![add(construction_permit())]);
    assert_eq!(
        deliver(&store, &[county2, city3, county2_new]).await,
        ["KEY_REVOKED 510521#2", "applied 510500#3", "applied 510521#2"]
    );
    assert_eq!(store.key_for(&county, 2).await.unwrap(), KeyLookup::Key(public_of(34)));
    assert_eq!(store.count_items(&county).await.unwrap(), 2);
    assert_rebuild_agrees(&store).await;
}

/// Test 6: a second validly signed county #1 is a fork: both kept, the county quarantined,
/// until the city resolves it; then the county goes on.
async fn fork_quarantines_until_resolved(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    let county2 = fed.county.sign(vec![add(construction_permit())]);
    assert_eq!(deliver(&store, &[&chain[..], &[county2]].concat()).await.len(), 5);
    let before = store.snapshot().await.unwrap();
    let entries = store.count_entries().await.unwrap();

    // Different bytes at a held seq that the county's key did not sign: not a fork.
    let impostor = Writer::new(LUXIAN, 99).sign(vec![add(water_permit())]);
    assert_eq!(deliver(&store, &[impostor]).await, ["BAD_SIGNATURE 510521#1"]);
    assert!(store.forks().await.unwrap().is_empty());

    let fork = Writer::new(LUXIAN, 23).sign(vec![add(water_permit())]); // the county's key, another #1
    assert_eq!(deliver(&store, std::slice::from_ref(&fork)).await, ["fork 510521#1"]);
    let forks = store.forks().await.unwrap();
    assert_eq!(forks.len(), 2);
    assert!(forks.iter().all(|f| (f.origin.as_str(), f.seq, &f.resolved_by) == (LUXIAN, 1, &None)), "{forks:?}");
    let mut hashes: Vec<&str> = forks.iter().map(|f| f.hash.as_str()).collect();
    hashes.sort();
    let mut expected = [hex::encode(chain[2].hash().as_bytes()), hex::encode(fork.hash().as_bytes())];
    expected.sort();
    assert_eq!(hashes, expected);
    assert_eq!(store.snapshot().await.unwrap(), before, "a fork applies nothing");
    assert_eq!(store.count_entries().await.unwrap(), entries);

    // Quarantined: nothing of the county, not even what it holds; other origins go on.
    let county3 = fed.county.sign(vec![add(food_penalty())]);
    let city2 = fed.city.sign(vec![add(catalogue_item(4, 88, "泸州市"))]);
    assert_eq!(
        deliver(&store, &[county3.clone(), chain[2].clone(), fork.clone(), city2]).await,
        ["quarantined 510521#3", "quarantined 510521#1", "quarantined 510521#1", "applied 510500#2"]
    );
    assert_eq!(store.head(&division(LUXIAN)).await.unwrap().map(|h| h.seq), Some(2));

    // The city re-enrols the county from after the held branch.
    let resolve =
        Op::Resolve { enrolment: fed.county.enrolment("泸县", 3), fork_seq: 1, reason: "保留已存分支".into() };
    let city3 = fed.city.sign(vec![resolve]);
    assert_eq!(deliver(&store, &[city3, county3]).await, ["applied 510500#3", "applied 510521#3"]);
    let forks = store.forks().await.unwrap();
    assert_eq!(forks.len(), 2);
    assert!(forks.iter().all(|f| f.resolved_by.as_deref() == Some("510500#3")), "{forks:?}");
    assert_eq!(store.key_for(&division(LUXIAN), 3).await.unwrap(), key(&fed.county));
    let rows = store.enrolments(Some(&division(LUXIAN))).await.unwrap();
    assert_eq!(rows.iter().map(|r| (r.valid_from, r.by_seq)).collect::<Vec<_>>(), [(1, 1), (3, 3)]);

    // The known branch again: still reported, but the resolution stands.
    assert_eq!(deliver(&store, &[fork]).await, ["fork 510521#1"]);
    assert_eq!(store.forks().await.unwrap(), forks);
    let county4 = fed.county.sign(vec![add(food_seizure())]);
    assert_eq!(deliver(&store, &[county4]).await, ["applied 510521#4"]);
    assert_rebuild_agrees(&store).await;
    assert_eq!(store.forks().await.unwrap(), forks, "rebuild keeps the evidence");
}

/// Test 7: tampered bytes, a wrong key, garbage, a gap, a wrong link and a non-canonical body
/// are refused and recorded; nothing of them is applied; the valid entries apply afterwards.
async fn bad_bytes_gaps_and_wrong_links_are_refused(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    assert_eq!(deliver(&store, &chain).await, each("applied", &chain));
    let before = store.snapshot().await.unwrap();

    let county2 = fed.county.sign(vec![add(construction_permit())]);
    let mut bytes = county2.bytes().to_vec();
    let at = bytes.windows(10).position(|w| w == b"XK00012000").expect("the item code in the bytes") + 9;
    bytes[at] ^= 0x01; // XK00012001: still JSON, still 泸县 #2
    let flipped = UnverifiedEntry::new(bytes, *county2.sig());
    let garbage = UnverifiedEntry::new(b"{\"origin\":".to_vec(), [7; 64]);
    let mut forger = Writer::new(SICHUAN, 98);
    forger.head = fed.province.head;
    let forged = unverified(&[forger.next(vec![add(catalogue_item(8, 2, "四川省"))])]).remove(0);
    assert_eq!(
        deliver_raw(&store, vec![flipped.clone(), garbage, forged]).await,
        ["BAD_SIGNATURE 510521#2", "MALFORMED_ENTRY ?#0", "BAD_SIGNATURE 510000#2"]
    );
    assert_eq!(store.snapshot().await.unwrap(), before);

    assert_eq!(deliver(&store, std::slice::from_ref(&county2)).await, ["applied 510521#2"]);
    let before = store.snapshot().await.unwrap();
    // The held #2 with a byte flipped: not signed, so not a fork either.
    assert_eq!(deliver_raw(&store, vec![flipped]).await, ["BAD_SIGNATURE 510521#2"]);
    assert!(store.forks().await.unwrap().is_empty());

    let county3 = fed.county.sign(vec![add(water_permit())]);
    let county4 = fed.county.sign(vec![add(food_penalty())]);
    assert_eq!(deliver(&store, std::slice::from_ref(&county4)).await, ["SEQ_GAP 510521#4"]);
    // #1's ops re-signed as #3, linked to #1 instead of #2.
    let mut replayer = Writer::new(LUXIAN, 23);
    replayer.head = Some(ChainHead { seq: 2, hash: chain[2].hash() });
    let replay = replayer.sign(chain[2].ops().to_vec());
    assert_eq!(deliver(&store, &[replay]).await, ["WRONG_PREV 510521#3"]);
    // #3 signed by the county's key over a pretty-printed body.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(county3.bytes()).unwrap()).unwrap();
    let sig = sign_raw(23, &pretty);
    assert_eq!(deliver_raw(&store, vec![UnverifiedEntry::new(pretty, sig)]).await, ["NOT_CANONICAL 510521#3"]);
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.count_entries().await.unwrap(), 5);

    let refusals = store.refusals(20).await.unwrap();
    let seen: Vec<(&str, &str, u64)> = refusals.iter().map(|r| (r.code.as_str(), r.origin.as_str(), r.seq)).collect();
    assert_eq!(
        seen,
        [
            ("NOT_CANONICAL", LUXIAN, 3),
            ("WRONG_PREV", LUXIAN, 3),
            ("SEQ_GAP", LUXIAN, 4),
            ("BAD_SIGNATURE", LUXIAN, 2),
            ("BAD_SIGNATURE", SICHUAN, 2),
            ("MALFORMED_ENTRY", "?", 0),
            ("BAD_SIGNATURE", LUXIAN, 2),
        ]
    );
    assert!(refusals.iter().all(|r| r.peer == PEER && !r.message.is_empty()));

    assert_eq!(deliver(&store, &[county3.clone(), county4.clone()]).await, each("applied", &[county3, county4]));
    assert_rebuild_agrees(&store).await;
}

/// An entry following a parked entry of the same origin must wait with it, even when the
/// enrolment arrives between them in the batch: it is parked too (`NOT_ENROLLED`, the code
/// peers retry on), not refused as a gap and recorded as evidence against the peer.
async fn parked_origin_parks_its_later_entries(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    let county2 = fed.county.sign(vec![add(construction_permit())]);
    let batch = [chain[0].clone(), chain[2].clone(), chain[1].clone(), county2.clone()];
    assert_eq!(
        deliver(&store, &batch).await,
        ["applied 510000#1", "NOT_ENROLLED 510521#1", "applied 510500#1", "NOT_ENROLLED 510521#2"]
    );
    assert!(store.refusals(10).await.unwrap().is_empty(), "an honest peer's entries are not evidence");
    let parked = [chain[2].clone(), county2];
    assert_eq!(deliver(&store, &parked).await, each("applied", &parked));
    assert_rebuild_agrees(&store).await;
}

/// An entry after a gap may be signed by a key the missing entries name (a rotation): the
/// store cannot judge its signature yet, so it is a gap, not a bad signature charged to the peer.
async fn entry_after_a_missing_rotation_is_a_gap(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    assert_eq!(deliver(&store, &chain).await, each("applied", &chain));
    let next_key = Enrolment { key: public_of(33).to_hex(), ..fed.county.enrolment("泸县", 3) };
    let rotation = fed.county.sign(vec![Op::Enroll { enrolment: next_key }]); // #2
    fed.county.use_key(33);
    let county3 = fed.county.sign(vec![add(construction_permit())]);
    let before = store.snapshot().await.unwrap();
    assert_eq!(deliver(&store, std::slice::from_ref(&county3)).await, ["SEQ_GAP 510521#3"]);
    assert_eq!(store.snapshot().await.unwrap(), before);
    let codes: Vec<String> = store.refusals(10).await.unwrap().into_iter().map(|r| r.code).collect();
    assert_eq!(codes, ["SEQ_GAP"]);
    let rest = [rotation, county3];
    assert_eq!(deliver(&store, &rest).await, each("applied", &rest));
    assert_rebuild_agrees(&store).await;
}

/// A Resolve of the county's fork at #1, replayed by `rebuild`, must not resolve a later,
/// unresolved fork of the county: the quarantine survives the rebuild.
async fn rebuild_keeps_a_later_fork_quarantined(store: Store) {
    let mut fed = rooted(&store).await;
    let chain = fed.chain();
    let county2 = fed.county.sign(vec![add(construction_permit())]);
    assert_eq!(deliver(&store, &[&chain[..], std::slice::from_ref(&county2)].concat()).await.len(), 5);
    let fork1 = Writer::new(LUXIAN, 23).sign(vec![add(water_permit())]);
    let resolve =
        Op::Resolve { enrolment: fed.county.enrolment("泸县", 3), fork_seq: 1, reason: "保留已存分支".into() };
    let city2 = fed.city.sign(vec![resolve]);
    let county3 = fed.county.sign(vec![add(food_penalty())]);
    assert_eq!(
        deliver(&store, &[fork1, city2, county3]).await,
        ["fork 510521#1", "applied 510500#2", "applied 510521#3"]
    );

    // A second fork, at #3.
    let mut twin = Writer::new(LUXIAN, 23);
    twin.head = Some(county2.head());
    let fork3 = twin.sign(vec![add(food_seizure())]);
    assert_eq!(deliver(&store, &[fork3]).await, ["fork 510521#3"]);
    let forks = store.forks().await.unwrap();
    let open = |forks: &[quanze_store::ForkRow]| {
        forks.iter().filter(|f| f.resolved_by.is_none()).map(|f| f.seq).collect::<Vec<_>>()
    };
    assert_eq!(open(&forks), [3, 3]);
    let county4 = fed.county.sign(vec![add(food_seizure())]);
    assert_eq!(deliver(&store, std::slice::from_ref(&county4)).await, ["quarantined 510521#4"]);

    assert_rebuild_agrees(&store).await;
    assert_eq!(open(&store.forks().await.unwrap()), [3, 3], "the fork at #3 is still open after a rebuild");
    assert_eq!(deliver(&store, &[county4]).await, ["quarantined 510521#4"]);
}

/// The city revokes the county after #1 when the store already applied #2 and #3: whatever the
/// store makes of it, a rebuild from the entries (with no fallback key) must succeed and give
/// the state incremental delivery gave.
async fn late_revocation_keeps_rebuild_equal_to_incremental(store: Store) {
    let mut fed = rooted(&store).await;
    let mut entries = fed.chain();
    entries.push(fed.county.sign(vec![add(construction_permit())]));
    entries.push(fed.county.sign(vec![add(water_permit())]));
    assert_eq!(deliver(&store, &entries).await, each("applied", &entries));
    let revoke = Op::Revoke { division: division(LUXIAN), after: 1, reason: "密钥泄露".into() };
    let city2 = fed.city.sign(vec![revoke]);
    let outcome = deliver(&store, &[city2]).await;
    assert_eq!(outcome.len(), 1);
    assert_rebuild_agrees(&store).await;
}
