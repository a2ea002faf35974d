//! Property test of delivery order, on SQLite: the four-tier federation's logs (enrolments, key
//! rotations, item adds and updates), delivered to fresh stores in random interleavings that keep
//! each origin's order, cut into random batches, with every entry parked as `NOT_ENROLLED` sent
//! again — at the head of the next batch, so each origin's order still holds, and once more
//! until nothing changes. Every store must end up holding every entry, with a `snapshot()`
//! byte-identical across interleavings and to the ancestors-first delivery, no refusal
//! recorded, and a `rebuild` (with no fallback key) giving the same snapshot.
//! 64 cases, each with three fresh database files (most of the time goes to Ed25519 in debug builds).

mod common;

use common::data::*;
use common::db::TestDb;
use proptest::prelude::*;
use quanze_domain::{DivisionCode, Enrolment, Op};
use quanze_ledger::{PublicKey, VerifiedEntry};
use quanze_store::{Delivery, Store};

/// What each of the four logs (province, city, county, township) holds.
#[derive(Debug, Clone)]
struct Plan {
    /// Entries per log.
    lens: [usize; 4],
    /// For the province, city and county: which of its entries enrols the child (mod its length).
    enrol_at: [usize; 3],
    /// Which entry, if any, names the origin's next key (mod its length).
    rotate_at: [Option<usize>; 4],
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::array::uniform4(1usize..=4),
        prop::array::uniform3(0usize..4),
        prop::array::uniform4(prop::option::weighted(0.3, 0usize..4)),
    )
        .prop_map(|(lens, enrol_at, rotate_at)| Plan { lens, enrol_at, rotate_at })
}

/// One delivery: the merge order (an origin index per entry) and the batch sizes, cycled.
#[derive(Debug, Clone)]
struct Delivering {
    order: Vec<usize>,
    batches: Vec<usize>,
}

fn case() -> impl Strategy<Value = (Plan, Vec<Delivering>)> {
    plan().prop_flat_map(|plan| {
        let origins: Vec<usize> = (0..4).flat_map(|i| std::iter::repeat_n(i, plan.lens[i])).collect();
        let delivering = (Just(origins).prop_shuffle(), prop::collection::vec(1usize..=5, 1..6))
            .prop_map(|(order, batches)| Delivering { order, batches });
        (Just(plan), prop::collection::vec(delivering, 2))
    })
}

/// The four logs the plan describes, signed; the seed of each node's next key is 40 + tier.
fn logs(plan: &Plan) -> [Vec<VerifiedEntry>; 4] {
    let fed = Federation::new();
    let mut writers = [fed.province, fed.city, fed.county, fed.township];
    let mut logs: [Vec<VerifiedEntry>; 4] = Default::default();
    for tier in 0..4 {
        let name = Federation::NAMES[tier];
        let len = plan.lens[tier];
        for j in 0..len {
            let mut ops = Vec::new();
            if tier < 3 && j == plan.enrol_at[tier] % len {
                ops.push(enrol(&writers[tier + 1], Federation::NAMES[tier + 1]));
            }
            ops.push(add(catalogue_item(j, 100 + j as u32, name)));
            if j > 0 {
                let code = catalogue_item(j - 1, 99 + j as u32, name).code;
                ops.push(update(&code, move_to(&format!("{name}行政审批局（第{j}次）"))));
            }
            let rotates = plan.rotate_at[tier].is_some_and(|r| r % len == j);
            let seed = 40 + tier as u8;
            if rotates {
                let seq = writers[tier].seq() + 1;
                let current = writers[tier].enrolment(name, seq + 1);
                ops.push(Op::Enroll { enrolment: Enrolment { key: public_of(seed).to_hex(), ..current } });
            }
            logs[tier].push(writers[tier].sign(ops));
            if rotates {
                writers[tier].use_key(seed);
            }
        }
    }
    logs
}

fn no_fallback(_: &DivisionCode, _: u64) -> Option<PublicKey> {
    None
}

