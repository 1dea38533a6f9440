//! Many files at one commit in few requests: [`Client::files_at`] asks
//! GitHub GraphQL for up to [`FILES_PER_QUERY`] blobs per query
//! (`object(expression: "SHA:path")`, one alias per file), and reads alone,
//! through the contents API, only the files GraphQL gives no text for
//! (truncated, too large for it, a null object). A GraphQL endpoint that is
//! missing or refuses the query (400/404/422, older GitHub Enterprise), or
//! that keeps failing past the client's retries while REST may well answer,
//! costs one contents read per file instead.
//!
//! Binary and over-size files are recognised from GraphQL's `isBinary` and
//! `byteSize` without their text being kept, so a caller's size limit holds
//! whichever way a file came.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{Client, GitHubError, Repo, Result};

/// Files asked for per GraphQL query: one query for a typical push or PR,
/// and a large read cannot time out GitHub's GraphQL as a whole.
pub const FILES_PER_QUERY: usize = 100;

/// Contents reads in flight at once when files are read one by one.
const READS_IN_FLIGHT: usize = 8;

/// One file at a commit, as [`Client::files_at`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAt {
    /// The file's bytes. Read through the contents API they may still be
    /// binary (GraphQL's `isBinary` was not available): scanning decides.
    Text(Bytes),
    /// GraphQL says the blob is binary; its content is not read.
    Binary,
    /// Larger than the caller's `max_bytes`; its content is not kept.
    TooLarge,
    /// No such file at the commit (GitHub answered 404).
    Missing,
}

#[derive(Deserialize)]
struct GraphQlBlobs {
    #[serde(default)]
    data: Option<Value>,
    /// A 200 answer may still carry errors (a query timeout, a partial
    /// answer); the files it gives nothing for are read alone.
    #[serde(default)]
    errors: Option<Value>,
}

/// The fields of a `Blob` the query selects; absent ones stay `None`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Blob {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, rename = "isBinary")]
    is_binary: Option<bool>,
    #[serde(default, rename = "isTruncated")]
    is_truncated: Option<bool>,
    #[serde(default, rename = "byteSize")]
    byte_size: Option<u64>,
}

/// What GraphQL's answer for one file settles; `None` when the file must
/// be read alone (no object, no text, or a truncated one).
pub(crate) fn from_blob(blob: Option<Blob>, max_bytes: u64) -> Option<FileAt> {
    match blob? {
        Blob {
            is_binary: Some(true),
            ..
        } => Some(FileAt::Binary),
        Blob {
            byte_size: Some(size),
            ..
        } if size > max_bytes => Some(FileAt::TooLarge),
        Blob {
            text: Some(text),
            is_truncated: Some(false) | None,
            ..
        } => Some(FileAt::Text(Bytes::from(text))),
        _ => None,
    }
}

/// The GraphQL query reading `paths` at `sha`: one aliased `object` per
/// file (`f{first}`, `f{first + 1}`, …), expressions passed as variables
/// so no path needs escaping.
pub(crate) fn blob_query(
    owner: &str,
    name: &str,
    sha: &str,
    paths: &[String],
    first: usize,
) -> Value {
    let mut params = String::from("$owner: String!, $name: String!");
    let mut fields = String::new();
    let mut variables = serde_json::Map::new();
    variables.insert("owner".into(), json!(owner));
    variables.insert("name".into(), json!(name));
    for (i, path) in (first..).zip(paths) {
        params.push_str(&format!(", $e{i}: String!"));
        fields.push_str(&format!(
            " f{i}: object(expression: $e{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
        ));
        variables.insert(format!("e{i}"), json!(format!("{sha}:{path}")));
    }
    json!({
        "query": format!("query({params}) {{ repository(owner: $owner, name: $name) {{{fields} }} }}"),
        "variables": variables,
    })
}

