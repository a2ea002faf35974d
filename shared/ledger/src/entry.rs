//! Log entries: the body `{v, origin, seq, prev, at, op}`, its canonical bytes (RFC 8785), and
//! the three forms an entry takes — unverified (bytes + signature from anywhere), verified
//! (only this crate makes one) and wire (JSON for transport, carrying the exact bytes).

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::Signature;
use quanze_domain::{DivisionCode, Op};
use serde::{Deserialize, Serialize};

use crate::LedgerError;
use crate::hash::Hash;
use crate::keys::NodeKey;
use crate::verify::ChainHead;

/// Version of the entry format written by this code.
pub const ENTRY_VERSION: u32 = 1;

/// Largest entry accepted, in bytes (an import of a whole county list fits many times over).
pub const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;

/// Largest integer written into canonical JSON (2^53 − 1), so every JSON reader agrees on it.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The signed content of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// Entry format version.
    pub v: u32,
    /// The node whose log this is (its division code).
    pub origin: DivisionCode,
    /// Position in the origin's log, from 1, without gaps.
    pub seq: u64,
    /// Hash of the previous entry's bytes; absent for seq 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<Hash>,
    /// When the origin wrote it: RFC 3339, UTC, milliseconds.
    pub at: String,
    /// The batch of operations, applied together or not at all.
    pub op: Vec<Op>,
}

/// A reference to one entry of one log, for causality across logs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    pub origin: DivisionCode,
    pub seq: u64,
    pub hash: Hash,
}

/// Bytes and signature as received or read back, not yet checked. Nothing can read its ops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedEntry {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sig: [u8; 64],
}

impl UnverifiedEntry {
    pub fn new(bytes: Vec<u8>, sig: [u8; 64]) -> Self {
        UnverifiedEntry { bytes, sig }
    }

    /// From database columns; fails when the signature column is not 64 bytes.
    pub fn from_parts(bytes: Vec<u8>, sig: &[u8]) -> Option<Self> {
        Some(UnverifiedEntry { bytes, sig: sig.try_into().ok()? })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The origin and seq the bytes claim, read without trusting them: only to choose the key
    /// and the chain head to verify against. Verification checks them again.
    pub fn claimed_position(&self) -> Result<(DivisionCode, u64), crate::VerifyError> {
        #[derive(Deserialize)]
        struct Position {
            origin: DivisionCode,
            seq: u64,
        }
        let p: Position =
            serde_json::from_slice(&self.bytes).map_err(|e| crate::VerifyError::Malformed(e.to_string()))?;
        Ok((p.origin, p.seq))
    }

    /// Whether `key` signed these bytes (for fork evidence; not a verification of the entry).
    pub fn is_signed_by(&self, key: &crate::PublicKey) -> bool {
        key.verify(&self.bytes, &Signature::from_bytes(&self.sig))
    }

    /// SHA-256 of the bytes.
    pub fn hash(&self) -> Hash {
        Hash::of(&self.bytes)
    }

    pub fn sig(&self) -> &[u8; 64] {
        &self.sig
    }
}

/// An entry whose signature, canonical form and chain position were checked (or which this
/// node just signed). Fields are private: only `verify_next` and `sign_entry` make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    pub(crate) body: EntryBody,
    pub(crate) bytes: Vec<u8>,
    pub(crate) hash: Hash,
    pub(crate) sig: [u8; 64],
}

impl VerifiedEntry {
    pub fn body(&self) -> &EntryBody {
        &self.body
    }
    pub fn origin(&self) -> &DivisionCode {
        &self.body.origin
    }
    pub fn seq(&self) -> u64 {
        self.body.seq
    }
    pub fn ops(&self) -> &[Op] {
        &self.body.op
    }
    /// The exact signed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn hash(&self) -> Hash {
        self.hash
    }
    pub fn sig(&self) -> &[u8; 64] {
        &self.sig
    }
    /// `at` as a timestamp (checked at verification, so this cannot fail).
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&self.body.at).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }
    pub fn head(&self) -> ChainHead {
        ChainHead { seq: self.body.seq, hash: self.hash }
    }
    pub fn entry_ref(&self) -> EntryRef {
        EntryRef { origin: self.body.origin.clone(), seq: self.body.seq, hash: self.hash }
    }
    pub fn to_wire(&self) -> SignedEntryWire {
        SignedEntryWire {
            body: String::from_utf8_lossy(&self.bytes).into_owned(),
            sig: hex::encode(self.sig),
            hash: self.hash,
        }
    }
}

/// The transport form: the signed bytes as a JSON string (exactly as signed, so a receiver
/// verifies the bytes it was given), the signature and, for readers, the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEntryWire {
    pub body: String,
    pub sig: String,
    /// Informational; receivers recompute it from `body`.
    pub hash: Hash,
}

impl SignedEntryWire {
    /// The unverified entry, or `None` when the signature is not 128 hex digits.
    pub fn into_unverified(self) -> Option<UnverifiedEntry> {
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.sig, &mut sig).ok()?;
        Some(UnverifiedEntry { bytes: self.body.into_bytes(), sig })
    }
}

/// Formats a timestamp the way entries carry it.
pub fn format_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Builds, canonicalises and signs the entry that follows `head` in `origin`'s log.
pub fn sign_entry(
    key: &NodeKey,
    origin: &DivisionCode,
    head: Option<&ChainHead>,
    at: DateTime<Utc>,
    ops: Vec<Op>,
) -> Result<VerifiedEntry, LedgerError> {
    if ops.is_empty() {
        return Err(LedgerError::NoOps);
    }
    let seq = head.map_or(1, |h| h.seq + 1);
    if seq > MAX_SAFE_INTEGER {
        return Err(LedgerError::SeqOverflow(seq));
    }
    let body = EntryBody {
        v: ENTRY_VERSION,
        origin: origin.clone(),
        seq,
        prev: head.map(|h| h.hash),
        at: format_at(at),
        op: ops,
    };
    let bytes = crate::canonical::to_canonical_vec(&body)?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(LedgerError::TooLarge(bytes.len()));
    }
    let sig: Signature = key.sign(&bytes);
    let hash = Hash::of(&bytes);
    Ok(VerifiedEntry { body, bytes, hash, sig: sig.to_bytes() })
}
