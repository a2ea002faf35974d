// Projections of grant batches (赋权) and special seals (专用分章), and their reads. Included by
// `sqlite.rs` and `postgres.rs` after `recon_queries.rs` (same `Db`, `Tx`, helpers). The rules
// are the domain's (`grants::plan_issue`, `check_accept`, `SealStatus` steps, `verdict`); this
// file only loads, calls and writes. No rule here reads another origin's state that could
// change concurrently: the grantor's and the grantee's entries give the same rows in any order.

use std::collections::BTreeSet;

use quanze_domain::grants::{
    Extension, GrantBatch, GrantHeader, GrantKind, GrantRef, GrantedItem, Seal, SealError, SealStatus, check_accept,
    check_extend, check_revoke, item_for_grantee, item_revoked_for_grantee, plan_issue,
};
use quanze_domain::{GrantError, ItemStatus};

use crate::types::{GrantEventRow, GrantRow};

fn entry_day(entry: &VerifiedEntry) -> Result<chrono::NaiveDate, StoreError> {
    quanze_domain::recon::china_day(&entry.body().at)
        .ok_or_else(|| StoreError::Corrupt(format!("entry {}#{}: bad time {}", entry.origin(), entry.seq(), entry.body().at)))
}

fn grant_subject(r: &GrantRef) -> String {
    format!("grant:{}#{}", r.origin, r.seq)
}

fn seal_subject(grantor: &str, id: &str) -> String {
    format!("seal:{grantor}/{id}")
}

