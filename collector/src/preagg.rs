//! Per-second pre-aggregation on the hot path: count, errors, money and a latency
//! histogram per (second, service, operation, kind, peer, scene, zone, shadow,
//! code), fed by borrowed [`RecordView`]s so no string is copied per record.
//! A hash of the borrowed fields finds the series; the stored key is compared
//! field by field, so a hash collision never merges two series. Closed seconds
//! come out as `digest::SecondRollup`s, exactly what `RollupBuilder` would build.

use crate::scan::RecordView;
use digest::{SecondRollup, SeriesKey, SeriesStats};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// The series hash is already well mixed: use it as is.
#[derive(Default)]
struct PassThrough(u64);
impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {}
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[inline]
fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(5) ^ v).wrapping_mul(SEED)
}

#[inline]
fn mix_str(mut h: u64, s: &str) -> u64 {
    let b = s.as_bytes();
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or_default()));
    }
    let mut tail = [0u8; 8];
    let r = chunks.remainder();
    tail[..r.len()].copy_from_slice(r);
    mix(mix(h, u64::from_le_bytes(tail)), b.len() as u64)
}

fn series_hash(second: u64, v: &RecordView<'_>) -> u64 {
    let mut h = mix(0, second);
    h = mix(h, v.kind as u64 | (v.shadow as u64) << 8);
    for s in [v.service, v.operation, v.peer, v.scene, v.zone, v.code] {
        h = mix_str(h, s);
    }
    // Final avalanche so the low bits used by the table are well spread.
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

fn same(k: &SeriesKey, v: &RecordView<'_>) -> bool {
    k.kind == v.kind
        && k.shadow == v.shadow
        && k.service == v.service
        && k.operation == v.operation
        && k.peer == v.peer
        && k.scene == v.scene
        && k.zone == v.zone
        && k.code == v.code
}

fn key_of(v: &RecordView<'_>) -> SeriesKey {
    SeriesKey {
        service: v.service.to_owned(),
        operation: v.operation.to_owned(),
        kind: v.kind,
        peer: v.peer.to_owned(),
        scene: v.scene.to_owned(),
        zone: v.zone.to_owned(),
        shadow: v.shadow,
        code: v.code.to_owned(),
    }
}

struct Slot {
    hash: u64,
    second: u64,
    key: SeriesKey,
    stats: SeriesStats,
}

/// Adds one record to `stats` (as `SeriesStats::add`, from a borrowed view).
#[inline]
pub fn add_view(stats: &mut SeriesStats, v: &RecordView<'_>) {
    stats.count += 1;
    let amount = v.amount_cents.unwrap_or(0);
    stats.amount_cents = stats.amount_cents.saturating_add(amount);
    if !v.success {
        stats.errors += 1;
        stats.failed_amount_cents = stats.failed_amount_cents.saturating_add(amount);
    }
    stats.latency_us.record(v.duration_us);
}

/// Builds per-second rollups from borrowed records.
#[derive(Default)]
pub struct Preagg {
    index: HashMap<u64, usize, BuildHasherDefault<PassThrough>>,
    slots: Vec<Slot>,
    /// Series whose hash collided with another series (rare; exact anyway).
    collided: HashMap<(u64, SeriesKey), SeriesStats>,
}

impl Preagg {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record.
    #[inline]
    pub fn add(&mut self, v: &RecordView<'_>) {
        let second = v.time_us / 1_000_000;
        let h = series_hash(second, v);
        match self.index.get(&h) {
            Some(&i) => {
                let slot = &mut self.slots[i];
                if slot.second == second && same(&slot.key, v) {
                    add_view(&mut slot.stats, v);
                } else {
                    add_view(self.collided.entry((second, key_of(v))).or_default(), v);
                }
            }
            None => {
                let mut stats = SeriesStats::default();
                add_view(&mut stats, v);
                self.index.insert(h, self.slots.len());
                self.slots.push(Slot {
                    hash: h,
                    second,
                    key: key_of(v),
                    stats,
                });
            }
        }
    }

    /// Removes and returns every second strictly before `second`, oldest first.
    pub fn take_before(&mut self, second: u64) -> Vec<SecondRollup> {
        let mut out: BTreeMap<u64, SecondRollup> = BTreeMap::new();
        let slots = std::mem::take(&mut self.slots);
        self.index.clear();
        for slot in slots {
            if slot.second < second {
                out.entry(slot.second)
                    .or_insert_with(|| SecondRollup::new(slot.second))
                    .series
                    .entry(slot.key)
                    .or_default()
                    .merge(&slot.stats);
            } else {
                self.index.insert(slot.hash, self.slots.len());
                self.slots.push(slot);
            }
        }
        let collided = std::mem::take(&mut self.collided);
        for ((s, key), stats) in collided {
            if s < second {
                out.entry(s)
                    .or_insert_with(|| SecondRollup::new(s))
                    .series
                    .entry(key)
                    .or_default()
                    .merge(&stats);
            } else {
                self.collided.insert((s, key), stats);
            }
        }
        out.into_values().collect()
    }

    /// Removes and returns everything, oldest first.
    pub fn take_all(&mut self) -> Vec<SecondRollup> {
        self.take_before(u64::MAX)
    }
}

/// Per-second rollups of decoded records, built as the collector's pre-aggregation builds
/// them (equal to `digest::RollupBuilder`'s, without copying a string per record): for
/// readers of recorded files that feed the analyzer rollups beside its records
/// (`warroom replay`).
#[derive(Default)]
pub struct RecordRollups(Preagg);

impl RecordRollups {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record.
    #[inline]
    pub fn add(&mut self, r: &digest::DigestRecord) {
        self.0.add(&RecordView::of(r));
    }

    /// Removes and returns every second, oldest first.
    pub fn take_all(&mut self) -> Vec<SecondRollup> {
        self.0.take_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::{DigestRecord, RollupBuilder, SpanId, SpanKind, TraceId};

    #[test]
    fn record_rollups_equal_rollup_builder() {
        let mut fast = RecordRollups::new();
        let mut reference = RollupBuilder::default();
        let lines = crate::bench::generate_lines(3_000, 5, 1_800_000_000_000_000, 2_000);
        for l in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let r = digest::decode_record(l).unwrap();
            fast.add(&r);
            reference.add(&r);
        }
        assert_eq!(fast.take_all(), reference.take_all());
    }

    #[test]
    fn equals_rollup_builder() {
        let mut fast = Preagg::new();
        let mut reference = RollupBuilder::default();
        for i in 0..5_000u64 {
            let r = DigestRecord {
                time_us: 1_800_000_000_000_000 + i * 1_700,
                trace_id: TraceId(i as u128 + 1),
                span_id: SpanId(i + 1),
                kind: if i % 3 == 0 {
                    SpanKind::Client
                } else {
                    SpanKind::Server
                },
                service: ["trade", "cashier", "bank-gateway"][(i % 3) as usize].into(),
                operation: format!("op{}", i % 5),
                peer: if i % 2 == 0 {
                    "icbc".into()
                } else {
                    String::new()
                },
                scene: "quick_pay".into(),
                shadow: i % 11 == 0,
                code: if i % 7 == 0 {
                    "FAIL".into()
                } else {
                    "SUCCESS".into()
                },
                success: i % 7 != 0,
                duration_us: i * 13 % 9_000,
                amount_cents: Some(i as i64),
                ..Default::default()
            };
            fast.add(&RecordView::of(&r));
            reference.add(&r);
        }
        let early = fast.take_before(1_800_000_003);
        let mut all = early.clone();
        all.extend(fast.take_all());
        assert_eq!(early.len(), 3);
        assert_eq!(all, reference.take_all());
        assert!(fast.slots.is_empty() && fast.collided.is_empty());
    }
}
