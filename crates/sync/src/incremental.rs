//! A push reconciled from what it changed, given the [`SyncState`] of the
//! commit it starts from: one compare (`GET /repos/{o}/{r}/compare/B...A`)
//! for the changed files, their text in one GraphQL query, one listing of
//! the tracked issues updated since the last run, then a plan covering
//! only the changed paths. About `k + 3` requests for a push that touches
//! `k` items, whatever the size of the repository.
//!
//! Anything the changed files alone cannot answer falls back to the full
//! sync (one tarball): no state or an incomplete one, a push whose
//! `before` is not the synced commit (force push, missed delivery), a
//! compare that is not a plain fast-forward or lists 300 files (GitHub's
//! cap), and a change to `.github/paydown.yml`, whose new keywords or
//! paths may concern any file — so a config change takes effect on the
//! push that makes it. A changed `.gitattributes` falls back too, for the
//! same reason; otherwise the commit's `.gitattributes` above the changed
//! files ride in the GraphQL batch and mark them as a full sync would.
//! A sync that is not a push (the one after a merge) compares the synced
//! commit with the default branch's head.

use std::collections::{BTreeMap, BTreeSet};

use paydown_github::models::Compare;
use paydown_github::{Client, FileAt, GitHubError, Repo, encode_path};
use paydown_reconcile::{Coverage, Plan, PlanInput, RepoRef};
use paydown_scan::{
    Attributes, ScanReport, ScanSettings, SkipReason, TarballLimits, scan_tarball_with_attributes,
};
use serde::Serialize;

use crate::state::{self, SyncState};
use crate::{DashboardWrite, SyncError, SyncOptions, SyncOutcome, fetch};

/// GitHub's compare lists at most this many files; a longer diff is cut.
pub const COMPARE_FILE_CAP: usize = 300;

/// How a push was reconciled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum SyncMode {
    /// The whole tree from one tarball, with the reason.
    Full {
        /// Why the changed files were not enough.
        reason: String,
    },
    /// Only the changed files.
    Incremental {
        /// How many files the compare listed.
        changed_files: usize,
    },
    /// The state is already at the pushed commit (a redelivery, or the
    /// sync after a merge whose push came first): nothing to read; the
    /// dashboard is written only if its body changed.
    UpToDate,
}

/// The outcome of [`sync_push`], with the state to keep for the next push.
#[derive(Debug)]
pub struct PushSync {
    /// What the sync saw, decided and did.
    pub outcome: SyncOutcome,
    /// Whether the whole tree or only the changed files were read.
    pub mode: SyncMode,
    /// The state after this push.
    pub state: SyncState,
    /// Whether `state` is new and worth storing (never after a dry run).
    pub state_changed: bool,
}

/// Reconciles a push of the default branch from `before` to
/// `options.head` (or, without `before`, a full sync), building on
/// `previous` when it is the state of `before`. The returned state is for
/// the caller to keep; with `options.dry_run` it must not be kept.
pub async fn sync_push(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
    previous: Option<SyncState>,
    before: Option<&str>,
) -> Result<PushSync, SyncError> {
    // A push that does not start at the synced commit is a force push, or
    // an older push retried after newer ones were synced. Either way the
    // branch's current head is the truth: reconciling the pushed commit
    // would roll the issues back to an older tree.
    let complete = previous.as_ref().is_some_and(|state| state.complete);
    let synced = previous.as_ref().map(|state| state.sha.as_str());
    let pushed = options.head.as_ref().map(|head| head.sha.as_str());
    // (A redelivery of the push already synced is not stale: its head is
    // the synced commit, and `decide` finds it up to date for free.)
    let stale_push =
        complete && before.is_some_and(|before| synced != Some(before)) && pushed != synced;
    let before = if stale_push { None } else { before };
    // A sync without a known head (the one after a merge, or a stale push)
    // builds on a complete state too: the default branch's head is two
    // reads, a tarball and a full listing are many more.
    let resolved;
    let options = if complete && (options.head.is_none() || stale_push) {
        resolved = SyncOptions {
            head: Some(fetch::default_branch_head(client, repo).await?),
            ..options.clone()
        };
        &resolved
    } else {
        options
    };
    let decision = decide(previous.as_ref(), before, options.head.as_ref());
    // A full sync finds issues by label; these are the ones it must still
    // find when a person took the label off.
    let known: Vec<u64> = previous
        .as_ref()
        .map(|state| state.tracked.issues.iter().map(|i| i.number).collect())
        .unwrap_or_default();
    let reason = match (decision, previous, &options.head) {
        // Incident counts change without a commit: with incidents, an
        // up-to-date tree is still planned again in full (the planner
        // writes only what differs).
        (Decision::UpToDate, Some(_), Some(_)) if options.incidents.is_some() => {
            "incidents are read".to_string()
        }
        (Decision::UpToDate, Some(state), Some(head)) => {
            return up_to_date(client, repo, options, head, state).await;
        }
        (Decision::Incremental, Some(state), Some(head)) => {
            match incremental(client, repo, options, state, head).await? {
                Ok(done) => return Ok(done),
                Err(reason) => reason,
            }
        }
        (Decision::Full(reason), _, _) => reason,
        // `decide` answers UpToDate and Incremental only with a state and a head.
        _ => "no state kept for this repository".to_string(),
    };
    tracing::info!(repo = %repo, reason = %reason, "full sync");
    let (outcome, state) = crate::full_sync(client, repo, options, &known).await?;
    Ok(PushSync {
        outcome,
        mode: SyncMode::Full { reason },
        state,
        state_changed: !options.dry_run,
    })
}

