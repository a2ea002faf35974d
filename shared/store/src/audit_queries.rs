// Audit SQL, shared by both backends like `queries.rs` (included after it, in the same module):
// the item versions written with every item row and the facts of an audit as of a day
// (`audit_input`). The cache of current findings is `audit_cache_queries.rs`. The rules are the
// domain's (`quanze_domain::audit`); this file only reconstructs what they read.

use quanze_domain::audit::{
    AuditInput, ClosingFact, DeviationFact, EntryRef as AuditRef, Evaluation, Expected, FilingFact, Finding, Gaps, GrantFact,
    ItemFact, NodeFact, PublicationFact, RequirementFact, Scope, SealFact, Touch, basis_fingerprint, basis_text,
    is_local_basis, partition_of, touched,
};
use futures_util::TryStreamExt;
use quanze_domain::Category;

use crate::types::RefreshStats;

/// The day that stands for "no limit" in an as-of filter (compared as text, so not NaiveDate::MAX).
fn far_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(chrono::NaiveDate::MAX)
}

/// Records the version of an item that `entry` wrote into `node`'s list.
async fn record_version(tx: &mut Tx, node: &str, item: &PowerItem, entry: &VerifiedEntry, grant_ref: Option<&str>) -> Result<(), StoreError> {
    let day = entry_day(entry)?;
    sqlx::query(
        "INSERT INTO item_versions (node, code, seq, day, name, category, status, basis_fp, basis, local_basis, gaps, grant_ref) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (node, code, seq) DO UPDATE SET day = excluded.day, name = excluded.name, category = excluded.category, \
         status = excluded.status, basis_fp = excluded.basis_fp, basis = excluded.basis, local_basis = excluded.local_basis, \
         gaps = excluded.gaps, grant_ref = excluded.grant_ref",
    )
    .bind(node)
    .bind(item.code.as_str())
    .bind(to_i64(entry.seq()))
    .bind(day.to_string())
    .bind(version_text(&item.name))
    .bind(item.category.key())
    .bind(item.status.key())
    .bind(basis_fingerprint(&item.basis))
    .bind(version_text(&basis_text(&item.basis)))
    .bind(i64::from(is_local_basis(&item.basis)))
    .bind(i64::from(Gaps::of(item).0))
    .bind(grant_ref)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn clear_audit_projections(tx: &mut Tx) -> Result<(), StoreError> {
    for table in ["item_versions", "audit_findings", "audit_units", "audit_checkpoint"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The item versions, for comparing a rebuilt state with the incremental one (the cached
/// findings are not compared: they depend on when the last refresh ran).
async fn audit_snapshot(pool: &Pool<Db>, out: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT node, code, seq, day, name, category, status, basis_fp, local_basis, gaps, grant_ref FROM item_versions \
         ORDER BY node, code, seq",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let grant: Option<String> = r.try_get("grant_ref")?;
        out.push(format!(
            "version {} {} {} {} {} {} {} {} {} {} {}",
            r.try_get::<String, _>("node")?,
            r.try_get::<String, _>("code")?,
            r.try_get::<i64, _>("seq")?,
            r.try_get::<String, _>("day")?,
            r.try_get::<String, _>("name")?,
            r.try_get::<String, _>("category")?,
            r.try_get::<String, _>("status")?,
            r.try_get::<i64, _>("basis_fp")?,
            r.try_get::<i64, _>("local_basis")?,
            r.try_get::<i64, _>("gaps")?,
            grant.unwrap_or_default()
        ));
    }
    Ok(())
}

/// What part of the facts to load: everything, or only some partitions (the refresher's case).
#[derive(Default)]
struct Slice {
    codes: Option<BTreeSet<String>>,
    nodes: Option<BTreeSet<String>>,
    seals: Option<BTreeSet<String>>,
}

impl Slice {
    fn code(&self, c: &str) -> bool {
        self.codes.as_ref().is_none_or(|s| s.contains(c))
    }
    fn node(&self, n: &str) -> bool {
        self.nodes.as_ref().is_none_or(|s| s.contains(n))
    }
    fn seal(&self, s: &str) -> bool {
        self.seals.as_ref().is_none_or(|set| set.contains(s))
    }
}

fn day_of(at: &str) -> Result<chrono::NaiveDate, StoreError> {
    quanze_domain::recon::china_day(at).ok_or_else(|| StoreError::Corrupt(format!("bad entry time {at}")))
}

fn parse_day(text: &str) -> Result<chrono::NaiveDate, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("bad day {text}")))
}

