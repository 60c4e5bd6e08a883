//! Impact: who and what a fault hurts. Per second, failed real payments are
//! summed (count, money at stake, distinct users as a HyperLogLog, scenes), so an
//! incident can read its damage from its start, including the seconds before it
//! was diagnosed. A payment is its root server record (no parent span); when a
//! system writes no root records, distinct failed traces stand in.

mod hll;

pub use hll::Hll;

use digest::{DigestRecord, SpanKind};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// The damage over a span of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// Distinct users with a failed payment (HyperLogLog estimate).
    pub users: u64,
    /// Scenes with failed payments.
    pub scenes: Vec<String>,
    pub failed_payments: u64,
    /// Sum of the failed payments' amounts.
    pub money_at_stake_cents: i64,
    /// Epoch microseconds of the first failed payment in the span (0 if none).
    pub first_failure_us: u64,
}

#[derive(Debug, Clone)]
struct Sec {
    second: u64,
    users: Hll,
    traces: Hll,
    root_failures: u64,
    money: i64,
    scenes: BTreeSet<String>,
    first_us: u64,
}

/// Per-second failure aggregates of real traffic.
#[derive(Debug)]
pub struct FailureLog {
    secs: Vec<Sec>,
    /// Every failed real payment (root record) ever taken, in arrival order.
    total: u64,
    /// Every real payment (root record) ever taken, failed or not.
    payments: u64,
    /// Failed real payments by result code (the no-harm check tells a plan's own load
    /// shedding apart by its codes).
    failed_by_code: HashMap<String, u64>,
}

impl FailureLog {
    pub fn new(len: usize) -> Self {
        let s = Sec {
            second: u64::MAX,
            users: Hll::new(10),
            traces: Hll::new(10),
            root_failures: 0,
            money: 0,
            scenes: BTreeSet::new(),
            first_us: 0,
        };
        Self {
            secs: vec![s; len.max(2)],
            total: 0,
            payments: 0,
            failed_by_code: HashMap::new(),
        }
    }

    pub fn add(&mut self, r: &DigestRecord) {
        if r.shadow {
            return;
        }
        let root = r.parent_span_id.is_none() && r.kind == SpanKind::Server;
        if root {
            self.payments += 1;
        }
        if r.success {
            return;
        }
        let second = r.time_us / 1_000_000;
        let idx = (second % self.secs.len() as u64) as usize;
        let s = &mut self.secs[idx];
        if s.second != second {
            if s.second != u64::MAX && s.second > second {
                return;
            }
            s.second = second;
            s.users.clear();
            s.traces.clear();
            s.root_failures = 0;
            s.money = 0;
            s.scenes.clear();
            s.first_us = u64::MAX;
        }
        s.first_us = s.first_us.min(r.time_us);
        if let Some(u) = r.key("user") {
            s.users.add(u);
        }
        s.traces.add_bytes(&r.trace_id.0.to_le_bytes());
        if root {
            self.total += 1;
            match self.failed_by_code.get_mut(r.code.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.failed_by_code.insert(r.code.clone(), 1);
                }
            }
            s.root_failures += 1;
            s.money = s.money.saturating_add(r.amount_cents.unwrap_or(0));
        }
        if !r.scene.is_empty() && !s.scenes.contains(&r.scene) {
            s.scenes.insert(r.scene.clone());
        }
    }

    /// Failed real payments taken so far (a counter: rates come from its differences).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Real payments taken so far, failed or not (a counter).
    pub fn payments(&self) -> u64 {
        self.payments
    }

    /// Failed real payments so far whose result code is one of `codes` (a counter).
    pub fn failed_with_codes(&self, codes: &[String]) -> u64 {
        codes
            .iter()
            .filter_map(|c| self.failed_by_code.get(c.as_str()))
            .sum()
    }

    /// The damage from `from_us` to now (whole seconds).
    pub fn since(&self, from_us: u64, until_s: u64) -> Impact {
        let from_s = from_us / 1_000_000;
        let mut users = Hll::new(10);
        let mut traces = Hll::new(10);
        let (mut roots, mut money, mut first) = (0u64, 0i64, u64::MAX);
        let mut scenes = BTreeSet::new();
        for s in &self.secs {
            if s.second == u64::MAX || s.second < from_s || s.second > until_s {
                continue;
            }
            users.merge(&s.users);
            traces.merge(&s.traces);
            roots += s.root_failures;
            money = money.saturating_add(s.money);
            first = first.min(s.first_us);
            scenes.extend(s.scenes.iter().cloned());
        }
        Impact {
            users: users.estimate(),
            scenes: scenes.into_iter().collect(),
            failed_payments: if roots > 0 { roots } else { traces.estimate() },
            money_at_stake_cents: money,
            first_failure_us: if first == u64::MAX { 0 } else { first },
        }
    }
}
