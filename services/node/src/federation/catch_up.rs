//! A node restored from a backup catches up with its own log before it signs again.
//!
//! Between the backup and the loss of the disk the node may have written entries that reached
//! its parent; signing a new entry at the backup's head would fork its own log. So a restored
//! node starts with its own log unconfirmed (`Node::own_log_unconfirmed`, kept in the store
//! until cleared) and refuses writes; this step reads the parent's signed heads, fetches our
//! own entries beyond ours from the parent's recovery route, authenticated by a statement
//! signed with our node key (the backup holds the key, so no new invite is needed), verifies
//! and applies them like any delivery, and then clears the mark. Owns only that step; the loops
//! in `sync.rs` call it, and the parent's side is `api/fed.rs::recover`.

use quanze_domain::DivisionCode;
use quanze_ledger::SignedEntryWire;

use super::client::ParentClient;
use super::sync::{SyncError, describe, parent_heads};
use super::wire::recover_statement;
use crate::state::{Node, Scope};

/// Brings our own log up to what the parent holds of it, then confirms it.
pub async fn catch_up(node: &Node, parent: &ParentClient, parent_division: &DivisionCode) -> Result<(), SyncError> {
    let me = node.division().clone();
    loop {
        let statement = match parent_heads(node, parent, parent_division).await {
            Ok(s) => s,
            Err(SyncError::BadHeads) => {
                return Err(SyncError::Waiting("上级已更换密钥，等待其登记条目 / parent key rotated".into()));
            }
            Err(e) => return Err(e),
        };
        let ours = node.store().head(&me).await?;
        let our_seq = ours.map_or(0, |h| h.seq);
        let Some(theirs) = statement.heads.iter().find(|h| h.origin == me.as_str()) else { break };
        if theirs.seq < our_seq {
            break;
        }
        if theirs.seq == our_seq {
            if ours.is_some_and(|h| h.hash != theirs.hash) {
                return Err(SyncError::Rollback(format!(
                    "{me}#{our_seq}: 上级持有的本节点条目与备份不同 / own entry differs"
                )));
            }
            break;
        }
        let unix = chrono::Utc::now().timestamp();
        let signature =
            node.sign_statement(recover_statement(me.as_str(), me.as_str(), our_seq, unix).as_bytes()).await;
        let page = parent.own_log(me.as_str(), our_seq, &format!("{me} {unix} {signature}")).await?;
        if page.is_empty() {
            return Err(SyncError::Waiting(format!("上级未返回本节点 #{our_seq} 之后的条目 / parent sent none")));
        }
        tracing::info!(from = our_seq + 1, n = page.len(), "restored node: fetching own entries back from the parent");
        let entries = page.into_iter().filter_map(SignedEntryWire::into_unverified).collect();
        let deliveries = node.ingest(&format!("parent {parent_division} (catch-up)"), Scope::Recovery, entries).await?;
        let refused: Vec<String> = deliveries.iter().filter(|d| d.is_refusal()).map(describe).collect();
        if !refused.is_empty() {
            return Err(SyncError::RefusedEntries(refused.join("; ")));
        }
    }
    node.confirm_own_log().await?;
    tracing::info!("restored node: own log confirmed with the parent; writes resume");
    Ok(())
}
