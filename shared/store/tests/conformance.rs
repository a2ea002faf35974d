//! Conformance suite of `quanze_store::Store`: one set of tests run against every backend.
//!
//! Each test is a backend-neutral `async fn` taking a fresh `Store` (or the `TestDb` under it,
//! when it must reopen the database or touch it directly); `on_each_backend!` instantiates it
//! as `sqlite_<name>` (a file in a temporary directory) and `postgres_<name>` (a fresh database
//! on the server of `QUANZE_TEST_DATABASE_URL`; skipped with a note when unset, failing in CI).
//! Covers: reading back what was appended (heads, items and every filter, entry bytes and
//! signatures, arrival order), batches applied in order, all-or-nothing refusal, duplicate seqs,
//! rebuild equal to incremental application and its refusal of wrong keys and tampered bodies,
//! read-only and foreign databases, and durability across reopening.

mod common;

use common::data::*;
use common::db::TestDb;
use quanze_domain::{Category, Citation, ItemPatch, ItemStatus, RuleError};
use quanze_ledger::{UnverifiedEntry, VerifiedEntry, verify_chain};
use quanze_store::{ItemFilter, Store, StoreError};

/// `store NAME => SQLITE_TEST, POSTGRES_TEST;` runs `NAME(store)`; `db NAME => …;` runs `NAME(&db)`.
macro_rules! on_each_backend {
    ($($kind:ident $name:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        on_each_backend!(@one $kind $name $sqlite sqlite);
        on_each_backend!(@one $kind $name $postgres postgres);
    )*};
    (@one store $name:ident $test:ident $backend:ident) => {
        #[tokio::test]
        async fn $test() {
            let Some(db) = TestDb::$backend(stringify!($test)).await else { return };
            $name(db.open().await).await;
            db.finish().await;
        }
    };
    (@one db $name:ident $test:ident $backend:ident) => {
        #[tokio::test]
        async fn $test() {
            let Some(db) = TestDb::$backend(stringify!($test)).await else { return };
            $name(&db).await;
            db.finish().await;
        }
    };
}

on_each_backend! {
    store append_then_read_back
        => sqlite_append_then_read_back, postgres_append_then_read_back;
    store item_filters_and_paging
        => sqlite_item_filters_and_paging, postgres_item_filters_and_paging;
    store batch_applies_in_order
        => sqlite_batch_applies_in_order, postgres_batch_applies_in_order;
    store refused_op_changes_nothing
        => sqlite_refused_op_changes_nothing, postgres_refused_op_changes_nothing;
    store refused_entry_undoes_whole_append
        => sqlite_refused_entry_undoes_whole_append, postgres_refused_entry_undoes_whole_append;
    store seq_taken_changes_nothing
        => sqlite_seq_taken_changes_nothing, postgres_seq_taken_changes_nothing;
    store entry_not_following_the_head_is_refused
        => sqlite_entry_not_following_the_head_is_refused, postgres_entry_not_following_the_head_is_refused;
    store rebuild_equals_incremental
        => sqlite_rebuild_equals_incremental, postgres_rebuild_equals_incremental;
    store rebuild_with_wrong_key_keeps_projections
        => sqlite_rebuild_with_wrong_key_keeps_projections, postgres_rebuild_with_wrong_key_keeps_projections;
    db tampered_body_is_detected_by_rebuild
        => sqlite_tampered_body_is_detected_by_rebuild, postgres_tampered_body_is_detected_by_rebuild;
    db read_only_store_reads_existing_data
        => sqlite_read_only_store_reads_existing_data, postgres_read_only_store_reads_existing_data;
    db foreign_database_is_refused
        => sqlite_foreign_database_is_refused, postgres_foreign_database_is_refused;
    db reopening_keeps_everything
        => sqlite_reopening_keeps_everything, postgres_reopening_keeps_everything;
}

const CANCEL_REASON: &str = "依据《国务院关于取消和下放一批行政许可事项的决定》取消";

