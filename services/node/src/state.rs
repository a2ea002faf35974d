//! The running node: its identity, its store, and the single writer of its log.
//!
//! Owns `Node::write`, the only path by which this node appends to its own log: it holds the
//! chain head under an async mutex, signs the next entry and stores it (entry + projections in
//! one transaction). After any failure that is not a rule refusal it re-reads the head from the
//! database, so a seq that may have been written is never signed twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use quanze_domain::{DivisionCode, Op, Tier};
use quanze_ledger::{ChainHead, LedgerError, NodeKey, PublicKey, VerifiedEntry, sign_entry};
use quanze_store::{Store, StoreError};
use tokio::sync::Mutex;

/// Counters shown on `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub http_requests: AtomicU64,
    pub http_client_errors: AtomicU64,
    pub http_server_errors: AtomicU64,
    pub entries_written: AtomicU64,
    pub ops_written: AtomicU64,
}

/// A node's shared state, cloned into every request handler.
#[derive(Debug, Clone)]
pub struct Node {
    inner: Arc<NodeInner>,
}

#[derive(Debug)]
struct NodeInner {
    division: DivisionCode,
    tier: Tier,
    name: String,
    key: NodeKey,
    store: Store,
    /// Bearer token for writes; `None` disables write auth (in-process tools only).
    operator_token: Option<String>,
    /// The head of our own log; holding the lock makes this task the only writer.
    head: Mutex<Option<ChainHead>>,
    counters: Counters,
}

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl Node {
    pub async fn new(
        division: DivisionCode,
        tier: Tier,
        name: String,
        key: NodeKey,
        store: Store,
        operator_token: Option<String>,
    ) -> Result<Node, StoreError> {
        let head = store.head(&division).await?;
        Ok(Node {
            inner: Arc::new(NodeInner {
                division,
                tier,
                name,
                key,
                store,
                operator_token,
                head: Mutex::new(head),
                counters: Counters::default(),
            }),
        })
    }

    pub fn division(&self) -> &DivisionCode {
        &self.inner.division
    }
    pub fn tier(&self) -> Tier {
        self.inner.tier
    }
    pub fn name(&self) -> &str {
        &self.inner.name
    }
    pub fn public_key(&self) -> PublicKey {
        self.inner.key.public()
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }
    pub fn operator_token(&self) -> Option<&str> {
        self.inner.operator_token.as_deref()
    }

    /// The key to verify entries of `origin` with. Until federation enrols other nodes, only
    /// this node's own log is held.
    pub fn key_of(&self, origin: &DivisionCode) -> Option<PublicKey> {
        (origin == &self.inner.division).then(|| self.inner.key.public())
    }

    /// Signs `ops` as the next entry of this node's log and stores it with its projections.
    pub async fn write(&self, ops: Vec<Op>) -> Result<VerifiedEntry, WriteError> {
        let mut head = self.inner.head.lock().await;
        let n_ops = ops.len() as u64;
        let entry = sign_entry(&self.inner.key, &self.inner.division, head.as_ref(), Utc::now(), ops)?;
        match self.inner.store.append(std::slice::from_ref(&entry)).await {
            Ok(()) => {
                *head = Some(entry.head());
                self.inner.counters.entries_written.fetch_add(1, Ordering::Relaxed);
                self.inner.counters.ops_written.fetch_add(n_ops, Ordering::Relaxed);
                Ok(entry)
            }
            Err(e) => {
                if !matches!(e, StoreError::Rule { .. }) {
                    // The commit may or may not have happened: trust the database, not memory.
                    if let Ok(stored) = self.inner.store.head(&self.inner.division).await {
                        *head = stored;
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Rebuilds every projection from the entries while holding the writer lock.
    pub async fn rebuild(&self) -> Result<u64, StoreError> {
        let _writer = self.inner.head.lock().await;
        let key_of = |origin: &DivisionCode| self.key_of(origin);
        self.inner.store.rebuild(&key_of).await
    }

    /// The current head of this node's own log.
    pub async fn head(&self) -> Option<ChainHead> {
        *self.inner.head.lock().await
    }
}
