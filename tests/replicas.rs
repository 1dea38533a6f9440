//! Several `paydown serve` processes (the real binary) sharing one
//! PostgreSQL schema and one fake GitHub, as a scaled-out deployment runs:
//! 1,000 signed deliveries round-robin with duplicates and bursts, one
//! replica SIGKILLed mid-run; and the periodic-job leader killed and
//! replaced within its lease. Skipped (with a notice) without
//! `PAYDOWN_TEST_POSTGRES_URL`; CI sets it.

#[path = "../crates/server/tests/support/postgres.rs"]
mod postgres;
mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fake_github::FakeGitHub;
use paydown_server::periodic::LEADER_LEASE;
use paydown_server::store::{DeliveryStatus, Store};
use postgres::PgSchema;
use sqlx::Connection;

const SECRET: &str = "replicas-webhook-secret";
/// Short leases, so a killed replica's work is retaken within the test.
const LEASE_SECONDS: u64 = 3;

struct Replica {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Replica {
    async fn start(fake: &FakeGitHub, db_url: &str, log: PathBuf) -> Replica {
        let port = support::free_port();
        let lease = LEASE_SECONDS.to_string();
        let child = support::spawn_serve(
            fake,
            SECRET,
            db_url,
            port,
            &log,
            &[
                ("PAYDOWN_WORKERS", "2"),
                ("PAYDOWN_LEASE_SECONDS", &lease),
                ("RUST_LOG", "warn,paydown_server::periodic=info"),
            ],
        );
        let mut replica = Replica { child, port, log };
        replica.wait_ready().await;
        replica
    }

