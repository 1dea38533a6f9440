//! Database URL handling: which backend a URL selects, and a redacted form
//! that is safe to put in errors and logs. Pure logic, no I/O.

/// Backend selected by a database URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

/// Classifies `url`: `postgres://`/`postgresql://` is PostgreSQL, `sqlite:`
/// or a string without a scheme (a file path) is SQLite. Anything else is
/// rejected so that a typo does not silently create a local file.
pub(crate) fn kind(url: &str) -> Option<Kind> {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Some(Kind::Postgres)
    } else if lower.starts_with("sqlite:") || !lower.contains("://") {
        Some(Kind::Sqlite)
    } else {
        None
    }
}

/// `url` with any password replaced by `***`, both in the userinfo part
/// (`postgres://user:secret@host`) and in a `password=` query parameter.
pub fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let rest = match url.find("://") {
        Some(scheme_end) => {
            let (scheme, after) = url.split_at(scheme_end + 3);
            out.push_str(scheme);
            let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, rest) = after.split_at(authority_end);
            match authority.rfind('@') {
                Some(at) => {
                    let (userinfo, host) = authority.split_at(at);
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            rest
        }
        None => url,
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => param.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(rest),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_their_backend() {
        assert_eq!(kind("postgres://u@h/db"), Some(Kind::Postgres));
        assert_eq!(kind("PostgreSQL://u@h/db"), Some(Kind::Postgres));
        assert_eq!(
            kind("sqlite://data/paydown.db?mode=rwc"),
            Some(Kind::Sqlite)
        );
        assert_eq!(kind("sqlite::memory:"), Some(Kind::Sqlite));
        assert_eq!(kind("/var/lib/paydown/paydown.db"), Some(Kind::Sqlite));
        assert_eq!(kind("paydown.db"), Some(Kind::Sqlite));
        assert_eq!(kind("mysql://u@h/db"), None);
    }

    #[test]
    fn passwords_in_userinfo_and_query_are_hidden() {
        assert_eq!(
            redact("postgres://app:s3cr3t@db.internal:5432/paydown?sslmode=require"),
            "postgres://app:***@db.internal:5432/paydown?sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/paydown?user=app&password=s3cr3t"),
            "postgres://db/paydown?user=app&password=***"
        );
        assert_eq!(
            redact("postgres://a:b@c@host/db"),
            "postgres://a:***@host/db"
        );
    }

    #[test]
    fn urls_without_passwords_are_unchanged() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "sqlite://data/paydown.db?mode=rwc",
            "/tmp/paydown.db",
        ] {
            assert_eq!(redact(url), url);
        }
    }
}