impl Client {
    /// Every file of `paths` at commit `sha`, in the order asked, in
    /// `ceil(len / FILES_PER_QUERY)` GraphQL requests plus one contents
    /// read per file GraphQL gives no text for.
    ///
    /// The outer `Err` is an error no file escapes
    /// ([`GitHubError::stops_every_request`]: a rate limit, a 401/403). Any
    /// other GraphQL failure falls back to reading the batch's files alone.
    /// A file whose own contents read fails carries its error, and the
    /// other files are still read.
    pub async fn files_at(
        &self,
        repo: &Repo,
        sha: &str,
        paths: &[String],
        max_bytes: u64,
    ) -> Result<Vec<(String, Result<FileAt>)>> {
        self.files_at_with_optional(repo, sha, paths, paths.len(), max_bytes)
            .await
    }

    /// [`Client::files_at`] where the paths from index `optional_from` on
    /// may well not exist at `sha` (a `.gitattributes` in each directory
    /// above a changed file): they ride in the same GraphQL queries, and
    /// one GraphQL answers with no object, in an answer without errors, is
    /// [`FileAt::Missing`] without a contents read.
    pub async fn files_at_with_optional(
        &self,
        repo: &Repo,
        sha: &str,
        paths: &[String],
        optional_from: usize,
        max_bytes: u64,
    ) -> Result<Vec<(String, Result<FileAt>)>> {
        let mut settled: Vec<Option<FileAt>> = vec![None; paths.len()];
        for (batch, chunk) in paths.chunks(FILES_PER_QUERY).enumerate() {
            let first = batch * FILES_PER_QUERY;
            let query = blob_query(&repo.owner, &repo.name, sha, chunk, first);
            // Whether GraphQL answered without errors: only then does a
            // null object mean the path is absent.
            let clean;
            let objects = match self
                .post_idempotent_json::<_, GraphQlBlobs>("/graphql", &query)
                .await
            {
                Ok(answer) => {
                    clean = answer.errors.is_none();
                    if let Some(errors) = &answer.errors {
                        tracing::warn!(repo = %repo, errors = %errors, "GraphQL blob query answered with errors; files it gave nothing for are read alone");
                    }
                    answer
                        .data
                        .and_then(|mut d| d.get_mut("repository").map(Value::take))
                }
                Err(e) if e.stops_every_request() => return Err(e),
                // A GraphQL endpoint that is missing or refuses the query
                // (older GitHub Enterprise), or fails past the retries while
                // REST may answer: one contents read per file.
                Err(e) => {
                    tracing::warn!(repo = %repo, error = %e, "GraphQL blob query failed; reading files one by one");
                    break;
                }
            };
            let Some(Value::Object(mut objects)) = objects else {
                continue;
            };
            for (i, slot) in (first..).zip(&mut settled[first..first + chunk.len()]) {
                let object = objects.remove(&format!("f{i}"));
                if clean && i >= optional_from && object.as_ref().is_some_and(Value::is_null) {
                    *slot = Some(FileAt::Missing);
                    continue;
                }
                let blob = object
                    .filter(|v| !v.is_null())
                    .and_then(|v| serde_json::from_value(v).ok());
                *slot = from_blob(blob, max_bytes);
            }
        }
        let mut found: Vec<Option<Result<FileAt>>> =
            settled.into_iter().map(|s| s.map(Ok)).collect();
        let alone: Vec<usize> = (0..paths.len()).filter(|&i| found[i].is_none()).collect();
        for (index, read) in self.read_alone(repo, sha, paths, &alone, max_bytes).await? {
            found[index] = Some(read);
        }
        Ok(paths
            .iter()
            .zip(found)
            .map(|(path, found)| {
                // `read_alone` answers every index it is given, or fails.
                let found = found.unwrap_or_else(|| {
                    Err(GitHubError::Decode {
                        route: "/graphql".to_string(),
                        error: format!("no answer for {path}"),
                    })
                });
                (path.clone(), found)
            })
            .collect())
    }

