// The SQL of the store, written once and compiled for each backend: `sqlite.rs` and
// `postgres.rs` include this file after defining `type Db`. Both databases accept `$n`
// placeholders and `ON CONFLICT`, so one text serves both; only the migrations differ.
// (Included with `include!`, so inner doc comments are not allowed here.)

use std::collections::HashMap;

use quanze_domain::{DivisionCode, Op, PowerItem, RuleError, apply_item_op, authorise};
use quanze_ledger::{ChainHead, Hash, PublicKey, UnverifiedEntry, VerifiedEntry, verify_next};
use sqlx::{Pool, QueryBuilder, Row, Transaction};

use crate::types::{Delivery, EnrolmentRow, ForkRow, InviteRow, ItemFilter, ItemRow, KeyLookup, Page, RefusalRow, StoreError, StoredEntry};

type Tx = Transaction<'static, Db>;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn head_row(r: &<Db as sqlx::Database>::Row) -> Result<ChainHead, StoreError> {
    let hash: Vec<u8> = r.try_get("hash")?;
    let hash = Hash::from_slice(&hash).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(ChainHead { seq: to_u64(r.try_get("seq")?), hash })
}

pub(crate) async fn head(pool: &Pool<Db>, origin: &str) -> Result<Option<ChainHead>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM heads WHERE origin = $1").bind(origin).fetch_optional(pool).await?;
    row.as_ref().map(head_row).transpose()
}

pub(crate) async fn heads(pool: &Pool<Db>) -> Result<Vec<(String, ChainHead)>, StoreError> {
    let rows = sqlx::query("SELECT origin, seq, hash FROM heads ORDER BY origin").fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("origin")?, head_row(r)?))).collect()
}

async fn head_in(tx: &mut Tx, origin: &str) -> Result<Option<ChainHead>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM heads WHERE origin = $1").bind(origin).fetch_optional(&mut **tx).await?;
    row.as_ref().map(head_row).transpose()
}

