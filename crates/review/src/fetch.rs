//! Reading a PR: its changed files (`GET /pulls/N/files`), then each
//! accepted file's content at the base and head commits (raw contents
//! API), scanned with `paydown_scan::scan_bytes`. Bounded: at most
//! [`MAX_FILES_READ`] files, [`CONCURRENCY`] requests in flight. A file
//! that cannot be read is left out and reported; only errors that would
//! fail every file (rate limit, lost access) stop the review.

use std::sync::Arc;

use bytes::Bytes;
use paydown_annotations::Annotation;
use paydown_config::Config;
use paydown_github::{Client, GitHubError, Repo};
use paydown_scan::{PathRules, ScanSettings, SkipReason, scan_bytes};
use serde::Deserialize;
use tokio::task::JoinSet;

use crate::delta::FileVersions;
use crate::lint::ConfigFinding;
use crate::render::Coverage;
use crate::{PullContext, ReviewError};

/// Changed files read per review; the report says when it stopped early.
pub(crate) const MAX_FILES_READ: usize = 300;

/// Content requests in flight at once.
const CONCURRENCY: usize = 8;

/// GitHub's cap on the files listed for one PR.
const GITHUB_FILE_CAP: usize = 3000;

#[derive(Debug, Deserialize)]
struct PullFile {
    filename: String,
    status: String,
    #[serde(default)]
    previous_filename: Option<String>,
}

/// The readable changed files, and what the report covers.
pub(crate) struct PullRead {
    pub files: Vec<FileVersions>,
    pub coverage: Coverage,
    /// The commit the base versions were read at (the merge base).
    pub base_sha: String,
    /// Errors in the config file as this PR would leave it.
    pub config_errors: Vec<ConfigFinding>,
}

#[derive(Debug, Deserialize)]
struct CompareJson {
    merge_base_commit: CommitJson,
}

#[derive(Debug, Deserialize)]
struct CommitJson {
    sha: String,
}

/// Where the PR's branch left its base: GitHub lists a PR's files against
/// this commit, so base versions are read there. Reading at the base
/// branch's tip instead would credit the PR with debt the base branch
/// removed (or blame it for debt the base branch added) since.
async fn merge_base(client: &Client, repo: &Repo, pr: &PullContext) -> Result<String, GitHubError> {
    let route = format!("{}?per_page=1", repo.compare(&pr.base_sha, &pr.head_sha));
    match client.get_json::<CompareJson>(&route).await {
        Ok(compare) => Ok(compare.merge_base_commit.sha),
        // Unrelated histories or a vanished base: the base commit is the best
        // remaining answer.
        Err(e) if matches!(e.status(), Some(404 | 422)) => Ok(pr.base_sha.clone()),
        Err(e) => Err(e),
    }
}

/// One file to read: the paths to fetch on each side.
struct Job {
    path: String,
    previous_path: Option<String>,
    base_path: Option<String>,
    head_path: Option<String>,
}

enum Read {
    Versions(FileVersions),
    Skipped(String, String),
    Unreadable(String, String),
}

pub(crate) async fn read_pull_files(
    client: &Client,
    repo: &Repo,
    pr: &PullContext,
    config: &Config,
) -> Result<PullRead, ReviewError> {
    let listed: Vec<PullFile> = client.get_all(&repo.pull_files(pr.number)).await?;
    let base_sha = merge_base(client, repo, pr).await?;
    let changes_config = listed
        .iter()
        .any(|f| f.filename == paydown_config::DEFAULT_PATH && f.status != "removed");
    let mut config_errors = Vec::new();
    let filter = PathRules::new(&ScanSettings::from_config(config))?;
    let mut coverage = Coverage {
        files_changed: listed.len(),
        github_capped: listed.len() >= GITHUB_FILE_CAP,
        ..Coverage::default()
    };
    let mut jobs: Vec<Job> = Vec::new();
    for file in listed {
        match plan_job(&file, &filter) {
            Ok(job) => jobs.push(job),
            Err(reason) => coverage.skipped.push((file.filename, reason)),
        }
    }
    coverage.files_eligible = jobs.len();
    if jobs.len() > MAX_FILES_READ {
        jobs.truncate(MAX_FILES_READ);
        coverage.stopped_after = Some(MAX_FILES_READ);
    }
    let settings = Arc::new(ScanSettings::from_config(config));
    let mut results: Vec<Option<Read>> = (0..jobs.len()).map(|_| None).collect();
    let mut set: JoinSet<(usize, Result<Read, GitHubError>)> = JoinSet::new();
    let mut queue = jobs.into_iter().enumerate();
    loop {
        while set.len() < CONCURRENCY {
            let Some((index, job)) = queue.next() else {
                break;
            };
            let (client, repo, settings) = (client.clone(), repo.clone(), settings.clone());
            let shas = [base_sha.clone(), pr.head_sha.clone()];
            set.spawn(async move { (index, read_one(&client, &repo, &shas, settings, job).await) });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (index, read) = joined.map_err(|e| ReviewError::Pull {
            number: pr.number,
            reason: format!("a file reader stopped: {e}"),
        })?;
        results[index] = Some(read?);
    }
    if changes_config {
        match check_config(client, repo, &pr.head_sha).await {
            Ok(errors) => config_errors = errors,
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(e) => coverage
                .unreadable
                .push((paydown_config::DEFAULT_PATH.to_string(), e.to_string())),
        }
    }
    let mut files = Vec::new();
    for read in results.into_iter().flatten() {
        match read {
            Read::Versions(v) => files.push(v),
            Read::Skipped(path, reason) => coverage.skipped.push((path, reason)),
            Read::Unreadable(path, error) => coverage.unreadable.push((path, error)),
        }
    }
    coverage.files_reviewed = files.len();
    Ok(PullRead {
        files,
        coverage,
        base_sha,
        config_errors,
    })
}

/// Errors in the config file at `sha` (SPEC §2: a PR that breaks the
/// config hears about it on its check run, before the bot falls back to
/// the last valid config).
async fn check_config(
    client: &Client,
    repo: &Repo,
    sha: &str,
) -> Result<Vec<ConfigFinding>, GitHubError> {
    let path = paydown_config::DEFAULT_PATH;
    let Some(bytes) = client.file_at(repo, path, sha).await? else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(match paydown_config::parse(&text, path) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .errors
            .into_iter()
            .map(|e| ConfigFinding {
                path: path.to_string(),
                line: e.line,
                column: e.column,
                message: e.message,
            })
            .collect(),
    })
}

