//! The store's side of Merkle trees and checkpoints: roots and proofs of any stored log at any
//! size, computed by `quanze_ledger::merkle` from the perfect subtrees the store keeps
//! (`checkpoint_queries.rs`, migration 0009), and the cosigned checkpoints held.
//!
//! Must not touch: signing or verifying (the ledger's types arrive verified), the entries or
//! projections (the subtree table is a cache derived from the entries, filled on demand).

use std::collections::HashMap;

use quanze_domain::DivisionCode;
use quanze_ledger::merkle::{self, LeafRange, MerkleError, NodeId};
use quanze_ledger::{Checkpoint, CheckpointWire, CosignedCheckpoint, Hash};
use serde::Serialize;

use crate::{Backend, Store, StoreError, postgres, sqlite};

/// A cosigned checkpoint as stored (both signatures were verified before it was stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointRow {
    /// The log's division code.
    pub origin: String,
    /// Entries in the tree.
    pub size: u64,
    /// Merkle root, hex.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub root: Hash,
    pub at: String,
    pub signature: String,
    pub cosigner: String,
    pub cosignature: String,
    pub stored_at: String,
}

impl CheckpointRow {
    /// The transport form, to verify again or relay.
    pub fn to_wire(&self) -> Result<CheckpointWire, StoreError> {
        let corrupt = |e: quanze_domain::DivisionError| StoreError::Corrupt(e.to_string());
        Ok(CheckpointWire {
            checkpoint: Checkpoint {
                origin: DivisionCode::parse(&self.origin).map_err(corrupt)?,
                size: self.size,
                root: self.root,
                at: self.at.clone(),
            },
            signature: self.signature.clone(),
            cosigner: Some(DivisionCode::parse(&self.cosigner).map_err(corrupt)?),
            cosignature: Some(self.cosignature.clone()),
        })
    }
}

/// What a compare-and-set cosignature did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CosignOutcome {
    Cosigned,
    /// The last checkpoint cosigned for the origin has another size: nothing was written.
    Stale {
        current_size: u64,
    },
}

/// Why a root or proof could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("日志 {origin} 只有 {held} 条，无法给出大小 {size} 的树 / the log holds only {held} entries")]
    BeyondLog { origin: String, size: u64, held: u64 },
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Brings `origin`'s table of perfect subtrees up to its stored head; the size it covers.
    pub async fn merkle_fill(&self, origin: &DivisionCode) -> Result<u64, StoreError> {
        on_backend!(self, merkle_fill(origin.as_str()))
    }

    /// The subtrees `ranges` need, for a tree of `size` leaves of `origin`'s log.
    async fn subtrees_for(
        &self,
        origin: &DivisionCode,
        size: u64,
        ranges: &[LeafRange],
    ) -> Result<HashMap<NodeId, Hash>, ProofError> {
        let mut filled: u64 = on_backend!(self, merkle_size(origin.as_str()))?;
        if filled < size {
            filled = self.merkle_fill(origin).await?;
        }
        if filled < size {
            return Err(ProofError::BeyondLog { origin: origin.to_string(), size, held: filled });
        }
        let ids = merkle::needed_subtrees(ranges)?;
        Ok(on_backend!(self, merkle_nodes(origin.as_str(), &ids))?)
    }

    /// The Merkle root of the first `size` entries of `origin`'s log.
    pub async fn merkle_root(&self, origin: &DivisionCode, size: u64) -> Result<Hash, ProofError> {
        let range = LeafRange { start: 0, len: size };
        let nodes = self.subtrees_for(origin, size, &[range]).await?;
        Ok(merkle::range_hash(&nodes, range)?)
    }

    /// The inclusion proof of entry `seq` (leaf `seq − 1`) in the tree of `size` entries.
    pub async fn inclusion_proof(&self, origin: &DivisionCode, seq: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        let index = seq.checked_sub(1).ok_or(MerkleError::IndexOutOfRange { index: 0, size })?;
        let ranges = merkle::inclusion_ranges(index, size)?;
        let nodes = self.subtrees_for(origin, size, &ranges).await?;
        Ok(merkle::range_hashes(&nodes, &ranges)?)
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new` entries.
    pub async fn consistency_proof(&self, origin: &DivisionCode, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        let ranges = merkle::consistency_ranges(old, new)?;
        let nodes = self.subtrees_for(origin, new, &ranges).await?;
        Ok(merkle::range_hashes(&nodes, &ranges)?)
    }

    /// Keeps a cosigned checkpoint (ours, returned by the parent, or relayed from below).
    pub async fn put_checkpoint(&self, checkpoint: &CosignedCheckpoint) -> Result<(), StoreError> {
        on_backend!(self, put_checkpoint(checkpoint))
    }

    /// The last checkpoint this node cosigned for `origin`: (size, root).
    pub async fn cosign_head(&self, origin: &DivisionCode) -> Result<Option<(u64, Hash)>, StoreError> {
        on_backend!(self, cosign_head(origin.as_str()))
    }

    /// Stores this node's cosignature only if the last one for the origin still has `old_size`
    /// (0: none yet): a compare-and-set, in one transaction.
    pub async fn cosign_commit(
        &self,
        checkpoint: &CosignedCheckpoint,
        old_size: u64,
    ) -> Result<CosignOutcome, StoreError> {
        on_backend!(self, cosign_commit(checkpoint, old_size))
    }

    /// The latest cosigned checkpoint of every origin held.
    pub async fn latest_checkpoints(&self) -> Result<Vec<CheckpointRow>, StoreError> {
        on_backend!(self, latest_checkpoints())
    }

    /// The latest cosigned checkpoint of `origin`.
    pub async fn latest_checkpoint(&self, origin: &DivisionCode) -> Result<Option<CheckpointRow>, StoreError> {
        on_backend!(self, latest_checkpoint(origin.as_str()))
    }

    /// Records a refused checkpoint of `origin` at `size` from `peer` among the refusals.
    pub async fn record_checkpoint_refusal(
        &self,
        peer: &str,
        origin: &DivisionCode,
        size: u64,
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        on_backend!(self, add_refusal(peer, origin.as_str(), size, code, message))
    }
}