/// What a push needs, from the kept state alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A full sync is needed, for this reason.
    Full(String),
    /// The changed files are enough.
    Incremental,
    /// The state is already at the pushed commit.
    UpToDate,
}

/// Whether a push from `before` to `head` can build on `previous`.
pub fn decide(
    previous: Option<&SyncState>,
    before: Option<&str>,
    head: Option<&fetch::Head>,
) -> Decision {
    let Some(state) = previous else {
        return Decision::Full("no state kept for this repository".into());
    };
    if !state.complete {
        return Decision::Full("the last run left work undone".into());
    }
    let Some(head) = head else {
        return Decision::Full("the head commit is not known".into());
    };
    // A redelivered push, or the sync after a merge whose push came first.
    if state.sha == head.sha {
        return Decision::UpToDate;
    }
    // Not a push (the sync after a merge): from the synced commit; the
    // compare then says whether it is an ancestor of the head.
    let Some(before) = before else {
        return Decision::Incremental;
    };
    if state.sha != before {
        return Decision::Full("the push does not start at the synced commit".into());
    }
    Decision::Incremental
}

/// Nothing to reconcile: the state is at the pushed commit. Only the
/// dashboard may differ (the sections other features render change with
/// merges and sprints); it is rendered from the state and written when its
/// body changed — no read.
async fn up_to_date(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
    head: &fetch::Head,
    mut state: SyncState,
) -> Result<PushSync, SyncError> {
    let (config, config_errors) = kept_config(options, &mut state);
    let annotations = state.annotations();
    let plan = Plan::default();
    let applied = crate::ApplyReport::default();
    let body = crate::dashboard::desired_body(&crate::dashboard::DashboardContext {
        config: &config,
        config_errors: &config_errors,
        annotations: &annotations,
        issues: &state.tracked.issues,
        dates: &state.tracked.dates,
        plan: &plan,
        applied: Some(&applied),
        today: options.today,
        sections: &options.dashboard_sections,
        impact: None,
    });
    let dashboard = crate::dashboard::write_dashboard(
        client,
        repo,
        &config,
        state.tracked.dashboard.as_ref(),
        &body,
        options.dry_run,
    )
    .await?;
    let state_changed = matches!(
        dashboard,
        DashboardWrite::Created { .. } | DashboardWrite::Updated { .. }
    );
    if !options.dry_run {
        state::after_apply(
            &mut state.tracked,
            &plan,
            &applied,
            &dashboard,
            &body,
            options.today,
        );
    }
    let outcome = SyncOutcome {
        repo: repo.to_string(),
        branch: head.branch.clone(),
        sha: head.sha.clone(),
        annotations: annotations.len(),
        files_scanned: 0,
        skipped: BTreeMap::new(),
        config_errors,
        plan,
        applied: (!options.dry_run).then_some(applied),
        dashboard,
    };
    Ok(PushSync {
        outcome,
        mode: SyncMode::UpToDate,
        state,
        state_changed,
    })
}

/// The configuration of a run that does not read `.github/paydown.yml`
/// (the push did not change it): the one in force at the synced commit,
/// with the file's errors, which the dashboard keeps listing. A state
/// whose kept text is a broken file's (written before the errors were
/// kept) is brought in line, so the next push finds the valid one.
fn kept_config(
    options: &SyncOptions,
    state: &mut SyncState,
) -> (paydown_config::Config, Vec<String>) {
    if let Some(config) = &options.config {
        return (config.clone(), options.config_errors.clone());
    }
    let in_force = state.config_in_force(options.last_valid_config.as_deref());
    state.config_text = in_force.text;
    state.config_errors = in_force.errors.clone();
    (in_force.config, in_force.errors)
}

