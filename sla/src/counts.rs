//! Good/bad counters per objective and time bucket, classified from rollup
//! series, in two rings: one-second buckets for the last hour and one-minute
//! buckets for the longest window or budget period. Only counters are kept (a
//! p99 objective is checked as "at most 1% of calls above the limit"), so three
//! days of minutes cost a few hundred kilobytes per objective.

use crate::config::Objective;
use digest::{SeriesKey, SeriesStats};
use serde::Serialize;
use std::collections::BTreeSet;

/// What one objective's calls did in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub total: u64,
    /// Failed calls, business refusals excluded.
    pub failed: u64,
    /// Calls at or above the latency objective.
    pub slow: u64,
    /// Bank layers.
    pub unreachable: u64,
    pub unavailable: u64,
    pub timeout: u64,
    /// All failed calls, refusals included (a bank's contract counts them).
    pub unsuccessful: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Counts) {
        self.total += o.total;
        self.failed += o.failed;
        self.slow += o.slow;
        self.unreachable += o.unreachable;
        self.unavailable += o.unavailable;
        self.timeout += o.timeout;
        self.unsuccessful += o.unsuccessful;
    }
}

/// Classifies one rollup series for an objective (None: not its calls).
pub(crate) fn classify(
    o: &Objective,
    k: &SeriesKey,
    s: &SeriesStats,
    business: &BTreeSet<String>,
) -> Option<Counts> {
    if k.shadow {
        return None;
    }
    use crate::config::ObjectiveKind::*;
    use digest::SpanKind;
    let mine = match o.kind {
        Service => {
            k.kind == SpanKind::Server
                && k.service == o.service
                && o.operation.as_ref().is_none_or(|op| *op == k.operation)
        }
        Scene => k.kind == SpanKind::Server && k.service == o.service && k.scene == o.name,
        Bank => {
            k.kind == SpanKind::Integrator
                && k.peer == o.name
                && (o.service.is_empty() || k.service == o.service)
        }
    };
    if !mine {
        return None;
    }
    let mut c = Counts {
        total: s.count,
        unsuccessful: s.errors,
        ..Default::default()
    };
    if !business.contains(&k.code) {
        c.failed = s.errors;
    }
    if let Some(t) = o.latency_us {
        c.slow = s.latency_us.count_at_least(t);
    }
    if let Some(b) = &o.bank {
        if b.unreachable_codes.contains(&k.code) {
            c.unreachable = s.errors;
        } else if b.unavailable_codes.contains(&k.code) {
            c.unavailable = s.errors;
        } else if b.timeout_codes.contains(&k.code) {
            c.timeout = s.errors;
        } else {
            // Answered, but too late: count the calls beyond the timeout.
            c.timeout = s.latency_us.count_at_least(b.timeout_us);
        }
        c.failed = c.unreachable + c.unavailable + c.timeout;
    }
    Some(c)
}

/// One ring of buckets `width` seconds wide.
#[derive(Debug, Clone)]
struct Ring {
    width: u64,
    slots: Vec<(u64, Counts)>,
}

impl Ring {
    fn new(width: u64, len: usize) -> Self {
        Self {
            width,
            slots: vec![(u64::MAX, Counts::default()); len.max(1)],
        }
    }
    fn add(&mut self, second: u64, c: &Counts) -> bool {
        let start = second - second % self.width;
        let i = ((start / self.width) % self.slots.len() as u64) as usize;
        let slot = &mut self.slots[i];
        if slot.0 != start {
            if slot.0 != u64::MAX && slot.0 > start {
                return false;
            }
            *slot = (start, Counts::default());
        }
        slot.1.add(c);
        true
    }
    fn sum(&self, from: u64, to: u64, out: &mut Counts) {
        for (s, c) in &self.slots {
            if *s != u64::MAX && *s >= from && *s < to {
                out.add(c);
            }
        }
    }
    fn span(&self) -> u64 {
        self.width * self.slots.len() as u64
    }
}

/// The two rings of one objective.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    sec: Ring,
    min: Ring,
}

impl Series {
    pub(crate) fn new(longest_s: u64) -> Self {
        Self {
            sec: Ring::new(1, 3600),
            min: Ring::new(60, (longest_s / 60 + 2) as usize),
        }
    }

    pub(crate) fn add(&mut self, second: u64, c: &Counts) -> bool {
        let a = self.sec.add(second, c);
        let b = self.min.add(second, c);
        a || b
    }

    /// Counts over `[from, to)` seconds: the last hour to the second, older
    /// parts to the minute. Returns the counts and whether the span was fully held.
    pub(crate) fn range(&self, from: u64, to: u64, now_s: u64) -> (Counts, bool) {
        let mut out = Counts::default();
        if from >= to {
            return (out, true);
        }
        let sec_floor = now_s.saturating_sub(self.sec.span() - 1);
        let complete = from + self.min.span() >= now_s + 60;
        if from >= sec_floor {
            self.sec.sum(from, to, &mut out);
            return (out, complete);
        }
        let split = sec_floor.div_ceil(60) * 60;
        let split = split.min(to);
        self.min.sum(from - from % 60, split, &mut out);
        self.sec.sum(split, to, &mut out);
        (out, complete)
    }
}
