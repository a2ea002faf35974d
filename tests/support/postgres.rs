//! Throw-away PostgreSQL databases for black-box tests that need one (`QUANZE_TEST_DATABASE_URL`
//! names the server). Without the variable the caller skips, with a note; under `CI=true` that
//! is a failure.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

const PG_URL_VAR: &str = "QUANZE_TEST_DATABASE_URL";

/// A new, empty database on the test server; `drop` removes it.
#[derive(Debug)]
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl FreshDatabase {
    /// `None` (after a note on stderr) when the variable is unset outside CI.
    pub async fn create(test: &str) -> Option<FreshDatabase> {
        let admin_url = match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{PG_URL_VAR} is not set; PostgreSQL tests cannot be skipped in CI"
                );
                eprintln!("{test}: PostgreSQL part skipped ({PG_URL_VAR} is not set)");
                return None;
            }
        };
        let mut raw = [0u8; 6];
        getrandom_fill(&mut raw);
        let name = format!("quanze_bb_{}", hex::encode(raw));
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        admin.close().await.ok();
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Some(FreshDatabase { admin_url, name, url })
    }

    /// Drops the database (closing what still uses it).
    pub async fn drop(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.expect("connect to the PostgreSQL test server");
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await
            .expect("DROP DATABASE");
        admin.close().await.ok();
    }
}

/// Random bytes from the time and the process id (names only, not secrets).
fn getrandom_fill(out: &mut [u8]) {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
        ^ u128::from(std::process::id());
    for (i, b) in out.iter_mut().enumerate() {
        *b = (seed >> (i * 8 % 120)) as u8;
    }
}
