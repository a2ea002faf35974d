-- Entries are the source of truth; every other table is a projection rebuilt from them.
CREATE TABLE entries (
    local_id INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order: projections are replayed in it
    origin   TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    hash     BLOB    NOT NULL,
    at       TEXT    NOT NULL,
    body     BLOB    NOT NULL,                  -- the exact signed bytes
    sig      BLOB    NOT NULL,
    UNIQUE (origin, seq)
);

CREATE TABLE heads (
    origin TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    hash   BLOB    NOT NULL
);

CREATE TABLE items (
    node              TEXT    NOT NULL,
    code              TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    implementing_body TEXT    NOT NULL,
    data              TEXT    NOT NULL,         -- the whole item as JSON
    last_seq          INTEGER NOT NULL,
    updated_at        TEXT    NOT NULL,
    PRIMARY KEY (node, code)
);
CREATE INDEX items_by_category ON items (node, category);
CREATE INDEX items_by_body ON items (node, implementing_body);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('format', 'quanze-store-1');
