// Backup and restore of one store (included by `sqlite.rs` and `postgres.rs`; see `backup.rs`
// for the record types and which tables a backup holds).
//
// A backup is one read transaction: on SQLite a read transaction on the WAL database sees one
// snapshot while the node goes on writing; on PostgreSQL `REPEATABLE READ READ ONLY` does the
// same. A restore is one write transaction: the entries and node-local rows are inserted, then
// every entry is re-verified and the projections are rebuilt (`replay_all`), and only then is
// anything committed; a failure or a kill leaves the target as empty as it was.

use crate::backup::{BackupRecord, BackupSummary, BackupValue, LOCAL_TABLES, RESTORED_CHILDREN_KEY, RESTORED_STATE_KEY};

/// Reads one consistent snapshot and hands every record to `sink`, entries first (arrival
/// order), then the node-local tables.
pub(crate) async fn backup_read(
    pool: &Pool<Db>,
    sink: &mut (dyn FnMut(BackupRecord) -> Result<(), StoreError> + Send),
) -> Result<BackupSummary, StoreError> {
    let mut tx = pool.begin_with(SNAPSHOT_BEGIN).await?;
    let mut summary = BackupSummary {
        schema_version: sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations").fetch_one(&mut *tx).await?,
        ..BackupSummary::default()
    };
    let mut origins: std::collections::BTreeMap<String, (u64, u64)> = std::collections::BTreeMap::new();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query("SELECT local_id, origin, seq, at, body, sig FROM entries WHERE local_id > $1 ORDER BY local_id LIMIT 2000")
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            after = r.try_get("local_id")?;
            let (origin, seq): (String, u64) = (r.try_get("origin")?, to_u64(r.try_get("seq")?));
            let body: Vec<u8> = r.try_get("body")?;
            let body = String::from_utf8(body).map_err(|_| StoreError::Corrupt(format!("entry {origin}#{seq}: body is not UTF-8")))?;
            let sig: Vec<u8> = r.try_get("sig")?;
            let held = origins.entry(origin.clone()).or_default();
            held.0 = held.0.max(seq);
            held.1 += 1;
            summary.entries += 1;
            sink(BackupRecord::Entry { origin, seq, at: r.try_get("at")?, body, sig: hex::encode(sig) })?;
        }
    }
    summary.origins = origins.into_iter().map(|(o, (seq, n))| (o, seq, n)).collect();
    for (table, columns) in LOCAL_TABLES {
        let sql = format!("SELECT {} FROM {table} ORDER BY {}", columns.join(", "), columns[0]);
        for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *tx).await? {
            let values = (0..columns.len()).map(|i| backup_value(&r, i)).collect::<Result<Vec<_>, _>>()?;
            summary.rows += 1;
            sink(BackupRecord::Row { table: (*table).to_string(), columns: columns.iter().map(|c| (*c).to_string()).collect(), values })?;
        }
    }
    tx.rollback().await?;
    Ok(summary)
}

/// A column's value whatever its type: the node-local tables hold only integers, text and bytes.
fn backup_value(r: &<Db as sqlx::Database>::Row, i: usize) -> Result<BackupValue, StoreError> {
    if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
        return Ok(v.map_or(BackupValue::Null, BackupValue::Int));
    }
    if let Ok(v) = r.try_get::<Option<String>, _>(i) {
        return Ok(v.map_or(BackupValue::Null, BackupValue::Text));
    }
    let v: Option<Vec<u8>> = r.try_get(i)?;
    Ok(v.map_or(BackupValue::Null, |b| BackupValue::Bytes(hex::encode(b))))
}

