// Federation SQL, shared by both backends like `queries.rs` (included after it, in the same
// module, so it reuses that file's imports and helpers): key history, delivery of entries from
// peers (verify, detect forks, apply, record refusals), push checkpoints, invites, node state.

type Conn = <Db as sqlx::Database>::Connection;

fn now_text() -> String {
    quanze_ledger::format_at(chrono::Utc::now())
}

/// The key valid for `origin`'s entry `seq`: the latest enrolment with `valid_from <= seq`, or
/// the trust root.
async fn key_for_in(conn: &mut Conn, origin: &str, seq: u64) -> Result<KeyLookup, StoreError> {
    let row = sqlx::query(
        "SELECT valid_from, public_key FROM enrolments WHERE division = $1 AND valid_from <= $2 \
         ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(origin)
    .bind(to_i64(seq))
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        let from = to_u64(r.try_get("valid_from")?);
        return match r.try_get::<Option<String>, _>("public_key")? {
            Some(k) => Ok(KeyLookup::Key(k.parse().map_err(|_| StoreError::Corrupt(format!("enrolment key of {origin}")))?)),
            None => Ok(KeyLookup::Revoked { from }),
        };
    }
    let root: Option<String> = sqlx::query_scalar("SELECT public_key FROM trust_root WHERE division = $1")
        .bind(origin)
        .fetch_optional(&mut *conn)
        .await?;
    match root {
        Some(k) => Ok(KeyLookup::Key(k.parse().map_err(|_| StoreError::Corrupt("trust root key".into()))?)),
        None => Ok(KeyLookup::Unknown),
    }
}