/// One file of a compare, as GitHub lists it: the shared model under the
/// name [`changes_from_compare`] has always taken.
pub use paydown_github::models::ChangedFile as CompareFile;

/// What a push changed, as the planner needs it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Files to read at the pushed commit.
    pub to_read: Vec<String>,
    /// Every path whose items the plan may settle: read, removed, and the
    /// old paths of renames.
    pub covered: BTreeSet<String>,
    /// Old path → new path.
    pub renames: BTreeMap<String, String>,
}

/// The compare's files as reads, coverage and renames; `Err` with the
/// reason when the changed files alone cannot answer (the caller then
/// runs a full sync).
pub fn changes_from_compare(status: &str, files: &[CompareFile]) -> Result<Changes, String> {
    if !matches!(status, "ahead" | "identical") {
        return Err(format!(
            "the pushed commit is {status} of the synced one (a force push)"
        ));
    }
    if files.len() >= COMPARE_FILE_CAP {
        return Err(format!(
            "the push changes {} files or more",
            COMPARE_FILE_CAP
        ));
    }
    let mut changes = Changes::default();
    for file in files {
        let touches_config = |p: &str| p == paydown_config::DEFAULT_PATH;
        if touches_config(&file.filename)
            || file
                .previous_filename
                .as_deref()
                .is_some_and(touches_config)
        {
            return Err("the push changes .github/paydown.yml".to_string());
        }
        // New `.gitattributes` marks (vendored, generated, a language) may
        // concern files the push did not touch.
        let touches_attributes = |p: &str| p.rsplit('/').next() == Some(".gitattributes");
        if touches_attributes(&file.filename)
            || file
                .previous_filename
                .as_deref()
                .is_some_and(touches_attributes)
        {
            return Err(format!("the push changes {}", file.filename));
        }
        changes.covered.insert(file.filename.clone());
        match file.status.as_str() {
            "removed" => {}
            "unchanged" => {
                changes.covered.remove(&file.filename);
            }
            _ => changes.to_read.push(file.filename.clone()),
        }
        if file.status == "renamed"
            && let Some(old) = &file.previous_filename
        {
            changes.covered.insert(old.clone());
            changes.renames.insert(old.clone(), file.filename.clone());
        }
    }
    Ok(changes)
}

/// `Ok(Err(reason))` when the push needs a full sync after all.
async fn incremental(
    client: &Client,
    repo: &Repo,
    options: &SyncOptions,
    mut state: SyncState,
    head: &fetch::Head,
) -> Result<Result<PushSync, String>, SyncError> {
    let compare: Compare = client
        .get_json(&repo.route(&format!(
            "/compare/{}...{}",
            encode_path(&state.sha),
            encode_path(&head.sha)
        )))
        .await?;
    let Some(files) = compare.files else {
        return Ok(Err("the compare lists no files".to_string()));
    };
    let mut changes = match changes_from_compare(&compare.status, &files) {
        Ok(changes) => changes,
        Err(reason) => return Ok(Err(reason)),
    };

    // People close, relabel and edit issues between pushes: one listing of
    // what changed since the last one keeps the index true, and the files
    // of the items they touched are read again with the changed ones, so
    // the plan answers them (a person's close → `debt:wontfix`).
    let listed_since = chrono::Utc::now() - crate::LISTING_MARGIN;
    for json in fetch::tracked_since(client, repo, state.listed_since).await? {
        let Some(changed) = state.tracked.merge_listed(json) else {
            continue;
        };
        let path = changed
            .marker
            .as_ref()
            .and_then(|m| m.meta.as_ref())
            .map(|meta| meta.path.clone());
        if let Some(path) = path
            && state.files.contains_key(&path)
            && changes.covered.insert(path.clone())
        {
            changes.to_read.push(path);
        }
    }
    state.listed_since = listed_since;
    let (config, config_errors) = kept_config(options, &mut state);
    let settings = ScanSettings::from_config(&config);
    let (texts, attributes) =
        match file_texts(client, repo, &head.sha, &changes.to_read, &settings).await? {
            Ok(read) => read,
            Err(reason) => return Ok(Err(reason)),
        };
    let scan = scan_texts(texts, attributes, &settings, options.tarball_limits)
        .await
        .map_err(|e| match e {
            ScanTextsError::Tarball(source) => SyncError::Tarball {
                repo: repo.to_string(),
                sha: head.sha.clone(),
                source,
            },
            ScanTextsError::Join(e) => SyncError::Join(e),
        })?;

    let named = fetch::named_issues(&scan.annotations);
    fetch::add_named(client, repo, &mut state.tracked, &named).await?;

    for path in &changes.covered {
        state.files.remove(path);
    }
    state.files.extend(state::group_by_path(&scan.annotations));
    let all_annotations = state.annotations();
    let input = PlanInput {
        repo: RepoRef::new(repo.owner.clone(), repo.name.clone()),
        sha: head.sha.clone(),
        html_base: options.html_base.clone(),
        config,
        annotations: scan.annotations,
        coverage: Coverage::Paths(changes.covered.clone()),
        renames: changes.renames,
        issues: state.tracked.issues.clone(),
        pull_request: options.pull_request,
        first_seen: BTreeMap::new(),
        incident_counts: BTreeMap::new(),
        priorities: BTreeMap::new(),
        impact: None,
        today: options.today,
    };
    state.sha = head.sha.clone();
    state.complete = false;
    let finished = crate::plan_apply_and_show(
        client,
        repo,
        options,
        input,
        &config_errors,
        &mut state,
        Some(&all_annotations),
    )
    .await?;
    Ok(Ok(PushSync {
        outcome: SyncOutcome {
            repo: repo.to_string(),
            branch: head.branch.clone(),
            sha: head.sha.clone(),
            annotations: all_annotations.len(),
            files_scanned: scan.files_scanned,
            skipped: scan.skipped,
            config_errors,
            plan: finished.plan,
            applied: finished.applied,
            dashboard: finished.dashboard,
        },
        mode: SyncMode::Incremental {
            changed_files: files.len(),
        },
        state,
        state_changed: !options.dry_run,
    }))
}

