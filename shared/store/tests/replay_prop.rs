//! Property test of the store against the domain rules, on SQLite: for random sequences of item
//! ops on four codes, each appended as its own entry, the store accepts exactly the ops
//! `apply_item_op` accepts, a refused op leaves the snapshot unchanged, the list then equals a
//! model kept with `apply_item_op`, and `rebuild` from the entries yields the same snapshot.
//! Few cases (16): each one uses a fresh database file.

mod common;

use std::collections::BTreeMap;

use common::data::*;
use common::db::TestDb;
use proptest::prelude::*;
use quanze_domain::{ItemPatch, Op, PowerItem, RuleError, TimeLimit, apply_item_op};
use quanze_store::StoreError;

#[derive(Debug, Clone)]
enum Action {
    Add { slot: usize, valid: bool },
    Update { slot: usize, patch: u8 },
    Cancel { slot: usize, with_reason: bool },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..4usize, prop::bool::weighted(0.85)).prop_map(|(slot, valid)| Action::Add { slot, valid }),
        3 => (0..4usize, 0..5u8).prop_map(|(slot, patch)| Action::Update { slot, patch }),
        1 => (0..4usize, prop::bool::weighted(0.85))
            .prop_map(|(slot, with_reason)| Action::Cancel { slot, with_reason }),
    ]
}

/// The four codes the ops play on.
fn slot_item(slot: usize) -> PowerItem {
    [food_licence, construction_permit, food_penalty, food_seizure][slot]()
}

fn op(action: &Action) -> Op {
    match *action {
        Action::Add { slot, valid } => {
            let mut item = slot_item(slot);
            if !valid {
                item.basis.clear();
            }
            add(item)
        }
        Action::Update { slot, patch } => {
            let patch = match patch {
                0 => ItemPatch { name: Some(format!("{}（调整）", slot_item(slot).name)), ..Default::default() },
                1 => ItemPatch {
                    time_limit: Some(TimeLimit { legal_days: Some(20), promised_days: Some(5) }),
                    ..Default::default()
                },
                2 => move_to("泸县综合行政执法局"),
                3 => ItemPatch::default(), // refused: empty
                _ => ItemPatch {
                    time_limit: Some(TimeLimit { legal_days: Some(10), promised_days: Some(15) }),
                    ..Default::default()
                }, // refused: invalid
            };
            update(&slot_item(slot).code, patch)
        }
        Action::Cancel { slot, with_reason } => cancel(
            &slot_item(slot).code,
            if with_reason {
                "依据《国务院关于取消和下放一批行政许可事项的决定》取消"
            } else {
                " "
            },
        ),
    }
}

/// The store checks an added item before looking for its code, the domain the other way round;
/// both refuse, so for adds only the refusal itself must agree.
fn same_refusal(op: &Op, store: &RuleError, domain: &RuleError) -> bool {
    store == domain || matches!(op, Op::ItemAdd { .. })
}

async fn check(actions: Vec<Action>) {
    let db = TestDb::sqlite("replay_prop").await.unwrap();
    let store = db.open().await;
    let node = division(LUXIAN);
    let mut writer = Writer::new(LUXIAN, 7);
    let mut model: BTreeMap<String, PowerItem> = BTreeMap::new();
    let mut accepted = 0u64;
    for action in &actions {
        let op = op(action);
        let expected = apply_item_op(op.item_code().and_then(|c| model.get(c)), &op);
        let before = store.snapshot().await.unwrap();
        let entry = writer.next(vec![op.clone()]);
        match (store.append(std::slice::from_ref(&entry)).await, expected) {
            (Ok(()), Ok(item)) => {
                writer.head = Some(entry.head());
                model.insert(item.code.clone(), item);
                accepted += 1;
            }
            (Err(StoreError::Rule { index: 0, error, .. }), Err(rule)) => {
                assert!(same_refusal(&op, &error, &rule), "{action:?}: store says {error}, domain says {rule}");
                assert_eq!(store.snapshot().await.unwrap(), before, "{action:?} refused but left traces");
            }
            (got, want) => panic!("{action:?}: store gave {got:?}, domain rules give {want:?}"),
        }
    }
    let listed: Vec<PowerItem> = store.items(&node, &all()).await.unwrap().items.into_iter().map(|r| r.item).collect();
    assert_eq!(listed, model.into_values().collect::<Vec<_>>());
    assert_eq!(store.count_entries().await.unwrap(), accepted);
    let incremental = store.snapshot().await.unwrap();
    assert_eq!(store.rebuild(&keys_of(&[&writer])).await.unwrap(), accepted);
    assert_eq!(store.snapshot().await.unwrap(), incremental);
    db.finish().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn store_follows_the_rules_and_rebuild_replays_it(actions in prop::collection::vec(action(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(actions));
    }
}
