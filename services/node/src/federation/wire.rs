//! JSON bodies between a child and its parent. Entries always travel as `SignedEntryWire`: the
//! exact signed bytes as a string plus the signature, so whoever relays them cannot alter them.

use quanze_domain::{DivisionCode, Enrolment, Tier};
use quanze_ledger::{Hash, NodeKey, PublicKey, SignedEntryWire};
use serde::{Deserialize, Serialize};

/// Most entries in one pull answer or one push request.
pub const MAX_BATCH_ENTRIES: usize = 500;
/// Largest batch body in either direction (bytes of entries); a batch is cut at it.
pub const MAX_PUSH_BYTES: usize = 6 * 1024 * 1024;
/// Longest a pull waits for new entries (seconds).
pub const MAX_WAIT_SECS: u64 = 30;

/// `POST /api/v1/fed/enroll`: a child presents its invite token and its new public key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub token: String,
    pub public_key: String,
    /// True for `quanze recover`: the division was enrolled before and lost its data.
    #[serde(default)]
    pub recover: bool,
}

/// The parent's answer: the enrolment it wrote and where (its own log).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrollResponse {
    pub enrolment: Enrolment,
    pub parent: DivisionCode,
    pub parent_name: String,
    pub parent_tier: Tier,
    pub entry_seq: u64,
    /// True when the division was enrolled before (disk recovery): its log continues at
    /// `enrolment.valid_from`.
    pub recovery: bool,
}

/// One origin's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeadEntry {
    pub origin: String,
    pub seq: u64,
    #[schema(value_type = String)]
    pub hash: Hash,
}

/// The statement a node signs about the heads it holds.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeadsStatement {
    #[schema(value_type = String)]
    pub node: DivisionCode,
    pub at: String,
    pub heads: Vec<HeadEntry>,
}

/// `GET /api/v1/fed/heads`: the statement and the node's signature over its canonical bytes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedHeads {
    #[serde(flatten)]
    pub statement: HeadsStatement,
    pub sig: String,
}

impl SignedHeads {
    pub fn sign(statement: HeadsStatement, key: &NodeKey) -> anyhow::Result<SignedHeads> {
        let bytes = quanze_ledger::to_canonical_vec(&statement)?;
        Ok(SignedHeads { sig: key.sign_statement(&bytes), statement })
    }

    /// The statement, if `key` signed it.
    pub fn verified(self, key: &PublicKey) -> Option<HeadsStatement> {
        let bytes = quanze_ledger::to_canonical_vec(&self.statement).ok()?;
        key.verify_statement(&bytes, &self.sig).then_some(self.statement)
    }
}

/// `GET /api/v1/fed/pull` answer: entries of the parent's and its ancestors' logs after the
/// child's heads, ancestors first; `more` when the batch was cut.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PullResponse {
    #[schema(value_type = Vec<crate::api::openapi::SignedEntryWireSchema>)]
    pub entries: Vec<SignedEntryWire>,
    pub more: bool,
}

/// `POST /api/v1/fed/push`: entries of the child's own and descendants' logs.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    #[schema(value_type = String)]
    pub from: DivisionCode,
    #[schema(value_type = Vec<crate::api::openapi::SignedEntryWireSchema>)]
    pub entries: Vec<SignedEntryWire>,
    /// The entries are the receiver's own log, returned by a child that holds more of it than
    /// the receiver does (the receiver was restored from an older backup).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub returned: bool,
}

/// Per entry, what the receiver did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushResponse {
    pub deliveries: Vec<quanze_store::Delivery>,
}

/// The header a child sends to read back its own log (or an ancestor's) from its parent after a
/// restore, instead of an invite token: `{division} {unix seconds} {signature}`.
pub const NODE_SIGNATURE_HEADER: &str = "x-quanze-node-signature";

/// How long a signed read-back request stays valid, either side of the parent's clock.
pub const NODE_SIGNATURE_WINDOW_SECS: i64 = 300;

/// The statement a child signs with its node key to read `origin` after `after` from its parent.
pub fn recover_statement(division: &str, origin: &str, after: u64, unix: i64) -> String {
    format!("quanze-recover\n{division}\n{origin}\n{after}\n{unix}")
}
