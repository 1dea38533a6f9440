//! The `.github/paydown.yml` configuration: typed sections with documented
//! defaults, loading with every error reported as `file:line:column: message`,
//! and the commented template `paydown init` writes.
//!
//! ```
//! let config = paydown_config::parse("sprints:\n  debt_share: 0.3\n", "paydown.yml").unwrap();
//! assert_eq!(config.sprints.debt_share, 0.3);
//! assert_eq!(config.commands.prefix, "/debt");
//! ```

mod model;
mod schema;
mod template;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use model::{
    Annotations, Cadence, CheckMode, Commands, Config, DEFAULT_VENDORED, Dashboard, Drift,
    Incidents, Issues, MetadataField, Paths, Permission, Priority, Severity, Spike, SprintSource,
    Sprints, Thresholds, TimeZone, Work,
};

/// Where the configuration lives in a repository.
pub const DEFAULT_PATH: &str = ".github/paydown.yml";

/// Also accepted when [`DEFAULT_PATH`] is absent.
const ALTERNATE_PATH: &str = ".github/paydown.yaml";

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file name used in messages.
    pub origin: String,
    /// 1-based line; 0 when the error is about the whole file (e.g. unreadable).
    pub line: usize,
    /// 1-based column (in characters); 0 when `line` is 0.
    pub column: usize,
    /// What is wrong, in plain language.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.origin, self.line, self.column, self.message
            )
        }
    }
}

/// Every problem found in a configuration file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems; never empty.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parses and validates configuration text. `origin` names the file in messages.
/// An empty file, or one with only comments, gives `Config::default()`.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigErrors> {
    validate::validate(text).map_err(|errors| ConfigErrors {
        errors: errors
            .into_iter()
            .map(|(pos, message)| ConfigError {
                origin: origin.to_string(),
                line: pos.line,
                column: pos.column,
                message,
            })
            .collect(),
    })
}

/// Reads and parses a configuration file; a read failure is one error naming the path.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    let origin = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => parse(&text, &origin),
            Err(e) => Err(whole_file(
                origin,
                format!(
                    "the file is not valid UTF-8 (at byte {})",
                    e.utf8_error().valid_up_to()
                ),
            )),
        },
        Err(e) => Err(whole_file(origin, format!("cannot read the file: {e}"))),
    }
}

fn whole_file(origin: String, message: String) -> ConfigErrors {
    ConfigErrors {
        errors: vec![ConfigError {
            origin,
            line: 0,
            column: 0,
            message,
        }],
    }
}

/// The configuration file under `root`: `.github/paydown.yml`, else `.github/paydown.yaml`.
pub fn find_config(root: &Path) -> Option<PathBuf> {
    [DEFAULT_PATH, ALTERNATE_PATH]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
}

/// Whether `c` may start a command prefix: ASCII punctuation (`/debt`,
/// `!debt`), but not `@`, which starts the mention form (`@app verb`).
/// The App skips comments with no line starting so before it reads the
/// config, so `commands.prefix` is held to the same rule.
pub fn starts_command(c: char) -> bool {
    c.is_ascii_punctuation() && c != '@'
}

/// The file `paydown init` writes: every key with its default and a one-line
/// explanation. Parsing it gives `Config::default()`.
pub fn init_template() -> String {
    template::render()
}
