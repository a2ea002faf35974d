//! Merkle trees and cosigned checkpoints in the store, on every backend: roots and proofs read
//! from the incrementally filled subtree table equal the ledger's computation over the entry
//! hashes and verify; the cosignature's compare-and-set refuses a stale size and changes
//! nothing; stored checkpoints verify again after a round trip.

mod common;

use std::collections::HashMap;

use common::data::*;
use common::on_each_backend;
use quanze_ledger::merkle::{self, NodeId};
use quanze_ledger::{Checkpoint, CosignedCheckpoint, Hash, NodeKey, SignedCheckpoint, VerifiedEntry};
use quanze_store::{CosignOutcome, ProofError, Store};

on_each_backend! {
    roots_and_proofs_match_the_ledger
        => sqlite_roots_and_proofs_match_the_ledger, postgres_roots_and_proofs_match_the_ledger;
    cosignature_is_a_compare_and_set
        => sqlite_cosignature_is_a_compare_and_set, postgres_cosignature_is_a_compare_and_set;
}

/// The ledger's own tree over `origin`'s entries among `history`.
fn ledger_tree(history: &[VerifiedEntry], origin: &quanze_domain::DivisionCode) -> (HashMap<NodeId, Hash>, Vec<Hash>) {
    let leaves: Vec<Hash> =
        history.iter().filter(|e| e.origin() == origin).map(|e| merkle::entry_leaf(&e.hash())).collect();
    let nodes = merkle::extend(&HashMap::new(), 0, &leaves).unwrap().into_iter().collect();
    (nodes, leaves)
}

async fn roots_and_proofs_match_the_ledger(store: Store) {
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    let history = mixed_history(&mut luxian, &mut luzhou, 60);
    let origin = luxian.origin.clone();
    let (tree, leaves) = ledger_tree(&history, &origin);
    let n = leaves.len() as u64;
    assert_eq!(n, 40);

    // Half the log, filled; then the rest arrives and the table is extended on demand.
    store.append(&history[..30]).await.unwrap();
    assert_eq!(store.merkle_fill(&origin).await.unwrap(), 20);
    assert_eq!(store.merkle_root(&origin, 20).await.unwrap(), merkle::root(&tree, 20).unwrap());
    assert!(matches!(store.merkle_root(&origin, 21).await, Err(ProofError::BeyondLog { size: 21, held: 20, .. })));
    store.append(&history[30..]).await.unwrap();

    for size in [1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 40] {
        let root = store.merkle_root(&origin, size).await.unwrap();
        assert_eq!(root, merkle::root(&tree, size).unwrap(), "root of {size}");
        for seq in [1, size / 2 + 1, size] {
            let proof = store.inclusion_proof(&origin, seq, size).await.unwrap();
            let leaf = leaves[(seq - 1) as usize];
            merkle::verify_inclusion(&leaf, seq - 1, size, &proof, &root).unwrap();
        }
        for old in [1, size / 2, size] {
            let proof = store.consistency_proof(&origin, old, size).await.unwrap();
            let old_root = store.merkle_root(&origin, old).await.unwrap();
            merkle::verify_consistency(old, size, &old_root, &root, &proof).unwrap();
        }
    }
    assert_eq!(store.merkle_fill(&origin).await.unwrap(), n);
    assert!(matches!(store.inclusion_proof(&origin, 0, 5).await, Err(ProofError::Merkle(_))));
    assert!(matches!(store.inclusion_proof(&origin, 6, 5).await, Err(ProofError::Merkle(_))));
    assert!(matches!(store.consistency_proof(&origin, 6, 5).await, Err(ProofError::Merkle(_))));
    // The other log's tree is its own.
    let other = luzhou.origin.clone();
    let (other_tree, _) = ledger_tree(&history, &other);
    assert_eq!(store.merkle_root(&other, 20).await.unwrap(), merkle::root(&other_tree, 20).unwrap());
}

fn cosigned(child: &NodeKey, parent: &NodeKey, parent_code: &str, size: u64, root: Hash) -> CosignedCheckpoint {
    let body = Checkpoint { origin: division(LUXIAN), size, root, at: format!("2026-12-03T08:00:{size:02}.000Z") };
    SignedCheckpoint::sign(child, body).unwrap().cosign(division(parent_code), parent).unwrap()
}

async fn cosignature_is_a_compare_and_set(store: Store) {
    let (child, parent) = (NodeKey::from_seed(&[1; 32]), NodeKey::from_seed(&[2; 32]));
    let origin = division(LUXIAN);
    let first = cosigned(&child, &parent, LUZHOU, 5, Hash::of(b"five"));
    assert_eq!(store.cosign_commit(&first, 0).await.unwrap(), CosignOutcome::Cosigned);
    assert_eq!(store.cosign_head(&origin).await.unwrap(), Some((5, Hash::of(b"five"))));

    // A second "first" checkpoint, or one from a size that is not the last, changes nothing.
    let racing = cosigned(&child, &parent, LUZHOU, 6, Hash::of(b"six"));
    assert_eq!(store.cosign_commit(&racing, 0).await.unwrap(), CosignOutcome::Stale { current_size: 5 });
    assert_eq!(store.cosign_commit(&racing, 3).await.unwrap(), CosignOutcome::Stale { current_size: 5 });
    assert_eq!(store.cosign_head(&origin).await.unwrap(), Some((5, Hash::of(b"five"))));
    assert_eq!(store.latest_checkpoint(&origin).await.unwrap().unwrap().size, 5);

    let next = cosigned(&child, &parent, LUZHOU, 9, Hash::of(b"nine"));
    assert_eq!(store.cosign_commit(&next, 5).await.unwrap(), CosignOutcome::Cosigned);
    assert_eq!(store.cosign_commit(&racing, 5).await.unwrap(), CosignOutcome::Stale { current_size: 9 });

    // Stored rows verify again with the same keys, and only with them.
    let latest = store.latest_checkpoints().await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0].origin.as_str(), latest[0].size, latest[0].root), (LUXIAN, 9, Hash::of(b"nine")));
    let wire = latest[0].to_wire().unwrap();
    let again = CosignedCheckpoint::verify(wire.clone(), &child.public(), &parent.public()).unwrap();
    assert_eq!(again, next);
    assert!(CosignedCheckpoint::verify(wire, &parent.public(), &child.public()).is_err());

    // A relayed copy of an older checkpoint is kept but is not the latest.
    store.put_checkpoint(&first).await.unwrap();
    store.put_checkpoint(&first).await.unwrap();
    assert_eq!(store.latest_checkpoint(&origin).await.unwrap().unwrap().size, 9);

    store
        .record_checkpoint_refusal("child 510521", &origin, 12, "CHECKPOINT_INCONSISTENT", "根哈希不符")
        .await
        .unwrap();
    let refusals = store.refusals(5).await.unwrap();
    assert_eq!((refusals[0].code.as_str(), refusals[0].seq), ("CHECKPOINT_INCONSISTENT", 12));
}
