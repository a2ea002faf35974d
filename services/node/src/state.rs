//! The running node: its identity, its store, the single writer of its log, and the one door
//! through which entries of other logs come in.
//!
//! Owns `Node::write`, the only path by which this node appends to its own log: it holds the
//! chain head and the signing key under an async mutex, signs the next entry and stores it
//! (entry + projections in one transaction). After any failure that is not a refusal it re-reads
//! the head from the database, so a seq that may have been written is never signed twice.
//! Owns `Node::ingest`: entries from peers, limited to the origins that peer may deliver, go to
//! the store's verified delivery one batch at a time. Every commit bumps `changes`, which wakes
//! long-polling children and the push loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quanze_domain::{DivisionCode, Op, Tier};
use quanze_ledger::{ChainHead, LedgerError, NodeKey, PublicKey, UnverifiedEntry, VerifiedEntry, sign_entry};
use quanze_store::{Delivery, Store, StoreError};
use tokio::sync::{Mutex, watch};

use crate::clock::Clock;
use crate::federation::SyncStatus;

/// Counters shown on `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub http_requests: AtomicU64,
    pub http_client_errors: AtomicU64,
    pub http_server_errors: AtomicU64,
    pub entries_written: AtomicU64,
    pub ops_written: AtomicU64,
    pub entries_received: AtomicU64,
    pub entries_refused: AtomicU64,
}

/// The writer's state: the head of our own log and the key that signs the next entry.
#[derive(Debug)]
struct Writer {
    head: Option<ChainHead>,
    key: NodeKey,
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
    store: Store,
    /// The operator's bearer token; `None`: no caller is the operator (offline tools, which
    /// serve no API).
    operator_token: Option<String>,
    /// Failed logins per client address (the in-memory brake on password guessing).
    logins: crate::auth::LoginLimiter,
    /// Holding this lock makes a task the only writer of our log.
    writer: Mutex<Writer>,
    /// One delivery batch at a time.
    ingest: Mutex<()>,
    /// Bumped after every commit (own write or delivery).
    changes: watch::Sender<u64>,
    sync: std::sync::Mutex<SyncStatus>,
    /// Set when the server stops: long-polls answer at once.
    closing: std::sync::atomic::AtomicBool,
    env: std::sync::OnceLock<NodeEnv>,
    /// The public half of the writer's key, readable without waiting for the writer.
    public: std::sync::RwLock<PublicKey>,
    counters: Counters,
    /// Signs entries' times and tells today's date.
    clock: Clock,
    /// Restored from a backup and not yet caught up with our own log at the parent: signing
    /// now could fork our log (the parent may hold later entries of ours).
    own_log_unconfirmed: std::sync::atomic::AtomicBool,
    /// Restored from a backup: the children that still have to confirm they hold nothing of our
    /// log beyond our head (`federation::restore_hold`). Writes wait until it is empty.
    awaiting_children: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A restored node that has not yet fetched its own newer entries from its parent.
    #[error(
        "节点从备份恢复后尚未与上级核对本节点日志，暂不接受写入 / restored from a backup: own log not yet confirmed with the parent"
    )]
    OwnLogUnconfirmed,
    /// A restored node whose children have not all confirmed they hold nothing newer of its log.
    #[error(
        "节点从备份恢复后，等待下级确认未持有本节点更新的条目：{0} / restored from a backup: waiting for these children to confirm they hold no newer entry of ours"
    )]
    AwaitingChildren(String),
}

/// Where the node runs: set once when it is served (absent in offline tools).
#[derive(Debug, Clone, Default)]
pub struct NodeEnv {
    /// The data directory (the key file lives there).
    pub data_dir: Option<std::path::PathBuf>,
    /// The URL children reach this node at.
    pub public_url: String,
    /// This node's TLS certificate (DER), for invites.
    pub cert_der: Vec<u8>,
    /// The parent's division and URL; `None` at the province.
    pub parent: Option<(DivisionCode, String)>,
}

