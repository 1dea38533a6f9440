//! GitHub REST routes of the fake: matching a request path to a handler and
//! the handlers themselves, each a synchronous function over the locked world.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use crate::model::{CheckRun, Comment, FileChange, Issue, Milestone, Permission, Reaction, Repo};
use crate::render;
use crate::world::{World, blank_issue, now};

/// Characters escaped in one URL path segment.
pub(crate) const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'{')
    .add(b'}')
    .add(b'`');

/// Characters escaped in a query value.
const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+');

/// An HTTP answer before it becomes an axum response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Reply {
        Reply {
            status,
            body: serde_json::to_vec(v).unwrap_or_default(),
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": status.to_string(),
            }),
        )
    }

    fn validation(resource: &str, field: &str, code: &str) -> Reply {
        Reply::json(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{"resource": resource, "field": field, "code": code}],
                "documentation_url": "https://docs.github.com/rest",
                "status": "422",
            }),
        )
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Vec::new(),
            content_type: "text/plain",
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

type Answer = Result<Reply, Reply>;

fn not_found() -> Reply {
    Reply::error(404, "Not Found")
}

/// Who is calling, as established from the `Authorization` header.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Identity {
    App,
    Installation(u64),
    User(String),
    Anonymous,
}

impl Identity {
    fn actor(&self) -> String {
        match self {
            Identity::User(login) => login.clone(),
            _ => crate::app::bot_login(),
        }
    }
}

/// One parsed request as the handlers see it.
pub(crate) struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
    pub accept: &'a str,
    pub identity: Identity,
    /// What the caller's installation token was narrowed to when minted.
    pub restriction: Option<crate::world::TokenRestriction>,
}

impl Req<'_> {
    pub(crate) fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json_body(&self) -> Result<Value, Reply> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(self.body).map_err(|_| Reply::error(400, "Problems parsing JSON"))
    }
}

pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Routes one request. Authentication has been established but not enforced.
pub(crate) fn route(w: &mut World, req: &Req) -> Answer {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method;
    match (m, segs.as_slice()) {
        ("GET", ["rate_limit"]) => Ok(rate_limit(w, req)),
        ("POST", ["graphql"]) => crate::graphql::handle(w, req),
        ("GET", ["app"]) => {
            require_app(req)?;
            Ok(Reply::json(200, &render::app(w)))
        }
        ("GET", ["app", "installations"]) => {
            require_app(req)?;
            let items = w
                .installations
                .values()
                .filter(|i| !i.removed)
                .map(|i| render::installation(w, i))
                .collect();
            paginate(w, req, items)
        }
        ("GET", ["app", "installations", id]) => {
            require_app(req)?;
            let inst = installation_by_id(w, id)?;
            Ok(Reply::json(200, &render::installation(w, inst)))
        }
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            require_app(req)?;
            access_token(w, req, id)
        }
        ("GET", ["app", "hook", "deliveries"]) => crate::hooks::list(w, req),
        ("GET", ["app", "hook", "deliveries", id]) => crate::hooks::get(w, req, id),
        ("POST", ["app", "hook", "deliveries", id, "attempts"]) => {
            crate::hooks::attempt(w, req, id)
        }
        ("GET", ["installation", "repositories"]) => installation_repositories(w, req),
        ("GET", ["repos", o, r, "installation"]) => {
            require_app(req)?;
            let full = format!("{o}/{r}");
            let inst = w
                .installations
                .values()
                .find(|i| !i.removed && i.repos.iter().any(|x| x.eq_ignore_ascii_case(&full)))
                .ok_or_else(not_found)?;
            Ok(Reply::json(200, &render::installation(w, inst)))
        }
        ("GET", ["users", login]) => {
            if req.identity == Identity::Anonymous {
                return Err(Reply::error(401, "Requires authentication"));
            }
            let user = w
                .users
                .get(&login.to_ascii_lowercase())
                .ok_or_else(not_found)?
                .login
                .clone();
            Ok(Reply::json(200, &render::user(w, &user)))
        }
        (_, ["repos", o, r, rest @ ..]) => {
            let key = repo_access(w, req, o, r)?;
            check_installation_permission(w, req, rest)?;
            repo_route(w, req, &key, rest)
        }
        _ => Err(not_found()),
    }
}

