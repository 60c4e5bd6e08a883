//! Per-instance figures built from raw server records. A collector's rollup has
//! no instance dimension (adding one would multiply every series by the
//! instance count), so the analyzer counts instances itself from the records
//! it takes for hot spots and versions, and the next tick merges them into
//! `View::Instance` windows. Bounded: at most `max_per_service` instances per
//! (service, real/shadow) per second; the rest are counted and ignored.

use digest::{DigestRecord, SeriesStats, SpanKind};
use std::collections::{BTreeMap, HashMap};

/// code → figures.
type ByCode = HashMap<String, SeriesStats>;

/// One instance's figures in one second (a service has a few: found by a
/// linear scan, cheaper than hashing its name; at most `max_per_service`).
#[derive(Debug, Default)]
struct Inst {
    name: String,
    zone: String,
    codes: ByCode,
}

/// service → its instances.
type ByService = HashMap<String, Vec<Inst>>;

/// One instance's figures for one second and one result code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSeries {
    pub second: u64,
    pub shadow: bool,
    pub service: String,
    pub instance: String,
    /// The zone the instance's records named (first seen that second).
    pub zone: String,
    pub code: String,
    pub stats: SeriesStats,
}

/// Pending per-second, per-instance figures.
#[derive(Debug, Default)]
pub struct InstanceRollup {
    /// second → `[real, shadow]`.
    seconds: BTreeMap<u64, [ByService; 2]>,
    max_per_service: usize,
    /// Records ignored because their service already had `max_per_service`
    /// instances in that second.
    pub refused: u64,
}

impl InstanceRollup {
    pub fn new(max_per_service: usize) -> Self {
        Self {
            max_per_service,
            ..Default::default()
        }
    }

    /// Counts one record if it is a server record naming its instance.
    /// Returns false if it was refused by the cap (counted in `refused`).
    pub fn add(&mut self, r: &DigestRecord) -> bool {
        if r.kind != SpanKind::Server || r.instance.is_empty() {
            return true;
        }
        let second = r.time_us / 1_000_000;
        let by = &mut self.seconds.entry(second).or_default()[r.shadow as usize];
        let insts = match by.get_mut(r.service.as_str()) {
            Some(m) => m,
            None => by.entry(r.service.clone()).or_default(),
        };
        let pos = match insts.iter().position(|i| i.name == r.instance) {
            Some(p) => p,
            None if insts.len() >= self.max_per_service => {
                self.refused += 1;
                return false;
            }
            None => {
                insts.push(Inst {
                    name: r.instance.clone(),
                    zone: r.zone.clone(),
                    codes: ByCode::new(),
                });
                insts.len() - 1
            }
        };
        let codes = &mut insts[pos].codes;
        match codes.get_mut(r.code.as_str()) {
            Some(st) => st.add(r),
            None => codes.entry(r.code.clone()).or_default().add(r),
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        self.seconds.is_empty() && self.refused == 0
    }

    /// Takes everything pending, leaving this empty (same cap).
    pub fn take(&mut self) -> InstanceRollup {
        InstanceRollup {
            seconds: std::mem::take(&mut self.seconds),
            max_per_service: self.max_per_service,
            refused: std::mem::take(&mut self.refused),
        }
    }

    /// Every pending series, oldest second first.
    pub fn into_series(self) -> impl Iterator<Item = InstanceSeries> {
        self.seconds.into_iter().flat_map(|(second, pair)| {
            pair.into_iter().enumerate().flat_map(move |(sh, by)| {
                by.into_iter().flat_map(move |(service, insts)| {
                    insts
                        .into_iter()
                        .flat_map(move |Inst { name, zone, codes }| {
                            let (service, instance) = (service.clone(), name);
                            codes.into_iter().map(move |(code, stats)| InstanceSeries {
                                second,
                                shadow: sh == 1,
                                service: service.clone(),
                                instance: instance.clone(),
                                zone: zone.clone(),
                                code,
                                stats,
                            })
                        })
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(service: &str, instance: &str, kind: SpanKind, ok: bool) -> DigestRecord {
        DigestRecord {
            time_us: 5_000_000,
            kind,
            service: service.into(),
            instance: instance.into(),
            success: ok,
            code: if ok { "SUCCESS" } else { "SYSTEM_ERROR" }.into(),
            duration_us: 1_000,
            ..Default::default()
        }
    }

    #[test]
    fn counts_server_records_per_instance_and_caps_instances() {
        let mut b = InstanceRollup::new(2);
        assert!(b.add(&rec("risk", "risk-1", SpanKind::Server, true)));
        assert!(b.add(&rec("risk", "risk-1", SpanKind::Server, false)));
        assert!(b.add(&rec("risk", "risk-2", SpanKind::Server, true)));
        assert!(!b.add(&rec("risk", "risk-3", SpanKind::Server, true)));
        // Client records and records without an instance are not instance figures.
        assert!(b.add(&rec("risk", "risk-9", SpanKind::Client, true)));
        assert!(b.add(&rec("risk", "", SpanKind::Server, true)));
        assert_eq!(b.refused, 1);
        let taken = b.take();
        assert!(b.is_empty());
        let mut v: Vec<_> = taken
            .into_series()
            .map(|x| {
                let (s, sh, svc, i, c) = (x.second, x.shadow, x.service, x.instance, x.code);
                (s, sh, svc, i, c, x.stats.count, x.stats.errors)
            })
            .collect();
        v.sort();
        assert_eq!(
            v,
            vec![
                (
                    5,
                    false,
                    "risk".into(),
                    "risk-1".into(),
                    "SUCCESS".into(),
                    1,
                    0
                ),
                (
                    5,
                    false,
                    "risk".into(),
                    "risk-1".into(),
                    "SYSTEM_ERROR".into(),
                    1,
                    1
                ),
                (
                    5,
                    false,
                    "risk".into(),
                    "risk-2".into(),
                    "SUCCESS".into(),
                    1,
                    0
                ),
            ]
        );
    }
}
