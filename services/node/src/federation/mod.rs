//! Federation: how a node joins the tree and keeps its logs in step with its parent.
//!
//! * `invite.rs` — the one-time invite a parent issues and a child pastes into `init --join`.
//! * `wire.rs` — the JSON bodies exchanged between a child and its parent.
//! * `sync.rs` — the child's side: the pull loop (long-poll for ancestors' logs), the push loop
//!   (own and descendants' logs, from a durable checkpoint) and the rollback check.
//! * `client.rs` — the HTTPS client that pins the parent's certificate.
//! * `status.rs` — the report behind `quanze status`.
//! * `checkpoints.rs` — cosigned checkpoints: the child's cosign and relay calls, their bodies.
//! * `catch_up.rs` — a node restored from a backup fetches its own newer entries first.
//!
//! The parent's side is `api/fed.rs`. Verification and application of what arrives is
//! `Node::ingest` → the store; nothing here trusts a peer's word for anything it can check.

pub mod catch_up;
pub mod checkpoints;
pub mod client;
pub mod invite;
pub mod restore_hold;
pub mod status;
pub mod sync;
pub mod wire;

use serde::Serialize;

/// What the sync loops last saw, for `quanze status` (in memory; rebuilt after a restart).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SyncStatus {
    /// Last successful exchange with the parent (RFC 3339).
    pub last_pull_ok: Option<String>,
    pub last_push_ok: Option<String>,
    /// Last failure talking to the parent, with its time.
    pub last_error: Option<String>,
    /// The parent served a shorter or different history of a log we hold.
    pub rollback: Option<String>,
    /// Refusals by the parent of our pushes: never retried blindly.
    pub push_refusals: Vec<String>,
    /// Entries held by our parent per origin, as its signed heads last said.
    pub parent_heads: Vec<wire::HeadEntry>,
    /// The parent's clock minus ours, in seconds, from the time in its last signed heads
    /// (positive: the parent is ahead). See `sync::CLOCK_SKEW_TOLERANCE` for what it changes.
    pub parent_clock_offset_secs: Option<i64>,
    /// Whether `parent_clock_offset_secs` is beyond `sync::CLOCK_SKEW_TOLERANCE`.
    pub clock_skew: bool,
}
