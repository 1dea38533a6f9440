//! Validation: walks the position-marked YAML tree against [`crate::schema`],
//! collecting every error with its position, and builds a JSON value of the
//! valid parts that serde turns into [`Config`]. Cross-key rules (cadence vs
//! milestones, keywords named in `severity`/`require`, window sizes, labels in
//! two classes) run on the typed result.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Value};

use crate::model::{Annotations, Config, SprintSource, TimeZone};
use crate::schema::{self, Field, Kind};

/// A 1-based position in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

const START: Pos = Pos { line: 1, column: 1 };

/// Result of validation: the config when there were no errors, else every error.
pub(crate) fn validate(text: &str) -> Result<Config, Vec<(Pos, String)>> {
    // A byte-order mark is legal at the start of a YAML stream but not useful here;
    // removing it keeps first-line columns right.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut untabbed = None;
    let docs = match load(text) {
        Ok(docs) => docs,
        Err(Load::TooDeep(pos)) => return Err(vec![too_deep(pos)]),
        Err(Load::Syntax(e)) => {
            // YAML forbids tabs in indentation, but a file indented with tabs only
            // is unambiguous, so it is read as if each tab were two spaces.
            untabbed = expand_tab_indentation(text);
            let Some((expanded, tabs)) = &untabbed else {
                return Err(vec![syntax_error(text, &e, None)]);
            };
            match load(expanded) {
                Ok(docs) => docs,
                Err(Load::Syntax(e)) => return Err(vec![syntax_error(text, &e, Some(tabs))]),
                Err(Load::TooDeep(pos)) => return Err(vec![too_deep(original_pos(pos, tabs))]),
            }
        }
    };
    let tabs = untabbed.as_ref().map(|(_, tabs)| tabs.as_slice());
    let result = walk_documents(&docs);
    result.map_err(|errors| match tabs {
        Some(tabs) => errors
            .into_iter()
            .map(|(p, m)| (original_pos(p, tabs), m))
            .collect(),
        None => errors,
    })
}

/// Deepest nesting of collections a config may have; the real schema needs
/// three. saphyr builds its tree recursively, so a document nested tens of
/// thousands deep (`- - - - …` on one line) would overflow the stack.
const MAX_DEPTH: usize = 64;

enum Load {
    Syntax(saphyr::ScanError),
    TooDeep(Pos),
}

/// The documents of `text`, after checking with saphyr's event parser (a
/// state machine, no recursion) that no collection nests deeper than
/// [`MAX_DEPTH`]. A syntax error is left to the loader, which reports it
/// at the same place: the events before it were within the limit.
fn load(text: &str) -> Result<Vec<MarkedYaml<'_>>, Load> {
    let mut depth = 0usize;
    for event in saphyr_parser::Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        match event {
            saphyr_parser::Event::SequenceStart(..) | saphyr_parser::Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Load::TooDeep(Pos {
                        line: span.start.line().max(1),
                        column: span.start.col() + 1,
                    }));
                }
            }
            saphyr_parser::Event::SequenceEnd | saphyr_parser::Event::MappingEnd => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    MarkedYaml::load_from_str(text).map_err(Load::Syntax)
}

fn too_deep(pos: Pos) -> (Pos, String) {
    (
        pos,
        format!("YAML nests deeper than {MAX_DEPTH} levels; a paydown config needs far fewer"),
    )
}

/// Leading tabs become two spaces each, when no line mixes tabs and spaces in
/// its indentation. Returns the new text and the tab count of each line.
fn expand_tab_indentation(text: &str) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut tabs = Vec::new();
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let (lead, rest) = line.split_at(indent);
        let n = lead.matches('\t').count();
        if n > 0 && n != lead.len() {
            return None;
        }
        out.push_str(&"  ".repeat(n));
        out.push_str(rest);
        tabs.push(n);
    }
    tabs.iter().any(|n| *n > 0).then_some((out, tabs))
}

