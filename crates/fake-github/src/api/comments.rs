//! Issue comments: creating, editing and listing them across a repository.

use serde_json::Value;

use crate::model::{Comment, Repo};
use crate::render;
use crate::world::{World, now};

use super::{
    Answer, Reply, Req, issue_by_number, not_found, paginate, parse_since, repo, repo_mut,
};

pub(super) fn comment_by_id<'r>(r: &'r Repo, id: &str) -> Result<&'r Comment, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| r.comments.get(&id))
        .ok_or_else(not_found)
}

fn body_field(v: &Value) -> Result<String, Reply> {
    v.get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Reply::validation("IssueComment", "body", "missing_field"))
}

pub(super) fn create_comment(w: &mut World, req: &Req, full: &str, n: &str) -> Answer {
    let v = req.json_body()?;
    let body = body_field(&v)?;
    if body.chars().count() > 65536 {
        return Err(Reply::validation("IssueComment", "body", "too_long"));
    }
    let number = issue_by_number(repo(w, full)?, n)?.number;
    let actor = req.identity.actor();
    w.user(&actor);
    let id = w.next_id();
    let t = now();
    let r = repo_mut(w, full)?;
    r.comments.insert(
        id,
        Comment {
            id,
            issue_number: number,
            user: actor,
            body,
            created_at: t,
            updated_at: t,
            reactions: Vec::new(),
            unasserted: true,
        },
    );
    if let Some(i) = r.issues.get_mut(&number) {
        i.updated_at = t;
    }
    let r = repo(w, full)?;
    Ok(Reply::json(201, &render::comment(w, r, &r.comments[&id])))
}

pub(super) fn update_comment(w: &mut World, req: &Req, full: &str, id: &str) -> Answer {
    let v = req.json_body()?;
    let body = body_field(&v)?;
    let id = comment_by_id(repo(w, full)?, id)?.id;
    let r = repo_mut(w, full)?;
    if let Some(c) = r.comments.get_mut(&id) {
        c.body = body;
        c.updated_at = now();
        c.unasserted = true;
    }
    let r = repo(w, full)?;
    Ok(Reply::json(200, &render::comment(w, r, &r.comments[&id])))
}

pub(super) fn list_repo_comments(w: &mut World, req: &Req, full: &str) -> Answer {
    let r = repo(w, full)?;
    let since = parse_since(req)?;
    let mut list: Vec<&Comment> = r
        .comments
        .values()
        .filter(|c| since.is_none_or(|s| c.updated_at >= s))
        .collect();
    if req.q("sort") == Some("updated") {
        list.sort_by_key(|c| (c.updated_at, c.id));
    }
    if req.q("direction") == Some("desc") {
        list.reverse();
    }
    let items = list.into_iter().map(|c| render::comment(w, r, c)).collect();
    paginate(w, req, items)
}
