//! What a backup holds of a store, independent of the backend: the entries as stored bytes and
//! the node-local tables that no replay can recreate, as typed rows.
//!
//! Owns the classification of every table of the schema (kept in a backup, rebuilt from the
//! entries, or the store's own bookkeeping) and the record types. Must not touch files or the
//! network: the node's `backup` module writes the archive, this crate only reads a snapshot and
//! writes a restore inside one transaction (`backup_queries.rs`).
//!
//! A table added by a new migration must be named here, or the schema test fails: a node-local
//! table left out would be silently lost by a backup.

use serde::{Deserialize, Serialize};

/// Node-local tables copied row by row, with the columns a backup holds, in restore order
/// (accounts before the sessions and tokens that reference them). Generated ids are kept where
/// something refers to them (accounts); refusals get new ids.
pub const LOCAL_TABLES: &[(&str, &[&str])] = &[
    ("trust_root", &["division", "public_key"]),
    ("node_state", &["key", "value"]),
    ("push_acks", &["origin", "seq"]),
    ("invites", &["token_hash", "division", "tier", "name", "expires_at", "used_at"]),
    ("forks", &["origin", "seq", "hash", "body", "sig", "detected_at", "resolved_by"]),
    ("refusals", &["at", "peer", "origin", "seq", "code", "message"]),
    ("attachments", &["sha256", "name", "media_type", "size", "data", "uploaded_at", "account"]),
    (
        "accounts",
        &[
            "id",
            "login",
            "name",
            "roles",
            "department",
            "password_hash",
            "disabled",
            "failed_logins",
            "locked_until",
            "created_at",
        ],
    ),
    ("sessions", &["token_hash", "account", "created_at", "expires_at"]),
    ("api_tokens", &["token_hash", "account", "label", "created_at", "revoked_at"]),
    // Cosigned checkpoints are evidence a parent signed, not derivable from the entries; the
    // cosign heads are this node's compare-and-set points for its children's next checkpoints.
    ("checkpoints", &["origin", "size", "root", "at", "signature", "cosigner", "cosignature", "stored_at"]),
    ("cosign_heads", &["origin", "size", "root"]),
];

/// Tables `rebuild` recreates from the entries (projections and caches): never in a backup.
pub const REBUILT_TABLES: &[&str] = &[
    "items",
    "heads",
    "enrolments",
    "calendar_years",
    "publications",
    "catalogue",
    "recon_tasks",
    "recon_codes",
    "policies",
    "filings",
    "grants",
    "grant_items",
    "seals",
    "grant_events",
    "item_versions",
    "audit_findings",
    "audit_units",
    "audit_checkpoint",
    // The Merkle subtree cache is refilled from the entries at the next checkpoint.
    "merkle_nodes",
    "merkle_sizes",
    "requests",
    "request_steps",
    "request_attachments",
];

/// The entries themselves (a backup's main part) and the store's bookkeeping, which a fresh
/// store writes itself (format marker, applied migrations).
pub const STORE_TABLES: &[&str] = &["entries", "store_meta", "_sqlx_migrations"];

/// The `node_state` key a restore sets: the node's own log may be longer at its parent than in
/// the backup, so the node must not sign anything before it has caught up (see the node's
/// `federation::catch_up`).
pub const RESTORED_STATE_KEY: &str = "restored_own_log_unconfirmed";

/// The `node_state` key of the children a restored node waits for (see the node's
/// `federation::restore_hold`). A restore removes it, so that the node notes its children
/// afresh on its first start; one left in the archive by an earlier restore must not count.
pub const RESTORED_CHILDREN_KEY: &str = "restored_children_unconfirmed";

/// One value of a node-local row. Only these three column types (and NULL) exist in the
/// node-local tables of both backends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupValue {
    Null,
    Int(i64),
    Text(String),
    /// Hex.
    Bytes(String),
}

/// One record of a backup, in the order `backup_read` produces and `restore` expects them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackupRecord {
    /// One stored entry: its exact signed bytes (canonical JSON, UTF-8) and signature (hex).
    /// Entries come in arrival order; a restore re-verifies them all.
    Entry { origin: String, seq: u64, at: String, body: String, sig: String },
    /// One row of a node-local table, its values in the order of `columns`.
    Row { table: String, columns: Vec<String>, values: Vec<BackupValue> },
}

/// What a snapshot read held: the schema it was read from and the per-origin heads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// The last migration applied to the database read.
    pub schema_version: i64,
    pub entries: u64,
    pub rows: u64,
    /// Per origin: (origin, last seq, entries held).
    pub origins: Vec<(String, u64, u64)>,
}

/// The columns a restore accepts for `table`, if it is a node-local table.
pub fn local_columns(table: &str) -> Option<&'static [&'static str]> {
    LOCAL_TABLES.iter().find(|(t, _)| *t == table).map(|(_, c)| *c)
}
