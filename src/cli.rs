//! The command-line surface: `paydown scan`, `paydown config check`,
//! `paydown init`, `paydown sync`, `paydown serve`, `paydown action`, `paydown report`. Each command is a thin layer over the
//! library: parse arguments, call the shared code, choose an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use paydown_config::Config;

use crate::output;
use paydown_scan::{Progress, ScanReport, ScanSettings};

/// Exit code for usage and configuration errors (clap uses it too).
const EXIT_USAGE: u8 = 2;
/// Exit code when `--fail-on` matched, or some sync effects failed.
const EXIT_FAIL_ON: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "paydown",
    version,
    about = "Technical debt made visible; debt capacity protected."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan files and directories for debt annotations.
    Scan(ScanArgs),
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a commented .github/paydown.yml with every default.
    Init(InitArgs),
    /// Reconcile a repository's debt issues with its default branch
    /// (needs GITHUB_TOKEN).
    Sync(SyncArgs),
    /// Run the GitHub App: receive webhooks, queue them durably, process them.
    Serve(Box<paydown_server::ServeArgs>),
    /// Run as a GitHub Action step (reads GITHUB_* and INPUT_* variables).
    Action,
    /// Print a repository's sprint ledger (debt vs feature points per
    /// sprint) from the GitHub API alone (needs GITHUB_TOKEN).
    Report(ReportArgs),
    /// Inspect the server's delivery queue: list dead and waiting
    /// deliveries, retry or drop one.
    Queue(crate::queue_cli::QueueArgs),
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The repository, as OWNER/REPO.
    repo: String,
    /// How many sprints, the current one included.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=520))]
    sprints: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// The account whose hidden records count, e.g. `paydown[bot]` (the
    /// App) or `github-actions[bot]` (the Action). Without it, records
    /// from any bot account count, including other Apps that may echo
    /// user text.
    #[arg(long, value_name = "LOGIN")]
    bot_login: Option<String>,
    /// Instead of the ledger, rank the debt items by impact (incident
    /// issues, score, why, hot), as the dashboard does.
    #[arg(long)]
    incidents: bool,
    #[command(flatten)]
    token: TokenArg,
}

/// `--token`, else `GITHUB_TOKEN`: the commands that talk to GitHub.
#[derive(Debug, clap::Args)]
struct TokenArg {
    /// Token for the GitHub API.
    #[arg(
        long,
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
}

