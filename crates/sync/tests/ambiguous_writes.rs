//! A sync whose creates GitHub answers with 502 (applied or not) still ends
//! with one issue per item, one dashboard and one close comment.

mod support;

use paydown_sync::{TRACKING_LABEL, sync_repository};
use support::{REPO, base_options, world};

#[tokio::test]
async fn creates_answered_502_leave_exactly_one_issue_per_item_and_one_close_comment() {
    for applied in [true, false] {
        // Given one annotation, and GitHub answering 502 to the first two
        // issue creates (the item's and the dashboard's),
        let (fake, client, repo) = world().await;
        fake.repo(REPO)
            .set_files("main", &[("src/lib.rs", "// TODO: flush the cache\n")]);
        let issues_path = "/repos/octo-org/octo-repo/issues";
        if applied {
            fake.apply_then_fail_next_on("POST", issues_path, 2, 502);
        } else {
            fake.fail_next_on("POST", issues_path, 2, 502);
        }

        // when the repository is synced,
        let outcome = sync_repository(&client, &repo, &base_options())
            .await
            .expect("sync");

        // then the item has exactly one issue and there is one dashboard,
        let report = outcome.applied.expect("applied");
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let issues = fake.repo(REPO).issues();
        let tracked: Vec<_> = issues
            .iter()
            .filter(|i| i.labels.iter().any(|l| l == TRACKING_LABEL))
            .collect();
        assert_eq!(tracked.len(), 2, "applied={applied}: {tracked:#?}");
        assert_eq!(report.created.len(), 1);
        let number = report.created[0].number;

        // and when the annotation is paid down and GitHub answers 502 to
        // the close comment,
        fake.repo(REPO)
            .set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
        let comments = format!("/repos/octo-org/octo-repo/issues/{number}/comments");
        if applied {
            fake.apply_then_fail_next_on("POST", &comments, 1, 502);
        } else {
            fake.fail_next_on("POST", &comments, 1, 502);
        }
        let outcome = sync_repository(&client, &repo, &base_options())
            .await
            .expect("sync");

        // then the issue is closed with exactly one comment.
        assert!(outcome.applied.unwrap().failures.is_empty());
        assert_eq!(fake.repo(REPO).issue(number).unwrap().state, "closed");
        let posted = fake.take_comments(REPO, number);
        assert_eq!(posted.len(), 1, "applied={applied}: {posted:#?}");
    }
}

#[tokio::test]
async fn a_close_replayed_after_dying_between_its_comment_and_the_close_comments_once() {
    // Given an item with its issue,
    let (fake, client, repo) = world().await;
    fake.repo(REPO)
        .set_files("main", &[("src/lib.rs", "// TODO: flush the cache\n")]);
    let outcome = sync_repository(&client, &repo, &base_options())
        .await
        .expect("sync");
    let number = outcome.applied.expect("applied").created[0].number;
    fake.take_comments(REPO, number);

    // when the annotation is paid down and the run dies after posting the
    // close comment, before the issue is closed (every PATCH of the issue
    // fails, as if the process were killed there),
    fake.repo(REPO)
        .set_files("main", &[("src/lib.rs", "fn a() {}\n")]);
    let issue = format!("/repos/octo-org/octo-repo/issues/{number}");
    fake.fail_next_on("PATCH", &issue, 50, 500);
    let died = sync_repository(&client, &repo, &base_options()).await;
    let failed = match &died {
        Err(_) => true,
        Ok(o) => o.applied.as_ref().is_none_or(|r| !r.failures.is_empty()),
    };
    assert!(failed, "the close should have failed: {died:?}");
    assert_eq!(fake.repo(REPO).issue(number).unwrap().state, "open");
    fake.clear_faults();

    // and the job runs again, then the issue is closed with exactly one
    // close comment: the replay finds its comment already there.
    let outcome = sync_repository(&client, &repo, &base_options())
        .await
        .expect("sync");
    assert!(outcome.applied.unwrap().failures.is_empty());
    assert_eq!(fake.repo(REPO).issue(number).unwrap().state, "closed");
    let posted = fake.take_comments(REPO, number);
    assert_eq!(posted.len(), 1, "{posted:#?}");
}
