-- Durable webhook queue, installation records and per-repository state (PostgreSQL).
-- Timestamps are UTC unix milliseconds, the same representation as the SQLite backend.

CREATE TABLE deliveries (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      TEXT    NOT NULL UNIQUE,
    event            TEXT    NOT NULL,
    action           TEXT,
    repo_key         TEXT,
    installation_id  BIGINT,
    payload          BYTEA   NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'retry', 'running', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    run_at           BIGINT  NOT NULL,
    lease_owner      TEXT,
    lease_token      BIGINT  NOT NULL DEFAULT 0,
    lease_expires_at BIGINT,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    finished_at      BIGINT
);

CREATE INDEX deliveries_ready ON deliveries (status, run_at, id);
CREATE INDEX deliveries_repo_running ON deliveries (repo_key, status, lease_expires_at);

CREATE TABLE installations (
    id            BIGINT PRIMARY KEY,
    account_login TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE installation_repos (
    installation_id BIGINT NOT NULL,
    repo_id         BIGINT NOT NULL,
    full_name       TEXT   NOT NULL,
    PRIMARY KEY (installation_id, repo_id)
);

CREATE TABLE repo_state (
    repo       TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo, key)
);