/// Maps a position in the tab-expanded text back to the original line.
fn original_pos(p: Pos, tabs: &[usize]) -> Pos {
    let n = tabs.get(p.line - 1).copied().unwrap_or(0);
    let column = if p.column > 2 * n {
        p.column - n
    } else {
        (p.column - 1) / 2 + 1
    };
    Pos { column, ..p }
}

fn walk_documents(docs: &[MarkedYaml]) -> Result<Config, Vec<(Pos, String)>> {
    let mut walk = Walk::default();
    if let Some(extra) = docs.get(1) {
        walk.error(
            pos(extra),
            "only one YAML document is allowed; remove the second `---` section".into(),
        );
    }
    let root = match docs.first() {
        Some(doc) => walk.section(doc, schema::ROOT, ""),
        None => Some(Value::Object(Map::new())),
    };
    let config = match root.map(serde_json::from_value::<Config>) {
        Some(Ok(mut config)) => {
            if walk.keys.contains_key("annotations.severity") {
                // Severity is a lookup table: the file overrides entries, it doesn't
                // silently drop the built-in ones (FIXME stays high unless changed).
                for (k, v) in Annotations::default().severity {
                    config.annotations.severity.entry(k).or_insert(v);
                }
            }
            Some(config)
        }
        Some(Err(e)) => {
            // Validation accepted something serde rejects: a schema/model mismatch
            // (the template and truncation tests guard against it).
            walk.error(
                START,
                format!("internal error: validated config did not convert: {e}"),
            );
            None
        }
        None => None,
    };
    if let Some(config) = &config {
        walk.cross_checks(config);
    }
    match config {
        Some(config) if walk.errors.is_empty() => Ok(config),
        _ => {
            let mut errors = walk.errors;
            errors.sort_by_key(|(p, _)| *p);
            Err(errors)
        }
    }
}

/// A scanner error at its position in `text` (mapped back through tab expansion).
fn syntax_error(text: &str, e: &saphyr::ScanError, tabs: Option<&[usize]>) -> (Pos, String) {
    let m = e.marker();
    let mut pos = Pos {
        line: m.line().max(1),
        column: m.col() + 1,
    };
    if let Some(tabs) = tabs {
        pos = original_pos(pos, tabs);
    }
    let line = text.lines().nth(pos.line - 1).unwrap_or("");
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let info = e.info();
    let message = if indent.contains('\t') && indent.contains(' ') {
        format!(
            "YAML syntax error: {info} (this line's indentation mixes tabs and spaces; use spaces)"
        )
    } else {
        format!("YAML syntax error: {info}")
    };
    (pos, message)
}

fn pos(node: &MarkedYaml) -> Pos {
    Pos {
        line: node.span.start.line().max(1),
        column: node.span.start.col() + 1,
    }
}

/// The node's data with tags looked through (`!!str x` is just `x` here).
fn data<'a, 'i>(mut node: &'a MarkedYaml<'i>) -> &'a YamlData<'i, MarkedYaml<'i>> {
    while let YamlData::Tagged(_, inner) = &node.data {
        node = inner;
    }
    &node.data
}

fn scalar<'a, 'i>(node: &'a MarkedYaml<'i>) -> Option<&'a Scalar<'i>> {
    match data(node) {
        YamlData::Value(s) => Some(s),
        _ => None,
    }
}

fn is_null(node: &MarkedYaml) -> bool {
    matches!(scalar(node), Some(Scalar::Null))
}

