//! The ingest pipeline, drivable without sockets: write-ahead buffer (acknowledge
//! only once durable) → dedup → per-second pre-aggregation → store, plus the
//! subscription bus downstream consumers read from.
//!
//! Ingest calls append to the buffer and queue the batch for one writer task,
//! which drops duplicates, aggregates, writes the store (retrying while it is
//! down), publishes to subscribers and then confirms the batch so the buffer can
//! be truncated. Memory is bounded by `max_pending_records`: past it, ingest is
//! refused with [`IngestError::Busy`] instead of queueing more.

use crate::bus::Bus;
use crate::config::{FsyncPolicy, PipelineConfig};
use crate::dedup::Dedup;
use crate::error::{IngestError, OpenError};
use crate::metrics::{Gauges, Metrics};
use crate::preagg::Preagg;
use crate::scan::{decode_fast, RecordView};
use crate::store::Store;
use crate::wal::{Frame, FrameKind, Wal};
use digest::{encode_event, encode_record, ChangeEvent, DigestRecord, Line, SharedClock};
use parking_lot::Mutex;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What an accepted batch got: its sequence number in the write-ahead buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Sequence number of the batch in the write-ahead buffer.
    pub seq: u64,
    /// Records (or events) made durable.
    pub accepted: usize,
}

enum Msg {
    Records {
        seq: u64,
        at_us: u64,
        records: Vec<DigestRecord>,
        /// The records' lines, when the store wants them.
        lines: Option<Vec<u8>>,
    },
    Events {
        seq: u64,
        events: Vec<ChangeEvent>,
    },
    Flush(oneshot::Sender<()>),
}

