//! Cosigned checkpoints over HTTP: the parent's cosignature of a child's checkpoint, relayed
//! checkpoints of deeper nodes, and the public reads (latest checkpoints, inclusion and
//! consistency proofs).
//!
//! A parent cosigns only a checkpoint signed by the key the enrolments give for the child, equal
//! to the root of its own copy of the child's log, and consistent with the last checkpoint it
//! cosigned for that child; the last cosigned size moves by compare-and-set in the store. A
//! relayed checkpoint is checked the same way at every depth (both signatures, cosigner = the
//! origin's parent, root = our own copy). Refusals are recorded as evidence (`quanze status`).
//!
//! Must not touch: hashing, signing or proof rules (the ledger), SQL (the store).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quanze_domain::DivisionCode;
use quanze_ledger::merkle::{self, MerkleError};
use quanze_ledger::{CheckpointWire, CosignedCheckpoint, Hash, SignedCheckpoint};
use quanze_store::{CosignOutcome, ProofError};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams};
use super::public_schema::{ConsistencyProof, InclusionProof, LatestCheckpoints};
use crate::federation::checkpoints::{
    CosignRequest, CosignResponse, RelayRequest, RelayResponse, checkpoint_key, cosigner_key,
};
use crate::state::Node;

/// Most relayed checkpoints in one call (one per node below; a province has a few thousand).
const MAX_RELAYED: usize = 10_000;

/// Most hashes in a consistency proof (a log of 2^53 entries needs fewer than 110).
const MAX_PROOF_HASHES: usize = 128;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(cosign))
        .routes(routes!(relay))
        .routes(routes!(latest))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
}

impl From<ProofError> for ApiError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::BeyondLog { .. } => ApiError::new(StatusCode::NOT_FOUND, "PROOF_BEYOND_LOG", e.to_string()),
            ProofError::Merkle(m) => ApiError::new(StatusCode::BAD_REQUEST, m.code(), m.to_string()),
            ProofError::Store(s) => s.into(),
        }
    }
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// `POST /api/v1/fed/checkpoints`: a child asks for this node's cosignature.
#[utoipa::path(post, path = "/fed/checkpoints", tag = "federation", request_body(content = CosignRequest, description = "The child's signed checkpoint, the size this node last cosigned and the consistency proof from it"), responses((status = 200, description = "This node's cosignature", body = CosignResponse)), security(()))]
async fn cosign(State(node): State<Node>, JsonBody(req): JsonBody<CosignRequest>) -> Result<Response, ApiError> {
    let origin = req.checkpoint.origin.clone();
    let size = req.checkpoint.size;
    let peer = format!("child {origin}");
    if origin.parent().as_ref() != Some(node.division()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_A_CHILD",
            format!("{origin} 不是本节点 {} 的下级 / not a child of this node", node.division()),
        ));
    }
    if size == 0 || req.proof.len() > MAX_PROOF_HASHES {
        return Err(refused(
            "CHECKPOINT_MALFORMED",
            "检查点大小为 0 或证明过长 / empty checkpoint or proof too long".into(),
        ));
    }
    let Some(key) = checkpoint_key(&node, &origin, size).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CHECKPOINT_KEY_UNKNOWN",
            format!("本节点尚不知 {origin} 的有效密钥 / no valid key of {origin} known here"),
        ));
    };
    let signed = match SignedCheckpoint::verify(req.checkpoint.clone(), &req.signature, &key) {
        Ok(s) => s,
        Err(e) => {
            node.store().record_checkpoint_refusal(&peer, &origin, size, e.code(), &e.to_string()).await?;
            return Err(refused(e.code(), e.to_string()));
        }
    };
    let (current_size, current_root) = node.store().cosign_head(&origin).await?.unwrap_or((0, merkle::empty_root()));
    if req.old_size != current_size {
        return Ok(stale(current_size, req.old_size));
    }
    let held = node.store().head(&origin).await?.map_or(0, |h| h.seq);
    if held < size {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CHECKPOINT_AHEAD",
            format!("本节点只持有 {origin} 的 {held} 条，先推送条目 / only {held} entries held here: push them first"),
        ));
    }
    let own_root = node.store().merkle_root(&origin, size).await?;
    let consistent = merkle::verify_consistency(current_size, size, &current_root, &req.checkpoint.root, &req.proof);
    if own_root != req.checkpoint.root || consistent.is_err() {
        let why = match consistent {
            Err(e) => {
                format!("与已联署的大小 {current_size} 不一致：{e} / not consistent with the last cosigned checkpoint")
            }
            Ok(()) => format!(
                "根哈希 {} 与本节点持有的副本 {own_root} 不符 / root differs from this node's copy of the log",
                req.checkpoint.root
            ),
        };
        node.store().record_checkpoint_refusal(&peer, &origin, size, "CHECKPOINT_INCONSISTENT", &why).await?;
        return Err(refused("CHECKPOINT_INCONSISTENT", format!("检查点 {origin}@{size} 被拒绝：{why}")));
    }
    let cosigned = node.cosign_checkpoint(signed).await.map_err(ApiError::internal)?;
    match node.store().cosign_commit(&cosigned, req.old_size).await? {
        CosignOutcome::Stale { current_size } => Ok(stale(current_size, req.old_size)),
        CosignOutcome::Cosigned => {
            node.checkpoints_changed();
            let answer = CosignResponse {
                cosigner: cosigned.cosigner().clone(),
                cosignature: cosigned.cosignature().to_string(),
            };
            Ok(Json(answer).into_response())
        }
    }
}

