//! A node restored from a backup holds its writes until its children confirm they hold nothing
//! of its log beyond what it has.
//!
//! Between the backup and the loss, the node may have signed entries that only its children
//! pulled (its parent unreachable at the time, or simply not yet pushed to). `catch_up` gets back
//! what the parent holds; the children return the rest (`returned: true` pushes, `sync.rs`).
//! Until every child has, signing again would reuse a seq already signed: a fork. So on its
//! first start after `quanze restore` the node notes its active children (`load`), refuses
//! writes while any is left (`Node::awaiting_children`, 503 `OWN_LOG_UNCONFIRMED`), lists them in
//! its signed-heads answer's `x-quanze-awaiting-children` header, and each child, once it holds
//! no more of the parent's log than the parent, posts its own signed heads to
//! `POST /api/v1/fed/confirm` (`check_confirmation` on the parent, `confirm_if_asked` on the
//! child). An operator can release a child that is gone for good (`quanze fed release-child`).
//!
//! Owns the awaited list (in `node_state`) and the rules of a confirmation. Must not write log
//! entries or change what a child returns: that is `sync.rs`.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use quanze_domain::DivisionCode;
use quanze_store::{KeyLookup, Store, StoreError};
use serde::{Deserialize, Serialize};

use super::client::ParentClient;
use super::sync::SyncError;
use super::wire::{HeadsStatement, NODE_SIGNATURE_WINDOW_SECS, SignedHeads};
use crate::state::Node;

/// The `node_state` key of the awaited children.
pub use quanze_store::backup::RESTORED_CHILDREN_KEY as AWAITING_KEY;

/// The header of `GET /api/v1/fed/heads` naming the children a restored node waits for.
pub const AWAITING_HEADER: &str = "x-quanze-awaiting-children";

/// How much older than the hold a child's statement may be (its clock may lag ours). The node
/// was down for its restore, and nothing of its log reached a child meanwhile, so a statement
/// made after it stopped is complete; one made before could omit entries pulled just before.
const CLOCK_LAG_SECS: i64 = 60;

#[derive(Debug, Serialize, Deserialize)]
struct Awaiting {
    /// When the hold began (the node's first start after the restore), RFC 3339.
    since: String,
    children: Vec<String>,
}

async fn read(store: &Store) -> Result<Option<Awaiting>, StoreError> {
    match store.state(AWAITING_KEY).await? {
        Some(text) => {
            serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Corrupt(format!("{AWAITING_KEY}: {e}")))
        }
        None => Ok(None),
    }
}

/// The children awaited. On the first start after a restore (`restored` and nothing noted
/// yet) notes the active children first.
pub async fn load(store: &Store, me: &DivisionCode, restored: bool) -> Result<BTreeSet<String>, StoreError> {
    if let Some(a) = read(store).await? {
        return Ok(a.children.into_iter().collect());
    }
    if !restored {
        return Ok(BTreeSet::new());
    }
    let mut active = std::collections::BTreeMap::new();
    for e in store.enrolments(None).await? {
        if DivisionCode::parse(&e.division).is_ok_and(|d| d.parent().as_ref() == Some(me)) {
            // Rows come in order of validity: the last one of a child is its current key.
            active.insert(e.division, e.public_key.is_some());
        }
    }
    let children: BTreeSet<String> = active.into_iter().filter(|(_, a)| *a).map(|(d, _)| d).collect();
    let noted = Awaiting { since: Utc::now().to_rfc3339(), children: children.iter().cloned().collect() };
    store
        .set_state(AWAITING_KEY, &serde_json::to_string(&noted).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .await?;
    Ok(children)
}

/// Keeps the children still awaited (the start of the hold is kept).
pub async fn save(store: &Store, children: &[String]) -> Result<(), StoreError> {
    let since = read(store).await?.map_or_else(|| Utc::now().to_rfc3339(), |a| a.since);
    let text = serde_json::to_string(&Awaiting { since, children: children.to_vec() })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.set_state(AWAITING_KEY, &text).await
}

/// Why a child's confirmation is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("{0} 不是本节点已登记的下级 / not an enrolled child of this node")]
    NotAChild(String),
    #[error("签名无效 / the signature does not check")]
    BadSignature,
    #[error("声明时间 {0} 早于本节点恢复或晚于当前时间 / statement time before the restore or in the future")]
    Stale(String),
    #[error(
        "下级持有本节点日志至 #{held}，本节点只有 #{ours}：请先交回 / the child holds more of our log: return it first"
    )]
    HoldsMore { held: u64, ours: u64 },
    #[error("下级持有的本节点条目 #{0} 与本节点不同 / the child's copy of our entry differs")]
    Differs(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a child's signed heads: an active direct child, its current key, made since the hold
/// began, and holding no entry of our log we lack (nor a different one). Returns the child.
pub async fn check_confirmation(node: &Node, signed: SignedHeads) -> Result<String, ConfirmError> {
    let me = node.division();
    let child = signed.statement.node.clone();
    if child.parent().as_ref() != Some(me) {
        return Err(ConfirmError::NotAChild(child.to_string()));
    }
    let KeyLookup::Key(key) = node.store().key_for(&child, u64::MAX >> 12).await? else {
        return Err(ConfirmError::NotAChild(child.to_string()));
    };
    let statement: HeadsStatement = signed.verified(&key).ok_or(ConfirmError::BadSignature)?;
    let at = DateTime::parse_from_rfc3339(&statement.at).map_err(|_| ConfirmError::Stale(statement.at.clone()))?;
    let since = read(node.store()).await?.and_then(|a| DateTime::parse_from_rfc3339(&a.since).ok());
    let now = Utc::now();
    let too_old = since.is_some_and(|s| at < s - Duration::seconds(CLOCK_LAG_SECS));
    if too_old || at > now + Duration::seconds(NODE_SIGNATURE_WINDOW_SECS) {
        return Err(ConfirmError::Stale(statement.at));
    }
    if let Some(held) = statement.heads.iter().find(|h| h.origin == me.as_str()) {
        let ours = node.store().head(me).await?.map_or(0, |h| h.seq);
        if held.seq > ours {
            return Err(ConfirmError::HoldsMore { held: held.seq, ours });
        }
        if held.seq > 0 {
            let entry = node.store().entries(me, held.seq - 1, 1).await?;
            if entry.first().is_none_or(|e| e.entry.hash() != held.hash) {
                return Err(ConfirmError::Differs(held.seq));
            }
        }
    }
    Ok(child.to_string())
}

/// Child side, after the parent's heads showed we hold no more of its log than it does: if the
/// parent awaits us, send it our signed heads.
pub async fn confirm_if_asked(node: &Node, parent: &ParentClient, awaiting: &[String]) -> Result<(), SyncError> {
    if !awaiting.iter().any(|c| c == node.division().as_str()) {
        return Ok(());
    }
    let signed = node.signed_heads().await.map_err(|e| SyncError::Waiting(e.to_string()))?;
    parent.confirm(&signed).await?;
    tracing::info!("confirmed to the restored parent that we hold nothing newer of its log");
    Ok(())
}
