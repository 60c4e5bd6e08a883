//! Per-second rollups: for each second and each series key (service, operation,
//! kind, peer, scene, zone, shadow, code), a count, an error count, money and a
//! latency histogram. Collectors build them (level 1); the analyzer merges them
//! (level 2). Merging is exact: counts add, histograms add bucket by bucket.

use crate::histogram::Histogram;
use crate::record::{DigestRecord, SpanKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The dimensions of one series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub service: String,
    pub operation: String,
    pub kind: SpanKind,
    pub peer: String,
    pub scene: String,
    pub zone: String,
    pub shadow: bool,
    pub code: String,
}

impl SeriesKey {
    pub fn of(r: &DigestRecord) -> Self {
        Self {
            service: r.service.clone(),
            operation: r.operation.clone(),
            kind: r.kind,
            peer: r.peer.clone(),
            scene: r.scene.clone(),
            zone: r.zone.clone(),
            shadow: r.shadow,
            code: r.code.clone(),
        }
    }
}

/// What one series did in one second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesStats {
    pub count: u64,
    pub errors: u64,
    /// Sum of `amount_cents` over all records that carried one.
    pub amount_cents: i64,
    /// Sum of `amount_cents` over failed records.
    pub failed_amount_cents: i64,
    pub latency_us: Histogram,
}

impl SeriesStats {
    pub fn add(&mut self, r: &DigestRecord) {
        self.count += 1;
        let amount = r.amount_cents.unwrap_or(0);
        self.amount_cents = self.amount_cents.saturating_add(amount);
        if !r.success {
            self.errors += 1;
            self.failed_amount_cents = self.failed_amount_cents.saturating_add(amount);
        }
        self.latency_us.record(r.duration_us);
    }

    pub fn merge(&mut self, o: &SeriesStats) {
        self.count += o.count;
        self.errors += o.errors;
        self.amount_cents = self.amount_cents.saturating_add(o.amount_cents);
        self.failed_amount_cents = self
            .failed_amount_cents
            .saturating_add(o.failed_amount_cents);
        self.latency_us.merge(&o.latency_us);
    }
}

/// All series of one second (epoch seconds, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecondRollup {
    pub second: u64,
    pub series: HashMap<SeriesKey, SeriesStats>,
}

impl SecondRollup {
    pub fn new(second: u64) -> Self {
        Self {
            second,
            series: HashMap::new(),
        }
    }

    pub fn add(&mut self, r: &DigestRecord) {
        self.series.entry(SeriesKey::of(r)).or_default().add(r);
    }

    pub fn merge(&mut self, o: &SecondRollup) {
        for (k, v) in &o.series {
            self.series.entry(k.clone()).or_default().merge(v);
        }
    }

    pub fn total_count(&self) -> u64 {
        self.series.values().map(|s| s.count).sum()
    }
}

/// Builds rollups for many seconds from a stream of records.
#[derive(Debug, Default)]
pub struct RollupBuilder {
    seconds: BTreeMap<u64, SecondRollup>,
}

impl RollupBuilder {
    pub fn add(&mut self, r: &DigestRecord) {
        let s = r.time_us / 1_000_000;
        self.seconds
            .entry(s)
            .or_insert_with(|| SecondRollup::new(s))
            .add(r);
    }
    /// Removes and returns every second strictly before `second`, oldest first.
    pub fn take_before(&mut self, second: u64) -> Vec<SecondRollup> {
        let rest = self.seconds.split_off(&second);
        std::mem::replace(&mut self.seconds, rest)
            .into_values()
            .collect()
    }
    /// Removes and returns everything, oldest first.
    pub fn take_all(&mut self) -> Vec<SecondRollup> {
        std::mem::take(&mut self.seconds).into_values().collect()
    }
}

/// Wire form: `{"second": N, "series": [{"key": {...}, "stats": {...}}, ...]}`.
#[derive(Serialize, Deserialize)]
struct WireRollup {
    second: u64,
    series: Vec<WireSeries>,
}
#[derive(Serialize, Deserialize)]
struct WireSeries {
    key: SeriesKey,
    stats: SeriesStats,
}

impl Serialize for SecondRollup {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut series: Vec<WireSeries> = self
            .series
            .iter()
            .map(|(k, v)| WireSeries {
                key: k.clone(),
                stats: v.clone(),
            })
            .collect();
        series.sort_by(|a, b| a.key.cmp(&b.key));
        WireRollup {
            second: self.second,
            series,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SecondRollup {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = WireRollup::deserialize(d)?;
        let mut r = SecondRollup::new(w.second);
        for s in w.series {
            r.series.entry(s.key).or_default().merge(&s.stats);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SpanId, TraceId};

    fn rec(t: u64, service: &str, ok: bool, d: u64) -> DigestRecord {
        DigestRecord {
            time_us: t,
            trace_id: TraceId(1),
            span_id: SpanId(1),
            service: service.into(),
            operation: "op".into(),
            duration_us: d,
            success: ok,
            code: if ok { "SUCCESS".into() } else { "FAIL".into() },
            amount_cents: Some(100),
            ..Default::default()
        }
    }

    #[test]
    fn builder_splits_seconds_and_merge_is_exact() {
        let mut a = RollupBuilder::default();
        let mut b = RollupBuilder::default();
        let mut all = RollupBuilder::default();
        for i in 0..1000u64 {
            let r = rec(
                i * 3_000,
                if i % 2 == 0 { "trade" } else { "cashier" },
                i % 7 != 0,
                i,
            );
            if i % 3 == 0 {
                a.add(&r)
            } else {
                b.add(&r)
            }
            all.add(&r);
        }
        let (mut a, b, all) = (a.take_all(), b.take_all(), all.take_all());
        assert_eq!(all.len(), 3);
        for (x, y) in a.iter_mut().zip(&b) {
            x.merge(y);
        }
        assert_eq!(a, all);
        let failed: u64 = all
            .iter()
            .flat_map(|s| s.series.iter())
            .filter(|(k, _)| k.code == "FAIL")
            .map(|(_, v)| v.errors)
            .sum();
        assert_eq!(failed, (0..1000).filter(|i| i % 7 == 0).count() as u64);
        let json = serde_json::to_string(&all[0]).unwrap();
        let back: SecondRollup = serde_json::from_str(&json).unwrap();
        assert_eq!(back, all[0]);
    }

    #[test]
    fn take_before_keeps_the_open_second() {
        let mut b = RollupBuilder::default();
        b.add(&rec(1_000_000, "a", true, 1));
        b.add(&rec(2_500_000, "a", true, 1));
        let closed = b.take_before(2);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].second, 1);
        assert_eq!(b.take_all().len(), 1);
    }
}
