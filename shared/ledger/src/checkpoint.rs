//! Checkpoints of a log: `{origin, size, root, at}` signed by the origin's key, and cosigned by
//! its parent once the parent has checked it against its own copy of the log.
//!
//! The origin signs `"quanze-checkpoint/v1\n" || canonical JSON of the body`; a cosigner signs
//! `"quanze-cosignature/v1\n" || the same canonical JSON`. The prefixes keep the two apart and
//! apart from entries and statements (which are bare JSON objects).
//!
//! **Invariant:** a [`SignedCheckpoint`] or [`CosignedCheckpoint`] exists only when its
//! signatures were made here or verified here (private fields, like `VerifiedEntry`).
//!
//! Must not touch: I/O, the log's entries, Merkle hashing (see `merkle.rs`).

use quanze_domain::DivisionCode;
use serde::{Deserialize, Serialize};

use crate::hash::Hash;
use crate::keys::{NodeKey, PublicKey};

const CHECKPOINT_DOMAIN: &[u8] = b"quanze-checkpoint/v1\n";
const COSIGNATURE_DOMAIN: &[u8] = b"quanze-cosignature/v1\n";

/// What a checkpoint states: the first `size` entries of `origin`'s log have Merkle root `root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub origin: DivisionCode,
    pub size: u64,
    pub root: Hash,
    /// When the origin signed it: RFC 3339, UTC, milliseconds.
    pub at: String,
}

/// A checkpoint as it travels: body, the origin's signature and, once cosigned, the cosigner
/// and its signature. Nothing in it is trusted until verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointWire {
    pub checkpoint: Checkpoint,
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner: Option<DivisionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosignature: Option<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("检查点签名无效 / the checkpoint's signature does not verify")]
    BadSignature,
    #[error("检查点联署签名无效 / the cosignature does not verify")]
    BadCosignature,
    #[error("检查点缺少联署 / the checkpoint carries no cosignature")]
    NotCosigned,
    #[error("检查点格式错误 / malformed checkpoint: {0}")]
    Malformed(String),
}

impl CheckpointError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::BadSignature => "CHECKPOINT_BAD_SIGNATURE",
            CheckpointError::BadCosignature => "CHECKPOINT_BAD_COSIGNATURE",
            CheckpointError::NotCosigned => "CHECKPOINT_NOT_COSIGNED",
            CheckpointError::Malformed(_) => "CHECKPOINT_MALFORMED",
        }
    }
}

impl Checkpoint {
    fn message(&self, domain: &[u8]) -> Result<Vec<u8>, CheckpointError> {
        let body = crate::canonical::to_canonical_vec(self).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let mut out = Vec::with_capacity(domain.len() + body.len());
        out.extend_from_slice(domain);
        out.extend_from_slice(&body);
        Ok(out)
    }
}

/// A checkpoint whose origin signature was made or verified here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    signature: String,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the origin's key.
    pub fn sign(key: &NodeKey, checkpoint: Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        let signature = key.sign_statement(&checkpoint.message(CHECKPOINT_DOMAIN)?);
        Ok(SignedCheckpoint { checkpoint, signature })
    }

    /// Verifies the origin's signature (`origin_key`: the key valid for the origin).
    pub fn verify(
        checkpoint: Checkpoint,
        signature: &str,
        origin_key: &PublicKey,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if !origin_key.verify_statement(&checkpoint.message(CHECKPOINT_DOMAIN)?, signature) {
            return Err(CheckpointError::BadSignature);
        }
        Ok(SignedCheckpoint { checkpoint, signature: signature.to_string() })
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The cosignature of `cosigner` (its key `key`): the caller has checked the checkpoint
    /// against its own copy of the log and the last checkpoint it cosigned.
    pub fn cosign(self, cosigner: DivisionCode, key: &NodeKey) -> Result<CosignedCheckpoint, CheckpointError> {
        let cosignature = key.sign_statement(&self.checkpoint.message(COSIGNATURE_DOMAIN)?);
        Ok(CosignedCheckpoint { signed: self, cosigner, cosignature })
    }

    /// Adds a cosignature received from `cosigner`, if `cosigner_key` made it.
    pub fn with_cosignature(
        self,
        cosigner: DivisionCode,
        cosignature: &str,
        cosigner_key: &PublicKey,
    ) -> Result<CosignedCheckpoint, CheckpointError> {
        if !cosigner_key.verify_statement(&self.checkpoint.message(COSIGNATURE_DOMAIN)?, cosignature) {
            return Err(CheckpointError::BadCosignature);
        }
        Ok(CosignedCheckpoint { signed: self, cosigner, cosignature: cosignature.to_string() })
    }

    pub fn to_wire(&self) -> CheckpointWire {
        CheckpointWire {
            checkpoint: self.checkpoint.clone(),
            signature: self.signature.clone(),
            cosigner: None,
            cosignature: None,
        }
    }
}