/// 泸县 writes three entries (six items, one cancelled), 泸州市 one in between.
async fn county_and_city(store: &Store) -> (Writer, Writer, Vec<VerifiedEntry>) {
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    let entries = vec![
        luxian.sign(vec![add(food_licence()), add(construction_permit()), add(water_permit())]),
        luxian.sign(vec![add(food_penalty()), add(food_seizure()), add(construction_penalty())]),
        luzhou.sign(vec![add(catalogue_item(0, 35, "泸州市"))]),
        luxian.sign(vec![cancel("XK00088000", CANCEL_REASON)]),
    ];
    for entry in &entries {
        store.append(std::slice::from_ref(entry)).await.unwrap();
    }
    (luxian, luzhou, entries)
}

async fn append_then_read_back(store: Store) {
    let (luxian, luzhou, written) = county_and_city(&store).await;
    let (county, city) = (division(LUXIAN), division(LUZHOU));

    assert_eq!(store.head(&county).await.unwrap(), luxian.head);
    assert_eq!(store.head(&city).await.unwrap(), luzhou.head);
    assert_eq!(store.head(&division("510502")).await.unwrap(), None);
    let heads = store.heads().await.unwrap();
    assert_eq!(heads, vec![(LUZHOU.to_string(), luzhou.head.unwrap()), (LUXIAN.to_string(), luxian.head.unwrap())]);

    let row = store.item(&county, "XK00035000").await.unwrap().expect("食品经营许可 stored");
    assert_eq!((row.node.as_str(), &row.item, row.last_seq), (LUXIAN, &food_licence(), 1));
    assert_eq!(row.updated_at, written[0].body().at);
    let water = store.item(&county, "XK00088000").await.unwrap().unwrap();
    assert_eq!(
        (water.item.status, water.item.status_reason.as_str(), water.last_seq),
        (ItemStatus::Cancelled, CANCEL_REASON, 3)
    );
    assert_eq!(water.updated_at, written[3].body().at);
    let city_licence = store.item(&city, "XK00035000").await.unwrap().unwrap();
    assert_eq!(city_licence.item.implementing_body, "泸州市市场监督管理局");
    assert_eq!(store.item(&county, "XK99999000").await.unwrap(), None);
    assert_eq!(store.item(&city, "XK00012000").await.unwrap(), None);
    assert_eq!((store.count_items(&county).await.unwrap(), store.count_items(&city).await.unwrap()), (6, 1));
    assert_eq!(store.count_entries().await.unwrap(), 4);

    // Per origin: the exact signed bytes and signature, in seq order, from `after_seq`.
    let ours: Vec<&VerifiedEntry> = written.iter().filter(|e| e.origin() == &county).collect();
    let stored = store.entries(&county, 0, 100).await.unwrap();
    assert_eq!(stored.len(), 3);
    for (s, e) in stored.iter().zip(&ours) {
        assert_eq!((s.origin.as_str(), s.seq), (LUXIAN, e.seq()));
        assert_eq!(s.entry.bytes(), e.bytes());
        assert_eq!(s.entry, UnverifiedEntry::new(e.bytes().to_vec(), *e.sig()));
        assert_eq!((s.hash.as_slice(), s.stored_hash()), (&e.hash().as_bytes()[..], Some(e.hash())));
    }
    let reverified = verify_chain(&county, &luxian.public(), stored.into_iter().map(|s| s.entry)).unwrap();
    assert_eq!(reverified, ours.into_iter().cloned().collect::<Vec<_>>());
    let seqs = |v: Vec<quanze_store::StoredEntry>| v.iter().map(|s| s.seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.entries(&county, 1, 1).await.unwrap()), [2]);
    assert_eq!(seqs(store.entries(&county, 1, 100).await.unwrap()), [2, 3]);
    assert_eq!(seqs(store.entries(&county, 3, 100).await.unwrap()), [0u64; 0]);
    assert_eq!(seqs(store.entries(&city, 0, 100).await.unwrap()), [1]);
    assert!(store.entries(&division("510502"), 0, 100).await.unwrap().is_empty());

    // Across origins: arrival order, paged by local id.
    let arrived = store.entries_in_arrival_order(0, 100).await.unwrap();
    let order: Vec<(&str, u64)> = arrived.iter().map(|s| (s.origin.as_str(), s.seq)).collect();
    assert_eq!(order, [(LUXIAN, 1), (LUXIAN, 2), (LUZHOU, 1), (LUXIAN, 3)]);
    assert!(arrived.windows(2).all(|w| w[0].local_id < w[1].local_id));
    for (s, e) in arrived.iter().zip(&written) {
        assert_eq!(s.entry, UnverifiedEntry::new(e.bytes().to_vec(), *e.sig()));
    }
    let page = store.entries_in_arrival_order(arrived[1].local_id, 1).await.unwrap();
    assert_eq!((page.len(), page[0].local_id, page[0].origin.as_str()), (1, arrived[2].local_id, LUZHOU));
    assert!(store.entries_in_arrival_order(arrived[3].local_id, 100).await.unwrap().is_empty());
}