/// Which origins a peer may deliver to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// From our parent: strict ancestors' logs.
    Ancestors,
    /// From a child: logs strictly below us.
    Descendants,
    /// From a child, marked as returned: our own entries it holds and we lost (we were restored
    /// from an older backup). Nothing else.
    Returned,
    /// Disk recovery: ancestors and our own log, as the parent holds them.
    Recovery,
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
        let unconfirmed = store.restored_unconfirmed().await?;
        let awaiting = crate::federation::restore_hold::load(&store, &division, unconfirmed).await?;
        Ok(Node {
            inner: Arc::new(NodeInner {
                division,
                tier,
                name,
                store,
                operator_token,
                logins: crate::auth::LoginLimiter::default(),
                env: std::sync::OnceLock::new(),
                public: std::sync::RwLock::new(key.public()),
                writer: Mutex::new(Writer { head, key }),
                ingest: Mutex::new(()),
                changes: watch::Sender::new(0),
                sync: std::sync::Mutex::new(SyncStatus::default()),
                closing: std::sync::atomic::AtomicBool::new(false),
                counters: Counters::default(),
                clock: crate::clock::process_clock(),
                own_log_unconfirmed: std::sync::atomic::AtomicBool::new(unconfirmed),
                awaiting_children: std::sync::Mutex::new(awaiting),
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
    /// The public half of the key that signs our next entry.
    pub fn public_key(&self) -> PublicKey {
        *self.inner.public.read().unwrap_or_else(std::sync::PoisonError::into_inner)
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
    /// Failed logins per client address.
    pub fn login_limiter(&self) -> &crate::auth::LoginLimiter {
        &self.inner.logins
    }

    /// Our current key for our own origin, when the enrolments do not name one yet (before
    /// the parent's log has arrived). Never used for other origins.
    pub fn own_key_fallback(&self, origin: &DivisionCode) -> Option<PublicKey> {
        (origin == &self.inner.division).then(|| self.public_key())
    }

    /// Records where the node runs (once; later calls are ignored).
    pub fn set_env(&self, env: NodeEnv) {
        let _ = self.inner.env.set(env);
    }

    fn env(&self) -> &NodeEnv {
        static NONE: std::sync::OnceLock<NodeEnv> = std::sync::OnceLock::new();
        self.inner.env.get().unwrap_or_else(|| NONE.get_or_init(NodeEnv::default))
    }

    pub fn public_url(&self) -> &str {
        &self.env().public_url
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.env().cert_der
    }

    /// The parent's division and URL.
    pub fn parent(&self) -> Option<(DivisionCode, String)> {
        self.env().parent.clone()
    }

    /// Signs a heads statement with the current key.
    pub async fn sign_heads(
        &self,
        statement: crate::federation::wire::HeadsStatement,
    ) -> anyhow::Result<crate::federation::wire::SignedHeads> {
        let writer = self.inner.writer.lock().await;
        crate::federation::wire::SignedHeads::sign(statement, &writer.key)
    }

    /// Every origin held with its head, signed now by this node (`GET /api/v1/fed/heads`).
    /// `at` is this node's clock (shifted by `--now` when set): children compare it with theirs.
    pub async fn signed_heads(&self) -> anyhow::Result<crate::federation::wire::SignedHeads> {
        let heads = self
            .inner
            .store
            .heads()
            .await?
            .into_iter()
            .map(|(origin, h)| crate::federation::wire::HeadEntry { origin, seq: h.seq, hash: h.hash })
            .collect();
        let at = quanze_ledger::format_at(self.inner.clock.now());
        self.sign_heads(crate::federation::wire::HeadsStatement { node: self.inner.division.clone(), at, heads }).await
    }

    /// Signs a statement that is not a log entry (e.g. the public list's digest) with the
    /// current key; 128 hex digits.
    pub async fn sign_statement(&self, bytes: &[u8]) -> String {
        let writer = self.inner.writer.lock().await;
        writer.key.sign_statement(bytes)
    }

    /// Signs a checkpoint of this node's own log with the current key (the key of its next
    /// entry, which is what verifiers look up).
    pub async fn sign_checkpoint(
        &self,
        checkpoint: quanze_ledger::Checkpoint,
    ) -> Result<quanze_ledger::SignedCheckpoint, quanze_ledger::CheckpointError> {
        let writer = self.inner.writer.lock().await;
        quanze_ledger::SignedCheckpoint::sign(&writer.key, checkpoint)
    }

    /// Cosigns a child's checkpoint with the current key; the caller has checked it.
    pub async fn cosign_checkpoint(
        &self,
        signed: quanze_ledger::SignedCheckpoint,
    ) -> Result<quanze_ledger::CosignedCheckpoint, quanze_ledger::CheckpointError> {
        let writer = self.inner.writer.lock().await;
        signed.cosign(self.inner.division.clone(), &writer.key)
    }

    /// Rotates this node's key: the new key is written beside the old one (`node.key.next`),
    /// announced by an entry signed with the old key, then moved into place.
    pub async fn rotate_own_key(&self) -> anyhow::Result<VerifiedEntry> {
        let dir = self.env().data_dir.clone().ok_or_else(|| anyhow::anyhow!("no data directory"))?;
        let next = NodeKey::generate()?;
        let staged = dir.join(crate::config::NEXT_KEY_FILE);
        crate::secrets::write_secret_replacing(&staged, &next.to_seed_hex())?;
        let entry = self
            .rotate_key(next, |_| {
                std::fs::rename(&staged, dir.join(crate::config::KEY_FILE))?;
                Ok(())
            })
            .await;
        if entry.is_err() {
            let _ = std::fs::remove_file(&staged);
        }
        entry
    }

    /// The node's clock (the system's, or shifted by `--now`).
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// Today in China Standard Time, by the node's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.inner.clock.today()
    }

    /// A receiver that changes after every commit.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Tells long-polls to answer now: the server is stopping.
    pub fn begin_shutdown(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        self.changed();
    }

    pub fn is_closing(&self) -> bool {
        self.inner.closing.load(Ordering::SeqCst)
    }

    fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }

    /// Wakes the push loop after a cosigned checkpoint arrived, so it is relayed up promptly.
    pub fn checkpoints_changed(&self) {
        self.changed();
    }

    /// Wakes the push loop (and long-polling children) without a commit.
    pub fn nudge(&self) {
        self.changed();
    }

    /// The sync status shown by `quanze status`.
    pub fn sync_status(&self) -> std::sync::MutexGuard<'_, SyncStatus> {
        self.inner.sync.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Signs `ops` as the next entry of this node's log and stores it with its projections.
    pub async fn write(&self, ops: Vec<Op>) -> Result<VerifiedEntry, WriteError> {
        let mut writer = self.inner.writer.lock().await;
        self.write_locked(&mut writer, ops).await
    }

    async fn write_locked(&self, writer: &mut Writer, ops: Vec<Op>) -> Result<VerifiedEntry, WriteError> {
        if self.own_log_unconfirmed() {
            return Err(WriteError::OwnLogUnconfirmed);
        }
        let awaiting = self.awaiting_children();
        if !awaiting.is_empty() {
            return Err(WriteError::AwaitingChildren(awaiting.join("、")));
        }
        let n_ops = ops.len() as u64;
        let entry = sign_entry(&writer.key, &self.inner.division, writer.head.as_ref(), self.inner.clock.now(), ops)?;
        match self.inner.store.append(std::slice::from_ref(&entry)).await {
            Ok(()) => {
                writer.head = Some(entry.head());
                self.inner.counters.entries_written.fetch_add(1, Ordering::Relaxed);
                self.inner.counters.ops_written.fetch_add(n_ops, Ordering::Relaxed);
                self.changed();
                Ok(entry)
            }
            Err(e) => {
                if !matches!(e, StoreError::Rule { .. } | StoreError::Authority { .. }) {
                    // The commit may or may not have happened: trust the database, not memory.
                    if let Ok(stored) = self.inner.store.head(&self.inner.division).await {
                        writer.head = stored;
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Key rotation: signs, with the current key, an enrolment of `next` valid from the seq
    /// after that entry, then signs with `next`. `persist` runs after the entry is committed
    /// and before the new key is used (it must make the new key durable).
    pub async fn rotate_key(
        &self,
        next: NodeKey,
        persist: impl FnOnce(&NodeKey) -> anyhow::Result<()>,
    ) -> anyhow::Result<VerifiedEntry> {
        let mut writer = self.inner.writer.lock().await;
        let seq = writer.head.map_or(1, |h| h.seq + 1);
        let enrolment = quanze_domain::Enrolment {
            division: self.inner.division.clone(),
            tier: self.inner.tier,
            name: self.inner.name.clone(),
            key: next.public().to_hex(),
            valid_from: seq + 1,
        };
        let entry = self.write_locked(&mut writer, vec![Op::Enroll { enrolment }]).await?;
        persist(&next)?;
        *self.inner.public.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next.public();
        writer.key = next;
        Ok(entry)
    }

    /// Delivers entries from a peer: those outside `scope` are refused here; the rest are
    /// verified and applied by the store. Returns one outcome per entry, in order.
    pub async fn ingest(
        &self,
        peer: &str,
        scope: Scope,
        entries: Vec<UnverifiedEntry>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let _one_batch = self.inner.ingest.lock().await;
        let mut outcomes: Vec<Option<Delivery>> = Vec::with_capacity(entries.len());
        let mut admitted = Vec::with_capacity(entries.len());
        for entry in entries {
            match self.out_of_scope(scope, &entry) {
                Some(refusal) => outcomes.push(Some(refusal)),
                None => {
                    outcomes.push(None);
                    admitted.push(entry);
                }
            }
        }
        let mut delivered = self.inner.store.ingest(peer, admitted).await?.into_iter();
        let out: Vec<Delivery> =
            outcomes.into_iter().map(|o| o.or_else(|| delivered.next()).expect("one outcome per entry")).collect();
        let applied = out.iter().filter(|d| matches!(d, Delivery::Applied { .. })).count() as u64;
        let refused = out.iter().filter(|d| d.is_refusal()).count() as u64;
        self.inner.counters.entries_received.fetch_add(applied, Ordering::Relaxed);
        self.inner.counters.entries_refused.fetch_add(refused, Ordering::Relaxed);
        let own_applied =
            out.iter().any(|d| matches!(d, Delivery::Applied { origin, .. } if origin == self.inner.division.as_str()));
        if applied > 0 {
            if own_applied {
                // Our own entries came back (disk recovery, or a child returning what a restore
                // from an older backup lost): the next entry we sign follows them.
                let mut writer = self.inner.writer.lock().await;
                writer.head = self.inner.store.head(&self.inner.division).await?;
            }
            self.changed();
        }
        Ok(out)
    }

    fn out_of_scope(&self, scope: Scope, entry: &UnverifiedEntry) -> Option<Delivery> {
        let me = &self.inner.division;
        let (origin, seq) = match entry.claimed_position() {
            Ok(p) => p,
            Err(e) => {
                return Some(Delivery::Refused {
                    origin: "?".into(),
                    seq: 0,
                    code: e.code().into(),
                    message: e.to_string(),
                });
            }
        };
        let ancestor = me.is_within(&origin) && &origin != me;
        let allowed = match scope {
            Scope::Ancestors => ancestor,
            Scope::Descendants => origin.is_within(me) && &origin != me,
            // Our own log from a child: only what a restore from an older backup lost. Such an
            // entry is verified with our own key and must chain from our head, so only entries we
            // signed ourselves, after the last one we hold, are applied; anything else at a seq we
            // hold is a duplicate or, if we signed another entry there since, a fork (evidence).
            Scope::Returned => &origin == me,
            Scope::Recovery => ancestor || &origin == me,
        };
        (!allowed).then(|| Delivery::Refused {
            origin: origin.to_string(),
            seq,
            code: "OUT_OF_SCOPE".into(),
            message: format!("{me} 不从该对端接收 {origin} 的条目 / this peer may not deliver that log"),
        })
    }

    /// Rebuilds every projection from the entries while holding the writer lock.
    pub async fn rebuild(&self) -> Result<u64, StoreError> {
        let writer = self.inner.writer.lock().await;
        let own = (self.inner.division.clone(), writer.key.public());
        let fallback = move |origin: &DivisionCode, _seq: u64| (origin == &own.0).then_some(own.1);
        self.inner.store.rebuild(&fallback).await
    }

    /// Restored from a backup, our own log not yet checked against the parent's copy.
    pub fn own_log_unconfirmed(&self) -> bool {
        self.inner.own_log_unconfirmed.load(Ordering::SeqCst)
    }

    /// Our own log is complete (caught up with the parent, or no parent holds it): writes resume.
    pub async fn confirm_own_log(&self) -> Result<(), StoreError> {
        self.inner.store.confirm_restored().await?;
        self.inner.own_log_unconfirmed.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Children that must still confirm, after a restore, that they hold nothing newer of our
    /// log (empty in normal operation).
    pub fn awaiting_children(&self) -> Vec<String> {
        self.inner.awaiting_children.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned().collect()
    }

    /// `child` confirmed (or the operator released it): stored first, then writes may resume
    /// once no child is left. Returns the children still awaited.
    pub async fn child_confirmed(&self, child: &str) -> Result<Vec<String>, StoreError> {
        // Under the writer's lock: one change of the list at a time, and no write in between.
        let _writer = self.inner.writer.lock().await;
        let mut left = self.awaiting_children();
        left.retain(|c| c != child);
        crate::federation::restore_hold::save(&self.inner.store, &left).await?;
        let mut awaiting = self.inner.awaiting_children.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        awaiting.remove(child);
        Ok(awaiting.iter().cloned().collect())
    }

    /// The current head of this node's own log.
    pub async fn head(&self) -> Option<ChainHead> {
        self.inner.writer.lock().await.head
    }
}
