-- When each installation last had a delivery claimed (UTC unix ms): the
-- claim prefers the installation served least recently, so one noisy
-- installation cannot starve the others (round-robin by installation).
CREATE TABLE installation_claims (
    installation_id BIGINT PRIMARY KEY,
    claimed_at      BIGINT NOT NULL
);
