//! The JSON answers of the public reads: the list, an item with its history, the signed digest
//! (`api/public.rs`), and the cosigned checkpoints with their inclusion and consistency proofs
//! (`api/checkpoints.rs`). One struct per answer, built by the handler itself and described in
//! `/openapi.json` from the same type, so what is sent and what is documented cannot drift.
//!
//! Owns the shapes only: what goes into them is the handlers' business. Must not read the store
//! or rename a field: the public pages, the console and the tests read these names, and a
//! field the answer used to omit stays omitted (`skip_serializing_if`), one it sent as `null`
//! stays `null`.

use chrono::NaiveDate;
use quanze_domain::{DivisionCode, ItemStatus, PowerItem};
use quanze_ledger::Hash;
use quanze_store::CheckpointRow;
use serde::Serialize;
use utoipa::ToSchema;

use super::public::DigestStatement;

/// `GET /public/list`: one page of the published list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicList {
    pub division: DivisionCode,
    /// The node's name, e.g. 泸县.
    pub name: String,
    /// Items matching the search, on every page.
    pub total: u64,
    pub items: Vec<PublicListRow>,
}

/// One item of the list page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicListRow {
    pub code: String,
    pub name: String,
    /// 职权类别, its Chinese label, e.g. 行政许可.
    pub category: String,
    pub implementing_body: String,
    pub status: ItemStatus,
}

/// `GET /public/items/{code}`: the item's elements and the history of its changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicItem {
    pub division: DivisionCode,
    pub item: PowerItem,
    /// Every version of the item, oldest first.
    pub history: Vec<ItemVersion>,
}

/// One version of an item: the entry that made it and, when a published request did, the
/// request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemVersion {
    pub seq: u64,
    /// China day of the entry, `YYYY-MM-DD`.
    pub day: String,
    pub name: String,
    /// The item's status after this version (`active`, `cancelled`, …).
    pub status: String,
    /// Absent when the change was not made by a request of the workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<PublishedRequest>,
}

/// The request that published a version, as the public may see it (no comments, no accounts).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedRequest {
    pub id: u64,
    pub title: String,
    /// 申请类型, its Chinese label, e.g. 取消.
    pub kind: String,
    /// 调整情形, its Chinese label.
    pub trigger: String,
    pub trigger_date: NaiveDate,
    pub department: String,
    pub reason: String,
    pub filed_on: NaiveDate,
    /// The stage whose approval published it (Chinese label); `null` when none is recorded.
    #[schema(required = true)]
    pub decided_by: Option<&'static str>,
    pub flow: Vec<PublishedStep>,
    pub documents: Vec<PublishedDocument>,
}

/// One action of a published request's trace.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedStep {
    /// submit, resubmit, approve, return or reject.
    pub action: String,
    /// The stage (Chinese label); `null` for a filing.
    #[schema(required = true)]
    pub stage: Option<&'static str>,
    /// The role that acted (Chinese label).
    pub role: String,
    pub at: String,
}

/// A document cited by a published request, with where to download it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedDocument {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// `/api/v1/public/attachments/{sha256}`.
    pub url: String,
}

/// `GET /public/digest`: the node's own signed digest, or the digest of another node's list
/// computed from its log as this node holds it (unsigned).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PublicDigest {
    Signed(Box<SignedDigest>),
    Computed(ComputedDigest),
}

/// The node's digest of its own list, signed with its key.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedDigest {
    /// The latest checkpoint of this node's log cosigned by its parent; `null` before the first.
    #[schema(required = true)]
    pub checkpoint: Option<CheckpointRow>,
    pub statement: DigestStatement,
    /// Ed25519 signature over the statement's RFC 8785 canonical JSON, hex.
    pub signature: String,
    /// The node's public key, hex.
    pub public_key: String,
    /// Always true here.
    pub signed: bool,
    pub how_to_verify: &'static str,
}

/// Another node's digest, computed by this node (not signed).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComputedDigest {
    pub statement: DigestStatement,
    /// Always false here.
    pub signed: bool,
    pub computed_by: DivisionCode,
}

/// `GET /public/checkpoints`: the latest cosigned checkpoint of every log held.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatestCheckpoints {
    /// This node.
    pub node: DivisionCode,
    pub checkpoints: Vec<CheckpointRow>,
}

/// `GET /public/proof/inclusion`: entry `seq` is leaf `seq − 1` of the tree of `size` entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub origin: DivisionCode,
    pub seq: u64,
    pub size: u64,
    pub leaf_index: u64,
    /// SHA-256 of the entry, hex (the leaf's data).
    #[schema(value_type = String)]
    pub entry_hash: Hash,
    #[schema(value_type = String)]
    pub leaf_hash: Hash,
    #[schema(value_type = String)]
    pub root: Hash,
    /// The audit path, from the leaf up, hex.
    #[schema(value_type = Vec<String>)]
    pub proof: Vec<Hash>,
}

/// `GET /public/proof/consistency`: the tree of `to` entries extends the tree of `from`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub origin: DivisionCode,
    pub from: u64,
    pub to: u64,
    #[schema(value_type = String)]
    pub from_root: Hash,
    #[schema(value_type = String)]
    pub to_root: Hash,
    #[schema(value_type = Vec<String>)]
    pub proof: Vec<Hash>,
}