/// Which sides of a listed file to read, or why it is left out.
fn plan_job(file: &PullFile, filter: &PathRules) -> Result<Job, String> {
    let head_path = file.filename.clone();
    let base_path = match file.status.as_str() {
        "renamed" => file.previous_filename.clone(),
        "added" | "copied" => None,
        "unchanged" => return Err("unchanged".to_string()),
        // modified, changed, removed
        _ => Some(file.filename.clone()),
    };
    let head_path = (file.status != "removed").then_some(head_path);
    let accepted = |p: &Option<String>| p.clone().filter(|p| filter.skip_by_path(p).is_none());
    let (base, head) = (accepted(&base_path), accepted(&head_path));
    if base.is_none() && head.is_none() {
        let reason = [&head_path, &base_path]
            .into_iter()
            .flatten()
            .find_map(|p| filter.skip_by_path(p))
            .unwrap_or(SkipReason::Excluded);
        return Err(skip_text(reason));
    }
    // Files with an extension paydown has no syntax for are skipped
    // unfetched; extensionless ones may still have a shebang.
    let name = file.filename.rsplit('/').next().unwrap_or(&file.filename);
    let has_extension = name.trim_start_matches('.').contains('.');
    if has_extension && paydown_annotations::language_for_path(&file.filename, "").is_none() {
        return Err(skip_text(SkipReason::UnknownType));
    }
    Ok(Job {
        path: file.filename.clone(),
        previous_path: base_path.filter(|b| *b != file.filename),
        base_path: base,
        head_path: head,
    })
}

async fn read_one(
    client: &Client,
    repo: &Repo,
    shas: &[String; 2],
    settings: Arc<ScanSettings>,
    job: Job,
) -> Result<Read, GitHubError> {
    let mut contents: [Option<Bytes>; 2] = [None, None];
    let wanted = [
        (job.base_path.as_deref(), shas[0].as_str()),
        (job.head_path.as_deref(), shas[1].as_str()),
    ];
    for (slot, (path, sha)) in contents.iter_mut().zip(wanted) {
        let Some(path) = path else { continue };
        match client.file_at(repo, path, sha).await {
            Ok(Some(bytes)) if bytes.len() as u64 > settings.max_file_bytes => {
                return Ok(Read::Skipped(job.path, skip_text(SkipReason::TooLarge)));
            }
            Ok(Some(bytes)) => *slot = Some(bytes),
            // Listed as changed but absent on this side: nothing there.
            Ok(None) => {}
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => return Ok(Read::Unreadable(job.path, e.to_string())),
        }
    }
    // Scanning and diffing are CPU work: off the async workers.
    let path = job.path.clone();
    tokio::task::spawn_blocking(move || scan_versions(job, contents, &settings))
        .await
        .or_else(|e| Ok(Read::Unreadable(path, format!("scan stopped: {e}"))))
}

/// Scans both sides and diffs them; the texts are dropped on return.
fn scan_versions(job: Job, contents: [Option<Bytes>; 2], settings: &ScanSettings) -> Read {
    let [base_bytes, head_bytes] = contents;
    let paths = [job.base_path.as_deref(), job.head_path.as_deref()];
    let mut sides: Vec<Option<(String, Vec<Annotation>)>> = Vec::with_capacity(2);
    for (bytes, path) in [base_bytes, head_bytes].into_iter().zip(paths) {
        let (Some(bytes), Some(path)) = (bytes, path) else {
            sides.push(None);
            continue;
        };
        match scan_bytes(path, &bytes, settings) {
            Ok(annotations) => {
                sides.push(Some((
                    String::from_utf8_lossy(&bytes).into_owned(),
                    annotations,
                )));
            }
            Err(reason) => return Read::Skipped(job.path, skip_text(reason)),
        }
    }
    let (head_text, head) = sides.pop().flatten().unzip();
    let (base_text, base) = sides.pop().flatten().unzip();
    Read::Versions(FileVersions::new(
        job.path,
        job.previous_path,
        base_text.as_deref().zip(base),
        head_text.as_deref().zip(head),
    ))
}

/// Errors every other file would hit too: the review stops (and can be
/// retried) instead of reporting a PR whose files all "vanished".
fn is_fatal(e: &GitHubError) -> bool {
    matches!(e, GitHubError::RateLimited { .. }) || matches!(e.status(), Some(401 | 403))
}

fn skip_text(reason: SkipReason) -> String {
    match reason {
        SkipReason::UnknownType => "unknown file type",
        SkipReason::Binary => "binary",
        SkipReason::TooLarge => "larger than paths.max_file_bytes",
        SkipReason::Generated => "generated",
        SkipReason::Vendored => "vendored",
        SkipReason::Excluded => "excluded by paths.include/exclude",
        SkipReason::Unreadable => "unreadable",
        SkipReason::UnsafeEntry => "not a plain file",
    }
    .to_string()
}