impl TokenArg {
    /// The token, or an error telling `command`'s user how to give one.
    fn require(self, command: &str) -> anyhow::Result<String> {
        self.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            anyhow::anyhow!("paydown {command} needs a token: set GITHUB_TOKEN (or pass --token)")
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
struct SyncArgs {
    /// The repository, as OWNER/REPO.
    repo: String,
    /// Print the plan without changing anything on GitHub.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    #[command(flatten)]
    token: TokenArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct ScanArgs {
    /// Files or directories to scan (default: the current directory).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with 1 when annotations with these keywords exist
    /// (comma-separated, or `any`).
    #[arg(long, value_delimiter = ',', value_name = "KEYWORDS")]
    fail_on: Vec<String>,
    /// Config file (default: .github/paydown.yml under the first path).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// No summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
    Csv,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a config file; exits 2 with file:line:column errors.
    Check {
        /// The file (default: .github/paydown.yml).
        path: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Where to write (default: .github/paydown.yml).
    #[arg(long, default_value = paydown_config::DEFAULT_PATH)]
    path: PathBuf,
    /// Print to stdout instead of writing a file.
    #[arg(long)]
    stdout: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

/// Runs the command line; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Config(ConfigCommand::Check { path }) => run_config_check(path),
        Command::Init(args) => run_init(args),
        Command::Sync(args) => run_sync(args),
        Command::Serve(args) => run_serve(*args),
        Command::Action => run_action(),
        Command::Report(args) => run_report(args),
        Command::Queue(args) => crate::queue_cli::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprint!("{}", error_report(&error));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `error` as the user sees it: its own message on the first line (the line
/// scripts and tests match), then each underlying cause the message does not
/// already quote — many errors spell their source inline, and repeating it
/// would only add noise.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut text = format!("paydown: {error}\n");
    let mut shown = error.to_string();
    for cause in error.chain().skip(1) {
        let line = cause.to_string();
        if !shown.contains(&line) {
            text.push_str(&format!("  caused by: {line}\n"));
        }
        shown = line;
    }
    text
}

/// The config for a scan: `--config`, else `.github/paydown.yml` found from
/// the scanned root, else defaults.
fn load_config(explicit: Option<&Path>, root: &Path) -> anyhow::Result<Config> {
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => paydown_config::find_config(root),
    };
    match path {
        Some(path) => Ok(paydown_config::load_file(&path)?),
        None => Ok(Config::default()),
    }
}

fn run_scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for root in &roots {
        if !root.exists() {
            return Err(anyhow::anyhow!(
                "{}: no such file or directory",
                root.display()
            ));
        }
    }
    // Paths are reported relative to a single directory argument (as a
    // repository-relative path), otherwise as given.
    let base = match roots.as_slice() {
        [only] if only.is_dir() => only.clone(),
        _ => PathBuf::new(),
    };
    let config_root = if roots[0].is_dir() {
        roots[0].clone()
    } else {
        PathBuf::from(".")
    };
    let config = load_config(args.config.as_deref(), &config_root)?;
    let options = ScanSettings::from_config(&config);

    let bar = TerminalProgress::new();
    let report = paydown_scan::scan_paths(&roots, &base, &options, &bar)?;
    bar.finish();

    let rendered = match args.format {
        Format::Text => output::text(&report),
        Format::Json => output::json(&report),
        Format::Sarif => output::sarif(&report, &config.annotations),
        Format::Markdown => output::markdown(&report),
        Format::Csv => output::csv(&report),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`paydown scan | head`) is not an error worth a message.
    let _ = stdout.write_all(rendered.as_bytes());
    let _ = stdout.flush();
    if !args.quiet {
        eprintln!("{}", output::summary(&report));
    }
    Ok(if fail_on_matches(&args.fail_on, &report) {
        ExitCode::from(EXIT_FAIL_ON)
    } else {
        ExitCode::SUCCESS
    })
}

fn fail_on_matches(fail_on: &[String], report: &ScanReport) -> bool {
    report.annotations.iter().any(|a| {
        fail_on
            .iter()
            .any(|k| k.eq_ignore_ascii_case("any") || *k == a.keyword)
    })
}

fn run_config_check(path: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let path = path.unwrap_or_else(|| PathBuf::from(paydown_config::DEFAULT_PATH));
    match paydown_config::load_file(&path) {
        Ok(_) => {
            println!("{}: ok", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}

fn run_init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let template = paydown_config::init_template();
    if args.stdout {
        print!("{template}");
        return Ok(ExitCode::SUCCESS);
    }
    if args.path.exists() && !args.force {
        return Err(anyhow::anyhow!(
            "{} already exists; use --force to overwrite or --stdout to print",
            args.path.display()
        ));
    }
    if let Some(dir) = args.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&args.path, template)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.path.display()))?;
    println!("wrote {}", args.path.display());
    Ok(ExitCode::SUCCESS)
}

fn run_sync(args: SyncArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.require("sync")?;
    let repo = paydown_github::Repo::parse(&args.repo)?;
    let api_base = paydown_github::api_base_from_env();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    // The client's HTTP stack needs the runtime already when it is built.
    let (outcome, stats) = runtime.block_on(async {
        let client = paydown_github::Client::from_token(&api_base, token)?
            // Paced like the App's writes (docs/reliability.md): a first
            // import stays within GitHub's content limits.
            .with_pacer(paydown_github::pacing::LocalPacer::from_env()?);
        // The head and the config are read once, for the sync and for the
        // dashboard's sprint budget.
        let head = paydown_sync::fetch::default_branch_head(&client, &repo).await?;
        let (config, config_errors) =
            paydown_sync::fetch::config_at(&client, &repo, &head.sha).await?;
        let dashboard = paydown_app::DashboardInput {
            config: &config,
            freshness: paydown_app::Freshness::Current,
        };
        let options = paydown_sync::SyncOptions {
            dry_run: args.dry_run,
            head: Some(head),
            config: Some(config.clone()),
            config_errors,
            ..paydown_sync::SyncOptions::for_api(&api_base)
        };
        // The CLI keeps nothing between runs: the ledger comes from the API.
        let outcome = paydown_app::sync_with_dashboard(
            &client,
            &repo,
            dashboard,
            &paydown_app::ApiRecords,
            options,
            None,
            None,
        )
        .await?
        .outcome;
        Ok::<_, anyhow::Error>((outcome, client.stats().snapshot()))
    })?;
    match args.format {
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        PlanFormat::Text => print!("{}", output::sync_text(&outcome)),
    }
    eprintln!("GitHub API requests: {}", stats.requests);
    let failed = outcome
        .applied
        .as_ref()
        .is_some_and(|a| !a.failures.is_empty());
    Ok(if failed {
        ExitCode::from(EXIT_FAIL_ON)
    } else {
        ExitCode::SUCCESS
    })
}

/// `paydown report`: the config at the default branch's head, the merged
/// PRs and the bot's records of the last `--sprints` sprints, rendered by
/// `paydown_ledger` — the same ledger the App keeps, without the App.
fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    if args.incidents {
        return run_incident_report(args);
    }
    let token = args.token.require("report")?;
    let repo = paydown_github::Repo::parse(&args.repo)?;
    let api_base = paydown_github::api_base_from_env();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    let format = match args.format {
        ReportFormat::Text => paydown_budgets::ReportFormat::Text,
        ReportFormat::Json => paydown_budgets::ReportFormat::Json,
        ReportFormat::Markdown => paydown_budgets::ReportFormat::Markdown,
    };
    let (text, config_errors, stats) = runtime.block_on(async {
        let identity = match &args.bot_login {
            Some(login) => paydown_github::BotIdentity::login(login.as_str()),
            None => paydown_github::BotIdentity::any_bot(),
        };
        let client = paydown_github::Client::from_token(&api_base, token)?.with_identity(identity);
        let head = paydown_sync::fetch::default_branch_head(&client, &repo).await?;
        let (config, errors) = paydown_sync::fetch::config_at(&client, &repo, &head.sha).await?;
        let text =
            paydown_budgets::report_now(&client, &repo, &config, args.sprints, format).await?;
        Ok::<_, anyhow::Error>((text, errors, client.stats().snapshot()))
    })?;
    for error in &config_errors {
        eprintln!(
            "warning: {}: {error} (defaults used)",
            paydown_config::DEFAULT_PATH
        );
    }
    print!("{text}");
    eprintln!("GitHub API requests: {}", stats.requests);
    Ok(ExitCode::SUCCESS)
}

/// `paydown report --incidents`: the default branch scanned (as `paydown
/// sync --dry-run` does), its debt issues, and the incident issues of the
/// repository and of `incidents.repositories`, ranked by
/// `paydown_reconcile::impact` — the App's ranking from the API alone.
/// PagerDuty and generic incidents live only in the App's store.
fn run_incident_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.require("report")?;
    let repo = paydown_github::Repo::parse(&args.repo)?;
    let api_base = paydown_github::api_base_from_env();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    let (report, warnings, stats) = runtime.block_on(async {
        let client = paydown_github::Client::from_token(&api_base, token)?;
        let head = paydown_sync::fetch::default_branch_head(&client, &repo).await?;
        let (config, mut warnings) =
            paydown_sync::fetch::config_at(&client, &repo, &head.sha).await?;
        for w in &mut warnings {
            *w = format!("{}: {w} (defaults used)", paydown_config::DEFAULT_PATH);
        }
        let scan = paydown_sync::fetch::scan_commit(
            &client,
            &repo,
            &head.sha,
            &config,
            paydown_scan::TarballLimits::default(),
        )
        .await?;
        let named = paydown_sync::fetch::named_issues(&scan.annotations);
        let tracked = paydown_sync::fetch::tracked_issues(&client, &repo, &named).await?;
        let (incidents, skipped) =
            paydown_sync::fetch::incident_issues(&client, &repo, &config).await?;
        warnings.extend(skipped);
        let now = chrono::Utc::now();
        let mut input = paydown_reconcile::PlanInput::new(
            paydown_reconcile::RepoRef::new(repo.owner.clone(), repo.name.clone()),
            &head.sha,
            config,
            now.date_naive(),
        );
        input.annotations = scan.annotations;
        input.issues = tracked.issues;
        let report = output::impact_report(&input, &incidents, now);
        Ok::<_, anyhow::Error>((report, warnings, client.stats().snapshot()))
    })?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    print!(
        "{}",
        match args.format {
            ReportFormat::Text => output::impact_text(&report),
            ReportFormat::Json => output::impact_json(&report),
            ReportFormat::Markdown => output::impact_markdown(&report),
        }
    );
    eprintln!("GitHub API requests: {}", stats.requests);
    Ok(ExitCode::SUCCESS)
}