async fn item_filters_and_paging(store: Store) {
    county_and_city(&store).await;
    let county = division(LUXIAN);
    let list = async |filter: ItemFilter| {
        let page = store.items(&county, &filter).await.unwrap();
        assert_eq!(page.offset, filter.offset);
        (page.total, codes(&page).into_iter().map(String::from).collect::<Vec<_>>())
    };
    let every = ["CF00101000", "CF00210000", "QZ00003000", "XK00012000", "XK00035000", "XK00088000"];
    assert_eq!(list(all()).await, (6, every.map(String::from).to_vec()));

    let by_category = |c| ItemFilter { category: Some(c), ..all() };
    assert_eq!(list(by_category(Category::Licensing)).await.1, ["XK00012000", "XK00035000", "XK00088000"]);
    assert_eq!(list(by_category(Category::Penalty)).await.1, ["CF00101000", "CF00210000"]);
    assert_eq!(list(by_category(Category::Coercion)).await.1, ["QZ00003000"]);
    assert_eq!(list(by_category(Category::Reward)).await, (0, vec![]));

    let by_status = |s| ItemFilter { status: Some(s), ..all() };
    assert_eq!(list(by_status(ItemStatus::Cancelled)).await.1, ["XK00088000"]);
    assert_eq!(list(by_status(ItemStatus::Active)).await.0, 5);
    assert_eq!(list(by_status(ItemStatus::Delegated)).await.0, 0);

    let by_body = |b: &str| ItemFilter { implementing_body: Some(b.into()), ..all() };
    assert_eq!(list(by_body("泸县住房和城乡建设局")).await.1, ["CF00210000", "XK00012000"]);
    assert_eq!(list(by_body("泸县市场监督管理局")).await.0, 3);
    assert_eq!(list(by_body("泸县市场监督")).await.0, 0, "the body filter is exact");

    let by_text = |q: &str| ItemFilter { q: Some(q.into()), ..all() };
    assert_eq!(list(by_text("食品")).await.1, ["CF00101000", "QZ00003000", "XK00035000"]);
    assert_eq!(list(by_text("施工许可")).await.1, ["CF00210000", "XK00012000"]);
    assert_eq!(list(by_text("00035")).await.1, ["XK00035000"]);
    assert_eq!(list(by_text(" CF002 ")).await.1, ["CF00210000"], "q is trimmed");
    assert_eq!(list(by_text("xk00088")).await.1, ["XK00088000"], "codes match whatever the letter case");
    assert_eq!(list(by_text("   ")).await.0, 6, "a blank q filters nothing");
    for wildcard in ["%", "_", "食品%许可", "XK_0035", "\\"] {
        assert_eq!(list(by_text(wildcard)).await.0, 0, "{wildcard:?} is matched literally");
    }

    let combined = ItemFilter {
        category: Some(Category::Licensing),
        status: Some(ItemStatus::Active),
        implementing_body: Some("泸县市场监督管理局".into()),
        q: Some("许可".into()),
        ..all()
    };
    assert_eq!(list(combined).await, (1, vec!["XK00035000".to_string()]));

    let page = |offset, limit| ItemFilter { offset, limit, ..ItemFilter::default() };
    assert_eq!(list(page(0, 2)).await, (6, every[..2].iter().map(|s| s.to_string()).collect()));
    assert_eq!(list(page(2, 2)).await.1, every[2..4]);
    assert_eq!(list(page(4, 10)).await.1, every[4..]);
    assert_eq!(list(page(6, 10)).await, (6, vec![]));
    assert_eq!(
        list(ItemFilter { category: Some(Category::Licensing), ..page(1, 1) }).await,
        (3, vec!["XK00035000".into()])
    );
    assert_eq!(store.items(&division(LUZHOU), &all()).await.unwrap().total, 1, "lists are per node");
}

