//! `POST /graphql`, for exactly the documents paydown sends — not a
//! GraphQL engine, a recognizer:
//!
//! - a query `repository(owner: …, name: …) { fN: object(expression: …)
//!   { ... on Blob { text isBinary isTruncated byteSize } } … }`: the
//!   blobs named `SHA:path`, `null` for a path the commit lacks (as GitHub
//!   answers);
//! - a mutation `pinIssue(input: {issueId: …})` by the issue's node id
//!   (`I_<id>`), recording the pin on the fake's issue; GitHub allows three
//!   pinned issues per repository.
//!
//! Arguments may be `$variables` or string literals. Any other document is
//! answered as GitHub answers a bad one: 200 with an `errors` list, whose
//! message says what this fake recognizes.

use serde_json::{Map, Value, json};

use crate::api::{Reply, Req};
use crate::model::blob_sha;
use crate::world::World;

/// GitHub's limit on pinned issues per repository.
pub const MAX_PINNED: usize = 3;

const BLOB_FIELDS: [&str; 4] = ["text", "isBinary", "isTruncated", "byteSize"];

pub(crate) fn handle(w: &mut World, req: &Req) -> Result<Reply, Reply> {
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|e| Reply::error(400, &format!("Problems parsing JSON: {e}")))?;
    let Some(document) = body.get("query").and_then(Value::as_str) else {
        return Ok(errors(
            "A query attribute must be specified and must be a string.",
        ));
    };
    let empty = Map::new();
    let variables = body
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let trimmed = document.trim_start();
    if trimmed.starts_with("mutation") && document.contains("pinIssue(") {
        return pin_issue(w, req, document, variables);
    }
    if document.contains("repository(") && document.contains("object(") {
        return blobs(w, req, document, variables);
    }
    Ok(errors(
        "fake-github: unsupported GraphQL document; this fake answers only \
         `repository { fN: object(expression: \"SHA:path\") { ... on Blob { text isBinary isTruncated byteSize } } }` \
         queries and the `pinIssue(input: {issueId: ...})` mutation",
    ))
}

fn errors(message: &str) -> Reply {
    Reply::json(200, &json!({"errors": [{"message": message}]}))
}

/// The text between the parentheses opening at `open` (an index of `(`).
fn parenthesised(document: &str, open: usize) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in document[open..].char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&document[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value of argument `name` in an argument list (`a: $x, b: "lit"`).
fn argument(args: &str, name: &str, variables: &Map<String, Value>) -> Option<String> {
    let start = args.find(&format!("{name}:"))? + name.len() + 1;
    let rest = args[start..].trim_start();
    if let Some(var) = rest.strip_prefix('$') {
        let var: String = var
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return variables.get(&var)?.as_str().map(str::to_string);
    }
    // A string literal: GraphQL's escapes are JSON's.
    let literal = rest.strip_prefix('"')?;
    let mut end = None;
    let mut escaped = false;
    for (i, c) in literal.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                end = Some(i);
                break;
            }
            _ => escaped = false,
        }
    }
    serde_json::from_str(&format!("\"{}\"", &literal[..end?])).ok()
}

fn blobs(
    w: &mut World,
    req: &Req,
    document: &str,
    variables: &Map<String, Value>,
) -> Result<Reply, Reply> {
    let open = document.find("repository(").map(|i| i + "repository".len());
    let Some(args) = open.and_then(|i| parenthesised(document, i)) else {
        return Ok(errors(
            "fake-github: `repository(...)` has no closed argument list",
        ));
    };
    let (Some(owner), Some(name)) = (
        argument(args, "owner", variables),
        argument(args, "name", variables),
    ) else {
        return Ok(errors(
            "fake-github: `repository` needs `owner` and `name` arguments",
        ));
    };
    let full = crate::api::repo_access(w, req, &owner, &name).map_err(|_| {
        Reply::json(
            200,
            &json!({"data": {"repository": null}, "errors": [{
                "type": "NOT_FOUND", "path": ["repository"],
                "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
            }]}),
        )
    })?;
    let repo = w
        .repo(&full)
        .ok_or_else(|| errors("fake-github: repository vanished"))?;
    let mut fields = Map::new();
    let mut from = 0;
    while let Some(found) = document[from..].find("object(") {
        let at = from + found;
        from = at + "object(".len();
        let alias: String = document[..at]
            .trim_end()
            .strip_suffix(':')
            .map(|before| {
                before
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect()
            })
            .unwrap_or_else(|| "object".to_string());
        let Some(args) = parenthesised(document, at + "object".len()) else {
            return Ok(errors(
                "fake-github: `object(...)` has no closed argument list",
            ));
        };
        let Some(expression) = argument(args, "expression", variables) else {
            return Ok(errors(
                "fake-github: `object` needs an `expression: \"SHA:path\"` argument",
            ));
        };
        let Some((rev, path)) = expression.split_once(':') else {
            fields.insert(alias, Value::Null);
            continue;
        };
        let content = repo
            .resolve(rev)
            .and_then(|commit| commit.tree.get(path).cloned());
        let value = match content {
            None => Value::Null,
            Some(bytes) => {
                let binary = bytes.contains(&0);
                let text = (!binary).then(|| String::from_utf8_lossy(&bytes).into_owned());
                json!({
                    "__typename": "Blob",
                    "oid": blob_sha(&bytes),
                    "text": text,
                    "isBinary": binary,
                    "isTruncated": false,
                    "byteSize": bytes.len(),
                })
            }
        };
        fields.insert(alias, value);
    }
    for field in BLOB_FIELDS {
        if !document.contains(field) {
            return Ok(errors(&format!(
                "fake-github: blob queries must select `{}`",
                BLOB_FIELDS.join(" ")
            )));
        }
    }
    Ok(Reply::json(
        200,
        &json!({"data": {"repository": Value::Object(fields)}}),
    ))
}

