//! Merkle trees over a log, as RFC 9162 §2.1 defines them: the tree hash (MTH), inclusion
//! proofs (PATH) and consistency proofs (PROOF/SUBPROOF), their generation and verification.
//!
//! Hashing: `MTH({}) = SHA-256("")`, a leaf is `SHA-256(0x00 || data)`, a node is
//! `SHA-256(0x01 || left || right)`, and a range of n > 1 leaves splits at the largest power of
//! two below n. The leaf data of the entry at seq s (leaf index s − 1) is the entry's 32-byte
//! SHA-256 hash, which already commits to its canonical bytes.
//!
//! Generation never walks the leaves. Every range the RFC's recursions meet starts at a multiple
//! of a power of two at least as large as the range, so its hash is the right-to-left fold of the
//! *perfect* (complete, aligned) subtrees of its length's binary decomposition. Callers hand in a
//! [`SubtreeSource`] that answers "the hash of perfect subtree (level, index)" — an in-memory
//! map in tests, a table filled incrementally by the store ([`extend`]) — so a root or a proof
//! for any size costs O(log² n) lookups. [`needed_subtrees`] says which ones beforehand, so an
//! asynchronous store can fetch them in one query.
//!
//! Must not touch: I/O of any kind, entries' bytes, keys or signatures.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::hash::Hash;

/// A perfect subtree: the 2^level leaves from `index · 2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The leaves `[start, start + len)`; `start` is a multiple of a power of two ≥ `len` whenever
/// the range comes from this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafRange {
    pub start: u64,
    pub len: u64,
}

/// Why a proof or a root could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("叶子序号 {index} 超出树大小 {size} / leaf index out of range")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("旧树大小 {old} 大于新树大小 {new} / old size exceeds new size")]
    SizeOrder { old: u64, new: u64 },
    #[error("证明长度不符 / proof has the wrong number of hashes")]
    ProofLength,
    #[error("证明与根哈希不符 / proof does not lead to the root")]
    RootMismatch,
    #[error("缺少子树 ({}, {}) 的哈希 / perfect subtree not available", .0.level, .0.index)]
    MissingSubtree(NodeId),
    #[error("范围 [{}, +{}) 未按 2 的幂对齐 / range not aligned", .0.start, .0.len)]
    Unaligned(LeafRange),
}

impl MerkleError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MerkleError::IndexOutOfRange { .. } => "PROOF_INDEX_RANGE",
            MerkleError::SizeOrder { .. } => "PROOF_SIZE_ORDER",
            MerkleError::ProofLength => "PROOF_LENGTH",
            MerkleError::RootMismatch => "PROOF_ROOT_MISMATCH",
            MerkleError::MissingSubtree(_) => "PROOF_SUBTREE_MISSING",
            MerkleError::Unaligned(_) => "PROOF_RANGE_UNALIGNED",
        }
    }
}

/// The hashes of perfect subtrees of one tree (or of any longer tree: they never change).
pub trait SubtreeSource {
    fn subtree(&self, id: NodeId) -> Option<Hash>;
}

impl SubtreeSource for HashMap<NodeId, Hash> {
    fn subtree(&self, id: NodeId) -> Option<Hash> {
        self.get(&id).copied()
    }
}

impl SubtreeSource for BTreeMap<NodeId, Hash> {
    fn subtree(&self, id: NodeId) -> Option<Hash> {
        self.get(&id).copied()
    }
}

