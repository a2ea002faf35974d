// Merkle trees and checkpoints SQL, shared by both backends like `queries.rs` (included after
// it, in the same module, so it reuses that file's imports and helpers): the table of perfect
// subtree hashes filled incrementally from the entries, cosigned checkpoints, and the
// compare-and-set of the last checkpoint this node cosigned for each child (migration 0009).
// Must not decide anything: the hashing and proofs are `quanze_ledger::merkle`, the signatures
// `quanze_ledger::checkpoint`; this file stores and reads.

/// Leaves hashed per transaction while filling a tree.
const MERKLE_FILL_CHUNK: u64 = 4096;

/// Rows per INSERT statement (4 binds a row, under SQLite's bind limit).
const MERKLE_INSERT_ROWS: usize = 2000;

pub(crate) async fn merkle_size(pool: &Pool<Db>, origin: &str) -> Result<u64, StoreError> {
    let size: Option<i64> =
        sqlx::query_scalar("SELECT size FROM merkle_sizes WHERE origin = $1").bind(origin).fetch_optional(pool).await?;
    Ok(size.map_or(0, to_u64))
}

async fn merkle_nodes_in<'c, E>(
    executor: E,
    origin: &str,
    ids: &[quanze_ledger::merkle::NodeId],
) -> Result<HashMap<quanze_ledger::merkle::NodeId, Hash>, StoreError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // A join with the wanted (level, idx) pairs, so that each one is a primary-key lookup: an
    // `OR` of pairs (or a row-value `IN`) makes SQLite scan every subtree of the origin.
    let mut q = QueryBuilder::<Db>::new("WITH wanted(level, idx) AS (VALUES ");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push("(").push_bind(i64::from(id.level)).push(", ").push_bind(to_i64(id.index)).push(")");
    }
    q.push(") SELECT m.level, m.idx, m.hash FROM wanted w JOIN merkle_nodes m ON m.origin = ");
    q.push_bind(origin.to_string()).push(" AND m.level = w.level AND m.idx = w.idx");
    for r in q.build().fetch_all(executor).await? {
        let level: i64 = r.try_get("level")?;
        let hash: Vec<u8> = r.try_get("hash")?;
        let id = quanze_ledger::merkle::NodeId {
            level: u32::try_from(level).map_err(|_| StoreError::Corrupt(format!("merkle level {level}")))?,
            index: to_u64(r.try_get("idx")?),
        };
        out.insert(id, Hash::from_slice(&hash).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    }
    Ok(out)
}

/// The hashes of the given perfect subtrees of `origin`'s tree (those filled so far).
pub(crate) async fn merkle_nodes(
    pool: &Pool<Db>,
    origin: &str,
    ids: &[quanze_ledger::merkle::NodeId],
) -> Result<HashMap<quanze_ledger::merkle::NodeId, Hash>, StoreError> {
    let mut out = HashMap::new();
    // Bounded statements: 2 binds per id.
    for chunk in ids.chunks(4000) {
        out.extend(merkle_nodes_in(pool, origin, chunk).await?);
    }
    Ok(out)
}

