//! Who is calling: local accounts, sessions, API tokens and the role checks of the API.
//!
//! Owns the `Principal` that every authenticated API request carries (put in the request's
//! extensions by the authentication middleware) and the helpers that turn "needs role R" into
//! a 403 with a stable code. Passwords, sessions and tokens never reach the log: a workflow
//! step records only the `Actor` (account id, display name, role, department).

mod principal;

pub use principal::Principal;
