//! The PostgreSQL backend, for large nodes (a province holds every list below it).
//! The queries are shared with SQLite (`queries.rs`); this file owns connecting only.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connects and brings the schema up to date. With `read_only`, skips the migrations and makes
/// every transaction of the session read-only, as SQLite's read-only open does.
pub(crate) async fn connect(url: &str, read_only: bool) -> Result<sqlx::PgPool, StoreError> {
    let mut opts = PgConnectOptions::from_str(url)?;
    if read_only {
        opts = opts.options([("default_transaction_read_only", "on")]);
    }
    let pool = PgPoolOptions::new().max_connections(8).connect_with(opts).await?;
    if !read_only {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(&pool)
        .await?;
        crate::refuse_foreign(&tables)?;
        MIGRATOR.run(&pool).await?;
    }
    Ok(pool)
}

/// Starts a write transaction (READ COMMITTED; the entries' unique key and the head check in
/// `append` guard against concurrent writers of one log).
async fn begin_write(pool: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// How `item_facts` (audit_queries.rs) orders the versions it aggregates: PostgreSQL 15 sorts every group again for an aggregate `ORDER BY`; a sorted subquery avoids it.
const AGGREGATE_FROM_SORTED_ROWS: bool = true;

/// How a backup opens its snapshot: one consistent view for the whole read.
const SNAPSHOT_BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Restored accounts keep their ids (sessions and tokens refer to them; ids are never reused).
const IDENTITY_OVERRIDE: &str = " OVERRIDING SYSTEM VALUE";

/// After inserting explicit ids, the identity sequence must move past them.
const AFTER_RESTORE: &[&str] = &[
    "SELECT setval(pg_get_serial_sequence('accounts', 'id'), COALESCE((SELECT MAX(id) FROM accounts), 0) + 1, false)",
];

include!("queries.rs");
include!("fed_queries.rs");
include!("recon_queries.rs");
include!("request_queries.rs");
include!("grant_queries.rs");
include!("audit_queries.rs");
include!("audit_cache_queries.rs");
include!("account_queries.rs");
include!("checkpoint_queries.rs");
include!("backup_queries.rs");