pub(crate) fn require_app(req: &Req) -> Result<(), Reply> {
    if req.identity == Identity::App {
        Ok(())
    } else {
        Err(Reply::error(
            401,
            "A JSON web token could not be decoded: this endpoint requires a GitHub App JWT",
        ))
    }
}

fn installation_by_id<'w>(w: &'w World, id: &str) -> Result<&'w crate::model::Installation, Reply> {
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
fn access_token(w: &mut World, req: &Req, id: &str) -> Answer {
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

fn installation_repositories(w: &mut World, req: &Req) -> Answer {
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

fn rate_limit(w: &mut World, req: &Req) -> Reply {
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
fn check_installation_permission(w: &World, req: &Req, rest: &[&str]) -> Result<(), Reply> {
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

fn repo_route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
        ("GET", []) => {
            let r = repo(w, full)?;
            Ok(Reply::json(200, &render::repository(w, r)))
        }
        // Issues
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
        // Labels
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
        // Milestones
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
        // People
        ("GET", ["collaborators", login, "permission"]) => {
            let r = repo(w, full)?;
            let perm = r
                .permission_of(login)
                .ok_or_else(|| Reply::error(404, &format!("{login} is not a user")))?;
            let mut collaborator = render::user(w, login);
            collaborator["role_name"] = json!(perm.role_name());
            collaborator["permissions"] = json!({
                "admin": perm >= Permission::Admin,
                "maintain": perm >= Permission::Maintain,
                "push": perm >= Permission::Write,
                "triage": perm >= Permission::Triage,
                "pull": perm >= Permission::Read,
            });
            Ok(Reply::json(
                200,
                &json!({
                    "permission": perm.legacy_name(),
                    "role_name": perm.role_name(),
                    "user": collaborator,
                }),
            ))
        }
        ("GET", ["assignees", login]) => {
            let r = repo(w, full)?;
            if assignable(r, login) {
                Ok(Reply::no_content())
            } else {
                Err(not_found())
            }
        }
        // Content
        ("GET", ["contents", path @ ..]) => contents(w, req, full, &path.join("/")),
        ("GET", ["tarball"]) => tarball_redirect(w, full, None),
        ("GET", ["tarball", reference @ ..]) => {
            tarball_redirect(w, full, Some(&reference.join("/")))
        }
        ("GET", ["compare", basehead @ ..]) => compare(w, full, &basehead.join("/")),
        ("GET", ["commits"]) => {
            let r = repo(w, full)?;
            let start = req.q("sha").unwrap_or(&r.default_branch);
            let c = r.resolve(start).ok_or_else(not_found)?;
            let since = parse_since(req)?;
            let path = req.q("path");
            let items = r
                .ancestry(&c.sha)
                .into_iter()
                .filter(|c| since.is_none_or(|s| c.date >= s))
                .filter(|c| {
                    path.is_none_or(|p| {
                        let before = c.parent.as_deref().and_then(|x| r.commits.get(x));
                        before.and_then(|b| b.tree.get(p)) != c.tree.get(p)
                    })
                })
                .map(|c| commit_json(w, r, c))
                .collect();
            paginate(w, req, items)
        }
        ("GET", ["commits", sha, "pulls"]) => {
            let r = repo(w, full)?;
            let sha = r
                .resolve(sha)
                .map_or_else(|| sha.to_string(), |c| c.sha.clone());
            let items = r
                .issues
                .values()
                .filter(|i| {
                    i.pull.as_ref().is_some_and(|p| {
                        p.head_sha == sha || p.merge_commit_sha.as_deref() == Some(sha.as_str())
                    })
                })
                .filter_map(|i| render::pull(w, r, i))
                .collect();
            paginate(w, req, items)
        }
        ("GET", ["commits", reference, "check-runs"]) => {
            let r = repo(w, full)?;
            let sha = r
                .resolve(reference)
                .map_or_else(|| reference.to_string(), |c| c.sha.clone());
            let name = req.q("check_name");
            let status = req.q("status");
            let runs: Vec<Value> = r
                .check_runs
                .values()
                .rev()
                .filter(|c| c.head_sha == sha)
                .filter(|c| name.is_none_or(|n| c.name == n))
                .filter(|c| status.is_none_or(|s| c.status == s))
                .map(|c| render::check_run(w, r, c))
                .collect();
            let total = runs.len();
            let (page, link) = page_of(w, req, runs);
            let mut reply = Reply::json(200, &json!({"total_count": total, "check_runs": page}));
            if let Some(link) = link {
                reply = reply.header("link", link);
            }
            Ok(reply)
        }
        ("GET", ["commits", reference @ ..]) => {
            let r = repo(w, full)?;
            let c = r
                .resolve(&reference.join("/"))
                .ok_or_else(|| Reply::error(422, "No commit found for SHA"))?;
            let parent_tree = c
                .parent
                .as_deref()
                .and_then(|p| r.commits.get(p))
                .map(|p| p.tree.clone())
                .unwrap_or_default();
            let files = crate::diff::diff_trees(&parent_tree, &c.tree);
            let mut v = commit_json(w, r, c);
            let (a, d) = files
                .iter()
                .fold((0, 0), |(a, d), f| (a + f.additions, d + f.deletions));
            v["stats"] = json!({"additions": a, "deletions": d, "total": a + d});
            v["files"] = Value::Array(files.iter().map(|f| file_json(w, r, &c.sha, f)).collect());
            Ok(Reply::json(200, &v))
        }
        ("GET", ["git", "trees", tree_ish]) => git_tree(w, req, full, tree_ish),
        ("GET", ["git", "ref", reference @ ..]) | ("GET", ["git", "refs", reference @ ..]) => {
            let r = repo(w, full)?;
            let reference = reference.join("/");
            let branch = reference.strip_prefix("heads/").ok_or_else(not_found)?;
            let sha = r.branches.get(branch).ok_or_else(not_found)?;
            let base = render::repo_api_url(w, r);
            Ok(Reply::json(
                200,
                &json!({
                    "ref": format!("refs/heads/{branch}"),
                    "node_id": format!("REF_{branch}"),
                    "url": format!("{base}/git/refs/heads/{branch}"),
                    "object": {"sha": sha, "type": "commit", "url": format!("{base}/git/commits/{sha}")},
                }),
            ))
        }
        ("GET", ["branches", branch @ ..]) => {
            let r = repo(w, full)?;
            let branch = branch.join("/");
            let sha = r
                .branches
                .get(&branch)
                .ok_or_else(|| Reply::error(404, "Branch not found"))?;
            // A branch a test pointed at an unknown sha reads as missing.
            let c = r
                .commits
                .get(sha)
                .ok_or_else(|| Reply::error(404, "Branch not found"))?;
            Ok(Reply::json(
                200,
                &json!({
                    "name": branch,
                    "commit": commit_json(w, r, c),
                    "_links": {
                        "self": format!("{}/branches/{branch}", render::repo_api_url(w, r)),
                        "html": format!("https://github.com/{}/tree/{branch}", r.full_name()),
                    },
                    "protected": false,
                    "protection": {"enabled": false, "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []}},
                    "protection_url": format!("{}/branches/{branch}/protection", render::repo_api_url(w, r)),
                }),
            ))
        }
        // Pull requests
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
        // Checks
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

fn repo<'w>(w: &'w World, full: &str) -> Result<&'w Repo, Reply> {
    w.repo(full).ok_or_else(not_found)
}

fn repo_mut<'w>(w: &'w mut World, full: &str) -> Result<&'w mut Repo, Reply> {
    w.repo_mut(full).ok_or_else(not_found)
}

fn issue_by_number<'r>(r: &'r Repo, n: &str) -> Result<&'r Issue, Reply> {
    n.parse::<u64>()
        .ok()
        .and_then(|n| r.issues.get(&n))
        .ok_or_else(not_found)
}

