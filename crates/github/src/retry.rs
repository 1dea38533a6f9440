//! paydown's retry policy as a pure function: given how an attempt failed, wait how long or
//! give up. No I/O and no clock reads, so every branch is unit-tested.
//!
//! Rules (GitHub's "best practices for using the REST API"):
//! - 5xx and connection failures: exponential backoff with jitter, `Retry-After` if sent.
//! - Timeouts, other transport errors after the request may have left, and 5xx answers to a
//!   request that is not idempotent: retried only for idempotent requests. GitHub answers
//!   502 to creates it has applied, so a `POST /issues` is never repeated blindly; the
//!   caller looks for what it wrote first ([`crate::Client::create_json`]).
//! - 403/429 with `x-ratelimit-remaining: 0` (primary limit): wait for `x-ratelimit-reset`
//!   when it falls within the wait budget, else report `RateLimited`.
//! - 403/429 with `Retry-After`, any 429, or a body naming a secondary rate limit:
//!   wait `Retry-After`, else at least `secondary_wait` (doubling on repeats).
//! - Any other 4xx fails at once.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use http::HeaderMap;

/// Bounds on retrying; see [`crate::ClientOptions`] for defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimits {
    /// Total attempts per call, the first included.
    pub max_attempts: u32,
    /// Total time one call may spend sleeping between attempts.
    pub max_wait: Duration,
    /// First backoff step; doubles per attempt.
    pub base_backoff: Duration,
    /// Largest single backoff step.
    pub max_backoff: Duration,
    /// Wait after a secondary rate limit without `Retry-After` (GitHub says one minute).
    pub secondary_wait: Duration,
}

/// How one attempt failed.
#[derive(Debug, Clone, Copy)]
pub enum Failure<'a> {
    /// GitHub answered with a non-success status.
    Status {
        /// The HTTP status.
        status: u16,
        /// Its headers (rate-limit and `retry-after` are read).
        headers: &'a HeaderMap,
        /// Its body (the secondary-limit message is read).
        body: &'a [u8],
    },
    /// The connection could not be made: the request never reached GitHub.
    Connect,
    /// No complete response in time: the request may have been processed.
    Timeout,
    /// Any other transport error after sending began.
    Transport,
}

/// Where a call stands when an attempt fails.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    /// 1-based number of the attempt that just failed.
    pub number: u32,
    /// Time already slept between earlier attempts of this call.
    pub waited: Duration,
    /// Whether repeating the request is harmless (GET, PUT, PATCH, DELETE, token minting).
    pub idempotent: bool,
}

/// Why a retry happens, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A 5xx answer.
    ServerError,
    /// The connection failed or broke off.
    Transport,
    /// GitHub's abuse ("secondary") limit: 403/429 with `retry-after` or its message.
    SecondaryRateLimit,
    /// The hourly quota ran out (`x-ratelimit-remaining: 0`).
    PrimaryRateLimit,
}

/// The policy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after a wait.
    Retry {
        /// How long to wait first.
        after: Duration,
        /// Why, for logs and metrics.
        cause: Cause,
    },
    /// Give up and report the failure as it is.
    Fail,
    /// Give up because of a rate limit that lifts at `reset_at`.
    RateLimited {
        /// When GitHub says the limit lifts.
        reset_at: DateTime<Utc>,
    },
}

/// Decides what to do after a failed attempt. `jitter` is a random number in `[0, 1)`.
pub fn decide(
    failure: &Failure<'_>,
    attempt: &Attempt,
    limits: &RetryLimits,
    now: DateTime<Utc>,
    jitter: f64,
) -> Decision {
    let attempts_left = attempt.number < limits.max_attempts;
    let budget = limits.max_wait.saturating_sub(attempt.waited);
    let backoff = || backoff(attempt.number, limits, jitter).min(budget);

    match *failure {
        Failure::Status {
            status,
            headers,
            body,
        } => {
            let retry_after = retry_after(headers, now);
            if status == 403 || status == 429 {
                if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
                    let reset_at = header_u64(headers, "x-ratelimit-reset")
                        .and_then(|s| DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
                        .or_else(|| retry_after.map(|d| now + delta(d)))
                        .unwrap_or_else(|| now + delta(limits.secondary_wait));
                    // One second of slack: the reset is a whole second and clocks drift.
                    let until_reset = (reset_at - now).to_std().unwrap_or(Duration::ZERO);
                    let wait = until_reset.max(retry_after.unwrap_or(Duration::ZERO))
                        + Duration::from_secs(1);
                    return if attempts_left && wait <= budget {
                        Decision::Retry {
                            after: wait,
                            cause: Cause::PrimaryRateLimit,
                        }
                    } else {
                        Decision::RateLimited { reset_at }
                    };
                }
                if retry_after.is_some() || status == 429 || mentions_secondary_limit(body) {
                    let wait = retry_after.unwrap_or_else(|| {
                        limits
                            .secondary_wait
                            .saturating_mul(1 << attempt.number.saturating_sub(1).min(6))
                    });
                    return if attempts_left && wait <= budget {
                        Decision::Retry {
                            after: wait,
                            cause: Cause::SecondaryRateLimit,
                        }
                    } else {
                        Decision::RateLimited {
                            reset_at: now + delta(wait),
                        }
                    };
                }
                return Decision::Fail;
            }
            if status >= 500 && attempts_left && attempt.idempotent {
                let wait = retry_after.unwrap_or_else(backoff);
                if !budget.is_zero() && wait <= budget {
                    return Decision::Retry {
                        after: wait,
                        cause: Cause::ServerError,
                    };
                }
            }
            Decision::Fail
        }
        Failure::Connect => transport_retry(attempts_left, budget, backoff()),
        Failure::Timeout | Failure::Transport if attempt.idempotent => {
            transport_retry(attempts_left, budget, backoff())
        }
        Failure::Timeout | Failure::Transport => Decision::Fail,
    }
}

