-- Federation. `enrolments` is a projection of Enroll / Revoke / Resolve ops (rebuilt from the
-- entries); the other tables are node-local state and evidence, never projections.

-- Key history per division: the key valid from `valid_from` (NULL: revoked from there on).
CREATE TABLE enrolments (
    division   TEXT    NOT NULL,
    valid_from INTEGER NOT NULL,
    public_key TEXT,
    tier       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    by_origin  TEXT    NOT NULL,
    by_seq     INTEGER NOT NULL,
    PRIMARY KEY (division, valid_from)
);

-- The root of trust this node was configured with (written once, at init or join).
CREATE TABLE trust_root (
    division   TEXT PRIMARY KEY,
    public_key TEXT NOT NULL
);

-- Two different validly signed entries for one (origin, seq): both kept as evidence. An origin
-- with an unresolved fork is quarantined: nothing more of it is applied.
CREATE TABLE forks (
    origin      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    body        BLOB    NOT NULL,
    sig         BLOB    NOT NULL,
    detected_at TEXT    NOT NULL,
    resolved_by TEXT,
    PRIMARY KEY (origin, seq, hash)
);

-- Entries refused on delivery, with why (evidence; never read by the applier).
CREATE TABLE refusals (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL,
    peer    TEXT    NOT NULL,
    origin  TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    code    TEXT    NOT NULL,
    message TEXT    NOT NULL
);

-- Per origin, the seq the parent has acknowledged (the push checkpoint).
CREATE TABLE push_acks (
    origin TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL
);

-- One-time enrolment invites issued by this node (only a hash of the token is kept).
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    division   TEXT NOT NULL,
    tier       TEXT NOT NULL,
    name       TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

-- Small node-local facts: sync status, last errors.
CREATE TABLE node_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
