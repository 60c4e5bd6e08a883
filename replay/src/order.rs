//! Time order within a window: items are held in buckets of one analyzer tick (by their
//! start time) and a bucket is released, oldest first, once every input has read past its
//! end by the window — exporters batch (an OpenTelemetry SDK's default is 5 s), SOFATracer
//! stamps a call at its end, several files interleave. Within a bucket the input order is
//! kept (a live step ingests what arrived, then ticks). An item for a bucket already
//! released comes back to be fed at once (live, it would arrive late). The buckets hold at
//! most `MAX_HELD` items: beyond it the oldest are released early (the window shrinks for
//! very dense recordings rather than the memory growing).

use crate::format::Item;
use digest::SecondRollup;
use std::collections::BTreeMap;

/// Most items held for ordering (about 200 MB of decoded records of ~440-byte lines).
pub(crate) const MAX_HELD: usize = 131_072;

/// One tick's items and the (partial) rollups of its records.
#[derive(Default)]
pub(crate) struct Bucket {
    pub items: Vec<Item>,
    pub rollups: Vec<SecondRollup>,
}

pub(crate) struct Order {
    tick_us: u64,
    window_ticks: u64,
    buckets: BTreeMap<u64, Bucket>,
    /// Every bucket below this one was released.
    released_below: u64,
    held: usize,
}

impl Order {
    pub(crate) fn new(tick_us: u64, window_us: u64) -> Self {
        Self {
            tick_us,
            // At least one tick: a tick's rollup comes with the batch that moves past it.
            window_ticks: window_us.div_ceil(tick_us).max(1),
            buckets: BTreeMap::new(),
            released_below: 0,
            held: 0,
        }
    }

    /// Holds `item`; gives it back when its bucket was already released.
    pub(crate) fn push(&mut self, item: Item) -> Option<Item> {
        let b = item.time_us / self.tick_us;
        if b < self.released_below {
            return Some(item);
        }
        self.held += 1;
        match self.buckets.last_entry() {
            Some(mut e) if *e.key() == b => e.get_mut().items.push(item),
            _ => self.buckets.entry(b).or_default().items.push(item),
        }
        None
    }

    /// Holds the rollup of tick `b`'s records; gives it back when the tick was released.
    pub(crate) fn push_rollup(&mut self, b: u64, r: SecondRollup) -> Option<SecondRollup> {
        if b < self.released_below {
            return Some(r);
        }
        self.buckets.entry(b).or_default().rollups.push(r);
        None
    }

    /// Whether more than `MAX_HELD` items are held (release the oldest, ready or not).
    pub(crate) fn over_cap(&self) -> bool {
        self.held > MAX_HELD
    }

    /// The oldest bucket every input has read past by the window (`watermark_us`: the
    /// lowest time the inputs still reading have reached), with its index.
    pub(crate) fn pop_ready(&mut self, watermark_us: u64) -> Option<(u64, Bucket)> {
        let (&b, _) = self.buckets.first_key_value()?;
        if b + self.window_ticks > watermark_us / self.tick_us {
            return None;
        }
        self.pop_first()
    }

    /// The oldest bucket, whatever the watermark (the inputs are done).
    pub(crate) fn pop_first(&mut self) -> Option<(u64, Bucket)> {
        let (b, bucket) = self.buckets.pop_first()?;
        self.released_below = b + 1;
        self.held -= bucket.items.len();
        Some((b, bucket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::What;
    use digest::{ChangeEvent, ChangeKind};

    fn item(t: u64) -> Item {
        Item {
            time_us: t,
            what: What::Event(ChangeEvent {
                time_us: t,
                event: ChangeKind::Config,
                service: "s".into(),
                version: String::new(),
                detail: String::new(),
                by: String::new(),
            }),
        }
    }

    #[test]
    fn releases_in_time_order_once_the_window_has_passed() {
        let mut o = Order::new(100_000, 1_000_000);
        // Out of order by up to 0.9 s.
        for t in [1_950_000, 1_050_000, 1_420_000, 1_060_000] {
            assert!(o.push(item(t)).is_none());
        }
        // Nothing is a whole window old yet.
        assert!(o.pop_ready(1_950_000).is_none());
        let (b, first) = o.pop_ready(2_050_000).expect("bucket 10 is ready");
        assert_eq!(b, 10);
        assert_eq!(
            first.items.iter().map(|i| i.time_us).collect::<Vec<_>>(),
            [1_050_000, 1_060_000]
        );
        assert!(o.pop_ready(2_050_000).is_none());
        assert_eq!(o.held, 2);
        assert!(o.push_rollup(10, SecondRollup::new(1)).is_some());
        assert!(o.push_rollup(14, SecondRollup::new(1)).is_none());
        // Late for a released bucket: handed back.
        assert!(o.push(item(1_000_000)).is_some());
        let rest: Vec<u64> = std::iter::from_fn(|| o.pop_first())
            .map(|(b, _)| b)
            .collect();
        assert_eq!(rest, [14, 19]);
    }
}