fn run_action() -> anyhow::Result<ExitCode> {
    use crate::action;
    // Warnings (a file the review could not read, a refused write) belong
    // in the step's log.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let env = action::ActionEnv::from_vars(|k| std::env::var(k).ok())?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    let report = runtime.block_on(action::run(&env))?;
    for line in &report.annotations {
        println!("{line}");
    }
    if let Some(path) = &env.output_path {
        action::append(path, "outputs", &report.outputs())?;
    }
    match &env.summary_path {
        Some(path) => action::append(path, "the job summary", &report.summary)?,
        None => print!("{}", report.summary),
    }
    Ok(if report.failed || report.fails(env.inputs.fail_on) {
        ExitCode::from(EXIT_FAIL_ON)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_serve(args: paydown_server::ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start tokio: {e}"))?;
    runtime.block_on(paydown_server::serve(args))?;
    Ok(ExitCode::SUCCESS)
}

/// A spinner with a file count on stderr, only when stderr is a terminal.
struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl TerminalProgress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} scanning: {pos} files ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn file_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_report;

    #[derive(Debug, thiserror::Error)]
    #[error("the GitHub API refused the request")]
    struct Refused(#[source] std::io::Error);

    #[test]
    fn given_an_error_with_a_source_when_reported_then_the_cause_follows_the_first_line() {
        // given: an error whose message does not quote its source
        let error = anyhow::Error::new(Refused(std::io::Error::other("connection reset")));
        // when
        let text = error_report(&error);
        // then: the first line is unchanged and the cause is not lost
        assert_eq!(
            text,
            "paydown: the GitHub API refused the request\n  caused by: connection reset\n"
        );
    }

    #[test]
    fn given_an_error_quoting_its_source_when_reported_then_the_cause_is_not_repeated() {
        // given
        let error = anyhow::Error::new(std::io::Error::other("disk full"))
            .context("cannot write out.txt: disk full");
        // when / then
        assert_eq!(
            error_report(&error),
            "paydown: cannot write out.txt: disk full\n"
        );
    }
}