/// Delivers `batch`; returns the entries parked as `NOT_ENROLLED` (in order), the number applied
/// and any other outcome, described.
async fn deliver(store: &Store, batch: Vec<VerifiedEntry>) -> (Vec<VerifiedEntry>, usize, Vec<String>) {
    let outcomes = store.ingest("peer", unverified(&batch)).await.unwrap();
    assert_eq!(outcomes.len(), batch.len());
    let (mut parked, mut applied, mut other) = (Vec::new(), 0, Vec::new());
    for (entry, d) in batch.into_iter().zip(outcomes) {
        match d {
            Delivery::Applied { .. } => applied += 1,
            Delivery::Refused { code, .. } if code == "NOT_ENROLLED" => parked.push(entry),
            d => other.push(format!("{}#{}: {d:?}", entry.origin(), entry.seq())),
        }
    }
    (parked, applied, other)
}

/// Delivers the logs in the order `d` gives, re-sending parked entries; returns the final
/// snapshot, after checking that every entry is held and the store rebuilds to the same state.
async fn deliver_in_order(logs: &[Vec<VerifiedEntry>; 4], d: &Delivering) -> Result<Vec<String>, TestCaseError> {
    let db = TestDb::sqlite("delivery_order_prop").await.unwrap();
    let store = db.open().await;
    store.set_trust_root(&division(SICHUAN), &Federation::new().province.public()).await.unwrap();
    let mut cursors = [0usize; 4];
    let stream: Vec<VerifiedEntry> = d
        .order
        .iter()
        .map(|&i| {
            cursors[i] += 1;
            logs[i][cursors[i] - 1].clone()
        })
        .collect();
    let (mut pending, mut rest, mut round) = (Vec::new(), &stream[..], 0);
    let mut unexpected = Vec::new();
    while !rest.is_empty() {
        let n = d.batches[round % d.batches.len()].min(rest.len());
        round += 1;
        let batch: Vec<VerifiedEntry> = pending.drain(..).chain(rest[..n].iter().cloned()).collect();
        rest = &rest[n..];
        let (parked, _, other) = deliver(&store, batch).await;
        pending = parked;
        unexpected.extend(other);
    }
    while !pending.is_empty() {
        let (parked, applied, other) = deliver(&store, std::mem::take(&mut pending)).await;
        pending = parked;
        unexpected.extend(other);
        if applied == 0 {
            break;
        }
    }
    prop_assert!(unexpected.is_empty(), "outcomes other than applied / parked: {unexpected:#?}");
    prop_assert!(pending.is_empty(), "never applied: {:?}", pending.iter().map(|e| e.entry_ref()).collect::<Vec<_>>());
    let total: usize = logs.iter().map(Vec::len).sum();
    prop_assert_eq!(store.count_entries().await.unwrap(), total as u64);
    let heads: Vec<String> = store.heads().await.unwrap().into_iter().map(|(o, h)| format!("{o}#{}", h.seq)).collect();
    let expected: Vec<String> = logs.iter().map(|l| format!("{}#{}", l[0].origin(), l.len())).collect();
    prop_assert_eq!(heads, expected);
    prop_assert!(store.refusals(10).await.unwrap().is_empty(), "refusals recorded");
    let snapshot = store.snapshot().await.unwrap();
    prop_assert_eq!(store.rebuild(&no_fallback).await.unwrap(), total as u64);
    prop_assert_eq!(&store.snapshot().await.unwrap(), &snapshot, "rebuild equals incremental delivery");
    db.finish().await;
    Ok(snapshot)
}

async fn check(plan: Plan, deliveries: Vec<Delivering>) -> Result<(), TestCaseError> {
    let logs = logs(&plan);
    // Ancestors first, one entry per batch: every key is known before the entries it signs.
    let reference =
        Delivering { order: (0..4).flat_map(|i| std::iter::repeat_n(i, plan.lens[i])).collect(), batches: vec![1] };
    let expected = deliver_in_order(&logs, &reference).await?;
    prop_assert!(expected.iter().filter(|l| l.starts_with("enrolment ")).count() >= 3);
    for d in &deliveries {
        let snapshot = deliver_in_order(&logs, d).await?;
        prop_assert_eq!(&snapshot, &expected, "order {:?}, batches {:?}", d.order, d.batches);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_converges_to_one_state((plan, deliveries) in case()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(plan, deliveries))?;
    }
}
