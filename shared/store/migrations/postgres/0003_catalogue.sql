-- Catalogue publications, reconciliation and adjustment filings: projections of the
-- calendar.year, catalogue.publish, recon.*, node.policy and request.file ops (rebuilt from the
-- entries like every projection).

-- The holiday arrangement of each year, as the root published it.
CREATE TABLE calendar_years (
    year   BIGINT  PRIMARY KEY,
    data   TEXT    NOT NULL,
    origin TEXT    NOT NULL,
    seq    BIGINT  NOT NULL
);

-- One row per publication (the entry that carries it). `requirements` is the JSON list of what
-- each tier's lists must show, derived from the catalogue when the publication was applied;
-- `required_by_tier` counts them per tier (JSON), so listings need not read the list.
CREATE TABLE publications (
    origin       TEXT    NOT NULL,
    seq          BIGINT  NOT NULL,
    hash         TEXT    NOT NULL,
    doc_no       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    published    TEXT    NOT NULL,
    effective    TEXT    NOT NULL,
    tiers        TEXT    NOT NULL,
    window_days  BIGINT  NOT NULL,
    window_unit  TEXT    NOT NULL,
    changes      BIGINT  NOT NULL,
    requirements TEXT    NOT NULL,
    required_by_tier TEXT NOT NULL,
    at           TEXT    NOT NULL,
    PRIMARY KEY (origin, seq)
);
CREATE INDEX publications_doc_no ON publications (doc_no);

-- Each publisher's catalogue: the state of every item it ever published.
CREATE TABLE catalogue (
    publisher TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    tiers     TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    effective TEXT    NOT NULL,
    pub_seq   BIGINT  NOT NULL,
    PRIMARY KEY (publisher, code)
);

-- A node's reconciliation task for a publication, once the node acted on it (a task with no
-- row is open). `status` is open until every required code is resolved.
CREATE TABLE recon_tasks (
    node       TEXT    NOT NULL,
    pub_origin TEXT    NOT NULL,
    pub_seq    BIGINT  NOT NULL,
    required   BIGINT  NOT NULL,
    resolved   BIGINT  NOT NULL,
    deviated   BIGINT  NOT NULL,
    status     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    closed_seq BIGINT ,
    closed_at  TEXT,
    PRIMARY KEY (node, pub_origin, pub_seq)
);
CREATE INDEX recon_tasks_publication ON recon_tasks (pub_origin, pub_seq);

-- How each required code of a task was resolved, by which entry.
CREATE TABLE recon_codes (
    node       TEXT    NOT NULL,
    pub_origin TEXT    NOT NULL,
    pub_seq    BIGINT  NOT NULL,
    code       TEXT    NOT NULL,
    resolution TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    basis      TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (node, pub_origin, pub_seq, code)
);

-- Each node's policy: how soon after a trigger its departments must file (JSON window).
CREATE TABLE policies (
    node           TEXT    PRIMARY KEY,
    request_window TEXT    NOT NULL,
    seq            BIGINT  NOT NULL
);

-- Adjustment requests filed with a node, with the window in force when filed.
CREATE TABLE filings (
    node           TEXT    NOT NULL,
    seq            BIGINT  NOT NULL,
    idx            BIGINT  NOT NULL,
    department     TEXT    NOT NULL,
    trigger_kind   TEXT    NOT NULL,
    trigger_date   TEXT    NOT NULL,
    filed_on       TEXT    NOT NULL,
    request_window TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    codes          TEXT    NOT NULL,
    PRIMARY KEY (node, seq, idx)
);
