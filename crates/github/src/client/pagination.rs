//! Lists spread over pages: `Link: rel="next"` followed, re-rooted on the API
//! base, under a page cap.

use http::{HeaderMap, Method, header};
use serde::de::DeserializeOwned;

use super::{Client, JSON, decode};
use crate::error::{GitHubError, Result};

/// The `rel="next"` target of a `Link` header.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(header::LINK) {
        let Ok(mut rest) = value.to_str() else {
            continue;
        };
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>')?;
            let url = &after[..end];
            let tail = &after[end + 1..];
            let params_end = tail.find('<').unwrap_or(tail.len());
            let is_next = tail[..params_end].split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=").is_some_and(|v| {
                    v.trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(url.to_string());
            }
            rest = &tail[params_end..];
        }
    }
    None
}

pub(super) fn with_per_page(route: &str) -> String {
    let query = route.split_once('?').map(|(_, q)| q).unwrap_or("");
    if query.split('&').any(|kv| kv.starts_with("per_page=")) {
        route.to_string()
    } else if route.contains('?') {
        format!("{route}&per_page=100")
    } else {
        format!("{route}?per_page=100")
    }
}

impl Client {
    /// One page of a list and the route of the next one (from `Link:
    /// rel="next"`, re-rooted on the API base), for callers that stop early
    /// (a look-back window over a cursor-paginated log).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        route: &str,
    ) -> Result<(Vec<T>, Option<String>)> {
        let resp = self.call(Method::GET, route, None, JSON).await?;
        let page: Vec<T> = decode(route, &resp.body)?;
        let next = match next_link(&resp.headers) {
            Some(url) => Some(self.transport.route_from_url(&url)?),
            None => None,
        };
        Ok((page, next))
    }

    /// Every item of a paginated list, following `Link: rel="next"` (100 per page unless
    /// the route says otherwise). More than `max_pages` pages is an error, not a truncation.
    pub async fn get_all<T: DeserializeOwned>(&self, route: &str) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut next = with_per_page(route);
        let mut pages = 0u32;
        loop {
            pages += 1;
            let resp = self.call(Method::GET, &next, None, JSON).await?;
            let page: Vec<T> = decode(&next, &resp.body)?;
            items.extend(page);
            match next_link(&resp.headers) {
                None => return Ok(items),
                Some(url) => {
                    if pages >= self.transport.options.max_pages {
                        return Err(GitHubError::TooManyPages {
                            route: route.to_string(),
                            max_pages: self.transport.options.max_pages,
                        });
                    }
                    next = self.transport.route_from_url(&url)?;
                }
            }
        }
    }
}
