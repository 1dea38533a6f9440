//! Issues (pull requests are issues too): listing, creating, editing, their
//! labels and assignees. The `/issues/…` URL tree also holds comments and
//! reactions, whose handlers live in their own modules.

use serde_json::{Value, json};

use crate::model::{Issue, Repo};
use crate::render;
use crate::world::{World, blank_issue, now};

use super::comments::{comment_by_id, create_comment, list_repo_comments, update_comment};
use super::labels::check_label_names;
use super::reactions::{Target, add_reaction, delete_reaction, list_reactions};
use super::{
    Answer, Reply, Req, assignable, issue_by_number, issue_mut, not_found, page_of, paginate,
    parse_since, repo, repo_mut,
};

/// Routes `/repos/{owner}/{repo}/issues/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("GET", ["issues"]) => list_issues(w, req, full),
        ("POST", ["issues"]) => create_issue(w, req, full),
        ("GET", ["issues", "comments"]) => list_repo_comments(w, req, full),
        ("GET", ["issues", "comments", id]) => {
            let r = repo(w, full)?;
            let c = comment_by_id(r, id)?;
            Ok(Reply::json(200, &render::comment(w, r, c)))
        }
        ("PATCH", ["issues", "comments", id]) => update_comment(w, req, full, id),
        ("DELETE", ["issues", "comments", id]) => {
            let id = comment_by_id(repo(w, full)?, id)?.id;
            repo_mut(w, full)?.comments.remove(&id);
            Ok(Reply::no_content())
        }
        ("GET", ["issues", "comments", id, "reactions"]) => {
            let r = repo(w, full)?;
            let c = comment_by_id(r, id)?;
            list_reactions(w, req, &c.reactions)
        }
        ("POST", ["issues", "comments", id, "reactions"]) => {
            let id = comment_by_id(repo(w, full)?, id)?.id;
            add_reaction(w, req, full, Target::Comment(id))
        }
        ("DELETE", ["issues", "comments", id, "reactions", rid]) => {
            let id = comment_by_id(repo(w, full)?, id)?.id;
            delete_reaction(w, full, Target::Comment(id), rid)
        }
        ("GET", ["issues", n]) => {
            let r = repo(w, full)?;
            let i = issue_by_number(r, n)?;
            Ok(Reply::json(200, &render::issue(w, r, i)))
        }
        ("PATCH", ["issues", n]) => update_issue(w, req, full, n),
        ("GET", ["issues", n, "comments"]) => {
            let r = repo(w, full)?;
            let number = issue_by_number(r, n)?.number;
            let since = parse_since(req)?;
            let items = r
                .comments
                .values()
                .filter(|c| c.issue_number == number)
                .filter(|c| since.is_none_or(|s| c.updated_at >= s))
                .map(|c| render::comment(w, r, c))
                .collect();
            paginate(w, req, items)
        }
        ("POST", ["issues", n, "comments"]) => create_comment(w, req, full, n),
        ("GET", ["issues", n, "labels"]) => {
            let r = repo(w, full)?;
            let i = issue_by_number(r, n)?;
            let items = issue_labels_json(w, r, i);
            paginate(w, req, items)
        }
        ("POST", ["issues", n, "labels"]) => set_issue_labels(w, req, full, n, false),
        ("PUT", ["issues", n, "labels"]) => set_issue_labels(w, req, full, n, true),
        ("DELETE", ["issues", n, "labels"]) => {
            let number = issue_by_number(repo(w, full)?, n)?.number;
            let i = issue_mut(w, full, number)?;
            i.labels.clear();
            i.updated_at = now();
            Ok(Reply::no_content())
        }
        ("DELETE", ["issues", n, "labels", name]) => {
            let number = issue_by_number(repo(w, full)?, n)?.number;
            let i = issue_mut(w, full, number)?;
            let before = i.labels.len();
            i.labels.retain(|l| !l.eq_ignore_ascii_case(name));
            if i.labels.len() == before {
                return Err(Reply::error(404, "Label does not exist"));
            }
            i.updated_at = now();
            let r = repo(w, full)?;
            let items = issue_labels_json(w, r, &r.issues[&number]);
            Ok(Reply::json(200, &Value::Array(items)))
        }
        ("POST", ["issues", n, "assignees"]) | ("DELETE", ["issues", n, "assignees"]) => {
            let v = req.json_body()?;
            let names = string_list(&v, "assignees")?.unwrap_or_default();
            let r = repo(w, full)?;
            let number = issue_by_number(r, n)?.number;
            // Like GitHub, logins that cannot be assigned are ignored here.
            let names: Vec<String> = names.into_iter().filter(|a| assignable(r, a)).collect();
            let i = issue_mut(w, full, number)?;
            if m == "POST" {
                for a in names {
                    if !i.assignees.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                        i.assignees.push(a);
                    }
                }
            } else {
                i.assignees
                    .retain(|x| !names.iter().any(|a| a.eq_ignore_ascii_case(x)));
            }
            i.updated_at = now();
            let r = repo(w, full)?;
            let status = if m == "POST" { 201 } else { 200 };
            Ok(Reply::json(
                status,
                &render::issue(w, r, &r.issues[&number]),
            ))
        }
        ("GET", ["issues", n, "reactions"]) => {
            let r = repo(w, full)?;
            let i = issue_by_number(r, n)?;
            list_reactions(w, req, &i.reactions)
        }
        ("POST", ["issues", n, "reactions"]) => {
            let number = issue_by_number(repo(w, full)?, n)?.number;
            add_reaction(w, req, full, Target::Issue(number))
        }
        ("DELETE", ["issues", n, "reactions", rid]) => {
            let number = issue_by_number(repo(w, full)?, n)?.number;
            delete_reaction(w, full, Target::Issue(number), rid)
        }
        _ => Err(not_found()),
    }
}

