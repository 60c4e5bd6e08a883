//! Fixed-size rings of time buckets (1 s, 10 s, 1 min) with bounded retention.
//! A bucket is addressed by its start second; a slot is reused when its time has
//! passed out of the ring, so memory never grows with uptime.

use super::stats::Stats;

/// One ring of buckets `width` seconds wide, `len` buckets long.
#[derive(Debug, Clone)]
pub struct Ring {
    width: u64,
    slots: Vec<Option<(u64, Stats)>>,
}

impl Ring {
    pub fn new(width: u64, len: usize) -> Self {
        Self {
            width: width.max(1),
            slots: vec![None; len.max(1)],
        }
    }

    pub fn width(&self) -> u64 {
        self.width
    }

    /// Seconds of history this ring holds.
    pub fn span(&self) -> u64 {
        self.width * self.slots.len() as u64
    }

    /// The bucket holding `second`, created (or recycled) as needed.
    pub fn bucket_mut(&mut self, second: u64) -> &mut Stats {
        let start = second - second % self.width;
        let idx = ((start / self.width) % self.slots.len() as u64) as usize;
        let slot = &mut self.slots[idx];
        match slot {
            Some((s, _)) if *s == start => {}
            _ => *slot = Some((start, Stats::default())),
        }
        &mut slot.as_mut().expect("just set").1
    }

    /// Merges the buckets whose start lies in `[from, to)`.
    pub fn sum(&self, from: u64, to: u64, out: &mut Stats) {
        for (start, st) in self.slots.iter().flatten() {
            if *start >= from && *start < to {
                out.merge(st);
            }
        }
    }

    /// The bucket starting at `start`, if held.
    pub fn get(&self, start: u64) -> Option<&Stats> {
        let idx = ((start / self.width) % self.slots.len() as u64) as usize;
        match &self.slots[idx] {
            Some((s, st)) if *s == start => Some(st),
            _ => None,
        }
    }
}

/// The three tiers of one view: every rollup is added to all three, so late
/// data lands in the right 10 s and 1 min bucket too and the tiers never disagree.
#[derive(Debug, Clone)]
pub struct Tiered {
    pub sec: Ring,
    pub ten: Ring,
    pub min: Ring,
    /// Last second that received data.
    pub last_second: u64,
}

/// How long each tier keeps its buckets.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub seconds_1s: usize,
    pub buckets_10s: usize,
    pub buckets_1m: usize,
}

impl Tiered {
    pub fn new(r: Retention) -> Self {
        Self {
            sec: Ring::new(1, r.seconds_1s),
            ten: Ring::new(10, r.buckets_10s),
            min: Ring::new(60, r.buckets_1m),
            last_second: 0,
        }
    }

    /// Adds a series of `code` (`business`: a business decline, not an error).
    pub fn add(&mut self, second: u64, code: &str, s: &digest::SeriesStats, business: bool) {
        self.sec.bucket_mut(second).add_series(code, s, business);
        self.ten.bucket_mut(second).add_series(code, s, business);
        self.min.bucket_mut(second).add_series(code, s, business);
        self.last_second = self.last_second.max(second);
    }

    /// Merges `[from, to)`, using the finest tier that still holds `from`, and
    /// coarser tiers for the older part.
    pub fn range(&self, from: u64, to: u64, now_s: u64) -> Stats {
        let mut out = Stats::default();
        if from >= to {
            return out;
        }
        let sec_floor = now_s.saturating_sub(self.sec.span() - 1);
        if from >= sec_floor {
            self.sec.sum(from, to, &mut out);
            return out;
        }
        // Older part from the 10 s (or 1 min) tier, aligned to that tier's buckets;
        // the rest from the 1 s tier.
        let ten_floor = now_s.saturating_sub(self.ten.span() - 10);
        let (ring, width) = if from >= ten_floor {
            (&self.ten, 10)
        } else {
            (&self.min, 60)
        };
        let split = sec_floor.div_ceil(width) * width;
        let split = split.min(to);
        ring.sum(from - from % width, split, &mut out);
        self.sec.sum(split, to, &mut out);
        out
    }
}
