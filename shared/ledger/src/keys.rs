//! Ed25519 node keys. Generation uses the OS random source; loading and saving the key file is
//! the node's job (it owns file permissions), so this module only converts to and from bytes.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A node's private signing key. Never printed, never serialised by accident.
pub struct NodeKey(SigningKey);

/// A node's public key, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// A key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("系统随机数源不可用 / OS random source failed: {0}")]
    Random(String),
    #[error("密钥格式错误：应为 64 位十六进制 / key must be 64 hex digits")]
    Format,
    #[error("公钥无效 / not a valid Ed25519 public key")]
    InvalidPublic,
}

impl NodeKey {
    /// A fresh key from the OS random source.
    pub fn generate() -> Result<NodeKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(NodeKey(SigningKey::from_bytes(&seed)))
    }

    /// The key with this 32-byte seed (tests use fixed seeds for golden vectors).
    pub fn from_seed(seed: &[u8; 32]) -> NodeKey {
        NodeKey(SigningKey::from_bytes(seed))
    }

    /// Parses the seed written by `to_seed_hex`.
    pub fn from_seed_hex(text: &str) -> Result<NodeKey, KeyError> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| KeyError::Format)?;
        Ok(NodeKey::from_seed(&seed))
    }

    /// The seed as hex, for the key file only.
    pub fn to_seed_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, bytes: &[u8]) -> Signature {
        self.0.sign(bytes)
    }

    /// Signs a message that is not a log entry (e.g. a heads statement); 128 hex digits.
    pub fn sign_statement(&self, bytes: &[u8]) -> String {
        hex::encode(self.0.sign(bytes).to_bytes())
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey(public {})", self.public())
    }
}

impl PublicKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub(crate) fn verify(&self, bytes: &[u8], sig: &Signature) -> bool {
        self.0.verify_strict(bytes, sig).is_ok()
    }

    /// Checks a statement signature made by `NodeKey::sign_statement`.
    pub fn verify_statement(&self, bytes: &[u8], sig_hex: &str) -> bool {
        let mut sig = [0u8; 64];
        hex::decode_to_slice(sig_hex, &mut sig).is_ok() && self.verify(bytes, &Signature::from_bytes(&sig))
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut raw = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut raw).map_err(|_| KeyError::Format)?;
        VerifyingKey::from_bytes(&raw).map(PublicKey).map_err(|_| KeyError::InvalidPublic)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}
