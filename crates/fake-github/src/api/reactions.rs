//! Reactions on issues and on comments.

use serde_json::Value;

use crate::model::Reaction;
use crate::render;
use crate::world::{World, now};

use super::{Answer, Reply, Req, not_found, paginate, repo_mut};

/// What a reaction is on.
#[derive(Clone, Copy)]
pub(super) enum Target {
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

pub(super) fn list_reactions(w: &World, req: &Req, reactions: &[Reaction]) -> Answer {
    let content = req.q("content");
    let items = reactions
        .iter()
        .filter(|r| content.is_none_or(|c| r.content == c))
        .map(|r| render::reaction(w, r))
        .collect();
    paginate(w, req, items)
}

pub(super) fn add_reaction(w: &mut World, req: &Req, full: &str, t: Target) -> Answer {
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

pub(super) fn delete_reaction(w: &mut World, full: &str, t: Target, rid: &str) -> Answer {
    let rid: u64 = rid.parse().map_err(|_| not_found())?;
    let list = reactions_mut(w, full, t)?;
    let before = list.len();
    list.retain(|r| r.id != rid);
    if list.len() == before {
        return Err(not_found());
    }
    Ok(Reply::no_content())
}