fn division(text: &str) -> Result<DivisionCode, StoreError> {
    DivisionCode::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Nodes known on `as_of`: the trust root, every division enrolled by an entry of that day or
/// before, and `extra` (the node itself, with its configured name).
pub(crate) async fn audit_nodes(pool: &Pool<Db>, as_of: chrono::NaiveDate, extra: &[NodeFact]) -> Result<Vec<NodeFact>, StoreError> {
    let mut nodes: BTreeMap<String, NodeFact> = BTreeMap::new();
    for n in extra {
        nodes.insert(n.division.to_string(), n.clone());
    }
    let root: Option<String> = sqlx::query_scalar("SELECT division FROM trust_root").fetch_optional(pool).await?;
    if let Some(r) = root {
        nodes.entry(r.clone()).or_insert(NodeFact { division: division(&r)?, name: r.clone() });
    }
    let rows = sqlx::query(
        "SELECT n.division, n.name, e.at FROM enrolments n JOIN entries e ON e.origin = n.by_origin AND e.seq = n.by_seq \
         ORDER BY n.division, n.valid_from",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let (div, name, at): (String, String, String) = (r.try_get("division")?, r.try_get("name")?, r.try_get("at")?);
        if day_of(&at)? > as_of {
            continue;
        }
        let fact = NodeFact { division: division(&div)?, name };
        nodes.insert(div, fact);
    }
    Ok(nodes.into_values().collect())
}

/// The grant facts of `as_of`, with every revocation that was recorded by then (keyed by batch
/// `origin#seq` and code, `None` for the whole batch).
struct GrantFacts {
    grants: Vec<GrantFact>,
    revoked: HashMap<(String, Option<String>), (chrono::NaiveDate, AuditRef)>,
}

/// Grant steps recorded by entries of `as_of` or before: (subject, action) → (declared day,
/// entry) of each.
async fn grant_steps(pool: &Pool<Db>, as_of: chrono::NaiveDate) -> Result<Vec<(String, String, chrono::NaiveDate, AuditRef)>, StoreError> {
    let rows = sqlx::query("SELECT origin, seq, subject, action, day, at FROM grant_events ORDER BY origin, seq, idx")
        .fetch_all(pool)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let at: String = r.try_get("at")?;
        if day_of(&at)? > as_of {
            continue;
        }
        let origin: String = r.try_get("origin")?;
        out.push((
            r.try_get("subject")?,
            r.try_get("action")?,
            parse_day(&r.try_get::<String, _>("day")?)?,
            AuditRef::new(origin, to_u64(r.try_get("seq")?)),
        ));
    }
    Ok(out)
}

async fn grant_facts(
    pool: &Pool<Db>,
    as_of: chrono::NaiveDate,
    steps: &[(String, String, chrono::NaiveDate, AuditRef)],
) -> Result<GrantFacts, StoreError> {
    let revoke_entry = |batch: &str, day: chrono::NaiveDate| {
        let subject = format!("grant:{batch}");
        steps.iter().find(|(s, a, d, _)| s == &subject && a == "grant.revoke" && *d == day).map(|(_, _, _, e)| e.clone())
    };
    let mut items: HashMap<String, Vec<GrantedItem>> = HashMap::new();
    for r in sqlx::query("SELECT grantor, seq, data FROM grant_items ORDER BY grantor, seq, code").fetch_all(pool).await? {
        let key = format!("{}#{}", r.try_get::<String, _>("grantor")?, r.try_get::<i64, _>("seq")?);
        items.entry(key).or_default().push(from_json("granted item", &r.try_get::<String, _>("data")?)?);
    }
    let mut out = GrantFacts { grants: Vec::new(), revoked: HashMap::new() };
    for r in sqlx::query("SELECT grantor, seq, data, at FROM grants ORDER BY grantor, seq").fetch_all(pool).await? {
        if day_of(&r.try_get::<String, _>("at")?)? > as_of {
            continue;
        }
        let grantor: String = r.try_get("grantor")?;
        let seq = to_u64(r.try_get("seq")?);
        let header: GrantHeader = from_json("grant", &r.try_get::<String, _>("data")?)?;
        let batch = format!("{grantor}#{seq}");
        if let Some(day) = header.revoked_on
            && let Some(e) = revoke_entry(&batch, day)
        {
            out.revoked.insert((batch.clone(), None), (day, e));
        }
        let mut codes = Vec::new();
        for g in items.get(&batch).map(Vec::as_slice).unwrap_or_default() {
            let own = g.revoked_on.and_then(|d| revoke_entry(&batch, d).map(|e| (d, e)));
            let whole = out.revoked.get(&(batch.clone(), None)).cloned();
            let revoked = own.or(whole);
            if let Some(r) = &revoked {
                out.revoked.insert((batch.clone(), Some(g.code.clone())), r.clone());
            }
            codes.push((g.code.clone(), revoked.map(|(d, _)| d)));
        }
        out.grants.push(GrantFact {
            grant_ref: batch,
            doc_no: header.doc_no.clone(),
            grantor: division(&grantor)?,
            grantee: header.grantee.clone(),
            handover_due: header.handover_due,
            items: codes,
            evidence: AuditRef::new(grantor, seq),
        });
    }
    Ok(out)
}