fn transport_retry(attempts_left: bool, budget: Duration, wait: Duration) -> Decision {
    if attempts_left && !budget.is_zero() {
        Decision::Retry {
            after: wait,
            cause: Cause::Transport,
        }
    } else {
        Decision::Fail
    }
}

/// `base * 2^(n-1)`, capped, with "equal jitter": half fixed, half random, so concurrent
/// workers hitting the same outage spread out without ever retrying immediately.
pub fn backoff(attempt: u32, limits: &RetryLimits, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let full = limits
        .base_backoff
        .saturating_mul(1u32 << exp)
        .min(limits.max_backoff);
    let jitter = jitter.clamp(0.0, 1.0);
    full / 2 + full.mul_f64(jitter / 2.0)
}

/// A number in `[0, 1)` from std's randomly keyed hasher; good enough to de-synchronise
/// retries and needs no RNG dependency.
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn mentions_secondary_limit(body: &[u8]) -> bool {
    let head = &body[..body.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.contains("secondary rate limit") || text.contains("abuse detection")
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RetryLimits {
        RetryLimits {
            max_attempts: 5,
            max_wait: Duration::from_secs(120),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            secondary_wait: Duration::from_secs(60),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn first(idempotent: bool) -> Attempt {
        Attempt {
            number: 1,
            waited: Duration::ZERO,
            idempotent,
        }
    }

    fn status(code: u16, h: &HeaderMap, body: &'static str) -> Decision {
        let f = Failure::Status {
            status: code,
            headers: h,
            body: body.as_bytes(),
        };
        decide(&f, &first(true), &limits(), now(), 0.5)
    }

    #[test]
    fn given_5xx_then_retry_with_growing_jittered_backoff() {
        let h = HeaderMap::new();
        for code in [500, 502, 503, 504] {
            assert!(matches!(
                status(code, &h, ""),
                Decision::Retry {
                    cause: Cause::ServerError,
                    ..
                }
            ));
        }
        let l = limits();
        assert_eq!(backoff(1, &l, 0.0), Duration::from_millis(250));
        assert_eq!(backoff(1, &l, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(3, &l, 0.0), Duration::from_millis(1000));
        assert_eq!(backoff(30, &l, 1.0), Duration::from_secs(30));
        assert!(backoff(2, &l, 0.3) > backoff(1, &l, 0.3));
    }

    #[test]
    fn given_5xx_to_a_create_then_give_up_since_it_may_have_been_applied() {
        let h = HeaderMap::new();
        for code in [500, 502, 503, 504] {
            let f = Failure::Status {
                status: code,
                headers: &h,
                body: b"",
            };
            assert_eq!(
                decide(&f, &first(false), &limits(), now(), 0.5),
                Decision::Fail
            );
        }
    }

    #[test]
    fn given_last_attempt_failed_with_5xx_then_give_up() {
        let h = HeaderMap::new();
        let f = Failure::Status {
            status: 502,
            headers: &h,
            body: b"",
        };
        let a = Attempt {
            number: 5,
            waited: Duration::ZERO,
            idempotent: true,
        };
        assert_eq!(decide(&f, &a, &limits(), now(), 0.5), Decision::Fail);
    }

    #[test]
    fn given_wait_budget_spent_then_give_up() {
        let h = HeaderMap::new();
        let f = Failure::Status {
            status: 503,
            headers: &h,
            body: b"",
        };
        let a = Attempt {
            number: 2,
            waited: Duration::from_secs(120),
            idempotent: true,
        };
        assert_eq!(decide(&f, &a, &limits(), now(), 0.5), Decision::Fail);
    }

    #[test]
    fn given_retry_after_on_5xx_then_it_is_honoured() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            status(503, &h, ""),
            Decision::Retry {
                after: Duration::from_secs(7),
                cause: Cause::ServerError
            }
        );
    }

    #[test]
    fn given_client_errors_then_fail_at_once() {
        let h = HeaderMap::new();
        for code in [400, 401, 403, 404, 409, 410, 422] {
            assert_eq!(status(code, &h, r#"{"message":"nope"}"#), Decision::Fail);
        }
    }

    #[test]
    fn given_secondary_limit_with_retry_after_then_wait_that_long() {
        let h = headers(&[("retry-after", "1")]);
        assert_eq!(
            status(
                403,
                &h,
                r#"{"message":"You have exceeded a secondary rate limit"}"#
            ),
            Decision::Retry {
                after: Duration::from_secs(1),
                cause: Cause::SecondaryRateLimit
            }
        );
    }

    #[test]
    fn given_secondary_limit_named_only_in_body_then_wait_at_least_a_minute() {
        let h = HeaderMap::new();
        assert_eq!(
            status(
                403,
                &h,
                r#"{"message":"You have exceeded a Secondary Rate Limit. Please wait."}"#
            ),
            Decision::Retry {
                after: Duration::from_secs(60),
                cause: Cause::SecondaryRateLimit
            }
        );
        let f = Failure::Status {
            status: 403,
            headers: &h,
            body: b"secondary rate limit",
        };
        let second = Attempt {
            number: 2,
            waited: Duration::from_secs(60),
            idempotent: true,
        };
        let mut l = limits();
        l.max_wait = Duration::from_secs(600);
        assert_eq!(
            decide(&f, &second, &l, now(), 0.5),
            Decision::Retry {
                after: Duration::from_secs(120),
                cause: Cause::SecondaryRateLimit
            }
        );
    }

    #[test]
    fn given_429_without_headers_then_treated_as_secondary_limit() {
        let h = HeaderMap::new();
        assert!(matches!(
            status(429, &h, ""),
            Decision::Retry {
                cause: Cause::SecondaryRateLimit,
                ..
            }
        ));
    }

    #[test]
    fn given_secondary_wait_beyond_budget_then_rate_limited() {
        let h = headers(&[("retry-after", "600")]);
        assert_eq!(
            status(429, &h, ""),
            Decision::RateLimited {
                reset_at: now() + TimeDelta::seconds(600)
            }
        );
    }

    #[test]
    fn given_primary_limit_resetting_soon_then_wait_until_reset() {
        let reset = (now().timestamp() + 30).to_string();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ]);
        assert_eq!(
            status(403, &h, r#"{"message":"API rate limit exceeded"}"#),
            Decision::Retry {
                after: Duration::from_secs(31),
                cause: Cause::PrimaryRateLimit
            }
        );
    }

    #[test]
    fn given_primary_limit_resetting_late_then_rate_limited_with_reset_time() {
        let reset = now().timestamp() + 3000;
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset.to_string()),
        ]);
        assert_eq!(
            status(429, &h, ""),
            Decision::RateLimited {
                reset_at: DateTime::from_timestamp(reset, 0).unwrap()
            }
        );
    }

    #[test]
    fn given_plain_403_with_remaining_quota_then_fail() {
        let h = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(
            status(
                403,
                &h,
                r#"{"message":"Resource not accessible by integration"}"#
            ),
            Decision::Fail
        );
    }

    #[test]
    fn given_connect_error_then_retry_even_for_post() {
        let d = decide(&Failure::Connect, &first(false), &limits(), now(), 0.0);
        assert!(matches!(
            d,
            Decision::Retry {
                cause: Cause::Transport,
                ..
            }
        ));
    }

    #[test]
    fn given_timeout_then_retry_only_idempotent_requests() {
        for f in [Failure::Timeout, Failure::Transport] {
            assert!(matches!(
                decide(&f, &first(true), &limits(), now(), 0.0),
                Decision::Retry { .. }
            ));
            assert_eq!(
                decide(&f, &first(false), &limits(), now(), 0.0),
                Decision::Fail
            );
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let h = headers(&[("retry-after", " 120 ")]);
        assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(120)));
        let at = (now() + TimeDelta::seconds(90))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let h = headers(&[("retry-after", &at)]);
        assert_eq!(retry_after(&h, now()), Some(Duration::from_secs(90)));
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&past, now()), Some(Duration::ZERO));
        let junk = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&junk, now()), None);
    }
}
