-- One leader among the replicas for periodic jobs: a lease row per role,
-- renewed by its holder, taken over by another replica once it expired.
CREATE TABLE leader_leases (
    name        TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);

-- When each periodic job last ran (on whichever replica led), so a new
-- leader keeps the schedule instead of running every job at once.
CREATE TABLE periodic_runs (
    name        TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    last_error  TEXT
);