/// The key that signed `origin`'s entry `seq` when it was accepted: like `key_for_in`, but a
/// later revocation does not hide it (entries held from before a revocation stay valid here).
async fn held_key_in(conn: &mut Conn, origin: &str, seq: u64) -> Result<Option<PublicKey>, StoreError> {
    let key: Option<String> = sqlx::query_scalar(
        "SELECT public_key FROM enrolments WHERE division = $1 AND valid_from <= $2 AND public_key IS NOT NULL \
         ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(origin)
    .bind(to_i64(seq))
    .fetch_optional(&mut *conn)
    .await?;
    let key = match key {
        Some(k) => Some(k),
        None => sqlx::query_scalar("SELECT public_key FROM trust_root WHERE division = $1").bind(origin).fetch_optional(&mut *conn).await?,
    };
    key.map(|k| k.parse().map_err(|_| StoreError::Corrupt(format!("enrolment key of {origin}")))).transpose()
}

pub(crate) async fn key_for(pool: &Pool<Db>, origin: &str, seq: u64) -> Result<KeyLookup, StoreError> {
    let mut conn = pool.acquire().await?;
    key_for_in(&mut conn, origin, seq).await
}

pub(crate) async fn set_trust_root(pool: &Pool<Db>, division: &str, key: &str) -> Result<(), StoreError> {
    let existing: Option<String> = sqlx::query_scalar("SELECT division FROM trust_root").fetch_optional(pool).await?;
    if existing.as_deref().is_some_and(|d| d != division) {
        return Err(StoreError::Format(format!("信任根已设为 {} / trust root already set", existing.unwrap_or_default())));
    }
    sqlx::query("INSERT INTO trust_root (division, public_key) VALUES ($1, $2) ON CONFLICT (division) DO NOTHING")
        .bind(division)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn trust_root(pool: &Pool<Db>) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query("SELECT division, public_key FROM trust_root").fetch_optional(pool).await?;
    row.map(|r| Ok((r.try_get("division")?, r.try_get("public_key")?))).transpose()
}

/// Applies an Enroll / Revoke / Resolve op to the key history (authority already checked).
async fn apply_enrolment_op(tx: &mut Tx, entry: &VerifiedEntry, index: usize, op: &Op) -> Result<(), StoreError> {
    let malformed = || StoreError::Authority {
        origin: entry.origin().to_string(),
        seq: entry.seq(),
        index,
        error: quanze_domain::AuthorityError::MalformedKey,
    };
    let (division, valid_from, key, tier, name) = match op {
        Op::Enroll { enrolment } | Op::Resolve { enrolment, .. } => {
            enrolment.key.parse::<PublicKey>().map_err(|_| malformed())?;
            (enrolment.division.as_str().to_string(), enrolment.valid_from, Some(enrolment.key.clone()), enrolment.tier.key().to_string(), enrolment.name.clone())
        }
        Op::Revoke { division, after, .. } => {
            let last = sqlx::query("SELECT tier, name FROM enrolments WHERE division = $1 ORDER BY valid_from DESC LIMIT 1")
                .bind(division.as_str())
                .fetch_optional(&mut **tx)
                .await?;
            let (tier, name) = match last {
                Some(r) => (r.try_get("tier")?, r.try_get("name")?),
                None => (division.tier().key().to_string(), String::new()),
            };
            (division.as_str().to_string(), after.saturating_add(1), None, tier, name)
        }
        _ => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO enrolments (division, valid_from, public_key, tier, name, by_origin, by_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (division, valid_from) DO UPDATE SET \
         public_key = excluded.public_key, tier = excluded.tier, name = excluded.name, \
         by_origin = excluded.by_origin, by_seq = excluded.by_seq",
    )
    .bind(&division)
    .bind(to_i64(valid_from))
    .bind(key)
    .bind(tier)
    .bind(name)
    .bind(entry.origin().as_str())
    .bind(to_i64(entry.seq()))
    .execute(&mut **tx)
    .await?;
    if matches!(op, Op::Resolve { .. }) {
        let Op::Resolve { fork_seq, .. } = op else { unreachable!("matched above") };
        // Only the fork it names (and earlier ones): replaying an old Resolve in a rebuild must
        // not clear a fork found later.
        sqlx::query("UPDATE forks SET resolved_by = $1 WHERE origin = $2 AND seq <= $3 AND resolved_by IS NULL")
            .bind(format!("{}#{}", entry.origin(), entry.seq()))
            .bind(&division)
            .bind(to_i64(*fork_seq))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn quarantined_in(conn: &mut Conn, origin: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM forks WHERE origin = $1 AND resolved_by IS NULL")
        .bind(origin)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

async fn stored_hash_in(conn: &mut Conn, origin: &str, seq: u64) -> Result<Option<StoredEntry>, StoreError> {
    let row = sqlx::query("SELECT local_id, origin, seq, hash, body, sig FROM entries WHERE origin = $1 AND seq = $2")
        .bind(origin)
        .bind(to_i64(seq))
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(stored_entry).transpose()
}

async fn record_fork(tx: &mut Tx, origin: &str, seq: u64, entries: [&UnverifiedEntry; 2]) -> Result<(), StoreError> {
    let at = now_text();
    for e in entries {
        sqlx::query(
            "INSERT INTO forks (origin, seq, hash, body, sig, detected_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (origin, seq, hash) DO NOTHING",
        )
        .bind(origin)
        .bind(to_i64(seq))
        .bind(&e.hash().as_bytes()[..])
        .bind(e.bytes())
        .bind(&e.sig()[..])
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn record_refusal(tx: &mut Tx, peer: &str, d: &Delivery) -> Result<(), StoreError> {
    // An entry whose origin is not enrolled yet is parked, not rejected: it comes again.
    if let Delivery::Refused { origin, seq, code, message } = d
        && code != "NOT_ENROLLED"
    {
        sqlx::query("INSERT INTO refusals (at, peer, origin, seq, code, message) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(now_text())
            .bind(peer)
            .bind(origin)
            .bind(to_i64(*seq))
            .bind(code)
            .bind(message)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Delivers entries received from `peer`: each is verified against the key its origin's
/// enrolments give for its seq and against the stored chain head, checked for authority and
/// applied — or refused, with the reason recorded as evidence. One transaction for the batch and
/// a savepoint per entry, so a refused entry changes nothing and the others still apply.
pub(crate) async fn ingest(pool: &Pool<Db>, peer: &str, entries: Vec<UnverifiedEntry>) -> Result<Vec<Delivery>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let mut out = Vec::with_capacity(entries.len());
    // Origins with an entry parked in this batch: their later entries wait too (they would only
    // be gaps now), and are not recorded as refusals.
    let mut parked: Vec<String> = Vec::new();
    for entry in entries {
        if let Ok((origin, seq)) = entry.claimed_position()
            && parked.iter().any(|p| p == origin.as_str())
        {
            out.push(not_enrolled(origin.as_str(), seq));
            continue;
        }
        let d = deliver_one(&mut tx, entry).await?;
        if let Delivery::Refused { origin, code, .. } = &d
            && code == "NOT_ENROLLED"
        {
            parked.push(origin.clone());
        }
        record_refusal(&mut tx, peer, &d).await?;
        out.push(d);
    }
    tx.commit().await?;
    Ok(out)
}

fn not_enrolled(origin: &str, seq: u64) -> Delivery {
    Delivery::Refused {
        origin: origin.to_string(),
        seq,
        code: "NOT_ENROLLED".into(),
        message: format!("{origin} 未登记（尚无其登记条目）/ origin not enrolled (yet)"),
    }
}

/// Checks in an order that never blames a peer for what it did not do: quarantine, then an
/// entry already held (duplicate, or fork), then its place in the chain (a gap is only a gap,
/// whatever key signed it), then the key for that seq, then the signature and the rest.
async fn deliver_one(tx: &mut Tx, entry: UnverifiedEntry) -> Result<Delivery, StoreError> {
    let refused = |origin: &str, seq: u64, code: &str, message: String| Delivery::Refused {
        origin: origin.to_string(),
        seq,
        code: code.to_string(),
        message,
    };
    let (origin, seq) = match entry.claimed_position() {
        Ok(p) => p,
        Err(e) => return Ok(refused("?", 0, e.code(), e.to_string())),
    };
    let o = origin.as_str().to_string();
    if quarantined_in(tx, &o).await? {
        return Ok(Delivery::Quarantined { origin: o, seq });
    }
    if let Some(stored) = stored_hash_in(tx, &o, seq).await? {
        if stored.stored_hash() == Some(entry.hash()) {
            return Ok(Delivery::Duplicate { origin: o, seq });
        }
        // A fork needs two entries signed by the key that was valid for that seq.
        let valid = match held_key_in(tx, &o, seq).await? {
            Some(k) => entry.is_signed_by(&k),
            None => false,
        };
        if !valid {
            let e = quanze_ledger::VerifyError::BadSignature;
            return Ok(refused(&o, seq, e.code(), e.to_string()));
        }
        record_fork(tx, &o, seq, [&stored.entry, &entry]).await?;
        return Ok(Delivery::Fork { origin: o, seq });
    }
    let head = head_in(tx, &o).await?;
    let expected = head.map_or(1, |h| h.seq + 1);
    if seq != expected {
        let e = quanze_ledger::VerifyError::Gap { expected, found: seq };
        return Ok(refused(&o, seq, e.code(), e.to_string()));
    }
    let key = match key_for_in(tx, &o, seq).await? {
        KeyLookup::Key(k) => k,
        KeyLookup::Revoked { from } => {
            return Ok(refused(&o, seq, "KEY_REVOKED", format!("{o} 的密钥自第 {from} 条起已撤销 / key revoked from seq {from}")));
        }
        KeyLookup::Unknown => return Ok(not_enrolled(&o, seq)),
    };
    let verified = match verify_next(&origin, &key, head.as_ref(), entry) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&o, seq, e.code(), e.to_string())),
    };
    sqlx::query("SAVEPOINT deliver_one").execute(&mut **tx).await?;
    sqlx::query("INSERT INTO entries (origin, seq, hash, at, body, sig) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&o)
        .bind(to_i64(seq))
        .bind(&verified.hash().as_bytes()[..])
        .bind(verified.body().at.as_str())
        .bind(verified.bytes())
        .bind(&verified.sig()[..])
        .execute(&mut **tx)
        .await?;
    let outcome = apply(tx, &verified).await;
    let undo = "ROLLBACK TO SAVEPOINT deliver_one";
    match outcome {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT deliver_one").execute(&mut **tx).await?;
            Ok(Delivery::Applied { origin: o, seq })
        }
        Err(StoreError::Authority { index, error, .. }) => {
            sqlx::query(undo).execute(&mut **tx).await?;
            Ok(refused(&o, seq, "UNAUTHORISED", format!("第 {} 个操作：{error}", index + 1)))
        }
        Err(StoreError::Rule { index, error, .. }) => {
            sqlx::query(undo).execute(&mut **tx).await?;
            Ok(refused(&o, seq, "RULE", format!("第 {} 个操作：{error}", index + 1)))
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn enrolments(pool: &Pool<Db>, division: Option<&str>) -> Result<Vec<EnrolmentRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT division, valid_from, public_key, tier, name, by_origin, by_seq FROM enrolments \
         WHERE (CAST($1 AS TEXT) IS NULL OR division = CAST($1 AS TEXT)) ORDER BY division, valid_from",
    )
    .bind(division)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EnrolmentRow {
                division: r.try_get("division")?,
                valid_from: to_u64(r.try_get("valid_from")?),
                public_key: r.try_get("public_key")?,
                tier: r.try_get("tier")?,
                name: r.try_get("name")?,
                by_origin: r.try_get("by_origin")?,
                by_seq: to_u64(r.try_get("by_seq")?),
            })
        })
        .collect()
}

pub(crate) async fn forks(pool: &Pool<Db>) -> Result<Vec<ForkRow>, StoreError> {
    let rows = sqlx::query("SELECT origin, seq, hash, detected_at, resolved_by FROM forks ORDER BY origin, seq, detected_at")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let hash: Vec<u8> = r.try_get("hash")?;
            Ok(ForkRow {
                origin: r.try_get("origin")?,
                seq: to_u64(r.try_get("seq")?),
                hash: hex::encode(hash),
                detected_at: r.try_get("detected_at")?,
                resolved_by: r.try_get("resolved_by")?,
            })
        })
        .collect()
}

pub(crate) async fn refusals(pool: &Pool<Db>, limit: u64) -> Result<Vec<RefusalRow>, StoreError> {
    let rows = sqlx::query("SELECT at, peer, origin, seq, code, message FROM refusals ORDER BY id DESC LIMIT $1")
        .bind(to_i64(limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RefusalRow {
                at: r.try_get("at")?,
                peer: r.try_get("peer")?,
                origin: r.try_get("origin")?,
                seq: to_u64(r.try_get("seq")?),
                code: r.try_get("code")?,
                message: r.try_get("message")?,
            })
        })
        .collect()
}

pub(crate) async fn push_acks(pool: &Pool<Db>) -> Result<Vec<(String, u64)>, StoreError> {
    let rows = sqlx::query("SELECT origin, seq FROM push_acks ORDER BY origin").fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("origin")?, to_u64(r.try_get("seq")?)))).collect()
}

