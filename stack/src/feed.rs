//! The in-process path from payments-sim's digests into the collector: a
//! `digest::Sink` that queues records and change events (never blocking the
//! payment path), and `pump`, which hands what queued to the collector
//! `Pipeline` (write-ahead buffer, dedup, pre-aggregation, store, bus) and
//! counts what the collector refused. A recording feed also appends every line it hands
//! over (change events first, then records, as they go in) to a file for `warroom replay`.

use collector::Pipeline;
use digest::SinkStats;
use digest::{decode_record, ChangeEvent, DigestRecord, Sink};
use parking_lot::Mutex;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Queue bound: beyond it, records are dropped and counted (the payment path never waits).
const MAX_QUEUED: usize = 400_000;

/// The sink payments-sim writes to.
#[derive(Default)]
pub struct Feed {
    /// Decoded records and their v1 lines (newline-terminated), in the same order.
    records: Mutex<(Vec<DigestRecord>, Vec<u8>)>,
    events: Mutex<Vec<ChangeEvent>>,
    lines: AtomicU64,
    events_n: AtomicU64,
    dropped: AtomicU64,
    rejected: AtomicU64,
    delivered: AtomicU64,
    /// Where the handed-over lines are also written (a recording).
    recording: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
}

impl Sink for Feed {
    fn line(&self, _service: &str, line: &[u8]) {
        self.lines.fetch_add(1, Relaxed);
        match decode_record(line) {
            Ok(r) => self.queue(r, Some(line)),
            Err(_) => {
                self.rejected.fetch_add(1, Relaxed);
            }
        }
    }
    fn record(&self, rec: &DigestRecord) {
        self.lines.fetch_add(1, Relaxed);
        self.queue(rec.clone(), None);
    }
    fn event(&self, ev: &ChangeEvent) {
        self.events_n.fetch_add(1, Relaxed);
        self.events.lock().push(ev.clone());
    }
    fn stats(&self) -> SinkStats {
        SinkStats {
            lines: self.lines.load(Relaxed),
            events: self.events_n.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            ..SinkStats::default()
        }
    }
}

impl Feed {
    /// A feed that also writes what it hands over to `path` (created or truncated).
    pub fn recording(path: &Path) -> std::io::Result<Feed> {
        let f = std::fs::File::create(path)?;
        Ok(Feed {
            recording: Some(Mutex::new(std::io::BufWriter::with_capacity(1 << 20, f))),
            ..Feed::default()
        })
    }

    /// Appends to the recording (if any); a write error ends the recording, counted as
    /// dropped lines, never the drill.
    fn record(&self, events: &[ChangeEvent], lines: &[u8]) {
        let Some(rec) = &self.recording else { return };
        if events.is_empty() && lines.is_empty() {
            return;
        }
        let mut w = rec.lock();
        let mut buf = Vec::new();
        for e in events {
            digest::encode_event(&mut buf, e);
            if buf.last() != Some(&b'\n') {
                buf.push(b'\n');
            }
        }
        if w.write_all(&buf)
            .and_then(|_| w.write_all(lines))
            .and_then(|_| w.flush())
            .is_err()
        {
            self.dropped.fetch_add(1, Relaxed);
        }
    }

    fn queue(&self, r: DigestRecord, line: Option<&[u8]>) {
        let mut q = self.records.lock();
        if q.0.len() >= MAX_QUEUED {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        match line {
            Some(l) => q.1.extend_from_slice(l),
            None => digest::encode_record(&mut q.1, &r),
        }
        if q.1.last() != Some(&b'\n') {
            q.1.push(b'\n');
        }
        q.0.push(r);
    }

    /// Moves everything queued into the pipeline. Refused batches (collector
    /// busy or its buffer full) are counted as dropped, not retried: the
    /// watched system's digests are best effort, the collector's own counters
    /// say why.
    pub async fn pump(&self, p: &Pipeline) {
        let events = std::mem::take(&mut *self.events.lock());
        self.record(&events, &[]);
        if !events.is_empty() {
            let n = events.len() as u64;
            match p.ingest_events(events).await {
                Ok(_) => self.delivered.fetch_add(n, Relaxed),
                Err(_) => self.dropped.fetch_add(n, Relaxed),
            };
        }
        let (records, lines) = std::mem::take(&mut *self.records.lock());
        self.record(&[], &lines);
        let n = records.len() as u64;
        // The lines as payments-sim wrote them go to the write-ahead buffer as they are.
        match p.ingest_encoded(lines, records) {
            Ok(_) => self.delivered.fetch_add(n, Relaxed),
            Err(_) => self.dropped.fetch_add(n, Relaxed),
        };
    }
}
