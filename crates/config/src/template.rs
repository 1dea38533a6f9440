//! The `paydown init` template: every key of [`crate::schema`] with its
//! one-line explanation and its default, taken from `Config::default()`.

use saphyr::Scalar;
use serde_json::{Map, Value};

use crate::model::Config;
use crate::schema::{Field, Kind, ROOT};

/// A commented YAML file listing every key with its default.
pub(crate) fn render() -> String {
    let defaults = match serde_json::to_value(Config::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut out = String::from(
        "# paydown configuration (.github/paydown.yml)\n\
         # Every key is optional: the values below are the defaults, so you can\n\
         # delete whatever you do not change. Check a file with `paydown config check`.\n",
    );
    for field in ROOT {
        out.push('\n');
        render_field(field, &defaults, 0, &mut out);
    }
    out
}

fn render_field(field: &Field, defaults: &Map<String, Value>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let default = defaults.get(field.key).unwrap_or(&Value::Null);
    out.push_str(&format!("{pad}# {}\n", field.doc));
    match (&field.kind, default) {
        (Kind::Section(sub) | Kind::Toggle(sub), Value::Object(inner)) => {
            out.push_str(&format!("{pad}{}:\n", field.key));
            for f in sub.iter() {
                render_field(f, inner, indent + 2, out);
            }
        }
        (Kind::Optional(_), Value::Null) => {
            let example = field.example.unwrap_or("");
            out.push_str(&format!(
                "{pad}# {}: {example}    (unset by default)\n",
                field.key
            ));
        }
        _ => out.push_str(&format!("{pad}{}: {}\n", field.key, flow(default))),
    }
}

/// A JSON value written as a YAML flow value.
fn flow(value: &Value) -> String {
    match value {
        Value::Null => "~".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => text(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", text(k), flow(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// A string, unquoted when YAML would read it back as the same string.
fn text(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-+".contains(c))
        && matches!(Scalar::parse_from_cow(s.into()), Scalar::String(_));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::all_paths;

    #[test]
    fn every_schema_key_is_written_at_its_depth() {
        let template = render();
        for path in all_paths() {
            let depth = path.matches('.').count();
            let key = path.rsplit('.').next().unwrap_or(&path);
            let pad = " ".repeat(depth * 2);
            let written = template.lines().any(|l| {
                l.starts_with(&format!("{pad}{key}:")) || l.starts_with(&format!("{pad}# {key}:"))
            });
            assert!(written, "`{path}` is missing from the template");
        }
    }

    #[test]
    fn every_key_has_an_explanation_above_it() {
        let template = render();
        let lines: Vec<&str> = template.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !t.is_empty() && !t.starts_with('#') {
                assert!(
                    i > 0 && lines[i - 1].trim_start().starts_with('#'),
                    "no comment above {line:?}"
                );
            }
        }
    }

    #[test]
    fn strings_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(text("tech-debt"), "tech-debt");
        assert_eq!(text("/debt"), "/debt");
        assert_eq!(text("size/M"), "size/M");
        assert_eq!(text("true"), "\"true\"");
        assert_eq!(text("42"), "\"42\"");
        assert_eq!(text("paydown:ignore"), "\"paydown:ignore\"");
        assert_eq!(text("**/vendor/**"), "\"**/vendor/**\"");
        assert_eq!(text(""), "\"\"");
    }
}
