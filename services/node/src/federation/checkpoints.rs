//! Cosigned checkpoints, the child's side, and the bodies both sides exchange.
//!
//! After a push round that left nothing pending, the child signs a checkpoint of its own log
//! (`{origin, size, root, at}`) and asks its parent to cosign it, with a consistency proof from
//! the last size the parent cosigned. A `CHECKPOINT_STALE` answer names the parent's size and
//! the child proves again from there. The cosignature is verified with the parent's key from the
//! enrolments and stored. Then the child relays the cosigned checkpoints of its descendants
//! that it holds, so the province holds the latest cosigned checkpoint of every node.
//!
//! Must not touch: the parent's checks (`api/checkpoints.rs`), hashing or signing rules (the
//! ledger), SQL (the store).

use quanze_domain::DivisionCode;
use quanze_ledger::{Checkpoint, CheckpointError, CheckpointWire, Hash, PublicKey, format_at};
use quanze_store::{KeyLookup, ProofError, StoreError};
use serde::{Deserialize, Serialize};

use super::client::{CallError, ParentClient};
use crate::state::Node;

/// `POST /api/v1/fed/checkpoints`: a checkpoint to cosign, signed by its origin, with the
/// consistency proof from `old_size` (the size the parent last cosigned; 0 the first time).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignRequest {
    #[schema(value_type = crate::api::openapi::CheckpointSchema)]
    pub checkpoint: Checkpoint,
    /// The origin's Ed25519 signature over the checkpoint, hex.
    pub signature: String,
    /// The size this node last cosigned for the origin (0 the first time).
    pub old_size: u64,
    /// The consistency proof from `old_size`, hex hashes.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub proof: Vec<Hash>,
}

/// The parent's cosignature.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CosignResponse {
    pub cosigner: DivisionCode,
    pub cosignature: String,
}

/// What a cosign call came to.
#[derive(Debug)]
pub enum CosignAnswer {
    Cosigned(CosignResponse),
    /// The parent last cosigned another size: prove again from it.
    Stale {
        current_size: u64,
    },
}

/// `POST /api/v1/fed/checkpoints/relay`: cosigned checkpoints of the sender's descendants.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayRequest {
    #[schema(value_type = Vec<crate::api::openapi::CheckpointWireSchema>)]
    pub checkpoints: Vec<CheckpointWire>,
}

/// Per relayed checkpoint: accepted, pending (the receiver lacks entries) or refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelayResponse {
    pub accepted: u64,
    pub pending: Vec<String>,
    pub refused: Vec<String>,
}

/// Why a checkpoint round stopped.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointSyncError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("本地存储错误 / local store error: {0}")]
    Store(#[from] StoreError),
    #[error("无法计算默克尔证明 / cannot compute the Merkle proof: {0}")]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("上级的联署不可接受 / the parent's answer is not acceptable: {0}")]
    Parent(String),
}

/// The key that signs a checkpoint of `division`'s log at `size` as this node's copy of the
/// enrolments says: the key of its entry `size + 1` (after a rotation announced at `size`, the
/// new key), or this node's own key for its own log.
pub async fn checkpoint_key(node: &Node, division: &DivisionCode, size: u64) -> Result<Option<PublicKey>, StoreError> {
    if division == node.division() {
        return Ok(Some(node.public_key()));
    }
    Ok(match node.store().key_for(division, size + 1).await? {
        KeyLookup::Key(key) => Some(key),
        KeyLookup::Revoked { .. } | KeyLookup::Unknown => None,
    })
}

/// The current key of a cosigner, from its log as held here.
pub async fn cosigner_key(node: &Node, cosigner: &DivisionCode) -> Result<Option<PublicKey>, StoreError> {
    let held = node.store().head(cosigner).await?.map_or(0, |h| h.seq);
    checkpoint_key(node, cosigner, held).await
}

/// One round: have our own log's latest size cosigned (if it grew), then relay descendants'.
pub async fn round(
    node: &Node,
    parent: &ParentClient,
    parent_division: &DivisionCode,
) -> Result<(), CheckpointSyncError> {
    cosign_own(node, parent, parent_division).await?;
    relay(node, parent).await
}

async fn cosign_own(
    node: &Node,
    parent: &ParentClient,
    parent_division: &DivisionCode,
) -> Result<(), CheckpointSyncError> {
    let store = node.store();
    let me = node.division().clone();
    let size = store.head(&me).await?.map_or(0, |h| h.seq);
    let mut old_size = store.latest_checkpoint(&me).await?.map_or(0, |c| c.size);
    if size == 0 || old_size >= size {
        return Ok(());
    }
    let root = store.merkle_root(&me, size).await?;
    // At most twice: the second time from the size the parent says it last cosigned.
    for _ in 0..2 {
        let proof = store.consistency_proof(&me, old_size, size).await?;
        let checkpoint = Checkpoint { origin: me.clone(), size, root, at: format_at(node.clock().now()) };
        let signed = node.sign_checkpoint(checkpoint).await?;
        let request = CosignRequest {
            checkpoint: signed.checkpoint().clone(),
            signature: signed.signature().to_string(),
            old_size,
            proof,
        };
        match parent.cosign(&request).await? {
            CosignAnswer::Cosigned(answer) => {
                if &answer.cosigner != parent_division {
                    return Err(CheckpointSyncError::Parent(format!("cosigner {} is not the parent", answer.cosigner)));
                }
                let key = cosigner_key(node, parent_division)
                    .await?
                    .ok_or_else(|| CheckpointSyncError::Parent("parent key unknown".into()))?;
                let cosigned = signed.with_cosignature(answer.cosigner, &answer.cosignature, &key)?;
                store.put_checkpoint(&cosigned).await?;
                tracing::info!(size, root = %root, "checkpoint cosigned by the parent");
                return Ok(());
            }
            CosignAnswer::Stale { current_size } if current_size <= size => old_size = current_size,
            CosignAnswer::Stale { current_size } => {
                return Err(CheckpointSyncError::Parent(format!(
                    "上级称已联署大小 {current_size}，超过本节点日志 {size} / parent claims a larger cosigned size"
                )));
            }
        }
    }
    Err(CheckpointSyncError::Parent("上级联署大小持续变化 / the parent's cosigned size keeps changing".into()))
}

const RELAYED_STATE_KEY: &str = "checkpoints_relayed";

async fn relay(node: &Node, parent: &ParentClient) -> Result<(), CheckpointSyncError> {
    let store = node.store();
    let me = node.division();
    let mut wires = Vec::new();
    let mut marks = Vec::new();
    for row in store.latest_checkpoints().await? {
        let below = DivisionCode::parse(&row.origin).is_ok_and(|o| o.is_within(me) && &o != me);
        if below {
            marks.push(format!("{}:{}", row.origin, row.size));
            wires.push(row.to_wire()?);
        }
    }
    let fingerprint = marks.join(",");
    if wires.is_empty() || store.state(RELAYED_STATE_KEY).await?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(());
    }
    let answer = parent.relay(&RelayRequest { checkpoints: wires }).await?;
    if answer.refused.is_empty() && answer.pending.is_empty() {
        store.set_state(RELAYED_STATE_KEY, &fingerprint).await?;
        return Ok(());
    }
    let mut what = answer.refused.clone();
    what.extend(answer.pending.iter().map(|p| format!("pending {p}")));
    Err(CheckpointSyncError::Parent(format!(
        "转交的检查点未全部接受 / relayed checkpoints not all accepted: {}",
        what.join("; ")
    )))
}
