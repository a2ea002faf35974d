//! The PostgreSQL backend, for large nodes (a province holds every list below it).
//! The queries are shared with SQLite (`queries.rs`); this file owns connecting only.

use sqlx::postgres::PgPoolOptions;



type Db = sqlx::Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connects and brings the schema up to date (unless `read_only`).
pub(crate) async fn connect(url: &str, read_only: bool) -> Result<sqlx::PgPool, StoreError> {
    let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
    if !read_only {
        MIGRATOR.run(&pool).await?;
    }
    Ok(pool)
}

include!("queries.rs");
