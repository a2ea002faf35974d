// Projections of the calendar, catalogue publications, reconciliation tasks, policies and
// adjustment filings, and their reads. Included by `sqlite.rs` and `postgres.rs` after
// `queries.rs` (same `Db`, `Tx`, helpers). The rules are the domain's (`catalogue::plan`,
// `recon::check`, `Filing::validate`); this file only loads, calls and writes.

use std::collections::{BTreeMap, HashSet};

use quanze_domain::calendar::{Calendar, HolidayYear, Window};
use quanze_domain::catalogue::{CatalogueItem, PubRef, Publication, plan};
use quanze_domain::recon::{Progress, Resolution, requirements_for};
use quanze_domain::{AuthorityError, Filing, ReconError, Requirement, Tier};

use crate::types::{CatalogueRow, FilingRow, PublicationRow, TaskCodeRow, TaskRow};

fn rule_error(entry: &VerifiedEntry, index: usize, error: impl Into<RuleError>) -> StoreError {
    StoreError::Rule { origin: entry.origin().to_string(), seq: entry.seq(), index, error: error.into() }
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn tiers_text(tiers: &[Tier]) -> String {
    tiers.iter().map(|t| t.key()).collect::<Vec<_>>().join(",")
}

fn parse_tiers(text: &str) -> Result<Vec<Tier>, StoreError> {
    text.split(',').filter(|t| !t.is_empty()).map(|t| t.parse().map_err(|_| StoreError::Corrupt(format!("tier {t}")))).collect()
}

async fn calendar_in(conn: &mut Conn) -> Result<Calendar, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM calendar_years ORDER BY year").fetch_all(&mut *conn).await?;
    let years = rows.iter().map(|d| from_json::<HolidayYear>("calendar year", d)).collect::<Result<Vec<_>, _>>()?;
    Calendar::new(years).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `calendar.year`: only the root of trust publishes the calendar.
async fn apply_calendar_year(tx: &mut Tx, entry: &VerifiedEntry, index: usize, year: &HolidayYear) -> Result<(), StoreError> {
    let root: Option<String> = sqlx::query_scalar("SELECT division FROM trust_root").fetch_optional(&mut **tx).await?;
    if root.as_deref() != Some(entry.origin().as_str()) {
        let root = root.and_then(|r| DivisionCode::parse(&r).ok()).unwrap_or_else(|| entry.origin().clone());
        return Err(StoreError::Authority {
            origin: entry.origin().to_string(),
            seq: entry.seq(),
            index,
            error: AuthorityError::NotRoot { origin: entry.origin().clone(), root },
        });
    }
    // Checked with the years already held: a year that contradicts a neighbouring notice (a day
    // off in one, worked in the other) would leave no consistent calendar.
    calendar_in(tx).await?.insert(year.clone()).map_err(|e| rule_error(entry, index, e))?;
    sqlx::query(
        "INSERT INTO calendar_years (year, data, origin, seq) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (year) DO UPDATE SET data = excluded.data, origin = excluded.origin, seq = excluded.seq",
    )
    .bind(year.year)
    .bind(json_text(year)?)
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Catalogue items of `publisher` with the given codes, active or not.
async fn catalogue_items_in(tx: &mut Tx, publisher: &str, codes: &[&str]) -> Result<HashMap<String, CatalogueItem>, StoreError> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        let mut qb = QueryBuilder::<Db>::new("SELECT code, tiers, data FROM catalogue WHERE publisher = ");
        qb.push_bind(publisher.to_string()).push(" AND code IN (");
        let mut list = qb.separated(", ");
        for code in chunk {
            list.push_bind(code.to_string());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut **tx).await? {
            let item: PowerItem = from_json("catalogue item", &r.try_get::<String, _>("data")?)?;
            let tiers = parse_tiers(&r.try_get::<String, _>("tiers")?)?;
            out.insert(r.try_get("code")?, CatalogueItem { item, tiers });
        }
    }
    Ok(out)
}