/// Stores `entries` and applies their ops in one transaction: all or nothing.
pub(crate) async fn append(pool: &Pool<Db>, entries: &[VerifiedEntry]) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    for entry in entries {
        // Defence in depth: the entry was verified against a head; it must be the stored head.
        let head = head_in(&mut tx, entry.origin().as_str()).await?;
        let follows = entry.seq() == head.map_or(1, |h| h.seq + 1) && entry.body().prev == head.map(|h| h.hash);
        if !follows && head.is_some_and(|h| entry.seq() <= h.seq) {
            return Err(StoreError::SeqTaken { origin: entry.origin().to_string(), seq: entry.seq() });
        }
        if !follows {
            return Err(StoreError::NotNext { origin: entry.origin().to_string(), seq: entry.seq(), head: head.map_or(0, |h| h.seq) });
        }
        if !insert_entry_row(&mut tx, entry).await? {
            return Err(StoreError::SeqTaken { origin: entry.origin().to_string(), seq: entry.seq() });
        }
        apply(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Updates every projection for one verified entry (inside the caller's transaction), after
/// checking that its origin may write each op.
async fn apply(tx: &mut Tx, entry: &VerifiedEntry) -> Result<(), StoreError> {
    let node = entry.origin().as_str();
    let rule = |index: usize, error: RuleError| StoreError::Rule { origin: node.to_string(), seq: entry.seq(), index, error };
    for (index, op) in entry.ops().iter().enumerate() {
        authorise(entry.origin(), entry.seq(), op)
            .map_err(|error| StoreError::Authority { origin: node.to_string(), seq: entry.seq(), index, error })?;
        match op {
            Op::ItemAdd { .. } => {
                let item = apply_item_op(None, op).map_err(|e| rule(index, e))?;
                if !write_item(tx, node, &item, entry, false).await? {
                    return Err(rule(index, RuleError::DuplicateCode(item.code)));
                }
            }
            Op::ItemUpdate { code, .. } | Op::ItemCancel { code, .. } => {
                let current = load_item(tx, node, code).await?;
                let next = apply_item_op(current.as_ref(), op).map_err(|e| rule(index, e))?;
                write_item(tx, node, &next, entry, true).await?;
            }
            Op::Enroll { .. } | Op::Revoke { .. } | Op::Resolve { .. } => apply_enrolment_op(tx, entry, index, op).await?,
            Op::CalendarYear { year } => apply_calendar_year(tx, entry, index, year).await?,
            Op::Publish { publication } => apply_publication(tx, entry, index, publication).await?,
            Op::ReconAdopt { .. } | Op::ReconDeviate { .. } | Op::ReconNotApplicable { .. } => {
                apply_recon_op(tx, entry, index, op).await?
            }
            Op::Policy { request_window } => apply_policy(tx, entry, index, request_window).await?,
            Op::RequestFile { filing } => apply_filing(tx, entry, index, filing).await?,
            Op::RequestSubmit { request, proposal, actor } => {
                apply_request_submit(tx, entry, index, *request, proposal, actor).await?
            }
            Op::RequestStep { request, stage, decision, comment, actor } => {
                apply_request_step(tx, entry, index, *request, *stage, *decision, comment, actor).await?
            }
            Op::GrantIssue { .. }
            | Op::GrantAccept { .. }
            | Op::GrantRevoke { .. }
            | Op::GrantExtend { .. }
            | Op::SealCarve { .. }
            | Op::SealDeliver { .. }
            | Op::SealActivate { .. }
            | Op::SealRecall { .. }
            | Op::SealArchive { .. }
            | Op::SealReplace { .. } => apply_grant_op(tx, entry, index, op).await?,
        }
    }
    set_head(tx, entry).await
}

/// The entry's row with its exact bytes; false when its (origin, seq) is already stored.
async fn insert_entry_row(tx: &mut Tx, entry: &VerifiedEntry) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO entries (origin, seq, hash, at, body, sig) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (origin, seq) DO NOTHING",
    )
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .bind(&entry.hash().as_bytes()[..])
    .bind(entry.body().at.as_str())
    .bind(entry.bytes())
    .bind(&entry.sig()[..])
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Makes `entry` its origin's head.
async fn set_head(tx: &mut Tx, entry: &VerifiedEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO heads (origin, seq, hash) VALUES ($1, $2, $3) \
         ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .bind(&entry.hash().as_bytes()[..])
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A new item row; an existing code is left as it is (rows affected: 0).
const INSERT_ITEM: &str = "INSERT INTO items (node, code, name, category, status, implementing_body, data, last_seq, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (node, code) DO NOTHING";

/// An item-row statement (`INSERT_ITEM` or its upsert) with every column bound.
fn item_query<'q>(
    sql: &'static str,
    node: &'q str,
    item: &'q PowerItem,
    seq: u64,
    at: &'q str,
) -> Result<sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>, StoreError> {
    let data = serde_json::to_string(item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(sqlx::query(sql)
        .bind(node)
        .bind(item.code.as_str())
        .bind(item.name.as_str())
        .bind(item.category.key())
        .bind(item.status.key())
        .bind(item.implementing_body.as_str())
        .bind(data)
        .bind(to_i64(seq))
        .bind(at))
}

/// Writes an item row: a new row (refused when the code exists: returns false) or, with
/// `replace`, the new state of an existing item.
async fn write_item(tx: &mut Tx, node: &str, item: &PowerItem, entry: &VerifiedEntry, replace: bool) -> Result<bool, StoreError> {
    const REPLACE: &str = "INSERT INTO items (node, code, name, category, status, implementing_body, data, last_seq, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (node, code) DO UPDATE SET name = excluded.name, \
         category = excluded.category, status = excluded.status, implementing_body = excluded.implementing_body, \
         data = excluded.data, last_seq = excluded.last_seq, updated_at = excluded.updated_at";
    let done = item_query(if replace { REPLACE } else { INSERT_ITEM }, node, item, entry.seq(), &entry.body().at)?
        .execute(&mut **tx)
        .await?;
    let written = done.rows_affected() == 1;
    if written {
        record_version(tx, node, item, entry, None).await?;
    }
    Ok(written)
}

async fn load_item(tx: &mut Tx, node: &str, code: &str) -> Result<Option<PowerItem>, StoreError> {
    let row = sqlx::query("SELECT data FROM items WHERE node = $1 AND code = $2")
        .bind(node)
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| parse_item(&r.try_get::<String, _>("data")?)).transpose()
}

fn parse_item(data: &str) -> Result<PowerItem, StoreError> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(format!("item JSON: {e}")))
}

fn item_row(r: &<Db as sqlx::Database>::Row) -> Result<ItemRow, StoreError> {
    Ok(ItemRow {
        node: r.try_get("node")?,
        item: parse_item(&r.try_get::<String, _>("data")?)?,
        last_seq: to_u64(r.try_get("last_seq")?),
        updated_at: r.try_get("updated_at")?,
        grant: r.try_get("grant_ref")?,
    })
}

pub(crate) async fn item(pool: &Pool<Db>, node: &str, code: &str) -> Result<Option<ItemRow>, StoreError> {
    let row = sqlx::query("SELECT node, data, last_seq, updated_at, grant_ref FROM items WHERE node = $1 AND code = $2")
        .bind(node)
        .bind(code)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(item_row).transpose()
}