struct Inner {
    cfg: PipelineConfig,
    wal: Mutex<Wal>,
    tx: mpsc::UnboundedSender<Msg>,
    metrics: Arc<Metrics>,
    bus: Bus,
    store: Arc<dyn Store>,
    clock: SharedClock,
    dedup_len: Arc<std::sync::atomic::AtomicU64>,
    requests: Arc<tokio::sync::Semaphore>,
    /// Reusable body buffers (fresh megabyte buffers cost page faults).
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// The collector pipeline. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

impl Pipeline {
    /// Opens the write-ahead buffer in `cfg.data_dir/wal`, replays what the store
    /// has not confirmed, and starts the writer task (needs a tokio runtime).
    pub fn open(
        cfg: PipelineConfig,
        store: Arc<dyn Store>,
        clock: SharedClock,
    ) -> Result<Pipeline, OpenError> {
        cfg.validate().map_err(OpenError::Config)?;
        let wal_dir = cfg.data_dir.join("wal");
        std::fs::create_dir_all(&wal_dir).map_err(|source| OpenError::DataDir {
            path: wal_dir.display().to_string(),
            source,
        })?;
        let (wal, replay) = Wal::open(
            &wal_dir,
            cfg.fsync,
            cfg.wal_segment_bytes,
            store.applied_seq(),
        )
        .map_err(OpenError::Wal)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let metrics = Arc::new(Metrics::default());
        let bus = Bus::new(cfg.bus_capacity);
        let dedup_len = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let inner = Arc::new(Inner {
            wal: Mutex::new(wal),
            tx,
            metrics: metrics.clone(),
            bus: bus.clone(),
            store: store.clone(),
            clock: clock.clone(),
            dedup_len: dedup_len.clone(),
            buffers: Mutex::new(Vec::new()),
            requests: Arc::new(tokio::sync::Semaphore::new(
                cfg.limits.max_inflight_requests,
            )),
            cfg,
        });
        let p = Pipeline { inner };
        p.queue_replay(replay);
        let writer = Writer {
            rx,
            dedup: Dedup::new(p.inner.cfg.dedup_keys),
            preagg: Preagg::new(),
            published_before: 0,
            p: Arc::downgrade(&p.inner),
            metrics,
            bus,
            store,
            clock,
            dedup_len,
            batch_records: p.inner.cfg.store_batch_records,
            lateness_us: p.inner.cfg.rollup_lateness_ms * 1000,
        };
        tokio::spawn(writer.run());
        if let FsyncPolicy::Batch { interval_ms } = p.inner.cfg.fsync {
            let weak = Arc::downgrade(&p.inner);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(interval_ms));
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    let file = inner.wal.lock().current_file();
                    let metrics = inner.metrics.clone();
                    drop(inner);
                    let _ = tokio::task::spawn_blocking(move || {
                        if file.sync_data().is_ok() {
                            metrics.wal_fsyncs.fetch_add(1, Relaxed);
                        }
                    })
                    .await;
                }
            });
        }
        Ok(p)
    }

    fn queue_replay(&self, frames: Vec<Frame>) {
        let now = self.inner.clock.now_us();
        for f in frames {
            let mut records = Vec::new();
            let mut events = Vec::new();
            for line in f
                .payload
                .split(|&b| b == b'\n')
                .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
            {
                // Lines were validated before they were written; CRC guards the rest.
                match decode_fast(line) {
                    Ok(Line::Record(r)) => records.push(r),
                    Ok(Line::Event(e)) => events.push(e),
                    Err(e) => tracing::warn!("write-ahead line no longer decodes: {e}"),
                }
            }
            let m = &self.inner.metrics;
            m.replayed_records.fetch_add(records.len() as u64, Relaxed);
            let msg = match f.kind {
                FrameKind::Records => {
                    m.pending_records.fetch_add(records.len() as u64, Relaxed);
                    Msg::Records {
                        seq: f.seq,
                        at_us: now,
                        records,
                        lines: None,
                    }
                }
                FrameKind::Events => Msg::Events { seq: f.seq, events },
            };
            let _ = self.inner.tx.send(msg);
        }
    }

    fn admit(&self, n: u64, bytes: u64) -> Result<(), IngestError> {
        let cfg = &self.inner.cfg;
        let m = &self.inner.metrics;
        let pending = m.pending_records.load(Relaxed);
        // A batch larger than the whole limit still goes through an empty queue.
        if pending > 0 && pending + n > cfg.max_pending_records {
            m.refused_busy.fetch_add(1, Relaxed);
            return Err(IngestError::Busy {
                pending,
                limit: cfg.max_pending_records,
                retry_after_s: 1,
            });
        }
        let wal_bytes = self.inner.wal.lock().unconfirmed_bytes();
        if wal_bytes > 0 && wal_bytes + bytes > cfg.max_wal_bytes {
            m.refused_buffer_full.fetch_add(1, Relaxed);
            return Err(IngestError::BufferFull {
                bytes: wal_bytes,
                limit: cfg.max_wal_bytes,
                retry_after_s: 5,
            });
        }
        Ok(())
    }

    /// Makes `records` durable in the write-ahead buffer and queues them for the
    /// store. `Ok` means acknowledged: the records survive a crash from here on.
    pub async fn ingest_records(&self, records: Vec<DigestRecord>) -> Result<Receipt, IngestError> {
        let mut payload = Vec::with_capacity(records.len() * 480);
        for r in &records {
            encode_record(&mut payload, r);
        }
        self.ingest_encoded(payload, records)
    }

    /// As [`Pipeline::ingest_records`] when the caller already holds the records'
    /// v1 lines (each newline-terminated, each decoding to the matching record):
    /// the HTTP edge passes the accepted lines as they came, saving a re-encode.
    pub fn ingest_encoded(
        &self,
        payload: Vec<u8>,
        records: Vec<DigestRecord>,
    ) -> Result<Receipt, IngestError> {
        self.ingest_lines(&payload, records)
    }

    /// As [`Pipeline::ingest_encoded`], borrowing the lines (blank lines allowed).
    pub fn ingest_lines(
        &self,
        payload: &[u8],
        records: Vec<DigestRecord>,
    ) -> Result<Receipt, IngestError> {
        if records.is_empty() {
            return Ok(Receipt {
                seq: 0,
                accepted: 0,
            });
        }
        let n = records.len();
        self.admit(n as u64, payload.len() as u64)?;
        let at_us = self.inner.clock.now_us();
        let lines = self.inner.store.wants_lines().then(|| payload.to_vec());
        let m = &self.inner.metrics;
        let seq = {
            let mut wal = self.inner.wal.lock();
            let seq = wal.append(FrameKind::Records, payload)?;
            // Queue under the lock so the writer sees batches in sequence order.
            m.pending_records.fetch_add(n as u64, Relaxed);
            self.inner
                .tx
                .send(Msg::Records {
                    seq,
                    at_us,
                    records,
                    lines,
                })
                .map_err(|_| IngestError::Closed)?;
            seq
        };
        m.records_accepted.fetch_add(n as u64, Relaxed);
        Ok(Receipt { seq, accepted: n })
    }

    /// Same as [`Pipeline::ingest_records`] for change events.
    pub async fn ingest_events(&self, events: Vec<ChangeEvent>) -> Result<Receipt, IngestError> {
        if events.is_empty() {
            return Ok(Receipt {
                seq: 0,
                accepted: 0,
            });
        }
        let mut payload = Vec::with_capacity(events.len() * 160);
        for e in &events {
            encode_event(&mut payload, e);
        }
        self.admit(0, payload.len() as u64)?;
        let n = events.len();
        {
            let mut wal = self.inner.wal.lock();
            let seq = wal.append(FrameKind::Events, &payload)?;
            self.inner
                .tx
                .send(Msg::Events { seq, events })
                .map_err(|_| IngestError::Closed)?;
            self.inner
                .metrics
                .events_accepted
                .fetch_add(n as u64, Relaxed);
            Ok(Receipt { seq, accepted: n })
        }
    }

    /// Waits until everything acknowledged so far is stored and every second the
    /// clock has closed is published.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// A slot for one ingest request body, if fewer than
    /// `limits.max_inflight_requests` are being read.
    pub fn try_request_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.inner.requests.clone().try_acquire_owned().ok()
    }

    /// An empty buffer for a request body, reused when one is free.
    pub fn take_buffer(&self) -> Vec<u8> {
        self.inner.buffers.lock().pop().unwrap_or_default()
    }

    /// Returns a body buffer for reuse (a few, of at most 4 MiB, are kept).
    pub fn give_buffer(&self, mut b: Vec<u8>) {
        if b.capacity() <= 4 << 20 {
            b.clear();
            let mut pool = self.inner.buffers.lock();
            if pool.len() < 8 {
                pool.push(b);
            }
        }
    }

    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
    pub fn config(&self) -> &PipelineConfig {
        &self.inner.cfg
    }

    /// Gauges read now (for `/metrics` and `/api/stats`).
    pub async fn gauges(&self) -> Gauges {
        let records_stored = self.inner.store.count().await.unwrap_or(0);
        let (b, n) = {
            let w = self.inner.wal.lock();
            (w.unconfirmed_bytes(), w.unconfirmed_batches() as u64)
        };
        Gauges {
            records_stored,
            wal_unconfirmed_bytes: b,
            wal_unconfirmed_batches: n,
            subscribers: self.inner.bus.subscribers() as u64,
            subscriber_missed: self.inner.bus.missed_total(),
            dedup_keys: self.inner.dedup_len.load(Relaxed),
        }
    }
}

