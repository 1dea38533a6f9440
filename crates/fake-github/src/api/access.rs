//! Who may call what: installations and their access tokens, the rate-limit
//! buckets, and the repository and permission checks every `/repos` route
//! passes first.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Value, json};

use crate::render;
use crate::world::World;

use super::{Answer, Identity, Reply, Req, not_found, page_of};

pub(super) fn installation_by_id<'w>(
    w: &'w World,
    id: &str,
) -> Result<&'w crate::model::Installation, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| w.installations.get(&id))
        .filter(|i| !i.removed)
        .ok_or_else(not_found)
}

/// GitHub's level order: a token may be narrowed, never widened.
fn level_rank(level: &str) -> u8 {
    match level {
        "admin" => 3,
        "write" => 2,
        "read" => 1,
        _ => 0,
    }
}

/// `POST /app/installations/{id}/access_tokens`: the body may narrow the
/// token to some of the installation's repositories (`repositories` by
/// name, `repository_ids`) and to some of its permissions. Asking for more
/// than the installation has is a 422, as on GitHub.
pub(super) fn access_token(w: &mut World, req: &Req, id: &str) -> Answer {
    let inst = installation_by_id(w, id)?;
    let inst_id = inst.id;
    let body = req.json_body()?;
    let mut repos: Option<Vec<String>> = None;
    let not_accessible = || {
        Reply::error(
            422,
            "There is at least one repository that does not exist or is not accessible to the parent installation.",
        )
    };
    if let Some(names) = body.get("repositories").filter(|v| !v.is_null()) {
        let names = names.as_array().ok_or_else(|| {
            Reply::error(
                422,
                "Invalid request.\n\nFor 'properties/repositories', is not an array.",
            )
        })?;
        for name in names {
            let name = name.as_str().unwrap_or_default();
            let full = inst
                .repos
                .iter()
                .find(|r| {
                    r.split_once('/')
                        .is_some_and(|(_, n)| n.eq_ignore_ascii_case(name))
                })
                .ok_or_else(not_accessible)?;
            repos
                .get_or_insert_with(Vec::new)
                .push(full.to_ascii_lowercase());
        }
    }
    if let Some(ids) = body.get("repository_ids").filter(|v| !v.is_null()) {
        let ids = ids.as_array().ok_or_else(|| {
            Reply::error(
                422,
                "Invalid request.\n\nFor 'properties/repository_ids', is not an array.",
            )
        })?;
        for repo_id in ids {
            let full = inst
                .repos
                .iter()
                .find(|r| w.repo(r).is_some_and(|x| Some(x.id) == repo_id.as_u64()))
                .ok_or_else(not_accessible)?;
            repos
                .get_or_insert_with(Vec::new)
                .push(full.to_ascii_lowercase());
        }
    }
    let mut permissions: Option<BTreeMap<String, String>> = None;
    if let Some(asked) = body.get("permissions").filter(|v| !v.is_null()) {
        let asked = asked.as_object().ok_or_else(|| {
            Reply::error(
                422,
                "Invalid request.\n\nFor 'properties/permissions', is not an object.",
            )
        })?;
        for (name, level) in asked {
            let level = level.as_str().unwrap_or_default();
            let granted = inst.permissions.get(name).map_or("", String::as_str);
            let granted = if granted.is_empty() && name == "metadata" {
                "read"
            } else {
                granted
            };
            if level_rank(level) == 0 || level_rank(level) > level_rank(granted) {
                return Err(Reply::error(
                    422,
                    "The permissions requested are not granted to this installation.",
                ));
            }
            permissions
                .get_or_insert_with(BTreeMap::new)
                .insert(name.clone(), level.to_owned());
        }
    }
    let shown_permissions = match &permissions {
        Some(p) => json!(p),
        None => render::installation_permissions(Some(inst)),
    };
    let shown_repos: Option<Vec<Value>> = repos.as_ref().map(|list| {
        list.iter()
            .filter_map(|full| w.repo(full))
            .map(|r| render::repository(w, r))
            .collect()
    });
    let token = crate::app::mint_token("ghs_");
    let expires_at = Utc::now() + w.token_ttl;
    let restriction = (repos.is_some() || permissions.is_some())
        .then_some(crate::world::TokenRestriction { repos, permissions });
    w.tokens.insert(
        token.clone(),
        crate::world::IssuedToken {
            grant: crate::world::Grant::Installation(inst_id),
            expires_at: Some(expires_at),
            restriction,
        },
    );
    let mut answer = json!({
        "token": token,
        "expires_at": render::ts(expires_at),
        "permissions": shown_permissions,
        "repository_selection": "selected",
    });
    if let Some(list) = shown_repos {
        answer["repositories"] = Value::Array(list);
    }
    Ok(Reply::json(201, &answer))
}

