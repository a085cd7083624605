-- scamsweep schema v2 (sqlite): sources with scheduling, health and cursor; crawls tied to
-- sources; frontier path keys for trap budgets; per-host concurrency slots; adapter
-- metadata on versions; binary fetch evidence. Keep in step with the other backend.

-- v1's sources table was never written to; it is replaced by the full definition.
DROP TABLE sources;
CREATE TABLE sources (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE,
    kind                 TEXT    NOT NULL,
    -- JSON: seeds, scope, selectors, robots override (see crawler::source::SourceSpec).
    spec                 TEXT    NOT NULL,
    -- Where the source was declared: 'config', 'cli' or 'api'.
    origin               TEXT    NOT NULL,
    recrawl_secs         INTEGER,
    enabled              INTEGER  NOT NULL DEFAULT 1,
    next_crawl_at        INTEGER,
    last_crawl_id        INTEGER,
    last_crawl_at        INTEGER,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER  NOT NULL DEFAULT 0,
    throttled_until      INTEGER,
    -- Telegram channels: highest message id seen.
    cursor               INTEGER,
    created_at           INTEGER  NOT NULL,
    updated_at           INTEGER  NOT NULL
);
CREATE INDEX sources_due ON sources (enabled, next_crawl_at);

ALTER TABLE crawls ADD COLUMN source_id INTEGER REFERENCES sources(id);
ALTER TABLE crawls ADD COLUMN cursor_floor INTEGER;
-- The source spec (JSON) the crawl runs under, frozen at its start.
ALTER TABLE crawls ADD COLUMN spec TEXT;

ALTER TABLE frontier ADD COLUMN path_key TEXT;
CREATE INDEX frontier_crawl_host ON frontier (crawl_id, host);
CREATE INDEX frontier_crawl_path ON frontier (crawl_id, path_key);

-- Frontier rows per crawl ('' = all) and per crawl and host, kept as the rows are added so
-- the page and host budgets are point lookups, not counts over a growing frontier.
CREATE TABLE crawl_counts (
    crawl_id INTEGER  NOT NULL REFERENCES crawls(id),
    scope    TEXT    NOT NULL,
    n        INTEGER  NOT NULL,
    PRIMARY KEY (crawl_id, scope)
);

-- One row per concurrent fetch a host allows; a fetch holds a slot until it finishes or
-- its lease runs out (a crashed worker's slot frees itself).
CREATE TABLE host_slots (
    host       TEXT    NOT NULL,
    slot       INTEGER  NOT NULL,
    busy_until INTEGER  NOT NULL DEFAULT 0,
    PRIMARY KEY (host, slot)
);

ALTER TABLE document_versions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';

-- Bodies that are not text are hashed while streaming and not stored.
ALTER TABLE fetches ADD COLUMN binary_sha256 TEXT;
ALTER TABLE fetches ADD COLUMN binary_truncated INTEGER;
