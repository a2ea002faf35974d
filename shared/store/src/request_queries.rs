// The adjustment-request workflow's projections (`requests`, `request_steps`,
// `request_attachments`), the node-local attachment bytes, and their reads, including an item's
// history with the requests that changed it. Included by `sqlite.rs` and `postgres.rs` after
// `recon_queries.rs` (same `Db`, `Tx`, helpers). The rules are the domain's (`RequestState`);
// this file only loads, calls and writes.

use quanze_domain::{Actor, Decision, Outcome, Proposal, RequestState, Stage, Status};

use crate::types::{AttachmentRow, ItemHistoryRow, RequestRow, RequestStepRow};

const REQUEST_COLUMNS: &str = "node, id, revision, status, at_index, route, filer, filed_on, request_window, proposal, last_seq, published_seq";

fn request_row(r: &<Db as sqlx::Database>::Row) -> Result<RequestRow, StoreError> {
    let route: Vec<Stage> = from_json("route", &r.try_get::<String, _>("route")?)?;
    let at = usize::try_from(r.try_get::<i64, _>("at_index")?).unwrap_or(0);
    let status: String = r.try_get("status")?;
    let filed_on: String = r.try_get("filed_on")?;
    Ok(RequestRow {
        node: r.try_get("node")?,
        id: to_u64(r.try_get("id")?),
        revision: u32::try_from(r.try_get::<i64, _>("revision")?).unwrap_or(1),
        status: Status::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("request status {status}")))?,
        stage: *route.get(at).ok_or_else(|| StoreError::Corrupt("request stage".into()))?,
        route,
        filer: from_json("filer", &r.try_get::<String, _>("filer")?)?,
        filed_on: filed_on.parse().map_err(|_| StoreError::Corrupt(format!("filed_on {filed_on}")))?,
        window: from_json("request window", &r.try_get::<String, _>("request_window")?)?,
        proposal: from_json("proposal", &r.try_get::<String, _>("proposal")?)?,
        last_seq: to_u64(r.try_get("last_seq")?),
        published_seq: r.try_get::<Option<i64>, _>("published_seq")?.map(to_u64),
    })
}

async fn request_in(tx: &mut Tx, node: &str, id: u64) -> Result<Option<RequestRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE node = $1 AND id = $2"));
    let row = sqlx::query(sql).bind(node).bind(to_i64(id)).fetch_optional(&mut **tx).await?;
    row.as_ref().map(request_row).transpose()
}

/// The node's current items with the codes a proposal concerns.
async fn items_for(tx: &mut Tx, node: &str, proposal: &Proposal) -> Result<HashMap<String, PowerItem>, StoreError> {
    let mut found = HashMap::new();
    for code in proposal.codes() {
        if let Some(item) = load_item(tx, node, &code).await? {
            found.insert(code, item);
        }
    }
    Ok(found)
}

