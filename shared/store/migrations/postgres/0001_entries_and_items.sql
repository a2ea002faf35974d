-- Entries are the source of truth; every other table is a projection rebuilt from them.
CREATE TABLE entries (
    local_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- arrival order for replay
    origin   TEXT   NOT NULL,
    seq      BIGINT NOT NULL,
    hash     BYTEA  NOT NULL,
    at       TEXT   NOT NULL,
    body     BYTEA  NOT NULL,                                 -- the exact signed bytes
    sig      BYTEA  NOT NULL,
    UNIQUE (origin, seq)
);

CREATE TABLE heads (
    origin TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   BYTEA  NOT NULL
);

CREATE TABLE items (
    node              TEXT   NOT NULL,
    code              TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    category          TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    implementing_body TEXT   NOT NULL,
    data              TEXT   NOT NULL,                         -- the whole item as JSON
    last_seq          BIGINT NOT NULL,
    updated_at        TEXT   NOT NULL,
    PRIMARY KEY (node, code)
);
CREATE INDEX items_by_category ON items (node, category);
CREATE INDEX items_by_body ON items (node, implementing_body);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('format', 'quanze-store-1');