fn stale(current_size: u64, old_size: u64) -> Response {
    let body = json!({
        "code": "CHECKPOINT_STALE",
        "message": format!(
            "本节点上次联署的大小为 {current_size}，不是 {old_size}；请从 {current_size} 起重新证明 / \
             the last cosigned size is {current_size}, not {old_size}: prove again from it"
        ),
        "current_size": current_size,
    });
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// `POST /api/v1/fed/checkpoints/relay`: a child forwards cosigned checkpoints of its
/// descendants. Each is checked here as if it came from its origin.
#[utoipa::path(post, path = "/fed/checkpoints/relay", tag = "federation", request_body(content = RelayRequest, description = "Cosigned checkpoints of the caller's descendants"), responses((status = 200, description = "Which were stored and which refused", body = RelayResponse)), security(()))]
async fn relay(
    State(node): State<Node>,
    JsonBody(req): JsonBody<RelayRequest>,
) -> Result<Json<RelayResponse>, ApiError> {
    if req.checkpoints.len() > MAX_RELAYED {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BATCH_TOO_LARGE",
            format!("一次最多转交 {MAX_RELAYED} 个检查点 / at most {MAX_RELAYED} checkpoints per call"),
        ));
    }
    let mut answer = RelayResponse::default();
    let mut stored = false;
    for wire in req.checkpoints {
        let what = format!("{}@{}", wire.checkpoint.origin, wire.checkpoint.size);
        match check_relayed(&node, wire).await? {
            Relayed::Accepted(cp) => {
                node.store().put_checkpoint(&cp).await?;
                answer.accepted += 1;
                stored = true;
            }
            Relayed::Pending(why) => answer.pending.push(format!("{what}: {why}")),
            Relayed::Refused(origin, size, code, why) => {
                node.store().record_checkpoint_refusal("relay", &origin, size, code, &why).await?;
                answer.refused.push(format!("{what} {code}: {why}"));
            }
        }
    }
    if stored {
        node.checkpoints_changed();
    }
    Ok(Json(answer))
}

