//! `Stats`: what a view did over some span of time — count, errors by business
//! code, money, and a mergeable latency histogram. Everything merges exactly, so
//! per-second partials from several collectors add up to the same figures.

use digest::{Histogram, SeriesStats};
use serde::Serialize;
use std::collections::BTreeMap;

/// Aggregated figures of one view over one bucket (or a merge of buckets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub count: u64,
    /// Failed calls but business declines.
    pub errors: u64,
    /// Failed calls per code (business declines not among them).
    pub error_codes: BTreeMap<String, u64>,
    /// Calls that ended in a business decline (the config's `business_codes`).
    pub declines: u64,
    pub amount_cents: i64,
    pub failed_amount_cents: i64,
    pub latency_us: Histogram,
}

impl Stats {
    /// Adds one rollup series (its code names the errors it carries; `business`: that
    /// code is a business decline, counted in `declines`, not in `errors`).
    pub fn add_series(&mut self, code: &str, s: &SeriesStats, business: bool) {
        self.count += s.count;
        if business {
            self.declines += s.errors;
        } else {
            self.errors += s.errors;
        }
        if s.errors > 0 && !business {
            match self.error_codes.get_mut(code) {
                Some(c) => *c += s.errors,
                None => {
                    self.error_codes.insert(code.to_string(), s.errors);
                }
            }
        }
        self.amount_cents = self.amount_cents.saturating_add(s.amount_cents);
        self.failed_amount_cents = self
            .failed_amount_cents
            .saturating_add(s.failed_amount_cents);
        self.latency_us.merge(&s.latency_us);
    }

    pub fn merge(&mut self, o: &Stats) {
        self.count += o.count;
        self.errors += o.errors;
        self.declines += o.declines;
        for (k, v) in &o.error_codes {
            *self.error_codes.entry(k.clone()).or_default() += v;
        }
        self.amount_cents = self.amount_cents.saturating_add(o.amount_cents);
        self.failed_amount_cents = self
            .failed_amount_cents
            .saturating_add(o.failed_amount_cents);
        self.latency_us.merge(&o.latency_us);
    }

    pub fn error_ratio(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }

    /// Latency quantile in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency_us.quantile(q) as f64 / 1000.0
    }

    /// The error codes, most frequent first.
    pub fn top_codes(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .error_codes
            .iter()
            .map(|(k, c)| (k.clone(), *c))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// A serde summary over a span of `secs` seconds.
    pub fn summary(&self, secs: f64) -> StatsSummary {
        StatsSummary {
            count: self.count,
            rate_per_s: if secs > 0.0 {
                self.count as f64 / secs
            } else {
                0.0
            },
            errors: self.errors,
            error_ratio: self.error_ratio(),
            error_codes: self.top_codes(8).into_iter().collect(),
            p50_ms: self.quantile_ms(0.5),
            p90_ms: self.quantile_ms(0.9),
            p99_ms: self.quantile_ms(0.99),
            p999_ms: self.quantile_ms(0.999),
            amount_cents: self.amount_cents,
            failed_amount_cents: self.failed_amount_cents,
        }
    }
}

/// JSON form of [`Stats`] for the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSummary {
    pub count: u64,
    pub rate_per_s: f64,
    pub errors: u64,
    pub error_ratio: f64,
    pub error_codes: BTreeMap<String, u64>,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub amount_cents: i64,
    pub failed_amount_cents: i64,
}