async fn batch_applies_in_order(store: Store) {
    let mut luxian = Writer::new(LUXIAN, 1);
    let county = division(LUXIAN);
    let basis = vec![
        Citation { law: "中华人民共和国食品安全法".into(), article: "第一百二十四条".into() },
        Citation { law: "中华人民共和国行政处罚法".into(), article: "第七十二条".into() },
    ];
    let patch = ItemPatch { basis: Some(basis.clone()), ..Default::default() };
    let reason = "职责划转至泸县综合行政执法局";
    let entry = luxian.sign(vec![add(food_penalty()), update("CF00101000", patch), cancel("CF00101000", reason)]);
    store.append(&[entry]).await.unwrap();
    let row = store.item(&county, "CF00101000").await.unwrap().unwrap();
    let mut expected = food_penalty();
    (expected.basis, expected.status, expected.status_reason) = (basis, ItemStatus::Cancelled, reason.into());
    assert_eq!((row.item, row.last_seq), (expected, 1));

    // The cancel holds: a later update of the item is refused.
    let late = luxian.next(vec![add(food_seizure()), update("CF00101000", move_to("泸县综合行政执法局"))]);
    let err = store.append(&[late]).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule { index: 1, error: RuleError::Cancelled(_), .. }), "{err}");
    // Later ops see earlier ones: a second add of a code added two ops before is a duplicate.
    let dup = luxian.next(vec![add(food_seizure()), add(food_licence()), add(food_seizure())]);
    let err = store.append(&[dup]).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Rule { index: 2, error: RuleError::DuplicateCode(ref c), .. } if c == "QZ00003000"),
        "{err}"
    );
    // Order matters: cancelling before adding is refused at the cancel.
    let backwards = luxian.next(vec![cancel("XK00035000", reason), add(food_licence())]);
    let err = store.append(&[backwards]).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule { index: 0, error: RuleError::NoSuchItem(_), .. }), "{err}");
    assert_eq!((store.count_entries().await.unwrap(), store.count_items(&county).await.unwrap()), (1, 1));
}

async fn refused_op_changes_nothing(store: Store) {
    let mut luxian = Writer::new(LUXIAN, 1);
    let county = division(LUXIAN);
    store.append(&[luxian.sign(vec![add(food_licence())])]).await.unwrap();
    let before = store.snapshot().await.unwrap();
    let mut mismatched = food_seizure();
    mismatched.category = Category::Penalty; // QZ letters with the penalty category
    let renamed = ItemPatch {
        name: Some("食品经营许可（含仅销售预包装食品备案）".into()), ..Default::default()
    };
    let third_ops = [
        (update("XK99999000", move_to("泸县市场监督管理局")), "no such item"),
        (add(food_licence()), "duplicate add"),
        (add(mismatched), "invalid item"),
        (update("XK00035000", ItemPatch::default()), "empty patch"),
        (cancel("XK00035000", "  "), "cancel without a reason"),
    ];
    for (third, why) in third_ops {
        let entry = luxian.next(vec![add(construction_permit()), update("XK00035000", renamed.clone()), third]);
        match store.append(&[entry]).await {
            Err(StoreError::Rule { origin, seq, index, .. }) => {
                assert_eq!((origin.as_str(), seq, index), (LUXIAN, 2, 2), "{why}")
            }
            other => panic!("{why}: expected a rule error at op 2, got {other:?}"),
        }
        assert_eq!(store.count_entries().await.unwrap(), 1, "{why}: no entry stored");
        assert_eq!(store.head(&county).await.unwrap(), luxian.head, "{why}: head unchanged");
        assert_eq!(store.item(&county, "XK00012000").await.unwrap(), None, "{why}: op 0 undone");
        assert_eq!(
            store.item(&county, "XK00035000").await.unwrap().unwrap().item,
            food_licence(),
            "{why}: op 1 undone"
        );
        assert_eq!(store.snapshot().await.unwrap(), before, "{why}");
    }
    // The same entry without the bad op is accepted afterwards.
    let good = luxian.sign(vec![add(construction_permit()), update("XK00035000", renamed)]);
    store.append(&[good]).await.unwrap();
    assert_eq!(store.count_items(&county).await.unwrap(), 2);
}