fn push_filters(qb: &mut QueryBuilder<Db>, node: &str, f: &ItemFilter) {
    qb.push(" WHERE node = ").push_bind(node.to_string());
    if let Some(c) = f.category {
        qb.push(" AND category = ").push_bind(c.key().to_string());
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.key().to_string());
    }
    if let Some(b) = &f.implementing_body {
        qb.push(" AND implementing_body = ").push_bind(b.clone());
    }
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        // Case-insensitive on both backends (SQLite's LIKE already is for ASCII; PostgreSQL's is not).
        let pattern = format!("%{}%", q.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        qb.push(" AND (LOWER(name) LIKE LOWER(").push_bind(pattern.clone()).push(") ESCAPE '\\'");
        qb.push(" OR LOWER(code) LIKE LOWER(").push_bind(pattern).push(") ESCAPE '\\')");
    }
}

pub(crate) async fn items(pool: &Pool<Db>, node: &str, f: &ItemFilter) -> Result<Page<ItemRow>, StoreError> {
    let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM items");
    push_filters(&mut count, node, f);
    let total: i64 = count.build().fetch_one(pool).await?.try_get("n")?;
    let mut list = QueryBuilder::<Db>::new("SELECT node, data, last_seq, updated_at, grant_ref FROM items");
    push_filters(&mut list, node, f);
    list.push(" ORDER BY code LIMIT ").push_bind(to_i64(f.limit)).push(" OFFSET ").push_bind(to_i64(f.offset));
    let rows = list.build().fetch_all(pool).await?;
    let items = rows.iter().map(item_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { total: to_u64(total), offset: f.offset, items })
}

/// Entries of one origin after `after_seq`, in seq order.
pub(crate) async fn entries(pool: &Pool<Db>, origin: &str, after_seq: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT local_id, origin, seq, hash, body, sig FROM entries WHERE origin = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(origin)
    .bind(to_i64(after_seq))
    .bind(to_i64(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(stored_entry).collect()
}

/// Entries of every origin in arrival order, after `after_local_id`.
pub(crate) async fn entries_in_arrival_order(pool: &Pool<Db>, after_local_id: i64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query("SELECT local_id, origin, seq, hash, body, sig FROM entries WHERE local_id > $1 ORDER BY local_id LIMIT $2")
        .bind(after_local_id)
        .bind(to_i64(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(stored_entry).collect()
}

fn stored_entry(r: &<Db as sqlx::Database>::Row) -> Result<StoredEntry, StoreError> {
    let origin: String = r.try_get("origin")?;
    let seq = to_u64(r.try_get("seq")?);
    let sig: Vec<u8> = r.try_get("sig")?;
    let entry = UnverifiedEntry::from_parts(r.try_get("body")?, &sig)
        .ok_or_else(|| StoreError::Corrupt(format!("entry {origin}#{seq}: signature is not 64 bytes")))?;
    Ok(StoredEntry { local_id: r.try_get("local_id")?, origin, seq, hash: r.try_get("hash")?, entry })
}

/// Drops every projection and replays every entry, re-verified, in one transaction. Entries are
/// replayed ancestors first (by tier, then origin, then seq): enrolments only flow downwards, so
/// every key is known before the entries it signs. Keys come from the enrolments being rebuilt,
/// the trust root, or `fallback` (the node's own key before its parent's log has arrived).
/// Returns the number of entries replayed.
pub(crate) async fn rebuild(pool: &Pool<Db>, fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync)) -> Result<u64, StoreError> {
    let mut tx = begin_write(pool).await?;
    let replayed = replay_all(&mut tx, fallback).await?;
    tx.commit().await?;
    Ok(replayed)
}

/// The body of `rebuild`, inside the caller's transaction (a restore replays the entries it has
/// just inserted in the same transaction, so nothing unverified is ever committed).
async fn replay_all(tx: &mut Tx, fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync)) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM items").execute(&mut **tx).await?;
    sqlx::query("DELETE FROM heads").execute(&mut **tx).await?;
    sqlx::query("DELETE FROM enrolments").execute(&mut **tx).await?;
    clear_recon_projections(tx).await?;
    clear_grant_projections(tx).await?;
    clear_audit_projections(tx).await?;
    clear_request_projections(tx).await?;
    let mut heads: HashMap<String, ChainHead> = HashMap::new();
    let mut replayed = 0u64;
    // Origin by origin, ancestors first, each read by its (origin, seq) index a page at a time:
    // one sort of the whole table per page (LIMIT … OFFSET over a computed order) made a large
    // store's replay quadratic.
    let mut origins = Vec::new();
    for row in sqlx::query("SELECT DISTINCT origin FROM entries").fetch_all(&mut **tx).await? {
        let origin: String = row.try_get("origin")?;
        origins.push(DivisionCode::parse(&origin).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    }
    origins.sort_by(|a, b| (a.tier(), a.as_str()).cmp(&(b.tier(), b.as_str())));
    for origin in origins {
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT local_id, origin, seq, hash, body, sig FROM entries WHERE origin = $1 AND seq > $2 \
                 ORDER BY seq LIMIT 1000",
            )
            .bind(origin.as_str())
            .bind(after)
            .fetch_all(&mut **tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let stored = stored_entry(row)?;
                after = to_i64(stored.seq);
                // A held entry was valid when it was accepted: a later revocation does not undo it.
                let key = match held_key_in(tx, origin.as_str(), stored.seq).await? {
                    Some(k) => Some(k),
                    None => fallback(&origin, stored.seq),
                };
                let key = key.ok_or_else(|| StoreError::Corrupt(format!("no key for entry {origin}#{}", stored.seq)))?;
                let entry = verify_next(&origin, &key, heads.get(&stored.origin), stored.entry)
                    .map_err(|e| StoreError::Corrupt(format!("entry {origin}#{}: {e}", stored.seq)))?;
                apply(tx, &entry).await?;
                heads.insert(stored.origin, entry.head());
                replayed += 1;
            }
        }
    }
    Ok(replayed)
}