/// `catalogue.publish`: plans the publication against the publisher's catalogue, stores it with
/// its requirements and the new catalogue states. The window must fall in published years.
async fn apply_publication(tx: &mut Tx, entry: &VerifiedEntry, index: usize, p: &Publication) -> Result<(), StoreError> {
    let publisher = entry.origin().as_str();
    let mut codes: Vec<&str> = Vec::new();
    for change in &p.changes {
        use quanze_domain::CatalogueChange as C;
        match change {
            C::Add { item, .. } => codes.push(&item.code),
            C::Cancel { code, .. } | C::Delegate { code, .. } | C::Adjust { code, .. } => codes.push(code),
            C::Merge { codes: merged, into, .. } => {
                codes.extend(merged.iter().map(String::as_str));
                codes.push(&into.code);
            }
            C::Split { code, into, .. } => {
                codes.push(code);
                codes.extend(into.iter().map(|i| i.code.as_str()));
            }
        }
    }
    let known = catalogue_items_in(tx, publisher, &codes).await?;
    let planned = plan(p, |code| known.get(code).cloned()).map_err(|e| rule_error(entry, index, e))?;
    calendar_in(tx).await?.due_date(p.published, p.window).map_err(|e| rule_error(entry, index, e))?;
    sqlx::query(
        "INSERT INTO publications (origin, seq, hash, doc_no, title, published, effective, tiers, window_days, \
         window_unit, changes, requirements, required_by_tier, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(publisher)
    .bind(to_i64(entry.seq()))
    .bind(entry.hash().to_string())
    .bind(p.doc_no.trim())
    .bind(p.title.trim())
    .bind(p.published.to_string())
    .bind(p.effective.to_string())
    .bind(tiers_text(&p.tiers))
    .bind(i64::from(p.window.days))
    .bind(p.window.unit.to_string())
    .bind(p.changes.len() as i64)
    .bind(json_text(&planned.requirements)?)
    .bind(json_text(&required_by_tier(&p.tiers, &planned.requirements))?)
    .bind(entry.body().at.as_str())
    .execute(&mut **tx)
    .await?;
    for state in &planned.catalogue {
        sqlx::query(
            "INSERT INTO catalogue (publisher, code, status, tiers, data, effective, pub_seq) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (publisher, code) DO UPDATE SET status = excluded.status, tiers = excluded.tiers, \
             data = excluded.data, effective = excluded.effective, pub_seq = excluded.pub_seq",
        )
        .bind(publisher)
        .bind(state.item.code.as_str())
        .bind(state.item.status.key())
        .bind(tiers_text(&state.tiers))
        .bind(json_text(&state.item)?)
        .bind(p.effective.to_string())
        .bind(to_i64(entry.seq()))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn required_by_tier(tiers: &[Tier], requirements: &[Requirement]) -> BTreeMap<Tier, u64> {
    tiers.iter().map(|t| (*t, requirements_for(requirements, *t).len() as u64)).collect()
}

/// A publication row; its requirements only when the query selected them (`full`).
fn publication_row(r: &<Db as sqlx::Database>::Row) -> Result<PublicationRow, StoreError> {
    let origin: String = r.try_get("origin")?;
    let unit: String = r.try_get("window_unit")?;
    let day = |col: &str| -> Result<chrono::NaiveDate, StoreError> {
        r.try_get::<String, _>(col)?.parse().map_err(|_| StoreError::Corrupt(format!("publication {col}")))
    };
    Ok(PublicationRow {
        pub_ref: PubRef {
            origin: DivisionCode::parse(&origin).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            seq: to_u64(r.try_get("seq")?),
            hash: r.try_get("hash")?,
        },
        doc_no: r.try_get("doc_no")?,
        title: r.try_get("title")?,
        published: day("published")?,
        effective: day("effective")?,
        tiers: parse_tiers(&r.try_get::<String, _>("tiers")?)?,
        window: Window {
            days: u32::try_from(r.try_get::<i64, _>("window_days")?).unwrap_or(0),
            unit: unit.parse().map_err(|_| StoreError::Corrupt(format!("window unit {unit}")))?,
        },
        changes: to_u64(r.try_get("changes")?),
        requirements: from_json("requirements", &r.try_get::<String, _>("requirements")?)?,
        required_by_tier: from_json("required_by_tier", &r.try_get::<String, _>("required_by_tier")?)?,
        at: r.try_get("at")?,
    })
}

const PUBLICATION_COLUMNS: &str = "origin, seq, hash, doc_no, title, published, effective, tiers, window_days, \
     window_unit, changes, requirements, required_by_tier, at";

/// The same without the requirements list (a 5 000-item publication's is megabytes).
const PUBLICATION_HEADER_COLUMNS: &str = "origin, seq, hash, doc_no, title, published, effective, tiers, window_days, \
     window_unit, changes, '[]' AS requirements, required_by_tier, at";

async fn publication_in(conn: &mut Conn, origin: &str, seq: u64, full: bool) -> Result<Option<PublicationRow>, StoreError> {
    let columns = if full { PUBLICATION_COLUMNS } else { PUBLICATION_HEADER_COLUMNS };
    let sql = format!("SELECT {columns} FROM publications WHERE origin = $1 AND seq = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(origin).bind(to_i64(seq)).fetch_optional(&mut *conn).await?;
    row.as_ref().map(publication_row).transpose()
}

fn task_row(r: &<Db as sqlx::Database>::Row) -> Result<TaskRow, StoreError> {
    Ok(TaskRow {
        node: r.try_get("node")?,
        pub_origin: r.try_get("pub_origin")?,
        pub_seq: to_u64(r.try_get("pub_seq")?),
        required: to_u64(r.try_get("required")?),
        resolved: to_u64(r.try_get("resolved")?),
        deviated: to_u64(r.try_get("deviated")?),
        status: r.try_get("status")?,
        reason: r.try_get("reason")?,
        closed_seq: r.try_get::<Option<i64>, _>("closed_seq")?.map(to_u64),
        closed_at: r.try_get("closed_at")?,
    })
}

const TASK_COLUMNS: &str = "node, pub_origin, pub_seq, required, resolved, deviated, status, reason, closed_seq, closed_at";

/// `recon.adopt` / `recon.deviate` / `recon.not_applicable`: resolves codes of the origin's task
/// for a publication of one of its ancestors; an adoption is checked against the list as the
/// entry's earlier ops left it.
async fn apply_recon_op(tx: &mut Tx, entry: &VerifiedEntry, index: usize, op: &Op) -> Result<(), StoreError> {
    let node = entry.origin();
    let fail = |e: ReconError| rule_error(entry, index, e);
    let (pref, codes, resolution, reason, basis) = match op {
        Op::ReconAdopt { publication, codes } => (publication, codes.as_slice(), Resolution::Adopted, "", ""),
        Op::ReconDeviate { publication, codes, reason, basis } => {
            (publication, codes.as_slice(), Resolution::Deviated, reason.trim(), basis.trim())
        }
        Op::ReconNotApplicable { publication, reason } => (publication, &[][..], Resolution::NotApplicable, reason.trim(), ""),
        _ => return Ok(()),
    };
    let publication = publication_in(tx, pref.origin.as_str(), pref.seq, true)
        .await?
        .filter(|p| p.pub_ref.hash == pref.hash)
        .ok_or_else(|| fail(ReconError::UnknownPublication(pref.to_string())))?;
    if node == &pref.origin || !node.is_within(&pref.origin) || !publication.tiers.contains(&node.tier()) {
        return Err(fail(ReconError::NotAffected { publication: publication.doc_no.clone(), tier: node.tier() }));
    }
    if resolution != Resolution::Adopted && reason.is_empty() {
        return Err(fail(ReconError::MissingReason));
    }
    if resolution == Resolution::Deviated && basis.is_empty() {
        return Err(fail(ReconError::MissingBasis));
    }
    let required: BTreeMap<&str, &Requirement> =
        requirements_for(&publication.requirements, node.tier()).into_iter().map(|r| (r.code.as_str(), r)).collect();
    let key = (node.as_str(), pref.origin.as_str(), to_i64(pref.seq));
    let sql = format!("SELECT {TASK_COLUMNS} FROM recon_tasks WHERE node = $1 AND pub_origin = $2 AND pub_seq = $3");
    let task = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key.0).bind(key.1).bind(key.2).fetch_optional(&mut **tx).await?;
    let task = task.as_ref().map(task_row).transpose()?;
    if task.as_ref().is_some_and(|t| t.status != "open") {
        return Err(fail(ReconError::TaskClosed(publication.doc_no.clone())));
    }
    let mut progress = Progress { required: required.len(), acted: true, ..Default::default() };
    for r in sqlx::query("SELECT code, resolution FROM recon_codes WHERE node = $1 AND pub_origin = $2 AND pub_seq = $3")
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .fetch_all(&mut **tx)
        .await?
    {
        let resolution = match r.try_get::<String, _>("resolution")?.as_str() {
            "deviated" => Resolution::Deviated,
            "not_applicable" => Resolution::NotApplicable,
            _ => Resolution::Adopted,
        };
        progress.resolved.insert(r.try_get("code")?, resolution);
    }
    if resolution == Resolution::NotApplicable {
        progress.not_applicable = true;
    } else {
        let targets: Vec<&str> = if codes.is_empty() {
            required.keys().copied().filter(|c| !progress.resolved.contains_key(*c)).collect()
        } else {
            let mut seen = HashSet::new();
            codes.iter().map(|c| c.trim()).filter(|c| seen.insert(*c)).collect()
        };
        for code in targets {
            let req = required.get(code).ok_or_else(|| fail(ReconError::NotInPublication(code.to_string())))?;
            if progress.resolved.contains_key(code) {
                return Err(fail(ReconError::AlreadyResolved(code.to_string())));
            }
            if resolution == Resolution::Adopted {
                let current = load_item(tx, node.as_str(), code).await?;
                quanze_domain::recon::check(req, current.as_ref()).map_err(fail)?;
            }
            sqlx::query(
                "INSERT INTO recon_codes (node, pub_origin, pub_seq, code, resolution, reason, basis, seq, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .bind(code)
            .bind(resolution.key())
            .bind(reason)
            .bind(basis)
            .bind(to_i64(entry.seq()))
            .bind(entry.body().at.as_str())
            .execute(&mut **tx)
            .await?;
            progress.resolved.insert(code.to_string(), resolution);
        }
    }
    let status = progress.closed_status();
    let deviated = progress.resolved.values().filter(|r| **r == Resolution::Deviated).count();
    let reason = if resolution == Resolution::Adopted { task.map(|t| t.reason).unwrap_or_default() } else { reason.to_string() };
    sqlx::query(
        "INSERT INTO recon_tasks (node, pub_origin, pub_seq, required, resolved, deviated, status, reason, closed_seq, closed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (node, pub_origin, pub_seq) DO UPDATE SET \
         resolved = excluded.resolved, deviated = excluded.deviated, status = excluded.status, reason = excluded.reason, \
         closed_seq = excluded.closed_seq, closed_at = excluded.closed_at",
    )
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(progress.required as i64)
    .bind(progress.resolved.len() as i64)
    .bind(deviated as i64)
    .bind(status.map_or("open", |s| s.key()))
    .bind(reason)
    .bind(status.map(|_| to_i64(entry.seq())))
    .bind(status.map(|_| entry.body().at.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `node.policy`: the origin's window for adjustment filings.
async fn apply_policy(tx: &mut Tx, entry: &VerifiedEntry, index: usize, window: &Window) -> Result<(), StoreError> {
    if window.days == 0 {
        return Err(rule_error(entry, index, quanze_domain::CalendarError::ZeroDays));
    }
    sqlx::query(
        "INSERT INTO policies (node, request_window, seq) VALUES ($1, $2, $3) \
         ON CONFLICT (node) DO UPDATE SET request_window = excluded.request_window, seq = excluded.seq",
    )
    .bind(entry.origin().as_str())
    .bind(json_text(window)?)
    .bind(to_i64(entry.seq()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn policy_in(conn: &mut Conn, node: &str) -> Result<Window, StoreError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT request_window FROM policies WHERE node = $1").bind(node).fetch_optional(&mut *conn).await?;
    text.map_or(Ok(Window::default()), |t| from_json("policy", &t))
}

/// `request.file`: records a filing with the window in force (its day is the entry's, China time).
async fn apply_filing(tx: &mut Tx, entry: &VerifiedEntry, index: usize, filing: &Filing) -> Result<(), StoreError> {
    let filed = quanze_domain::recon::china_day(&entry.body().at)
        .ok_or_else(|| StoreError::Corrupt(format!("entry {}#{} time", entry.origin(), entry.seq())))?;
    filing.validate(filed).map_err(|e| rule_error(entry, index, e))?;
    let window = policy_in(tx, entry.origin().as_str()).await?;
    sqlx::query(
        "INSERT INTO filings (node, seq, idx, department, trigger_kind, trigger_date, filed_on, request_window, summary, codes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .bind(index as i64)
    .bind(filing.department.trim())
    .bind(filing.trigger.key())
    .bind(filing.trigger_date.to_string())
    .bind(filed.to_string())
    .bind(json_text(&window)?)
    .bind(filing.summary.trim())
    .bind(json_text(&filing.codes)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---- reads ----

pub(crate) async fn calendar(pool: &Pool<Db>) -> Result<Calendar, StoreError> {
    let mut conn = pool.acquire().await?;
    calendar_in(&mut conn).await
}

pub(crate) async fn publications(pool: &Pool<Db>) -> Result<Vec<PublicationRow>, StoreError> {
    let sql = format!("SELECT {PUBLICATION_HEADER_COLUMNS} FROM publications ORDER BY published, origin, seq");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
    rows.iter().map(publication_row).collect()
}

pub(crate) async fn publication(pool: &Pool<Db>, origin: &str, seq: u64, full: bool) -> Result<Option<PublicationRow>, StoreError> {
    let mut conn = pool.acquire().await?;
    publication_in(&mut conn, origin, seq, full).await
}

pub(crate) async fn publications_by_doc_no(pool: &Pool<Db>, doc_no: &str) -> Result<Vec<PublicationRow>, StoreError> {
    let sql = format!("SELECT {PUBLICATION_HEADER_COLUMNS} FROM publications WHERE doc_no = $1 ORDER BY origin, seq");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(doc_no.trim()).fetch_all(pool).await?;
    rows.iter().map(publication_row).collect()
}

/// Tasks of one publication that nodes acted on, every node held.
pub(crate) async fn tasks_of_publication(pool: &Pool<Db>, origin: &str, seq: u64) -> Result<Vec<TaskRow>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM recon_tasks WHERE pub_origin = $1 AND pub_seq = $2 ORDER BY node");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(origin).bind(to_i64(seq)).fetch_all(pool).await?;
    rows.iter().map(task_row).collect()
}

/// Tasks one node acted on.
pub(crate) async fn tasks_of_node(pool: &Pool<Db>, node: &str) -> Result<Vec<TaskRow>, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM recon_tasks WHERE node = $1 ORDER BY pub_origin, pub_seq");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(node).fetch_all(pool).await?;
    rows.iter().map(task_row).collect()
}

/// How each code of one node's task was resolved.
pub(crate) async fn task_codes(pool: &Pool<Db>, node: &str, origin: &str, seq: u64) -> Result<Vec<TaskCodeRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, resolution, reason, basis, seq, at FROM recon_codes \
         WHERE node = $1 AND pub_origin = $2 AND pub_seq = $3 ORDER BY code",
    )
    .bind(node)
    .bind(origin)
    .bind(to_i64(seq))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TaskCodeRow {
                code: r.try_get("code")?,
                resolution: r.try_get("resolution")?,
                reason: r.try_get("reason")?,
                basis: r.try_get("basis")?,
                seq: to_u64(r.try_get("seq")?),
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// Catalogue items of the given publishers, ordered by publisher and code.
pub(crate) async fn catalogue(pool: &Pool<Db>, publishers: &[String]) -> Result<Vec<CatalogueRow>, StoreError> {
    let mut out = Vec::new();
    for publisher in publishers {
        let rows = sqlx::query("SELECT publisher, code, status, tiers, data, effective, pub_seq FROM catalogue WHERE publisher = $1 ORDER BY code")
            .bind(publisher)
            .fetch_all(pool)
            .await?;
        for r in rows {
            out.push(CatalogueRow {
                publisher: r.try_get("publisher")?,
                item: from_json("catalogue item", &r.try_get::<String, _>("data")?)?,
                tiers: parse_tiers(&r.try_get::<String, _>("tiers")?)?,
                effective: r.try_get("effective")?,
                pub_seq: to_u64(r.try_get("pub_seq")?),
            });
        }
    }
    Ok(out)
}

pub(crate) async fn policy(pool: &Pool<Db>, node: &str) -> Result<Window, StoreError> {
    let mut conn = pool.acquire().await?;
    policy_in(&mut conn, node).await
}

pub(crate) async fn filings(pool: &Pool<Db>, node: &str) -> Result<Vec<FilingRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT node, seq, idx, department, trigger_kind, trigger_date, filed_on, request_window, summary, codes \
         FROM filings WHERE node = $1 ORDER BY seq, idx",
    )
    .bind(node)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let day = |col: &str| -> Result<chrono::NaiveDate, StoreError> {
                r.try_get::<String, _>(col)?.parse().map_err(|_| StoreError::Corrupt(format!("filing {col}")))
            };
            let trigger: String = r.try_get("trigger_kind")?;
            Ok(FilingRow {
                node: r.try_get("node")?,
                seq: to_u64(r.try_get("seq")?),
                filing: Filing {
                    department: r.try_get("department")?,
                    trigger: trigger.parse().map_err(StoreError::Corrupt)?,
                    trigger_date: day("trigger_date")?,
                    summary: r.try_get("summary")?,
                    codes: from_json("filing codes", &r.try_get::<String, _>("codes")?)?,
                },
                filed_on: day("filed_on")?,
                window: from_json("filing window", &r.try_get::<String, _>("request_window")?)?,
            })
        })
        .collect()
}

/// Snapshot lines of these projections (see `snapshot`).
async fn recon_snapshot(pool: &Pool<Db>, out: &mut Vec<String>) -> Result<(), StoreError> {
    let tables: [(&str, &str); 7] = [
        ("calendar_years", "SELECT year || ' ' || data AS line FROM calendar_years ORDER BY year"),
        ("publications", "SELECT origin || '#' || seq || ' ' || doc_no || ' ' || requirements AS line FROM publications ORDER BY origin, seq"),
        ("catalogue", "SELECT publisher || ' ' || code || ' ' || status || ' ' || tiers || ' ' || effective || ' ' || pub_seq || ' ' || data AS line FROM catalogue ORDER BY publisher, code"),
        ("recon_tasks", "SELECT node || ' ' || pub_origin || '#' || pub_seq || ' ' || required || '/' || resolved || '/' || deviated || ' ' || status || ' ' || reason || ' ' || COALESCE(closed_at, '-') AS line FROM recon_tasks ORDER BY node, pub_origin, pub_seq"),
        ("recon_codes", "SELECT node || ' ' || pub_origin || '#' || pub_seq || ' ' || code || ' ' || resolution || ' ' || reason || ' ' || basis || ' ' || seq AS line FROM recon_codes ORDER BY node, pub_origin, pub_seq, code"),
        ("policies", "SELECT node || ' ' || request_window || ' ' || seq AS line FROM policies ORDER BY node"),
        ("filings", "SELECT node || '#' || seq || '.' || idx || ' ' || department || ' ' || trigger_kind || ' ' || trigger_date || ' ' || filed_on || ' ' || summary AS line FROM filings ORDER BY node, seq, idx"),
    ];
    for (table, sql) in tables {
        for line in sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await? {
            out.push(format!("{table} {line}"));
        }
    }
    Ok(())
}

async fn clear_recon_projections(tx: &mut Tx) -> Result<(), StoreError> {
    for table in ["calendar_years", "publications", "catalogue", "recon_tasks", "recon_codes", "policies", "filings"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut **tx).await?;
    }
    Ok(())
}
