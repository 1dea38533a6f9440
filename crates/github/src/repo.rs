//! Repository coordinates and the REST routes paydown builds from them.
//!
//! Routes are always built from owner/name/number, never from URLs found in payloads:
//! those carry GitHub's host and would bypass a configured API base (GHES, tests).

use std::fmt;

use crate::error::{GitHubError, Result};

/// `owner/name` of a repository, validated to GitHub's character set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    /// The owning user or organisation.
    pub owner: String,
    /// The repository name.
    pub name: String,
}

impl Repo {
    /// Validates both segments against GitHub's character set.
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let (owner, name) = (owner.into(), name.into());
        check_segment("owner", &owner)?;
        check_segment("repository name", &name)?;
        Ok(Self { owner, name })
    }

    /// Parses `OWNER/REPO` as given on the command line or in `GITHUB_REPOSITORY`.
    pub fn parse(full_name: &str) -> Result<Self> {
        match full_name.trim().split_once('/') {
            Some((owner, name)) => Self::new(owner, name),
            None => Err(GitHubError::InvalidInput(format!(
                "expected OWNER/REPO, got {full_name:?}"
            ))),
        }
    }

    /// `/repos/{owner}/{name}{suffix}`; `suffix` is empty or starts with `/` or `?`.
    pub fn route(&self, suffix: &str) -> String {
        format!("/repos/{}/{}{}", self.owner, self.name, suffix)
    }

    /// `GET` route of the App installation covering the repository.
    pub fn installation(&self) -> String {
        self.route("/installation")
    }
    /// Route of the issue listing (and of creating an issue).
    pub fn issues(&self) -> String {
        self.route("/issues")
    }
    /// Route of issue (or pull request) `number`.
    pub fn issue(&self, number: u64) -> String {
        self.route(&format!("/issues/{number}"))
    }
    /// Route of the comments on issue `number`.
    pub fn issue_comments(&self, number: u64) -> String {
        self.route(&format!("/issues/{number}/comments"))
    }
    /// Route of one issue comment, by id.
    pub fn comment(&self, comment_id: u64) -> String {
        self.route(&format!("/issues/comments/{comment_id}"))
    }
    /// Route of the repository's labels.
    pub fn labels(&self) -> String {
        self.route("/labels")
    }
    /// Route of pull request `number`.
    pub fn pull(&self, number: u64) -> String {
        self.route(&format!("/pulls/{number}"))
    }
    /// Route of the files pull request `number` changes.
    pub fn pull_files(&self, number: u64) -> String {
        self.route(&format!("/pulls/{number}/files"))
    }
    /// Route of `user`'s permission on the repository.
    pub fn collaborator_permission(&self, user: &str) -> String {
        self.route(&format!(
            "/collaborators/{}/permission",
            encode_segment(user)
        ))
    }
    /// Route of the comparison `base...head`.
    pub fn compare(&self, base: &str, head: &str) -> String {
        self.route(&format!(
            "/compare/{}...{}",
            encode_path(base),
            encode_path(head)
        ))
    }
    /// Tarball of a commit, branch or tag (GitHub answers with a redirect to the archive).
    pub fn tarball(&self, git_ref: &str) -> String {
        self.route(&format!("/tarball/{}", encode_path(git_ref)))
    }
    /// A file's contents at `git_ref`; fetch with `application/vnd.github.raw` for raw bytes.
    pub fn contents(&self, path: &str, git_ref: &str) -> String {
        self.route(&format!(
            "/contents/{}?ref={}",
            encode_path(path.trim_start_matches('/')),
            encode_segment(git_ref)
        ))
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

fn check_segment(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GitHubError::InvalidInput(format!(
            "invalid GitHub {what}: {s:?}"
        )))
    }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters pass).
pub fn encode_segment(s: &str) -> String {
    encode(s, false)
}

/// Percent-encodes a path, keeping `/` separators.
pub fn encode_path(s: &str) -> String {
    encode(s, true)
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_owner_slash_repo_then_routes_are_relative_to_the_api_base() {
        let r = Repo::parse("octo-org/hello.world").unwrap();
        assert_eq!(r.to_string(), "octo-org/hello.world");
        assert_eq!(r.issue(12), "/repos/octo-org/hello.world/issues/12");
        assert_eq!(
            r.issue_comments(3),
            "/repos/octo-org/hello.world/issues/3/comments"
        );
        assert_eq!(
            r.tarball("feature/x y"),
            "/repos/octo-org/hello.world/tarball/feature/x%20y"
        );
        assert_eq!(
            r.contents("/docs/a b.md", "main"),
            "/repos/octo-org/hello.world/contents/docs/a%20b.md?ref=main"
        );
        assert_eq!(
            r.collaborator_permission("bob"),
            "/repos/octo-org/hello.world/collaborators/bob/permission"
        );
    }

    #[test]
    fn given_bad_names_then_clear_errors() {
        for bad in [
            "noslash",
            "/repo",
            "owner/",
            "a/b/c",
            "own er/repo",
            "o/..",
            "o/re?po",
        ] {
            let err = Repo::parse(bad).unwrap_err();
            assert!(
                matches!(err, GitHubError::InvalidInput(ref m) if m.contains("invalid GitHub") || m.contains("OWNER/REPO")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn encoding_escapes_reserved_and_non_ascii() {
        assert_eq!(encode_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(encode_path("dir/ä.rs"), "dir/%C3%A4.rs");
    }
}
