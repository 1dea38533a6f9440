//! Check runs and their annotations.

use serde_json::{Value, json};

use crate::model::{CheckRun, Repo};
use crate::render;
use crate::world::{World, now};

use super::{Answer, Identity, Reply, Req, not_found, paginate, parse_time, repo, repo_mut};

/// Routes `/repos/{owner}/{repo}/check-runs/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("POST", ["check-runs"]) => create_check_run(w, req, full),
        ("PATCH", ["check-runs", id]) => update_check_run(w, req, full, id),
        ("GET", ["check-runs", id]) => {
            let r = repo(w, full)?;
            let c = check_by_id(r, id)?;
            Ok(Reply::json(200, &render::check_run(w, r, c)))
        }
        ("GET", ["check-runs", id, "annotations"]) => {
            let r = repo(w, full)?;
            let c = check_by_id(r, id)?;
            let items = c
                .annotations
                .iter()
                .map(|a| {
                    let path = a["path"].as_str().unwrap_or("");
                    json!({
                        "path": path,
                        "blob_href": format!("https://github.com/{}/blob/{}/{path}", r.full_name(), c.head_sha),
                        "start_line": a["start_line"],
                        "end_line": a["end_line"],
                        "start_column": a.get("start_column").cloned().unwrap_or(Value::Null),
                        "end_column": a.get("end_column").cloned().unwrap_or(Value::Null),
                        "annotation_level": a["annotation_level"],
                        "title": a.get("title").cloned().unwrap_or(Value::Null),
                        "message": a["message"],
                        "raw_details": a.get("raw_details").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect();
            paginate(w, req, items)
        }
        _ => Err(not_found()),
    }
}

pub(super) fn check_by_id<'r>(r: &'r Repo, id: &str) -> Result<&'r CheckRun, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| r.check_runs.get(&id))
        .ok_or_else(not_found)
}

fn check_fields(c: &mut CheckRun, v: &Value) -> Result<(), Reply> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(name) = s("name") {
        c.name = name;
    }
    if let Some(u) = s("details_url") {
        c.details_url = Some(u);
    }
    if let Some(e) = s("external_id") {
        c.external_id = Some(e);
    }
    if let Some(t) = s("started_at") {
        c.started_at = Some(
            parse_time(&t).ok_or_else(|| Reply::validation("CheckRun", "started_at", "invalid"))?,
        );
    }
    if let Some(t) = s("completed_at") {
        c.completed_at = Some(
            parse_time(&t)
                .ok_or_else(|| Reply::validation("CheckRun", "completed_at", "invalid"))?,
        );
    }
    if let Some(status) = s("status") {
        if !matches!(status.as_str(), "queued" | "in_progress" | "completed") {
            return Err(Reply::validation("CheckRun", "status", "invalid"));
        }
        c.status = status;
    }
    if let Some(conclusion) = s("conclusion") {
        const OK: [&str; 8] = [
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "success",
            "skipped",
            "stale",
            "timed_out",
        ];
        if !OK.contains(&conclusion.as_str()) {
            return Err(Reply::validation("CheckRun", "conclusion", "invalid"));
        }
        c.conclusion = Some(conclusion);
        c.status = "completed".into();
        c.completed_at.get_or_insert_with(now);
    }
    if c.status == "completed" && c.conclusion.is_none() {
        return Err(Reply::validation("CheckRun", "conclusion", "missing_field"));
    }
    if let Some(out) = v.get("output") {
        let os = |k: &str| out.get(k).and_then(Value::as_str).map(str::to_owned);
        let summary = os("summary");
        let title = os("title");
        if title.is_none() || summary.is_none() {
            return Err(Reply::validation("CheckRun", "output", "missing_field"));
        }
        if summary.as_ref().is_some_and(|s| s.chars().count() > 65535) {
            return Err(Reply::validation("CheckRun", "output.summary", "too_long"));
        }
        c.title = title;
        c.summary = summary;
        if let Some(t) = os("text") {
            c.text = Some(t);
        }
        if let Some(anns) = out.get("annotations").and_then(Value::as_array) {
            if anns.len() > 50 {
                return Err(Reply::validation(
                    "CheckRun",
                    "output.annotations",
                    "too_many",
                ));
            }
            for a in anns {
                let ok = [
                    "path",
                    "start_line",
                    "end_line",
                    "annotation_level",
                    "message",
                ]
                .iter()
                .all(|k| a.get(*k).is_some());
                if !ok {
                    return Err(Reply::validation(
                        "CheckRun",
                        "output.annotations",
                        "missing_field",
                    ));
                }
                c.annotations.push(a.clone());
            }
        }
    }
    Ok(())
}

fn create_check_run(w: &mut World, req: &Req, full: &str) -> Answer {
    let v = req.json_body()?;
    let r = repo(w, full)?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Reply::validation("CheckRun", "name", "missing_field"))?;
    let head = v
        .get("head_sha")
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::validation("CheckRun", "head_sha", "missing_field"))?;
    let head_sha = r
        .resolve(head)
        .map(|c| c.sha.clone())
        .ok_or_else(|| Reply::error(422, "No commit found for SHA"))?;
    let mut c = CheckRun {
        id: 0,
        name: name.to_owned(),
        head_sha,
        status: "queued".into(),
        conclusion: None,
        details_url: None,
        external_id: None,
        started_at: Some(now()),
        completed_at: None,
        title: None,
        summary: None,
        text: None,
        annotations: Vec::new(),
        app_slug: match &req.identity {
            Identity::User(login) => login.strip_suffix("[bot]").map(str::to_owned),
            _ => None,
        },
    };
    check_fields(&mut c, &v)?;
    c.id = w.next_id();
    let id = c.id;
    repo_mut(w, full)?.check_runs.insert(id, c);
    let r = repo(w, full)?;
    Ok(Reply::json(
        201,
        &render::check_run(w, r, &r.check_runs[&id]),
    ))
}

fn update_check_run(w: &mut World, req: &Req, full: &str, id: &str) -> Answer {
    let v = req.json_body()?;
    let mut c = check_by_id(repo(w, full)?, id)?.clone();
    check_fields(&mut c, &v)?;
    let id = c.id;
    repo_mut(w, full)?.check_runs.insert(id, c);
    let r = repo(w, full)?;
    Ok(Reply::json(
        200,
        &render::check_run(w, r, &r.check_runs[&id]),
    ))
}
