// The audit's cached current findings (included after `audit_queries.rs`, in the same module):
// read the entries that arrived since the checkpoint, map their ops to the partitions they touch
// (`audit::touched`), re-evaluate only those and move the checkpoint, in one transaction; and
// answer today's audit from the cache. A full recomputation gives the same answer (tested in
// `tests/audit.rs` and the domain's partition property test). `audit_forget` empties the cache.

/// Past this many touched partitions a refresh recomputes everything.
const REFRESH_LIMIT: usize = 20_000;

/// Brings the cached findings up to date with the entries held: reads the entries that arrived
/// since the last refresh, recomputes only the partitions their ops touch (everything when an
/// op changes the nodes, the calendar or the catalogue), and moves the checkpoint, in one
/// transaction.
pub(crate) async fn audit_refresh(pool: &Pool<Db>, extra: &[NodeFact]) -> Result<RefreshStats, StoreError> {
    let checkpoint: i64 =
        sqlx::query_scalar("SELECT local_id FROM audit_checkpoint WHERE id = 1").fetch_optional(pool).await?.unwrap_or(0);
    let last: i64 = sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(local_id) FROM entries").fetch_one(pool).await?.unwrap_or(0);
    if last <= checkpoint {
        return Ok(RefreshStats { entries: 0, partitions: 0, full: false });
    }
    let mut touches: BTreeSet<Touch> = BTreeSet::new();
    let mut entries = 0u64;
    let mut full = checkpoint == 0;
    let mut after = checkpoint;
    while !full && after < last {
        let rows = sqlx::query("SELECT local_id, body FROM entries WHERE local_id > $1 AND local_id <= $2 ORDER BY local_id LIMIT 500")
            .bind(after)
            .bind(last)
            .fetch_all(pool)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            after = r.try_get("local_id")?;
            entries += 1;
            let body: Vec<u8> = r.try_get("body")?;
            let body: quanze_ledger::EntryBody =
                serde_json::from_slice(&body).map_err(|e| StoreError::Corrupt(format!("entry body: {e}")))?;
            for op in &body.op {
                touches.extend(touched(&body.origin, op));
            }
        }
        full = touches.contains(&Touch::All) || touches.len() > REFRESH_LIMIT;
    }
    let far = far_day();
    let all = audit_nodes(pool, far, extra).await?;
    let calendar = calendar(pool).await?;
    let everyone = |_: &DivisionCode| true;
    let (slice, parts) = if full {
        (Slice::default(), None)
    } else {
        let mut slice = Slice { codes: Some(BTreeSet::new()), nodes: Some(BTreeSet::new()), seals: Some(BTreeSet::new()) };
        expand_touches(pool, &touches, &mut slice).await?;
        let mut parts: BTreeSet<String> = BTreeSet::new();
        parts.extend(slice.codes.iter().flatten().map(|c| quanze_domain::audit::code_partition(c)));
        parts.extend(slice.nodes.iter().flatten().map(|n| format!("node:{n}")));
        parts.extend(slice.seals.iter().flatten().map(|s| quanze_domain::audit::seal_partition(s)));
        (slice, Some(parts))
    };
    let input = load_input(pool, far, all, &everyone, &everyone, &slice).await?;
    let mut evaluation = quanze_domain::audit::evaluate(&input, &calendar, None)
        .map_err(|e| StoreError::Corrupt(format!("audit calendar: {e}")))?;
    // Millions of strings when everything is recomputed: freed beside the writes below, and
    // awaited before returning so the caller can hand the freed memory back to the system.
    let freeing = tokio::task::spawn_blocking(move || drop(input));
    if let Some(parts) = &parts {
        evaluation.findings.retain(|f| parts.contains(&partition_of(f)));
        evaluation.units.checked.retain(|(p, _), _| parts.contains(p));
    }
    let mut tx = begin_write(pool).await?;
    match &parts {
        None => {
            sqlx::query("DELETE FROM audit_findings").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM audit_units").execute(&mut *tx).await?;
        }
        Some(parts) => {
            for p in parts {
                sqlx::query("DELETE FROM audit_findings WHERE part = $1").bind(p).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM audit_units WHERE part = $1").bind(p).execute(&mut *tx).await?;
            }
        }
    }
    let mut next: HashMap<String, i64> = HashMap::new();
    for f in &evaluation.findings {
        let part = partition_of(f);
        let idx = next.entry(part.clone()).or_insert(0);
        sqlx::query("INSERT INTO audit_findings (part, idx, node, rule, from_day, data) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&part)
            .bind(*idx)
            .bind(f.node.as_str())
            .bind(f.rule.id())
            .bind(f.from.to_string())
            .bind(json_text(f)?)
            .execute(&mut *tx)
            .await?;
        *idx += 1;
    }
    for ((part, node), units) in &evaluation.units.checked {
        sqlx::query("INSERT INTO audit_units (part, node, units) VALUES ($1, $2, $3)")
            .bind(part)
            .bind(node.as_str())
            .bind(to_i64(*units))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO audit_checkpoint (id, local_id) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET local_id = excluded.local_id")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // A panic while dropping would only leak; the refresh itself is committed.
    let _ = freeing.await;
    let partitions = parts.as_ref().map_or(0, |p| p.len() as u64);
    Ok(RefreshStats { entries, partitions, full })
}

/// Empties the cached findings and their checkpoint: the next refresh recomputes everything.
pub(crate) async fn audit_forget(pool: &Pool<Db>) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    for table in ["audit_findings", "audit_units", "audit_checkpoint"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Expands grant touches into their codes and the seals whose scope names them, and sorts the
/// rest into the slice.
async fn expand_touches(pool: &Pool<Db>, touches: &BTreeSet<Touch>, slice: &mut Slice) -> Result<(), StoreError> {
    let (codes, nodes, seals) = (slice.codes.get_or_insert_default(), slice.nodes.get_or_insert_default(), slice.seals.get_or_insert_default());
    let mut batches: BTreeSet<&str> = BTreeSet::new();
    for t in touches {
        match t {
            Touch::All => {}
            Touch::Code(c) => {
                codes.insert(c.clone());
            }
            Touch::Node(n) => {
                nodes.insert(n.to_string());
            }
            Touch::Seal(s) => {
                seals.insert(s.clone());
            }
            Touch::Grant(b) => {
                batches.insert(b);
            }
        }
    }
    if batches.is_empty() {
        return Ok(());
    }
    for b in &batches {
        let Some((origin, seq)) = b.split_once('#') else { continue };
        let seq: i64 = seq.parse().unwrap_or(0);
        let rows: Vec<String> = sqlx::query_scalar("SELECT code FROM grant_items WHERE grantor = $1 AND seq = $2")
            .bind(origin)
            .bind(seq)
            .fetch_all(pool)
            .await?;
        codes.extend(rows);
    }
    for r in sqlx::query("SELECT data FROM seals").fetch_all(pool).await? {
        let s: SealStatus = from_json("seal", &r.try_get::<String, _>("data")?)?;
        if s.seal.scope.iter().any(|g| batches.contains(format!("{}#{}", g.origin, g.seq).as_str())) {
            seals.insert(format!("{}/{}", s.grantor, s.seal.id));
        }
    }
    Ok(())
}

/// The cached findings that hold on `today` for the nodes `in_scope` selects, with the units
/// checked: what a full audit as of today returns, without recomputing it.
pub(crate) async fn audit_cached(
    pool: &Pool<Db>,
    in_scope: &(dyn Fn(&DivisionCode) -> bool + Sync),
    today: chrono::NaiveDate,
) -> Result<Evaluation, StoreError> {
    let mut out = Evaluation::default();
    let rows = sqlx::query("SELECT node, data FROM audit_findings WHERE from_day <= $1").bind(today.to_string()).fetch_all(pool).await?;
    for r in rows {
        let node = division(&r.try_get::<String, _>("node")?)?;
        if in_scope(&node) {
            out.findings.push(from_json("audit finding", &r.try_get::<String, _>("data")?)?);
        }
    }
    out.findings.sort_by(|a, b| (&a.node, a.rule, &a.subject).cmp(&(&b.node, b.rule, &b.subject)));
    let held = sqlx::query("SELECT node, COUNT(*) AS n FROM items WHERE status IN ('active', 'granted') GROUP BY node")
        .fetch_all(pool)
        .await?;
    for r in held {
        let node = division(&r.try_get::<String, _>("node")?)?;
        if in_scope(&node) {
            out.units.held.insert(node, to_u64(r.try_get("n")?));
        }
    }
    for r in sqlx::query("SELECT part, node, units FROM audit_units").fetch_all(pool).await? {
        let node = division(&r.try_get::<String, _>("node")?)?;
        if in_scope(&node) {
            out.units.checked.insert((r.try_get("part")?, node), to_u64(r.try_get("units")?));
        }
    }
    Ok(out)
}
