//! Tests of `merkle.rs` against a reference written literally from RFC 9162 §2.1 (recursive
//! MTH, PATH, PROOF/SUBPROOF over the leaf data), published RFC 6962 vectors, and tampering.

#![allow(clippy::needless_range_loop)] // indices are leaf positions, as in the RFC

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

// ---- The reference: RFC 9162 §2.1 word for word, over the leaf data. ----

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => Hash::of(b""),
        1 => leaf_hash(&d[0]),
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn reference_proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    if m == 0 { Vec::new() } else { subproof(m, d, true) }
}

// ---- The efficient side, from an in-memory table of perfect subtrees. ----

fn data(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| Hash::of(&(i as u64).to_be_bytes()).0.to_vec()).collect()
}

fn table(d: &[Vec<u8>]) -> HashMap<NodeId, Hash> {
    let leaves: Vec<Hash> = d.iter().map(|x| leaf_hash(x)).collect();
    extend(&HashMap::new(), 0, &leaves).unwrap().into_iter().collect()
}

fn h(hex: &str) -> Hash {
    hex.parse().unwrap()
}

/// The leaves and roots of the RFC 6962 test vectors (certificate-transparency, Trillian).
#[test]
fn published_rfc6962_roots() {
    let leaves: Vec<Vec<u8>> =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|x| hex::decode(x).unwrap())
            .collect();
    let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let t = table(&leaves);
    for (n, expected) in roots.iter().enumerate() {
        assert_eq!(mth(&leaves[..n]), h(expected), "reference root of {n}");
        assert_eq!(root(&t, n as u64).unwrap(), h(expected), "root of {n}");
    }
}

