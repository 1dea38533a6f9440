//! The periodic safety sync, driven through simulated time: every
//! installed repository gets one full sync per period, at its own stable
//! offset, queued once however often (or by however many leaders) the job
//! runs; and the job is among those `paydown serve` leads.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fake_github::FakeGitHub;
use paydown_server::handlers::SYNC_EVENT;
use paydown_server::safety_sync::{SafetySyncOptions, delivery_id, offset_of, queue_due};
use paydown_server::store::Store;

const REPOS: [&str; 5] = [
    "octo-org/a",
    "octo-org/b",
    "octo-org/c",
    "other/d",
    "other/e",
];

async fn store_with_repos() -> Store {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.upsert_installation(1, "octo-org").await.unwrap();
    store.upsert_installation(2, "other").await.unwrap();
    let of = |owner: &str| -> Vec<(i64, String)> {
        REPOS
            .iter()
            .enumerate()
            .filter(|(_, r)| r.starts_with(owner))
            .map(|(n, r)| (n as i64 + 100, r.to_string()))
            .collect()
    };
    store
        .set_installation_repos(1, &of("octo-org/"))
        .await
        .unwrap();
    store
        .set_installation_repos(2, &of("other/"))
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn each_repository_is_synced_once_per_period_at_its_own_offset() {
    // Given five installed repositories, an hour's period and a job that
    // wakes every minute (run twice per tick, as by two leaders in turn),
    let store = store_with_repos().await;
    let opts = SafetySyncOptions {
        period: Duration::from_secs(3600),
        tick: Duration::from_secs(60),
    };
    let period_ms = 3_600_000_i64;
    let t0 = 500_000 * period_ms;
    let mut queued: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    // when three periods pass,
    let mut now = t0;
    while now < t0 + 3 * period_ms {
        let at = DateTime::<Utc>::from_timestamp_millis(now).unwrap();
        for repo in queue_due(&store, &opts, at).await.unwrap() {
            queued.entry(repo).or_default().push(now);
        }
        assert!(queue_due(&store, &opts, at).await.unwrap().is_empty());
        now += 60_000;
    }

    // then every repository was queued exactly once per period,
    assert_eq!(queued.len(), REPOS.len(), "{queued:?}");
    for (repo, times) in &queued {
        assert_eq!(times.len(), 3, "{repo}: {times:?}");
        // within a tick after its own offset, a period apart.
        let offset = i64::try_from(offset_of(repo, opts.period).as_millis()).unwrap();
        for (k, t) in times.iter().enumerate() {
            let slot = t0 + k as i64 * period_ms + offset;
            assert!(
                (slot..slot + 60_000).contains(t),
                "{repo}: slot {slot}, queued {t}"
            );
        }
    }
    // The offsets spread the repositories over the period.
    let mut offsets: Vec<Duration> = REPOS.iter().map(|r| offset_of(r, opts.period)).collect();
    offsets.sort();
    offsets.dedup();
    assert_eq!(offsets.len(), REPOS.len());
    // Each queued job is a full sync of its repository, serialised with
    // its other work, under the slot's id.
    let first = &queued["other/d"][0];
    let offset = i64::try_from(offset_of("other/d", opts.period).as_millis()).unwrap();
    let slot = t0 + offset;
    assert!(*first >= slot);
    let job = store
        .delivery(&delivery_id("other/d", slot))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.event, SYNC_EVENT);
    assert_eq!(job.repo_key.as_deref(), Some("other/d"));
    assert_eq!(job.installation_id, Some(2));
    assert_eq!(store.queue_depth().await.unwrap(), 15);
}

#[tokio::test]
async fn a_first_start_queues_no_burst_and_the_job_is_led() {
    // Given repositories whose slots all passed more than two ticks ago,
    let store = store_with_repos().await;
    let opts = SafetySyncOptions {
        period: Duration::from_secs(3600),
        tick: Duration::from_secs(1),
    };
    let latest_offset = REPOS
        .iter()
        .map(|r| offset_of(r, opts.period).as_millis() as i64)
        .max()
        .unwrap();
    let now = 500_000 * 3_600_000 + latest_offset + 10_000;
    // when the job first runs, it queues nothing (no thundering herd),
    let at = DateTime::<Utc>::from_timestamp_millis(now).unwrap();
    assert!(queue_due(&store, &opts, at).await.unwrap().is_empty());
    assert_eq!(store.queue_depth().await.unwrap(), 0);

    // and `paydown serve`'s leader runs it, with delivery recovery (which
    // also runs on gaining the lead) and retention.
    let fake = FakeGitHub::start().await;
    let jobs = paydown_server::periodic_jobs(
        &store,
        &support::github_app(&fake),
        Duration::from_secs(86_400),
    );
    let names: Vec<(&str, bool)> = jobs
        .iter()
        .map(|j| (j.name(), j.runs_on_leadership()))
        .collect();
    assert_eq!(
        names,
        [
            ("deliveries.prune", false),
            ("deliveries.recover", true),
            ("repos.safety-sync", false)
        ]
    );
}