/// Separates the fields of one version in `item_facts`' aggregate (never inside stored text:
/// `record_version` removes it from names and bases).
const FIELD: char = '\u{1f}';
/// Separates versions in `item_facts`' aggregate.
const RECORD: char = '\u{1e}';

/// Text as stored in a version row: without the aggregate's separators.
fn version_text(text: &str) -> String {
    text.chars().filter(|c| *c != FIELD && *c != RECORD).collect()
}

/// The latest version of each item on `as_of` (by the node's seq), restricted to `wanted`
/// nodes and the slice's codes, with granted items revoked by then shown cancelled, sorted by
/// (node, code). The versions come one row per node, aggregated by the database (`string_agg`,
/// in SQLite and PostgreSQL alike): a province holds millions of versions, and a row per version
/// costs more in the driver than the rules cost in all. The database already orders the rows by
/// node and each row's versions by code and seq; the sorts here only check that in one pass
/// (another collation than the bytes' order would make them sort for real). No aggregate has its
/// own ORDER BY (PostgreSQL 15 sorts every group again for it, a second over a province): SQLite
/// groups the rows in the order of the table's key (node, code, seq), PostgreSQL aggregates rows
/// sorted once in a subquery (`AGGREGATE_FROM_SORTED_ROWS`). Neither order is promised by SQL;
/// the check above covers it.
async fn item_facts(
    pool: &Pool<Db>,
    as_of: chrono::NaiveDate,
    slice: &Slice,
    wanted: &(dyn Fn(&str) -> bool + Sync),
    grants: &GrantFacts,
) -> Result<Vec<ItemFact>, StoreError> {
    // One call, one string per version (`a || b || …` made a new string at every operator:
    // 3 s more over a province on SQLite).
    const RECORD_TEXT: &str = "concat_ws($2, code, seq, day, name, category, status, basis_fp, basis, local_basis, gaps, \
         COALESCE(grant_ref, ''))";
    let corrupt = |what: &str| StoreError::Corrupt(format!("item version: {what}"));
    let mut out: Vec<ItemFact> = Vec::new();
    let codes: Vec<Option<Vec<String>>> = match &slice.codes {
        None => vec![None],
        Some(set) => set.iter().cloned().collect::<Vec<_>>().chunks(500).map(|c| Some(c.to_vec())).collect(),
    };
    for chunk in codes {
        let in_codes = chunk.as_ref().map_or(String::new(), |list| {
            let marks: Vec<String> = (0..list.len()).map(|i| format!("${}", i + 4)).collect();
            format!(" AND code IN ({})", marks.join(", "))
        });
        let sql = if AGGREGATE_FROM_SORTED_ROWS {
            format!(
                "SELECT node, string_agg({RECORD_TEXT}, $3) AS versions FROM (SELECT * FROM item_versions \
                 WHERE day <= $1{in_codes} ORDER BY node, code, seq) v GROUP BY node ORDER BY node"
            )
        } else {
            format!(
                "SELECT node, string_agg({RECORD_TEXT}, $3) AS versions FROM item_versions \
                 WHERE day <= $1{in_codes} GROUP BY node ORDER BY node"
            )
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(as_of.to_string()).bind(FIELD.to_string()).bind(RECORD.to_string());
        for c in chunk.iter().flatten() {
            query = query.bind(c.clone());
        }
        let mut rows = query.fetch(pool);
        while let Some(r) = rows.try_next().await? {
            let node: &str = r.try_get("node")?;
            if !wanted(node) {
                continue;
            }
            let division = division(node)?;
            let versions: &str = r.try_get("versions")?;
            // (code, seq, fields) of every version, then the last of each code.
            let mut all: Vec<(&str, u64, [&str; 11])> = Vec::new();
            for record in versions.split(RECORD) {
                let mut fields = [""; 11];
                let mut n = 0;
                for f in record.split(FIELD) {
                    if n < 11 {
                        fields[n] = f;
                    }
                    n += 1;
                }
                if n != 11 {
                    return Err(corrupt(&format!("{n} fields in {record:?}")));
                }
                let seq: u64 = fields[1].parse().map_err(|_| corrupt("seq"))?;
                all.push((fields[0], seq, fields));
            }
            all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            for (k, &(code, seq, f)) in all.iter().enumerate() {
                if all.get(k + 1).is_some_and(|next| next.0 == code) {
                    continue;
                }
                let category = Category::ALL.into_iter().find(|c| c.key() == f[4]).ok_or_else(|| corrupt(f[4]))?;
                out.push(ItemFact {
                    node: division.clone(),
                    code: code.to_string(),
                    name: f[3].to_string(),
                    category,
                    status: ItemStatus::parse(f[5]).ok_or_else(|| corrupt(f[5]))?,
                    basis_fp: f[6].parse().map_err(|_| corrupt("basis_fp"))?,
                    basis: f[7].to_string(),
                    local_basis: f[8] != "0",
                    gaps: Gaps(f[9].parse().map_err(|_| corrupt("gaps"))?),
                    grant: (!f[10].is_empty()).then(|| f[10].to_string()),
                    since: parse_day(f[2])?,
                    evidence: AuditRef::new(node, seq),
                });
            }
        }
    }
    for f in out.iter_mut().filter(|f| f.status == ItemStatus::Granted) {
        let Some(batch) = &f.grant else { continue };
        if let Some((day, e)) = grants.revoked.get(&(batch.clone(), Some(f.code.clone()))) {
            f.status = ItemStatus::Cancelled;
            f.since = f.since.max(*day);
            f.evidence = e.clone();
        }
    }
    // In order unless the codes came in chunks (or the collation orders otherwise): linear then.
    out.sort_by(|a, b| (&a.node, &a.code).cmp(&(&b.node, &b.code)));
    Ok(out)
}

/// The facts of an audit of the nodes `in_scope` selects, as of `as_of` (entries of that day or
/// before), restricted to `slice`. `all_nodes` are the nodes known that day.
async fn load_input(
    pool: &Pool<Db>,
    as_of: chrono::NaiveDate,
    all_nodes: Vec<NodeFact>,
    in_scope: &(dyn Fn(&DivisionCode) -> bool + Sync),
    needed: &(dyn Fn(&DivisionCode) -> bool + Sync),
    slice: &Slice,
) -> Result<AuditInput, StoreError> {
    let mut input = AuditInput::default();
    let nodes: Vec<NodeFact> = all_nodes.into_iter().filter(|n| needed(&n.division)).collect();
    input.scope = nodes.iter().filter(|n| in_scope(&n.division)).map(|n| n.division.clone()).collect();
    let known: HashSet<String> = nodes.iter().map(|n| n.division.to_string()).collect();
    input.nodes = nodes;

    // Publications and their requirements.
    let mut pub_index: HashMap<(String, u64), usize> = HashMap::new();
    let rows = sqlx::query(
        "SELECT origin, seq, doc_no, published, tiers, window_days, window_unit, requirements, at FROM publications ORDER BY origin, seq",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let at: String = r.try_get("at")?;
        let day = day_of(&at)?;
        if day > as_of {
            continue;
        }
        let origin: String = r.try_get("origin")?;
        let seq = to_u64(r.try_get("seq")?);
        let unit: String = r.try_get("window_unit")?;
        let window = Window {
            days: u32::try_from(r.try_get::<i64, _>("window_days")?).unwrap_or(0),
            unit: unit.parse().map_err(|_| StoreError::Corrupt(format!("window unit {unit}")))?,
        };
        let index = input.publications.len();
        pub_index.insert((origin.clone(), seq), index);
        input.publications.push(PublicationFact {
            evidence: AuditRef::new(origin, seq),
            doc_no: r.try_get("doc_no")?,
            published: parse_day(&r.try_get::<String, _>("published")?)?,
            tiers: parse_tiers(&r.try_get::<String, _>("tiers")?)?,
            window,
            day,
        });
        let reqs: Vec<Requirement> = from_json("requirements", &r.try_get::<String, _>("requirements")?)?;
        for req in reqs.into_iter().filter(|q| slice.code(&q.code)) {
            let expect = match req.expect {
                quanze_domain::Expect::Present { item } => Expected::Present {
                    name: item.name.clone(),
                    category: item.category,
                    basis_fp: basis_fingerprint(&item.basis),
                    basis: basis_text(&item.basis),
                },
                quanze_domain::Expect::Absent { reason, .. } => Expected::Absent { reason },
            };
            input.requirements.push(RequirementFact { publication: index, code: req.code, tiers: req.tiers, expect });
        }
    }

    // Deviations, whole-task resolutions and closings.
    let rows = sqlx::query("SELECT node, pub_origin, pub_seq, code, resolution, seq, at FROM recon_codes \
         WHERE resolution IN ('deviated', 'not_applicable') ORDER BY node, pub_origin, pub_seq, code")
        .fetch_all(pool)
        .await?;
    for r in rows {
        let (node, code, resolution): (String, String, String) = (r.try_get("node")?, r.try_get("code")?, r.try_get("resolution")?);
        let resolution = match resolution.as_str() {
            "deviated" => Resolution::Deviated,
            "not_applicable" => Resolution::NotApplicable,
            _ => continue,
        };
        if !known.contains(&node) || !slice.code(&code) || day_of(&r.try_get::<String, _>("at")?)? > as_of {
            continue;
        }
        input.deviations.push(DeviationFact {
            node: division(&node)?,
            publication: AuditRef::new(r.try_get::<String, _>("pub_origin")?, to_u64(r.try_get("pub_seq")?)),
            code: Some(code),
            resolution,
            evidence: AuditRef::new(node, to_u64(r.try_get("seq")?)),
        });
    }
    let rows = sqlx::query(
        "SELECT node, pub_origin, pub_seq, status, closed_seq, closed_at FROM recon_tasks WHERE closed_seq IS NOT NULL \
         ORDER BY node, pub_origin, pub_seq",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let node: String = r.try_get("node")?;
        let Some(at) = r.try_get::<Option<String>, _>("closed_at")? else { continue };
        let day = day_of(&at)?;
        if !known.contains(&node) || day > as_of {
            continue;
        }
        let pub_ref = (r.try_get::<String, _>("pub_origin")?, to_u64(r.try_get("pub_seq")?));
        let Some(&index) = pub_index.get(&pub_ref) else { continue };
        let evidence = AuditRef::new(node.clone(), to_u64(r.try_get::<Option<i64>, _>("closed_seq")?.unwrap_or(0)));
        if r.try_get::<String, _>("status")? == "not_applicable" {
            input.deviations.push(DeviationFact {
                node: division(&node)?,
                publication: AuditRef::new(pub_ref.0.clone(), pub_ref.1),
                code: None,
                resolution: Resolution::NotApplicable,
                evidence: evidence.clone(),
            });
        }
        if slice.node(&node) {
            input.closings.push(ClosingFact { node: division(&node)?, publication: index, day, evidence });
        }
    }

    // Filings.
    let rows = sqlx::query(
        "SELECT f.node, f.seq, f.department, f.trigger_date, f.filed_on, f.request_window, f.summary, e.at FROM filings f \
         JOIN entries e ON e.origin = f.node AND e.seq = f.seq ORDER BY f.node, f.seq, f.idx",
    )
    .fetch_all(pool)
    .await?;
    for r in rows {
        let node: String = r.try_get("node")?;
        if !known.contains(&node) || !slice.node(&node) || day_of(&r.try_get::<String, _>("at")?)? > as_of {
            continue;
        }
        input.filings.push(FilingFact {
            node: division(&node)?,
            department: r.try_get("department")?,
            trigger_date: parse_day(&r.try_get::<String, _>("trigger_date")?)?,
            filed_on: parse_day(&r.try_get::<String, _>("filed_on")?)?,
            window: from_json("filing window", &r.try_get::<String, _>("request_window")?)?,
            summary: r.try_get("summary")?,
            evidence: AuditRef::new(node, to_u64(r.try_get("seq")?)),
        });
    }

    // Grants, seals and the items themselves.
    let steps = grant_steps(pool, as_of).await?;
    let grants = grant_facts(pool, as_of, &steps).await?;
    for r in sqlx::query("SELECT grantor, data FROM seals ORDER BY grantor, id").fetch_all(pool).await? {
        let s: SealStatus = from_json("seal", &r.try_get::<String, _>("data")?)?;
        let subject = format!("{}/{}", s.grantor, s.seal.id);
        let key = format!("seal:{subject}");
        let step = |actions: &[&str], day: Option<chrono::NaiveDate>| {
            let day = day?;
            steps.iter().find(|(sub, a, d, _)| sub == &key && actions.contains(&a.as_str()) && *d == day).map(|(_, _, d, e)| (*d, e.clone()))
        };
        let carved = steps.iter().find(|(sub, a, _, _)| sub == &key && (a == "seal.carve" || a == "seal.replace"));
        if !known.contains(s.seal.holder.as_str()) || !slice.seal(&subject) || carved.is_none() {
            continue;
        }
        let scope = s
            .seal
            .scope
            .iter()
            .map(|b| {
                let batch = format!("{}#{}", b.origin, b.seq);
                let revoked = grants.revoked.get(&(batch.clone(), None)).cloned();
                (batch, revoked)
            })
            .collect();
        input.seals.push(SealFact {
            grantor: s.grantor.clone(),
            id: s.seal.id.clone(),
            name: s.seal.name.clone(),
            holder: s.seal.holder.clone(),
            activated: step(&["seal.activate"], s.activated_on),
            recalled: step(&["seal.recall", "seal.replace"], s.recalled_on),
            scope,
            evidence: carved.map(|(_, _, _, e)| e.clone()).unwrap_or_else(|| AuditRef::new(s.grantor.to_string(), 0)),
        });
    }
    let wanted = |n: &str| known.contains(n);
    input.items = item_facts(pool, as_of, slice, &wanted, &grants).await?;
    input.grants = grants.grants.into_iter().filter(|g| known.contains(g.grantee.as_str())).collect();
    Ok(input)
}

/// The facts of an audit of `scope` as of `as_of`: the nodes in scope, and the peers of those
/// nodes (the 同级 rule compares a node with its peers even outside the scope).
pub(crate) async fn audit_input(pool: &Pool<Db>, scope: &Scope, as_of: chrono::NaiveDate, extra: &[NodeFact]) -> Result<AuditInput, StoreError> {
    let all = audit_nodes(pool, as_of, extra).await?;
    // Peers share a parent and a tier with a node in scope.
    let groups: HashSet<(Option<DivisionCode>, Tier)> =
        all.iter().filter(|n| scope.contains(&n.division)).map(|n| (n.division.parent(), n.division.tier())).collect();
    let contains = |d: &DivisionCode| scope.contains(d);
    let needed = |d: &DivisionCode| scope.contains(d) || groups.contains(&(d.parent(), d.tier()));
    load_input(pool, as_of, all, &contains, &needed, &Slice::default()).await
}

/// Fills in the hash of every evidence entry, reading them in batches of 500 (origin, seq) pairs:
/// a province's findings cite entries of thousands of logs, and a query per log is a round trip
/// per log.
pub(crate) async fn fill_evidence_hashes(pool: &Pool<Db>, findings: &mut [Finding]) -> Result<(), StoreError> {
    let wanted: BTreeSet<(&str, u64)> = findings.iter().flat_map(|f| &f.evidence).map(|e| (e.origin.as_str(), e.seq)).collect();
    let wanted: Vec<(&str, u64)> = wanted.into_iter().collect();
    let mut hashes: HashMap<(String, u64), String> = HashMap::new();
    for chunk in wanted.chunks(500) {
        let mut qb = QueryBuilder::<Db>::new("SELECT origin, seq, hash FROM entries WHERE (origin, seq) IN (VALUES ");
        let mut sep = qb.separated(", ");
        for (origin, seq) in chunk {
            sep.push("(").push_bind_unseparated(origin.to_string()).push_unseparated(", ");
            sep.push_bind_unseparated(to_i64(*seq)).push_unseparated(")");
        }
        qb.push(")");
        for r in qb.build().fetch_all(pool).await? {
            let hash: Vec<u8> = r.try_get("hash")?;
            let hash = Hash::from_slice(&hash).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            hashes.insert((r.try_get("origin")?, to_u64(r.try_get("seq")?)), hash.to_string());
        }
    }
    for f in findings.iter_mut() {
        for e in f.evidence.iter_mut() {
            if let Some(h) = hashes.get(&(e.origin.clone(), e.seq)) {
                e.hash = h.clone();
            }
        }
    }
    Ok(())
}
