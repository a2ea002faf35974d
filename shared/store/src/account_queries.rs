// Local accounts, console sessions and API tokens (migration 0008_accounts), compiled for each
// backend like `queries.rs`. Node-local state, NOT projections of the log: `rebuild` never
// clears these tables and `snapshot` never lists them. Only SHA-256 digests of session and API
// tokens reach the database, and passwords only as argon2id PHC strings made by the caller.
// Times are Unix seconds by the node's clock, passed in by the caller (tests shift it).
// Must not read or write entries or any projection.
// (Included with `include!`, so inner doc comments are not allowed here.)

use crate::types::{AccountRow, LoginRecord, NewAccount};

fn account_row(r: &<Db as sqlx::Database>::Row) -> Result<AccountRow, StoreError> {
    let roles: String = r.try_get("roles")?;
    let roles = roles
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|k| k.parse::<quanze_domain::Role>().map_err(|e| StoreError::Corrupt(format!("account role: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let disabled: i64 = r.try_get("disabled")?;
    let failed: i64 = r.try_get("failed_logins")?;
    Ok(AccountRow {
        id: r.try_get("id")?,
        login: r.try_get("login")?,
        name: r.try_get("name")?,
        roles,
        department: r.try_get("department")?,
        disabled: disabled != 0,
        failed_logins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: r.try_get("locked_until")?,
        created_at: r.try_get("created_at")?,
    })
}

fn role_keys(roles: &[quanze_domain::Role]) -> String {
    roles.iter().map(|r| r.key()).collect::<Vec<_>>().join(",")
}

/// Creates the account; `None` when the login is taken.
pub(crate) async fn create_account(pool: &Pool<Db>, new: &NewAccount) -> Result<Option<AccountRow>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO accounts (login, name, roles, department, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING RETURNING id",
    )
    .bind(&new.login)
    .bind(&new.name)
    .bind(role_keys(&new.roles))
    .bind(new.department.as_deref())
    .bind(&new.password_hash)
    .bind(new.created_at)
    .fetch_optional(pool)
    .await?;
    Ok(id.map(|id| AccountRow {
        id,
        login: new.login.clone(),
        name: new.name.clone(),
        roles: new.roles.clone(),
        department: new.department.clone(),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created_at: new.created_at,
    }))
}

pub(crate) async fn accounts(pool: &Pool<Db>) -> Result<Vec<AccountRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, login, name, roles, department, disabled, failed_logins, locked_until, created_at \
         FROM accounts ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(account_row).collect()
}

pub(crate) async fn account_by_login(pool: &Pool<Db>, login: &str) -> Result<Option<AccountRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, login, name, roles, department, disabled, failed_logins, locked_until, created_at \
         FROM accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_row).transpose()
}

pub(crate) async fn login_record(pool: &Pool<Db>, login: &str) -> Result<Option<LoginRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, login, name, roles, department, disabled, failed_logins, locked_until, created_at, password_hash \
         FROM accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok(LoginRecord { account: account_row(&r)?, password_hash: r.try_get("password_hash")? })).transpose()
}

/// Counts one failed login; at `max` consecutive failures the account is locked until
/// `lock_until` and the count starts again. Returns the lock when this failure set it.
pub(crate) async fn record_login_failure(
    pool: &Pool<Db>,
    id: i64,
    max: u32,
    lock_until: i64,
) -> Result<Option<i64>, StoreError> {
    // Every right-hand side reads the row as it was before the update, on both databases.
    let row = sqlx::query(
        "UPDATE accounts SET \
         failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, \
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END \
         WHERE id = $1 RETURNING failed_logins, locked_until",
    )
    .bind(id)
    .bind(i64::from(max))
    .bind(lock_until)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let failed: i64 = row.try_get("failed_logins")?;
    let locked: Option<i64> = row.try_get("locked_until")?;
    Ok(if failed == 0 { locked } else { None })
}

/// A successful login: the failure count and any expired lock are cleared.
pub(crate) async fn record_login_success(pool: &Pool<Db>, id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}

/// Stores a session (by the SHA-256 of its token) and drops the sessions expired at `created_at`.
pub(crate) async fn create_session(
    pool: &Pool<Db>,
    token_hash: &str,
    account: i64,
    created_at: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(created_at).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO sessions (token_hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(account)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The enabled account of an unexpired session.
pub(crate) async fn session_account(pool: &Pool<Db>, token_hash: &str, now: i64) -> Result<Option<AccountRow>, StoreError> {
    let row = sqlx::query(
        "SELECT a.id, a.login, a.name, a.roles, a.department, a.disabled, a.failed_logins, a.locked_until, a.created_at \
         FROM sessions s JOIN accounts a ON a.id = s.account \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled = 0",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_row).transpose()
}

/// Ends a session; false when there was none.
pub(crate) async fn delete_session(pool: &Pool<Db>, token_hash: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn add_api_token(
    pool: &Pool<Db>,
    token_hash: &str,
    account: i64,
    label: &str,
    created_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO api_tokens (token_hash, account, label, created_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(account)
        .bind(label)
        .bind(created_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// The enabled account of an unrevoked API token.
pub(crate) async fn token_account(pool: &Pool<Db>, token_hash: &str) -> Result<Option<AccountRow>, StoreError> {
    let row = sqlx::query(
        "SELECT a.id, a.login, a.name, a.roles, a.department, a.disabled, a.failed_logins, a.locked_until, a.created_at \
         FROM api_tokens t JOIN accounts a ON a.id = t.account \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.disabled = 0",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_row).transpose()
}

/// Disables the account, ends its sessions and revokes its API tokens, in one transaction.
/// False when there is no such account.
pub(crate) async fn disable_account(pool: &Pool<Db>, login: &str, now: i64) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let id: Option<i64> = sqlx::query_scalar("UPDATE accounts SET disabled = 1 WHERE login = $1 RETURNING id")
        .bind(login)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(id) = id else { return Ok(false) };
    sqlx::query("DELETE FROM sessions WHERE account = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE account = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Replaces the password hash, clears failures and the lock, and ends the account's sessions.
/// False when there is no such account.
pub(crate) async fn set_password(pool: &Pool<Db>, login: &str, password_hash: &str) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "UPDATE accounts SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE login = $1 RETURNING id",
    )
    .bind(login)
    .bind(password_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(false) };
    sqlx::query("DELETE FROM sessions WHERE account = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}
