-- Grant batches (赋权) and special seals (专用分章): projections of the grant.* and seal.* ops
-- (rebuilt from the entries like every projection). Rows written by the grantor's and the
-- grantee's entries never depend on the order those entries arrive in.

-- One row per batch (the entry that issued it); `data` is the header as JSON (dates of
-- acceptance, revocation, extensions).
CREATE TABLE grants (
    grantor TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    hash    TEXT    NOT NULL,
    doc_no  TEXT    NOT NULL,
    grantee TEXT    NOT NULL,
    issued  TEXT    NOT NULL,
    data    TEXT    NOT NULL,
    at      TEXT    NOT NULL,
    PRIMARY KEY (grantor, seq)
);
CREATE INDEX grants_doc_no ON grants (doc_no);
CREATE INDEX grants_grantee ON grants (grantee);

-- The items of each batch, with the grantor's item as it stood when granted.
CREATE TABLE grant_items (
    grantor      TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    code         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    grantor_dept TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    PRIMARY KEY (grantor, seq, code)
);
CREATE INDEX grant_items_by_code ON grant_items (code);

-- Seals by their grantor node and id; `data` is the seal with its lifecycle dates (JSON).
CREATE TABLE seals (
    grantor  TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    issuer   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    serial   INTEGER NOT NULL,
    holder   TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    PRIMARY KEY (grantor, id),
    UNIQUE (grantor, issuer, kind, serial)
);
CREATE INDEX seals_by_id ON seals (id);
CREATE INDEX seals_by_holder ON seals (holder);

-- Every grant and seal step with the entry that recorded it: the history shown with a batch or
-- a seal, and the evidence an audit cites.
CREATE TABLE grant_events (
    origin  TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    subject TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    at      TEXT    NOT NULL,
    PRIMARY KEY (origin, seq, idx)
);
CREATE INDEX grant_events_by_subject ON grant_events (subject);

-- Which grant an item of a list came from (origin#seq of the batch), for granted items.
ALTER TABLE items ADD COLUMN grant_ref TEXT;
