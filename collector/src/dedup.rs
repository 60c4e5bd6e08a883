//! Drops retried duplicates by `(trace_id, span_id, kind)` with bounded memory:
//! two generations of keys; when the young one fills, the old one is forgotten.
//! A duplicate is caught as long as its first copy is among the last
//! `capacity`..`2 × capacity` distinct keys seen.

use crate::fasthash::IdHash;
use digest::{SpanId, SpanKind, TraceId};
use std::collections::HashSet;

/// The identity of a record for dedup: `(trace_id, span_id, kind)`.
pub type Key = (TraceId, SpanId, SpanKind);

/// Bounded duplicate filter.
pub struct Dedup {
    young: HashSet<Key, IdHash>,
    old: HashSet<Key, IdHash>,
    capacity: usize,
}

impl Dedup {
    pub fn new(capacity: usize) -> Self {
        Self {
            young: HashSet::with_capacity_and_hasher(capacity.min(1 << 16), IdHash::default()),
            old: HashSet::default(),
            capacity: capacity.max(1),
        }
    }

    /// True when the record with dedup key `k` is new (remember it), false for
    /// a duplicate.
    pub fn first_time_key(&mut self, k: Key) -> bool {
        if self.old.contains(&k) {
            return false;
        }
        if self.young.len() >= self.capacity {
            if self.young.contains(&k) {
                return false;
            }
            self.old = std::mem::take(&mut self.young);
        }
        // One lookup: `insert` says whether the key was already there.
        self.young.insert(k)
    }

    /// Keys remembered right now (at most `2 × capacity`).
    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::DigestRecord;

    fn rec(t: u128, s: u64, kind: SpanKind) -> DigestRecord {
        DigestRecord {
            trace_id: TraceId(t),
            span_id: SpanId(s),
            kind,
            ..Default::default()
        }
    }

    #[test]
    fn drops_repeats_and_stays_bounded() {
        let mut d = Dedup::new(100);
        assert!(d.first_time_key(rec(1, 1, SpanKind::Server).dedup_key()));
        assert!(!d.first_time_key(rec(1, 1, SpanKind::Server).dedup_key()));
        // Same ids, other side of the call: not a duplicate.
        assert!(d.first_time_key(rec(1, 1, SpanKind::Client).dedup_key()));
        for i in 0..10_000u64 {
            d.first_time_key(rec(2, i + 1, SpanKind::Server).dedup_key());
            assert!(d.len() <= 200);
        }
        // Recent keys are still remembered.
        assert!(!d.first_time_key(rec(2, 10_000, SpanKind::Server).dedup_key()));
    }
}
