//! The world the sync suites run in: the fake GitHub with a user token, the
//! real client talking to it, and the options every run shares.
// Each suite uses its own subset of these helpers.
#![allow(dead_code)]

use chrono::NaiveDate;
use fake_github::FakeGitHub;
use paydown_github::{Client, ClientOptions, Repo};
use paydown_sync::SyncOptions;
use paydown_sync::fetch::Head;

pub const TOKEN: &str = "ghp_test_token";
pub const REPO: &str = "octo-org/octo-repo";

pub async fn world() -> (FakeGitHub, Client, Repo) {
    let fake = FakeGitHub::start().await.with_user_token(TOKEN);
    let client = Client::from_token_with_options(&fake.url(), TOKEN, ClientOptions::for_tests())
        .expect("client");
    (fake, client, Repo::parse(REPO).unwrap())
}

/// Options for a run on 2026-11-23 against github.com, as suites extend them.
pub fn base_options() -> SyncOptions {
    SyncOptions {
        html_base: "https://github.com".into(),
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ..SyncOptions::for_api("https://api.github.com")
    }
}

/// [`base_options`] for a push whose head is `sha` on `main`.
pub fn at(sha: &str) -> SyncOptions {
    SyncOptions {
        head: Some(Head {
            branch: "main".into(),
            sha: sha.to_string(),
        }),
        ..base_options()
    }
}
