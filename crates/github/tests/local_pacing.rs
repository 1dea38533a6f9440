//! The CLI's and the Action's in-process write pacer against a fake GitHub
//! that enforces GitHub's content-creation limits (80 a minute, 500 an
//! hour) on the same simulated clock: a big first import by token goes out
//! a second a write and waits out the hour window instead of being
//! refused, while the same import unpaced is refused within the minute.

use std::sync::Arc;

use chrono::Utc;
use fake_github::FakeGitHub;
use paydown_github::pacing::{LocalPacer, PacingLimits};
use paydown_github::{Client, ClientOptions, Clock, GitHubError, WritePacer};
use serde_json::{Value, json};

const TOKEN: &str = "ghp_local_pacing";
const ISSUES: &str = "/repos/octo-org/octo-repo/issues";

async fn token_client(fake: &FakeGitHub, pacer: Option<Arc<dyn WritePacer>>) -> Client {
    fake.add_user_token(TOKEN, "alice");
    Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests())
        .unwrap()
        .with_pacer(pacer)
}

fn limited_fake_on(fake: &FakeGitHub, clock: &Clock) {
    fake.limit_content_creation_like_github();
    let limit_clock = clock.clone();
    fake.set_clock(move || limit_clock.now_ms());
}

#[tokio::test]
async fn a_paced_import_of_600_issues_by_token_is_never_refused() {
    // Given a fake enforcing GitHub's content limits on a simulated clock,
    // and a token client paced in-process on that clock with the defaults,
    let fake = FakeGitHub::start().await;
    let clock = Clock::simulated(Utc::now());
    limited_fake_on(&fake, &clock);
    let pacer = LocalPacer::new(clock.clone(), PacingLimits::default());
    let client = token_client(&fake, Some(Arc::new(pacer))).await;
    let start = clock.now_ms();

    // when it creates 600 issues, more than an hour's allowance,
    for i in 0..600 {
        let _: Value = client
            .post_json(ISSUES, &json!({"title": format!("TODO {i}")}))
            .await
            .unwrap_or_else(|e| panic!("issue {i}: {e}"));
    }

    // then every create was accepted, none refused by the limit, none a
    // second after the one before,
    assert_eq!(fake.repo("octo-org/octo-repo").issues().len(), 600);
    assert_eq!(fake.secondary_limit_hits(), 0);
    assert_eq!(fake.writes_under_a_second_apart(), 0);
    // and the 501st waited for the first to leave the hour window.
    let elapsed = clock.now_ms() - start;
    assert!(elapsed >= 3_600_000, "only {elapsed} ms of simulated time");
}

#[tokio::test]
async fn the_same_import_unpaced_is_refused_within_the_minute() {
    // Given the same fake and clock, and a token client without a pacer,
    let fake = FakeGitHub::start().await;
    let clock = Clock::simulated(Utc::now());
    limited_fake_on(&fake, &clock);
    let client = token_client(&fake, None).await;

    // when it creates issues as fast as it can, then GitHub refuses the
    // 81st with its secondary limit (the control: the limit is real).
    let mut refused = None;
    for i in 0..100 {
        if let Err(e) = client
            .post_json::<_, Value>(ISSUES, &json!({"title": format!("TODO {i}")}))
            .await
        {
            refused = Some((i, e));
            break;
        }
    }
    let (i, e) = refused.expect("the limit refused a create");
    assert_eq!(i, 80);
    assert!(matches!(e, GitHubError::RateLimited { .. }), "{e:?}");
}

#[test]
fn pacing_follows_the_same_variables_as_the_server() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    // Unset: on, with GitHub's limits.
    assert_eq!(
        PacingLimits::from_vars(vars(&[])).unwrap(),
        Some(PacingLimits::default())
    );
    assert_eq!(
        PacingLimits::from_vars(vars(&[("PAYDOWN_WRITE_PACING", "off")])).unwrap(),
        None
    );
    let custom = PacingLimits::from_vars(vars(&[
        ("PAYDOWN_WRITE_INTERVAL_MS", "2000"),
        ("PAYDOWN_CONTENT_WRITES_PER_MINUTE", "20"),
        ("PAYDOWN_CONTENT_WRITES_PER_HOUR", "0"),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(custom.min_interval, std::time::Duration::from_secs(2));
    assert_eq!(
        (custom.content_per_minute, custom.content_per_hour),
        (20, 0)
    );
    assert!(PacingLimits::from_vars(vars(&[("PAYDOWN_WRITE_PACING", "maybe")])).is_err());
    assert!(PacingLimits::from_vars(vars(&[("PAYDOWN_WRITE_INTERVAL_MS", "soon")])).is_err());
}
