//! Repository labels.

use serde_json::Value;

use crate::render;
use crate::world::World;

use super::{Answer, Reply, Req, not_found, paginate, repo, repo_mut};

/// Routes `/repos/{owner}/{repo}/labels/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("GET", ["labels"]) => {
            let r = repo(w, full)?;
            let items = r.labels.iter().map(|l| render::label(w, r, l)).collect();
            paginate(w, req, items)
        }
        ("POST", ["labels"]) => create_label(w, req, full),
        ("GET", ["labels", name]) => {
            let r = repo(w, full)?;
            let l = r.label(name).ok_or_else(not_found)?;
            Ok(Reply::json(200, &render::label(w, r, l)))
        }
        ("PATCH", ["labels", name]) => update_label(w, req, full, name),
        ("DELETE", ["labels", name]) => {
            let r = repo_mut(w, full)?;
            let canonical = r.label(name).ok_or_else(not_found)?.name.clone();
            r.labels.retain(|l| l.name != canonical);
            for i in r.issues.values_mut() {
                i.labels.retain(|l| *l != canonical);
            }
            Ok(Reply::no_content())
        }
        _ => Err(not_found()),
    }
}

/// GitHub's limit: label names up to 50 characters.
pub(super) fn check_label_names(names: &[String]) -> Result<(), Reply> {
    match names
        .iter()
        .find(|n| n.is_empty() || n.chars().count() > 50)
    {
        Some(_) => Err(Reply::validation("Label", "name", "invalid")),
        None => Ok(()),
    }
}

fn create_label(w: &mut World, req: &Req, full: &str) -> Answer {
    let v = req.json_body()?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Reply::validation("Label", "name", "missing_field"))?
        .to_owned();
    check_label_names(std::slice::from_ref(&name))?;
    if repo(w, full)?.label(&name).is_some() {
        return Err(Reply::validation("Label", "name", "already_exists"));
    }
    let id = w.next_id();
    let label = crate::model::Label {
        id,
        name,
        color: v
            .get("color")
            .and_then(Value::as_str)
            .unwrap_or("ededed")
            .trim_start_matches('#')
            .to_owned(),
        description: v
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    repo_mut(w, full)?.labels.push(label.clone());
    let r = repo(w, full)?;
    Ok(Reply::json(201, &render::label(w, r, &label)))
}

fn update_label(w: &mut World, req: &Req, full: &str, name: &str) -> Answer {
    let v = req.json_body()?;
    let r = repo_mut(w, full)?;
    let old = r.label(name).ok_or_else(not_found)?.name.clone();
    let new_name = v.get("new_name").and_then(Value::as_str).map(str::to_owned);
    if let Some(n) = &new_name
        && !n.eq_ignore_ascii_case(&old)
        && r.label(n).is_some()
    {
        return Err(Reply::validation("Label", "name", "already_exists"));
    }
    let Some(l) = r.labels.iter_mut().find(|l| l.name == old) else {
        return Err(not_found());
    };
    if let Some(c) = v.get("color").and_then(Value::as_str) {
        l.color = c.trim_start_matches('#').to_owned();
    }
    match v.get("description") {
        Some(Value::String(d)) => l.description = Some(d.clone()),
        Some(Value::Null) => l.description = None,
        _ => {}
    }
    if let Some(n) = &new_name {
        l.name = n.clone();
    }
    let label = l.clone();
    if let Some(n) = new_name {
        for i in r.issues.values_mut() {
            for x in i.labels.iter_mut().filter(|x| **x == old) {
                *x = n.clone();
            }
        }
    }
    let r = repo(w, full)?;
    Ok(Reply::json(200, &render::label(w, r, &label)))
}
