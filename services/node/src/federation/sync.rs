//! The child's side of replication: two loops that start every connection to the parent.
//!
//! * **Pull**: long-polls the parent for entries of its and its ancestors' logs after our heads,
//!   and delivers them through `Node::ingest` (every entry verified again here). Before each
//!   round it reads the parent's signed heads and refuses a parent that serves a shorter or
//!   different history of an ancestor's log than the one we hold (rollback).
//! * **Push**: sends our own and our descendants' logs. The checkpoint is durable (`push_acks`,
//!   written only after the parent's answer), so a restart resumes where it stopped; the
//!   parent's heads say what it lacks before anything is sent.
//!
//! * **Return**: when the parent's signed heads show less of the parent's own log than we hold
//!   (it was restored from an older backup), we push those entries back to it, marked
//!   `returned`; it verifies them with its own key. When they show less of our own or our
//!   descendants' logs than it acknowledged, we send them again. Both are reported as a
//!   rollback in `quanze status` until the parent has caught up.
//! * **Clock**: the time in the parent's signed heads gives its clock offset, shown in status.
//!
//! Transport errors and 5xx are retried with exponential backoff and jitter (backon), capped at
//! 60 s, forever. A refusal (4xx, or entries the parent refused) is recorded and shown, and not
//! sent again until something changes.

use std::collections::HashMap;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use quanze_domain::DivisionCode;
use quanze_ledger::{SignedEntryWire, format_at};
use quanze_store::{Delivery, KeyLookup};
use tokio::task::JoinHandle;

use super::client::{CallError, ParentClient};
use super::wire::{HeadEntry, HeadsStatement, MAX_BATCH_ENTRIES, MAX_PUSH_BYTES, MAX_WAIT_SECS, PushRequest};
use crate::state::{Node, Scope};

/// Longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Beyond this difference between the parent's clock and ours, `quanze status` warns.
///
/// The rule for clock skew: entries are accepted whatever their `at` says, even far in the
/// receiver's future or past. `at` is the signer's statement of when it wrote, covered by its
/// signature; order and validity come from the seq chain and the key history, never from
/// time. Refusing entries by time would split the federation over a wrong clock (the one
/// writer's later entries would all be gaps) and lose nothing worth protecting: a working-day
/// due date is computed from the entry's own date, not from the receiver's clock. A skew is a
/// fault of a machine to fix, so it is made visible instead: the parent's offset seen in its
/// signed heads, and this warning beyond the tolerance.
pub const CLOCK_SKEW_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The retry schedule: 250 ms doubling to 60 s, with jitter, never giving up.
pub fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(MAX_BACKOFF)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Why a sync round stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("上级回滚：{0} / parent serves a rolled-back history")]
    Rollback(String),
    #[error("上级的条目被拒绝 / entries from the parent refused: {0}")]
    RefusedEntries(String),
    #[error("本地存储错误 / local store error: {0}")]
    Store(#[from] quanze_store::StoreError),
    #[error("上级的链头签名无效 / parent's heads statement is not signed by its key")]
    BadHeads,
    #[error("上级尚未收到登记条目，稍后重试 / parent does not know the enrolment yet: {0}")]
    Waiting(String),
}

impl SyncError {
    fn is_transient(&self) -> bool {
        match self {
            SyncError::Call(c) => c.is_transient(),
            SyncError::Store(_) | SyncError::Waiting(_) => true,
            _ => false,
        }
    }
}

/// The running loops; aborted on shutdown (every step is durable or repeatable).
#[derive(Debug)]
pub struct SyncTasks(Vec<JoinHandle<()>>);

impl SyncTasks {
    pub fn stop(self) {
        for t in self.0 {
            t.abort();
        }
    }
}

/// Starts the pull and push loops against `parent`.
pub fn start(node: Node, parent: ParentClient, parent_division: DivisionCode) -> SyncTasks {
    let pull = tokio::spawn(pull_loop(node.clone(), parent.clone(), parent_division.clone()));
    let push = tokio::spawn(push_loop(node, parent, parent_division));
    SyncTasks(vec![pull, push])
}

fn now() -> String {
    format_at(chrono::Utc::now())
}

fn record_error(node: &Node, what: &str, e: &SyncError) {
    tracing::warn!(error = %e, "{what} failed");
    let mut s = node.sync_status();
    s.last_error = Some(format!("{} {what}: {e}", now()));
    if let SyncError::Rollback(detail) = e {
        s.rollback = Some(format!("{} {detail}", now()));
    }
}

