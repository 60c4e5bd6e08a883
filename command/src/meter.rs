//! The failure meter: the analyzer's count of failed real payments, sampled at every step,
//! so the no-harm check can read failed payments per second over any span at the step's
//! resolution (100 ms), not the analyzer's whole seconds.

use digest::Micros;
use std::collections::VecDeque;

/// Seconds of samples kept.
const KEEP_US: u64 = 30_000_000;

/// `(time, failed payments so far)` samples, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureMeter {
    samples: VecDeque<(Micros, u64)>,
}

impl FailureMeter {
    /// Records the count `total` at `now_us` (times never go back).
    pub fn sample(&mut self, now_us: Micros, total: u64) {
        if self.samples.back().is_some_and(|(t, _)| *t >= now_us) {
            return;
        }
        self.samples.push_back((now_us, total));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| *t + KEEP_US < now_us)
        {
            self.samples.pop_front();
        }
    }

    /// The count as of `t`: the last sample at or before it.
    fn at(&self, t: Micros) -> Option<u64> {
        self.samples
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, n)| *n)
    }

    /// Failed payments per second over `[from_us, to_us]`, from the samples that bound it;
    /// `None` when the meter does not reach back that far or the span is empty.
    pub fn rate(&self, from_us: Micros, to_us: Micros) -> Option<f64> {
        let (a, b) = (self.at(from_us)?, self.at(to_us)?);
        let span = to_us.checked_sub(from_us).filter(|s| *s > 0)?;
        Some(b.saturating_sub(a) as f64 / (span as f64 / 1e6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_counts_that_bound_the_span() {
        let mut m = FailureMeter::default();
        for k in 0..=20u64 {
            // 5 failures a step (50/s) for the first second, then none.
            m.sample(k * 100_000, 5 * k.min(10));
        }
        assert_eq!(m.rate(0, 1_000_000), Some(50.0));
        assert_eq!(m.rate(1_000_000, 2_000_000), Some(0.0));
        assert_eq!(m.rate(500_000, 1_500_000), Some(25.0));
        assert_eq!(m.rate(1_000_000, 1_000_000), None, "an empty span");
        m.sample(2_000_000, 999);
        assert_eq!(m.samples.len(), 21, "a repeated time is ignored");
        m.sample(40_000_000, 100);
        assert_eq!(m.rate(0, 40_000_000), None, "forgotten after 30 s");
    }
}
