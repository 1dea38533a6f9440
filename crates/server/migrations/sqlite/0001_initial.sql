-- Durable webhook queue, installation records and per-repository state (SQLite).
-- Timestamps are UTC unix milliseconds.

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT    NOT NULL UNIQUE,
    event            TEXT    NOT NULL,
    action           TEXT,
    repo_key         TEXT,
    installation_id  INTEGER,
    payload          BLOB    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'retry', 'running', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    run_at           INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_token      INTEGER NOT NULL DEFAULT 0,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
);

CREATE INDEX deliveries_ready ON deliveries (status, run_at, id);
CREATE INDEX deliveries_repo_running ON deliveries (repo_key, status, lease_expires_at);

CREATE TABLE installations (
    id            INTEGER PRIMARY KEY,
    account_login TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE installation_repos (
    installation_id INTEGER NOT NULL,
    repo_id         INTEGER NOT NULL,
    full_name       TEXT    NOT NULL,
    PRIMARY KEY (installation_id, repo_id)
);

CREATE TABLE repo_state (
    repo       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo, key)
);