/// Fills `origin`'s perfect subtrees up to its stored head, a chunk of leaves per transaction,
/// reading only the new entries' hashes and the old tree's frontier. Returns the filled size.
pub(crate) async fn merkle_fill(pool: &Pool<Db>, origin: &str) -> Result<u64, StoreError> {
    loop {
        let mut tx = begin_write(pool).await?;
        let filled: u64 = sqlx::query_scalar::<_, i64>("SELECT size FROM merkle_sizes WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&mut *tx)
            .await?
            .map_or(0, to_u64);
        let head = head_in(&mut tx, origin).await?.map_or(0, |h| h.seq);
        if filled >= head {
            return Ok(filled);
        }
        let end = head.min(filled + MERKLE_FILL_CHUNK);
        let frontier_ids = quanze_ledger::merkle::frontier(filled);
        let frontier = merkle_nodes_in(&mut *tx, origin, &frontier_ids).await?;
        let rows = sqlx::query("SELECT seq, hash FROM entries WHERE origin = $1 AND seq > $2 AND seq <= $3 ORDER BY seq")
            .bind(origin)
            .bind(to_i64(filled))
            .bind(to_i64(end))
            .fetch_all(&mut *tx)
            .await?;
        let mut leaves = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let seq = to_u64(r.try_get("seq")?);
            if seq != filled + 1 + i as u64 {
                return Err(StoreError::Corrupt(format!("{origin}: entry #{} missing", filled + 1 + i as u64)));
            }
            let hash: Vec<u8> = r.try_get("hash")?;
            leaves.push(quanze_ledger::merkle::entry_leaf(
                &Hash::from_slice(&hash).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ));
        }
        if leaves.len() as u64 != end - filled {
            return Err(StoreError::Corrupt(format!("{origin}: entries up to #{end} missing")));
        }
        let nodes = quanze_ledger::merkle::extend(&frontier, filled, &leaves)
            .map_err(|e| StoreError::Corrupt(format!("{origin}: {e}")))?;
        for chunk in nodes.chunks(MERKLE_INSERT_ROWS) {
            let mut q = QueryBuilder::<Db>::new("INSERT INTO merkle_nodes (origin, level, idx, hash) ");
            q.push_values(chunk, |mut b, (id, hash)| {
                b.push_bind(origin.to_string())
                    .push_bind(i64::from(id.level))
                    .push_bind(to_i64(id.index))
                    .push_bind(hash.as_bytes().to_vec());
            });
            q.push(" ON CONFLICT (origin, level, idx) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO merkle_sizes (origin, size) VALUES ($1, $2) \
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size",
        )
        .bind(origin)
        .bind(to_i64(end))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
}

fn checkpoint_row(r: &<Db as sqlx::Database>::Row) -> Result<crate::checkpoint_store::CheckpointRow, StoreError> {
    let root: Vec<u8> = r.try_get("root")?;
    Ok(crate::checkpoint_store::CheckpointRow {
        origin: r.try_get("origin")?,
        size: to_u64(r.try_get("size")?),
        root: Hash::from_slice(&root).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        at: r.try_get("at")?,
        signature: r.try_get("signature")?,
        cosigner: r.try_get("cosigner")?,
        cosignature: r.try_get("cosignature")?,
        stored_at: r.try_get("stored_at")?,
    })
}

async fn insert_checkpoint(tx: &mut Tx, cp: &quanze_ledger::CosignedCheckpoint, replace: bool) -> Result<(), StoreError> {
    let body = cp.checkpoint();
    let sql = if replace {
        "INSERT INTO checkpoints (origin, size, root, at, signature, cosigner, cosignature, stored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (origin, size, cosigner) DO UPDATE SET \
         at = excluded.at, signature = excluded.signature, cosignature = excluded.cosignature, stored_at = excluded.stored_at"
    } else {
        "INSERT INTO checkpoints (origin, size, root, at, signature, cosigner, cosignature, stored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (origin, size, cosigner) DO NOTHING"
    };
    sqlx::query(sql)
        .bind(body.origin.as_str())
        .bind(to_i64(body.size))
        .bind(body.root.as_bytes().to_vec())
        .bind(&body.at)
        .bind(cp.signature())
        .bind(cp.cosigner().as_str())
        .bind(cp.cosignature())
        .bind(now_text())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Keeps a cosigned checkpoint received or obtained (both signatures verified by the type).
pub(crate) async fn put_checkpoint(pool: &Pool<Db>, cp: &quanze_ledger::CosignedCheckpoint) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    insert_checkpoint(&mut tx, cp, false).await?;
    tx.commit().await?;
    Ok(())
}

/// The last checkpoint this node cosigned for `origin`: (size, root).
pub(crate) async fn cosign_head(pool: &Pool<Db>, origin: &str) -> Result<Option<(u64, Hash)>, StoreError> {
    let row = sqlx::query("SELECT size, root FROM cosign_heads WHERE origin = $1").bind(origin).fetch_optional(pool).await?;
    row.map(|r| {
        let root: Vec<u8> = r.try_get("root")?;
        Ok((to_u64(r.try_get("size")?), Hash::from_slice(&root).map_err(|e| StoreError::Corrupt(e.to_string()))?))
    })
    .transpose()
}

/// Records this node's cosignature if the last one it cosigned for the origin still has size
/// `old_size` (0: none yet), in one transaction; otherwise changes nothing and says the size.
pub(crate) async fn cosign_commit(
    pool: &Pool<Db>,
    cp: &quanze_ledger::CosignedCheckpoint,
    old_size: u64,
) -> Result<crate::checkpoint_store::CosignOutcome, StoreError> {
    let body = cp.checkpoint();
    let mut tx = begin_write(pool).await?;
    let moved = if old_size == 0 {
        sqlx::query("INSERT INTO cosign_heads (origin, size, root) VALUES ($1, $2, $3) ON CONFLICT (origin) DO NOTHING")
            .bind(body.origin.as_str())
            .bind(to_i64(body.size))
            .bind(body.root.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?
    } else {
        sqlx::query("UPDATE cosign_heads SET size = $2, root = $3 WHERE origin = $1 AND size = $4")
            .bind(body.origin.as_str())
            .bind(to_i64(body.size))
            .bind(body.root.as_bytes().to_vec())
            .bind(to_i64(old_size))
            .execute(&mut *tx)
            .await?
    };
    if moved.rows_affected() != 1 {
        let current: Option<i64> = sqlx::query_scalar("SELECT size FROM cosign_heads WHERE origin = $1")
            .bind(body.origin.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        return Ok(crate::checkpoint_store::CosignOutcome::Stale { current_size: current.map_or(0, to_u64) });
    }
    insert_checkpoint(&mut tx, cp, true).await?;
    tx.commit().await?;
    Ok(crate::checkpoint_store::CosignOutcome::Cosigned)
}

/// The latest cosigned checkpoint of every origin held, by origin.
pub(crate) async fn latest_checkpoints(pool: &Pool<Db>) -> Result<Vec<crate::checkpoint_store::CheckpointRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.origin, c.size, c.root, c.at, c.signature, c.cosigner, c.cosignature, c.stored_at FROM checkpoints c \
         WHERE c.size = (SELECT MAX(d.size) FROM checkpoints d WHERE d.origin = c.origin) ORDER BY c.origin, c.stored_at DESC",
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<crate::checkpoint_store::CheckpointRow> = Vec::new();
    for r in &rows {
        let row = checkpoint_row(r)?;
        if out.last().is_none_or(|last| last.origin != row.origin) {
            out.push(row);
        }
    }
    Ok(out)
}

/// The latest cosigned checkpoint of `origin`.
pub(crate) async fn latest_checkpoint(
    pool: &Pool<Db>,
    origin: &str,
) -> Result<Option<crate::checkpoint_store::CheckpointRow>, StoreError> {
    let row = sqlx::query(
        "SELECT origin, size, root, at, signature, cosigner, cosignature, stored_at FROM checkpoints \
         WHERE origin = $1 ORDER BY size DESC, stored_at DESC LIMIT 1",
    )
    .bind(origin)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(checkpoint_row).transpose()
}

/// Records a refused checkpoint as evidence beside refused entries (`quanze status` shows it).
pub(crate) async fn add_refusal(
    pool: &Pool<Db>,
    peer: &str,
    origin: &str,
    seq: u64,
    code: &str,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO refusals (at, peer, origin, seq, code, message) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(now_text())
        .bind(peer)
        .bind(origin)
        .bind(to_i64(seq))
        .bind(code)
        .bind(message)
        .execute(pool)
        .await?;
    Ok(())
}
