//! The ingest pipeline, drivable without sockets: write-ahead buffer (acknowledge
//! only once durable) → dedup → per-second pre-aggregation → store, plus the
//! subscription bus downstream consumers read from.
//!
//! An ingest call appends the batch's lines to the buffer and then, under the
//! admission lock taken before the buffer's lock is let go (so in sequence
//! order, while the next batch is already being written), drops duplicates and
//! pre-aggregates from borrowed views ([`admit`]); the kept lines go to one writer task
//! ([`writer`]) that stores them (retrying while the store is down), publishes
//! to subscribers and then confirms the batch so the buffer can be truncated.
//! Memory is bounded by `max_pending_records`: past it, ingest is refused with
//! [`IngestError::Busy`] instead of queueing more. On open, the duplicate
//! window is rebuilt from the store's most recent records and the replay.

mod admit;
mod writer;

use crate::bus::Bus;
use crate::config::{FsyncPolicy, PipelineConfig};
use crate::error::{IngestError, OpenError};
use crate::metrics::{Gauges, Metrics};
use crate::scan::{decode_fast, RecordView};
use crate::sources::otlp::KnownServices;
use crate::sources::tail::{SharedTailStats, TailStats};
use crate::store::{LineBatch, Store};
use crate::wal::{Frame, FrameKind, Wal};
use admit::Admission;
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
    /// Of the accepted records, those older than the retention (by their own
    /// `time`): acknowledged, counted, not stored.
    pub outside_retention: usize,
}

enum Msg {
    /// An admitted batch: the lines kept after dedup.
    Lines {
        seq: u64,
        at_us: u64,
        batch: LineBatch,
    },
    Events {
        seq: u64,
        events: Vec<ChangeEvent>,
    },
    Flush(oneshot::Sender<()>),
}

struct Inner {
    cfg: PipelineConfig,
    /// Lock order: `wal`, then `admission`.
    wal: Mutex<Wal>,
    admission: Mutex<Admission>,
    known: KnownServices,
    /// The file tailer feeding this pipeline, if any (for stats and metrics).
    tail: Mutex<Option<SharedTailStats>>,
    tx: mpsc::UnboundedSender<Msg>,
    metrics: Arc<Metrics>,
    bus: Bus,
    store: Arc<dyn Store>,
    clock: SharedClock,
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
        let mut admission = Admission::new(cfg.dedup_keys);
        // A client retrying a batch acknowledged before a restart is still caught.
        admission.remember(store.recent_keys(cfg.dedup_keys));
        let inner = Arc::new(Inner {
            wal: Mutex::new(wal),
            admission: Mutex::new(admission),
            known: KnownServices::default(),
            tail: Mutex::new(None),
            tx,
            metrics: metrics.clone(),
            bus: bus.clone(),
            store: store.clone(),
            clock: clock.clone(),
            buffers: Mutex::new(Vec::new()),
            requests: Arc::new(tokio::sync::Semaphore::new(
                cfg.limits.max_inflight_requests,
            )),
            cfg,
        });
        let p = Pipeline { inner };
        p.queue_replay(replay);
        let writer = writer::Writer {
            rx,
            p: Arc::downgrade(&p.inner),
            metrics,
            bus,
            store,
            clock,
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

    /// Queues the frames the store had not confirmed, admitted again in order
    /// (which also refills the duplicate window).
    fn queue_replay(&self, frames: Vec<Frame>) {
        let now = self.inner.clock.now_us();
        for f in frames {
            let mut records = Vec::new();
            let mut events = Vec::new();
            for line in admit::record_lines(&f.payload) {
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
                    let lines = LineBatch::from_records(&records);
                    let views: Vec<RecordView<'_>> = records.iter().map(RecordView::of).collect();
                    let mut adm = self.inner.admission.lock();
                    let (batch, _) = self.admit_lines(&mut adm, &lines.lines, &views);
                    Msg::Lines {
                        seq: f.seq,
                        at_us: now,
                        batch,
                    }
                }
                FrameKind::Events => Msg::Events { seq: f.seq, events },
            };
            let _ = self.inner.tx.send(msg);
        }
    }

