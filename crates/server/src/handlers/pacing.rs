//! Paced imports (docs/debt-issues.md, docs/reliability.md): a sync job whose installation has no write
//! budget left is put off until it has, without touching GitHub; a run
//! that left creates for later queues its follow-up for when the next
//! batch fits the budget; the dashboard says when that is.

use chrono::{DateTime, Utc};

use super::{GitHubHandler, HandlerError, SYNC_EVENT, SyncJob, db_id};
use crate::pacing::to_datetime;
use crate::store::NewDelivery;

impl GitHubHandler {
    /// Defers a `paydown.sync` job while its installation cannot create
    /// anything: it would only read GitHub and find the budget spent.
    pub(super) async fn pace_sync_job(&self, job: &SyncJob) -> Result<(), HandlerError> {
        let Some(pacer) = &self.pacer else {
            return Ok(());
        };
        let at = pacer.next_batch_at(job.installation, 1).await?;
        if pacer.worth_deferring(at) {
            return Err(HandlerError::Paced {
                until_ms: at,
                reason: format!(
                    "{}: write budget of installation {} spent; the import continues at {}",
                    job.repository,
                    job.installation,
                    to_datetime(at).format("%Y-%m-%d %H:%M:%S UTC")
                ),
            });
        }
        Ok(())
    }

    /// When the dashboard can say the next batch of an import runs,
    /// supposing this run creates up to `max_new_per_run` issues (the
    /// config in force as last seen: `last_valid`, else the defaults).
    /// `None` without pacing.
    pub(super) async fn next_import_batch(
        &self,
        installation: u64,
        last_valid: Option<&str>,
    ) -> Result<Option<DateTime<Utc>>, HandlerError> {
        let Some(pacer) = &self.pacer else {
            return Ok(None);
        };
        let batch = paydown_sync::resolve_config(last_valid, None)
            .config
            .issues
            .max_new_per_run;
        let at = pacer.predict_next_batch(installation, batch, batch).await?;
        Ok(Some(to_datetime(at)))
    }

    /// The error of a run some of whose writes failed transiently: when the
    /// installation's write budget is what is missing, the job is put off
    /// until it frees ([`HandlerError::Paced`]) instead of retried soon.
    pub(super) async fn transient_failure(
        &self,
        installation: u64,
        message: String,
    ) -> HandlerError {
        if let Some(pacer) = &self.pacer
            && let Ok(at) = pacer.next_batch_at(installation, 1).await
            && pacer.worth_deferring(at)
        {
            return HandlerError::Paced {
                until_ms: at,
                reason: format!("{message}; the write budget frees at {}", to_datetime(at)),
            };
        }
        HandlerError::Other(message)
    }

    /// When the follow-up run of an import that created `created` issues
    /// and left `deferred` for later should start: when that many again
    /// fit the budget (at once without pacing).
    pub(super) async fn follow_up_at(
        &self,
        installation: u64,
        created: usize,
        deferred: usize,
    ) -> Result<Option<i64>, HandlerError> {
        let Some(pacer) = &self.pacer else {
            return Ok(None);
        };
        let want = created.max(1).min(deferred.max(1));
        let at = pacer
            .next_batch_at(installation, u32::try_from(want).unwrap_or(u32::MAX))
            .await?;
        Ok(Some(at))
    }

    /// Queues a full sync of `full_name`, not to run before `run_at_ms`
    /// (unix ms, pacing clock; `None`: at once). The delivery id makes it
    /// idempotent: the same reason for the same repository queues once.
    pub(super) async fn queue_sync_at(
        &self,
        full_name: &str,
        installation: u64,
        reason: &str,
        run_at_ms: Option<i64>,
    ) -> Result<(), HandlerError> {
        let job = SyncJob {
            repository: full_name.to_string(),
            installation,
        };
        let payload = serde_json::to_vec(&job).map_err(|e| HandlerError::Other(e.to_string()))?;
        self.store
            .enqueue_at(
                NewDelivery {
                    settled: false,
                    delivery_id: format!("{SYNC_EVENT}:{full_name}:{reason}"),
                    event: SYNC_EVENT.to_string(),
                    action: None,
                    repo_key: Some(full_name.to_string()),
                    installation_id: Some(db_id(installation)?),
                    payload,
                },
                run_at_ms,
            )
            .await?;
        Ok(())
    }
}
