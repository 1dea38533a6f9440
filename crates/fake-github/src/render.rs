//! GitHub's JSON shapes for the fake's model, complete enough for octocrab's
//! models (every non-optional field present, URLs pointing back at the fake).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::model::{CheckRun, Comment, Installation, Issue, Label, Milestone, Reaction, Repo};
use crate::world::World;

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

pub(crate) fn user(w: &World, login: &str) -> Value {
    let key = login.to_ascii_lowercase();
    let (login, id, kind) = match w.users.get(&key) {
        Some(u) => (u.login.clone(), u.id, u.kind.as_str()),
        None => (login.to_owned(), 1, "User"),
    };
    let b = &w.base_url;
    let u = format!("{b}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": u,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

pub(crate) fn repo_api_url(w: &World, r: &Repo) -> String {
    format!("{}/repos/{}/{}", w.base_url, r.owner, r.name)
}

pub(crate) fn repository(w: &World, r: &Repo) -> Value {
    let u = repo_api_url(w, r);
    let html = format!("https://github.com/{}/{}", r.owner, r.name);
    let open = r.issues.values().filter(|i| i.state == "open").count();
    json!({
        "id": r.id,
        "node_id": format!("R_{}", r.id),
        "name": r.name,
        "full_name": r.full_name(),
        "owner": user(w, &r.owner),
        "private": r.private,
        "visibility": if r.private { "private" } else { "public" },
        "html_url": html,
        "description": null,
        "fork": false,
        "url": u,
        "archive_url": format!("{u}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{u}/assignees{{/user}}"),
        "blobs_url": format!("{u}/git/blobs{{/sha}}"),
        "branches_url": format!("{u}/branches{{/branch}}"),
        "collaborators_url": format!("{u}/collaborators{{/collaborator}}"),
        "comments_url": format!("{u}/comments{{/number}}"),
        "commits_url": format!("{u}/commits{{/sha}}"),
        "compare_url": format!("{u}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{u}/contents/{{+path}}"),
        "contributors_url": format!("{u}/contributors"),
        "deployments_url": format!("{u}/deployments"),
        "downloads_url": format!("{u}/downloads"),
        "events_url": format!("{u}/events"),
        "forks_url": format!("{u}/forks"),
        "git_commits_url": format!("{u}/git/commits{{/sha}}"),
        "git_refs_url": format!("{u}/git/refs{{/sha}}"),
        "git_tags_url": format!("{u}/git/tags{{/sha}}"),
        "git_url": format!("git://github.com/{}.git", r.full_name()),
        "issue_comment_url": format!("{u}/issues/comments{{/number}}"),
        "issue_events_url": format!("{u}/issues/events{{/number}}"),
        "issues_url": format!("{u}/issues{{/number}}"),
        "keys_url": format!("{u}/keys{{/key_id}}"),
        "labels_url": format!("{u}/labels{{/name}}"),
        "languages_url": format!("{u}/languages"),
        "merges_url": format!("{u}/merges"),
        "milestones_url": format!("{u}/milestones{{/number}}"),
        "notifications_url": format!("{u}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{u}/pulls{{/number}}"),
        "releases_url": format!("{u}/releases{{/id}}"),
        "ssh_url": format!("git@github.com:{}.git", r.full_name()),
        "stargazers_url": format!("{u}/stargazers"),
        "statuses_url": format!("{u}/statuses/{{sha}}"),
        "subscribers_url": format!("{u}/subscribers"),
        "subscription_url": format!("{u}/subscription"),
        "tags_url": format!("{u}/tags"),
        "teams_url": format!("{u}/teams"),
        "trees_url": format!("{u}/git/trees{{/sha}}"),
        "clone_url": format!("{html}.git"),
        "hooks_url": format!("{u}/hooks"),
        "svn_url": html,
        "homepage": null,
        "language": null,
        "forks": 0,
        "forks_count": 0,
        "watchers": 0,
        "open_issues": open,
        "mirror_url": null,
        "license": null,
        "has_discussions": false,
        "network_count": 0,
        "subscribers_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 1,
        "default_branch": r.default_branch,
        "open_issues_count": open,
        "is_template": false,
        "topics": [],
        "has_issues": true,
        "has_projects": true,
        "has_wiki": true,
        "has_pages": false,
        "has_downloads": true,
        "archived": false,
        "disabled": false,
        "pushed_at": "2026-01-01T00:00:00Z",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
    })
}

pub(crate) fn label(w: &World, r: &Repo, l: &Label) -> Value {
    let name_enc = percent_encoding::utf8_percent_encode(&l.name, crate::api::SEGMENT).to_string();
    json!({
        "id": l.id,
        "node_id": format!("LA_{}", l.id),
        "url": format!("{}/labels/{}", repo_api_url(w, r), name_enc),
        "name": l.name,
        "description": l.description,
        "color": l.color,
        "default": false,
    })
}

pub(crate) fn milestone(w: &World, r: &Repo, m: &Milestone) -> Value {
    let u = format!("{}/milestones/{}", repo_api_url(w, r), m.number);
    let (open, closed) = r
        .issues
        .values()
        .filter(|i| i.milestone == Some(m.number))
        .fold((0, 0), |(o, c), i| {
            if i.state == "open" {
                (o + 1, c)
            } else {
                (o, c + 1)
            }
        });
    json!({
        "url": u,
        "html_url": format!("https://github.com/{}/milestone/{}", r.full_name(), m.number),
        "labels_url": format!("{u}/labels"),
        "id": m.id,
        "node_id": format!("MI_{}", m.id),
        "number": m.number,
        "state": m.state,
        "title": m.title,
        "description": m.description,
        "creator": user(w, &r.owner),
        "open_issues": open,
        "closed_issues": closed,
        "created_at": ts(m.created_at),
        "updated_at": ts(m.updated_at),
        "closed_at": opt_ts(m.closed_at),
        "due_on": opt_ts(m.due_on),
    })
}

pub(crate) fn reaction_rollup(url: String, reactions: &[Reaction]) -> Value {
    let count = |c: &str| reactions.iter().filter(|r| r.content == c).count();
    json!({
        "url": url,
        "total_count": reactions.len(),
        "+1": count("+1"),
        "-1": count("-1"),
        "laugh": count("laugh"),
        "hooray": count("hooray"),
        "confused": count("confused"),
        "heart": count("heart"),
        "rocket": count("rocket"),
        "eyes": count("eyes"),
    })
}

pub(crate) fn reaction(w: &World, r: &Reaction) -> Value {
    json!({
        "id": r.id,
        "node_id": format!("REA_{}", r.id),
        "user": user(w, &r.user),
        "content": r.content,
        "created_at": ts(r.created_at),
    })
}

fn author_association(r: &Repo, login: &str) -> &'static str {
    if login.eq_ignore_ascii_case(&r.owner) {
        return "OWNER";
    }
    match r.permission_of(login) {
        Some(crate::model::Permission::None) | None => "NONE",
        Some(_) => "COLLABORATOR",
    }
}

pub(crate) fn issue(w: &World, r: &Repo, i: &Issue) -> Value {
    let base = repo_api_url(w, r);
    let u = format!("{base}/issues/{}", i.number);
    let comments = r
        .comments
        .values()
        .filter(|c| c.issue_number == i.number)
        .count();
    let labels: Vec<Value> = i
        .labels
        .iter()
        .filter_map(|n| r.label(n))
        .map(|l| label(w, r, l))
        .collect();
    let assignees: Vec<Value> = i.assignees.iter().map(|a| user(w, a)).collect();
    let milestone_v = i
        .milestone
        .and_then(|n| r.milestones.get(&n))
        .map_or(Value::Null, |m| milestone(w, r, m));
    let kind = if i.pull.is_some() { "pull" } else { "issues" };
    let mut v = json!({
        "id": i.id,
        "node_id": format!("I_{}", i.id),
        "url": u,
        "repository_url": base,
        "labels_url": format!("{u}/labels{{/name}}"),
        "comments_url": format!("{u}/comments"),
        "events_url": format!("{u}/events"),
        "timeline_url": format!("{u}/timeline"),
        "html_url": format!("https://github.com/{}/{kind}/{}", r.full_name(), i.number),
        "number": i.number,
        "state": i.state,
        "state_reason": i.state_reason,
        "title": i.title,
        "body": i.body,
        "user": user(w, &i.user),
        "labels": labels,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "assignees": assignees,
        "milestone": milestone_v,
        "locked": i.locked,
        "active_lock_reason": null,
        "comments": comments,
        "closed_at": opt_ts(i.closed_at),
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "author_association": author_association(r, &i.user),
        "reactions": reaction_rollup(format!("{u}/reactions"), &i.reactions),
        "performed_via_github_app": null,
    });
    if let Some(by) = &i.closed_by {
        v["closed_by"] = user(w, by);
    }
    if let Some(p) = &i.pull {
        let pu = format!("{base}/pulls/{}", i.number);
        let html = format!("https://github.com/{}/pull/{}", r.full_name(), i.number);
        v["pull_request"] = json!({
            "url": pu,
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": opt_ts(p.merged_at),
        });
        v["draft"] = json!(p.draft);
    }
    v
}

pub(crate) fn comment(w: &World, r: &Repo, c: &Comment) -> Value {
    let base = repo_api_url(w, r);
    let u = format!("{base}/issues/comments/{}", c.id);
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "url": u,
        "html_url": format!("https://github.com/{}/issues/{}#issuecomment-{}", r.full_name(), c.issue_number, c.id),
        "issue_url": format!("{base}/issues/{}", c.issue_number),
        "body": c.body,
        "user": user(w, &c.user),
        "created_at": ts(c.created_at),
        "updated_at": ts(c.updated_at),
        "author_association": author_association(r, &c.user),
        "reactions": reaction_rollup(format!("{u}/reactions"), &c.reactions),
        "performed_via_github_app": null,
    })
}

