-- Until when (UTC unix ms) each installation must send GitHub nothing:
-- set when any replica is answered 403/429 with `Retry-After` (or a
-- secondary-limit answer) for it, read by every replica before each of
-- the installation's requests, so one replica's rate limit holds the
-- others back too (docs/reliability.md). Only ever moved later.
CREATE TABLE installation_quiet (
    installation_id BIGINT PRIMARY KEY,
    until_ms        BIGINT NOT NULL
);
