//! A repository's content: files, tarballs, commits, comparisons, trees,
//! refs and branches, plus the codeload and raw hosts those answers link to.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::model::{FileChange, Repo};
use crate::render;
use crate::world::World;

use super::{Answer, Reply, Req, not_found, page_of, paginate, parse_since, repo};

/// Routes `/repos/{owner}/{repo}/{contents,tarball,compare,commits,git,branches}/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
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
        _ => Err(not_found()),
    }
}

pub(super) fn file_json(w: &World, r: &Repo, sha: &str, f: &FileChange) -> Value {
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

pub(super) fn commit_json(w: &World, r: &Repo, c: &crate::model::Commit) -> Value {
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