/// "a string (\"abc\")", "a list", … for "found …" messages.
fn found(node: &MarkedYaml) -> String {
    match data(node) {
        YamlData::Value(Scalar::Null) => "nothing (an empty value)".into(),
        YamlData::Value(Scalar::Boolean(b)) => format!("a boolean ({b})"),
        YamlData::Value(Scalar::Integer(i)) => format!("a number ({i})"),
        YamlData::Value(Scalar::FloatingPoint(f)) => format!("a number ({})", f.into_inner()),
        YamlData::Value(Scalar::String(s)) => format!("a string ({})", quote(s)),
        YamlData::Sequence(_) => "a list".into(),
        YamlData::Mapping(_) => "a mapping".into(),
        _ => "an unreadable value".into(),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| s.to_string())
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Closest candidate to `word`, if close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d * 3 <= word.chars().count().max(c.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[derive(Default)]
struct Walk {
    errors: Vec<(Pos, String)>,
    /// Position of each key written in the file, by dotted path.
    keys: HashMap<String, Pos>,
    /// Position of each value (list items as `path[i]`), by dotted path.
    values: HashMap<String, Pos>,
    /// Paths with an error, so cross checks don't pile on.
    bad: HashSet<String>,
}

impl Walk {
    fn error(&mut self, pos: Pos, message: String) {
        self.errors.push((pos, message));
    }

    fn fail(&mut self, node: &MarkedYaml, path: &str, message: String) -> Option<Value> {
        self.bad.insert(path.to_string());
        self.error(pos(node), message);
        None
    }

    fn type_error(&mut self, node: &MarkedYaml, path: &str, kind: &Kind) -> Option<Value> {
        let mut message = format!(
            "`{path}`: expected {}, found {}",
            kind.expected(),
            found(node)
        );
        match (kind, scalar(node)) {
            (Kind::List { .. }, Some(Scalar::String(s))) => {
                message.push_str(&format!("; write [{s}] for a list of one"));
            }
            (
                Kind::Str { .. } | Kind::Token | Kind::Label | Kind::Keyword | Kind::Glob,
                Some(s),
            ) if !matches!(s, Scalar::Null | Scalar::String(_)) => {
                message.push_str("; put it in quotes to use it as text");
            }
            (Kind::Bool, Some(Scalar::String(s)))
                if ["yes", "no", "on", "off", "y", "n"].contains(&s.to_lowercase().as_str()) =>
            {
                message.push_str("; write true or false");
            }
            _ => {}
        }
        self.fail(node, path, message)
    }

    /// Validates the keys of a section mapping; `null` (a section with every key
    /// commented out) means all defaults.
    fn section(&mut self, node: &MarkedYaml, fields: &[Field], path: &str) -> Option<Value> {
        if is_null(node) {
            return Some(Value::Object(Map::new()));
        }
        let YamlData::Mapping(map) = data(node) else {
            let message = if path.is_empty() {
                format!(
                    "the top level must be a mapping of sections like `issues:`, found {}",
                    found(node)
                )
            } else {
                format!(
                    "`{path}`: expected a mapping of keys, found {}",
                    found(node)
                )
            };
            return self.fail(node, path, message);
        };
        let mut out = Map::new();
        for (k, v) in map {
            let Some(Scalar::String(key)) = scalar(k) else {
                self.error(
                    pos(k),
                    format!("{}: keys must be names, found {}", where_(path), found(k)),
                );
                continue;
            };
            let Some(field) = fields.iter().find(|f| f.key == key.as_ref()) else {
                let message = unknown_key_message(key, fields, path);
                self.error(pos(k), message);
                continue;
            };
            let sub = join(path, field.key);
            self.keys.insert(sub.clone(), pos(k));
            if let Some(value) = self.value(v, &field.kind, &sub) {
                out.insert(field.key.to_string(), value);
            }
        }
        Some(Value::Object(out))
    }

    fn value(&mut self, node: &MarkedYaml, kind: &Kind, path: &str) -> Option<Value> {
        self.values.insert(path.to_string(), pos(node));
        let s = scalar(node);
        match kind {
            Kind::Optional(inner) => {
                if is_null(node) {
                    Some(Value::Null)
                } else {
                    self.value(node, inner, path)
                }
            }
            Kind::Section(fields) => self.section(node, fields, path),
            Kind::Toggle(fields) => match s {
                Some(Scalar::Boolean(b)) => {
                    let mut m = Map::new();
                    m.insert("enabled".into(), Value::Bool(*b));
                    Some(Value::Object(m))
                }
                _ if matches!(data(node), YamlData::Mapping(_)) || is_null(node) => {
                    self.section(node, fields, path)
                }
                _ => self.type_error(node, path, kind),
            },
            Kind::Bool => match s {
                Some(Scalar::Boolean(b)) => Some(Value::Bool(*b)),
                _ => self.type_error(node, path, kind),
            },
            Kind::Int { min, max } => {
                let n = match s {
                    Some(Scalar::Integer(i)) => *i,
                    Some(Scalar::FloatingPoint(f))
                        if f.into_inner().fract() == 0.0 && f.into_inner().abs() < 1e15 =>
                    {
                        f.into_inner() as i64
                    }
                    Some(Scalar::FloatingPoint(f)) if f.into_inner().is_finite() => {
                        let msg = format!(
                            "`{path}`: expected a whole number from {min} to {max}, found {}",
                            f.into_inner()
                        );
                        return self.fail(node, path, msg);
                    }
                    _ => return self.type_error(node, path, kind),
                };
                if n < *min || n > *max {
                    let msg = format!(
                        "`{path}`: {n} is out of range; expected a whole number from {min} to {max}"
                    );
                    return self.fail(node, path, msg);
                }
                Some(Value::from(n))
            }
            Kind::Float { min, max } => {
                let x = match s {
                    Some(Scalar::Integer(i)) => *i as f64,
                    Some(Scalar::FloatingPoint(f)) if f.into_inner().is_finite() => f.into_inner(),
                    _ => return self.type_error(node, path, kind),
                };
                if x < *min || x > *max {
                    let msg = format!(
                        "`{path}`: {x} is out of range; expected a number from {min} to {max}"
                    );
                    return self.fail(node, path, msg);
                }
                serde_json::Number::from_f64(x).map(Value::Number)
            }
            Kind::Str { .. }
            | Kind::Token
            | Kind::Label
            | Kind::Keyword
            | Kind::Glob
            | Kind::Date
            | Kind::TimeZone
            | Kind::Repository
            | Kind::TierNumber
            | Kind::Enum(_) => {
                let Some(Scalar::String(text)) = s else {
                    return self.type_error(node, path, kind);
                };
                match check_text(text, kind) {
                    Ok(()) => Some(Value::String(text.to_string())),
                    Err(problem) => self.fail(node, path, format!("`{path}`: {problem}")),
                }
            }
            Kind::List { item, min_len } => {
                let YamlData::Sequence(items) = data(node) else {
                    return self.type_error(node, path, kind);
                };
                let mut out = Vec::new();
                let mut seen = HashSet::new();
                let mut ok = true;
                for (i, it) in items.iter().enumerate() {
                    let sub = format!("{path}[{i}]");
                    match self.value(it, item, &sub) {
                        Some(v) => {
                            if !seen.insert(v.to_string()) {
                                self.error(pos(it), format!("`{path}`: {v} is listed twice"));
                                ok = false;
                            }
                            out.push(v);
                        }
                        None => ok = false,
                    }
                }
                if ok && out.len() < *min_len {
                    let msg = format!("`{path}`: the list must have at least {min_len} item(s)");
                    return self.fail(node, path, msg);
                }
                if !ok {
                    self.bad.insert(path.to_string());
                }
                Some(Value::Array(out))
            }
            Kind::Map { key, value } => {
                if is_null(node) {
                    return Some(Value::Object(Map::new()));
                }
                let YamlData::Mapping(map) = data(node) else {
                    return self.type_error(node, path, kind);
                };
                let mut out = Map::new();
                for (k, v) in map {
                    let name = match scalar(k) {
                        Some(Scalar::String(t)) => t.to_string(),
                        Some(Scalar::Integer(i)) => i.to_string(),
                        Some(Scalar::FloatingPoint(f)) => f.into_inner().to_string(),
                        Some(Scalar::Boolean(b)) => b.to_string(),
                        _ => {
                            self.error(
                                pos(k),
                                format!("`{path}`: keys must be names, found {}", found(k)),
                            );
                            continue;
                        }
                    };
                    let sub = format!("{path}.{name}");
                    self.keys.insert(sub.clone(), pos(k));
                    if let Err(problem) = check_text(&name, key) {
                        self.bad.insert(path.to_string());
                        self.error(pos(k), format!("`{path}`: {problem}"));
                        continue;
                    }
                    if let Some(v) = self.value(v, value, &sub) {
                        out.insert(name, v);
                    }
                }
                Some(Value::Object(out))
            }
        }
    }

    fn cross_checks(&mut self, config: &Config) {
        // `source: milestones` with a cadence: the spec says one or the other.
        if config.sprints.source == SprintSource::Milestones
            && let Some(p) = self.keys.get("sprints.cadence").copied()
        {
            self.error(
                p,
                "`sprints`: `cadence` and `source: milestones` are both set; keep one \
                     (remove `cadence` to use milestones, or remove `source: milestones`)"
                    .into(),
            );
        }

        // Keywords named in severity/require must be configured keywords.
        if !self.bad.contains("annotations.keywords") {
            let keywords = &config.annotations.keywords;
            let named: Vec<(&str, &String)> = config
                .annotations
                .severity
                .keys()
                .map(|k| ("severity", k))
                .chain(config.annotations.require.keys().map(|k| ("require", k)))
                .collect();
            for (section, kw) in named {
                if keywords.contains(kw) {
                    continue;
                }
                let Some(p) = self
                    .keys
                    .get(&format!("annotations.{section}.{kw}"))
                    .copied()
                else {
                    continue; // a default entry, e.g. severity of a keyword the user removed
                };
                let mut message = format!(
                    "`annotations.{section}`: `{kw}` is not one of the keywords ({})",
                    keywords.join(", ")
                );
                if let Some(s) = closest(kw, keywords.iter().map(String::as_str)) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                } else {
                    message.push_str("; add it to `annotations.keywords`");
                }
                self.error(p, message);
            }
        }

        // The spike window is measured against the longer baseline window.
        let inc = &config.incidents;
        let windows_valid = !self.bad.contains("incidents.window_days")
            && !self.bad.contains("incidents.spike.window_days");
        if windows_valid && inc.spike.window_days >= inc.window_days {
            let at = self
                .values
                .get("incidents.spike.window_days")
                .or_else(|| self.values.get("incidents.window_days"))
                .copied();
            if let Some(p) = at {
                self.error(
                    p,
                    format!(
                        "`incidents.spike.window_days` ({}) must be shorter than `incidents.window_days` ({})",
                        inc.spike.window_days, inc.window_days
                    ),
                );
            }
        }

        // A label may put a PR in one class only (labels compare case-insensitively on GitHub).
        let w = &config.work;
        let lists = [
            ("debt_labels", &w.debt_labels),
            ("feature_labels", &w.feature_labels),
            ("ops_labels", &w.ops_labels),
            ("ignore_labels", &w.ignore_labels),
        ];
        let mut owner: HashMap<String, &str> = HashMap::new();
        for (name, labels) in lists {
            for (i, label) in labels.iter().enumerate() {
                let lower = label.to_lowercase();
                match owner.get(&lower) {
                    Some(first) if *first != name => {
                        let p = self
                            .values
                            .get(&format!("work.{name}[{i}]"))
                            .or_else(|| self.keys.get(&format!("work.{first}")))
                            .copied()
                            .unwrap_or(START);
                        self.error(
                            p,
                            format!("`work.{name}`: label `{label}` is also in `work.{first}`; a label can mark one kind of work only"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(lower, name);
                    }
                }
            }
        }
    }
}

fn where_(path: &str) -> String {
    if path.is_empty() {
        "top level".into()
    } else {
        format!("`{path}`")
    }
}

fn unknown_key_message(key: &str, fields: &[Field], path: &str) -> String {
    let place = if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in `{path}`")
    };
    let mut message = format!("unknown key `{key}` {place}");
    if let Some(s) = closest(key, fields.iter().map(|f| f.key)) {
        message.push_str(&format!("; did you mean `{s}`?"));
        return message;
    }
    // The key may belong to another section (`keywords:` at the top level).
    let elsewhere: Vec<String> = schema::all_paths()
        .into_iter()
        .filter(|p| p.rsplit('.').next() == Some(key) && p.contains('.'))
        .collect();
    if !elsewhere.is_empty() {
        let options: Vec<String> = elsewhere.iter().map(|p| format!("`{p}`")).collect();
        message.push_str(&format!("; did you mean {}?", options.join(" or ")));
    } else {
        let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
        message.push_str(&format!("; valid keys: {}", keys.join(", ")));
    }
    message
}

/// Checks a string against a text-like kind; `Err` is the problem, plainly.
fn check_text(text: &str, kind: &Kind) -> Result<(), String> {
    let problem = match kind {
        Kind::Str { non_empty: true } if text.trim().is_empty() => "must not be empty".into(),
        Kind::Token | Kind::Label if text.trim().is_empty() => "must not be empty".into(),
        // GitHub rejects longer label names.
        Kind::Label if text.chars().count() > 50 => format!(
            "{} is longer than GitHub's 50-character label limit",
            quote(text)
        ),
        Kind::Token if text.chars().any(char::is_whitespace) => {
            format!("{} must not contain spaces", quote(text))
        }
        Kind::Token if !text.starts_with(crate::starts_command) => format!(
            "{} must start with punctuation other than `@`, such as `/` or `!` (for example `/{}`); \
             the App skips comments whose lines do not start with punctuation, and `@` starts a mention",
            quote(text),
            text
        ),
        Kind::Keyword
            if text.is_empty() || !text.chars().all(|c| c.is_alphanumeric() || c == '_') =>
        {
            format!(
                "{} is not a valid keyword; use letters, digits and _ only",
                quote(text)
            )
        }
        Kind::Glob if text.is_empty() => "an empty glob matches nothing".into(),
        Kind::Glob => match globset::Glob::new(text) {
            Ok(_) => return Ok(()),
            Err(e) => format!("invalid glob {}: {}", quote(text), e.kind()),
        },
        Kind::Date if !is_date(text) => format!(
            "invalid date {}; expected a real calendar date written YYYY-MM-DD",
            quote(text)
        ),
        Kind::TimeZone if TimeZone::parse(text).is_none() => format!(
            "invalid time zone {}; use UTC or a fixed offset like +02:00 \
             (names like Europe/Berlin are not supported)",
            quote(text)
        ),
        Kind::Repository if !is_repository(text) => format!(
            "{} is not a repository; write owner/name, like acme/ops",
            quote(text)
        ),
        Kind::TierNumber if !text.parse::<u8>().is_ok_and(|n| n >= 1) => format!(
            "{} is not a tier; tiers are numbered from 1 (highest) to 255",
            quote(text)
        ),
        Kind::Enum(names) if !names.contains(&text) => {
            let mut message = format!(
                "{} is not valid; expected one of {}",
                quote(text),
                names.join(", ")
            );
            if let Some(s) = closest(text, names.iter().copied()) {
                message.push_str(&format!(" (did you mean `{s}`?)"));
            }
            message
        }
        _ => return Ok(()),
    };
    Err(problem)
}

/// `owner/name` with GitHub's characters: letters, digits, `-`, `_`, `.`.
fn is_repository(text: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(text.split_once('/'), Some((o, n)) if part(o) && part(n))
}

/// Exactly `YYYY-MM-DD` and a real calendar date (chrono alone also takes `2026-1-5`).
fn is_date(text: &str) -> bool {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped && NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}