struct Backoff(Duration);
impl Backoff {
    fn new() -> Self {
        Self(Duration::from_millis(50))
    }
}

struct Writer {
    rx: mpsc::UnboundedReceiver<Msg>,
    dedup: Dedup,
    preagg: Preagg,
    /// Seconds before this one have been published.
    published_before: u64,
    p: std::sync::Weak<Inner>,
    metrics: Arc<Metrics>,
    bus: Bus,
    store: Arc<dyn Store>,
    clock: SharedClock,
    dedup_len: Arc<std::sync::atomic::AtomicU64>,
    batch_records: usize,
    lateness_us: u64,
}

impl Writer {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let msg = tokio::select! {
                m = self.rx.recv() => match m { Some(m) => m, None => break },
                _ = tick.tick() => { self.close_seconds(); continue; }
            };
            match msg {
                m @ (Msg::Flush(_) | Msg::Events { .. }) => self.handle_other(m).await,
                Msg::Records {
                    seq,
                    at_us,
                    records,
                    lines,
                } => {
                    let mut seq = seq;
                    let mut n = records.len();
                    let (mut batch, same) = self.admit(records);
                    // Lines stay usable only while no record was dropped.
                    let mut lines = lines.filter(|_| same);
                    let mut next = None;
                    // Coalesce what is already queued into one store write.
                    while batch.len() < self.batch_records {
                        match self.rx.try_recv() {
                            Ok(Msg::Records {
                                seq: s,
                                records,
                                lines: more_lines,
                                ..
                            }) => {
                                seq = s;
                                n += records.len();
                                let (more, same) = self.admit(records);
                                batch.extend(more);
                                lines = match (lines, more_lines) {
                                    (Some(mut a), Some(b)) if same => {
                                        if !a.is_empty() && !a.ends_with(b"\n") {
                                            a.push(b'\n');
                                        }
                                        a.extend_from_slice(&b);
                                        Some(a)
                                    }
                                    _ => None,
                                };
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
                    let written = batch.len() as u64;
                    self.bus.publish_records(&batch);
                    self.store_records(seq, batch, lines).await;
                    self.metrics.records_written.fetch_add(written, Relaxed);
                    self.confirm(seq);
                    self.metrics.pending_records.fetch_sub(n as u64, Relaxed);
                    self.metrics.store_lag_us.store(0, Relaxed);
                    self.close_seconds();
                    if let Some(m) = next {
                        self.handle_other(m).await;
                    }
                }
            }
        }
        // Channel closed: publish what is left.
        for r in self.preagg.take_all() {
            self.metrics.rollups_published.fetch_add(1, Relaxed);
            self.bus.publish_rollup(r);
        }
    }

    /// A flush or a batch of events (records go through coalescing); also used
    /// for such messages pulled while coalescing records, handled in order.
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
            Msg::Records { .. } => unreachable!("records are coalesced, never handled here"),
        }
    }

    /// Dedup and pre-aggregate one accepted batch; returns the records to store
    /// and whether none was dropped.
    fn admit(&mut self, records: Vec<DigestRecord>) -> (Vec<DigestRecord>, bool) {
        let before = records.len();
        let kept: Vec<DigestRecord> = records
            .into_iter()
            .filter(|r| self.dedup.first_time(r))
            .collect();
        let dup = (before - kept.len()) as u64;
        if dup > 0 {
            self.metrics.duplicates_dropped.fetch_add(dup, Relaxed);
        }
        for r in &kept {
            if r.time_us / 1_000_000 < self.published_before {
                self.metrics.late_records.fetch_add(1, Relaxed);
            }
            self.preagg.add(&RecordView::of(r));
        }
        self.dedup_len.store(self.dedup.len() as u64, Relaxed);
        (kept, dup == 0)
    }

    async fn store_records(&self, seq: u64, batch: Vec<DigestRecord>, lines: Option<Vec<u8>>) {
        let mut backoff = Backoff::new();
        let mut batch = batch;
        let mut lines = lines;
        // A retry encodes again (the lines went to the failed attempt).
        while let Err((e, back)) = self
            .store
            .insert_owned_lines(seq, batch, lines.take())
            .await
        {
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
    async fn store_failed(&self, e: &crate::store::StoreError, b: &mut Backoff) {
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
        for r in self.preagg.take_before(before) {
            self.metrics.rollups_published.fetch_add(1, Relaxed);
            self.bus.publish_rollup(r);
        }
        self.published_before = self.published_before.max(before);
    }
}
