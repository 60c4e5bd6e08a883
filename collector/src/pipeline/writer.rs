//! The store writer: one task that takes admitted batches in sequence order,
//! coalesces what is queued into one store write (retrying while the store is
//! down), publishes records to subscribers, confirms the write-ahead buffer and
//! closes seconds of the pre-aggregation on a timer.

use super::{Inner, Msg};
use crate::bus::Bus;
use crate::metrics::Metrics;
use crate::store::{LineBatch, Store, StoreError};
use digest::{ChangeEvent, SharedClock};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

struct Backoff(Duration);
impl Backoff {
    fn new() -> Self {
        Self(Duration::from_millis(50))
    }
}

pub(super) struct Writer {
    pub rx: mpsc::UnboundedReceiver<Msg>,
    pub p: Weak<Inner>,
    pub metrics: Arc<Metrics>,
    pub bus: Bus,
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    pub batch_records: usize,
    pub lateness_us: u64,
}

impl Writer {
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let msg = tokio::select! {
                m = self.rx.recv() => match m { Some(m) => m, None => break },
                _ = tick.tick() => { self.close_seconds(); continue; }
            };
            match msg {
                m @ (Msg::Flush(_) | Msg::Events { .. }) => self.handle_other(m).await,
                Msg::Lines { seq, at_us, batch } => self.write_lines(seq, at_us, batch).await,
            }
        }
        // Channel closed: publish what is left.
        if let Some(p) = self.p.upgrade() {
            let rest = p.admission.lock().take_all();
            for r in rest {
                self.metrics.rollups_published.fetch_add(1, Relaxed);
                self.bus.publish_rollup(r);
            }
        }
    }

    /// Stores one batch plus whatever batches are already queued behind it.
    async fn write_lines(&mut self, seq: u64, at_us: u64, batch: LineBatch) {
        let mut seq = seq;
        let mut batch = batch;
        let mut next = None;
        while batch.len() < self.batch_records {
            match self.rx.try_recv() {
                Ok(Msg::Lines {
                    seq: s, batch: b, ..
                }) => {
                    seq = s;
                    batch.append(b);
                }
                Ok(other) => {
                    next = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let lag = self.clock.now_us().saturating_sub(at_us);
        self.metrics.store_lag_us.store(lag, Relaxed);
        let n = batch.len() as u64;
        if self.bus.wants_records() {
            self.bus.publish_records(&batch.records());
        }
        self.store_lines(seq, batch).await;
        self.metrics.records_written.fetch_add(n, Relaxed);
        self.confirm(seq);
        self.metrics.pending_records.fetch_sub(n, Relaxed);
        self.metrics.store_lag_us.store(0, Relaxed);
        self.close_seconds();
        if let Some(m) = next {
            self.handle_other(m).await;
        }
    }

    /// A flush or a batch of events (line batches go through coalescing); also
    /// used for such messages pulled while coalescing, handled in order.
    async fn handle_other(&mut self, m: Msg) {
        match m {
            Msg::Flush(done) => {
                self.close_seconds();
                let _ = done.send(());
            }
            Msg::Events { seq, events } => {
                self.store_events(seq, &events).await;
                self.metrics
                    .events_written
                    .fetch_add(events.len() as u64, Relaxed);
                self.bus.publish_events(&events);
                self.confirm(seq);
            }
            Msg::Lines { seq, at_us, batch } => Box::pin(self.write_lines(seq, at_us, batch)).await,
        }
    }

    async fn store_lines(&self, seq: u64, batch: LineBatch) {
        let mut backoff = Backoff::new();
        let mut batch = batch;
        while let Err((e, back)) = self.store.insert_lines(seq, batch).await {
            batch = back;
            self.store_failed(&e, &mut backoff).await;
        }
    }

    async fn store_events(&self, seq: u64, events: &[ChangeEvent]) {
        let mut backoff = Backoff::new();
        while let Err(e) = self.store.insert_events_batch(seq, events).await {
            self.store_failed(&e, &mut backoff).await;
        }
    }

    /// The data stays queued (and in the write-ahead buffer) until the store takes it.
    async fn store_failed(&self, e: &StoreError, b: &mut Backoff) {
        self.metrics.store_errors.fetch_add(1, Relaxed);
        tracing::warn!("store write failed, retrying in {:?}: {e}", b.0);
        tokio::time::sleep(b.0).await;
        b.0 = (b.0 * 2).min(Duration::from_secs(2));
    }

    fn confirm(&self, seq: u64) {
        if let Some(p) = self.p.upgrade() {
            if let Err(e) = p.wal.lock().confirm(seq) {
                tracing::warn!("write-ahead checkpoint failed (will replay more on restart): {e}");
            }
        }
    }

    /// Publishes every second that ended more than the lateness ago.
    fn close_seconds(&mut self) {
        let now = self.clock.now_us();
        let before = now.saturating_sub(self.lateness_us) / 1_000_000;
        if before == 0 {
            return;
        }
        let Some(p) = self.p.upgrade() else { return };
        let closed = p.admission.lock().close_before(before);
        for r in closed {
            self.metrics.rollups_published.fetch_add(1, Relaxed);
            self.bus.publish_rollup(r);
        }
    }
}
