//! Deciding the injected faults of one API request: latency, rate limit, server errors, drops.

use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

use crate::config::{DropPhase, Faults};

/// Requests counted in the current wall-clock second.
#[derive(Debug, Default)]
pub struct RateWindow {
    second: i64,
    count: u32,
}

impl RateWindow {
    /// Counts a request at `now_ms`; `Some(retry_after_secs)` when over `limit`.
    pub fn admit(&mut self, limit: Option<u32>, now_ms: i64) -> Option<u64> {
        let limit = limit?;
        let second = now_ms.div_euclid(1000);
        if second != self.second {
            self.second = second;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        // Retry-After is whole seconds; the window ends within one.
        (self.count > limit).then_some(1)
    }
}

pub fn latency(faults: &Faults, rng: &mut ChaCha20Rng) -> Duration {
    let jitter = if faults.jitter_ms > 0 {
        rng.gen_range(0..=faults.jitter_ms)
    } else {
        0
    };
    Duration::from_millis(faults.latency_ms.saturating_add(jitter))
}

/// What happens to a request that passed the refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Serve,
    ServeThenDrop,
    DropBefore,
    Fail(StatusCode),
}

pub fn decide(faults: &Faults, rng: &mut ChaCha20Rng) -> Fate {
    if faults.error_share > 0.0 && rng.r#gen::<f64>() < faults.error_share {
        return Fate::Fail(if rng.gen_bool(0.5) {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        });
    }
    if faults.drop_share > 0.0 && rng.r#gen::<f64>() < faults.drop_share {
        return match faults.drop_phase {
            DropPhase::Before => Fate::DropBefore,
            DropPhase::After => Fate::ServeThenDrop,
        };
    }
    Fate::Serve
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rate_window_refuses_over_limit_and_resets_next_second() {
        let mut window = RateWindow::default();
        assert_eq!(window.admit(Some(2), 1_000), None);
        assert_eq!(window.admit(Some(2), 1_500), None);
        assert_eq!(window.admit(Some(2), 1_999), Some(1));
        assert_eq!(window.admit(Some(2), 2_000), None);
        assert_eq!(window.admit(None, 2_000), None);
    }

    #[test]
    fn shares_are_roughly_honoured() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let faults = Faults {
            error_share: 0.3,
            ..Faults::default()
        };
        let failed = (0..10_000)
            .filter(|_| matches!(decide(&faults, &mut rng), Fate::Fail(_)))
            .count();
        assert!((2_500..3_500).contains(&failed), "{failed}");
        let none = Faults::default();
        assert!((0..1000).all(|_| decide(&none, &mut rng) == Fate::Serve));
    }
}
