//! Circuit breakers with Sentinel's degrade semantics: statistics over
//! `statIntervalMs`; open when, with at least `minRequestAmount` calls, the slow
//! ratio (grade 0, slow = RT > `count` ms) exceeds `slowRatioThreshold`, the error
//! ratio (grade 1) exceeds `count`, or the error count (grade 2) exceeds `count`;
//! stay open `timeWindow` s; then let exactly one probe through (half-open): its
//! success closes the breaker, its failure re-opens it.

use super::rules::{count_of, DegradeRule};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A breaker's state, as Sentinel names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    retry_at_us: u64,
    window_start_us: u64,
    total: u64,
    bad: u64,
}

/// One breaker, for one degrade rule.
#[derive(Debug)]
pub(crate) struct Breaker {
    grade: i32,
    threshold: f64,
    slow_ratio: f64,
    max_rt_us: u64,
    open_us: u64,
    min_requests: u64,
    stat_us: u64,
    /// Mirrors `inner.state == Closed`, so a closed breaker passes calls lock-free.
    closed: AtomicBool,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub(crate) fn new(rule: &DegradeRule) -> Self {
        let count = count_of(&rule.count);
        Self {
            grade: rule.grade.unwrap_or(0),
            threshold: count,
            slow_ratio: rule
                .slow_ratio_threshold
                .as_ref()
                .map(count_of)
                .unwrap_or(1.0),
            max_rt_us: (count * 1000.0) as u64,
            open_us: rule.time_window as u64 * 1_000_000,
            min_requests: rule.min_request_amount.unwrap_or(5) as u64,
            stat_us: rule.stat_interval_ms.unwrap_or(1000) as u64 * 1000,
            closed: AtomicBool::new(true),
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                retry_at_us: 0,
                window_start_us: 0,
                total: 0,
                bad: 0,
            }),
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        self.inner.lock().state
    }

    /// Closed (one atomic load, no lock).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn set(&self, s: &mut Inner, state: BreakerState) {
        s.state = state;
        self.closed
            .store(state == BreakerState::Closed, Ordering::Release);
    }

    /// May a call pass now? An open breaker whose window has passed turns
    /// half-open and lets this one call through as the probe.
    pub(crate) fn try_pass(&self, now_us: u64) -> bool {
        if self.is_closed() {
            return true;
        }
        let mut s = self.inner.lock();
        match s.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open => {
                if now_us >= s.retry_at_us {
                    self.set(&mut s, BreakerState::HalfOpen);
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A probe let through by [`Breaker::try_pass`] was refused by a later rule
    /// and will never finish: back to open (Sentinel's `whenTerminate`).
    pub(crate) fn abort_probe(&self, now_us: u64) {
        let mut s = self.inner.lock();
        if s.state == BreakerState::HalfOpen {
            self.set(&mut s, BreakerState::Open);
            s.retry_at_us = now_us + self.open_us;
        }
    }

    /// Records a finished call that [`Breaker::try_pass`] let through.
    pub(crate) fn on_exit(&self, now_us: u64, success: bool, duration_us: u64) {
        let bad = match self.grade {
            0 => duration_us > self.max_rt_us,
            _ => !success,
        };
        let mut s = self.inner.lock();
        match s.state {
            BreakerState::Open => {}
            BreakerState::HalfOpen => {
                if bad {
                    self.set(&mut s, BreakerState::Open);
                    s.retry_at_us = now_us + self.open_us;
                } else {
                    self.set(&mut s, BreakerState::Closed);
                    s.total = 0;
                    s.bad = 0;
                    s.window_start_us = now_us - now_us % self.stat_us;
                }
            }
            BreakerState::Closed => {
                if now_us >= s.window_start_us + self.stat_us || now_us < s.window_start_us {
                    s.window_start_us = now_us - now_us % self.stat_us;
                    s.total = 0;
                    s.bad = 0;
                }
                s.total += 1;
                s.bad += bad as u64;
                if s.total < self.min_requests {
                    return;
                }
                let trip = match self.grade {
                    0 => {
                        let r = s.bad as f64 / s.total as f64;
                        r > self.slow_ratio || (r == self.slow_ratio && self.slow_ratio >= 1.0)
                    }
                    1 => s.bad as f64 / s.total as f64 > self.threshold,
                    _ => s.bad as f64 > self.threshold,
                };
                if trip {
                    self.set(&mut s, BreakerState::Open);
                    s.retry_at_us = now_us + self.open_us;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> DegradeRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn error_ratio_opens_then_half_opens_with_one_probe() {
        let b = Breaker::new(&rule(
            r#"{"resource":"bank:icbc","grade":1,"count":0.5,"timeWindow":10,"minRequestAmount":4}"#,
        ));
        let t = 100_000_000;
        for ok in [true, false, false] {
            assert!(b.try_pass(t));
            b.on_exit(t, ok, 1000);
        }
        assert_eq!(b.state(), BreakerState::Closed, "below minRequestAmount");
        b.on_exit(t, false, 1000);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.try_pass(t + 9_999_999));
        assert!(b.try_pass(t + 10_000_000), "probe");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(!b.try_pass(t + 10_000_001), "only one probe");
        b.on_exit(t + 10_100_000, false, 1000);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_pass(t + 20_100_000));
        b.on_exit(t + 20_100_000, true, 1000);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn slow_ratio_and_error_count() {
        let slow = Breaker::new(&rule(
            r#"{"resource":"a","grade":0,"count":100,"slowRatioThreshold":0.5,"timeWindow":1,"minRequestAmount":2}"#,
        ));
        slow.on_exit(0, true, 50_000);
        slow.on_exit(0, true, 150_000);
        assert_eq!(
            slow.state(),
            BreakerState::Closed,
            "ratio 0.5 is not above 0.5"
        );
        slow.on_exit(0, true, 150_000);
        assert_eq!(slow.state(), BreakerState::Open);

        let count = Breaker::new(&rule(
            r#"{"resource":"a","grade":2,"count":2,"timeWindow":1,"minRequestAmount":1}"#,
        ));
        count.on_exit(0, false, 1);
        count.on_exit(0, false, 1);
        assert_eq!(count.state(), BreakerState::Closed);
        // A new stat interval forgets the old errors.
        count.on_exit(1_000_000, false, 1);
        count.on_exit(1_000_000, false, 1);
        assert_eq!(count.state(), BreakerState::Closed);
        count.on_exit(1_000_000, false, 1);
        assert_eq!(count.state(), BreakerState::Open);
    }
}
