-- The audit's projections: every version of every list item (so a list can be reconstructed as
-- of any day) and the cached current findings, refreshed partition by partition as entries
-- arrive. All are rebuilt from the entries like every projection.

-- One row per (item, entry that wrote it): the node's own item ops and grant acceptances. A
-- grantor's revocation writes no version here; the audit reads it from the grant facts, so the
-- rows do not depend on which of the two entries arrived first.
CREATE TABLE item_versions (
    node        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,  -- the node's entry
    day         TEXT    NOT NULL,  -- China day of that entry (YYYY-MM-DD)
    name        TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    basis_fp    BIGINT  NOT NULL,  -- fingerprint of the basis (equal bases, equal values)
    basis       TEXT    NOT NULL,  -- the basis as one line of text
    local_basis BIGINT  NOT NULL,  -- 1 when a citation is a local regulation or rule
    gaps        BIGINT  NOT NULL,  -- bit set of empty required elements
    grant_ref   TEXT,
    PRIMARY KEY (node, code, seq)
);
CREATE INDEX item_versions_by_code ON item_versions (code);

-- Current findings, by partition (code:…, node:…, seal:…); `data` is the finding as JSON.
CREATE TABLE audit_findings (
    part     TEXT    NOT NULL,
    idx      BIGINT  NOT NULL,
    node     TEXT    NOT NULL,
    rule     TEXT    NOT NULL,
    from_day TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    PRIMARY KEY (part, idx)
);
CREATE INDEX audit_findings_by_node ON audit_findings (node);

-- Units checked per partition and node (the denominator of each node's score).
CREATE TABLE audit_units (
    part  TEXT    NOT NULL,
    node  TEXT    NOT NULL,
    units BIGINT  NOT NULL,
    PRIMARY KEY (part, node)
);

-- How far the cached findings have read the entries (entries.local_id); 0 or no row: not yet.
CREATE TABLE audit_checkpoint (
    id       INTEGER PRIMARY KEY,
    local_id BIGINT  NOT NULL
);
