//! Finite capacity: a service given a capacity (`[capacity] service = calls/s` in the
//! config) serves at most that many calls a second; beyond it, work queues up. The
//! model is a fluid queue advanced in 100 ms buckets on the system's clock: each bucket
//! the backlog grows by the arrivals beyond capacity (and drains by the capacity left
//! over), capped at the callers' timeout (work older than that is abandoned). A call
//! waits the backlog plus the queueing of a busy server (`s·ρ/(1−ρ)` at utilisation ρ of
//! the last bucket), and times out — failing after the timeout — once that wait reaches
//! it. So a load within capacity costs a few milliseconds, and a surge beyond it first
//! slows every call, then fails them: a service without admission control degrades for
//! everyone, which is what shedding the surplus at the entry prevents.
//!
//! Services without a capacity (the default) are unbounded and cost one map lookup.

use digest::SharedClock;
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Bucket length of the rate and backlog.
const BUCKET_US: u64 = 100_000;
/// Highest utilisation the busy-server term is computed at (it grows without bound at 1).
const MAX_RHO: f64 = 0.95;

/// What a call's capacity check decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Served after waiting this long in the queue.
    Wait(u64),
    /// The wait reached the callers' timeout: fails after it.
    TimedOut(u64),
}

#[derive(Debug)]
struct Queue {
    /// Calls a second the service absorbs.
    per_s: f64,
    /// Start of the bucket being counted.
    bucket_start_us: u64,
    arrivals: u64,
    /// Utilisation of the last closed bucket.
    rho: f64,
    /// Queued work, microseconds.
    backlog_us: f64,
}

impl Queue {
    /// Closes the buckets that ended before `now_us`.
    fn advance(&mut self, now_us: u64, timeout_us: f64) {
        if self.bucket_start_us == 0 {
            self.bucket_start_us = now_us - now_us % BUCKET_US;
        }
        while now_us >= self.bucket_start_us + BUCKET_US {
            let rate = self.arrivals as f64 * 1e6 / BUCKET_US as f64;
            self.rho = rate / self.per_s;
            let grew = (rate - self.per_s) / self.per_s * BUCKET_US as f64;
            self.backlog_us = (self.backlog_us + grew).clamp(0.0, timeout_us);
            self.arrivals = 0;
            self.bucket_start_us += BUCKET_US;
            if self.backlog_us == 0.0 && now_us >= self.bucket_start_us + 10 * BUCKET_US {
                // Idle for a second or more: nothing left to carry.
                self.rho = 0.0;
                self.bucket_start_us = now_us - now_us % BUCKET_US;
            }
        }
    }

    fn admit(&mut self, now_us: u64, timeout_us: f64) -> Admission {
        self.advance(now_us, timeout_us);
        self.arrivals += 1;
        let rho = self.rho.min(MAX_RHO);
        let service_us = 1e6 / self.per_s;
        let wait = self.backlog_us + service_us * rho / (1.0 - rho);
        if wait >= timeout_us {
            Admission::TimedOut(timeout_us as u64)
        } else {
            Admission::Wait(wait as u64)
        }
    }
}

/// The capacity of every bounded service.
pub(crate) struct Capacity {
    clock: SharedClock,
    timeout_us: f64,
    queues: BTreeMap<&'static str, Mutex<Queue>>,
}

impl Capacity {
    /// `per_s`: calls a second of each bounded service (already validated positive);
    /// `timeout_ms`: how long callers wait before giving up.
    pub(crate) fn new(
        clock: SharedClock,
        per_s: impl IntoIterator<Item = (&'static str, f64)>,
        timeout_ms: u64,
    ) -> Self {
        Self {
            clock,
            timeout_us: timeout_ms as f64 * 1e3,
            queues: per_s
                .into_iter()
                .map(|(svc, per_s)| {
                    let q = Queue {
                        per_s,
                        bucket_start_us: 0,
                        arrivals: 0,
                        rho: 0.0,
                        backlog_us: 0.0,
                    };
                    (svc, Mutex::new(q))
                })
                .collect(),
        }
    }

    /// The check of one call served by `service`; `None` when it is unbounded.
    #[inline]
    pub(crate) fn admit(&self, service: &str) -> Option<Admission> {
        if self.queues.is_empty() {
            return None;
        }
        let q = self.queues.get(service)?;
        let now = self.clock.now_us();
        Some(q.lock().admit(now, self.timeout_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::ManualClock;
    use std::sync::Arc;

    /// Offers `per_s` calls a second for `secs`, evenly in 10 ms slices; returns the
    /// last second's mean wait (ms) and its share of timed-out calls.
    fn offer(c: &Capacity, clock: &ManualClock, per_s: f64, secs: u64) -> (f64, f64) {
        let (mut waited, mut n, mut timed_out) = (0.0, 0.0f64, 0.0);
        let mut carry = 0.0;
        for slice in 0..secs * 100 {
            carry += per_s / 100.0;
            while carry >= 1.0 {
                carry -= 1.0;
                let last_second = slice >= (secs - 1) * 100;
                match c.admit("entry").expect("bounded") {
                    Admission::Wait(us) if last_second => {
                        waited += us as f64 / 1e3;
                        n += 1.0;
                    }
                    Admission::TimedOut(_) if last_second => {
                        timed_out += 1.0;
                        n += 1.0;
                    }
                    _ => {}
                }
            }
            clock.advance_us(10_000);
        }
        (waited / n.max(1.0), timed_out / n.max(1.0))
    }

    fn capacity() -> (Capacity, ManualClock) {
        let clock = ManualClock::new(1_000_000_000);
        let c = Capacity::new(Arc::new(clock.clone()), [("entry", 1000.0)], 1000);
        (c, clock)
    }

    #[test]
    fn within_capacity_a_call_waits_a_few_milliseconds() {
        let (c, clock) = capacity();
        let (wait, failed) = offer(&c, &clock, 500.0, 5);
        assert!(wait < 2.0, "half load: {wait} ms");
        assert_eq!(failed, 0.0);
        let (wait, failed) = offer(&c, &clock, 800.0, 5);
        assert!(wait < 6.0, "80 % load: {wait} ms");
        assert_eq!(failed, 0.0);
    }

    #[test]
    fn beyond_capacity_calls_slow_then_time_out_and_recover_once_the_load_falls() {
        let (c, clock) = capacity();
        let (wait, failed) = offer(&c, &clock, 1500.0, 1);
        assert!(
            wait > 100.0 && failed == 0.0,
            "a second in: slow ({wait} ms)"
        );
        let (_, failed) = offer(&c, &clock, 1500.0, 4);
        assert!(failed > 0.9, "five seconds in: {failed} timed out");
        // The load back within capacity: the backlog drains at the spare capacity.
        let (wait, failed) = offer(&c, &clock, 400.0, 3);
        assert!(wait < 2.0 && failed == 0.0, "{wait} ms, {failed}");
    }

    #[test]
    fn unbounded_services_are_not_checked() {
        let (c, _clock) = capacity();
        assert_eq!(c.admit("other"), None);
        let none = Capacity::new(Arc::new(ManualClock::new(0)), [], 1000);
        assert_eq!(none.admit("entry"), None);
    }
}
