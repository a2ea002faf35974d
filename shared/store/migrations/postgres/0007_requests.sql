-- The adjustment-request workflow: each request as its entries have made it, every step of
-- its trace, and which attachments a request cites. Rebuilt from the entries like every
-- projection. `attachments` holds the uploaded bytes: node-local, not in the log (the log
-- holds their SHA-256), never cleared by a rebuild.

CREATE TABLE requests (
    node           TEXT    NOT NULL,
    id             BIGINT  NOT NULL,  -- seq of the entry that first filed it
    revision       BIGINT  NOT NULL,
    kind           TEXT    NOT NULL,
    trigger_kind   TEXT    NOT NULL,
    trigger_date   TEXT    NOT NULL,
    department     TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    status         TEXT    NOT NULL,  -- reviewing | returned | rejected | published
    at_index       BIGINT  NOT NULL,  -- index into route of the current (or last) stage
    route          TEXT    NOT NULL,  -- JSON array of stage keys
    filer          TEXT    NOT NULL,  -- the filing actor, JSON
    filed_on       TEXT    NOT NULL,  -- China day of the first filing
    request_window TEXT    NOT NULL,  -- the node's filing window when first filed, JSON
    proposal       TEXT    NOT NULL,  -- the current revision, JSON
    last_seq       BIGINT  NOT NULL,
    published_seq  BIGINT,
    PRIMARY KEY (node, id)
);
CREATE INDEX requests_by_published ON requests (node, published_seq);

CREATE TABLE request_steps (
    node     TEXT    NOT NULL,
    seq      BIGINT  NOT NULL,
    idx      BIGINT  NOT NULL,
    id       BIGINT  NOT NULL,
    revision BIGINT  NOT NULL,
    action   TEXT    NOT NULL,  -- submit | resubmit | approve | return | reject
    stage    TEXT,
    actor    TEXT    NOT NULL,  -- JSON: account id, display name, role, department
    comment  TEXT    NOT NULL,
    at       TEXT    NOT NULL,
    PRIMARY KEY (node, seq, idx)
);
CREATE INDEX request_steps_by_request ON request_steps (node, id);

CREATE TABLE request_attachments (
    node   TEXT    NOT NULL,
    id     BIGINT  NOT NULL,
    sha256 TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    PRIMARY KEY (node, id, sha256)
);
CREATE INDEX request_attachments_by_hash ON request_attachments (sha256);

CREATE TABLE attachments (
    sha256      TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    media_type  TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    data        BYTEA   NOT NULL,
    uploaded_at TEXT    NOT NULL,
    account     TEXT    NOT NULL
);
