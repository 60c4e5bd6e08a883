//! Per-service, per-version call figures from the raw records (rollups carry no
//! version): enough to tell whether a service's errors or slowness sit on the
//! version a deploy just brought in.

use digest::{DigestRecord, SpanKind};
use serde::Serialize;
use std::collections::HashMap;

/// Calls of one version over some seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct VersionFigures {
    pub count: u64,
    pub errors: u64,
    pub latency_sum_us: u64,
}

impl VersionFigures {
    pub fn error_ratio(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
    pub fn mean_latency_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.latency_sum_us as f64 / self.count as f64
        }
    }
}

const LEN: usize = 64;

#[derive(Debug, Clone)]
struct Ring([(u64, VersionFigures); LEN]);

/// Service → version → per-second figures (real server records only).
#[derive(Debug, Default)]
pub struct Versions {
    map: HashMap<String, HashMap<String, Ring>>,
}

impl Versions {
    pub fn add(&mut self, r: &DigestRecord) {
        if r.kind != SpanKind::Server || r.shadow || r.version.is_empty() {
            return;
        }
        let by = match self.map.get_mut(r.service.as_str()) {
            Some(b) => b,
            None => self.map.entry(r.service.clone()).or_default(),
        };
        let ring = match by.get_mut(r.version.as_str()) {
            Some(x) => x,
            None => by
                .entry(r.version.clone())
                .or_insert_with(|| Ring([(u64::MAX, VersionFigures::default()); LEN])),
        };
        let s = r.time_us / 1_000_000;
        let slot = &mut ring.0[(s % LEN as u64) as usize];
        if slot.0 != s {
            if slot.0 != u64::MAX && slot.0 > s {
                return;
            }
            *slot = (s, VersionFigures::default());
        }
        slot.1.count += 1;
        slot.1.errors += !r.success as u64;
        slot.1.latency_sum_us = slot.1.latency_sum_us.saturating_add(r.duration_us);
    }

    /// Figures per version of `service` over seconds `[from, to)`.
    pub fn of(&self, service: &str, from: u64, to: u64) -> Vec<(String, VersionFigures)> {
        let mut out = Vec::new();
        if let Some(by) = self.map.get(service) {
            for (v, ring) in by {
                let mut f = VersionFigures::default();
                for (s, x) in &ring.0 {
                    if *s != u64::MAX && *s >= from && *s < to {
                        f.count += x.count;
                        f.errors += x.errors;
                        f.latency_sum_us = f.latency_sum_us.saturating_add(x.latency_sum_us);
                    }
                }
                if f.count > 0 {
                    out.push((v.clone(), f));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