fn list_issues(w: &mut World, req: &Req, full: &str) -> Answer {
    let r = repo(w, full)?;
    let state = req.q("state").unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return Err(Reply::validation("Issue", "state", "invalid"));
    }
    let labels: Vec<&str> = req
        .q("labels")
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let since = parse_since(req)?;
    let creator = req.q("creator");
    let assignee = req.q("assignee");
    let milestone = req.q("milestone");
    let mut list: Vec<&Issue> = r
        .issues
        .values()
        .filter(|i| state == "all" || i.state == state)
        .filter(|i| {
            labels
                .iter()
                .all(|l| i.labels.iter().any(|x| x.eq_ignore_ascii_case(l)))
        })
        .filter(|i| since.is_none_or(|s| i.updated_at >= s))
        .filter(|i| creator.is_none_or(|c| i.user.eq_ignore_ascii_case(c)))
        .filter(|i| match assignee {
            None => true,
            Some("none") => i.assignees.is_empty(),
            Some("*") => !i.assignees.is_empty(),
            Some(a) => i.assignees.iter().any(|x| x.eq_ignore_ascii_case(a)),
        })
        .filter(|i| match milestone {
            None => true,
            Some("none") => i.milestone.is_none(),
            Some("*") => i.milestone.is_some(),
            Some(n) => i.milestone.map(|m| m.to_string()).as_deref() == Some(n),
        })
        .collect();
    let sort = req.q("sort").unwrap_or("created");
    match sort {
        "updated" => list.sort_by_key(|i| (i.updated_at, i.number)),
        "comments" => list.sort_by_key(|i| {
            (
                r.comments
                    .values()
                    .filter(|c| c.issue_number == i.number)
                    .count(),
                i.number,
            )
        }),
        _ => list.sort_by_key(|i| (i.created_at, i.number)),
    }
    if req.q("direction") != Some("asc") {
        list.reverse();
    }
    // Render only the page asked for: rendering every match on each page
    // made listing thousands of issues quadratic.
    let (page, link) = page_of(w, req, list);
    let rendered: Vec<Value> = page.into_iter().map(|i| render::issue(w, r, i)).collect();
    let mut reply = Reply::json(200, &Value::Array(rendered));
    if let Some(link) = link {
        reply = reply.header("link", link);
    }
    Ok(reply)
}

pub(super) fn string_list(v: &Value, field: &str) -> Result<Option<Vec<String>>, Reply> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| Reply::validation("Issue", field, "invalid")),
                _ => Err(Reply::validation("Issue", field, "invalid")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(Reply::validation("Issue", field, "invalid")),
    }
}

/// GitHub's limits: titles up to 256 characters, bodies up to 65,536.
pub(super) fn check_issue_text(title: &str, body: Option<&str>) -> Result<(), Reply> {
    if title.chars().count() > 256 {
        return Err(Reply::validation("Issue", "title", "too_long"));
    }
    if body.is_some_and(|b| b.chars().count() > 65536) {
        return Err(Reply::validation("Issue", "body", "too_long"));
    }
    Ok(())
}

pub(super) fn check_assignees(r: &Repo, assignees: &[String]) -> Result<(), Reply> {
    match assignees.iter().find(|a| !assignable(r, a)) {
        Some(_) => Err(Reply::validation("Issue", "assignees", "invalid")),
        None => Ok(()),
    }
}

pub(super) fn milestone_field(r: &Repo, v: &Value) -> Result<Option<Option<u64>>, Reply> {
    match v.get("milestone") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(m) => {
            let n = m
                .as_u64()
                .or_else(|| m.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| r.milestones.contains_key(n))
                .ok_or_else(|| Reply::validation("Issue", "milestone", "invalid"))?;
            Ok(Some(Some(n)))
        }
    }
}

