//! Reading a PR: its changed files (`GET /pulls/N/files`), then the
//! accepted files' content at the merge base and at the head, a hundred
//! files at a time: one [`Client::files_at`] read per side (one GraphQL
//! query; contents reads only for what GraphQL cannot return), scanned
//! with `paydown_scan::scan_marked` under the head's `.gitattributes`
//! (read first, in one more query: they decide what is read). Bounded: at most [`MAX_FILES_READ`]
//! files, the texts of one hundred held at once, [`CONCURRENCY`] scans in
//! flight. A file that cannot be read is left out and reported; only
//! errors that would fail every file (rate limit, lost access) stop the
//! review.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use paydown_annotations::Annotation;
use paydown_config::Config;
use paydown_github::models::{ChangedFile, Compare};
use paydown_github::{Client, FILES_PER_QUERY, FileAt, GitHubError, Repo};
use paydown_scan::{Attributes, Marks, PathRules, ScanSettings, SkipReason, scan_marked};
use tokio::task::JoinSet;

use crate::delta::FileVersions;
use crate::lint::ConfigFinding;
use crate::render::Coverage;
use crate::{PullContext, ReviewError};

/// Changed files read per review; the report says when it stopped early.
pub(crate) const MAX_FILES_READ: usize = 300;

/// Files scanned and diffed at once (CPU work, off the async workers).
const CONCURRENCY: usize = 8;

/// GitHub's cap on the files listed for one PR.
const GITHUB_FILE_CAP: usize = 3000;

/// The readable changed files, and what the report covers.
pub(crate) struct PullRead {
    pub files: Vec<FileVersions>,
    pub coverage: Coverage,
    /// The commit the base versions were read at (the merge base).
    pub base_sha: String,
    /// Errors in the config file as this PR would leave it.
    pub config_errors: Vec<ConfigFinding>,
}

