//! Lock-free sliding windows driven by the caller's clock: a leap array like
//! Sentinel's for QPS (ten 100 ms buckets per second rather than Sentinel's two,
//! so a burst at a bucket edge overshoots by at most a tenth of the limit), a pacing slot for the rate limiter,
//! and per-value token buckets (sharded) for hot-parameter limits.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: usize = 10;

/// A sliding window of `BUCKETS` buckets; each bucket packs its window index
/// (high 32 bits) and its count (low 32 bits) into one atomic, so a reset and an
/// increment can never interleave.
#[derive(Debug)]
pub(crate) struct SlidingWindow {
    bucket_us: u64,
    buckets: [AtomicU64; BUCKETS],
}

impl SlidingWindow {
    /// A window of `interval_us` split into ten buckets.
    pub(crate) fn new(interval_us: u64) -> Self {
        Self {
            bucket_us: (interval_us / BUCKETS as u64).max(1),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn index(&self, now_us: u64) -> u32 {
        // +1 so that a zeroed bucket never looks current at time 0. Indices wrap
        // (every 2^32 buckets); comparisons are wrap-safe.
        ((now_us / self.bucket_us) as u32).wrapping_add(1)
    }

    /// Calls counted in the window ending at `now_us`.
    pub(crate) fn sum(&self, now_us: u64) -> u64 {
        let cur = self.index(now_us);
        let mut total = 0;
        for b in &self.buckets {
            let v = b.load(Ordering::Acquire);
            let idx = (v >> 32) as u32;
            if cur.wrapping_sub(idx) < BUCKETS as u32 {
                total += v & 0xFFFF_FFFF;
            }
        }
        total
    }

    /// Counts `n` calls at `now_us`.
    pub(crate) fn add(&self, now_us: u64, n: u64) {
        let cur = self.index(now_us);
        let slot = &self.buckets[cur as usize % BUCKETS];
        let mut v = slot.load(Ordering::Acquire);
        loop {
            let idx = (v >> 32) as u32;
            let next = if idx == cur {
                let c = (v & 0xFFFF_FFFF).saturating_add(n).min(0xFFFF_FFFF);
                ((cur as u64) << 32) | c
            } else if idx == 0 || cur.wrapping_sub(idx) < u32::MAX / 2 {
                // Empty, or older than now (wrap-safe): start the bucket afresh.
                ((cur as u64) << 32) | n.min(0xFFFF_FFFF)
            } else {
                return; // the clock stepped back past this bucket: drop the sample
            };
            match slot.compare_exchange_weak(v, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(seen) => v = seen,
            }
        }
    }
}

/// Sentinel's rate limiter (`controlBehavior` 2): calls are spaced `1/count`
/// seconds apart; a call that would wait longer than the queue allows is refused.
#[derive(Debug)]
pub(crate) struct Pacer {
    last_passed_us: AtomicU64,
}

impl Default for Pacer {
    fn default() -> Self {
        Self {
            last_passed_us: AtomicU64::new(0),
        }
    }
}

impl Pacer {
    /// `Some(wait_us)` when the call may pass after waiting, `None` when refused.
    pub(crate) fn acquire(&self, now_us: u64, per_s: f64, max_queue_us: u64) -> Option<u64> {
        if per_s <= 0.0 {
            return None;
        }
        let cost = (1e6 / per_s).round() as u64;
        let mut last = self.last_passed_us.load(Ordering::Acquire);
        loop {
            let expected = last.saturating_add(cost);
            let (next, wait) = if expected <= now_us {
                (now_us, 0)
            } else {
                (expected, expected - now_us)
            };
            if wait > max_queue_us {
                return None;
            }
            match self.last_passed_us.compare_exchange_weak(
                last,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(wait),
                Err(seen) => last = seen,
            }
        }
    }
}

const SHARDS: usize = 16;
/// Values tracked per shard before the shard's idle buckets are dropped.
const SHARD_CAP: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled_us: u64,
}

/// Token buckets per key value (hot-parameter rules): each value holds up to
/// `capacity` tokens and regains `per_s` a second.
#[derive(Debug)]
pub(crate) struct KeyedBuckets {
    shards: Vec<Mutex<HashMap<String, Bucket, BuildHasherDefault<FnvHasher>>>>,
}

/// FNV-1a for short key values (merchant and user ids).
#[derive(Default)]
pub(crate) struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl Default for KeyedBuckets {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
        }
    }
}

fn shard_of(value: &str) -> usize {
    // FNV-1a: cheap, stable, no allocation.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in value.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SHARDS
}

impl KeyedBuckets {
    /// Takes one token for `value`; `false` when its bucket is empty.
    pub(crate) fn try_take(&self, value: &str, now_us: u64, per_s: f64, capacity: f64) -> bool {
        let mut map = self.shards[shard_of(value)].lock();
        if let Some(b) = map.get_mut(value) {
            let dt = now_us.saturating_sub(b.refilled_us) as f64 / 1e6;
            b.tokens = (b.tokens + dt * per_s).min(capacity);
            b.refilled_us = b.refilled_us.max(now_us);
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                return true;
            }
            return false;
        }
        if capacity < 1.0 {
            return false;
        }
        if map.len() >= SHARD_CAP {
            // Drop buckets that have refilled completely: they hold no state.
            map.retain(|_, b| {
                (b.tokens + now_us.saturating_sub(b.refilled_us) as f64 / 1e6 * per_s) < capacity
            });
            if map.len() >= SHARD_CAP {
                map.clear();
            }
        }
        map.insert(
            value.to_string(),
            Bucket {
                tokens: capacity - 1.0,
                refilled_us: now_us,
            },
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let w = SlidingWindow::new(1_000_000);
        w.add(0, 3);
        w.add(450_000, 2);
        assert_eq!(w.sum(499_999), 5);
        w.add(950_000, 4);
        assert_eq!(w.sum(999_999), 9);
        // At 1.0 s the first bucket (0..0.1 s) has left the window.
        assert_eq!(w.sum(1_000_000), 6);
        assert_eq!(w.sum(1_400_000), 4);
        assert_eq!(w.sum(1_899_999), 4);
        assert_eq!(w.sum(1_900_000), 0);
        w.add(2_000_000, 1);
        assert_eq!(w.sum(2_000_000), 1);
        // A bucket reused ten slots later starts from zero.
        w.add(3_000_000, 7);
        assert_eq!(w.sum(3_000_000), 7);
    }

    #[test]
    fn pacer_spaces_calls() {
        let p = Pacer::default();
        assert_eq!(p.acquire(1_000_000, 10.0, 0), Some(0));
        assert_eq!(p.acquire(1_000_000, 10.0, 0), None);
        assert_eq!(p.acquire(1_000_000, 10.0, 150_000), Some(100_000));
        assert_eq!(p.acquire(1_300_000, 10.0, 0), Some(0));
    }

    #[test]
    fn buckets_refill() {
        let b = KeyedBuckets::default();
        assert!(b.try_take("m1", 0, 2.0, 2.0));
        assert!(b.try_take("m1", 0, 2.0, 2.0));
        assert!(!b.try_take("m1", 0, 2.0, 2.0));
        assert!(b.try_take("m2", 0, 2.0, 2.0));
        assert!(b.try_take("m1", 500_000, 2.0, 2.0));
        assert!(!b.try_take("m1", 500_000, 2.0, 2.0));
    }
}
