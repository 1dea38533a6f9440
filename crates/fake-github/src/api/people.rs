//! Who may do what in a repository: collaborator permissions, assignability.

use serde_json::json;

use crate::model::Permission;
use crate::render;
use crate::world::World;

use super::{Answer, Reply, Req, assignable, not_found, repo};

/// Routes `/repos/{owner}/{repo}/collaborators/…` and `/assignees/…`.
pub(super) fn route(w: &mut World, req: &Req, full: &str, rest: &[&str]) -> Answer {
    let m = req.method;
    match (m, rest) {
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
        _ => Err(not_found()),
    }
}
