-- The node's people: local accounts with their roles, console sessions and API tokens.
-- Node-local state, NOT projections of the log: `rebuild` never clears these tables and no
-- snapshot compares them. The log records only the actor of a step (`u{id}`, name, role).
-- Only the SHA-256 of a session or API token is stored; passwords as argon2id PHC strings.
-- Times are Unix seconds by the node's clock (shiftable with --now).

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- shown as u{id}; never reused
    login         TEXT    NOT NULL UNIQUE,           -- lower case
    name          TEXT    NOT NULL,                  -- display name (姓名或称谓)
    roles         TEXT    NOT NULL,                  -- role keys, comma-separated
    department    TEXT,                              -- required for a clerk
    password_hash TEXT    NOT NULL,                  -- argon2id, PHC string
    disabled      INTEGER NOT NULL DEFAULT 0,        -- 1: no login, sessions and tokens dead
    failed_logins INTEGER NOT NULL DEFAULT 0,        -- consecutive failures since the last success
    locked_until  INTEGER,                           -- no login before this instant
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,                  -- SHA-256 (hex) of the cookie value
    account    INTEGER NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account);

CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,                  -- SHA-256 (hex) of the bearer token
    account    INTEGER NOT NULL REFERENCES accounts (id),
    label      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_by_account ON api_tokens (account);