async fn refused_entry_undoes_whole_append(store: Store) {
    let mut luxian = Writer::new(LUXIAN, 1);
    let county = division(LUXIAN);
    let e1 = luxian.sign(vec![add(food_licence())]);
    let e2_bad =
        luxian.next(vec![add(construction_permit()), add(water_permit()), cancel("XK00012999", CANCEL_REASON)]);
    let err = store.append(&[e1.clone(), e2_bad]).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule { seq: 2, index: 2, error: RuleError::NoSuchItem(_), .. }), "{err}");
    assert_eq!(store.count_entries().await.unwrap(), 0, "e1 is not stored either");
    assert_eq!(store.head(&county).await.unwrap(), None);
    assert_eq!(store.count_items(&county).await.unwrap(), 0);
    assert!(store.snapshot().await.unwrap().is_empty());

    let e2 = luxian.sign(vec![add(construction_permit())]);
    store.append(&[e1, e2.clone()]).await.unwrap();
    assert_eq!(store.head(&county).await.unwrap(), Some(e2.head()));
    assert_eq!(store.count_items(&county).await.unwrap(), 2);
}

async fn seq_taken_changes_nothing(store: Store) {
    let mut luxian = Writer::new(LUXIAN, 1);
    let county = division(LUXIAN);
    let e1 = luxian.sign(vec![add(food_licence())]);
    store.append(std::slice::from_ref(&e1)).await.unwrap();
    let before = store.snapshot().await.unwrap();
    let fork = Writer::new(LUXIAN, 1).sign(vec![add(construction_permit())]); // another seq 1
    let e2 = luxian.sign(vec![add(water_permit())]);
    for (batch, why) in
        [(vec![e1.clone()], "replay"), (vec![fork], "fork"), (vec![e2.clone(), e2.clone()], "twice in one call")]
    {
        match store.append(&batch).await {
            Err(StoreError::SeqTaken { origin, seq }) => assert_eq!(origin, LUXIAN, "{why}; seq {seq}"),
            other => panic!("{why}: expected SeqTaken, got {other:?}"),
        }
        assert_eq!(store.snapshot().await.unwrap(), before, "{why}");
        assert_eq!(store.count_entries().await.unwrap(), 1, "{why}");
        assert_eq!(store.head(&county).await.unwrap(), Some(e1.head()), "{why}");
    }
    store.append(&[e2]).await.unwrap();
    assert_eq!(store.count_entries().await.unwrap(), 2);
}

async fn entry_not_following_the_head_is_refused(store: Store) {
    let mut luxian = Writer::new(LUXIAN, 1);
    let e1 = luxian.sign(vec![add(food_licence())]);
    store.append(std::slice::from_ref(&e1)).await.unwrap();
    let before = store.snapshot().await.unwrap();
    let _skipped = luxian.sign(vec![add(water_permit())]);
    let gap = luxian.sign(vec![add(construction_permit())]); // seq 3 after head 1
    let mut other_history = Writer::new(LUXIAN, 1);
    other_history.head = Some(quanze_ledger::ChainHead { seq: 1, hash: quanze_ledger::Hash::of(b"another seq 1") });
    let wrong_prev = other_history.sign(vec![add(construction_permit())]); // seq 2, prev not e1
    for (entry, why) in [(gap, "gap"), (wrong_prev, "wrong prev")] {
        match store.append(&[entry]).await {
            Err(StoreError::NotNext { origin, head: 1, .. }) => assert_eq!(origin, LUXIAN, "{why}"),
            other => panic!("{why}: expected NotNext, got {other:?}"),
        }
        assert_eq!(store.snapshot().await.unwrap(), before, "{why}");
        assert_eq!(store.count_entries().await.unwrap(), 1, "{why}");
    }
}

