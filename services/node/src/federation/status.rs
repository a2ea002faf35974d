//! `quanze status` / `GET /api/v1/fed/status`: one report of where this node stands in the
//! federation — parent and last exchange, children, per-origin lag, outbox depth, last error,
//! forks and recent refusals. Reads only.

use std::collections::HashMap;

use quanze_domain::DivisionCode;
use quanze_store::{ForkRow, RefusalRow, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use super::SyncStatus;
use crate::state::Node;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusReport {
    pub division: String,
    pub name: String,
    pub tier: quanze_domain::Tier,
    pub public_key: String,
    pub parent: Option<ParentReport>,
    pub children: Vec<ChildReport>,
    pub origins: Vec<OriginReport>,
    /// Entries of our own and descendants' logs the parent has not acknowledged.
    pub outbox_depth: u64,
    pub forks: Vec<ForkRow>,
    /// Origins with an unresolved fork: nothing more of them is applied.
    pub quarantined: Vec<String>,
    pub recent_refusals: Vec<RefusalRow>,
    /// The latest checkpoint of our own log cosigned by the parent.
    pub own_checkpoint: Option<quanze_store::CheckpointRow>,
    /// Restored from a backup, our own log not yet checked with the parent: writes held.
    pub own_log_unconfirmed: bool,
    /// Restored from a backup: children that have yet to confirm they hold nothing newer of
    /// our log (`restore_hold`); writes held while any is left.
    pub awaiting_children: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParentReport {
    pub division: String,
    pub url: String,
    #[serde(flatten)]
    pub sync: SyncStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildReport {
    pub division: String,
    pub name: String,
    pub tier: String,
    /// Seq of its log held here.
    pub held_seq: u64,
    /// False when its current key is revoked.
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OriginReport {
    pub origin: String,
    pub seq: u64,
    /// "own", "ancestor" or "descendant".
    pub relation: &'static str,
    /// Ancestors: entries the parent holds that we do not yet (per its last heads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_parent: Option<u64>,
    /// Own and descendants: entries not yet acknowledged by the parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unacknowledged: Option<u64>,
}

pub async fn report(node: &Node) -> Result<StatusReport, StoreError> {
    let store = node.store();
    let me = node.division();
    let sync = node.sync_status().clone();
    let parent_seq: HashMap<&str, u64> = sync.parent_heads.iter().map(|h| (h.origin.as_str(), h.seq)).collect();
    let acks: HashMap<String, u64> = store.push_acks().await?.into_iter().collect();
    let has_parent = node.parent().is_some();
    let mut origins = Vec::new();
    let mut outbox_depth = 0;
    let heads = store.heads().await?;
    let held: HashMap<&str, u64> = heads.iter().map(|(o, h)| (o.as_str(), h.seq)).collect();
    for (origin, head) in &heads {
        let Ok(o) = DivisionCode::parse(origin) else { continue };
        let relation = if &o == me {
            "own"
        } else if me.is_within(&o) {
            "ancestor"
        } else {
            "descendant"
        };
        let (behind_parent, unacknowledged) = if relation == "ancestor" {
            (Some(parent_seq.get(origin.as_str()).copied().unwrap_or(0).saturating_sub(head.seq)), None)
        } else if has_parent {
            let pending = head.seq.saturating_sub(acks.get(origin).copied().unwrap_or(0));
            outbox_depth += pending;
            (None, Some(pending))
        } else {
            (None, None)
        };
        origins.push(OriginReport { origin: origin.clone(), seq: head.seq, relation, behind_parent, unacknowledged });
    }
    let mut children: HashMap<String, ChildReport> = HashMap::new();
    for e in store.enrolments(None).await? {
        let Ok(d) = DivisionCode::parse(&e.division) else { continue };
        if d.parent().as_ref() != Some(me) {
            continue;
        }
        children.insert(
            e.division.clone(),
            ChildReport {
                held_seq: held.get(e.division.as_str()).copied().unwrap_or(0),
                division: e.division,
                name: e.name,
                tier: e.tier,
                active: e.public_key.is_some(),
            },
        );
    }
    let mut children: Vec<ChildReport> = children.into_values().collect();
    children.sort_by(|a, b| a.division.cmp(&b.division));
    let forks = store.forks().await?;
    let mut quarantined: Vec<String> =
        forks.iter().filter(|f| f.resolved_by.is_none()).map(|f| f.origin.clone()).collect();
    quarantined.dedup();
    Ok(StatusReport {
        division: me.to_string(),
        name: node.name().to_string(),
        tier: node.tier(),
        public_key: node.public_key().to_hex(),
        parent: node.parent().map(|(division, url)| ParentReport { division: division.to_string(), url, sync }),
        children,
        origins,
        outbox_depth,
        forks,
        quarantined,
        recent_refusals: store.refusals(20).await?,
        own_checkpoint: store.latest_checkpoint(me).await?,
        own_log_unconfirmed: node.own_log_unconfirmed(),
        awaiting_children: node.awaiting_children(),
    })
}