/// A changed file's content, or why it is not read.
enum FileText {
    Text(String, Vec<u8>),
    Skipped(SkipReason),
}

/// The text of every changed file at `sha`, and the commit's
/// `.gitattributes` that can mark them (the root's and those of the
/// directories above them, as a full scan applies them), through
/// [`Client::files_at_with_optional`]: one GraphQL query per 100 files, a
/// contents read for a file GraphQL gives no text for.
async fn file_texts(
    client: &Client,
    repo: &Repo,
    sha: &str,
    paths: &[String],
    settings: &ScanSettings,
) -> Result<Result<(Vec<(String, FileText)>, Attributes), String>, GitHubError> {
    let mut asked = paths.to_vec();
    asked.extend(Attributes::files_above(paths.iter().map(String::as_str)));
    let mut found = client
        .files_at_with_optional(repo, sha, &asked, paths.len(), settings.max_file_bytes)
        .await?;
    let mut attributes = Attributes::default();
    for (path, read) in found.split_off(paths.len()) {
        match read {
            Ok(FileAt::Text(bytes)) => attributes.add(&path, &String::from_utf8_lossy(&bytes)),
            Ok(FileAt::Missing) => {}
            // A `.gitattributes` that cannot be read would scan files as
            // if unmarked: the whole tree is read instead.
            Ok(_) => return Ok(Err(format!("{path} cannot be read at {sha}"))),
            Err(e) => return Err(e),
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for (path, read) in found {
        let text = match read? {
            FileAt::Text(bytes) => FileText::Text(path.clone(), bytes.to_vec()),
            FileAt::Binary => FileText::Skipped(SkipReason::Binary),
            FileAt::TooLarge => FileText::Skipped(SkipReason::TooLarge),
            // The compare listed it at this commit, yet it cannot be read
            // (replication lag, an odd object): treating it as deleted
            // would close its items' issues, so the whole tree is read
            // instead.
            FileAt::Missing => return Ok(Err(format!("{path} cannot be read at {sha}"))),
        };
        out.push((path, text));
    }
    Ok(Ok((out, attributes)))
}

enum ScanTextsError {
    Tarball(paydown_scan::TarballError),
    Join(String),
}

/// Scans the changed files through the same path rules and limits as a
/// full sync's tarball, by packing them into a small tarball of GitHub's
/// layout: one code path decides what counts, whichever way files came.
async fn scan_texts(
    texts: Vec<(String, FileText)>,
    attributes: Attributes,
    settings: &ScanSettings,
    limits: TarballLimits,
) -> Result<ScanReport, ScanTextsError> {
    let mut skipped: BTreeMap<SkipReason, u64> = BTreeMap::new();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::none(),
    ));
    for (path, text) in texts {
        match text {
            FileText::Skipped(reason) => *skipped.entry(reason).or_default() += 1,
            FileText::Text(path_in_tar, bytes) => {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                if builder
                    .append_data(&mut header, format!("changed/{path_in_tar}"), &bytes[..])
                    .is_err()
                {
                    // A path tar cannot hold is one a tarball would not hold either.
                    tracing::debug!(%path, "changed file not packable; skipped");
                    *skipped.entry(SkipReason::UnsafeEntry).or_default() += 1;
                }
            }
        }
    }
    let packed = builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .map_err(|e| ScanTextsError::Tarball(e.into()))?;
    let settings = settings.clone();
    let mut report = tokio::task::spawn_blocking(move || {
        scan_tarball_with_attributes(&packed[..], &settings, limits, attributes)
    })
    .await
    .map_err(|e| ScanTextsError::Join(e.to_string()))?
    .map_err(ScanTextsError::Tarball)?;
    for (reason, n) in skipped {
        *report.skipped.entry(reason).or_default() += n;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, status: &str, previous: Option<&str>) -> CompareFile {
        CompareFile {
            filename: name.into(),
            status: status.into(),
            previous_filename: previous.map(str::to_string),
        }
    }

    #[test]
    fn a_fast_forward_reads_changed_files_and_covers_removed_and_renamed_ones() {
        let changes = changes_from_compare(
            "ahead",
            &[
                file("src/a.rs", "modified", None),
                file("src/b.rs", "removed", None),
                file("src/new.rs", "renamed", Some("src/old.rs")),
            ],
        )
        .unwrap();
        assert_eq!(changes.to_read, ["src/a.rs", "src/new.rs"]);
        assert_eq!(
            changes.covered.iter().collect::<Vec<_>>(),
            ["src/a.rs", "src/b.rs", "src/new.rs", "src/old.rs"]
        );
        assert_eq!(changes.renames["src/old.rs"], "src/new.rs");
    }

    #[test]
    fn force_pushes_config_changes_and_cut_diffs_need_a_full_sync() {
        assert!(changes_from_compare("diverged", &[]).is_err());
        // new linguist marks may concern files the push did not touch:
        assert!(
            changes_from_compare("ahead", &[file("lib/.gitattributes", "added", None)]).is_err()
        );
        assert!(
            changes_from_compare(
                "ahead",
                &[file("x/attrs", "renamed", Some(".gitattributes"))]
            )
            .is_err()
        );
        assert!(
            changes_from_compare("ahead", &[file(".github/paydown.yml", "modified", None)])
                .is_err()
        );
        let many: Vec<CompareFile> = (0..COMPARE_FILE_CAP)
            .map(|i| file(&format!("f{i}.rs"), "added", None))
            .collect();
        assert!(changes_from_compare("ahead", &many).is_err());
    }

    fn state(sha: &str, complete: bool) -> SyncState {
        SyncState {
            version: state::STATE_VERSION,
            sha: sha.into(),
            config_text: None,
            config_errors: Vec::new(),
            listed_since: chrono::DateTime::default(),
            complete,
            tracked: fetch::Tracked::default(),
            files: BTreeMap::new(),
        }
    }

    #[test]
    fn only_a_push_from_the_synced_commit_after_a_complete_run_is_incremental() {
        let head = fetch::Head {
            branch: "main".into(),
            sha: "b".into(),
        };
        let synced = state("a", true);
        assert_eq!(
            decide(Some(&synced), Some("a"), Some(&head)),
            Decision::Incremental
        );
        // a sync that is not a push (after a merge) goes from the synced commit,
        assert_eq!(
            decide(Some(&synced), None, Some(&head)),
            Decision::Incremental
        );
        // a redelivery of the push already synced, or a merge's sync after its push,
        assert_eq!(
            decide(Some(&state("b", true)), Some("a"), Some(&head)),
            Decision::UpToDate
        );
        assert_eq!(
            decide(Some(&state("b", true)), None, Some(&head)),
            Decision::UpToDate
        );
        // a force push or a missed push, an unfinished run, no state, no push:
        for decision in [
            decide(Some(&synced), Some("x"), Some(&head)),
            decide(Some(&state("a", false)), Some("a"), Some(&head)),
            decide(None, Some("a"), Some(&head)),
            decide(Some(&synced), None, None),
        ] {
            assert!(matches!(decision, Decision::Full(_)), "{decision:?}");
        }
    }
}
