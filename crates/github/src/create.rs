//! The creates paydown makes (issues, comments, check runs, reactions), each
//! with the lookup that finds it again when GitHub's answer was lost or was
//! a 5xx after the write was applied ([`Client::create_json`]). Every lookup
//! trusts only what the bot itself wrote ([`Client::identity`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{BotIdentity, Client, Repo, Result, encode_segment};

/// How many of the newest issues a lost issue create is looked for among:
/// paydown's writes to one repository are serialised, so its own create is
/// among the newest few.
const RECENT_ISSUES: u32 = 30;

/// How far before the create began a lost comment is looked for: GitHub
/// stamps `created_at` with its clock, which may be behind ours.
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

/// Whether `v` (an issue, comment or reaction) was written by `identity`.
/// A client that cannot know who it posts as (a personal token) trusts the
/// marker or the exact body alone: what it looks for is what it just sent.
fn written_by(identity: &BotIdentity, v: &Value) -> bool {
    let user = &v["user"];
    identity.may_have_written(user["login"].as_str().unwrap_or(""), user["type"].as_str())
}

fn adopt<T: DeserializeOwned>(route: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| crate::GitHubError::Decode {
        route: route.to_string(),
        error: e.to_string(),
    })
}

impl Client {
    /// `POST /repos/{o}/{r}/issues` with `request`, whose body carries
    /// `marker` (a hidden line unique to what is created, such as the item
    /// marker). A lost create is looked for among the newest issues
    /// labelled `label` (all of them without one) that the bot opened and
    /// whose body holds `marker`.
    pub async fn create_issue<B, T>(
        &self,
        repo: &Repo,
        request: &B,
        marker: &str,
        label: Option<&str>,
    ) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let route = repo.issues();
        let label = label
            .map(|l| format!("&labels={}", encode_segment(l)))
            .unwrap_or_default();
        let recent = repo.route(&format!(
            "/issues?state=all&sort=created&direction=desc&per_page={RECENT_ISSUES}{label}"
        ));
        self.create_json(&route, request, || async {
            let issues: Vec<Value> = self.get_json(&recent).await?;
            let identity = self.identity().await?;
            let found = issues.into_iter().find(|i| {
                written_by(&identity, i) && i["body"].as_str().is_some_and(|b| b.contains(marker))
            });
            found.map(|v| adopt(&recent, v)).transpose()
        })
        .await
    }

    /// `POST .../issues/{number}/comments` with `body`. A lost create is
    /// looked for among the issue's comments since shortly before the call
    /// began: the bot's own with exactly this body.
    pub async fn create_comment<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        number: u64,
        body: &str,
    ) -> Result<T> {
        let route = repo.issue_comments(number);
        let since = (Utc::now() - CLOCK_MARGIN).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let recent = format!("{route}?since={}", encode_segment(&since));
        self.create_json(&route, &serde_json::json!({ "body": body }), || async {
            let comments: Vec<Value> = self.get_all(&recent).await?;
            let identity = self.identity().await?;
            let found = comments.into_iter().rev().find(|c| {
                written_by(&identity, c)
                    && c["body"].as_str().map(str::trim_end) == Some(body.trim_end())
            });
            found.map(|v| adopt(&recent, v)).transpose()
        })
        .await
    }

    /// `POST /repos/{o}/{r}/check-runs` with `request` (which names
    /// `head_sha` and `name`). A lost create is looked for among the runs
    /// of that name on that commit made by the bot's App, created since
    /// shortly before the call began.
    pub async fn create_check_run<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        request: &Value,
    ) -> Result<T> {
        let route = repo.route("/check-runs");
        let sha = request["head_sha"].as_str().unwrap_or_default();
        let name = request["name"].as_str().unwrap_or_default();
        let began = Utc::now() - CLOCK_MARGIN;
        let recent = repo.route(&format!(
            "/commits/{}/check-runs?check_name={}&filter=all",
            encode_segment(sha),
            encode_segment(name)
        ));
        self.create_json(&route, request, || async {
            let list: Value = self.get_json(&recent).await?;
            let identity = self.identity().await?;
            let runs = list["check_runs"].as_array().cloned().unwrap_or_default();
            let found = runs
                .into_iter()
                .filter(|r| r["name"].as_str() == Some(name))
                .filter(|r| identity.owns_app(r["app"]["slug"].as_str()))
                .filter(|r| {
                    // A run of the same name from an earlier delivery is not this one.
                    r["started_at"]
                        .as_str()
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                        .is_none_or(|t| t >= began)
                })
                .max_by_key(|r| r["id"].as_u64().unwrap_or(0));
            found.map(|v| adopt(&recent, v)).transpose()
        })
        .await
    }

    /// `POST .../issues/comments/{comment_id}/reactions` with `content`.
    /// A lost create is looked for among the comment's reactions: the
    /// bot's own of that content (GitHub keeps one per user and content).
    pub async fn create_comment_reaction<T: DeserializeOwned>(
        &self,
        repo: &Repo,
        comment_id: u64,
        content: &str,
    ) -> Result<T> {
        let route = repo.route(&format!("/issues/comments/{comment_id}/reactions"));
        self.create_json(
            &route,
            &serde_json::json!({ "content": content }),
            || async {
                let reactions: Vec<Value> = self.get_all(&route).await?;
                let identity = self.identity().await?;
                let found = reactions
                    .into_iter()
                    .find(|r| written_by(&identity, r) && r["content"].as_str() == Some(content));
                found.map(|v| adopt(&route, v)).transpose()
            },
        )
        .await
    }
}
