//! The SQLite backend: a file in the data directory, WAL journal, full fsync on commit.
//! The queries are shared with PostgreSQL (`queries.rs`); this file owns connecting only.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if needed) the database file and brings its schema up to date. With
/// `read_only`, opens an existing file without migrating (e.g. `quanze log verify` beside a
/// running node).
pub(crate) async fn connect(path: &Path, read_only: bool) -> Result<sqlx::SqlitePool, StoreError> {
    let mut opts = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(!read_only)
        .read_only(read_only)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    // A read-only connection cannot set the journal mode (a store's file is already in WAL mode).
    if !read_only {
        opts = opts.journal_mode(SqliteJournalMode::Wal);
    }
    // A connection that comes back still inside a transaction (its rollback failed: an I/O
    // error such as a full disk) is closed, not reused: every later `BEGIN` on it would fail.
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .after_release(|conn, _| {
            let clean = !sqlx::Connection::is_in_transaction(conn);
            Box::pin(async move { Ok(clean) })
        })
        .connect_with(opts)
        .await?;
    if !read_only {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .fetch_all(&pool)
        .await?;
        crate::refuse_foreign(&tables)?;
        MIGRATOR.run(&pool).await?;
    }
    Ok(pool)
}

/// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so a
/// transaction that reads before it writes cannot fail with SQLITE_BUSY_SNAPSHOT when another
/// writer commits in between (the busy timeout then makes writers queue).
async fn begin_write(pool: &sqlx::SqlitePool) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// How `item_facts` (audit_queries.rs) orders the versions it aggregates: SQLite groups `item_versions` in the order of its key, (node, code, seq), with no subquery.
const AGGREGATE_FROM_SORTED_ROWS: bool = false;

/// How a backup opens its snapshot: a deferred read transaction on the WAL database sees one
/// snapshot from its first read on, while the node goes on writing.
const SNAPSHOT_BEGIN: &str = "BEGIN";

/// SQLite keeps explicit ids with no clause; AUTOINCREMENT moves past the largest inserted id.
const IDENTITY_OVERRIDE: &str = "";

/// Nothing to reset after a restore (see `IDENTITY_OVERRIDE`).
const AFTER_RESTORE: &[&str] = &[];

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