    /// Waits for `/readyz`: the database answers and is migrated.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(resp) = reqwest::get(format!("http://127.0.0.1:{}/readyz", self.port)).await
                && resp.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("paydown serve exited with {status}:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "paydown serve never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn webhook(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    /// The prefix of this process's worker ids and leader name.
    fn holder_prefix(&self) -> String {
        format!("pid{}-", self.child.id())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One push delivery, as GitHub would send it.
#[derive(Clone)]
struct Delivery {
    id: String,
    /// The commit pushed; every run of this delivery's work asks GitHub
    /// for a compare ending at it (or, on a full sync, its tarball).
    after: String,
    body: Vec<u8>,
}

/// A repository whose default branch gets `pushes` commits, each changing
/// a notes file; every 30th also adds a debt item. Returns the deliveries
/// in push order and the number of debt items at the end.
fn pushes(fake: &FakeGitHub, full_name: &str, pushes: usize) -> (Vec<Delivery>, usize) {
    let repo = fake.repo(full_name);
    let mut items = vec![
        "// TODO: first item".to_owned(),
        "// FIXME: second item".to_owned(),
    ];
    let source = |items: &[String]| items.join("\nfn f() {}\n") + "\n";
    let mut before = repo.set_files("main", &[("src/lib.rs", &source(&items))]);
    let mut out = Vec::new();
    for n in 0..pushes {
        if n % 30 == 29 {
            items.push(format!("// TODO: item added by push {n}"));
        }
        let notes = format!("push {n}\n");
        let after = repo.set_files(
            "main",
            &[("src/lib.rs", &source(&items)), ("notes.txt", &notes)],
        );
        let body =
            serde_json::to_vec(&fake.push_payload(full_name, "main", &before, "alice")).unwrap();
        out.push(Delivery {
            id: format!("{}-push-{n}", full_name.replace('/', "-")),
            after: after.clone(),
            body,
        });
        before = after;
    }
    (out, items.len())
}

/// How many times a delivery's work ran: GitHub was asked for what the push
/// changed (a compare ending at its commit, or the commit's tarball).
fn work_runs(fake: &FakeGitHub) -> HashMap<String, usize> {
    let mut runs = HashMap::new();
    for r in fake.requests() {
        if r.method != "GET" {
            continue;
        }
        let sha = if let Some((_, range)) = r.path.split_once("/compare/") {
            range.rsplit("...").next().map(str::to_owned)
        } else if let Some((_, sha)) = r.path.split_once("/tarball/") {
            Some(sha.to_owned())
        } else {
            None
        };
        if let Some(sha) = sha {
            *runs.entry(sha).or_default() += 1;
        }
    }
    runs
}

async fn running_leased_by(db_url: &str, prefix: &str) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(db_url).await.unwrap();
    sqlx::query_scalar(
        "SELECT delivery_id FROM deliveries WHERE status = 'running' AND lease_owner LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

/// Sends `d` to replica `k` (round-robin over the live ones); when that
/// replica is gone, to the next, as a load balancer would.
async fn send_until_accepted(urls: &[String], dead: &AtomicUsize, k: usize, d: &Delivery) {
    for attempt in 0..10 {
        let alive: Vec<&String> = (0..urls.len())
            .filter(|n| *n != dead.load(Ordering::SeqCst))
            .map(|n| &urls[n])
            .collect();
        let url = alive[(k + attempt) % alive.len()];
        if let Ok(resp) = fake_github::send_webhook(url, SECRET, "push", &d.id, &d.body).await {
            assert_eq!(resp.status().as_u16(), 202, "delivery {}", d.id);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no replica accepted delivery {}", d.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_process_each_delivery_once_despite_duplicates_bursts_and_a_sigkill() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let started = Instant::now();
    // Given six repositories in six installations, one of them busy,
    let fake = FakeGitHub::start().await;
    let mut repos = vec![("octo-org/octo-repo".to_owned(), 310)];
    for i in 2..=6u64 {
        let owner = format!("org-{i}");
        fake.add_installation(i, &owner);
        fake.add_repo(&owner, "service", i);
        repos.push((format!("{owner}/service"), 120));
    }
    let mut by_repo = Vec::new();
    let mut items = BTreeMap::new();
    for (name, n) in &repos {
        let (deliveries, count) = pushes(&fake, name, *n);
        items.insert(name.clone(), count);
        by_repo.push(deliveries);
    }
    // in an order with bursts: 20 pushes on the busy repository, then one
    // on each other repository, and again;
    let mut order: Vec<Delivery> = Vec::new();
    let mut cursors: Vec<std::collections::VecDeque<Delivery>> =
        by_repo.into_iter().map(Into::into).collect();
    while cursors.iter().any(|c| !c.is_empty()) {
        for _ in 0..20 {
            if let Some(d) = cursors[0].pop_front() {
                order.push(d);
            }
        }
        for c in cursors.iter_mut().skip(1) {
            for _ in 0..4 {
                if let Some(d) = c.pop_front() {
                    order.push(d);
                }
            }
        }
    }
    let unique = order.len();
    assert_eq!(unique, 910);
    let set_up_after = started.elapsed();
    // with writes slow enough that two replicas writing to one repository
    // at once would overlap in the fake's eyes,
    fake.delay_next_on("POST", "/repos/", 100_000, Duration::from_millis(20));
    fake.delay_next_on("PATCH", "/repos/", 100_000, Duration::from_millis(20));

    // and three replicas on one PostgreSQL schema,
    let dir = tempfile::tempdir().unwrap();
    let mut replicas = Vec::new();
    for n in 0..3 {
        replicas.push(
            Replica::start(
                &fake,
                &schema.url,
                dir.path().join(format!("replica-{n}.log")),
            )
            .await,
        );
    }
    let store = Store::connect(&schema.url).await.unwrap();
    let replicas_after = started.elapsed();

    // when the deliveries go to them round-robin, each repository's in
    // push order but all repositories at once, every tenth delivery also
    // to the next replica (GitHub's redelivery, or a retry through
    // another route),
    let urls: Arc<Vec<String>> = Arc::new(replicas.iter().map(Replica::webhook).collect());
    let dead = Arc::new(AtomicUsize::new(usize::MAX));
    let counter = Arc::new(AtomicUsize::new(0));
    let duplicates = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for (name, _) in &repos {
        let queue: Vec<Delivery> = order
            .iter()
            .filter(|d| {
                d.id.starts_with(&format!("{}-push-", name.replace('/', "-")))
            })
            .cloned()
            .collect();
        let (urls, dead, counter, duplicates) = (
            urls.clone(),
            dead.clone(),
            counter.clone(),
            duplicates.clone(),
        );
        senders.spawn(async move {
            for d in queue {
                let i = counter.fetch_add(1, Ordering::SeqCst);
                send_until_accepted(&urls, &dead, i, &d).await;
                if i % 10 == 5 {
                    send_until_accepted(&urls, &dead, i + 1, &d).await;
                    duplicates.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
    // and half-way, a replica holding work is SIGKILLed,
    while counter.load(Ordering::SeqCst) < unique / 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // (GitHub slows down for a moment, so work in flight is still in
    // flight when the signal lands, not finished in between),
    fake.delay_next_on("GET", "/repos/", 30, Duration::from_millis(400));
    let deadline = Instant::now() + Duration::from_secs(20);
    let victim = loop {
        let mut found = None;
        for (n, r) in replicas.iter().enumerate() {
            if !running_leased_by(&schema.url, &r.holder_prefix())
                .await
                .is_empty()
            {
                found = Some(n);
                break;
            }
        }
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "no replica ever held a lease");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let victim_prefix = replicas[victim].holder_prefix();
    replicas[victim].kill();
    dead.store(victim, Ordering::SeqCst);
    // What the dead process still holds is what it was interrupted in;
    // anything it finished between the look and the signal is done.
    let leased_by_victim = running_leased_by(&schema.url, &victim_prefix).await;
    assert!(
        !leased_by_victim.is_empty(),
        "the victim finished its work before the SIGKILL landed"
    );
    while let Some(sender) = senders.join_next().await {
        sender.unwrap();
    }
    let duplicates = duplicates.load(Ordering::SeqCst);
    let sent = unique + duplicates;
    assert_eq!(duplicates, 91);
    assert!(sent >= 1000);
    let sent_after = started.elapsed();

    // then the queue drains with nothing dead,
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let counts = store.counts_by_status().await.unwrap();
        if store.queue_depth().await.unwrap() == 0 {
            assert_eq!(counts.get(DeliveryStatus::Dead), 0, "{counts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "queue never drained: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained_after = started.elapsed();

    // every delivery is stored once and done,
    let mut conn = sqlx::PgConnection::connect(&schema.url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE event = 'push'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, i64::try_from(unique).unwrap());
    // the killed replica's leased work completed on another replica,
    for id in &leased_by_victim {
        let rec = store.delivery(id).await.unwrap().unwrap();
        assert_eq!(rec.status, DeliveryStatus::Done, "{id}");
        let owner = rec.lease_owner.unwrap_or_default();
        assert!(
            !owner.starts_with(&victim_prefix),
            "{id} finished by {owner}"
        );
    }
    // and each delivery's work ran exactly once: twice only for the ones
    // the killed replica was in the middle of,
    let runs = work_runs(&fake);
    let interrupted: BTreeSet<&str> = leased_by_victim.iter().map(String::as_str).collect();
    let mut wrong = Vec::new();
    for d in &order {
        let n = runs.get(&d.after).copied().unwrap_or(0);
        let ok = if interrupted.contains(d.id.as_str()) {
            (1..=2).contains(&n)
        } else {
            n == 1
        };
        if !ok {
            wrong.push(format!("{} ran {n} times", d.id));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} deliveries ran wrongly: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );

    // no two replicas ever wrote to one repository at the same time,
    let overlaps = fake.write_overlaps();
    assert!(overlaps.is_empty(), "{overlaps:#?}");

    // and every debt item has exactly one issue, every repository one dashboard.
    for (name, count) in &items {
        let issues = fake.repo(name).issues();
        let mut titles: Vec<&str> = issues
            .iter()
            .filter(|i| {
                i.body
                    .as_deref()
                    .unwrap_or_default()
                    .contains("paydown:item")
            })
            .map(|i| i.title.as_str())
            .collect();
        titles.sort_unstable();
        let all = titles.len();
        titles.dedup();
        assert_eq!(all, titles.len(), "{name}: duplicate issues {titles:?}");
        assert_eq!(all, *count, "{name}: {titles:?}");
        let dashboards = issues
            .iter()
            .filter(|i| {
                i.body
                    .as_deref()
                    .unwrap_or_default()
                    .contains("paydown:dashboard")
            })
            .count();
        assert_eq!(dashboards, 1, "{name}");
    }
    eprintln!(
        "{sent} deliveries ({unique} unique) on 3 replicas, {} interrupted by the SIGKILL: world set up after {set_up_after:?}, replicas ready after {replicas_after:?}, sent after {sent_after:?}, drained after {drained_after:?}, checked after {:?}",
        leased_by_victim.len(),
        started.elapsed()
    );
    drop(replicas);
    store.close().await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_leader_is_sigkilled_and_another_replica_takes_over_within_the_lease() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    // Given two replicas on one database,
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut replicas = vec![
        Replica::start(&fake, &schema.url, dir.path().join("a.log")).await,
        Replica::start(&fake, &schema.url, dir.path().join("b.log")).await,
    ];
    let store = Store::connect(&schema.url).await.unwrap();
    // one of which leads,
    let deadline = Instant::now() + Duration::from_secs(20);
    let lease = loop {
        if let Some(lease) = store.leader(LEADER_LEASE).await.unwrap() {
            break lease;
        }
        assert!(Instant::now() < deadline, "nobody took the leader lease");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let leader = replicas
        .iter()
        .position(|r| lease.holder.starts_with(&r.holder_prefix()))
        .expect("the leader is one of the replicas");
    let follower = 1 - leader;

    // when the leader is SIGKILLed,
    replicas[leader].kill();
    let killed_at = chrono::Utc::now();
    let last = store.leader(LEADER_LEASE).await.unwrap().unwrap();
    assert!(last.holder.starts_with(&replicas[leader].holder_prefix()));

    // then the other replica takes the lease over once it expired, within
    // one lease of the kill (plus the follower's poll, a tenth of a lease).
    let deadline = Instant::now() + Duration::from_secs(4 * LEASE_SECONDS);
    let taken = loop {
        let now = store.leader(LEADER_LEASE).await.unwrap().unwrap();
        if now.holder != last.holder {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "no take-over after the leader died"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        taken
            .holder
            .starts_with(&replicas[follower].holder_prefix()),
        "{taken:?}"
    );
    assert!(
        taken.acquired_at >= last.expires_at,
        "taken before expiry: {taken:?} {last:?}"
    );
    let poll = chrono::Duration::milliseconds(i64::try_from(LEASE_SECONDS * 100).unwrap() + 200);
    assert!(
        taken.acquired_at <= killed_at + chrono::Duration::seconds(LEASE_SECONDS as i64) + poll,
        "took {} after the kill",
        taken.acquired_at - killed_at
    );
    drop(replicas);
    store.close().await;
    schema.drop_schema().await;
}