/// A checkpoint signed by its origin and cosigned by another node, both verified here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignedCheckpoint {
    signed: SignedCheckpoint,
    cosigner: DivisionCode,
    cosignature: String,
}

impl CosignedCheckpoint {
    /// Verifies both signatures of a received cosigned checkpoint. The caller picks the keys:
    /// the origin's from its enrolments, the cosigner's (which must be the origin's parent)
    /// likewise.
    pub fn verify(
        wire: CheckpointWire,
        origin_key: &PublicKey,
        cosigner_key: &PublicKey,
    ) -> Result<CosignedCheckpoint, CheckpointError> {
        let (Some(cosigner), Some(cosignature)) = (wire.cosigner, wire.cosignature) else {
            return Err(CheckpointError::NotCosigned);
        };
        SignedCheckpoint::verify(wire.checkpoint, &wire.signature, origin_key)?.with_cosignature(
            cosigner,
            &cosignature,
            cosigner_key,
        )
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.signed.checkpoint
    }

    pub fn signature(&self) -> &str {
        &self.signed.signature
    }

    pub fn cosigner(&self) -> &DivisionCode {
        &self.cosigner
    }

    pub fn cosignature(&self) -> &str {
        &self.cosignature
    }

    pub fn to_wire(&self) -> CheckpointWire {
        CheckpointWire {
            checkpoint: self.signed.checkpoint.clone(),
            signature: self.signed.signature.clone(),
            cosigner: Some(self.cosigner.clone()),
            cosignature: Some(self.cosignature.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(size: u64) -> Checkpoint {
        Checkpoint {
            origin: DivisionCode::parse("110101").unwrap(),
            size,
            root: Hash::of(b"root"),
            at: "2026-12-03T08:00:00.000Z".into(),
        }
    }

    #[test]
    fn signed_and_cosigned_checkpoints_verify_only_with_the_right_keys() {
        let (child, parent, other) =
            (NodeKey::from_seed(&[1; 32]), NodeKey::from_seed(&[2; 32]), NodeKey::from_seed(&[3; 32]));
        let parent_code = DivisionCode::parse("110100").unwrap();
        let signed = SignedCheckpoint::sign(&child, body(5)).unwrap();
        let wire = signed.to_wire();
        assert!(SignedCheckpoint::verify(wire.checkpoint.clone(), &wire.signature, &child.public()).is_ok());
        assert_eq!(
            SignedCheckpoint::verify(wire.checkpoint.clone(), &wire.signature, &other.public()),
            Err(CheckpointError::BadSignature)
        );
        assert_eq!(
            CosignedCheckpoint::verify(wire.clone(), &child.public(), &parent.public()),
            Err(CheckpointError::NotCosigned)
        );

        let cosigned = signed.cosign(parent_code.clone(), &parent).unwrap().to_wire();
        let ok = CosignedCheckpoint::verify(cosigned.clone(), &child.public(), &parent.public()).unwrap();
        assert_eq!(ok.cosigner(), &parent_code);
        assert_eq!(ok.checkpoint(), &body(5));
        assert_eq!(
            CosignedCheckpoint::verify(cosigned.clone(), &child.public(), &other.public()),
            Err(CheckpointError::BadCosignature)
        );

        // A changed body, or the cosignature offered as the origin's signature, fails.
        let mut changed = cosigned.clone();
        changed.checkpoint.size = 6;
        assert_eq!(
            CosignedCheckpoint::verify(changed, &child.public(), &parent.public()),
            Err(CheckpointError::BadSignature)
        );
        let mut swapped = cosigned.clone();
        swapped.signature = cosigned.cosignature.clone().unwrap();
        assert_eq!(
            CosignedCheckpoint::verify(swapped, &parent.public(), &parent.public()),
            Err(CheckpointError::BadSignature)
        );
    }

    #[test]
    fn the_wire_form_refuses_unknown_fields() {
        let json = r#"{"checkpoint":{"origin":"110101","size":1,"root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","at":"x","extra":1},"signature":"00"}"#;
        assert!(serde_json::from_str::<CheckpointWire>(json).is_err());
    }
}
