//! A ready [`Probe`] judged by outcomes: callers record each payment's result (or any
//! ok/failed event) with its time; the condition has cleared when the success ratio over
//! the last window is back within `tolerance` of the baseline taken before the fault.
//! (The war room answers from the analyzer's candidates instead: any `Probe` works.)

use crate::engine::Probe;
use crate::trigger::Trigger;
use digest::Micros;
use parking_lot::Mutex;
use std::collections::VecDeque;

/// Success ratio over a sliding window, compared with a baseline.
#[derive(Debug)]
pub struct OutcomeProbe {
    window_us: u64,
    min_samples: usize,
    tolerance: f64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    recent: VecDeque<(Micros, bool)>,
    now: Micros,
    baseline: Option<f64>,
}

impl OutcomeProbe {
    /// `window_s` of outcomes, at least `min_samples` of them, within `tolerance` (e.g.
    /// 0.005) of the baseline.
    pub fn new(window_s: f64, min_samples: usize, tolerance: f64) -> Self {
        Self {
            window_us: (window_s.max(0.001) * 1e6) as u64,
            min_samples: min_samples.max(1),
            tolerance,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records one outcome at `at_us` (also moves the probe's "now").
    pub fn record(&self, at_us: Micros, ok: bool) {
        let mut g = self.inner.lock();
        g.recent.push_back((at_us, ok));
        g.now = g.now.max(at_us);
        let keep_from = g.now.saturating_sub(self.window_us);
        while g.recent.front().is_some_and(|(t, _)| *t < keep_from) {
            g.recent.pop_front();
        }
    }

    /// `(count, success ratio)` over the window ending at the newest outcome.
    pub fn ratio(&self) -> (usize, f64) {
        let g = self.inner.lock();
        let (n, ok) = g
            .recent
            .iter()
            .filter(|(t, _)| *t + self.window_us > g.now)
            .fold((0usize, 0usize), |(n, ok), (_, o)| {
                (n + 1, ok + usize::from(*o))
            });
        (n, if n == 0 { 0.0 } else { ok as f64 / n as f64 })
    }

    /// Takes the current ratio as the healthy baseline (call before the fault).
    pub fn set_baseline(&self) -> f64 {
        let r = self.ratio().1;
        self.inner.lock().baseline = Some(r);
        r
    }
}

impl Probe for OutcomeProbe {
    fn cleared(&self, _t: &Trigger) -> bool {
        let (n, r) = self.ratio();
        let base = self.inner.lock().baseline.unwrap_or(1.0);
        n >= self.min_samples && r >= base - self.tolerance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clears_when_the_window_is_back_to_baseline() {
        let p = OutcomeProbe::new(1.0, 10, 0.01);
        let t = Trigger::diagnosis("x", "y", 0);
        for i in 0..20 {
            p.record(i * 50_000, true);
        }
        assert_eq!(p.set_baseline(), 1.0);
        for i in 20..40 {
            p.record(i * 50_000, i % 2 == 0);
        }
        assert!(!p.cleared(&t));
        for i in 40..60 {
            p.record(i * 50_000, true);
        }
        assert!(p.cleared(&t), "{:?}", p.ratio());
        let few = OutcomeProbe::new(1.0, 10, 0.01);
        few.record(0, true);
        assert!(!few.cleared(&t), "too few samples to judge");
    }
}
