-- scamsweep schema v1 (SQLite). Keep in step with migrations/postgres/0001_init.sql:
-- same tables, same columns, same constraints. Times are unix milliseconds (INTEGER),
-- JSON documents are TEXT, booleans are avoided in favour of explicit state columns.

CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    url         TEXT    NOT NULL UNIQUE,
    label       TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE crawls (
    id          INTEGER PRIMARY KEY,
    source_kind TEXT    NOT NULL,
    max_depth   INTEGER NOT NULL,
    same_host   INTEGER NOT NULL,
    note        TEXT,
    created_at  INTEGER NOT NULL
);

-- One row per URL a crawl decided to fetch; the fetch job carries the row id, so a job
-- delivered twice finds its fetch already recorded.
CREATE TABLE frontier (
    id              INTEGER PRIMARY KEY,
    crawl_id        INTEGER NOT NULL REFERENCES crawls(id),
    url             TEXT    NOT NULL,
    host            TEXT    NOT NULL,
    depth           INTEGER NOT NULL,
    source_kind     TEXT    NOT NULL,
    parent_fetch_id INTEGER,
    state           TEXT    NOT NULL DEFAULT 'new',
    created_at      INTEGER NOT NULL,
    UNIQUE (crawl_id, url)
);
CREATE INDEX frontier_state ON frontier (state);

CREATE TABLE hosts (
    host              TEXT    PRIMARY KEY,
    next_fetch_at     INTEGER NOT NULL DEFAULT 0,
    crawl_delay_ms    INTEGER NOT NULL,
    robots_status     INTEGER,
    robots_body       BLOB,
    robots_fetched_at INTEGER
);

-- Raw bodies, content-addressed by the SHA-256 of the uncompressed bytes.
CREATE TABLE blobs (
    sha256      TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    encoding    TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE fetches (
    id             INTEGER PRIMARY KEY,
    frontier_id    INTEGER UNIQUE REFERENCES frontier(id),
    requested_url  TEXT    NOT NULL,
    final_url      TEXT,
    redirect_chain TEXT    NOT NULL,
    status         INTEGER,
    outcome        TEXT    NOT NULL,
    error          TEXT,
    headers        TEXT    NOT NULL,
    resolved_ip    TEXT,
    started_at     INTEGER NOT NULL,
    elapsed_ms     INTEGER NOT NULL,
    body_sha256    TEXT REFERENCES blobs(sha256),
    body_size      INTEGER,
    content_type   TEXT
);
CREATE INDEX fetches_outcome ON fetches (outcome);

CREATE TABLE documents (
    id                INTEGER PRIMARY KEY,
    doc_key           TEXT    NOT NULL UNIQUE,
    kind              TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'new',
    latest_version_id INTEGER,
    label             TEXT,
    score             REAL,
    first_seen_at     INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL
);
CREATE INDEX documents_status ON documents (status, id);

CREATE TABLE document_versions (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id),
    version      INTEGER NOT NULL,
    fetch_id     INTEGER NOT NULL REFERENCES fetches(id),
    title        TEXT,
    body_text    TEXT    NOT NULL,
    language     TEXT,
    author       TEXT,
    posted_at    INTEGER,
    content_hash TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (document_id, version),
    UNIQUE (document_id, content_hash)
);

CREATE TABLE classifications (
    id            INTEGER PRIMARY KEY,
    version_id    INTEGER NOT NULL REFERENCES document_versions(id),
    model_name    TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    score         REAL    NOT NULL,
    probabilities TEXT    NOT NULL,
    explanation   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (version_id, model_name, model_version)
);

CREATE TABLE entities (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);

CREATE TABLE entity_mentions (
    entity_id  INTEGER NOT NULL REFERENCES entities(id),
    version_id INTEGER NOT NULL REFERENCES document_versions(id),
    raw        TEXT    NOT NULL,
    PRIMARY KEY (entity_id, version_id)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role    TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER REFERENCES users(id),
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    version_id  INTEGER NOT NULL REFERENCES document_versions(id),
    reviewer_id INTEGER NOT NULL REFERENCES users(id),
    decision    TEXT    NOT NULL,
    label       TEXT,
    note        TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    document_id    INTEGER NOT NULL REFERENCES documents(id),
    state          TEXT    NOT NULL,
    recipient_kind TEXT    NOT NULL,
    recipient      TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT    NOT NULL
);

CREATE TABLE tips (
    id               INTEGER PRIMARY KEY,
    received_at      INTEGER NOT NULL,
    channel          TEXT    NOT NULL,
    reporter_contact TEXT,
    url              TEXT,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    document_id      INTEGER REFERENCES documents(id)
);

-- Append-only, hash-chained: hash = sha256(prev_hash | seq | at | actor | action | subject | detail).
-- seq is assigned by the writer as last seq + 1; the primary key makes concurrent appenders
-- collide instead of forking the chain.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