fn create_issue(w: &mut World, req: &Req, full: &str) -> Answer {
    let v = req.json_body()?;
    let title = v
        .get("title")
        .and_then(|t| {
            t.as_str()
                .map(str::to_owned)
                .or_else(|| t.as_u64().map(|n| n.to_string()))
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Reply::validation("Issue", "title", "missing_field"))?;
    check_issue_text(&title, v.get("body").and_then(Value::as_str))?;
    let r = repo(w, full)?;
    let labels = string_list(&v, "labels")?.unwrap_or_default();
    check_label_names(&labels)?;
    let mut assignees = string_list(&v, "assignees")?.unwrap_or_default();
    if let Some(a) = v.get("assignee").and_then(Value::as_str) {
        assignees.push(a.to_owned());
    }
    check_assignees(r, &assignees)?;
    let milestone = milestone_field(r, &v)?.flatten();
    let mut issue = blank_issue(&title, &req.identity.actor());
    issue.body = v.get("body").and_then(Value::as_str).map(str::to_owned);
    issue.assignees = assignees;
    issue.milestone = milestone;
    issue.labels = labels.iter().map(|l| w.ensure_label(full, l)).collect();
    issue.labels.dedup();
    let n = w.new_issue(full, issue);
    let r = repo(w, full)?;
    Ok(Reply::json(201, &render::issue(w, r, &r.issues[&n])))
}

fn update_issue(w: &mut World, req: &Req, full: &str, n: &str) -> Answer {
    let v = req.json_body()?;
    let actor = req.identity.actor();
    let r = repo(w, full)?;
    let number = issue_by_number(r, n)?.number;
    let labels = string_list(&v, "labels")?;
    if let Some(ls) = &labels {
        check_label_names(ls)?;
    }
    let title = v.get("title").and_then(Value::as_str);
    if title.is_some_and(str::is_empty) {
        return Err(Reply::validation("Issue", "title", "missing_field"));
    }
    check_issue_text(title.unwrap_or(""), v.get("body").and_then(Value::as_str))?;
    let assignees = string_list(&v, "assignees")?;
    if let Some(a) = &assignees {
        check_assignees(r, a)?;
    }
    let milestone = milestone_field(r, &v)?;
    let state = match v.get("state").and_then(Value::as_str) {
        None => None,
        Some(s @ ("open" | "closed")) => Some(s.to_owned()),
        Some(_) => return Err(Reply::validation("Issue", "state", "invalid")),
    };
    let reason = match v.get("state_reason") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s))
            if matches!(
                s.as_str(),
                "completed" | "not_planned" | "reopened" | "duplicate"
            ) =>
        {
            Some(Some(s.clone()))
        }
        Some(_) => return Err(Reply::validation("Issue", "state_reason", "invalid")),
    };
    let labels = labels.map(|ls| {
        let mut out: Vec<String> = ls.iter().map(|l| w.ensure_label(full, l)).collect();
        out.dedup();
        out
    });
    let i = issue_mut(w, full, number)?;
    let t = now();
    if let Some(title) = v.get("title").and_then(Value::as_str) {
        i.title = title.to_owned();
    }
    match v.get("body") {
        Some(Value::String(b)) => i.body = Some(b.clone()),
        Some(Value::Null) => i.body = None,
        _ => {}
    }
    if let Some(ls) = labels {
        i.labels = ls;
    }
    if let Some(a) = assignees {
        i.assignees = a;
    }
    if let Some(m) = milestone {
        i.milestone = m;
    }
    if let Some(s) = state {
        if s == "closed" && i.state != "closed" {
            i.closed_at = Some(t);
            i.closed_by = Some(actor);
            i.state_reason = Some("completed".into());
        } else if s == "open" && i.state != "open" {
            i.closed_at = None;
            i.closed_by = None;
            i.state_reason = Some("reopened".into());
        }
        i.state = s;
    }
    if let Some(r) = reason {
        i.state_reason = r;
    }
    i.updated_at = t;
    let r = repo(w, full)?;
    Ok(Reply::json(200, &render::issue(w, r, &r.issues[&number])))
}

fn issue_labels_json(w: &World, r: &Repo, i: &Issue) -> Vec<Value> {
    i.labels
        .iter()
        .filter_map(|n| r.label(n))
        .map(|l| render::label(w, r, l))
        .collect()
}

fn set_issue_labels(w: &mut World, req: &Req, full: &str, n: &str, replace: bool) -> Answer {
    let v = req.json_body()?;
    let names = if v.is_array() {
        string_list(&json!({"labels": v}), "labels")?
    } else {
        string_list(&v, "labels")?
    }
    .unwrap_or_default();
    check_label_names(&names)?;
    let number = issue_by_number(repo(w, full)?, n)?.number;
    let names: Vec<String> = names.iter().map(|l| w.ensure_label(full, l)).collect();
    let i = issue_mut(w, full, number)?;
    if replace {
        i.labels.clear();
    }
    for name in names {
        if !i.labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            i.labels.push(name);
        }
    }
    i.updated_at = now();
    let r = repo(w, full)?;
    Ok(Reply::json(
        200,
        &Value::Array(issue_labels_json(w, r, &r.issues[&number])),
    ))
}
