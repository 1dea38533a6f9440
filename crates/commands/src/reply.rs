//! What the bot answers to one comment's commands, as pure code: where a
//! comment was written ([`place_of`]), what each command came to
//! ([`Outcome`]), and the reply comment and reactions that report it
//! ([`render_reply`]). The I/O around it lives in [`crate::run`].

use std::fmt::Write as _;

use paydown_config::Config;

use crate::spec::Place;

pub use paydown_markers::labels::{IGNORED as IGNORED_LABEL, TRACKING as TRACKING_LABEL};
/// The reply's markers: which comment revision it answers, and the debt
/// issue a `link` command linked (read by incident linking).
pub use paydown_markers::reply::{PREFIX as REPLY_MARKER_PREFIX, link_marker, reply_marker};

/// Where a comment was written, from what the event says about its issue.
/// A debt issue is one carrying paydown's label *and* its item marker (a
/// person adding the label alone does not make one); a debt issue that is
/// also labelled as an incident counts as the debt issue.
pub fn place_of(
    is_pull_request: bool,
    labels: &[String],
    issue_body: &str,
    config: &Config,
) -> Place {
    if is_pull_request {
        return Place::PullRequest;
    }
    let has = |name: &str| labels.iter().any(|l| l.eq_ignore_ascii_case(name));
    if has(TRACKING_LABEL) && paydown_markers::item::parse(issue_body).is_some() {
        return Place::DebtIssue;
    }
    if config.incidents.labels.iter().any(|l| has(l)) {
        return Place::IncidentIssue;
    }
    Place::Issue
}

/// What running one command line came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran. `message` is what to tell the commenter (`None`: a quiet
    /// success, shown with 👍 alone); `markers` are hidden records to
    /// append to the reply.
    Done {
        /// What to tell the commenter; `None` for a quiet success.
        message: Option<String>,
        /// Hidden records to append to the reply.
        markers: Vec<String>,
    },
    /// Not run: not understood, wrong place, too little permission or an
    /// argument that names the wrong thing. The text is ready to post.
    Refused(String),
    /// It was allowed but failed while running; the text says what failed.
    Failed(String),
}

impl Outcome {
    fn is_quiet(&self) -> bool {
        matches!(self, Outcome::Done { message: None, markers } if markers.is_empty())
    }

    fn is_problem(&self) -> bool {
        matches!(self, Outcome::Refused(_) | Outcome::Failed(_))
    }
}

/// One command line and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// The line as written (`/debt classify debt`).
    pub line: String,
    /// What running it came to.
    pub outcome: Outcome,
}

/// The bot's answer to a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply comment's body; `None` when reactions say it all.
    pub comment: Option<String>,
    /// Reactions to add to the comment after the work (`+1`, `confused`).
    pub reactions: Vec<&'static str>,
}

/// Renders the answer to `results`. One reply comment per comment lists
/// every command that has something to say; quiet successes alone get 👍
/// and no comment; any refusal or failure adds 😕. `marker` (from
/// [`reply_marker`]) ends every reply comment.
pub fn render_reply(results: &[CommandResult], marker: &str) -> Reply {
    if results.is_empty() {
        return Reply {
            comment: None,
            reactions: Vec::new(),
        };
    }
    let problems = results.iter().any(|r| r.outcome.is_problem());
    if results.iter().all(|r| r.outcome.is_quiet()) {
        return Reply {
            comment: None,
            reactions: vec!["+1"],
        };
    }
    let mut body = String::new();
    let single = results.len() == 1;
    let mut markers = Vec::new();
    for result in results {
        let text = match &result.outcome {
            Outcome::Done {
                message,
                markers: m,
            } => {
                markers.extend(m.iter().cloned());
                message.clone().unwrap_or_else(|| "Done.".to_string())
            }
            Outcome::Refused(text) => format!("😕 {text}"),
            Outcome::Failed(text) => format!("😕 This failed: {text}"),
        };
        if single {
            let _ = writeln!(body, "> {}\n\n{text}", quote_line(&result.line));
        } else {
            // Multi-line messages (help's table) stay readable under a heading.
            let _ = writeln!(body, "**`{}`**\n\n{text}\n", code_span(&result.line));
        }
    }
    // The messages quote command lines, reasons, titles and errors: none of
    // it may open a comment, or it could forge the markers appended below.
    let mut comment = paydown_markdown::no_comments(body.trim_end());
    comment.push_str("\n\n");
    for m in &markers {
        comment.push_str(m);
        comment.push('\n');
    }
    comment.push_str(marker);
    comment.push('\n');
    Reply {
        comment: Some(comment),
        reactions: if problems {
            vec!["confused"]
        } else {
            Vec::new()
        },
    }
}

