//! Retry policy for failed deliveries: how many attempts, and the capped
//! exponential backoff between them, jittered so deliveries that failed
//! together (a GitHub outage) do not all come back in the same instant.
//! Pure logic apart from [`RetryPolicy::after_failure`]'s random draw.

use std::time::Duration;

/// When a failed delivery runs again, and when it is given up on (`dead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included; the failure of the last one
    /// moves the delivery to `dead`. Values below 1 behave as 1.
    pub max_attempts: u32,
    /// Delay after the first failure; doubles after each further failure.
    pub base: Duration,
    /// Upper bound of the delay.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// 10 attempts, 2 s doubling up to 10 min: rides out a GitHub incident
    /// of roughly half an hour before a delivery is dead-lettered.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        }
    }
}

/// What [`RetryPolicy::after_failure`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Scheduled again after `delay`; `attempts` failures so far.
    Retry {
        /// Failures so far.
        attempts: u32,
        /// How long until the next attempt.
        delay: Duration,
    },
    /// Given up after `attempts` failures; the last error is kept.
    Dead {
        /// Failures in all.
        attempts: u32,
    },
}

impl RetryPolicy {
    /// Delay before the next attempt once `failures` attempts have failed
    /// (`failures >= 1`): `base * 2^(failures-1)`, at most `cap`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(62);
        let factor = 1u64 << exponent;
        let millis = u64::try_from(self.base.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_mul(factor);
        Duration::from_millis(millis).min(self.cap)
    }

    /// [`Self::backoff`] with "equal jitter": half of it fixed, half
    /// scaled by `jitter` (in `[0, 1)`), so the delay lies in
    /// `[backoff / 2, backoff]`.
    pub fn jittered(&self, failures: u32, jitter: f64) -> Duration {
        let full = self.backoff(failures);
        full / 2 + (full / 2).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Decision after an attempt fails, given the failures recorded before
    /// it, with a random jitter on the delay.
    pub fn after_failure(&self, previous_failures: u32) -> FailOutcome {
        self.after_failure_with(previous_failures, paydown_github::retry::jitter())
    }

    /// [`Self::after_failure`] with a given `jitter` in `[0, 1)`.
    pub fn after_failure_with(&self, previous_failures: u32, jitter: f64) -> FailOutcome {
        let attempts = previous_failures.saturating_add(1);
        if attempts >= self.max_attempts.max(1) {
            FailOutcome::Dead { attempts }
        } else {
            FailOutcome::Retry {
                attempts,
                delay: self.jittered(attempts, jitter),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_doubles_from_two_seconds_and_caps_at_ten_minutes() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..=11).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]);
    }

    #[test]
    fn huge_failure_counts_saturate_at_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(600));
    }

    #[test]
    fn last_allowed_attempt_failing_makes_the_delivery_dead() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(15),
        };
        assert_eq!(
            policy.after_failure_with(0, 1.0),
            FailOutcome::Retry {
                attempts: 1,
                delay: Duration::from_millis(10)
            }
        );
        assert_eq!(
            policy.after_failure_with(1, 1.0),
            FailOutcome::Retry {
                attempts: 2,
                delay: Duration::from_millis(15)
            }
        );
        assert_eq!(policy.after_failure(2), FailOutcome::Dead { attempts: 3 });
    }

    /// Given deliveries failing together at the same attempt, when their
    /// retries are scheduled, then the delays spread over the upper half
    /// of the backoff and never beyond it.
    #[test]
    fn retry_delays_are_jittered_within_half_to_full_backoff() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.jittered(3, 0.0), Duration::from_secs(4));
        assert_eq!(policy.jittered(3, 1.0), Duration::from_secs(8));
        assert_eq!(policy.jittered(20, 1.0), Duration::from_secs(600));
        let delays: Vec<Duration> = (0..1000)
            .map(|_| match policy.after_failure(2) {
                FailOutcome::Retry { delay, .. } => delay,
                other => panic!("{other:?}"),
            })
            .collect();
        let (min, max) = (*delays.iter().min().unwrap(), *delays.iter().max().unwrap());
        assert!(min >= Duration::from_secs(4) && max <= Duration::from_secs(8));
        // Spread, not one value: a thousand draws cover most of the range.
        assert!(min < Duration::from_millis(4400), "{min:?}");
        assert!(max > Duration::from_millis(7600), "{max:?}");
        let mut distinct = delays.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 500, "{}", distinct.len());
    }

    #[test]
    fn zero_max_attempts_means_a_single_attempt() {
        let policy = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.after_failure(0), FailOutcome::Dead { attempts: 1 });
    }
}
