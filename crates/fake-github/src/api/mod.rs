//! GitHub REST routes of the fake: matching a request path to a handler, each
//! a synchronous function over the locked world. This module holds the
//! request/answer types, the top-level routes, the repository lookups and the
//! pagination every listing shares; each resource's routes and handlers live
//! in its own module below.

mod access;
mod checks;
mod comments;
mod contents;
mod issues;
mod labels;
mod milestones;
mod people;
mod pulls;
mod reactions;

pub(crate) use access::{bucket_key, repo_access};
pub(crate) use contents::{codeload, raw};

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use crate::model::{Issue, Permission, Repo};
use crate::render;
use crate::world::World;

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
        ("GET", ["rate_limit"]) => Ok(access::rate_limit(w, req)),
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
            let inst = access::installation_by_id(w, id)?;
            Ok(Reply::json(200, &render::installation(w, inst)))
        }
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            require_app(req)?;
            access::access_token(w, req, id)
        }
        ("GET", ["app", "hook", "deliveries"]) => crate::hooks::list(w, req),
        ("GET", ["app", "hook", "deliveries", id]) => crate::hooks::get(w, req, id),
        ("POST", ["app", "hook", "deliveries", id, "attempts"]) => {
            crate::hooks::attempt(w, req, id)
        }
        ("GET", ["installation", "repositories"]) => access::installation_repositories(w, req),
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
            access::check_installation_permission(w, req, rest)?;
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

/// Routes `/repos/{owner}/{repo}/…` (access already checked) to the module
/// of the resource its first segment names.
fn repo_route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    match rest.first().copied() {
        None if req.method == "GET" => {
            let r = repo(w, full)?;
            Ok(Reply::json(200, &render::repository(w, r)))
        }
        Some("issues") => issues::route(w, req, full, rest),
        Some("labels") => labels::route(w, req, full, rest),
        Some("milestones") => milestones::route(w, req, full, rest),
        Some("collaborators" | "assignees") => people::route(w, req, full, rest),
        Some("contents" | "tarball" | "compare" | "commits" | "git" | "branches") => {
            contents::route(w, req, full, rest)
        }
        Some("pulls") => pulls::route(w, req, full, rest),
        Some("check-runs") => checks::route(w, req, full, rest),
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
