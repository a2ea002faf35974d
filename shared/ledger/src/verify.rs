//! Verification of entries against the origin's key and the chain head already held.
//!
//! Checks, in order: size, signature over the exact bytes, JSON shape, canonical form (so one
//! body has exactly one byte form and one hash), version, origin, seq continuity, `prev` link,
//! timestamp and a non-empty batch. The first failure is returned; nothing is partially trusted.

use chrono::DateTime;
use ed25519_dalek::Signature;
use quanze_domain::DivisionCode;
use serde::{Deserialize, Serialize};

use crate::entry::{ENTRY_VERSION, EntryBody, MAX_ENTRY_BYTES, MAX_SAFE_INTEGER, UnverifiedEntry, VerifiedEntry};
use crate::hash::Hash;
use crate::keys::PublicKey;

/// The last verified entry of a log: what the next entry must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: Hash,
}

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("条目大小 {0} 字节超过上限 / entry too large ({0} bytes)")]
    TooLarge(usize),
    #[error("签名无效 / signature does not verify")]
    BadSignature,
    #[error("条目格式错误 / malformed entry: {0}")]
    Malformed(String),
    #[error("条目不是规范 JSON（RFC 8785）/ entry bytes are not canonical JSON")]
    NotCanonical,
    #[error("不支持的条目版本 {0} / unsupported entry version")]
    Version(u32),
    #[error("条目来源 {found} 与预期 {expected} 不符 / entry belongs to another log")]
    WrongOrigin { expected: DivisionCode, found: DivisionCode },
    #[error("序号 {found} 不连续，应为 {expected} / gap in seq")]
    Gap { expected: u64, found: u64 },
    #[error("序号 {found} 已存在（当前为 {head}）/ seq already present: duplicate or replay")]
    Duplicate { found: u64, head: u64 },
    #[error("序号 {seq} 的 prev 与上一条目哈希不符 / prev does not match the previous entry's hash")]
    WrongPrev { seq: u64 },
    #[error("序号 {0} 超出安全整数范围 / seq out of range")]
    SeqRange(u64),
    #[error("时间戳 “{0}” 无效 / bad timestamp")]
    BadTimestamp(String),
    #[error("条目不含任何操作 / entry carries no op")]
    NoOps,
}

impl VerifyError {
    /// Stable machine-readable code, as peers and the API report it.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::TooLarge(_) => "ENTRY_TOO_LARGE",
            VerifyError::BadSignature => "BAD_SIGNATURE",
            VerifyError::Malformed(_) => "MALFORMED_ENTRY",
            VerifyError::NotCanonical => "NOT_CANONICAL",
            VerifyError::Version(_) => "UNSUPPORTED_VERSION",
            VerifyError::WrongOrigin { .. } => "WRONG_ORIGIN",
            VerifyError::Gap { .. } => "SEQ_GAP",
            VerifyError::Duplicate { .. } => "SEQ_REPLAY",
            VerifyError::WrongPrev { .. } => "WRONG_PREV",
            VerifyError::SeqRange(_) => "SEQ_RANGE",
            VerifyError::BadTimestamp(_) => "BAD_TIMESTAMP",
            VerifyError::NoOps => "NO_OPS",
        }
    }
}

/// Verifies `entry` as the next entry of `origin`'s log after `head` (none: the log is empty),
/// signed by `key`.
pub fn verify_next(
    origin: &DivisionCode,
    key: &PublicKey,
    head: Option<&ChainHead>,
    entry: UnverifiedEntry,
) -> Result<VerifiedEntry, VerifyError> {
    let UnverifiedEntry { bytes, sig } = entry;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(VerifyError::TooLarge(bytes.len()));
    }
    if !key.verify(&bytes, &Signature::from_bytes(&sig)) {
        return Err(VerifyError::BadSignature);
    }
    let body: EntryBody = serde_json::from_slice(&bytes).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let canonical = crate::canonical::to_canonical_vec(&body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if canonical != bytes {
        return Err(VerifyError::NotCanonical);
    }
    if body.v != ENTRY_VERSION {
        return Err(VerifyError::Version(body.v));
    }
    if &body.origin != origin {
        return Err(VerifyError::WrongOrigin { expected: origin.clone(), found: body.origin });
    }
    if body.seq == 0 || body.seq > MAX_SAFE_INTEGER {
        return Err(VerifyError::SeqRange(body.seq));
    }
    let expected = head.map_or(1, |h| h.seq + 1);
    if body.seq < expected {
        return Err(VerifyError::Duplicate { found: body.seq, head: expected - 1 });
    }
    if body.seq > expected {
        return Err(VerifyError::Gap { expected, found: body.seq });
    }
    if body.prev != head.map(|h| h.hash) {
        return Err(VerifyError::WrongPrev { seq: body.seq });
    }
    if DateTime::parse_from_rfc3339(&body.at).is_err() || !body.at.ends_with('Z') {
        return Err(VerifyError::BadTimestamp(body.at));
    }
    if body.op.is_empty() {
        return Err(VerifyError::NoOps);
    }
    let hash = Hash::of(&bytes);
    Ok(VerifiedEntry { body, bytes, hash, sig })
}

/// Verifies a whole log from seq 1. Returns the verified entries, or the seq (position-based,
/// from 1) of the first bad entry and why.
pub fn verify_chain(
    origin: &DivisionCode,
    key: &PublicKey,
    entries: impl IntoIterator<Item = UnverifiedEntry>,
) -> Result<Vec<VerifiedEntry>, (u64, VerifyError)> {
    let mut out: Vec<VerifiedEntry> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let head = out.last().map(VerifiedEntry::head);
        let verified = verify_next(origin, key, head.as_ref(), entry).map_err(|e| (i as u64 + 1, e))?;
        out.push(verified);
    }
    Ok(out)
}
