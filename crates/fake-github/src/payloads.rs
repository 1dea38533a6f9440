//! Webhook payloads built from the fake's own state, so a test can deliver an
//! event that agrees with what the API then serves (same ids, shas, bodies).

use serde_json::{Value, json};

use crate::model::Repo;
use crate::render;
use crate::world::World;

fn envelope(w: &World, r: &Repo, action: Option<&str>, sender: &str) -> Value {
    let full = r.full_name();
    let installation = w
        .installations
        .values()
        .find(|i| !i.removed && i.repos.iter().any(|x| x.eq_ignore_ascii_case(&full)))
        .map_or(Value::Null, |i| {
            json!({"id": i.id, "node_id": format!("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{}", i.id)})
        });
    let mut v = json!({
        "repository": render::repository(w, r),
        "sender": render::user(w, sender),
        "installation": installation,
    });
    if let Some(a) = action {
        v["action"] = json!(a);
    }
    v
}

fn repo_of<'w>(w: &'w World, full: &str) -> &'w Repo {
    w.repo(full)
        .unwrap_or_else(|| panic!("fake-github: no repository {full}"))
}

/// `issue_comment` for comment `comment_id`; `edited` carries `changes.body.from`
/// = `previous_body` when given.
pub(crate) fn issue_comment(
    w: &World,
    full: &str,
    comment_id: u64,
    action: &str,
    previous_body: Option<&str>,
) -> Value {
    let r = repo_of(w, full);
    let c = r
        .comments
        .get(&comment_id)
        .unwrap_or_else(|| panic!("fake-github: no comment {comment_id} in {full}"));
    let issue = r
        .issues
        .get(&c.issue_number)
        .unwrap_or_else(|| panic!("fake-github: no issue #{} in {full}", c.issue_number));
    let mut v = envelope(w, r, Some(action), &c.user);
    v["issue"] = render::issue(w, r, issue);
    v["comment"] = render::comment(w, r, c);
    if let Some(from) = previous_body {
        v["changes"] = json!({"body": {"from": from}});
    }
    v
}

/// `issues` for issue `number`, sent by `sender`; `label` for labeled/unlabeled.
pub(crate) fn issues(
    w: &World,
    full: &str,
    number: u64,
    action: &str,
    sender: &str,
    label: Option<&str>,
) -> Value {
    let r = repo_of(w, full);
    let issue = r
        .issues
        .get(&number)
        .unwrap_or_else(|| panic!("fake-github: no issue #{number} in {full}"));
    let mut v = envelope(w, r, Some(action), sender);
    v["issue"] = render::issue(w, r, issue);
    if let Some(l) = label.and_then(|l| r.label(l)) {
        v["label"] = render::label(w, r, l);
    }
    v
}

/// `pull_request` for PR `number`, sent by `sender`; `label` for labeled/unlabeled.
pub(crate) fn pull_request(
    w: &World,
    full: &str,
    number: u64,
    action: &str,
    sender: &str,
    label: Option<&str>,
) -> Value {
    let r = repo_of(w, full);
    let issue = r
        .issues
        .get(&number)
        .unwrap_or_else(|| panic!("fake-github: no pull request #{number} in {full}"));
    let pull = render::pull(w, r, issue)
        .unwrap_or_else(|| panic!("fake-github: #{number} in {full} is an issue, not a PR"));
    let mut v = envelope(w, r, Some(action), sender);
    v["number"] = json!(number);
    v["pull_request"] = pull;
    if let Some(l) = label.and_then(|l| r.label(l)) {
        v["label"] = render::label(w, r, l);
    }
    v
}

/// `push` of `branch` from `before` to its current head, by `pusher`.
pub(crate) fn push(w: &World, full: &str, branch: &str, before: &str, pusher: &str) -> Value {
    let r = repo_of(w, full);
    let after = r
        .branches
        .get(branch)
        .unwrap_or_else(|| panic!("fake-github: no branch {branch} in {full}"))
        .clone();
    let commits: Vec<Value> = r
        .ancestry(&after)
        .into_iter()
        .take_while(|c| c.sha != before)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|c| {
            let parent_tree = c
                .parent
                .as_deref()
                .and_then(|p| r.commits.get(p))
                .map(|p| p.tree.clone())
                .unwrap_or_default();
            let files = crate::diff::diff_trees(&parent_tree, &c.tree);
            let pick = |status: &str| -> Vec<String> {
                files
                    .iter()
                    .filter(|f| f.status == status)
                    .map(|f| f.filename.clone())
                    .collect()
            };
            let mut added = pick("added");
            let mut removed = pick("removed");
            // Webhook pushes report a rename as removed + added.
            for f in files.iter().filter(|f| f.status == "renamed") {
                added.push(f.filename.clone());
                removed.extend(f.previous_filename.clone());
            }
            let who = json!({"name": pusher, "email": format!("{pusher}@example.com"), "username": pusher});
            json!({
                "id": c.sha,
                "tree_id": c.sha,
                "distinct": true,
                "message": c.message,
                "timestamp": render::ts(c.date),
                "url": format!("https://github.com/{}/commit/{}", r.full_name(), c.sha),
                "author": who,
                "committer": who,
                "added": added,
                "removed": removed,
                "modified": pick("modified"),
            })
        })
        .collect();
    let mut v = envelope(w, r, None, pusher);
    let zero = "0000000000000000000000000000000000000000";
    v["ref"] = json!(format!("refs/heads/{branch}"));
    v["before"] = json!(before);
    v["after"] = json!(after);
    v["created"] = json!(before == zero);
    v["deleted"] = json!(false);
    v["forced"] = json!(false);
    v["base_ref"] = Value::Null;
    v["compare"] = json!(format!(
        "https://github.com/{}/compare/{}...{}",
        r.full_name(),
        &before[..before.len().min(12)],
        &after[..after.len().min(12)]
    ));
    v["head_commit"] = commits.last().cloned().unwrap_or(Value::Null);
    v["commits"] = Value::Array(commits);
    v["pusher"] = json!({"name": pusher, "email": format!("{pusher}@example.com")});
    v
}