fn issue_mut<'w>(w: &'w mut World, full: &str, n: u64) -> Result<&'w mut Issue, Reply> {
    repo_mut(w, full)?.issues.get_mut(&n).ok_or_else(not_found)
}

fn comment_by_id<'r>(r: &'r Repo, id: &str) -> Result<&'r Comment, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| r.comments.get(&id))
        .ok_or_else(not_found)
}

fn check_by_id<'r>(r: &'r Repo, id: &str) -> Result<&'r CheckRun, Reply> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| r.check_runs.get(&id))
        .ok_or_else(not_found)
}

fn assignable(r: &Repo, login: &str) -> bool {
    r.permission_of(login)
        .is_some_and(|p| p >= Permission::Triage)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_since(req: &Req) -> Result<Option<DateTime<Utc>>, Reply> {
    match req.q("since") {
        None => Ok(None),
        Some(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| Reply::validation("Issue", "since", "invalid")),
    }
}

/// Cuts `items` to the requested page; returns the page and its `Link` header.
fn page_of<T>(w: &World, req: &Req, items: Vec<T>) -> (Vec<T>, Option<String>) {
    let per_page = req
        .q("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .q("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let out: Vec<T> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let url_for = |p: usize| {
        let mut q: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY),
                    utf8_percent_encode(v, QUERY)
                )
            })
            .collect();
        q.push(format!("page={p}"));
        format!("{}{}?{}", w.base_url, req.path, q.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", url_for(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", url_for(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", url_for(page - 1)));
        links.push(format!("<{}>; rel=\"first\"", url_for(1)));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    (out, link)
}

fn paginate(w: &World, req: &Req, items: Vec<Value>) -> Answer {
    let (page, link) = page_of(w, req, items);
    let mut reply = Reply::json(200, &Value::Array(page));
    if let Some(link) = link {
        reply = reply.header("link", link);
    }
    Ok(reply)
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

fn string_list(v: &Value, field: &str) -> Result<Option<Vec<String>>, Reply> {
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
fn check_issue_text(title: &str, body: Option<&str>) -> Result<(), Reply> {
    if title.chars().count() > 256 {
        return Err(Reply::validation("Issue", "title", "too_long"));
    }
    if body.is_some_and(|b| b.chars().count() > 65536) {
        return Err(Reply::validation("Issue", "body", "too_long"));
    }
    Ok(())
}

/// GitHub's limit: label names up to 50 characters.
fn check_label_names(names: &[String]) -> Result<(), Reply> {
    match names
        .iter()
        .find(|n| n.is_empty() || n.chars().count() > 50)
    {
        Some(_) => Err(Reply::validation("Label", "name", "invalid")),
        None => Ok(()),
    }
}

fn check_assignees(r: &Repo, assignees: &[String]) -> Result<(), Reply> {
    match assignees.iter().find(|a| !assignable(r, a)) {
        Some(_) => Err(Reply::validation("Issue", "assignees", "invalid")),
        None => Ok(()),
    }
}

fn milestone_field(r: &Repo, v: &Value) -> Result<Option<Option<u64>>, Reply> {
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

fn body_field(v: &Value) -> Result<String, Reply> {
    v.get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Reply::validation("IssueComment", "body", "missing_field"))
}

fn create_comment(w: &mut World, req: &Req, full: &str, n: &str) -> Answer {
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

fn update_comment(w: &mut World, req: &Req, full: &str, id: &str) -> Answer {
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

fn list_repo_comments(w: &mut World, req: &Req, full: &str) -> Answer {
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

#[derive(Clone, Copy)]
enum Target {
    Issue(u64),
    Comment(u64),
}

const REACTIONS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

fn reactions_mut<'w>(
    w: &'w mut World,
    full: &str,
    t: Target,
) -> Result<&'w mut Vec<Reaction>, Reply> {
    let r = repo_mut(w, full)?;
    match t {
        Target::Issue(n) => r.issues.get_mut(&n).map(|i| &mut i.reactions),
        Target::Comment(id) => r.comments.get_mut(&id).map(|c| &mut c.reactions),
    }
    .ok_or_else(not_found)
}

fn list_reactions(w: &World, req: &Req, reactions: &[Reaction]) -> Answer {
    let content = req.q("content");
    let items = reactions
        .iter()
        .filter(|r| content.is_none_or(|c| r.content == c))
        .map(|r| render::reaction(w, r))
        .collect();
    paginate(w, req, items)
}

fn add_reaction(w: &mut World, req: &Req, full: &str, t: Target) -> Answer {
    let v = req.json_body()?;
    let content = v
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| REACTIONS.contains(c))
        .ok_or_else(|| Reply::validation("Reaction", "content", "invalid"))?
        .to_owned();
    let actor = req.identity.actor();
    w.user(&actor);
    let id = w.next_id();
    let list = reactions_mut(w, full, t)?;
    if let Some(existing) = list
        .iter()
        .find(|r| r.user == actor && r.content == content)
        .cloned()
    {
        return Ok(Reply::json(200, &render::reaction(w, &existing)));
    }
    let reaction = Reaction {
        id,
        user: actor,
        content,
        created_at: now(),
    };
    list.push(reaction.clone());
    Ok(Reply::json(201, &render::reaction(w, &reaction)))
}

fn delete_reaction(w: &mut World, full: &str, t: Target, rid: &str) -> Answer {
    let rid: u64 = rid.parse().map_err(|_| not_found())?;
    let list = reactions_mut(w, full, t)?;
    let before = list.len();
    list.retain(|r| r.id != rid);
    if list.len() == before {
        return Err(not_found());
    }
    Ok(Reply::no_content())
}

fn file_json(w: &World, r: &Repo, sha: &str, f: &FileChange) -> Value {
    let base = render::repo_api_url(w, r);
    let mut v = json!({
        // The blob at `sha` (GitHub's), or none for a removed file.
        "sha": r
            .commits
            .get(sha)
            .and_then(|c| c.tree.get(&f.filename))
            .map_or_else(|| "0".repeat(40), |content| crate::model::blob_sha(content)),
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": format!("https://github.com/{}/blob/{sha}/{}", r.full_name(), f.filename),
        "raw_url": format!("https://github.com/{}/raw/{sha}/{}", r.full_name(), f.filename),
        "contents_url": format!("{base}/contents/{}?ref={sha}", f.filename),
    });
    if let Some(p) = &f.patch {
        v["patch"] = json!(p);
    }
    if let Some(p) = &f.previous_filename {
        v["previous_filename"] = json!(p);
    }
    v
}

pub(crate) fn commit_json(w: &World, r: &Repo, c: &crate::model::Commit) -> Value {
    let base = render::repo_api_url(w, r);
    let who =
        json!({"name": "Octo Cat", "email": "octocat@example.com", "date": render::ts(c.date)});
    json!({
        "url": format!("{base}/commits/{}", c.sha),
        "sha": c.sha,
        "node_id": format!("C_{}", c.sha),
        "html_url": format!("https://github.com/{}/commit/{}", r.full_name(), c.sha),
        "comments_url": format!("{base}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{base}/git/commits/{}", c.sha),
            "author": who,
            "committer": who,
            "message": c.message,
            "comment_count": 0,
            "tree": {"sha": c.sha, "url": format!("{base}/git/trees/{}", c.sha)},
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
        },
        "author": null,
        "committer": null,
        "parents": c.parent.iter().map(|p| json!({
            "sha": p,
            "url": format!("{base}/commits/{p}"),
            "html_url": format!("https://github.com/{}/commit/{p}", r.full_name()),
        })).collect::<Vec<_>>(),
    })
}

fn contents(w: &World, req: &Req, full: &str, path: &str) -> Answer {
    let r = repo(w, full)?;
    let reference = req.q("ref").unwrap_or(&r.default_branch);
    let c = r
        .resolve(reference)
        .ok_or_else(|| Reply::error(404, &format!("No commit found for the ref {reference}")))?;
    let base = render::repo_api_url(w, r);
    let path = path.trim_matches('/');
    let entry = |p: &str, kind: &str, size: usize, sha: String| {
        let name = p.rsplit('/').next().unwrap_or(p);
        let url = format!("{base}/contents/{p}?ref={reference}");
        let html = format!(
            "https://github.com/{}/{}/{}/{p}",
            r.full_name(),
            if kind == "dir" { "tree" } else { "blob" },
            reference
        );
        let git = format!(
            "{base}/git/{}/{sha}",
            if kind == "dir" { "trees" } else { "blobs" }
        );
        json!({
            "type": kind,
            "name": name,
            "path": p,
            "sha": sha,
            "size": size,
            "url": url,
            "html_url": html,
            "git_url": git,
            "download_url": if kind == "file" { json!(format!("{}/_raw/{}/{}/{p}", w.base_url, r.full_name(), c.sha)) } else { Value::Null },
            "_links": {"self": url, "git": git, "html": html},
        })
    };
    if let Some(content) = c.tree.get(path) {
        let raw = req.accept.contains("application/vnd.github.raw")
            || req.accept.contains("application/vnd.github.v3.raw");
        if raw {
            return Ok(Reply {
                status: 200,
                body: content.clone(),
                content_type: "application/vnd.github.raw",
                headers: Vec::new(),
            });
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        // GitHub wraps the base64 at 60 columns with '\n'.
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(60)
            .map(|ch| std::str::from_utf8(ch).unwrap_or(""))
            .collect();
        let mut v = entry(path, "file", content.len(), crate::model::blob_sha(content));
        v["content"] = json!(format!("{}\n", wrapped.join("\n")));
        v["encoding"] = json!("base64");
        return Ok(Reply::json(200, &v));
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut seen = std::collections::BTreeMap::new();
    for (p, content) in c.tree.iter() {
        let Some(rest) = p.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((dir, _)) => {
                seen.entry(format!("{prefix}{dir}")).or_insert(None);
            }
            None => {
                seen.insert(p.clone(), Some(content.len()));
            }
        }
    }
    if seen.is_empty() && !path.is_empty() {
        return Err(not_found());
    }
    let items: Vec<Value> = seen
        .into_iter()
        .map(|(p, size)| match size {
            Some(s) => entry(&p, "file", s, crate::model::blob_sha(&c.tree[&p])),
            None => entry(&p, "dir", 0, crate::model::blob_sha(p.as_bytes())),
        })
        .collect();
    Ok(Reply::json(200, &Value::Array(items)))
}

fn tarball_redirect(w: &World, full: &str, reference: Option<&str>) -> Answer {
    let r = repo(w, full)?;
    let reference = reference.unwrap_or(&r.default_branch);
    let c = r.resolve(reference).ok_or_else(not_found)?;
    let location = format!(
        "{}/_codeload/{}/legacy.tar.gz/{}",
        w.base_url,
        r.full_name(),
        c.sha
    );
    Ok(Reply {
        status: 302,
        body: Vec::new(),
        content_type: "text/html;charset=utf-8",
        headers: vec![("location".into(), location)],
    })
}

/// Serves `/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}`, where the tarball
/// endpoint redirects (like GitHub's codeload host, it needs no auth header).
pub(crate) fn codeload(w: &World, segs: &[String]) -> Reply {
    let [_, owner, name, kind, sha] = segs else {
        return not_found();
    };
    if kind != "legacy.tar.gz" {
        return not_found();
    }
    let Some(r) = w.repo(&format!("{owner}/{name}")) else {
        return not_found();
    };
    let Some(c) = r.commits.get(sha.as_str()) else {
        return not_found();
    };
    let prefix = crate::diff::tarball_prefix(&r.owner, &r.name, &c.sha);
    match crate::diff::tarball(&prefix, &c.tree, c.date.timestamp().max(0) as u64) {
        Ok(bytes) => Reply {
            status: 200,
            body: bytes,
            content_type: "application/x-gzip",
            headers: vec![(
                "content-disposition".into(),
                format!("attachment; filename={prefix}.tar.gz"),
            )],
        },
        Err(e) => Reply::error(500, &format!("fake-github: building tarball failed: {e}")),
    }
}

/// Serves `/_raw/{owner}/{repo}/{sha}/{path}` (the contents API's `download_url`).
pub(crate) fn raw(w: &World, segs: &[String]) -> Reply {
    let [_, owner, name, sha, path @ ..] = segs else {
        return not_found();
    };
    let Some(c) = w
        .repo(&format!("{owner}/{name}"))
        .and_then(|r| r.commits.get(sha.as_str()))
    else {
        return not_found();
    };
    match c.tree.get(&path.join("/")) {
        Some(content) => Reply {
            status: 200,
            body: content.clone(),
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
        },
        None => not_found(),
    }
}

fn compare(w: &World, full: &str, basehead: &str) -> Answer {
    let r = repo(w, full)?;
    let (base_ref, head_ref) = basehead.split_once("...").ok_or_else(not_found)?;
    let base = r.resolve(base_ref).ok_or_else(not_found)?;
    let head = r.resolve(head_ref).ok_or_else(not_found)?;
    let mb_sha = crate::diff::merge_base(r, &base.sha, &head.sha).ok_or_else(not_found)?;
    let mb = r.commits.get(&mb_sha).ok_or_else(not_found)?;
    let ahead: Vec<&crate::model::Commit> = r
        .ancestry(&head.sha)
        .into_iter()
        .take_while(|c| c.sha != mb_sha)
        .collect();
    let behind = r
        .ancestry(&base.sha)
        .into_iter()
        .take_while(|c| c.sha != mb_sha)
        .count();
    let status = match (ahead.len(), behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let files = crate::diff::diff_trees(&mb.tree, &head.tree);
    let api = render::repo_api_url(w, r);
    let html = format!("https://github.com/{}/compare/{basehead}", r.full_name());
    Ok(Reply::json(
        200,
        &json!({
            "url": format!("{api}/compare/{basehead}"),
            "html_url": html,
            "permalink_url": format!("https://github.com/{}/compare/{}...{}", r.full_name(), base.sha, head.sha),
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "base_commit": commit_json(w, r, base),
            "merge_base_commit": commit_json(w, r, mb),
            "status": status,
            "ahead_by": ahead.len(),
            "behind_by": behind,
            "total_commits": ahead.len(),
            "commits": ahead.iter().rev().map(|c| commit_json(w, r, c)).collect::<Vec<_>>(),
            "files": files.iter().map(|f| file_json(w, r, &head.sha, f)).collect::<Vec<_>>(),
        }),
    ))
}

fn git_tree(w: &World, req: &Req, full: &str, tree_ish: &str) -> Answer {
    let r = repo(w, full)?;
    let c = r.resolve(tree_ish).ok_or_else(not_found)?;
    let recursive = req
        .q("recursive")
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let base = render::repo_api_url(w, r);
    let mut dirs = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    for (path, content) in c.tree.iter() {
        let parts: Vec<&str> = path.split('/').collect();
        for depth in 1..parts.len() {
            dirs.insert(parts[..depth].join("/"));
        }
        if recursive || parts.len() == 1 {
            let sha = crate::model::blob_sha(content);
            entries.push(json!({
                "path": path, "mode": "100644", "type": "blob", "sha": sha,
                "size": content.len(), "url": format!("{base}/git/blobs/{sha}"),
            }));
        }
    }
    for d in dirs {
        if recursive || !d.contains('/') {
            let sha = crate::model::blob_sha(d.as_bytes());
            entries.push(json!({
                "path": d, "mode": "040000", "type": "tree", "sha": sha,
                "url": format!("{base}/git/trees/{sha}"),
            }));
        }
    }
    entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(Reply::json(
        200,
        &json!({"sha": c.sha, "url": format!("{base}/git/trees/{}", c.sha), "tree": entries, "truncated": false}),
    ))
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