enum Relayed {
    Accepted(CosignedCheckpoint),
    Pending(String),
    Refused(DivisionCode, u64, &'static str, String),
}

async fn check_relayed(node: &Node, wire: CheckpointWire) -> Result<Relayed, ApiError> {
    let origin = wire.checkpoint.origin.clone();
    let size = wire.checkpoint.size;
    let me = node.division();
    let refuse = |code, why: String| Ok(Relayed::Refused(origin.clone(), size, code, why));
    if !origin.is_within(me) || &origin == me {
        return refuse("OUT_OF_SCOPE", format!("{origin} 不在本节点之下 / not below this node"));
    }
    let Some(cosigner) = wire.cosigner.clone() else {
        return refuse("CHECKPOINT_NOT_COSIGNED", "缺少联署 / no cosignature".into());
    };
    if origin.parent().as_ref() != Some(&cosigner) {
        return refuse(
            "CHECKPOINT_WRONG_COSIGNER",
            format!("联署者 {cosigner} 不是 {origin} 的上级 / not the origin's parent"),
        );
    }
    let (Some(origin_key), Some(cosigner_key)) =
        (checkpoint_key(node, &origin, size).await?, cosigner_key(node, &cosigner).await?)
    else {
        return Ok(Relayed::Pending("密钥未知 / keys not known here yet".into()));
    };
    let cp = match CosignedCheckpoint::verify(wire, &origin_key, &cosigner_key) {
        Ok(cp) => cp,
        Err(e) => return refuse(e.code(), e.to_string()),
    };
    let held = node.store().head(&origin).await?.map_or(0, |h| h.seq);
    if held < size {
        return Ok(Relayed::Pending(format!("本节点只持有 {held} 条 / only {held} entries held")));
    }
    let own_root = node.store().merkle_root(&origin, size).await?;
    if own_root != cp.checkpoint().root {
        return refuse(
            "CHECKPOINT_INCONSISTENT",
            format!("根哈希与本节点持有的副本 {own_root} 不符 / root differs from this node's copy"),
        );
    }
    Ok(Relayed::Accepted(cp))
}

/// `GET /api/v1/public/checkpoints`: the latest cosigned checkpoint of every log held.
#[utoipa::path(get, path = "/public/checkpoints", tag = "public", responses((status = 200, description = "The latest cosigned checkpoint of every log held", body = LatestCheckpoints)), security(()))]
async fn latest(State(node): State<Node>) -> Result<Json<LatestCheckpoints>, ApiError> {
    let checkpoints = node.store().latest_checkpoints().await?;
    Ok(Json(LatestCheckpoints { node: node.division().clone(), checkpoints }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    /// The log's division code.
    origin: String,
    /// The entry's sequence number (from 1).
    seq: u64,
    /// Tree size (default: the latest cosigned checkpoint of the origin).
    size: Option<u64>,
}

fn parse_origin(text: &str) -> Result<DivisionCode, ApiError> {
    DivisionCode::parse(text).map_err(|e| ApiError::bad_query(format!("origin：{e}")))
}

/// `GET /api/v1/public/proof/inclusion?origin=&seq=[&size=]`: entry `seq` is in the tree of
/// `size` entries (leaf `seq − 1`; the leaf data is the entry's SHA-256).
#[utoipa::path(get, path = "/public/proof/inclusion", tag = "public", params(InclusionQuery), responses((status = 200, description = "The audit path, the entry's hash and the root", body = InclusionProof)), security(()))]
async fn inclusion(
    State(node): State<Node>,
    QueryParams(q): QueryParams<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let origin = parse_origin(&q.origin)?;
    let size =
        match q.size {
            Some(size) => size,
            None => node.store().latest_checkpoint(&origin).await?.map(|c| c.size).ok_or_else(|| {
                ApiError::not_found(format!("{origin} 的联署检查点 / a cosigned checkpoint of {origin}"))
            })?,
        };
    if q.seq == 0 || q.seq > size {
        let e = MerkleError::IndexOutOfRange { index: q.seq.saturating_sub(1), size };
        return Err(ApiError::new(StatusCode::BAD_REQUEST, e.code(), format!("序号 {} 不在 1..={size} / {e}", q.seq)));
    }
    let proof = node.store().inclusion_proof(&origin, q.seq, size).await?;
    let root = node.store().merkle_root(&origin, size).await?;
    let entry = node.store().entries(&origin, q.seq - 1, 1).await?;
    let entry_hash: Hash = entry.first().map(|e| e.entry.hash()).ok_or_else(|| ApiError::not_found("条目 / entry"))?;
    Ok(Json(InclusionProof {
        origin,
        seq: q.seq,
        size,
        leaf_index: q.seq - 1,
        entry_hash,
        leaf_hash: merkle::entry_leaf(&entry_hash),
        root,
        proof,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    /// The log's division code.
    origin: String,
    /// The older tree's size.
    from: u64,
    /// The newer tree's size.
    to: u64,
}

/// `GET /api/v1/public/proof/consistency?origin=&from=&to=`: the tree of `to` entries extends
/// the tree of `from` entries.
#[utoipa::path(get, path = "/public/proof/consistency", tag = "public", params(ConsistencyQuery), responses((status = 200, description = "The consistency proof and both roots", body = ConsistencyProof)), security(()))]
async fn consistency(
    State(node): State<Node>,
    QueryParams(q): QueryParams<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let origin = parse_origin(&q.origin)?;
    let proof = node.store().consistency_proof(&origin, q.from, q.to).await?;
    let from_root = node.store().merkle_root(&origin, q.from).await?;
    let to_root = node.store().merkle_root(&origin, q.to).await?;
    Ok(Json(ConsistencyProof { origin, from: q.from, to: q.to, from_root, to_root, proof }))
}