pub(super) fn installation_repositories(w: &mut World, req: &Req) -> Answer {
    let repos: Vec<String> = match &req.identity {
        Identity::Installation(id) => w
            .installations
            .get(id)
            .map(|i| i.repos.clone())
            .unwrap_or_default(),
        _ => {
            return Err(Reply::error(
                403,
                "This endpoint requires an installation access token",
            ));
        }
    };
    let scoped = req.restriction.as_ref().and_then(|r| r.repos.as_ref());
    let all: Vec<Value> = repos
        .iter()
        .filter(|full| scoped.is_none_or(|s| s.contains(&full.to_ascii_lowercase())))
        .filter_map(|full| w.repo(full))
        .map(|r| render::repository(w, r))
        .collect();
    let total = all.len();
    let (page, link) = page_of(w, req, all);
    let mut reply = Reply::json(
        200,
        &json!({"total_count": total, "repository_selection": "selected", "repositories": page}),
    );
    if let Some(link) = link {
        reply = reply.header("link", link);
    }
    Ok(reply)
}

pub(super) fn rate_limit(w: &mut World, req: &Req) -> Reply {
    let key = bucket_key(&req.identity);
    let b = w.bucket(&key).clone();
    let core = json!({
        "limit": b.limit,
        "used": b.limit - b.remaining,
        "remaining": b.remaining,
        "reset": b.reset,
        "resource": "core",
    });
    let search =
        json!({"limit": 30, "used": 0, "remaining": 30, "reset": b.reset, "resource": "search"});
    Reply::json(
        200,
        &json!({"resources": {"core": core, "search": search, "graphql": core}, "rate": core}),
    )
}

pub(crate) fn bucket_key(identity: &Identity) -> String {
    match identity {
        Identity::App => "app".into(),
        Identity::Installation(id) => format!("installation:{id}"),
        Identity::User(login) => format!("user:{}", login.to_ascii_lowercase()),
        Identity::Anonymous => "anonymous".into(),
    }
}

/// Checks the caller may see `owner/repo`; answers 404 (as GitHub does) when
/// the repository is unknown or outside the caller's installation.
pub(crate) fn repo_access(w: &World, req: &Req, owner: &str, name: &str) -> Result<String, Reply> {
    let full = format!("{owner}/{name}");
    match &req.identity {
        Identity::Anonymous => return Err(Reply::error(401, "Requires authentication")),
        Identity::App => {
            return Err(Reply::error(
                403,
                "Resource not accessible by integration: use an installation access token",
            ));
        }
        Identity::Installation(id) => {
            let covered = w.installations.get(id).is_some_and(|i| {
                !i.removed && i.repos.iter().any(|r| r.eq_ignore_ascii_case(&full))
            });
            // A token narrowed to other repositories sees this one as
            // GitHub shows it: not there.
            let in_scope = req
                .restriction
                .as_ref()
                .and_then(|r| r.repos.as_ref())
                .is_none_or(|repos| repos.contains(&full.to_ascii_lowercase()));
            if !covered || !in_scope {
                return Err(not_found());
            }
        }
        Identity::User(_) => {}
    }
    if w.repo(&full).is_none() {
        return Err(not_found());
    }
    Ok(full)
}

/// The permission an installation token needs for a repository route:
/// (permission name, needs write).
fn required_permission(method: &str, rest: &[&str]) -> (&'static str, bool) {
    let write = method != "GET";
    let name = match rest.first().copied() {
        Some("issues" | "labels" | "milestones" | "assignees") => "issues",
        Some("pulls") => "pull_requests",
        Some("check-runs") => "checks",
        Some("commits") if rest.last() == Some(&"check-runs") => "checks",
        Some("commits") if rest.last() == Some(&"pulls") => "pull_requests",
        Some("contents" | "tarball" | "compare" | "commits" | "git" | "branches") => "contents",
        _ => "metadata",
    };
    (name, write)
}

/// GitHub refuses an installation token whose installation lacks the
/// permission (and a workflow token its `permissions:` block leaves out)
/// with 403 "Resource not accessible by integration", naming what it
/// accepts in `X-Accepted-GitHub-Permissions`.
pub(super) fn check_installation_permission(
    w: &World,
    req: &Req,
    rest: &[&str],
) -> Result<(), Reply> {
    let permissions = match &req.identity {
        Identity::Installation(id) => w.installations.get(id).map(|i| &i.permissions),
        Identity::User(login) => match w.restricted_users.get(&login.to_ascii_lowercase()) {
            Some(permissions) => Some(permissions),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    let (name, write) = required_permission(req.method, rest);
    let mut granted = permissions.and_then(|p| p.get(name)).map(String::as_str);
    // A token minted for fewer permissions has only those (never more
    // than its installation).
    if let Some(narrowed) = req
        .restriction
        .as_ref()
        .and_then(|r| r.permissions.as_ref())
    {
        let own = narrowed.get(name).map(String::as_str);
        granted = match (granted, own) {
            (Some(g), Some(o)) if level_rank(o) < level_rank(g) => Some(o),
            (Some(g), Some(_)) => Some(g),
            (None, Some(o)) if name == "metadata" => Some(o),
            _ => None,
        };
    }
    let ok = match granted {
        Some("write" | "admin") => true,
        Some("read") => !write,
        _ => name == "metadata" && !write,
    };
    if ok {
        Ok(())
    } else {
        let level = if write { "write" } else { "read" };
        Err(Reply::error(403, "Resource not accessible by integration")
            .header("x-accepted-github-permissions", format!("{name}={level}")))
    }
}