/// `MTH({})`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Hash::of(b"")
}

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The leaf of the entry whose hash is `entry_hash`.
pub fn entry_leaf(entry_hash: &Hash) -> Hash {
    leaf_hash(entry_hash.as_bytes())
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    Hash(h.finalize().into())
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

impl LeafRange {
    /// The perfect subtrees that make up the range, left to right (largest first).
    pub fn subtrees(&self) -> Result<Vec<NodeId>, MerkleError> {
        let mut out = Vec::new();
        let mut start = self.start;
        for level in (0..64u32).rev() {
            if self.len & (1 << level) != 0 {
                if !start.is_multiple_of(1 << level) {
                    return Err(MerkleError::Unaligned(*self));
                }
                out.push(NodeId { level, index: start >> level });
                start += 1 << level;
            }
        }
        Ok(out)
    }
}

/// `MTH` of an aligned range: the right-to-left fold of its perfect subtrees.
pub fn range_hash(src: &impl SubtreeSource, range: LeafRange) -> Result<Hash, MerkleError> {
    if range.len == 0 {
        return Ok(empty_root());
    }
    let ids = range.subtrees()?;
    let mut acc: Option<Hash> = None;
    for id in ids.into_iter().rev() {
        let h = src.subtree(id).ok_or(MerkleError::MissingSubtree(id))?;
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// The root of the first `size` leaves.
pub fn root(src: &impl SubtreeSource, size: u64) -> Result<Hash, MerkleError> {
    range_hash(src, LeafRange { start: 0, len: size })
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size`
/// leaves, in proof order (RFC 9162 §2.1.3.1, PATH).
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<LeafRange>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut siblings = Vec::new();
    let (mut m, mut start, mut n) = (index, 0u64, size);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            siblings.push(LeafRange { start: start + k, len: n - k });
            n = k;
        } else {
            siblings.push(LeafRange { start, len: k });
            m -= k;
            start += k;
            n -= k;
        }
    }
    // The recursion appends the deepest sibling first.
    siblings.reverse();
    Ok(siblings)
}

/// The ranges whose hashes form the consistency proof from `old` to `new` leaves, in proof
/// order (RFC 9162 §2.1.4.1, PROOF/SUBPROOF). Empty when `old` is 0 or equals `new`.
pub fn consistency_ranges(old: u64, new: u64) -> Result<Vec<LeafRange>, MerkleError> {
    if old > new {
        return Err(MerkleError::SizeOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let (mut m, mut start, mut n, mut complete) = (old, 0u64, new, true);
    while m != n {
        let k = split_point(n);
        if m <= k {
            out.push(LeafRange { start: start + k, len: n - k });
            n = k;
        } else {
            out.push(LeafRange { start, len: k });
            m -= k;
            start += k;
            n -= k;
            complete = false;
        }
    }
    if !complete {
        out.push(LeafRange { start, len: m });
    }
    out.reverse();
    Ok(out)
}

/// Every perfect subtree the given ranges need, sorted, without repeats.
pub fn needed_subtrees(ranges: &[LeafRange]) -> Result<Vec<NodeId>, MerkleError> {
    let mut ids = Vec::new();
    for range in ranges {
        ids.extend(range.subtrees()?);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The hashes of `ranges`, in order.
pub fn range_hashes(src: &impl SubtreeSource, ranges: &[LeafRange]) -> Result<Vec<Hash>, MerkleError> {
    ranges.iter().map(|r| range_hash(src, *r)).collect()
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(src: &impl SubtreeSource, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
    range_hashes(src, &inclusion_ranges(index, size)?)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves.
pub fn consistency_proof(src: &impl SubtreeSource, old: u64, new: u64) -> Result<Vec<Hash>, MerkleError> {
    range_hashes(src, &consistency_ranges(old, new)?)
}

/// The perfect subtrees of a tree of `old_size` leaves that [`extend`] reads: its frontier.
pub fn frontier(old_size: u64) -> Vec<NodeId> {
    LeafRange { start: 0, len: old_size }.subtrees().unwrap_or_default()
}

/// The perfect subtrees completed by appending `new_leaves` (leaf hashes) to a tree of
/// `old_size` leaves, including the new leaves themselves at level 0. `src` must hold the old
/// tree's [`frontier`]; nothing else of the old tree is read.
pub fn extend(
    src: &impl SubtreeSource,
    old_size: u64,
    new_leaves: &[Hash],
) -> Result<Vec<(NodeId, Hash)>, MerkleError> {
    let new_size = old_size + new_leaves.len() as u64;
    let mut out: Vec<(NodeId, Hash)> = Vec::with_capacity(new_leaves.len() * 2);
    let mut below: Vec<Hash> = new_leaves.to_vec();
    let mut below_first = old_size;
    out.extend(below.iter().enumerate().map(|(i, h)| (NodeId { level: 0, index: old_size + i as u64 }, *h)));
    let mut level = 1u32;
    while new_size >> level > 0 {
        let (first, end) = (old_size >> level, new_size >> level);
        let child = |index: u64| -> Result<Hash, MerkleError> {
            if index >= below_first {
                Ok(below[(index - below_first) as usize])
            } else {
                let id = NodeId { level: level - 1, index };
                src.subtree(id).ok_or(MerkleError::MissingSubtree(id))
            }
        };
        let mut here = Vec::with_capacity((end - first) as usize);
        for index in first..end {
            here.push(node_hash(&child(2 * index)?, &child(2 * index + 1)?));
        }
        out.extend(here.iter().enumerate().map(|(i, h)| (NodeId { level, index: first + i as u64 }, *h)));
        below = here;
        below_first = first;
        level += 1;
    }
    Ok(out)
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root is
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(MerkleError::ProofLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(MerkleError::ProofLength);
    }
    if &r != root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new` leaves with root `new_root` extends the tree of `old` leaves
/// with root `old_root` (RFC 9162 §2.1.4.2). Every tree extends the empty one, so from `old` = 0
/// only an empty proof is accepted; from `old` = `new` only an empty proof and equal roots.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old > new {
        return Err(MerkleError::SizeOrder { old, new });
    }
    if old == 0 || old == new {
        if !proof.is_empty() {
            return Err(MerkleError::ProofLength);
        }
        let roots_agree = if old == 0 { old_root == &empty_root() } else { old_root == new_root };
        return if roots_agree { Ok(()) } else { Err(MerkleError::RootMismatch) };
    }
    if proof.is_empty() {
        return Err(MerkleError::ProofLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(MerkleError::ProofLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(MerkleError::ProofLength);
    }
    if &fr != old_root || &sr != new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