async fn rebuild_equals_incremental(store: Store) {
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    let history = mixed_history(&mut luxian, &mut luzhou, 51);
    for batch in history.chunks(4) {
        store.append(batch).await.unwrap();
    }
    let incremental = store.snapshot().await.unwrap();
    let items = incremental.iter().filter(|l| l.starts_with("item ")).count() as u64;
    let (county, city) = (division(LUXIAN), division(LUZHOU));
    assert_eq!(items, store.count_items(&county).await.unwrap() + store.count_items(&city).await.unwrap());
    assert!(store.count_items(&city).await.unwrap() >= 10 && incremental.iter().any(|l| l.contains("\"cancelled\"")));
    assert_eq!(store.heads().await.unwrap().len(), 2);

    let replayed = store.rebuild(&keys_of(&[&luxian, &luzhou])).await.unwrap();
    assert_eq!(replayed, 51);
    assert_eq!(replayed, store.count_entries().await.unwrap());
    assert_eq!(store.snapshot().await.unwrap(), incremental);
    assert_eq!(store.rebuild(&keys_of(&[&luxian, &luzhou])).await.unwrap(), 51, "rebuild is repeatable");
    assert_eq!(store.snapshot().await.unwrap(), incremental);
}

async fn rebuild_with_wrong_key_keeps_projections(store: Store) {
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    store.append(&mixed_history(&mut luxian, &mut luzhou, 12)).await.unwrap();
    let before = store.snapshot().await.unwrap();

    let impostor = Writer::new(LUZHOU, 3);
    match store.rebuild(&keys_of(&[&luxian, &impostor])).await {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("510500#1"), "{msg}"),
        other => panic!("expected Corrupt for a wrong key, got {other:?}"),
    }
    assert_eq!(store.snapshot().await.unwrap(), before, "projections survive a failed rebuild");
    match store.rebuild(&keys_of(&[&luxian])).await {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("510500"), "{msg}"),
        other => panic!("expected Corrupt for a missing key, got {other:?}"),
    }
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.rebuild(&keys_of(&[&luxian, &luzhou])).await.unwrap(), 12);
    assert_eq!(store.snapshot().await.unwrap(), before);
}

async fn tampered_body_is_detected_by_rebuild(db: &TestDb) {
    let store = db.open().await;
    let mut luxian = Writer::new(LUXIAN, 1);
    let county = division(LUXIAN);
    for ops in [vec![add(food_licence())], vec![add(construction_permit())], vec![cancel("XK00012000", CANCEL_REASON)]]
    {
        store.append(&[luxian.sign(ops)]).await.unwrap();
    }
    let before = store.snapshot().await.unwrap();

    let mut body = db.raw_body(LUXIAN, 2).await;
    let at = body.len() / 2;
    body[at] ^= 0x01;
    db.raw_set_body(LUXIAN, 2, &body).await;

    match store.rebuild(&keys_of(&[&luxian])).await {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains(&format!("{LUXIAN}#2")), "names the entry: {msg}"),
        other => panic!("expected Corrupt for a tampered body, got {other:?}"),
    }
    assert_eq!(store.snapshot().await.unwrap(), before);
    // Readers of the raw log find the same entry.
    let stored = store.entries(&county, 0, 10).await.unwrap();
    let (seq, _) = verify_chain(&county, &luxian.public(), stored.into_iter().map(|s| s.entry)).unwrap_err();
    assert_eq!(seq, 2);
}

async fn read_only_store_reads_existing_data(db: &TestDb) {
    let store = db.open().await;
    let (mut luxian, _, _) = county_and_city(&store).await;
    let before = store.snapshot().await.unwrap();
    store.close().await;

    let reader = Store::open_read_only(db.url()).await.unwrap();
    db.keep(&reader);
    let county = division(LUXIAN);
    assert_eq!(reader.item(&county, "XK00035000").await.unwrap().unwrap().item, food_licence());
    assert_eq!(reader.items(&county, &all()).await.unwrap().total, 6);
    assert_eq!(reader.head(&county).await.unwrap(), luxian.head);
    assert_eq!(reader.snapshot().await.unwrap(), before);
    assert_eq!(reader.entries_in_arrival_order(0, 100).await.unwrap().len(), 4);
    let refused = reader.append(&[luxian.sign(vec![add(food_seizure())])]).await;
    assert!(matches!(refused, Err(StoreError::Db(_))), "a read-only store refuses writes: {refused:?}");
    assert_eq!(reader.count_entries().await.unwrap(), 4);
}