fn branch_side(w: &World, r: &Repo, reference: &str, sha: &str) -> Value {
    json!({
        "label": format!("{}:{}", r.owner, reference),
        "ref": reference,
        "sha": sha,
        "user": user(w, &r.owner),
        "repo": repository(w, r),
    })
}

/// A pull request; `None` when `i` is a plain issue.
pub(crate) fn pull(w: &World, r: &Repo, i: &Issue) -> Option<Value> {
    let p = i.pull.as_ref()?;
    let base = repo_api_url(w, r);
    let u = format!("{base}/pulls/{}", i.number);
    let html = format!("https://github.com/{}/pull/{}", r.full_name(), i.number);
    let iv = issue(w, r, i);
    let (additions, deletions, changed) = crate::diff::pull_files(r, p)
        .map(|fs| {
            fs.iter().fold((0, 0, 0), |(a, d, n), f| {
                (a + f.additions, d + f.deletions, n + 1)
            })
        })
        .unwrap_or((0, 0, 0));
    let state = if i.state == "open" { "open" } else { "closed" };
    Some(json!({
        "id": i.id,
        "node_id": format!("PR_{}", i.id),
        "number": i.number,
        "url": u,
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{base}/issues/{}", i.number),
        "commits_url": format!("{u}/commits"),
        "review_comments_url": format!("{u}/comments"),
        "review_comment_url": format!("{base}/pulls/comments{{/number}}"),
        "comments_url": format!("{base}/issues/{}/comments", i.number),
        "statuses_url": format!("{base}/statuses/{}", p.head_sha),
        "head": branch_side(w, r, &p.head_ref, &p.head_sha),
        "base": branch_side(w, r, &p.base_ref, &p.base_sha),
        "state": state,
        "locked": i.locked,
        "title": i.title,
        "user": iv["user"],
        "body": i.body,
        "labels": iv["labels"],
        "milestone": iv["milestone"],
        "active_lock_reason": null,
        "created_at": ts(i.created_at),
        "updated_at": ts(i.updated_at),
        "closed_at": opt_ts(i.closed_at),
        "merged_at": opt_ts(p.merged_at),
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": iv["assignee"],
        "assignees": iv["assignees"],
        "requested_reviewers": [],
        "requested_teams": [],
        "author_association": iv["author_association"],
        "auto_merge": null,
        "draft": p.draft,
        "merged": p.merged_at.is_some(),
        "mergeable": if p.merged_at.is_some() { Value::Null } else { json!(true) },
        "rebaseable": null,
        "mergeable_state": if p.merged_at.is_some() { "unknown" } else { "clean" },
        "merged_by": p.merged_by.as_deref().map_or(Value::Null, |m| user(w, m)),
        "comments": iv["comments"],
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": r.ancestry(&p.head_sha).iter().take_while(|c| c.sha != p.base_sha).count().max(1),
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed,
        "_links": {
            "self": {"href": u},
            "html": {"href": html},
            "issue": {"href": format!("{base}/issues/{}", i.number)},
            "comments": {"href": format!("{base}/issues/{}/comments", i.number)},
            "review_comments": {"href": format!("{u}/comments")},
            "review_comment": {"href": format!("{base}/pulls/comments{{/number}}")},
            "commits": {"href": format!("{u}/commits")},
            "statuses": {"href": format!("{base}/statuses/{}", p.head_sha)},
        },
    }))
}

