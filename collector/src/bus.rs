//! The subscription bus for downstream consumers (the analyzer, a shipper to a
//! central analyzer): closed per-second rollups, accepted record batches and
//! change events, each on a bounded broadcast channel. Publishing never waits; a
//! consumer that falls behind loses the oldest messages and is told how many.

use digest::{ChangeEvent, DigestRecord, SecondRollup};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The publishing side, held by the pipeline.
#[derive(Clone)]
pub struct Bus {
    rollups: broadcast::Sender<Arc<SecondRollup>>,
    records: broadcast::Sender<Arc<[DigestRecord]>>,
    events: broadcast::Sender<Arc<[ChangeEvent]>>,
    missed: Arc<AtomicU64>,
}

/// One consumer's end of a channel.
pub struct Subscription<T> {
    rx: broadcast::Receiver<T>,
    missed_total: Arc<AtomicU64>,
    missed: u64,
}

impl<T: Clone> Subscription<T> {
    /// The next message; `None` once the pipeline is gone. Lagging skips ahead
    /// (the skipped count is added to [`Subscription::missed`]).
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            match self.rx.recv().await {
                Ok(v) => return Some(v),
                Err(broadcast::error::RecvError::Lagged(n)) => self.lagged(n),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next message if one is ready.
    pub fn try_recv(&mut self) -> Option<T> {
        loop {
            match self.rx.try_recv() {
                Ok(v) => return Some(v),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.lagged(n),
                Err(_) => return None,
            }
        }
    }

    fn lagged(&mut self, n: u64) {
        self.missed += n;
        self.missed_total.fetch_add(n, Ordering::Relaxed);
    }

    /// Messages this consumer missed because it was too slow.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            rollups: broadcast::channel(capacity).0,
            records: broadcast::channel(capacity).0,
            events: broadcast::channel(capacity).0,
            missed: Arc::new(AtomicU64::new(0)),
        }
    }

    fn sub<T: Clone>(&self, tx: &broadcast::Sender<T>) -> Subscription<T> {
        Subscription {
            rx: tx.subscribe(),
            missed_total: self.missed.clone(),
            missed: 0,
        }
    }

    /// Closed seconds, oldest first (a late record yields a further partial for
    /// its second; partials merge exactly).
    pub fn subscribe_rollups(&self) -> Subscription<Arc<SecondRollup>> {
        self.sub(&self.rollups)
    }
    /// Batches of accepted, deduplicated records, as they are handed to the store.
    pub fn subscribe_records(&self) -> Subscription<Arc<[DigestRecord]>> {
        self.sub(&self.records)
    }
    /// Batches of stored change events.
    pub fn subscribe_events(&self) -> Subscription<Arc<[ChangeEvent]>> {
        self.sub(&self.events)
    }

    pub(crate) fn publish_rollup(&self, r: SecondRollup) {
        if self.rollups.receiver_count() > 0 {
            let _ = self.rollups.send(Arc::new(r));
        }
    }
    /// True when someone subscribed to records (else they need not be decoded).
    pub(crate) fn wants_records(&self) -> bool {
        self.records.receiver_count() > 0
    }
    pub(crate) fn publish_records(&self, r: &[DigestRecord]) {
        if self.records.receiver_count() > 0 && !r.is_empty() {
            let _ = self.records.send(Arc::from(r));
        }
    }
    pub(crate) fn publish_events(&self, e: &[ChangeEvent]) {
        if self.events.receiver_count() > 0 && !e.is_empty() {
            let _ = self.events.send(Arc::from(e));
        }
    }

    /// Messages missed by all lagging consumers together.
    pub fn missed_total(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
    pub fn subscribers(&self) -> usize {
        self.rollups.receiver_count() + self.records.receiver_count() + self.events.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slow_consumer_never_blocks_and_counts_missed() {
        let bus = Bus::new(4);
        let mut slow = bus.subscribe_rollups();
        for s in 0..10 {
            bus.publish_rollup(SecondRollup::new(s));
        }
        let first = slow.recv().await.unwrap();
        assert_eq!(first.second, 6);
        assert_eq!(slow.missed(), 6);
        assert_eq!(bus.missed_total(), 6);
        let mut rest = vec![];
        while let Some(r) = slow.try_recv() {
            rest.push(r.second);
        }
        assert_eq!(rest, vec![7, 8, 9]);
    }
}