/// Where the PR's branch left its base: GitHub lists a PR's files against
/// this commit, so base versions are read there. Reading at the base
/// branch's tip instead would credit the PR with debt the base branch
/// removed (or blame it for debt the base branch added) since.
async fn merge_base(client: &Client, repo: &Repo, pr: &PullContext) -> Result<String, GitHubError> {
    let route = format!("{}?per_page=1", repo.compare(&pr.base_sha, &pr.head_sha));
    match client.get_json::<Compare>(&route).await {
        // A compare without its merge base is as good as none: the base
        // commit is the best remaining answer.
        Ok(compare) => Ok(compare
            .merge_base_commit
            .map_or_else(|| pr.base_sha.clone(), |c| c.sha)),
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
    /// What the head's `.gitattributes` say about each side's path.
    base_marks: Marks,
    head_marks: Marks,
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
    let listed: Vec<ChangedFile> = client.get_all(&repo.pull_files(pr.number)).await?;
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
    let attributes = if listed.is_empty() {
        Attributes::default()
    } else {
        match read_attributes(client, repo, &pr.head_sha, &listed).await {
            Ok(attributes) => attributes,
            Err(e) if e.stops_every_request() => return Err(e.into()),
            // Reviewed as if unmarked, and said so: one odd file must not
            // stop the review.
            Err(e) => {
                coverage
                    .unreadable
                    .push((".gitattributes".to_string(), e.to_string()));
                Attributes::default()
            }
        }
    };
    let mut jobs: Vec<Job> = Vec::new();
    for file in listed {
        match plan_job(&file, &filter, &attributes) {
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
    let mut reads: Vec<Read> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    // A hundred files at a time: two reads (base, head) per hundred, and
    // only their texts held at once.
    loop {
        let chunk: Vec<Job> = jobs.by_ref().take(FILES_PER_QUERY).collect();
        if chunk.is_empty() {
            break;
        }
        let max_bytes = settings.max_file_bytes;
        let base_paths = side_paths(&chunk, |job| job.base_path.as_deref());
        let head_paths = side_paths(&chunk, |job| job.head_path.as_deref());
        let (base, head) = tokio::join!(
            read_side(client, repo, &base_sha, &base_paths, max_bytes),
            read_side(client, repo, &pr.head_sha, &head_paths, max_bytes),
        );
        let sides = [base?, head?];
        reads.extend(scan_chunk(pr.number, chunk, &sides, &settings).await?);
    }
    if changes_config {
        match check_config(client, repo, &pr.head_sha).await {
            Ok(errors) => config_errors = errors,
            Err(e) if e.stops_every_request() => return Err(e.into()),
            Err(e) => coverage
                .unreadable
                .push((paydown_config::DEFAULT_PATH.to_string(), e.to_string())),
        }
    }
    let mut files = Vec::new();
    for read in reads {
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

/// Errors in the config file at `sha` (docs/configuration.md: a PR that breaks the
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

/// The head's `.gitattributes` that can mark the listed files (the root's
/// and those of the directories above them, as a scan of the tree applies
/// them), in one GraphQL query per hundred. Both sides are judged by the
/// head's marks: the PR is what would be merged, and a file it marks
/// vendored is third-party code on both sides, not debt the PR pays off.
async fn read_attributes(
    client: &Client,
    repo: &Repo,
    head_sha: &str,
    listed: &[ChangedFile],
) -> Result<Attributes, GitHubError> {
    let paths = Attributes::files_above(
        listed
            .iter()
            .flat_map(|f| std::iter::once(&f.filename).chain(&f.previous_filename))
            .map(String::as_str),
    );
    let found = client
        .files_at_with_optional(repo, head_sha, &paths, 0, MAX_ATTRIBUTES_BYTES)
        .await?;
    let mut attributes = Attributes::default();
    for (path, read) in found {
        match read? {
            FileAt::Text(bytes) => attributes.add(&path, &String::from_utf8_lossy(&bytes)),
            // Absent (most directories have none), or not text git would read.
            FileAt::Missing | FileAt::Binary | FileAt::TooLarge => {}
        }
    }
    Ok(attributes)
}

/// A `.gitattributes` larger than this is not one (as in a tarball scan).
const MAX_ATTRIBUTES_BYTES: u64 = 1024 * 1024;

/// Which sides of a listed file to read, or why it is left out.
fn plan_job(
    file: &ChangedFile,
    filter: &PathRules,
    attributes: &Attributes,
) -> Result<Job, String> {
    let head_path = file.filename.clone();
    let base_path = match file.status.as_str() {
        "renamed" => file.previous_filename.clone(),
        "added" | "copied" => None,
        "unchanged" => return Err("unchanged".to_string()),
        // modified, changed, removed
        _ => Some(file.filename.clone()),
    };
    let head_path = (file.status != "removed").then_some(head_path);
    let marks_of = |p: &Option<String>| {
        p.as_deref()
            .map(|p| attributes.marks(p))
            .unwrap_or_default()
    };
    let (base_marks, head_marks) = (marks_of(&base_path), marks_of(&head_path));
    let skip = |p: &str, marks: &Marks| filter.skip_marked(p, marks);
    let accepted =
        |p: &Option<String>, marks: &Marks| p.clone().filter(|p| skip(p, marks).is_none());
    let (base, head) = (
        accepted(&base_path, &base_marks),
        accepted(&head_path, &head_marks),
    );
    if base.is_none() && head.is_none() {
        let reason = [(&head_path, &head_marks), (&base_path, &base_marks)]
            .into_iter()
            .find_map(|(p, marks)| p.as_deref().and_then(|p| skip(p, marks)))
            .unwrap_or(SkipReason::Excluded);
        return Err(skip_text(reason));
    }
    // Files with an extension paydown has no syntax for are skipped
    // unfetched, unless `linguist-language` names one; extensionless ones
    // may still have a shebang.
    let name = file.filename.rsplit('/').next().unwrap_or(&file.filename);
    let has_extension = name.trim_start_matches('.').contains('.');
    let overridden = head_marks.language.is_some() || base_marks.language.is_some();
    if has_extension
        && !overridden
        && paydown_annotations::language_for_path(&file.filename, "").is_none()
    {
        return Err(skip_text(SkipReason::UnknownType));
    }
    Ok(Job {
        path: file.filename.clone(),
        previous_path: base_path.filter(|b| *b != file.filename),
        base_path: base,
        head_path: head,
        base_marks,
        head_marks,
    })
}

/// The distinct paths one side of `jobs` reads, in order.
fn side_paths(jobs: &[Job], side: impl Fn(&Job) -> Option<&str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    jobs.iter()
        .filter_map(side)
        .filter(|path| seen.insert(*path))
        .map(str::to_string)
        .collect()
}

/// One side's files: what was found, or why a file could not be read.
type Side = HashMap<String, Result<FileAt, String>>;

/// `paths` at `sha`; only errors every file would hit stop the review.
async fn read_side(
    client: &Client,
    repo: &Repo,
    sha: &str,
    paths: &[String],
    max_bytes: u64,
) -> Result<Side, GitHubError> {
    // `files_at` fails as a whole only on errors every file would meet.
    let found = client.files_at(repo, sha, paths, max_bytes).await?;
    Ok(found
        .into_iter()
        .map(|(path, read)| (path, read.map_err(|e| e.to_string())))
        .collect())
}

/// Each job's two sides from what was read, then scanned and diffed,
/// [`CONCURRENCY`] at a time, in the jobs' order.
async fn scan_chunk(
    number: u64,
    chunk: Vec<Job>,
    sides: &[Side; 2],
    settings: &Arc<ScanSettings>,
) -> Result<Vec<Read>, ReviewError> {
    let mut results: Vec<Option<Read>> = (0..chunk.len()).map(|_| None).collect();
    let mut set: JoinSet<(usize, Read)> = JoinSet::new();
    let mut queue = chunk.into_iter().enumerate();
    loop {
        while set.len() < CONCURRENCY {
            let Some((index, job)) = queue.next() else {
                break;
            };
            let contents = match contents_of(&job, sides) {
                Ok(contents) => contents,
                Err(read) => {
                    results[index] = Some(read);
                    continue;
                }
            };
            let settings = settings.clone();
            set.spawn(async move {
                // Scanning and diffing are CPU work: off the async workers.
                let path = job.path.clone();
                let read =
                    tokio::task::spawn_blocking(move || scan_versions(job, contents, &settings))
                        .await
                        .unwrap_or_else(|e| Read::Unreadable(path, format!("scan stopped: {e}")));
                (index, read)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (index, read) = joined.map_err(|e| ReviewError::Pull {
            number,
            reason: format!("a file scanner stopped: {e}"),
        })?;
        results[index] = Some(read);
    }
    Ok(results.into_iter().flatten().collect())
}

/// A job's base and head bytes, or the reason it is left out.
fn contents_of(job: &Job, sides: &[Side; 2]) -> Result<[Option<Bytes>; 2], Read> {
    let mut contents: [Option<Bytes>; 2] = [None, None];
    let wanted = [job.base_path.as_deref(), job.head_path.as_deref()];
    for ((slot, path), side) in contents.iter_mut().zip(wanted).zip(sides) {
        let Some(path) = path else { continue };
        match side.get(path) {
            Some(Ok(FileAt::Text(bytes))) => *slot = Some(bytes.clone()),
            Some(Ok(FileAt::Binary)) => {
                return Err(Read::Skipped(
                    job.path.clone(),
                    skip_text(SkipReason::Binary),
                ));
            }
            Some(Ok(FileAt::TooLarge)) => {
                return Err(Read::Skipped(
                    job.path.clone(),
                    skip_text(SkipReason::TooLarge),
                ));
            }
            // Listed as changed but absent on this side: nothing there.
            Some(Ok(FileAt::Missing)) => {}
            Some(Err(error)) => return Err(Read::Unreadable(job.path.clone(), error.clone())),
            // `read_side` answers every path it is given.
            None => {
                return Err(Read::Unreadable(
                    job.path.clone(),
                    format!("{path} was not read"),
                ));
            }
        }
    }
    Ok(contents)
}

/// Scans both sides and diffs them; the texts are dropped on return.
fn scan_versions(job: Job, contents: [Option<Bytes>; 2], settings: &ScanSettings) -> Read {
    let [base_bytes, head_bytes] = contents;
    let paths = [
        (job.base_path.as_deref(), job.base_marks),
        (job.head_path.as_deref(), job.head_marks),
    ];
    let mut sides: Vec<Option<(String, Vec<Annotation>)>> = Vec::with_capacity(2);
    for (bytes, (path, marks)) in [base_bytes, head_bytes].into_iter().zip(paths) {
        let (Some(bytes), Some(path)) = (bytes, path) else {
            sides.push(None);
            continue;
        };
        match scan_marked(path, &bytes, settings, &marks) {
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

fn skip_text(reason: SkipReason) -> String {
    match reason {
        SkipReason::UnknownType => "unknown file type",
        SkipReason::Binary => "binary",
        SkipReason::TooLarge => "larger than paths.max_file_bytes",
        SkipReason::Generated => "generated",
        SkipReason::Vendored => "vendored",
        SkipReason::Documentation => "marked linguist-documentation",
        SkipReason::Excluded => "excluded by paths.include/exclude",
        SkipReason::Unreadable => "unreadable",
        SkipReason::UnsafeEntry => "not a plain file",
    }
    .to_string()
}
