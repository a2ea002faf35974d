//! Who is calling: local accounts, sessions, API tokens and the role checks of the API.
//!
//! Owns the `Principal` that every authenticated API request carries (put in the request's
//! extensions by the authentication middleware) and the helpers that turn "needs role R" into
//! a 403 with a stable code; which routes need what (`access.rs`); the middleware that resolves
//! the caller (`middleware.rs`); password hashing and tokens (`password.rs`); the per-client
//! brake on password guessing (`limiter.rs`). Passwords, sessions and tokens are node-local
//! (migration `0008_accounts`) and never reach the log: a workflow step records only the
//! `Actor` (account id, display name, role, department). Must not sign or write entries.

pub mod access;
pub mod limiter;
pub mod middleware;
pub mod password;
mod principal;

pub use limiter::LoginLimiter;
pub use middleware::authenticate;
pub use principal::Principal;

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "quanze_session";
/// How long a console session lasts, in seconds (8 hours).
pub const SESSION_SECS: i64 = 8 * 3600;
/// Consecutive failed logins that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a lock lasts, in seconds (15 minutes).
pub const LOCK_SECS: i64 = 15 * 60;