async fn record_event(tx: &mut Tx, entry: &VerifiedEntry, index: usize, subject: &str, day: chrono::NaiveDate, detail: &str) -> Result<(), StoreError> {
    let action = entry.ops()[index].kind();
    // One row per (entry, op); a replace records its old seals under the same op, so the index
    // is widened per subject.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grant_events WHERE origin = $1 AND seq = $2")
        .bind(entry.origin().as_str())
        .bind(to_i64(entry.seq()))
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO grant_events (origin, seq, idx, subject, action, day, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(entry.origin().as_str())
        .bind(to_i64(entry.seq()))
        .bind(n)
        .bind(subject)
        .bind(action)
        .bind(day.to_string())
        .bind(detail)
        .bind(entry.body().at.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Dispatches one grant or seal op.
async fn apply_grant_op(tx: &mut Tx, entry: &VerifiedEntry, index: usize, op: &Op) -> Result<(), StoreError> {
    let today = entry_day(entry)?;
    match op {
        Op::GrantIssue { batch } => apply_grant_issue(tx, entry, index, batch, today).await,
        Op::GrantAccept { batch, departments, date } => {
            apply_grant_accept(tx, entry, index, batch, departments, *date, today).await
        }
        Op::GrantRevoke { batch, codes, reason, date } => {
            apply_grant_revoke(tx, entry, index, batch, codes, reason, *date, today).await
        }
        Op::GrantExtend { batch, extension } => apply_grant_extend(tx, entry, index, batch, extension).await,
        Op::SealCarve { seal } => {
            let status = carve_in(tx, entry, index, seal.clone(), vec![seal.issuer.trim().to_string()], today).await?;
            insert_seal(tx, &status).await?;
            record_event(tx, entry, index, &seal_subject(entry.origin().as_str(), &seal.id), seal.carved, &seal.name).await
        }
        Op::SealDeliver { seal, date } => {
            let mut s = own_seal(tx, entry, index, seal).await?;
            s.deliver(*date, today).map_err(|e| rule_error(entry, index, e))?;
            save_seal(tx, &s).await?;
            record_event(tx, entry, index, &seal_subject(entry.origin().as_str(), seal), *date, "").await
        }
        Op::SealActivate { grantor, seal, date } => {
            let mut s = load_seal(tx, grantor.as_str(), seal)
                .await?
                .ok_or_else(|| rule_error(entry, index, GrantError::from(SealError::UnknownSeal(seal.clone()))))?;
            let mut accepted: Option<chrono::NaiveDate> = None;
            for r in &s.seal.scope {
                if let Some(h) = load_grant(tx, r.origin.as_str(), r.seq).await?
                    && &h.header.grantee == entry.origin()
                    && let Some(a) = h.header.accepted_on
                {
                    accepted = Some(accepted.map_or(a, |b| b.min(a)));
                }
            }
            s.activate(entry.origin(), *date, today, accepted).map_err(|e| rule_error(entry, index, e))?;
            save_seal(tx, &s).await?;
            record_event(tx, entry, index, &seal_subject(grantor.as_str(), seal), *date, "").await
        }
        Op::SealRecall { seal, date, reason } => {
            let mut s = own_seal(tx, entry, index, seal).await?;
            s.recall(*date, today, reason).map_err(|e| rule_error(entry, index, e))?;
            save_seal(tx, &s).await?;
            record_event(tx, entry, index, &seal_subject(entry.origin().as_str(), seal), *date, reason.trim()).await
        }
        Op::SealArchive { seal, date } => {
            let mut s = own_seal(tx, entry, index, seal).await?;
            s.archive(*date, today).map_err(|e| rule_error(entry, index, e))?;
            save_seal(tx, &s).await?;
            record_event(tx, entry, index, &seal_subject(entry.origin().as_str(), seal), *date, "").await
        }
        Op::SealReplace { replaces, seal, date, reason } => {
            apply_seal_replace(tx, entry, index, replaces, seal, *date, reason, today).await
        }
        other => Err(rule_error(entry, index, RuleError::NotAnItemOp(other.kind()))),
    }
}

/// The grantor's items with the given codes (any status).
async fn list_items_in(tx: &mut Tx, node: &str, codes: &[&str]) -> Result<HashMap<String, PowerItem>, StoreError> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        let mut qb = QueryBuilder::<Db>::new("SELECT data FROM items WHERE node = ");
        qb.push_bind(node.to_string()).push(" AND code IN (");
        let mut list = qb.separated(", ");
        for code in chunk {
            list.push_bind(code.to_string());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut **tx).await? {
            let item = parse_item(&r.try_get::<String, _>("data")?)?;
            out.insert(item.code.clone(), item);
        }
    }
    Ok(out)
}

async fn apply_grant_issue(tx: &mut Tx, entry: &VerifiedEntry, index: usize, batch: &GrantBatch, today: chrono::NaiveDate) -> Result<(), StoreError> {
    let grantor = entry.origin().as_str();
    if load_grant(tx, grantor, entry.seq()).await?.is_some() {
        return Err(rule_error(entry, index, GrantError::OneBatchPerEntry));
    }
    let codes: Vec<&str> = batch.items.iter().map(|i| i.code.trim()).collect();
    let list = list_items_in(tx, grantor, &codes).await?;
    let calendar = calendar_in(tx).await?;
    let (items, due) = plan_issue(batch, &calendar, |c| list.get(c).cloned()).map_err(|e| rule_error(entry, index, e))?;
    if batch.issued > today {
        return Err(rule_error(entry, index, GrantError::DateInFuture { date: batch.issued, today }));
    }
    let grant_ref = GrantRef { origin: entry.origin().clone(), seq: entry.seq(), hash: entry.hash().to_string() };
    let header = GrantHeader {
        grant_ref: grant_ref.clone(),
        doc_no: batch.doc_no.trim().to_string(),
        title: batch.title.trim().to_string(),
        issued: batch.issued,
        grantee: batch.grantee.clone(),
        training_months: batch.training_months,
        extensions: Vec::new(),
        handover_due: due,
        items: items.len() as u64,
        departments: batch.departments(),
        accepted_on: None,
        revoked_on: None,
        revoke_reason: String::new(),
        items_revoked: 0,
    };
    sqlx::query("INSERT INTO grants (grantor, seq, hash, doc_no, grantee, issued, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(grantor)
        .bind(to_i64(entry.seq()))
        .bind(&grant_ref.hash)
        .bind(&header.doc_no)
        .bind(header.grantee.as_str())
        .bind(header.issued.to_string())
        .bind(json_text(&header)?)
        .bind(entry.body().at.as_str())
        .execute(&mut **tx)
        .await?;
    for g in &items {
        sqlx::query("INSERT INTO grant_items (grantor, seq, code, kind, grantor_dept, data) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(grantor)
            .bind(to_i64(entry.seq()))
            .bind(&g.code)
            .bind(g.kind.key())
            .bind(&g.grantor_dept)
            .bind(json_text(g)?)
            .execute(&mut **tx)
            .await?;
    }
    let detail = format!("{} 向 {} 赋权 {} 项", header.doc_no, header.grantee, header.items);
    record_event(tx, entry, index, &grant_subject(&grant_ref), batch.issued, &detail).await
}

/// The batch `r` names, checked against its hash; `UnknownBatch` otherwise.
async fn named_grant(tx: &mut Tx, entry: &VerifiedEntry, index: usize, r: &GrantRef) -> Result<GrantHeader, StoreError> {
    match load_grant(tx, r.origin.as_str(), r.seq).await? {
        Some(row) if row.header.grant_ref.hash == r.hash => Ok(row.header),
        _ => Err(rule_error(entry, index, GrantError::UnknownBatch(r.to_string()))),
    }
}

async fn save_grant(tx: &mut Tx, h: &GrantHeader) -> Result<(), StoreError> {
    sqlx::query("UPDATE grants SET data = $1 WHERE grantor = $2 AND seq = $3")
        .bind(json_text(h)?)
        .bind(h.grant_ref.origin.as_str())
        .bind(to_i64(h.grant_ref.seq))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn save_grant_item(tx: &mut Tx, h: &GrantHeader, g: &GrantedItem) -> Result<(), StoreError> {
    sqlx::query("UPDATE grant_items SET data = $1 WHERE grantor = $2 AND seq = $3 AND code = $4")
        .bind(json_text(g)?)
        .bind(h.grant_ref.origin.as_str())
        .bind(to_i64(h.grant_ref.seq))
        .bind(&g.code)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn apply_grant_accept(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    r: &GrantRef,
    departments: &[String],
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<(), StoreError> {
    let mut header = named_grant(tx, entry, index, r).await?;
    check_accept(&header, entry.origin(), departments, date, today).map_err(|e| rule_error(entry, index, e))?;
    let items = grant_items_in(tx, r.origin.as_str(), r.seq).await?;
    let grantee = entry.origin().as_str();
    let codes: Vec<&str> = items.iter().map(|g| g.code.as_str()).collect();
    let held = list_items_in(tx, grantee, &codes).await?;
    let mut conflicts: Vec<String> =
        held.values().filter(|i| !matches!(i.status, ItemStatus::Cancelled | ItemStatus::Delegated)).map(|i| i.code.clone()).collect();
    if !conflicts.is_empty() {
        conflicts.sort();
        return Err(rule_error(entry, index, GrantError::CodeConflict(conflicts)));
    }
    header.accepted_on = Some(date);
    let grant_ref = format!("{}#{}", r.origin, r.seq);
    for g in &items {
        let item = if g.revoked_on.is_some() { item_revoked_for_grantee(&header, g) } else { item_for_grantee(&header, g) };
        write_granted_item(tx, grantee, &item, entry, &grant_ref).await?;
        // The version the acceptance wrote is the granted item, whether or not a revocation
        // arrived first: the audit applies revocations from the grant facts, as of its day.
        record_version(tx, grantee, &item_for_grantee(&header, g), entry, Some(&grant_ref)).await?;
    }
    save_grant(tx, &header).await?;
    let detail = format!("承接部门：{}", departments.join("、"));
    record_event(tx, entry, index, &grant_subject(r), date, &detail).await
}

/// Writes a granted item into the grantee's list (replacing a cancelled row of the same code).
async fn write_granted_item(tx: &mut Tx, node: &str, item: &PowerItem, entry: &VerifiedEntry, grant_ref: &str) -> Result<(), StoreError> {
    const UPSERT: &str = "INSERT INTO items (node, code, name, category, status, implementing_body, data, last_seq, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (node, code) DO UPDATE SET name = excluded.name, \
         category = excluded.category, status = excluded.status, implementing_body = excluded.implementing_body, \
         data = excluded.data, last_seq = excluded.last_seq, updated_at = excluded.updated_at";
    item_query(UPSERT, node, item, entry.seq(), &entry.body().at)?.execute(&mut **tx).await?;
    sqlx::query("UPDATE items SET grant_ref = $1 WHERE node = $2 AND code = $3")
        .bind(grant_ref)
        .bind(node)
        .bind(item.code.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn apply_grant_revoke(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    r: &GrantRef,
    codes: &[String],
    reason: &str,
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<(), StoreError> {
    let mut header = named_grant(tx, entry, index, r).await?;
    let items: BTreeMap<String, GrantedItem> =
        grant_items_in(tx, r.origin.as_str(), r.seq).await?.into_iter().map(|g| (g.code.clone(), g)).collect();
    let revoked = check_revoke(&header, &items, entry.origin(), codes, reason, date, today)
        .map_err(|e| rule_error(entry, index, e))?;
    if codes.is_empty() {
        header.revoked_on = Some(date);
        header.revoke_reason = reason.trim().to_string();
    }
    header.items_revoked += revoked.len() as u64;
    let grant_ref = format!("{}#{}", r.origin, r.seq);
    for code in &revoked {
        let mut g = items[code].clone();
        g.revoked_on = Some(date);
        g.revoke_reason = reason.trim().to_string();
        save_grant_item(tx, &header, &g).await?;
        // Only the content changes in the grantee's list: the row keeps the acceptance's seq, so
        // the list is the same whichever of the two entries arrived first.
        let item = item_revoked_for_grantee(&header, &g);
        sqlx::query("UPDATE items SET status = $1, data = $2 WHERE node = $3 AND code = $4 AND grant_ref = $5")
            .bind(item.status.key())
            .bind(json_text(&item)?)
            .bind(header.grantee.as_str())
            .bind(code)
            .bind(&grant_ref)
            .execute(&mut **tx)
            .await?;
    }
    save_grant(tx, &header).await?;
    let what = if codes.is_empty() { "整批".to_string() } else { revoked.join("、") };
    record_event(tx, entry, index, &grant_subject(r), date, &format!("收回{what}：{}", reason.trim())).await
}

async fn apply_grant_extend(tx: &mut Tx, entry: &VerifiedEntry, index: usize, r: &GrantRef, ext: &Extension) -> Result<(), StoreError> {
    let mut header = named_grant(tx, entry, index, r).await?;
    check_extend(&header, entry.origin(), ext).map_err(|e| rule_error(entry, index, e))?;
    header.extensions.push(Extension { months: ext.months, reason: ext.reason.trim().to_string() });
    save_grant(tx, &header).await?;
    let detail = format!("延长 {} 个月至 {}：{}", ext.months, header.training_until(), ext.reason.trim());
    record_event(tx, entry, index, &grant_subject(r), entry_day(entry)?, &detail).await
}

/// Checks a new seal of the entry's origin against its scope and the seals already held.
async fn carve_in(tx: &mut Tx, entry: &VerifiedEntry, index: usize, seal: Seal, covers: Vec<String>, today: chrono::NaiveDate) -> Result<SealStatus, StoreError> {
    let grantor = entry.origin().as_str();
    let fail = |e: SealError| rule_error(entry, index, GrantError::from(e));
    let mut scope = Vec::with_capacity(seal.scope.len());
    let mut pairs: BTreeSet<(GrantKind, String)> = BTreeSet::new();
    for r in &seal.scope {
        let h = match load_grant(tx, r.origin.as_str(), r.seq).await? {
            Some(row) if row.header.grant_ref.hash == r.hash => row.header,
            _ => return Err(fail(SealError::UnknownScope(r.to_string()))),
        };
        let rows = sqlx::query("SELECT DISTINCT kind, grantor_dept FROM grant_items WHERE grantor = $1 AND seq = $2")
            .bind(r.origin.as_str())
            .bind(to_i64(r.seq))
            .fetch_all(&mut **tx)
            .await?;
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let kind = GrantKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("grant kind {kind}")))?;
            pairs.insert((kind, row.try_get("grantor_dept")?));
        }
        scope.push(h);
    }
    let status = SealStatus::carve(entry.origin(), seal, covers, &scope, &pairs, today).map_err(|e| rule_error(entry, index, e))?;
    let s = &status.seal;
    if load_seal(tx, grantor, &s.id).await?.is_some() {
        return Err(fail(SealError::DuplicateId(s.id.clone())));
    }
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM seals WHERE grantor = $1 AND issuer = $2 AND kind = $3 AND serial = $4")
        .bind(grantor)
        .bind(s.issuer.trim())
        .bind(s.kind.key())
        .bind(i64::from(s.serial))
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(existing) = existing {
        return Err(fail(SealError::DuplicateSerial { issuer: s.issuer.clone(), kind: s.kind.label(), serial: s.serial, existing }));
    }
    Ok(status)
}

async fn insert_seal(tx: &mut Tx, s: &SealStatus) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO seals (grantor, id, issuer, kind, serial, holder, state, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(s.grantor.as_str())
        .bind(&s.seal.id)
        .bind(s.seal.issuer.trim())
        .bind(s.seal.kind.key())
        .bind(i64::from(s.seal.serial))
        .bind(s.seal.holder.as_str())
        .bind(s.state.key())
        .bind(json_text(s)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn save_seal(tx: &mut Tx, s: &SealStatus) -> Result<(), StoreError> {
    sqlx::query("UPDATE seals SET state = $1, data = $2 WHERE grantor = $3 AND id = $4")
        .bind(s.state.key())
        .bind(json_text(s)?)
        .bind(s.grantor.as_str())
        .bind(&s.seal.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn load_seal(conn: &mut Conn, grantor: &str, id: &str) -> Result<Option<SealStatus>, StoreError> {
    let data: Option<String> = sqlx::query_scalar("SELECT data FROM seals WHERE grantor = $1 AND id = $2")
        .bind(grantor)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    data.map(|d| from_json("seal", &d)).transpose()
}

/// A seal of the entry's origin (only the grantor delivers, recalls, archives, replaces).
async fn own_seal(tx: &mut Tx, entry: &VerifiedEntry, index: usize, id: &str) -> Result<SealStatus, StoreError> {
    load_seal(tx, entry.origin().as_str(), id)
        .await?
        .ok_or_else(|| rule_error(entry, index, GrantError::from(SealError::UnknownSeal(id.to_string()))))
}

#[allow(clippy::too_many_arguments)]
async fn apply_seal_replace(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    replaces: &[String],
    seal: &Seal,
    date: chrono::NaiveDate,
    reason: &str,
    today: chrono::NaiveDate,
) -> Result<(), StoreError> {
    if replaces.is_empty() {
        return Err(rule_error(entry, index, GrantError::from(SealError::MissingField("被替换的专用章"))));
    }
    let mut old = Vec::with_capacity(replaces.len());
    let mut covers: BTreeSet<String> = BTreeSet::new();
    let mut scope: Vec<GrantRef> = Vec::new();
    for id in replaces {
        let mut s = own_seal(tx, entry, index, id).await?;
        s.replaced(seal, date, today, reason).map_err(|e| rule_error(entry, index, e))?;
        covers.extend(s.covers.iter().cloned());
        for r in &s.seal.scope {
            if !scope.contains(r) {
                scope.push(r.clone());
            }
        }
        old.push(s);
    }
    let mut new_seal = seal.clone();
    if new_seal.scope.is_empty() {
        new_seal.scope = scope;
    }
    let mut status = carve_in(tx, entry, index, new_seal, covers.into_iter().collect(), today).await?;
    status.replaces = replaces.to_vec();
    insert_seal(tx, &status).await?;
    let grantor = entry.origin().as_str();
    for s in &old {
        save_seal(tx, s).await?;
        let detail = format!("由 {} 替代：{}", status.seal.id, reason.trim());
        record_event(tx, entry, index, &seal_subject(grantor, &s.seal.id), date, &detail).await?;
    }
    let detail = format!("{}（替代 {}）", status.seal.name, replaces.join("、"));
    record_event(tx, entry, index, &seal_subject(grantor, &status.seal.id), status.seal.carved, &detail).await
}

// ---- reads ----

fn grant_row(r: &<Db as sqlx::Database>::Row) -> Result<GrantRow, StoreError> {
    Ok(GrantRow { header: from_json("grant", &r.try_get::<String, _>("data")?)?, at: r.try_get("at")? })
}

async fn load_grant(conn: &mut Conn, grantor: &str, seq: u64) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query("SELECT data, at FROM grants WHERE grantor = $1 AND seq = $2")
        .bind(grantor)
        .bind(to_i64(seq))
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(grant_row).transpose()
}

async fn grant_items_in(conn: &mut Conn, grantor: &str, seq: u64) -> Result<Vec<GrantedItem>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM grant_items WHERE grantor = $1 AND seq = $2 ORDER BY code")
        .bind(grantor)
        .bind(to_i64(seq))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|d| from_json("granted item", d)).collect()
}

pub(crate) async fn grants(pool: &Pool<Db>) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query("SELECT data, at FROM grants ORDER BY issued, grantor, seq").fetch_all(pool).await?;
    rows.iter().map(grant_row).collect()
}

pub(crate) async fn grant(pool: &Pool<Db>, grantor: &str, seq: u64) -> Result<Option<GrantRow>, StoreError> {
    let mut conn = pool.acquire().await?;
    load_grant(&mut conn, grantor, seq).await
}

pub(crate) async fn grants_by_doc_no(pool: &Pool<Db>, doc_no: &str) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query("SELECT data, at FROM grants WHERE doc_no = $1 ORDER BY grantor, seq").bind(doc_no.trim()).fetch_all(pool).await?;
    rows.iter().map(grant_row).collect()
}

pub(crate) async fn grant_items(pool: &Pool<Db>, grantor: &str, seq: u64) -> Result<Vec<GrantedItem>, StoreError> {
    let mut conn = pool.acquire().await?;
    grant_items_in(&mut conn, grantor, seq).await
}

pub(crate) async fn seals(pool: &Pool<Db>) -> Result<Vec<SealStatus>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM seals ORDER BY grantor, issuer, kind, serial").fetch_all(pool).await?;
    rows.iter().map(|d| from_json("seal", d)).collect()
}

pub(crate) async fn seals_by_id(pool: &Pool<Db>, id: &str) -> Result<Vec<SealStatus>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM seals WHERE id = $1 ORDER BY grantor").bind(id.trim()).fetch_all(pool).await?;
    rows.iter().map(|d| from_json("seal", d)).collect()
}

/// The granted items with `code` in the batches of `scope`, each with its batch header.
pub(crate) async fn scope_candidates(pool: &Pool<Db>, scope: &[GrantRef], code: &str) -> Result<Vec<(GrantHeader, GrantedItem)>, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    for r in scope {
        let data: Option<String> = sqlx::query_scalar("SELECT data FROM grant_items WHERE grantor = $1 AND seq = $2 AND code = $3")
            .bind(r.origin.as_str())
            .bind(to_i64(r.seq))
            .bind(code.trim())
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(d) = data
            && let Some(h) = load_grant(&mut conn, r.origin.as_str(), r.seq).await?
        {
            out.push((h.header, from_json("granted item", &d)?));
        }
    }
    Ok(out)
}

pub(crate) async fn grant_events(pool: &Pool<Db>, subject: &str) -> Result<Vec<GrantEventRow>, StoreError> {
    let rows = sqlx::query("SELECT origin, seq, subject, action, day, detail, at FROM grant_events WHERE subject = $1 ORDER BY day, at, origin, seq, idx")
        .bind(subject)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(GrantEventRow {
                origin: r.try_get("origin")?,
                seq: to_u64(r.try_get("seq")?),
                subject: r.try_get("subject")?,
                action: r.try_get("action")?,
                day: r.try_get("day")?,
                detail: r.try_get("detail")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

async fn clear_grant_projections(tx: &mut Tx) -> Result<(), StoreError> {
    for table in ["grants", "grant_items", "seals", "grant_events"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut **tx).await?;
    }
    Ok(())
}

async fn grant_snapshot(pool: &Pool<Db>, out: &mut Vec<String>) -> Result<(), StoreError> {
    let tables: [(&str, &str); 4] = [
        ("grants", "SELECT grantor || '#' || seq || ' ' || data AS line FROM grants ORDER BY grantor, seq"),
        ("grant_items", "SELECT grantor || '#' || seq || ' ' || code || ' ' || data AS line FROM grant_items ORDER BY grantor, seq, code"),
        ("seals", "SELECT grantor || '/' || id || ' ' || state || ' ' || data AS line FROM seals ORDER BY grantor, id"),
        ("grant_events", "SELECT subject || ' ' || action || ' ' || day || ' ' || origin || '#' || seq || ' ' || detail AS line FROM grant_events ORDER BY subject, origin, seq, idx"),
    ];
    for (table, sql) in tables {
        for line in sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await? {
            out.push(format!("{table} {line}"));
        }
    }
    Ok(())
}