pub(crate) fn app(w: &World) -> Value {
    json!({
        "id": crate::app::APP_ID,
        "slug": crate::app::APP_SLUG,
        "node_id": format!("A_{}", crate::app::APP_ID),
        "client_id": "Iv1.fakefakefake",
        "owner": user(w, "octo-org"),
        "name": "paydown",
        "description": "fake-github test App",
        "external_url": "https://example.com/paydown",
        "html_url": format!("https://github.com/apps/{}", crate::app::APP_SLUG),
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "permissions": installation_permissions(None),
        "events": ["issue_comment", "issues", "pull_request", "push", "check_run"],
        "installations_count": w.installations.values().filter(|i| !i.removed).count(),
    })
}

pub(crate) fn installation_permissions(i: Option<&Installation>) -> Value {
    let perms = i.map_or_else(crate::model::default_installation_permissions, |i| {
        i.permissions.clone()
    });
    json!(perms)
}

pub(crate) fn installation(w: &World, i: &Installation) -> Value {
    json!({
        "id": i.id,
        "account": user(w, &i.account),
        "access_tokens_url": format!("{}/app/installations/{}/access_tokens", w.base_url, i.id),
        "repositories_url": format!("{}/installation/repositories", w.base_url),
        "html_url": format!("https://github.com/organizations/{}/settings/installations/{}", i.account, i.id),
        "app_id": crate::app::APP_ID,
        "app_slug": crate::app::APP_SLUG,
        "target_id": w.users.get(&i.account.to_ascii_lowercase()).map_or(1, |u| u.id),
        "target_type": w.users.get(&i.account.to_ascii_lowercase()).map_or("Organization", |u| u.kind.as_str()),
        "permissions": installation_permissions(Some(i)),
        "events": ["issue_comment", "issues", "pull_request", "push", "check_run"],
        "single_file_name": null,
        "repository_selection": "selected",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "suspended_at": null,
        "suspended_by": null,
    })
}

pub(crate) fn check_run(w: &World, r: &Repo, c: &CheckRun) -> Value {
    let u = format!("{}/check-runs/{}", repo_api_url(w, r), c.id);
    let mut app = app(w);
    if let Some(slug) = &c.app_slug {
        app["slug"] = json!(slug);
    }
    json!({
        "id": c.id,
        "node_id": format!("CR_{}", c.id),
        "head_sha": c.head_sha,
        "external_id": c.external_id,
        "url": u,
        "html_url": format!("https://github.com/{}/runs/{}", r.full_name(), c.id),
        "details_url": c.details_url,
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": opt_ts(c.started_at),
        "completed_at": opt_ts(c.completed_at),
        "output": {
            "title": c.title,
            "summary": c.summary,
            "text": c.text,
            "annotations_count": c.annotations.len(),
            "annotations_url": format!("{u}/annotations"),
        },
        "name": c.name,
        "check_suite": {"id": c.id},
        "app": app,
        "pull_requests": [],
    })
}
