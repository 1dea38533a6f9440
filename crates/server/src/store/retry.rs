//! Retry policy for failed deliveries: how many attempts, and the capped
//! exponential backoff between them. Pure logic, no I/O.

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
    Retry { attempts: u32, delay: Duration },
    /// Given up after `attempts` failures; the last error is kept.
    Dead { attempts: u32 },
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

    /// Decision after an attempt fails, given the failures recorded before it.
    pub fn after_failure(&self, previous_failures: u32) -> FailOutcome {
        let attempts = previous_failures.saturating_add(1);
        if attempts >= self.max_attempts.max(1) {
            FailOutcome::Dead { attempts }
        } else {
            FailOutcome::Retry {
                attempts,
                delay: self.backoff(attempts),
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
            policy.after_failure(0),
            FailOutcome::Retry {
                attempts: 1,
                delay: Duration::from_millis(10)
            }
        );
        assert_eq!(
            policy.after_failure(1),
            FailOutcome::Retry {
                attempts: 2,
                delay: Duration::from_millis(15)
            }
        );
        assert_eq!(policy.after_failure(2), FailOutcome::Dead { attempts: 3 });
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