/// `request.submit`: a new request (its id is this entry's seq) or a returned one re-filed.
async fn apply_request_submit(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    request: Option<u64>,
    proposal: &Proposal,
    actor: &Actor,
) -> Result<(), StoreError> {
    let node = entry.origin().as_str();
    let submits = entry.ops().iter().filter(|op| matches!(op, Op::RequestSubmit { .. })).count();
    if submits > 1 {
        return Err(rule_error(entry, index, RuleError::TwoRequestsInOneEntry));
    }
    let filed = entry_day(entry)?;
    let items = items_for(tx, node, proposal).await?;
    let lookup = |code: &str| items.get(code).cloned();
    let (state, action) = match request {
        None => (RequestState::open(entry.seq(), actor, proposal, filed, lookup).map_err(|e| rule_error(entry, index, e))?, "submit"),
        Some(id) => {
            let row = request_in(tx, node, id).await?.ok_or_else(|| rule_error(entry, index, RuleError::NoSuchRequest(id)))?;
            (row.state().resubmit(actor, proposal, filed, lookup).map_err(|e| rule_error(entry, index, e))?, "resubmit")
        }
    };
    if request.is_none() {
        // The filing the lateness rules read (the same row a bare `request.file` makes).
        let filing = quanze_domain::Filing {
            department: proposal.department.trim().to_string(),
            trigger: proposal.trigger,
            trigger_date: proposal.trigger_date,
            summary: proposal.title.trim().to_string(),
            codes: proposal.codes(),
        };
        apply_filing(tx, entry, index, &filing).await?;
        let window = policy_in(tx, node).await?;
        sqlx::query(
            "INSERT INTO requests (node, id, revision, kind, trigger_kind, trigger_date, department, title, status, at_index, \
             route, filer, filed_on, request_window, proposal, last_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(node)
        .bind(to_i64(state.id))
        .bind(i64::from(state.revision))
        .bind(proposal.kind.key())
        .bind(proposal.trigger.key())
        .bind(proposal.trigger_date.to_string())
        .bind(proposal.department.trim())
        .bind(proposal.title.trim())
        .bind(state.status.key())
        .bind(state.at as i64)
        .bind(json_text(&state.route)?)
        .bind(json_text(actor)?)
        .bind(filed.to_string())
        .bind(json_text(&window)?)
        .bind(json_text(proposal)?)
        .bind(to_i64(entry.seq()))
        .execute(&mut **tx)
        .await?;
    } else {
        write_request_state(tx, node, &state, entry.seq(), None).await?;
    }
    for a in &proposal.attachments {
        sqlx::query(
            "INSERT INTO request_attachments (node, id, sha256, name) VALUES ($1, $2, $3, $4) ON CONFLICT (node, id, sha256) DO NOTHING",
        )
        .bind(node)
        .bind(to_i64(state.id))
        .bind(a.sha256.as_str())
        .bind(a.name.trim())
        .execute(&mut **tx)
        .await?;
    }
    record_step(tx, entry, index, &state, action, None, actor, "").await
}

/// `request.step`: a reviewer's decision. The last stage's approval must be followed in the same
/// entry by exactly the proposal's item ops (which the item rules then apply).
#[allow(clippy::too_many_arguments)]
async fn apply_request_step(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    request: u64,
    stage: Stage,
    decision: Decision,
    comment: &str,
    actor: &Actor,
) -> Result<(), StoreError> {
    let node = entry.origin().as_str();
    let row = request_in(tx, node, request).await?.ok_or_else(|| rule_error(entry, index, RuleError::NoSuchRequest(request)))?;
    let (next, outcome) =
        row.state().step(stage, decision, comment, actor).map_err(|e| rule_error(entry, index, e))?;
    let published = if outcome == Outcome::Publish {
        let expected = next.proposal.ops();
        let following = entry.ops().get(index + 1..index + 1 + expected.len());
        if following != Some(&expected[..]) {
            return Err(rule_error(entry, index, RuleError::PublicationMismatch(request)));
        }
        Some(entry.seq())
    } else {
        None
    };
    write_request_state(tx, node, &next, entry.seq(), published).await?;
    record_step(tx, entry, index, &next, decision.key(), Some(stage), actor, comment).await
}

async fn write_request_state(tx: &mut Tx, node: &str, state: &RequestState, seq: u64, published: Option<u64>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE requests SET revision = $3, kind = $4, trigger_kind = $5, trigger_date = $6, title = $7, status = $8, \
         at_index = $9, route = $10, proposal = $11, last_seq = $12, published_seq = COALESCE($13, published_seq) \
         WHERE node = $1 AND id = $2",
    )
    .bind(node)
    .bind(to_i64(state.id))
    .bind(i64::from(state.revision))
    .bind(state.proposal.kind.key())
    .bind(state.proposal.trigger.key())
    .bind(state.proposal.trigger_date.to_string())
    .bind(state.proposal.title.trim())
    .bind(state.status.key())
    .bind(state.at as i64)
    .bind(json_text(&state.route)?)
    .bind(json_text(&state.proposal)?)
    .bind(to_i64(seq))
    .bind(published.map(to_i64))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn record_step(
    tx: &mut Tx,
    entry: &VerifiedEntry,
    index: usize,
    state: &RequestState,
    action: &str,
    stage: Option<Stage>,
    actor: &Actor,
    comment: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO request_steps (node, seq, idx, id, revision, action, stage, actor, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .bind(index as i64)
    .bind(to_i64(state.id))
    .bind(i64::from(state.revision))
    .bind(action)
    .bind(stage.map(Stage::key))
    .bind(json_text(actor)?)
    .bind(comment.trim())
    .bind(entry.body().at.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---- reads ----

/// A node's requests, newest first, optionally only those with `status` or of `department`.
pub(crate) async fn requests(
    pool: &Pool<Db>,
    node: &str,
    status: Option<&str>,
    department: Option<&str>,
) -> Result<Vec<RequestRow>, StoreError> {
    let mut q = QueryBuilder::<Db>::new(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE node = "));
    q.push_bind(node);
    if let Some(s) = status {
        q.push(" AND status = ").push_bind(s);
    }
    if let Some(d) = department {
        q.push(" AND department = ").push_bind(d);
    }
    q.push(" ORDER BY id DESC");
    let rows = q.build().fetch_all(pool).await?;
    rows.iter().map(request_row).collect()
}

/// One request and its trace, oldest step first.
pub(crate) async fn request(pool: &Pool<Db>, node: &str, id: u64) -> Result<Option<(RequestRow, Vec<RequestStepRow>)>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE node = $1 AND id = $2"));
    let Some(row) = sqlx::query(sql).bind(node).bind(to_i64(id)).fetch_optional(pool).await? else {
        return Ok(None);
    };
    let steps = sqlx::query(
        "SELECT seq, revision, action, stage, actor, comment, at FROM request_steps WHERE node = $1 AND id = $2 ORDER BY seq, idx",
    )
    .bind(node)
    .bind(to_i64(id))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let stage: Option<String> = r.try_get("stage")?;
        Ok(RequestStepRow {
            seq: to_u64(r.try_get("seq")?),
            revision: u32::try_from(r.try_get::<i64, _>("revision")?).unwrap_or(1),
            action: r.try_get("action")?,
            stage: stage.map(|s| from_json::<Stage>("stage", &format!("\"{s}\""))).transpose()?,
            actor: from_json("actor", &r.try_get::<String, _>("actor")?)?,
            comment: r.try_get("comment")?,
            at: r.try_get("at")?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some((request_row(&row)?, steps)))
}

/// Keeps an uploaded attachment (content-addressed: the same bytes twice are kept once).
pub(crate) async fn put_attachment(pool: &Pool<Db>, meta: &AttachmentRow, data: &[u8]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO attachments (sha256, name, media_type, size, data, uploaded_at, account) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(meta.sha256.as_str())
    .bind(meta.name.as_str())
    .bind(meta.media_type.as_str())
    .bind(to_i64(meta.size))
    .bind(data)
    .bind(meta.uploaded_at.as_str())
    .bind(meta.account.as_str())
    .execute(pool)
    .await?;
    Ok(())
}

/// An attachment's description and bytes.
pub(crate) async fn attachment(pool: &Pool<Db>, sha256: &str) -> Result<Option<(AttachmentRow, Vec<u8>)>, StoreError> {
    let row = sqlx::query("SELECT sha256, name, media_type, size, data, uploaded_at, account FROM attachments WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok((
            AttachmentRow {
                sha256: r.try_get("sha256")?,
                name: r.try_get("name")?,
                media_type: r.try_get("media_type")?,
                size: to_u64(r.try_get("size")?),
                uploaded_at: r.try_get("uploaded_at")?,
                account: r.try_get("account")?,
            },
            r.try_get("data")?,
        ))
    })
    .transpose()
}

/// Whether a published request of `node` cites the attachment (only those are public).
pub(crate) async fn attachment_published(pool: &Pool<Db>, node: &str, sha256: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_attachments a JOIN requests r ON r.node = a.node AND r.id = a.id \
         WHERE a.node = $1 AND a.sha256 = $2 AND r.status = 'published'",
    )
    .bind(node)
    .bind(sha256)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// Every version of an item of `node`'s list, oldest first, with the request that published it.
pub(crate) async fn item_history(pool: &Pool<Db>, node: &str, code: &str) -> Result<Vec<ItemHistoryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT v.seq, v.day, v.name, v.status, r.id, r.title FROM item_versions v \
         LEFT JOIN requests r ON r.node = v.node AND r.published_seq = v.seq \
         WHERE v.node = $1 AND v.code = $2 ORDER BY v.seq",
    )
    .bind(node)
    .bind(code)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ItemHistoryRow {
                seq: to_u64(r.try_get("seq")?),
                day: r.try_get("day")?,
                name: r.try_get("name")?,
                status: r.try_get("status")?,
                request: r.try_get::<Option<i64>, _>("id")?.map(to_u64),
                request_title: r.try_get("title")?,
            })
        })
        .collect()
}

/// Snapshot lines of these projections (see `snapshot`).
async fn request_snapshot(pool: &Pool<Db>, out: &mut Vec<String>) -> Result<(), StoreError> {
    let tables: [(&str, &str); 3] = [
        ("requests", "SELECT node || '#' || id || ' r' || revision || ' ' || status || ' ' || at_index || ' ' || filed_on || ' ' || last_seq || ' ' || COALESCE(published_seq, 0) || ' ' || proposal AS line FROM requests ORDER BY node, id"),
        ("request_steps", "SELECT node || '#' || seq || '.' || idx || ' ' || id || ' ' || action || ' ' || COALESCE(stage, '-') || ' ' || actor || ' ' || comment AS line FROM request_steps ORDER BY node, seq, idx"),
        ("request_attachments", "SELECT node || '#' || id || ' ' || sha256 || ' ' || name AS line FROM request_attachments ORDER BY node, id, sha256"),
    ];
    for (table, sql) in tables {
        for line in sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await? {
            out.push(format!("{table} {line}"));
        }
    }
    Ok(())
}

async fn clear_request_projections(tx: &mut Tx) -> Result<(), StoreError> {
    for table in ["requests", "request_steps", "request_attachments"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut **tx).await?;
    }
    Ok(())
}