    /// Dedup + pre-aggregation of a durable batch; counts what it dropped and
    /// what will wait for the store. Call holding the admission lock, taken
    /// before the write-ahead lock was let go (sequence order).
    fn admit_lines(
        &self,
        adm: &mut Admission,
        payload: &[u8],
        views: &[RecordView<'_>],
    ) -> (LineBatch, u64) {
        let cutoff_us = self.inner.cfg.retention_s.map_or(0, |r| {
            self.inner
                .clock
                .now_us()
                .saturating_sub(r.saturating_mul(1_000_000))
        });
        let a = adm.admit(payload, views, &self.inner.known, cutoff_us);
        let m = &self.inner.metrics;
        if a.outside_retention > 0 {
            m.outside_retention.fetch_add(a.outside_retention, Relaxed);
        }
        if a.duplicates > 0 {
            m.duplicates_dropped.fetch_add(a.duplicates, Relaxed);
        }
        if a.late > 0 {
            m.late_records.fetch_add(a.late, Relaxed);
        }
        m.pending_records.fetch_add(a.kept.len() as u64, Relaxed);
        (a.kept, a.outside_retention)
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
        let views: Vec<RecordView<'_>> = records.iter().map(RecordView::of).collect();
        self.ingest_views(payload, &views)
    }

    /// The hot path: `views[i]` describes the i-th non-blank line of `payload`
    /// (v1 record lines, validated). Nothing is copied per record: the lines are
    /// appended to the write-ahead buffer and the kept ones handed to the store.
    pub fn ingest_views(
        &self,
        payload: &[u8],
        views: &[RecordView<'_>],
    ) -> Result<Receipt, IngestError> {
        if views.is_empty() {
            return Ok(Receipt {
                seq: 0,
                accepted: 0,
                outside_retention: 0,
            });
        }
        let n = views.len();
        let lines = admit::record_lines(payload).count();
        if lines != n {
            return Err(IngestError::LinesMismatch { lines, records: n });
        }
        self.admit(n as u64, payload.len() as u64)?;
        let at_us = self.inner.clock.now_us();
        let (seq, outside) = {
            let mut wal = self.inner.wal.lock();
            let seq = wal.append(FrameKind::Records, payload)?;
            // Hand over hand: take the admission lock before letting the next
            // batch at the write-ahead buffer, so batches are admitted and queued
            // in sequence order while the next one is already being written.
            let mut adm = self.inner.admission.lock();
            drop(wal);
            let (batch, outside) = self.admit_lines(&mut adm, payload, views);
            self.inner
                .tx
                .send(Msg::Lines { seq, at_us, batch })
                .map_err(|_| IngestError::Closed)?;
            (seq, outside)
        };
        self.inner
            .metrics
            .records_accepted
            .fetch_add(n as u64, Relaxed);
        Ok(Receipt {
            seq,
            accepted: n,
            outside_retention: outside as usize,
        })
    }

    /// Same as [`Pipeline::ingest_records`] for change events.
    pub async fn ingest_events(&self, events: Vec<ChangeEvent>) -> Result<Receipt, IngestError> {
        if events.is_empty() {
            return Ok(Receipt {
                seq: 0,
                accepted: 0,
                outside_retention: 0,
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
            // Queued in sequence order, as records are (see `ingest_views`).
            let _adm = self.inner.admission.lock();
            drop(wal);
            self.inner
                .tx
                .send(Msg::Events { seq, events })
                .map_err(|_| IngestError::Closed)?;
            self.inner
                .metrics
                .events_accepted
                .fetch_add(n as u64, Relaxed);
            Ok(Receipt {
                seq,
                accepted: n,
                outside_retention: 0,
            })
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
    /// Shows a file tailer's stats (`Tailer::shared_stats`) in `/api/stats`
    /// (`tail`) and `/metrics` (`warroom_collector_tail_*`).
    pub fn watch_tailer(&self, stats: SharedTailStats) {
        *self.inner.tail.lock() = Some(stats);
    }

    /// The watched tailer's stats, as of its last poll.
    pub fn tail_stats(&self) -> Option<TailStats> {
        let t = self.inner.tail.lock().clone()?;
        let s = t.lock().clone();
        Some(s)
    }

    /// Services seen serving calls (learnt from every record admitted), for
    /// classing OTLP client spans (`client` vs `integrator`).
    pub fn known_services(&self) -> &KnownServices {
        &self.inner.known
    }

    /// Gauges read now (for `/metrics` and `/api/stats`).
    pub async fn gauges(&self) -> Gauges {
        let records_stored = self.inner.store.count().await.unwrap_or(0);
        let (b, n) = {
            let w = self.inner.wal.lock();
            (w.unconfirmed_bytes(), w.unconfirmed_batches() as u64)
        };
        Gauges {
            retention: self.inner.store.retention(),
            records_stored,
            wal_unconfirmed_bytes: b,
            wal_unconfirmed_batches: n,
            subscribers: self.inner.bus.subscribers() as u64,
            subscriber_missed: self.inner.bus.missed_total(),
            dedup_keys: self.inner.admission.lock().dedup_len() as u64,
            tail: self.tail_stats(),
        }
    }
}