/// Restores `records` into this empty store in one transaction: inserts the entries and rows,
/// marks the node's own log as unconfirmed, re-verifies every entry and rebuilds the
/// projections. Returns the number of entries replayed.
pub(crate) async fn restore(
    pool: &Pool<Db>,
    records: &mut (dyn Iterator<Item = Result<BackupRecord, StoreError>> + Send),
    fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync),
) -> Result<u64, StoreError> {
    let mut tx = begin_write(pool).await?;
    let held: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM trust_root)",
    )
    .fetch_one(&mut *tx)
    .await?;
    if held > 0 {
        return Err(StoreError::Format("目标数据库不是空的 / the target database is not empty".into()));
    }
    let mut batch: Vec<EntryRow> = Vec::new();
    for record in records {
        match record? {
            BackupRecord::Entry { origin, seq, at, body, sig } => {
                let sig = hex::decode(&sig).map_err(|_| StoreError::Corrupt(format!("entry {origin}#{seq}: signature is not hex")))?;
                let body = body.into_bytes();
                batch.push((origin, to_i64(seq), Hash::of(&body).as_bytes().to_vec(), at, body, sig));
                if batch.len() >= 500 {
                    insert_entry_batch(&mut tx, &mut batch).await?;
                }
            }
            BackupRecord::Row { table, columns, values } => {
                insert_entry_batch(&mut tx, &mut batch).await?;
                insert_local_row(&mut tx, &table, &columns, values).await?;
            }
        }
    }
    insert_entry_batch(&mut tx, &mut batch).await?;
    for sql in AFTER_RESTORE {
        sqlx::query(*sql).execute(&mut *tx).await?;
    }
    sqlx::query("INSERT INTO node_state (key, value) VALUES ($1, '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(RESTORED_STATE_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM node_state WHERE key = $1").bind(RESTORED_CHILDREN_KEY).execute(&mut *tx).await?;
    let replayed = replay_all(&mut tx, fallback).await?;
    tx.commit().await?;
    Ok(replayed)
}

type EntryRow = (String, i64, Vec<u8>, String, Vec<u8>, Vec<u8>);

async fn insert_entry_batch(tx: &mut Tx, batch: &mut Vec<EntryRow>) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO entries (origin, seq, hash, at, body, sig) ");
    q.push_values(batch.drain(..), |mut b, (origin, seq, hash, at, body, sig)| {
        b.push_bind(origin).push_bind(seq).push_bind(hash).push_bind(at).push_bind(body).push_bind(sig);
    });
    q.build().execute(&mut **tx).await.map_err(|e| StoreError::Corrupt(format!("备份中的条目无法写入 / entries of the backup cannot be stored: {e}")))?;
    Ok(())
}

/// One node-local row; the table and columns must be ones a backup holds (names are checked
/// against `LOCAL_TABLES`, never taken from the archive into SQL unchecked).
async fn insert_local_row(tx: &mut Tx, table: &str, columns: &[String], values: Vec<BackupValue>) -> Result<(), StoreError> {
    let (table, known) = LOCAL_TABLES
        .iter()
        .find(|(t, _)| *t == table)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("备份含未知的表 {table} / unknown table in the backup")))?;
    let columns = columns
        .iter()
        .map(|c| known.iter().find(|k| **k == c.as_str()).copied().ok_or_else(|| StoreError::Corrupt(format!("备份含未知的列 {table}.{c} / unknown column"))))
        .collect::<Result<Vec<&str>, _>>()?;
    if columns.len() != values.len() {
        return Err(StoreError::Corrupt(format!("{table}: {} 列 {} 值 / column and value counts differ", columns.len(), values.len())));
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("INSERT INTO {table} ({})", columns.join(", ")));
    if columns.contains(&"id") {
        q.push(IDENTITY_OVERRIDE);
    }
    q.push(" VALUES (");
    let mut s = q.separated(", ");
    for v in values {
        match v {
            BackupValue::Null => s.push("NULL"),
            BackupValue::Int(n) => s.push_bind(n),
            BackupValue::Text(t) => s.push_bind(t),
            BackupValue::Bytes(h) => s.push_bind(hex::decode(&h).map_err(|_| StoreError::Corrupt(format!("{table}: bytes are not hex")))?),
        };
    }
    q.push(")");
    q.build().execute(&mut **tx).await.map_err(|e| StoreError::Corrupt(format!("{table} 的行无法写入 / a row of {table} cannot be stored: {e}")))?;
    Ok(())
}

/// Whether the node's own log still waits to be confirmed against its parent after a restore.
pub(crate) async fn restored_unconfirmed(pool: &Pool<Db>) -> Result<bool, StoreError> {
    Ok(get_state(pool, RESTORED_STATE_KEY).await?.is_some())
}

/// The node caught up with its parent (or the operator confirmed): writes may resume.
pub(crate) async fn confirm_restored(pool: &Pool<Db>) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM node_state WHERE key = $1").bind(RESTORED_STATE_KEY).execute(pool).await?;
    Ok(())
}

