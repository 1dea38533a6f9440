//! Incidents, stored durably and deduplicated by their source's own id:
//! `(source, id)` is the key, so a redelivery or an edit replaces the row.

use paydown_incidents::Incident;

use super::{Store, StoreError, now_ms, with_pool};

impl Store {
    /// Stores `incident` (replacing the row with the same source and id).
    /// `service` is the PagerDuty service it belongs to, for routing.
    pub async fn upsert_incident(
        &self,
        incident: &Incident,
        service: Option<&str>,
    ) -> Result<(), StoreError> {
        let data = serde_json::to_string(incident)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode incident: {e}")))?;
        let repository = incident.repository.as_deref().map(str::to_ascii_lowercase);
        let started = incident.started_at.timestamp_millis();
        let now = now_ms();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO incidents (source, id, repository, service, started_at, data, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (source, id) DO UPDATE
                    SET repository = excluded.repository, service = excluded.service,
                        started_at = excluded.started_at, data = excluded.data,
                        updated_at = excluded.updated_at",
            )
            .bind(&incident.source)
            .bind(&incident.id)
            .bind(&repository)
            .bind(service)
            .bind(started)
            .bind(&data)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("store an incident"))?;
        Ok(())
    }

    /// The stored incident with this source and id, and its PagerDuty service.
    pub async fn incident(
        &self,
        source: &str,
        id: &str,
    ) -> Result<Option<(Incident, Option<String>)>, StoreError> {
        let row: Option<(String, Option<String>)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT data, service FROM incidents WHERE source = $1 AND id = $2")
                .bind(source)
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("read an incident"))?;
        row.map(|(data, service)| Ok((decode(&data)?, service)))
            .transpose()
    }

    /// Forgets an incident (deleted, transferred away, label removed);
    /// returns whether it was known.
    pub async fn delete_incident(&self, source: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, |pool| {
            sqlx::query("DELETE FROM incidents WHERE source = $1 AND id = $2")
                .bind(source)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(StoreError::query("delete an incident"))?;
        Ok(deleted > 0)
    }

    /// Incidents living in or routed to any of `repositories` (owner/name,
    /// any case), plus PagerDuty incidents of `services`; by start time.
    pub async fn incidents_for(
        &self,
        repositories: &[String],
        services: &[String],
    ) -> Result<Vec<Incident>, StoreError> {
        let mut out = Vec::new();
        for repository in repositories {
            out.extend(
                self.incidents_where("repository", &repository.to_ascii_lowercase())
                    .await?,
            );
        }
        for service in services {
            out.extend(
                self.incidents_where("service", service)
                    .await?
                    .into_iter()
                    .filter(|i| i.source == "pagerduty"),
            );
        }
        out.sort_by(|a, b| (a.started_at, &a.source, &a.id).cmp(&(b.started_at, &b.source, &b.id)));
        out.dedup_by(|a, b| a.source == b.source && a.id == b.id);
        Ok(out)
    }

    async fn incidents_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Vec<Incident>, StoreError> {
        // `column` is one of two literals above, never input.
        let sql = format!("SELECT data FROM incidents WHERE {column} = $1 ORDER BY started_at");
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(value).fetch_all(pool).await
        })
        .map_err(StoreError::query("list incidents"))?;
        rows.iter().map(|(data,)| decode(data)).collect()
    }
}

fn decode(data: &str) -> Result<Incident, StoreError> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(format!("stored incident: {e}")))
}