pub(crate) async fn set_push_ack(pool: &Pool<Db>, origin: &str, seq: u64) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO push_acks (origin, seq) VALUES ($1, $2) ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq")
        .bind(origin)
        .bind(to_i64(seq))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn add_invite(pool: &Pool<Db>, token_hash: &str, row: &InviteRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO invites (token_hash, division, tier, name, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(&row.division)
        .bind(&row.tier)
        .bind(&row.name)
        .bind(&row.expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks the invite used and returns it; `None` when there is no such unused invite.
pub(crate) async fn take_invite(pool: &Pool<Db>, token_hash: &str) -> Result<Option<InviteRow>, StoreError> {
    let row = sqlx::query(
        "UPDATE invites SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
         RETURNING division, tier, name, expires_at, used_at",
    )
    .bind(token_hash)
    .bind(now_text())
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(InviteRow {
            division: r.try_get("division")?,
            tier: r.try_get("tier")?,
            name: r.try_get("name")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
        })
    })
    .transpose()
}

/// The invite with this token hash, used or not (a recovering child proves itself with it).
pub(crate) async fn invite(pool: &Pool<Db>, token_hash: &str) -> Result<Option<InviteRow>, StoreError> {
    let row = sqlx::query("SELECT division, tier, name, expires_at, used_at FROM invites WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(InviteRow {
            division: r.try_get("division")?,
            tier: r.try_get("tier")?,
            name: r.try_get("name")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
        })
    })
    .transpose()
}

/// Puts an invite back (the enrolment it was taken for failed).
pub(crate) async fn release_invite(pool: &Pool<Db>, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE invites SET used_at = NULL WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
    Ok(())
}

pub(crate) async fn get_state(pool: &Pool<Db>, key: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT value FROM node_state WHERE key = $1").bind(key).fetch_optional(pool).await?)
}

pub(crate) async fn set_state(pool: &Pool<Db>, key: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO node_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(())
}