fn pin_issue(
    w: &mut World,
    req: &Req,
    document: &str,
    variables: &Map<String, Value>,
) -> Result<Reply, Reply> {
    let open = document.find("pinIssue(").map(|i| i + "pinIssue".len());
    let Some(args) = open.and_then(|i| parenthesised(document, i)) else {
        return Ok(errors(
            "fake-github: `pinIssue(...)` has no closed argument list",
        ));
    };
    // `input: {issueId: …}` or `input: $input` with an object variable.
    let issue_id = argument(args, "issueId", variables).or_else(|| {
        let var = args.split_once('$')?.1;
        let var: String = var
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        variables
            .get(&var)?
            .get("issueId")?
            .as_str()
            .map(str::to_string)
    });
    let Some(issue_id) = issue_id else {
        return Ok(errors(
            "fake-github: `pinIssue` needs `input: {issueId: ...}`",
        ));
    };
    let Some(id) = issue_id
        .strip_prefix("I_")
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return Ok(not_resolved(&issue_id));
    };
    let Some(full) = w
        .repos
        .values()
        .find(|r| r.issues.values().any(|i| i.id == id && i.pull.is_none()))
        .map(|r| r.full_name())
    else {
        return Ok(not_resolved(&issue_id));
    };
    let (owner, name) = full.split_once('/').unwrap_or((full.as_str(), ""));
    if crate::api::repo_access(w, req, owner, name).is_err() {
        return Ok(not_resolved(&issue_id));
    }
    let Some(repo) = w.repo_mut(&full) else {
        return Ok(not_resolved(&issue_id));
    };
    let pinned = repo.issues.values().filter(|i| i.pinned).count();
    let Some(issue) = repo.issues.values_mut().find(|i| i.id == id) else {
        return Ok(not_resolved(&issue_id));
    };
    if !issue.pinned && pinned >= MAX_PINNED {
        return Ok(Reply::json(
            200,
            &json!({"data": {"pinIssue": null}, "errors": [{
                "type": "UNPROCESSABLE", "path": ["pinIssue"],
                "message": format!("You can only pin up to {MAX_PINNED} issues per repository."),
            }]}),
        ));
    }
    issue.pinned = true;
    Ok(Reply::json(
        200,
        &json!({"data": {"pinIssue": {"issue": {"id": issue_id, "number": issue.number, "isPinned": true}}}}),
    ))
}

fn not_resolved(id: &str) -> Reply {
    Reply::json(
        200,
        &json!({"data": {"pinIssue": null}, "errors": [{
            "type": "NOT_FOUND", "path": ["pinIssue"],
            "message": format!("Could not resolve to a node with the global id of '{id}'"),
        }]}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_read_from_variables_and_literals() {
        let mut vars = Map::new();
        vars.insert("e0".into(), json!("abc:src/a.rs"));
        assert_eq!(
            argument("expression: $e0", "expression", &vars).as_deref(),
            Some("abc:src/a.rs")
        );
        assert_eq!(
            argument(r#"owner: "o", name: "a \"b\"""#, "name", &vars).as_deref(),
            Some("a \"b\"")
        );
        assert_eq!(argument("owner: $missing", "owner", &vars), None);
    }

    #[test]
    fn nested_argument_lists_are_closed_at_the_right_parenthesis() {
        let doc = "pinIssue(input: {issueId: \"I_1\"}) { issue { number } }";
        assert_eq!(
            parenthesised(doc, "pinIssue".len()),
            Some("input: {issueId: \"I_1\"}")
        );
    }
}
