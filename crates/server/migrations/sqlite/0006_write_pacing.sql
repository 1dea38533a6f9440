-- Write pacing per installation (SPEC §7): every write paydown sends to
-- GitHub for an installation first reserves a slot here, so all workers
-- and replicas share one budget (one write a second; 80 content-creating
-- writes a minute, 500 an hour). A row is a reserved or spent slot; rows
-- older than the longest window are pruned as new ones are taken.
-- `at_ms` is UTC unix milliseconds on the pacing clock; `content` is 1 for
-- a write GitHub counts as content creation.
CREATE TABLE write_slots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    installation_id INTEGER NOT NULL,
    at_ms           INTEGER NOT NULL,
    content         INTEGER NOT NULL
);

CREATE INDEX write_slots_installation ON write_slots (installation_id, at_ms);
