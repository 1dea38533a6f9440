-- Incidents from every source (GitHub issues, PagerDuty, the generic
-- endpoint), one row per source's own id: a redelivery or an edit upserts.
-- `repository` is where the incident lives or is routed to (lowercase
-- owner/name); `service` is PagerDuty's service id, routed at read time by
-- each repository's `incidents.pagerduty_services`. `data` is the incident
-- as JSON (paydown_incidents::Incident). Times are UTC unix milliseconds.
CREATE TABLE incidents (
    source     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    repository TEXT,
    service    TEXT,
    started_at INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE INDEX incidents_repository ON incidents (repository);
CREATE INDEX incidents_service ON incidents (service);
