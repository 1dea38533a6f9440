//! Pull requests: listing, one pull request, its commits and files.

use serde_json::Value;

use crate::model::Issue;
use crate::render;
use crate::world::World;

use super::contents::{commit_json, file_json};
use super::{Answer, Reply, Req, issue_by_number, not_found, paginate, repo};

/// Routes `/repos/{owner}/{repo}/pulls/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("GET", ["pulls"]) => list_pulls(w, req, full),
        ("GET", ["pulls", n]) => {
            let r = repo(w, full)?;
            let i = issue_by_number(r, n)?;
            let v = render::pull(w, r, i).ok_or_else(not_found)?;
            Ok(Reply::json(200, &v))
        }
        ("GET", ["pulls", n, "commits"]) => {
            let r = repo(w, full)?;
            let p = issue_by_number(r, n)?.pull.as_ref().ok_or_else(not_found)?;
            let base = crate::diff::merge_base(r, &p.base_sha, &p.head_sha).unwrap_or_default();
            let mut commits: Vec<Value> = r
                .ancestry(&p.head_sha)
                .into_iter()
                .take_while(|c| c.sha != base)
                .map(|c| commit_json(w, r, c))
                .collect();
            commits.reverse();
            paginate(w, req, commits)
        }
        ("GET", ["pulls", n, "files"]) => {
            let r = repo(w, full)?;
            let i = issue_by_number(r, n)?;
            let p = i.pull.as_ref().ok_or_else(not_found)?;
            let files = crate::diff::pull_files(r, p).unwrap_or_default();
            let items = files
                .iter()
                .take(3000)
                .map(|f| file_json(w, r, &p.head_sha, f))
                .collect();
            paginate(w, req, items)
        }
        _ => Err(not_found()),
    }
}

fn list_pulls(w: &World, req: &Req, full: &str) -> Answer {
    let r = repo(w, full)?;
    let state = req.q("state").unwrap_or("open");
    let head = req.q("head");
    let base = req.q("base");
    let mut list: Vec<&Issue> = r
        .issues
        .values()
        .filter(|i| i.pull.is_some())
        .filter(|i| state == "all" || i.state == state)
        .filter(|i| {
            let p = i.pull.as_ref();
            head.is_none_or(|h| {
                let h = h.split_once(':').map_or(h, |(_, b)| b);
                p.is_some_and(|p| p.head_ref == h)
            }) && base.is_none_or(|b| p.is_some_and(|p| p.base_ref == b))
        })
        .collect();
    match req.q("sort") {
        Some("updated") => list.sort_by_key(|i| (i.updated_at, i.number)),
        _ => list.sort_by_key(|i| (i.created_at, i.number)),
    }
    if req.q("direction") != Some("asc") {
        list.reverse();
    }
    let items = list
        .into_iter()
        .filter_map(|i| render::pull(w, r, i))
        .collect();
    paginate(w, req, items)
}