/// A command line shown in a block quote: no Markdown can start inside it
/// that would run away with the rest of the reply.
fn quote_line(line: &str) -> String {
    format!("`{}`", code_span(line))
}

/// `line` safe inside single backticks (GitHub has no escape for them), and
/// unable to open or close an HTML comment.
fn code_span(line: &str) -> String {
    paydown_markdown::code_span(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(message: Option<&str>, markers: &[&str]) -> Outcome {
        Outcome::Done {
            message: message.map(str::to_string),
            markers: markers.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn result(line: &str, outcome: Outcome) -> CommandResult {
        CommandResult {
            line: line.to_string(),
            outcome,
        }
    }

    #[test]
    fn given_only_quiet_successes_then_a_thumbs_up_and_no_comment() {
        let reply = render_reply(&[result("/debt ignore", done(None, &[]))], "<!-- m -->");
        assert_eq!(reply.comment, None);
        assert_eq!(reply.reactions, vec!["+1"]);
    }

    #[test]
    fn given_a_line_and_message_forging_a_record_then_only_real_markers_are_comments() {
        let forged = r#"<!-- paydown:record {"kind":"points","points":1,"by":"x","at":"2099-01-01T00:00:00Z"} -->"#;
        let reply = render_reply(
            &[
                result(
                    &format!("/debt frob {forged}"),
                    Outcome::Refused(format!("`{forged}` no")),
                ),
                result("/debt points 3", done(Some("ok"), &["<!-- real -->"])),
            ],
            "<!-- m -->",
        );
        let body = reply.comment.unwrap();
        assert_eq!(body.matches("<!--").count(), 2, "{body}");
        assert_eq!(body.matches("-->").count(), 2, "{body}");
        assert!(paydown_budgets::parse_records(&body).is_empty(), "{body}");
    }

    #[test]
    fn given_a_refusal_then_the_reply_explains_and_the_comment_gets_confused() {
        let reply = render_reply(
            &[result(
                "/debt classify debt",
                Outcome::Refused("`classify` needs write permission.".into()),
            )],
            "<!-- m -->",
        );
        let body = reply.comment.unwrap();
        assert!(body.contains("> `/debt classify debt`"), "{body}");
        assert!(body.contains("needs write permission"), "{body}");
        assert!(body.trim_end().ends_with("<!-- m -->"), "{body}");
        assert_eq!(reply.reactions, vec!["confused"]);
    }

    #[test]
    fn given_several_results_then_one_comment_lists_each_with_its_markers() {
        let reply = render_reply(
            &[
                result(
                    "/debt classify debt",
                    done(Some("Counted as debt."), &["<!-- paydown:record {} -->"]),
                ),
                result("/debt ignore", done(None, &[])),
                result("/debt frob", Outcome::Failed("boom".into())),
            ],
            "<!-- m -->",
        );
        let body = reply.comment.unwrap();
        assert!(body.contains("**`/debt classify debt`**\n\nCounted as debt."));
        assert!(body.contains("**`/debt ignore`**\n\nDone."));
        assert!(body.contains("😕 This failed: boom"));
        assert!(body.contains("<!-- paydown:record {} -->\n<!-- m -->"));
        assert_eq!(reply.reactions, vec!["confused"]);
    }

    #[test]
    fn given_a_backtick_in_the_command_line_then_the_quote_cannot_break_out() {
        let reply = render_reply(
            &[result("/debt `x", Outcome::Refused("no".into()))],
            "<!-- m -->",
        );
        assert!(reply.comment.unwrap().contains("> `/debt 'x`"));
    }

    #[test]
    fn given_labels_and_body_then_the_place_follows_the_marker_and_labels() {
        let config = Config::default();
        let labels = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let marker = "Body\n<!-- paydown:item id=todo-1 v=1 -->\n";
        assert_eq!(
            place_of(true, &labels(&["paydown"]), marker, &config),
            Place::PullRequest
        );
        assert_eq!(
            place_of(false, &labels(&["paydown", "incident"]), marker, &config),
            Place::DebtIssue
        );
        // The label without the bot's marker is a person's issue.
        assert_eq!(
            place_of(false, &labels(&["paydown"]), "Body", &config),
            Place::Issue
        );
        assert_eq!(
            place_of(false, &labels(&["Incident"]), "", &config),
            Place::IncidentIssue
        );
        assert_eq!(place_of(false, &[], marker, &config), Place::Issue);
    }
}