/// Every projection row in a fixed order, to compare two states.
pub(crate) async fn snapshot(pool: &Pool<Db>) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for r in sqlx::query("SELECT node, code, data, last_seq, updated_at, grant_ref FROM items ORDER BY node, code").fetch_all(pool).await? {
        let (node, code, data): (String, String, String) = (r.try_get("node")?, r.try_get("code")?, r.try_get("data")?);
        let (seq, at): (i64, String) = (r.try_get("last_seq")?, r.try_get("updated_at")?);
        let grant: Option<String> = r.try_get("grant_ref")?;
        out.push(format!("item {node} {code} {seq} {at} {} {data}", grant.unwrap_or_default()));
    }
    for (origin, head) in heads(pool).await? {
        out.push(format!("head {origin} {} {}", head.seq, head.hash));
    }
    for e in enrolments(pool, None).await? {
        out.push(format!("enrolment {} {} {:?} {} {} {}#{}", e.division, e.valid_from, e.public_key, e.tier, e.name, e.by_origin, e.by_seq));
    }
    recon_snapshot(pool, &mut out).await?;
    grant_snapshot(pool, &mut out).await?;
    audit_snapshot(pool, &mut out).await?;
    request_snapshot(pool, &mut out).await?;
    Ok(out)
}

pub(crate) async fn count_entries(pool: &Pool<Db>) -> Result<u64, StoreError> {
    Ok(to_u64(sqlx::query("SELECT COUNT(*) AS n FROM entries").fetch_one(pool).await?.try_get("n")?))
}

pub(crate) async fn count_items(pool: &Pool<Db>, node: &str) -> Result<u64, StoreError> {
    Ok(to_u64(sqlx::query("SELECT COUNT(*) AS n FROM items WHERE node = $1").bind(node).fetch_one(pool).await?.try_get("n")?))
}

pub(crate) async fn format_marker(pool: &Pool<Db>) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM store_meta WHERE key = 'format'").fetch_optional(pool).await;
    match row {
        Ok(r) => Ok(r.map(|r| r.try_get("value")).transpose()?),
        Err(e) => Err(StoreError::Format(e.to_string())),
    }
}

/// Test and benchmark aid: inserts raw item rows in one transaction, with no entry, signature
/// or rule — the lower bound the ingest benchmark compares against. Never used by the node.
pub(crate) async fn raw_insert_items(
    pool: &Pool<Db>,
    node: &str,
    items: &mut (dyn Iterator<Item = PowerItem> + Send),
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    for item in items {
        item_query(INSERT_ITEM, node, &item, 0, "")?
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Benchmark aid: every row `append` writes for these item-adding entries (the entry row with
/// its bytes, each item row, each item-version row, the head) inserted directly in one
/// transaction, with no chain check, authority or rule: the raw cost of the same rows.
pub(crate) async fn raw_insert_rows(pool: &Pool<Db>, entries: &[VerifiedEntry]) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    for entry in entries {
        let node = entry.origin().as_str();
        insert_entry_row(&mut tx, entry).await?;
        for op in entry.ops() {
            if let Op::ItemAdd { item, .. } = op {
                item_query(INSERT_ITEM, node, item, entry.seq(), &entry.body().at)?.execute(&mut *tx).await?;
                record_version(&mut tx, node, item, entry, None).await?;
            }
        }
        set_head(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
}
