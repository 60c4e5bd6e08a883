//! The failure meter: the analyzer's counts of real payments, failed ones and the plans'
//! own shed ones, sampled at every step, so the no-harm check can read rates over any
//! span at the step's resolution (100 ms), not the analyzer's whole seconds.
//!
//! What counts as harm ([`FailureMeter::harm_rate`]): every failed payment, except that a
//! plan's load shedding may refuse what arrives *beyond the normal rate* — the surplus of
//! a surge the service cannot absorb. Shed payments up to that surplus are the limit doing
//! its job; shed payments below it (the limit refusing normal traffic) count in full.

use digest::Micros;
use std::collections::VecDeque;

/// Seconds of samples kept.
const KEEP_US: u64 = 60_000_000;

/// The analyzer's counters at one moment (each only grows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentTally {
    /// Real payments taken, failed or not.
    pub payments: u64,
    /// Failed real payments (shed ones included).
    pub failed: u64,
    /// Failed real payments refused by load shedding (the rules' `shed_codes`).
    pub shed: u64,
}

/// `(time, counters so far)` samples, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureMeter {
    samples: VecDeque<(Micros, PaymentTally)>,
}

impl FailureMeter {
    /// Records the counters at `now_us` (times never go back).
    pub fn sample(&mut self, now_us: Micros, tally: PaymentTally) {
        if self.samples.back().is_some_and(|(t, _)| *t >= now_us) {
            return;
        }
        self.samples.push_back((now_us, tally));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| *t + KEEP_US < now_us)
        {
            self.samples.pop_front();
        }
    }

    /// The time of the newest sample.
    pub fn newest_us(&self) -> Option<Micros> {
        self.samples.back().map(|(t, _)| *t)
    }

    /// The time of the oldest sample kept.
    pub fn oldest_us(&self) -> Option<Micros> {
        self.samples.front().map(|(t, _)| *t)
    }

    /// The counters as of `t`: the last sample at or before it.
    fn at(&self, t: Micros) -> Option<PaymentTally> {
        self.samples
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map(|(_, n)| *n)
    }

    /// The counters' growth over `[from_us, to_us]` and the span in seconds; `None` when
    /// the meter does not reach back that far or the span is empty.
    fn delta(&self, from_us: Micros, to_us: Micros) -> Option<(PaymentTally, f64)> {
        let (a, b) = (self.at(from_us)?, self.at(to_us)?);
        let span = to_us.checked_sub(from_us).filter(|s| *s > 0)?;
        let d = PaymentTally {
            payments: b.payments.saturating_sub(a.payments),
            failed: b.failed.saturating_sub(a.failed),
            shed: b.shed.saturating_sub(a.shed),
        };
        Some((d, span as f64 / 1e6))
    }

    /// Failed payments per second over `[from_us, to_us]`, from the samples that bound it;
    /// `None` when the meter does not reach back that far or the span is empty.
    pub fn rate(&self, from_us: Micros, to_us: Micros) -> Option<f64> {
        let (d, secs) = self.delta(from_us, to_us)?;
        Some(d.failed as f64 / secs)
    }

    /// Payments per second over `[from_us, to_us]`, failed or not.
    pub fn payment_rate(&self, from_us: Micros, to_us: Micros) -> Option<f64> {
        let (d, secs) = self.delta(from_us, to_us)?;
        Some(d.payments as f64 / secs)
    }

    /// Failed payments per second over `[from_us, to_us]` but the shed ones.
    pub fn unshed_rate(&self, from_us: Micros, to_us: Micros) -> Option<f64> {
        let (d, secs) = self.delta(from_us, to_us)?;
        Some(d.failed.saturating_sub(d.shed) as f64 / secs)
    }

    /// Harmful failed payments per second over `[from_us, to_us]`: every failure but the
    /// shed payments within the surplus above `normal_per_s` (the payment rate before the
    /// fault; `None`: not known, every shed payment counts).
    pub fn harm_rate(
        &self,
        from_us: Micros,
        to_us: Micros,
        normal_per_s: Option<f64>,
    ) -> Option<f64> {
        let (d, secs) = self.delta(from_us, to_us)?;
        let failed = d.failed as f64 / secs;
        let shed = (d.shed.min(d.failed)) as f64 / secs;
        let surplus = normal_per_s.map_or(0.0, |n| (d.payments as f64 / secs - n).max(0.0));
        Some(failed - shed.min(surplus))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(payments: u64, failed: u64, shed: u64) -> PaymentTally {
        PaymentTally {
            payments,
            failed,
            shed,
        }
    }

    #[test]
    fn rates_come_from_the_counts_that_bound_the_span() {
        let mut m = FailureMeter::default();
        for k in 0..=20u64 {
            // 5 failures a step (50/s) for the first second, then none.
            m.sample(k * 100_000, tally(10 * k, 5 * k.min(10), 0));
        }
        assert_eq!(m.rate(0, 1_000_000), Some(50.0));
        assert_eq!(m.rate(1_000_000, 2_000_000), Some(0.0));
        assert_eq!(m.rate(500_000, 1_500_000), Some(25.0));
        assert_eq!(m.payment_rate(0, 2_000_000), Some(100.0));
        assert_eq!(m.rate(1_000_000, 1_000_000), None, "an empty span");
        m.sample(2_000_000, tally(0, 999, 0));
        assert_eq!(m.samples.len(), 21, "a repeated time is ignored");
        m.sample(70_000_000, tally(0, 100, 0));
        assert_eq!(m.rate(0, 70_000_000), None, "forgotten after 60 s");
    }

    #[test]
    fn shedding_a_surge_surplus_is_not_harm_but_shedding_normal_traffic_is() {
        let mut m = FailureMeter::default();
        // A surge: 900 payments/s arrive where 300/s is normal; a limit sheds 500/s and
        // 10/s fail otherwise.
        m.sample(0, tally(0, 0, 0));
        m.sample(1_000_000, tally(900, 510, 500));
        assert_eq!(m.harm_rate(0, 1_000_000, Some(300.0)), Some(10.0));
        // Normal load, the same limit shedding 200 of 300/s: all of it is harm.
        m.sample(2_000_000, tally(1_200, 720, 700));
        assert_eq!(m.harm_rate(1_000_000, 2_000_000, Some(300.0)), Some(210.0));
        // A surge of 400/s over 300 shedding 250/s: only 100/s of it is excused.
        m.sample(3_000_000, tally(1_600, 970, 950));
        assert_eq!(m.harm_rate(2_000_000, 3_000_000, Some(300.0)), Some(150.0));
        // The normal rate not known: every shed payment counts.
        assert_eq!(m.harm_rate(0, 1_000_000, None), Some(510.0));
    }
}