/// Sizes 0, 1, powers of two and their neighbours.
fn interesting_sizes() -> Vec<usize> {
    let mut sizes = vec![0, 1];
    for p in 1..=8 {
        sizes.extend([(1 << p) - 1, 1 << p, (1 << p) + 1]);
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

#[test]
fn roots_equal_the_reference_at_interesting_sizes() {
    let d = data(300);
    let t = table(&d);
    assert_eq!(root(&t, 0).unwrap(), empty_root());
    for n in interesting_sizes() {
        assert_eq!(root(&t, n as u64).unwrap(), mth(&d[..n]), "size {n}");
    }
}

#[test]
fn every_proof_up_to_70_equals_the_reference_and_verifies() {
    let d = data(70);
    let t = table(&d);
    for n in 0..=70usize {
        let root_n = mth(&d[..n]);
        for m in 0..n {
            let proof = inclusion_proof(&t, m as u64, n as u64).unwrap();
            assert_eq!(proof, path(m, &d[..n]), "inclusion {m} in {n}");
            verify_inclusion(&leaf_hash(&d[m]), m as u64, n as u64, &proof, &root_n).unwrap();
        }
        for m in 0..=n {
            let proof = consistency_proof(&t, m as u64, n as u64).unwrap();
            assert_eq!(proof, reference_proof(m, &d[..n]), "consistency {m} → {n}");
            verify_consistency(m as u64, n as u64, &mth(&d[..m]), &root_n, &proof).unwrap();
        }
    }
}

fn flipped(proof: &[Hash], at: usize, bit: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[at].0[bit / 8] ^= 1 << (bit % 8);
    p
}

#[test]
fn tampered_inclusion_proofs_fail() {
    let d = data(70);
    let t = table(&d);
    for n in interesting_sizes().into_iter().filter(|n| (1..=65).contains(n)) {
        let root_n = mth(&d[..n]);
        for m in 0..n {
            let leaf = leaf_hash(&d[m]);
            let proof = inclusion_proof(&t, m as u64, n as u64).unwrap();
            let check = |p: &[Hash]| verify_inclusion(&leaf, m as u64, n as u64, p, &root_n);
            for at in 0..proof.len() {
                for bit in [0, 7, 100, 255] {
                    assert_eq!(check(&flipped(&proof, at, bit)), Err(MerkleError::RootMismatch));
                }
            }
            if !proof.is_empty() {
                assert_eq!(check(&proof[..proof.len() - 1]), Err(MerkleError::ProofLength));
                assert!(check(&proof[1..]).is_err());
            }
            let mut padded = proof.clone();
            padded.push(leaf);
            assert_eq!(check(&padded), Err(MerkleError::ProofLength));
            let mut front = vec![leaf];
            front.extend_from_slice(&proof);
            assert!(check(&front).is_err());
            assert!(verify_inclusion(&leaf_hash(b"other"), m as u64, n as u64, &proof, &root_n).is_err());
            if n > 1 {
                let other = (m + 1) % n;
                assert!(verify_inclusion(&leaf, other as u64, n as u64, &proof, &root_n).is_err(), "{m} as {other}");
            }
        }
        assert_eq!(
            verify_inclusion(&leaf_hash(&d[0]), n as u64, n as u64, &[], &root_n),
            Err(MerkleError::IndexOutOfRange { index: n as u64, size: n as u64 })
        );
        assert_eq!(
            inclusion_proof(&t, n as u64, n as u64),
            Err(MerkleError::IndexOutOfRange { index: n as u64, size: n as u64 })
        );
    }
}

#[test]
fn tampered_consistency_proofs_fail() {
    let d = data(70);
    let t = table(&d);
    for n in interesting_sizes().into_iter().filter(|n| (1..=65).contains(n)) {
        let new_root = mth(&d[..n]);
        for m in 1..n {
            let old_root = mth(&d[..m]);
            let proof = consistency_proof(&t, m as u64, n as u64).unwrap();
            let check = |p: &[Hash]| verify_consistency(m as u64, n as u64, &old_root, &new_root, p);
            for at in 0..proof.len() {
                for bit in [0, 9, 128, 255] {
                    assert!(check(&flipped(&proof, at, bit)).is_err(), "{m} → {n}: flip {at}/{bit}");
                }
            }
            assert!(check(&proof[..proof.len() - 1]).is_err(), "{m} → {n} truncated");
            assert!(check(&[]).is_err());
            let mut padded = proof.clone();
            padded.push(new_root);
            assert!(check(&padded).is_err(), "{m} → {n} padded");
            let mut front = vec![old_root];
            front.extend_from_slice(&proof);
            assert!(check(&front).is_err(), "{m} → {n} prefixed");
            // A root that is not the other tree's.
            let wrong = mth(&d[1..=m]);
            assert!(verify_consistency(m as u64, n as u64, &wrong, &new_root, &proof).is_err());
            assert!(verify_consistency(m as u64, n as u64, &old_root, &wrong, &proof).is_err());
        }
        // Sizes that make no proof.
        assert_eq!(
            consistency_proof(&t, n as u64 + 1, n as u64),
            Err(MerkleError::SizeOrder { old: n as u64 + 1, new: n as u64 })
        );
        assert_eq!(
            verify_consistency(n as u64 + 1, n as u64, &new_root, &new_root, &[]),
            Err(MerkleError::SizeOrder { old: n as u64 + 1, new: n as u64 })
        );
        assert_eq!(
            verify_consistency(0, n as u64, &empty_root(), &new_root, &[new_root]),
            Err(MerkleError::ProofLength)
        );
        assert_eq!(verify_consistency(0, n as u64, &new_root, &new_root, &[]), Err(MerkleError::RootMismatch));
        assert_eq!(
            verify_consistency(n as u64, n as u64, &new_root, &new_root, &[new_root]),
            Err(MerkleError::ProofLength)
        );
        assert_eq!(
            verify_consistency(n as u64, n as u64, &empty_root(), &new_root, &[]),
            Err(MerkleError::RootMismatch)
        );
    }
}

#[test]
fn extending_in_steps_needs_only_the_frontier_and_matches_one_step() {
    let d = data(200);
    let leaves: Vec<Hash> = d.iter().map(|x| leaf_hash(x)).collect();
    let whole = table(&d);
    let mut stepwise: HashMap<NodeId, Hash> = HashMap::new();
    let mut size = 0usize;
    for step in [1usize, 1, 2, 3, 5, 8, 13, 21, 34, 55, 57] {
        let only_frontier: HashMap<NodeId, Hash> =
            frontier(size as u64).into_iter().map(|id| (id, stepwise[&id])).collect();
        let added = extend(&only_frontier, size as u64, &leaves[size..size + step]).unwrap();
        stepwise.extend(added);
        size += step;
        assert_eq!(root(&stepwise, size as u64).unwrap(), mth(&d[..size]), "after {size}");
    }
    assert_eq!(size, 200);
    assert_eq!(stepwise, whole);
    assert_eq!(
        extend(&HashMap::new(), 5, &leaves[5..6]),
        Err(MerkleError::MissingSubtree(NodeId { level: 0, index: 4 }))
    );
}

#[test]
fn a_missing_subtree_is_named() {
    let t: HashMap<NodeId, Hash> = HashMap::new();
    assert_eq!(root(&t, 3), Err(MerkleError::MissingSubtree(NodeId { level: 0, index: 2 })));
    assert!(matches!(
        range_hash(&t, LeafRange { start: 1, len: 2 }),
        Err(MerkleError::Unaligned(LeafRange { start: 1, len: 2 }))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random sizes: the proofs equal the reference, verify, and fail once any bit is flipped.
    #[test]
    fn random_proofs_verify_and_tampering_fails(
        n in 1usize..600,
        m_seed in any::<usize>(),
        i_seed in any::<usize>(),
        at_seed in any::<usize>(),
        bit in 0usize..256,
    ) {
        let d = data(n);
        let t = table(&d);
        let root_n = mth(&d);
        prop_assert_eq!(root(&t, n as u64).unwrap(), root_n);

        let i = i_seed % n;
        let proof = inclusion_proof(&t, i as u64, n as u64).unwrap();
        prop_assert_eq!(&proof, &path(i, &d));
        prop_assert!(verify_inclusion(&leaf_hash(&d[i]), i as u64, n as u64, &proof, &root_n).is_ok());
        if !proof.is_empty() {
            let bad = flipped(&proof, at_seed % proof.len(), bit);
            prop_assert!(verify_inclusion(&leaf_hash(&d[i]), i as u64, n as u64, &bad, &root_n).is_err());
        }

        let m = 1 + m_seed % n;
        let old_root = mth(&d[..m]);
        let cproof = consistency_proof(&t, m as u64, n as u64).unwrap();
        prop_assert_eq!(&cproof, &reference_proof(m, &d));
        prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &root_n, &cproof).is_ok());
        if !cproof.is_empty() {
            let bad = flipped(&cproof, at_seed % cproof.len(), bit);
            prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &root_n, &bad).is_err());
            prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &root_n, &cproof[1..]).is_err());
        }
    }
}