async fn pull_loop(node: Node, parent: ParentClient, parent_division: DivisionCode) {
    let mut delays = backoff();
    loop {
        match pull_round(&node, &parent, &parent_division).await {
            Ok(()) => delays = backoff(),
            Err(e) => {
                record_error(&node, "pull", &e);
                if matches!(e, SyncError::Rollback(_)) {
                    node.nudge();
                }
                let pause = delays.next().unwrap_or(MAX_BACKOFF);
                // A refusal is not retried blindly: wait the full cap before looking again. A
                // rolled-back parent is looked at again on the backoff schedule: looking changes
                // nothing here, and it catches up as soon as its children return what it lost.
                let looks_again = e.is_transient() || matches!(e, SyncError::Rollback(_));
                tokio::time::sleep(if looks_again { pause } else { MAX_BACKOFF }).await;
            }
        }
    }
}

/// Reads and checks the parent's signed heads.
pub async fn parent_heads(
    node: &Node,
    parent: &ParentClient,
    parent_division: &DivisionCode,
) -> Result<HeadsStatement, SyncError> {
    Ok(parent_heads_and_hold(node, parent, parent_division).await?.0)
}

/// The parent's verified heads, and the children it awaits after a restore.
async fn parent_heads_and_hold(
    node: &Node,
    parent: &ParentClient,
    parent_division: &DivisionCode,
) -> Result<(HeadsStatement, Vec<String>), SyncError> {
    let (signed, awaiting) = parent.heads().await?;
    if &signed.statement.node != parent_division {
        return Err(SyncError::BadHeads);
    }
    let statement = match node.store().key_for(parent_division, u64::MAX >> 12).await? {
        KeyLookup::Key(key) => signed.verified(&key).ok_or(SyncError::BadHeads)?,
        // Before the log that enrols our parent has arrived we hold nothing it could roll back.
        _ => signed.statement,
    };
    Ok((statement, awaiting))
}

