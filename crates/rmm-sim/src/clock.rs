//! Simulated time: starts at the wall clock, runs at a settable speed and can be advanced.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The simulator's clock in Unix milliseconds. Reservations, OTA settings, sessions and
/// authorization codes live in this time; issued JWTs use the wall clock because clients
/// check `exp` against their own.
#[derive(Debug)]
pub struct SimClock {
    anchor_real: Instant,
    anchor_sim_ms: i64,
    speed: f64,
}

pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl SimClock {
    pub fn new(speed: f64) -> Self {
        Self {
            anchor_real: Instant::now(),
            anchor_sim_ms: wall_ms(),
            speed: sane_speed(speed),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.at(Instant::now())
    }

    fn at(&self, real: Instant) -> i64 {
        let elapsed = real
            .saturating_duration_since(self.anchor_real)
            .as_secs_f64();
        // Truncation is fine: sub-millisecond precision is not simulated.
        self.anchor_sim_ms + (elapsed * 1000.0 * self.speed) as i64
    }

    pub fn advance(&mut self, secs: i64) {
        self.anchor_sim_ms = self.anchor_sim_ms.saturating_add(secs.saturating_mul(1000));
    }

    pub fn set_speed(&mut self, speed: f64) {
        let real = Instant::now();
        self.anchor_sim_ms = self.at(real);
        self.anchor_real = real;
        self.speed = sane_speed(speed);
    }
}

/// Negative or non-finite speeds would run time backwards or break arithmetic.
fn sane_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed >= 0.0 {
        speed
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time_forward_by_exactly_that() {
        let mut clock = SimClock::new(0.0);
        let before = clock.now_ms();
        clock.advance(3600);
        assert_eq!(clock.now_ms() - before, 3_600_000);
    }

    #[test]
    fn speed_zero_freezes_time() {
        let mut clock = SimClock::new(1.0);
        clock.set_speed(0.0);
        let a = clock.now_ms();
        let b = clock.now_ms();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_speed_falls_back_to_real_time() {
        assert_eq!(sane_speed(f64::NAN), 1.0);
        assert_eq!(sane_speed(-3.0), 1.0);
    }
}
