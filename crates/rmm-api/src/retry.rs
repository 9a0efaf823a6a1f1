//! When to try a read again and how long to wait first: capped exponential backoff with full
//! jitter, and the server's `Retry-After` (seconds or HTTP-date), capped.

use std::time::{Duration, SystemTime};

use rand::Rng as _;

use crate::config::RetryPolicy;

/// The longest backoff before retry number `retry` (0 for the first retry).
pub(crate) fn backoff_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
    policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay)
}

/// Full jitter: a random wait between zero and the ceiling.
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let ceiling = backoff_ceiling(policy, retry);
    if ceiling.is_zero() {
        return ceiling;
    }
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
}

/// The wait a `Retry-After` value asks for: whole seconds or an HTTP-date, capped.
pub(crate) fn retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

/// The wait before the next retry: the server's `Retry-After` if it gave one, else backoff.
pub(crate) fn wait_before_retry(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
) -> Duration {
    retry_after.unwrap_or_else(|| backoff(policy, retry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(30),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_below() {
        let p = policy();
        let ceilings: Vec<_> = (0..6).map(|r| backoff_ceiling(&p, r).as_millis()).collect();
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff_ceiling(&p, 1000), Duration::from_secs(1));
        for retry in 0..6 {
            for _ in 0..50 {
                assert!(backoff(&p, retry) <= backoff_ceiling(&p, retry));
            }
        }
        // Full jitter: waits spread out rather than all being the ceiling.
        let distinct: std::collections::HashSet<_> = (0..50).map(|_| backoff(&p, 3)).collect();
        assert!(distinct.len() > 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let cap = Duration::from_secs(30);
        assert_eq!(retry_after("3", now, cap), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 120 ", now, cap), Some(cap));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now, cap),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now, cap),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now, cap), None);
        assert_eq!(retry_after("-1", now, cap), None);
    }

    #[test]
    fn server_wait_wins_over_backoff() {
        let p = policy();
        assert_eq!(
            wait_before_retry(&p, 0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert!(wait_before_retry(&p, 0, None) <= Duration::from_millis(100));
    }
}
