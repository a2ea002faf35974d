//! `log verify`: re-reads every stored entry and checks it as if it came from a stranger —
//! signature, canonical bytes, seq continuity, `prev` chain — and that the stored hash and seq
//! columns agree with the bytes. Used by the API and, offline, by the CLI on a data directory.

use std::collections::HashMap;

use quanze_domain::DivisionCode;
use quanze_ledger::{ChainHead, Hash, PublicKey, verify_next};
use quanze_store::Store;
use serde::{Deserialize, Serialize};

/// One entry that failed verification.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    pub origin: String,
    pub seq: u64,
    pub message: String,
}

/// The outcome of verifying every stored log.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    pub entries_checked: u64,
    pub heads: Vec<HeadReport>,
    pub problems: Vec<Problem>,
}

/// The head of one log as verified.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeadReport {
    pub origin: String,
    pub seq: u64,
    /// SHA-256 of the head entry, hex.
    #[schema(value_type = String)]
    pub hash: Hash,
}

/// Verifies all entries in `store` with the keys its enrolments give (or the trust root);
/// `fallback` gives a key the enrolments do not (the node's own, before its parent's log came).
pub async fn verify_store(
    store: &Store,
    fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync),
) -> anyhow::Result<VerifyReport> {
    let mut heads: HashMap<String, ChainHead> = HashMap::new();
    let mut broken: HashMap<String, ()> = HashMap::new();
    let mut problems = Vec::new();
    let mut checked = 0u64;
    let mut after = 0i64;
    loop {
        let page = store.entries_in_arrival_order(after, 1000).await?;
        if page.is_empty() {
            break;
        }
        for stored in page {
            after = stored.local_id;
            if broken.contains_key(&stored.origin) {
                continue;
            }
            checked += 1;
            let mut fail = |message: String| {
                problems.push(Problem { origin: stored.origin.clone(), seq: stored.seq, message });
                broken.insert(stored.origin.clone(), ());
            };
            let Ok(origin) = DivisionCode::parse(&stored.origin) else {
                fail("来源代码无效 / invalid origin column".into());
                continue;
            };
            let key = match store.key_for(&origin, stored.seq).await? {
                quanze_store::KeyLookup::Key(k) => Some(k),
                _ => fallback(&origin, stored.seq),
            };
            let Some(key) = key else {
                fail("没有该来源的公钥 / no key for this origin".into());
                continue;
            };
            let stored_hash = stored.stored_hash();
            match verify_next(&origin, &key, heads.get(&stored.origin), stored.entry) {
                Ok(entry) if entry.seq() != stored.seq => fail(format!(
                    "序号列 {} 与条目内容 {} 不符 / seq column differs from the entry",
                    stored.seq,
                    entry.seq()
                )),
                Ok(entry) if stored_hash != Some(entry.hash()) => {
                    fail("哈希列与条目内容不符 / stored hash differs from the entry bytes".into())
                }
                Ok(entry) => {
                    heads.insert(stored.origin.clone(), entry.head());
                }
                Err(e) => fail(e.to_string()),
            }
        }
    }
    for (origin, head) in store.heads().await? {
        let held = heads.get(&origin).copied();
        if held != Some(head) && !broken.contains_key(&origin) {
            problems.push(Problem {
                origin: origin.clone(),
                seq: head.seq,
                message: "链头记录与条目不符 / recorded head differs from the entries".into(),
            });
        }
    }
    let mut head_list: Vec<HeadReport> =
        heads.into_iter().map(|(origin, h)| HeadReport { origin, seq: h.seq, hash: h.hash }).collect();
    head_list.sort_by(|a, b| a.origin.cmp(&b.origin));
    Ok(VerifyReport { ok: problems.is_empty(), entries_checked: checked, heads: head_list, problems })
}