    /// The files at `indices` of `paths`, read one by one through the
    /// contents API, a few at a time.
    async fn read_alone(
        &self,
        repo: &Repo,
        sha: &str,
        paths: &[String],
        indices: &[usize],
        max_bytes: u64,
    ) -> Result<Vec<(usize, Result<FileAt>)>> {
        let mut found = Vec::with_capacity(indices.len());
        let mut queue = indices.iter().copied();
        let mut set: JoinSet<(usize, Result<FileAt>)> = JoinSet::new();
        loop {
            while set.len() < READS_IN_FLIGHT {
                let Some(index) = queue.next() else { break };
                let (client, repo, sha) = (self.clone(), repo.clone(), sha.to_string());
                let path = paths[index].clone();
                set.spawn(async move {
                    let read = match client.file_at(&repo, &path, &sha).await {
                        Ok(Some(bytes)) if bytes.len() as u64 > max_bytes => Ok(FileAt::TooLarge),
                        Ok(Some(bytes)) => Ok(FileAt::Text(bytes)),
                        Ok(None) => Ok(FileAt::Missing),
                        Err(e) => Err(e),
                    };
                    (index, read)
                });
            }
            let (index, read) = match set.join_next().await {
                None => break,
                Some(Ok(done)) => done,
                // A reader panics only on a bug: surface it as one.
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(Err(e)) => {
                    return Err(GitHubError::Transport {
                        route: repo.route("/contents"),
                        reason: format!("a file reader was cancelled: {e}"),
                    });
                }
            };
            match read {
                // Dropping the set aborts the reads still in flight.
                Err(e) if e.stops_every_request() => return Err(e),
                read => found.push((index, read)),
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(text: Option<&str>, binary: bool, truncated: bool, size: u64) -> Option<Blob> {
        Some(Blob {
            text: text.map(str::to_string),
            is_binary: Some(binary),
            is_truncated: Some(truncated),
            byte_size: Some(size),
        })
    }

    #[test]
    fn the_blob_query_passes_each_expression_as_a_variable() {
        let q = blob_query("o", "r", "abc", &["a \"q\".rs".to_string()], 0);
        assert_eq!(q["variables"]["e0"], "abc:a \"q\".rs");
        let text = q["query"].as_str().unwrap();
        assert!(text.contains("f0: object(expression: $e0)"), "{text}");
        assert!(text.contains("$e0: String!"), "{text}");
    }

    #[test]
    fn a_later_batch_numbers_its_aliases_from_its_first_index() {
        let paths = ["a.rs".to_string(), "b.rs".to_string()];
        let q = blob_query("o", "r", "abc", &paths, 100);
        let text = q["query"].as_str().unwrap();
        assert!(text.contains("f100: object(expression: $e100)"), "{text}");
        assert!(text.contains("f101: object(expression: $e101)"), "{text}");
        assert_eq!(q["variables"]["e101"], "abc:b.rs");
    }

    #[test]
    fn graphql_settles_text_binary_and_over_size_files() {
        assert_eq!(
            from_blob(blob(Some("fn a() {}\n"), false, false, 10), 100),
            Some(FileAt::Text(Bytes::from_static(b"fn a() {}\n")))
        );
        assert_eq!(
            from_blob(blob(None, true, false, 10), 100),
            Some(FileAt::Binary)
        );
        // over the caller's limit, with or without text:
        assert_eq!(
            from_blob(blob(Some("x"), false, false, 101), 100),
            Some(FileAt::TooLarge)
        );
        assert_eq!(
            from_blob(blob(None, false, true, 5_000_000), 100),
            Some(FileAt::TooLarge)
        );
    }

    #[test]
    fn truncated_textless_and_null_blobs_are_read_alone() {
        assert_eq!(from_blob(blob(Some("par"), false, true, 10), 100), None);
        assert_eq!(from_blob(blob(None, false, false, 10), 100), None);
        assert_eq!(from_blob(None, 100), None);
        // an object that is not a blob (a tree) has none of the fields.
        assert_eq!(from_blob(Some(Blob::default()), 100), None);
    }
}