async fn foreign_database_is_refused(db: &TestDb) {
    db.raw_execute("CREATE TABLE invoices (id BIGINT PRIMARY KEY, amount_fen BIGINT NOT NULL)").await;
    db.raw_execute("INSERT INTO invoices (id, amount_fen) VALUES (1, 12800)").await;
    let tables = db.raw_table_names().await;
    for read_only in [true, false] {
        let opened = if read_only { Store::open_read_only(db.url()).await } else { Store::open(db.url()).await };
        match opened {
            Err(StoreError::Format(_)) => {}
            Ok(store) => {
                store.close().await;
                panic!("a database holding other tables was opened as a store (read_only {read_only})");
            }
            Err(e) => panic!("expected a format error (read_only {read_only}), got {e:?}"),
        }
        assert_eq!(db.raw_table_names().await, tables, "the foreign database is left as it was");
    }
}

async fn reopening_keeps_everything(db: &TestDb) {
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    let store = db.open().await;
    store.append(&mixed_history(&mut luxian, &mut luzhou, 20)).await.unwrap();
    let (snapshot, heads) = (store.snapshot().await.unwrap(), store.heads().await.unwrap());
    let arrived = store.entries_in_arrival_order(0, 100).await.unwrap();
    store.close().await;

    let store = db.open().await;
    assert_eq!(store.snapshot().await.unwrap(), snapshot);
    assert_eq!(store.heads().await.unwrap(), heads);
    let again = store.entries_in_arrival_order(0, 100).await.unwrap();
    let key = |s: &quanze_store::StoredEntry| (s.local_id, s.origin.clone(), s.seq, s.hash.clone(), s.entry.clone());
    assert_eq!(again.iter().map(key).collect::<Vec<_>>(), arrived.iter().map(key).collect::<Vec<_>>());
    // The log goes on from the stored head, and a rebuild agrees with what was kept.
    store.append(&[luxian.sign(vec![add(food_licence())])]).await.unwrap();
    assert_eq!(store.head(&division(LUXIAN)).await.unwrap(), luxian.head);
    assert_eq!(store.rebuild(&keys_of(&[&luxian, &luzhou])).await.unwrap(), 21);
}

#[tokio::test]
async fn unknown_urls_are_refused() {
    for url in ["mysql://x", "mysql://quanze@127.0.0.1/quanze", "http://example.org/db", "", "sqlite:", "sqlite://"] {
        match Store::open(url).await {
            Err(StoreError::InvalidUrl(u)) => assert_eq!(u, url),
            other => panic!("{url:?}: expected InvalidUrl, got {other:?}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let missing = missing.to_str().unwrap();
    assert!(matches!(Store::open_read_only(missing).await, Err(StoreError::Format(_))));
    assert!(!std::path::Path::new(missing).exists(), "a read-only open creates no file");
}

#[tokio::test]
async fn sqlite_url_forms_name_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    let path = path.to_str().unwrap();
    let store = Store::open(path).await.unwrap();
    let mut luxian = Writer::new(LUXIAN, 1);
    store.append(&[luxian.sign(vec![add(food_licence())])]).await.unwrap();
    store.close().await;
    for url in [format!("sqlite://{path}"), format!("sqlite:{path}")] {
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.head(&division(LUXIAN)).await.unwrap(), luxian.head, "{url}");
        store.close().await;
    }
}

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(common::db::with_database("postgres://u:p@h:5432/quanze", "t1"), "postgres://u:p@h:5432/t1");
    assert_eq!(
        common::db::with_database("postgres://u:p@h/quanze?sslmode=disable", "t1"),
        "postgres://u:p@h/t1?sslmode=disable"
    );
    assert_eq!(common::db::with_database("postgresql://h", "t1"), "postgresql://h/t1");
    assert_eq!(common::db::redact("postgres://u:secret@h:5432/quanze"), "postgres://…@h:5432/quanze");
}
