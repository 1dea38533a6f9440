-- A repository's sync state as rows instead of one JSON blob in repo_state
-- (which a push rewrote whole: megabytes for a large repository). A push
-- writes only the rows of what it changed. Blobs kept under
-- 'paydown.sync-state' are converted by the server on start (and on first
-- read), then deleted.

-- The part that is not per item: synced commit, config in force, listing
-- cursor, completeness, dashboard (JSON of paydown_sync::state::StateHead).
CREATE TABLE sync_heads (
    repo       TEXT    NOT NULL PRIMARY KEY,
    version    BIGINT NOT NULL,
    sha        TEXT    NOT NULL,
    head       TEXT    NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per tracked issue: the debt item it tracks (its marker's id), the
-- issue as the planner needs it and its dates (JSON of IssueRow).
CREATE TABLE sync_issues (
    repo       TEXT    NOT NULL,
    number     BIGINT NOT NULL,
    item_id    TEXT,
    row_json   TEXT    NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo, number)
);

CREATE INDEX sync_issues_item ON sync_issues (repo, item_id);

-- The annotations of each scanned file (JSON list of StoredAnnotation).
CREATE TABLE sync_files (
    repo        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    annotations TEXT    NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (repo, path)
);
