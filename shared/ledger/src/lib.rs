//! Signed single-writer logs: canonical entry bytes, hashes, keys, signatures and chain checks.
//!
//! **Architecture invariant:** the ledger does no I/O (no files, network or database). It turns
//! bytes into verified entries and ops into signed entries, nothing else.
//!
//! **Architecture invariant:** a `VerifiedEntry` can only be made here — by `verify_next` (bytes
//! from anywhere: a peer, our own database) or by `sign_entry` (bytes we just signed). Code that
//! applies entries takes `VerifiedEntry`, so an unverified entry cannot reach a projection.
//!
//! **Architecture invariant:** signatures and hashes cover the stored bytes exactly as signed;
//! nothing is ever re-serialised before it is verified.

mod canonical;
mod checkpoint;
mod entry;
mod hash;
mod keys;
pub mod merkle;
mod verify;

pub use canonical::to_canonical_vec;
pub use checkpoint::{Checkpoint, CheckpointError, CheckpointWire, CosignedCheckpoint, SignedCheckpoint};
pub use entry::{
    ENTRY_VERSION, EntryBody, EntryRef, MAX_ENTRY_BYTES, MAX_SAFE_INTEGER, SignedEntryWire, UnverifiedEntry,
    VerifiedEntry, format_at, sign_entry,
};
pub use hash::{Hash, HashParseError};
pub use keys::{KeyError, NodeKey, PublicKey};
pub use verify::{ChainHead, VerifyError, verify_chain, verify_next};

/// Errors while building an entry to sign.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("条目序号 {0} 超出 JSON 安全整数范围 / seq exceeds 2^53-1")]
    SeqOverflow(u64),
    #[error("条目为空：至少需要一个操作 / an entry needs at least one op")]
    NoOps,
    #[error("条目大小 {0} 字节超过上限 / entry of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("无法生成规范 JSON / canonical JSON failed: {0}")]
    Canonical(#[from] serde_json::Error),
}

#[cfg(test)]
mod tests;
