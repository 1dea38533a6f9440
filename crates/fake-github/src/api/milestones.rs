//! Milestones.

use serde_json::Value;

use crate::model::Milestone;
use crate::render;
use crate::world::{World, now};

use super::{Answer, Reply, Req, not_found, paginate, parse_time, repo, repo_mut};

/// Routes `/repos/{owner}/{repo}/milestones/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("GET", ["milestones"]) => {
            let r = repo(w, full)?;
            let state = req.q("state").unwrap_or("open");
            let items = r
                .milestones
                .values()
                .filter(|m| state == "all" || m.state == state)
                .map(|m| render::milestone(w, r, m))
                .collect();
            paginate(w, req, items)
        }
        ("POST", ["milestones"]) => create_milestone(w, req, full),
        ("GET", ["milestones", n]) => {
            let r = repo(w, full)?;
            let m = n
                .parse::<u64>()
                .ok()
                .and_then(|n| r.milestones.get(&n))
                .ok_or_else(not_found)?;
            Ok(Reply::json(200, &render::milestone(w, r, m)))
        }
        _ => Err(not_found()),
    }
}

fn create_milestone(w: &mut World, req: &Req, full: &str) -> Answer {
    let v = req.json_body()?;
    let title = v
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Reply::validation("Milestone", "title", "missing_field"))?
        .to_owned();
    if repo(w, full)?.milestones.values().any(|m| m.title == title) {
        return Err(Reply::validation("Milestone", "title", "already_exists"));
    }
    let due_on = match v.get("due_on").and_then(Value::as_str) {
        None => None,
        Some(s) => {
            Some(parse_time(s).ok_or_else(|| Reply::validation("Milestone", "due_on", "invalid"))?)
        }
    };
    let id = w.next_id();
    let t = now();
    let r = repo_mut(w, full)?;
    let number = r.milestones.keys().next_back().map_or(1, |n| n + 1);
    let state = v
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("open")
        .to_owned();
    r.milestones.insert(
        number,
        Milestone {
            id,
            number,
            title,
            description: v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            closed_at: (state == "closed").then_some(t),
            state,
            due_on,
            created_at: t,
            updated_at: t,
        },
    );
    let r = repo(w, full)?;
    Ok(Reply::json(
        201,
        &render::milestone(w, r, &r.milestones[&number]),
    ))
}
