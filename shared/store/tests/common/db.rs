//! Throw-away databases, one per test: a SQLite file in a `TempDir`, or a PostgreSQL database
//! created on the server named by `QUANZE_TEST_DATABASE_URL` and dropped when the test ends
//! (also when it panics). `raw_*` methods reach the database past the store, to plant foreign
//! tables or tamper with stored entries.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use quanze_store::{Engine, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqlitePool};
use tempfile::TempDir;

/// The server the PostgreSQL tests run on, e.g. `postgres://quanze:quanze@127.0.0.1:5432/quanze`.
/// Its role needs CREATEDB.
pub const PG_URL_VAR: &str = "QUANZE_TEST_DATABASE_URL";

enum Kind {
    Sqlite { _dir: TempDir, path: PathBuf },
    Postgres { admin_url: String, name: String },
}

/// One fresh, empty database. Call `finish` at the end of a test; `Drop` cleans up after a panic.
pub struct TestDb {
    kind: Kind,
    url: String,
    stores: Mutex<Vec<Store>>,
    finished: bool,
}

enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgConnection),
}

impl TestDb {
    /// A new SQLite file in its own temporary directory (always available).
    pub async fn sqlite(_test: &str) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("quanze.db");
        let url = path.to_str().expect("UTF-8 temp path").to_string();
        Some(TestDb { kind: Kind::Sqlite { _dir: dir, path }, url, stores: Mutex::new(Vec::new()), finished: false })
    }

    /// A new database on the PostgreSQL server of `QUANZE_TEST_DATABASE_URL`. `None` (after a
    /// note on stderr) when the variable is unset outside CI; in CI that is a failure, and so
    /// is a server that cannot be reached.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let admin_url = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{PG_URL_VAR} is not set; PostgreSQL tests cannot be skipped in CI");
                }
                eprintln!("{test}: PostgreSQL test skipped ({PG_URL_VAR} is not set)");
                return None;
            }
        };
        let name = format!("quanze_t_{}", random_hex(8));
        let mut admin = connect_pg(&admin_url).await;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {}: {e}", redact(&admin_url)));
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Some(TestDb { kind: Kind::Postgres { admin_url, name }, url, stores: Mutex::new(Vec::new()), finished: false })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn engine(&self) -> Engine {
        match self.kind {
            Kind::Sqlite { .. } => Engine::Sqlite,
            Kind::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Opens the store (creating its schema); `finish` closes it.
    pub async fn open(&self) -> Store {
        let store = Store::open(&self.url).await.unwrap_or_else(|e| panic!("open {}: {e}", redact(&self.url)));
        assert_eq!(store.engine(), self.engine());
        self.keep(&store);
        store
    }

    /// Registers a store opened by the test itself, so `finish` closes it.
    pub fn keep(&self, store: &Store) {
        self.stores.lock().unwrap().push(store.clone());
    }

    async fn raw(&self) -> Raw {
        match &self.kind {
            Kind::Sqlite { path, .. } => {
                let opts = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(path).create_if_missing(true);
                Raw::Sqlite(SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.expect("raw SQLite"))
            }
            Kind::Postgres { .. } => Raw::Postgres(connect_pg(&self.url).await),
        }
    }

    /// Runs one statement directly on the database.
    pub async fn raw_execute(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_string());
        match self.raw().await {
            Raw::Sqlite(p) => {
                sqlx::query(sql).execute(&p).await.expect("raw statement");
                p.close().await;
            }
            Raw::Postgres(mut c) => {
                sqlx::query(sql).execute(&mut c).await.expect("raw statement");
                c.close().await.ok();
            }
        }
    }

    /// The names of the database's own tables, sorted.
    pub async fn raw_table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.raw().await {
            Raw::Sqlite(p) => {
                let sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
                let rows = sqlx::query(sql).fetch_all(&p).await.expect("list tables");
                p.close().await;
                rows.iter().map(|r| r.get("name")).collect()
            }
            Raw::Postgres(mut c) => {
                let sql = "SELECT table_name::text AS name FROM information_schema.tables \
                           WHERE table_schema = current_schema()";
                let rows = sqlx::query(sql).fetch_all(&mut c).await.expect("list tables");
                c.close().await.ok();
                rows.iter().map(|r| r.get("name")).collect()
            }
        };
        names.sort();
        names
    }

    /// The stored body bytes of one entry.
    pub async fn raw_body(&self, origin: &str, seq: i64) -> Vec<u8> {
        let sql = "SELECT body FROM entries WHERE origin = $1 AND seq = $2";
        match self.raw().await {
            Raw::Sqlite(p) => {
                let row = sqlx::query(sql).bind(origin).bind(seq).fetch_one(&p).await.expect("read body");
                p.close().await;
                row.get("body")
            }
            Raw::Postgres(mut c) => {
                let row = sqlx::query(sql).bind(origin).bind(seq).fetch_one(&mut c).await.expect("read body");
                c.close().await.ok();
                row.get("body")
            }
        }
    }

    /// Overwrites the stored body bytes of one entry, as a disk fault or an intruder would.
    pub async fn raw_set_body(&self, origin: &str, seq: i64, body: &[u8]) {
        let sql = "UPDATE entries SET body = $3 WHERE origin = $1 AND seq = $2";
        let done = match self.raw().await {
            Raw::Sqlite(p) => {
                let done = sqlx::query(sql).bind(origin).bind(seq).bind(body).execute(&p).await.expect("write body");
                p.close().await;
                done.rows_affected()
            }
            Raw::Postgres(mut c) => {
                let done =
                    sqlx::query(sql).bind(origin).bind(seq).bind(body).execute(&mut c).await.expect("write body");
                c.close().await.ok();
                done.rows_affected()
            }
        };
        assert_eq!(done, 1, "no entry {origin}#{seq} to tamper with");
    }

    /// Closes every store opened on this database, then drops it (PostgreSQL, best effort).
    pub async fn finish(mut self) {
        let stores = std::mem::take(&mut *self.stores.lock().unwrap());
        for store in stores {
            store.close().await;
        }
        if let Kind::Postgres { admin_url, name } = &self.kind
            && let Err(e) = drop_database(admin_url, name).await
        {
            eprintln!("could not drop test database {name}: {e}");
        }
        self.finished = true;
    }
}

impl Drop for TestDb {
    /// After a panic: drops the PostgreSQL database from a thread of its own (the test's
    /// runtime may be unwinding). `WITH (FORCE)` ends the connections the store still holds.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Kind::Postgres { admin_url, name } = &self.kind {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let cleanup = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                if let Err(e) = rt.block_on(drop_database(&admin_url, &name)) {
                    eprintln!("could not drop test database {name}: {e}");
                }
            });
            let _ = cleanup.join();
        }
    }
}

/// One connection to `url`; a server that cannot be reached fails the test.
async fn connect_pg(url: &str) -> PgConnection {
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!("cannot reach PostgreSQL at {} ({PG_URL_VAR}): {e}", redact(url)),
        Err(_) => panic!("cannot reach PostgreSQL at {} ({PG_URL_VAR}): no answer in 10 s", redact(url)),
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut admin).await?;
    admin.close().await
}

/// `url` with its database name replaced by `database` (query parameters kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{database}", &base[..path]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("OS random source");
    hex::encode(buf)
}
