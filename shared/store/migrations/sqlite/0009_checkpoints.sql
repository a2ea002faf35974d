-- Merkle trees over the logs (RFC 9162) and their cosigned checkpoints.

-- Hashes of the perfect (complete, aligned) subtrees of each log's tree: subtree (level, idx)
-- covers leaves [idx * 2^level, (idx + 1) * 2^level), leaf i being entry seq i + 1. Filled up to
-- `merkle_sizes.size`. A cache derived from the entries (which never change): safe to drop.
CREATE TABLE merkle_nodes (
    origin TEXT    NOT NULL,
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB    NOT NULL,
    PRIMARY KEY (origin, level, idx)
);

CREATE TABLE merkle_sizes (
    origin TEXT PRIMARY KEY,
    size   INTEGER NOT NULL
);

-- Checkpoints signed by their origin and cosigned by its parent, both signatures verified
-- before they were stored (evidence; node-local, not a projection).
CREATE TABLE checkpoints (
    origin      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    root        BLOB    NOT NULL,
    at          TEXT    NOT NULL,
    signature   TEXT    NOT NULL,
    cosigner    TEXT    NOT NULL,
    cosignature TEXT    NOT NULL,
    stored_at   TEXT    NOT NULL,
    PRIMARY KEY (origin, size, cosigner)
);

-- Per child origin, the last checkpoint this node cosigned: the compare-and-set point of the
-- next cosignature (it must extend this one).
CREATE TABLE cosign_heads (
    origin TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    root   BLOB    NOT NULL
);