/// Refuses a parent whose heads show less than (or other than) what we hold of an ancestor.
fn check_rollback(
    node: &Node,
    ours: &[(String, quanze_ledger::ChainHead)],
    theirs: &[HeadEntry],
) -> Result<(), SyncError> {
    let me = node.division();
    let theirs: HashMap<&str, &HeadEntry> = theirs.iter().map(|h| (h.origin.as_str(), h)).collect();
    for (origin, head) in ours {
        let Ok(o) = DivisionCode::parse(origin) else { continue };
        if !(me.is_within(&o) && &o != me) {
            continue;
        }
        match theirs.get(origin.as_str()) {
            None => return Err(SyncError::Rollback(format!("{origin}: 上级没有该日志，本地已有 #{}", head.seq))),
            Some(t) if t.seq < head.seq => {
                return Err(SyncError::Rollback(format!("{origin}: 上级只有 #{}，本地已有 #{}", t.seq, head.seq)));
            }
            Some(t) if t.seq == head.seq && t.hash != head.hash => {
                return Err(SyncError::Rollback(format!("{origin}#{}: 上级的条目与本地不同", t.seq)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The parent's clock minus ours, from the `at` of its signed heads.
fn clock_offset(node: &Node, at: &str) -> Option<chrono::TimeDelta> {
    let theirs = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some(theirs.with_timezone(&chrono::Utc) - node.clock().now())
}

/// Logs of ours the parent acknowledged beyond what its heads now show (it was restored from an
/// older backup): they are sent again by the push loop.
fn lost_acknowledged(acks: &[(String, u64)], theirs: &[HeadEntry]) -> Option<String> {
    let theirs: HashMap<&str, u64> = theirs.iter().map(|h| (h.origin.as_str(), h.seq)).collect();
    let lost: Vec<String> = acks
        .iter()
        .filter_map(|(origin, acked)| {
            let has = theirs.get(origin.as_str()).copied().unwrap_or(0);
            (has < *acked).then(|| format!("{origin}: 上级确认过 #{acked}，现只有 #{has}"))
        })
        .collect();
    (!lost.is_empty())
        .then(|| format!("{}，正在重新推送 / parent lost entries it acknowledged: sending them again", lost.join("；")))
}

async fn pull_round(node: &Node, parent: &ParentClient, parent_division: &DivisionCode) -> Result<(), SyncError> {
    let ours = node.store().heads().await?;
    // Read before the parent's heads: an acknowledgement that lands in between is then never
    // mistaken for a loss.
    let acks = node.store().push_acks().await?;
    // Heads signed by a key we do not hold yet mean the parent rotated its key and the entry
    // announcing it has not reached us: pull anyway (every entry is verified on its own, and a
    // different history fails the chain check), and check the heads again afterwards.
    let verified = match parent_heads_and_hold(node, parent, parent_division).await {
        Ok((statement, awaiting)) => {
            let offset = clock_offset(node, &statement.at);
            {
                let mut s = node.sync_status();
                s.parent_clock_offset_secs = offset.map(|o| o.num_seconds());
                s.clock_skew = offset.is_some_and(|o| o.abs() > CLOCK_SKEW_TOLERANCE);
            }
            // On a rollback, the pull loop records it and wakes the push loop, which returns
            // what we hold of the parent's own log.
            check_rollback(node, &ours, &statement.heads)?;
            // We hold no more of the parent's log than it does: if it was restored and awaits
            // us, say so (its writes resume once every child has).
            // A refusal is shown but does not stop the pulls: we try again next round.
            if let Err(e) = super::restore_hold::confirm_if_asked(node, parent, &awaiting).await {
                tracing::warn!(error = %e, "confirmation to the restored parent refused");
                node.sync_status().last_error = Some(format!("{} confirm: {e}", now()));
            }
            let lost = lost_acknowledged(&acks, &statement.heads);
            let mut s = node.sync_status();
            s.rollback = lost.map(|l| format!("{} {l}", now()));
            s.parent_heads = statement.heads;
            if s.rollback.is_some() {
                drop(s);
                node.nudge();
            }
            true
        }
        Err(SyncError::BadHeads) => false,
        Err(e) => return Err(e),
    };
    let me = node.division();
    let mut after: HashMap<String, u64> = ours
        .iter()
        .filter(|(o, _)| DivisionCode::parse(o).is_ok_and(|o| me.is_within(&o) && &o != me))
        .map(|(o, h)| (o.clone(), h.seq))
        .collect();
    let wait = if verified { MAX_WAIT_SECS } else { 0 };
    let mut answer = parent.pull(&after_param(&after), wait).await?;
    node.sync_status().last_pull_ok = Some(now());
    if answer.entries.is_empty() {
        return if verified { Ok(()) } else { Err(SyncError::BadHeads) };
    }
    loop {
        // While this batch is verified and applied, the next one is already on its way.
        let entries: Vec<_> = answer.entries.into_iter().filter_map(SignedEntryWire::into_unverified).collect();
        for e in &entries {
            if let Ok((origin, seq)) = e.claimed_position()
                && after.get(origin.as_str()).is_none_or(|s| *s < seq)
            {
                after.insert(origin.to_string(), seq);
            }
        }
        let prefetch = answer.more.then(|| {
            let (parent, param) = (parent.clone(), after_param(&after));
            tokio::spawn(async move { parent.pull(&param, 0).await })
        });
        let outcome = ingest_batch(node, parent_division, entries).await;
        let Some(next) = prefetch else { return outcome };
        if outcome.is_err() {
            next.abort();
            return outcome;
        }
        answer = next.await.map_err(|e| SyncError::Call(CallError::Transient(e.to_string())))??;
        node.sync_status().last_pull_ok = Some(now());
    }
}

fn after_param(after: &HashMap<String, u64>) -> String {
    after.iter().map(|(o, s)| format!("{o}:{s}")).collect::<Vec<_>>().join(",")
}

async fn ingest_batch(
    node: &Node,
    parent_division: &DivisionCode,
    entries: Vec<quanze_ledger::UnverifiedEntry>,
) -> Result<(), SyncError> {
    let outcomes = node.ingest(&format!("parent {parent_division}"), Scope::Ancestors, entries).await?;
    let parked = |d: &&Delivery| matches!(d, Delivery::Refused { code, .. } if code == "NOT_ENROLLED");
    let refused: Vec<String> = outcomes.iter().filter(|d| d.is_refusal() && !parked(d)).map(describe).collect();
    if !refused.is_empty() {
        return Err(SyncError::RefusedEntries(refused.join("; ")));
    }
    let waiting: Vec<String> = outcomes.iter().filter(parked).map(describe).collect();
    if !waiting.is_empty() {
        // Our parent has not received the log that enrols these origins yet: try again soon.
        return Err(SyncError::Waiting(waiting.join("; ")));
    }
    Ok(())
}

pub fn describe(d: &Delivery) -> String {
    match d {
        Delivery::Applied { origin, seq } => format!("{origin}#{seq} applied"),
        Delivery::Duplicate { origin, seq } => format!("{origin}#{seq} duplicate"),
        Delivery::Fork { origin, seq } => format!("{origin}#{seq} FORK"),
        Delivery::Quarantined { origin, seq } => format!("{origin}#{seq} QUARANTINED"),
        Delivery::Refused { origin, seq, code, message } => format!("{origin}#{seq} {code}: {message}"),
    }
}

async fn push_loop(node: Node, parent: ParentClient, parent_division: DivisionCode) {
    let mut changes = node.subscribe();
    let mut delays = backoff();
    loop {
        if node.own_log_unconfirmed()
            && let Err(e) = super::catch_up::catch_up(&node, &parent, &parent_division).await
        {
            record_error(&node, "catch-up", &e);
            tokio::time::sleep(if e.is_transient() { delays.next().unwrap_or(MAX_BACKOFF) } else { MAX_BACKOFF }).await;
            continue;
        }
        match push_round(&node, &parent, &parent_division).await {
            Ok(true) => {
                delays = backoff();
                continue;
            }
            Ok(false) => {
                delays = backoff();
                // Everything pushed: have our log's checkpoint cosigned and relay those below.
                if let Err(e) = super::checkpoints::round(&node, &parent, &parent_division).await {
                    tracing::warn!(error = %e, "checkpoint round failed");
                    node.sync_status().last_error = Some(format!("{} checkpoint: {e}", now()));
                }
            }
            Err(e) if e.is_transient() => {
                record_error(&node, "push", &e);
                tokio::time::sleep(delays.next().unwrap_or(MAX_BACKOFF)).await;
                continue;
            }
            Err(e) => record_error(&node, "push", &e),
        }
        // Nothing to send (or refused): wait for new local entries, or look again later.
        let _ = tokio::time::timeout(Duration::from_secs(30), changes.changed()).await;
    }
}

/// Origins we push (our own and our descendants'), ancestors first.
fn push_order(me: &DivisionCode, heads: &[(String, quanze_ledger::ChainHead)]) -> Vec<(DivisionCode, u64)> {
    let mut out: Vec<(DivisionCode, u64)> = heads
        .iter()
        .filter_map(|(o, h)| DivisionCode::parse(o).ok().map(|o| (o, h.seq)))
        .filter(|(o, _)| o.is_within(me))
        .collect();
    out.sort_by(|a, b| (a.0.tier(), a.0.as_str()).cmp(&(b.0.tier(), b.0.as_str())));
    out
}

/// Sends one batch of what the parent lacks. `Ok(true)` when more may be pending.
pub async fn push_round(node: &Node, parent: &ParentClient, parent_division: &DivisionCode) -> Result<bool, SyncError> {
    let store = node.store();
    let heads = store.heads().await?;
    let acks: HashMap<String, u64> = store.push_acks().await?.into_iter().collect();
    let order = push_order(node.division(), &heads);
    let rolled_back = node.sync_status().rollback.is_some();
    if !rolled_back && order.iter().all(|(o, seq)| acks.get(o.as_str()).copied().unwrap_or(0) >= *seq) {
        return Ok(false);
    }
    let statement = match parent_heads(node, parent, parent_division).await {
        Ok(s) => s,
        // The parent rotated its key; the pull loop fetches the entry that announces it.
        Err(SyncError::BadHeads) => {
            return Err(SyncError::Waiting("上级已更换密钥，等待其登记条目 / parent key rotated".into()));
        }
        Err(e) => return Err(e),
    };
    let theirs: HashMap<&str, u64> = statement.heads.iter().map(|h| (h.origin.as_str(), h.seq)).collect();
    if return_parent_log(node, parent, parent_division, &heads, &theirs).await? {
        return Ok(true);
    }
    let mut batch: Vec<SignedEntryWire> = Vec::new();
    let mut bytes = 0usize;
    'origins: for (origin, our_seq) in &order {
        let has = theirs.get(origin.as_str()).copied().unwrap_or(0);
        let acked = acks.get(origin.as_str()).copied().unwrap_or(0);
        if has != acked {
            if has < acked {
                tracing::warn!(%origin, has, acked, "parent holds less than it acknowledged: sending again");
            }
            store.set_push_ack(origin.as_str(), has.min(*our_seq)).await?;
        }
        if has >= *our_seq {
            continue;
        }
        let mut after = has;
        while after < *our_seq {
            let page = store.entries(origin, after, 200).await?;
            if page.is_empty() {
                break;
            }
            for e in page {
                after = e.seq;
                let wire = e.to_wire();
                bytes += wire.body.len() + 200;
                batch.push(wire);
                if batch.len() >= MAX_BATCH_ENTRIES || bytes >= MAX_PUSH_BYTES {
                    break 'origins;
                }
            }
        }
    }
    if batch.is_empty() {
        return Ok(false);
    }
    let answer = parent.push(&PushRequest { from: node.division().clone(), entries: batch, returned: false }).await?;
    node.sync_status().last_push_ok = Some(now());
    // Advance each origin's checkpoint over the leading run of accepted entries.
    let mut progress: HashMap<String, u64> = HashMap::new();
    let mut stopped: HashMap<String, ()> = HashMap::new();
    let mut refusals = Vec::new();
    let mut waiting = Vec::new();
    for d in &answer.deliveries {
        match d {
            Delivery::Applied { origin, seq } | Delivery::Duplicate { origin, seq }
                if !stopped.contains_key(origin) =>
            {
                progress.insert(origin.clone(), *seq);
            }
            Delivery::Refused { origin, code, .. } if code == "NOT_ENROLLED" => {
                waiting.push(describe(d));
                stopped.insert(origin.clone(), ());
            }
            Delivery::Applied { .. } | Delivery::Duplicate { .. } => {}
            other => {
                refusals.push(describe(other));
                if let Delivery::Refused { origin, .. }
                | Delivery::Fork { origin, .. }
                | Delivery::Quarantined { origin, .. } = other
                {
                    stopped.insert(origin.clone(), ());
                }
            }
        }
    }
    for (origin, seq) in &progress {
        store.set_push_ack(origin, *seq).await?;
    }
    node.sync_status().push_refusals = refusals.clone();
    if !refusals.is_empty() {
        return Err(SyncError::RefusedEntries(refusals.join("; ")));
    }
    if progress.is_empty() && !waiting.is_empty() {
        return Err(SyncError::Waiting(waiting.join("; ")));
    }
    Ok(!progress.is_empty())
}

/// When the parent holds less of its own log than we do (restored from an older backup), sends
/// it one batch of what it lost, marked `returned`. `Ok(true)` when a batch was sent. The
/// parent's answers are not our refusals to keep: a refused returned entry (the parent signed
/// another entry at that seq since it was restored: a fork) is shown as a rollback in status.
async fn return_parent_log(
    node: &Node,
    parent: &ParentClient,
    parent_division: &DivisionCode,
    heads: &[(String, quanze_ledger::ChainHead)],
    theirs: &HashMap<&str, u64>,
) -> Result<bool, SyncError> {
    let ours = heads.iter().find(|(o, _)| o == parent_division.as_str()).map_or(0, |(_, h)| h.seq);
    let has = theirs.get(parent_division.as_str()).copied().unwrap_or(0);
    if ours <= has {
        return Ok(false);
    }
    let page = node.store().entries(parent_division, has, MAX_BATCH_ENTRIES as u64).await?;
    let mut batch = Vec::with_capacity(page.len());
    let mut bytes = 0usize;
    for e in page {
        let wire = e.to_wire();
        bytes += wire.body.len() + 200;
        batch.push(wire);
        if bytes >= MAX_PUSH_BYTES {
            break;
        }
    }
    tracing::warn!(parent = %parent_division, has, ours, "returning the parent's own entries it lost");
    let request = PushRequest { from: node.division().clone(), entries: batch, returned: true };
    let answer = parent.push(&request).await?;
    let refused: Vec<String> = answer.deliveries.iter().filter(|d| d.is_refusal()).map(describe).collect();
    if !refused.is_empty() {
        node.sync_status().rollback = Some(format!(
            "{} 上级拒收退回的本级条目 / parent refused its own returned entries: {}",
            now(),
            refused.join("; ")
        ));
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(origin: &str, seq: u64) -> HeadEntry {
        HeadEntry { origin: origin.into(), seq, hash: quanze_ledger::Hash::of(format!("{origin}#{seq}").as_bytes()) }
    }

    #[test]
    fn a_parent_holding_what_it_acknowledged_lost_nothing() {
        let acks = vec![("510521".to_string(), 5), ("510521100".to_string(), 2)];
        assert_eq!(lost_acknowledged(&acks, &[head("510521", 5), head("510521100", 7)]), None);
        assert_eq!(lost_acknowledged(&[], &[head("510521", 5)]), None);
    }

    #[test]
    fn a_parent_holding_less_than_it_acknowledged_is_reported_per_origin() {
        let acks = vec![("510521".to_string(), 5), ("510521100".to_string(), 2)];
        let lost = lost_acknowledged(&acks, &[head("510521", 3)]).expect("a loss");
        assert!(lost.contains("510521: 上级确认过 #5，现只有 #3"), "{lost}");
        assert!(lost.contains("510521100: 上级确认过 #2，现只有 #0"), "{lost}");
        assert!(lost.contains("sending them again"), "bilingual: {lost}");
    }
}
