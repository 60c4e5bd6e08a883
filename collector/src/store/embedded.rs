//! The embedded store: nothing to install. Every stored batch is appended to
//! CRC-framed segment files under `DIR/store/` ([`super::embedded_disk`]: whole
//! segments kept by arrival within the retention and the byte budget, each sealed
//! one indexed by trace id and time). The most recent `max_records` records also
//! live in memory as the v1 lines they came in (one chunk per stored batch, with
//! a trace-id index, decoded only when read). Lookups read memory first, then
//! disk for older positions, so nothing is returned twice. Each frame carries
//! its write-ahead sequence number, reported by [`Store::applied_seq`] so the
//! pipeline never replays a batch twice. At open only the newest segments that
//! fill the memory window are read back.

pub use super::embedded_config::EmbeddedConfig;
use super::embedded_disk::{read_frame_at, Disk, EvictReason};
use super::{BoxFuture, LineBatch, LineMeta, RecordQuery, RetentionStats, Store, StoreError};
use crate::scan::{decode_fast, scan_record, RecordView};
use crate::wal::frame::{self, FrameKind};
use digest::{
    encode_event, ChangeEvent, DigestRecord, Line, Micros, SharedClock, SpanId, SpanKind, TraceId,
};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// No earlier record of the same trace.
const NONE: u64 = u64::MAX;

/// One record held in memory: its indexed fields and where its line is.
struct Entry {
    meta: LineMeta,
    /// Absolute number of the chunk holding the line.
    chunk: u64,
    /// Position of the previous record of the same trace (or `NONE`).
    prev: u64,
}

/// The lines of one stored batch; dropped once all its records are evicted.
struct Chunk {
    lines: Vec<u8>,
    /// Position after the chunk's last record.
    end_pos: u64,
}

struct Inner {
    records: VecDeque<Entry>,
    /// Position of `records[0]` in the sequence of all records ever stored.
    base: u64,
    chunks: VecDeque<Chunk>,
    /// Absolute number of `chunks[0]`.
    chunk_base: u64,
    /// Latest position of each trace; earlier ones are chained through `Entry::prev`.
    by_trace: HashMap<TraceId, u64, crate::fasthash::IdHash>,
    events: VecDeque<ChangeEvent>,
    applied_seq: Option<u64>,
    disk: Option<Disk>,
    evicted: Evicted,
}

/// Records and bytes that left the disk, by reason.
#[derive(Default)]
struct Evicted {
    age_records: u64,
    age_bytes: u64,
    size_records: u64,
    size_bytes: u64,
}

/// The embedded store. See the module documentation.
pub struct EmbeddedStore {
    inner: Mutex<Inner>,
    cfg: EmbeddedConfig,
    clock: SharedClock,
}

impl Inner {
    fn end_pos(&self) -> u64 {
        self.base + self.records.len() as u64
    }

    /// Keeps a batch's lines in memory and indexes them.
    fn push_batch(&mut self, batch: LineBatch, cfg: &EmbeddedConfig) {
        if batch.is_empty() {
            return;
        }
        let chunk = self.chunk_base + self.chunks.len() as u64;
        for meta in batch.meta {
            let pos = self.end_pos();
            let prev = self.by_trace.insert(meta.trace_id, pos).unwrap_or(NONE);
            self.records.push_back(Entry { meta, chunk, prev });
        }
        let end_pos = self.end_pos();
        self.chunks.push_back(Chunk {
            lines: batch.lines,
            end_pos,
        });
        while self.records.len() > cfg.max_records {
            self.evict_one();
        }
    }

    fn evict_one(&mut self) {
        if let Some(e) = self.records.pop_front() {
            let pos = self.base;
            self.base += 1;
            // The oldest record is its trace's latest only when it is the last one left.
            if self.by_trace.get(&e.meta.trace_id) == Some(&pos) {
                self.by_trace.remove(&e.meta.trace_id);
            }
            while self.chunks.front().is_some_and(|c| c.end_pos <= self.base) {
                self.chunks.pop_front();
                self.chunk_base += 1;
            }
        }
    }

    /// The line of the record at absolute position `pos`, if still held.
    fn line(&self, pos: u64) -> Option<&[u8]> {
        let e = self.records.get(pos.checked_sub(self.base)? as usize)?;
        let c = self.chunks.get((e.chunk - self.chunk_base) as usize)?;
        c.lines
            .get(e.meta.start as usize..(e.meta.start + e.meta.len) as usize)
    }

    fn record(&self, pos: u64) -> Option<DigestRecord> {
        match decode_fast(self.line(pos)?) {
            Ok(Line::Record(r)) => Some(r),
            _ => None,
        }
    }

    fn push_event(&mut self, e: ChangeEvent, cfg: &EmbeddedConfig) {
        self.events.push_back(e);
        while self.events.len() > cfg.max_events {
            self.events.pop_front();
        }
    }

    /// Deletes whole segments, oldest first, that arrived longer ago than the
    /// retention or make the files exceed the byte budget (never the current
    /// one); records of theirs still in memory go too. Counts what left.
    fn evict_disk(&mut self, cfg: &EmbeddedConfig, now_us: Micros) -> std::io::Result<()> {
        let Some(d) = self.disk.as_mut() else {
            return Ok(());
        };
        while let Some((gone, reason)) = d.evict_one(cfg.max_age_s, cfg.max_bytes, now_us)? {
            let (records, bytes) = match reason {
                EvictReason::Age => (&mut self.evicted.age_records, &mut self.evicted.age_bytes),
                EvictReason::Size => (&mut self.evicted.size_records, &mut self.evicted.size_bytes),
            };
            *records += gone.records;
            *bytes += gone.bytes;
        }
        let first_kept = d.segments.front().map_or(0, |s| s.start_pos);
        while self.base < first_kept && !self.records.is_empty() {
            self.evict_one();
        }
        Ok(())
    }

    /// Records of `trace` on disk only (positions before the memory window).
    fn disk_trace(&self, trace: TraceId) -> Result<Vec<DigestRecord>, StoreError> {
        let Some(d) = self.disk.as_ref() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (path, offset, first_pos) in d.trace_frames(trace, self.base)? {
            let f = read_frame_at(&path, offset)?;
            let batch = LineBatch::from_payload(&f.payload).ok_or_else(|| {
                StoreError::Refused(format!("undecodable line in {}", path.display()))
            })?;
            for (i, m) in batch.meta.iter().enumerate() {
                if m.trace_id == trace && first_pos + (i as u64) < self.base {
                    if let Ok(Line::Record(r)) = decode_fast(batch.line(i)) {
                        out.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Records in the query's range on disk only, newest segments first; stops
    /// reading segments that cannot beat the newest `limit` already found.
    fn disk_query(
        &self,
        q: &RecordQuery,
        matches: &dyn Fn(&RecordView<'_>) -> bool,
        out: &mut Vec<DigestRecord>,
    ) -> Result<(), StoreError> {
        let Some(d) = self.disk.as_ref() else {
            return Ok(());
        };
        for s in d.segments.iter().rev() {
            let sum = &s.summary;
            if s.start_pos >= self.base
                || sum.records == 0
                || sum.max_time_us < q.from_us
                || sum.min_time_us >= q.to_us
            {
                continue;
            }
            if q.limit > 0 && out.len() >= q.limit {
                out.sort_by_key(|r| r.time_us);
                out.drain(..out.len() - q.limit);
                if out.first().is_some_and(|r| sum.max_time_us < r.time_us) {
                    continue;
                }
            }
            let (frames, _) = frame::read_file(&s.path)?;
            let mut pos = s.start_pos;
            for f in frames.iter().filter(|f| f.kind == FrameKind::Records) {
                let batch = LineBatch::from_payload(&f.payload).ok_or_else(|| {
                    StoreError::Refused(format!("undecodable line in {}", s.path.display()))
                })?;
                for (i, m) in batch.meta.iter().enumerate() {
                    let at = pos + i as u64;
                    if at >= self.base || m.time_us < q.from_us || m.time_us >= q.to_us {
                        continue;
                    }
                    if let Ok(Line::Record(r)) = decode_fast(batch.line(i)) {
                        if matches(&RecordView::of(&r)) {
                            out.push(r);
                        }
                    }
                }
                pos += batch.len() as u64;
            }
        }
        Ok(())
    }
}

impl EmbeddedStore {
    /// A store in memory only (tests, benchmarks): bounded by `max_records`.
    pub fn in_memory(cfg: EmbeddedConfig, clock: SharedClock) -> Self {
        Self {
            inner: Mutex::new(Inner {
                records: VecDeque::new(),
                base: 0,
                chunks: VecDeque::new(),
                chunk_base: 0,
                by_trace: HashMap::default(),
                events: VecDeque::new(),
                applied_seq: None,
                disk: None,
                evicted: Evicted::default(),
            }),
            cfg,
            clock,
        }
    }

    /// Opens (or creates) the store in `dir`. Every segment is found again
    /// through its index (rebuilt when missing); only the newest segments that
    /// fill the memory window are read back into memory.
    pub fn open(dir: &Path, cfg: EmbeddedConfig, clock: SharedClock) -> Result<Self, StoreError> {
        let now = clock.now_us();
        let disk = Disk::open(dir, now)?;
        let store = Self::in_memory(cfg, clock);
        let mut g = store.inner.lock();
        let sealed = disk.segments.len() - 1;
        if sealed > 0 {
            g.applied_seq = disk.segments.iter().map(|s| s.summary.max_seq).max();
        }
        // The oldest segment still needed to fill the memory window.
        let mut first = sealed;
        let mut held = 0u64;
        while first > 0 && held < store.cfg.max_records as u64 {
            first -= 1;
            held += disk.segments[first].summary.records;
        }
        g.base = disk.segments[first].start_pos;
        for s in disk.segments.iter().take(sealed).skip(first) {
            let (frames, _) = frame::read_file(&s.path)?;
            // Written by us, CRC-checked: a bad line means a codec change.
            let undecodable =
                || StoreError::Refused(format!("undecodable line in {}", s.path.display()));
            for f in frames {
                match f.kind {
                    FrameKind::Records => {
                        let b = LineBatch::from_payload(&f.payload).ok_or_else(undecodable)?;
                        g.push_batch(b, &store.cfg);
                    }
                    FrameKind::Events => {
                        for line in f
                            .payload
                            .split(|&b| b == b'\n')
                            .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
                        {
                            match digest::decode_line(line) {
                                Ok(Line::Event(e)) => g.push_event(e, &store.cfg),
                                _ => return Err(undecodable()),
                            }
                        }
                    }
                }
            }
        }
        g.disk = Some(disk);
        g.evict_disk(&store.cfg, now)?;
        drop(g);
        Ok(store)
    }

    /// Writes the batch's frame, then keeps its lines. On failure nothing is kept.
    fn insert_batch_sync(
        &self,
        seq: Option<u64>,
        batch: LineBatch,
    ) -> Result<(), (StoreError, LineBatch)> {
        let now = self.clock.now_us();
        let mut g = self.inner.lock();
        if let Some(d) = g.disk.as_mut() {
            let records = batch.meta.iter().map(|m| (m.trace_id, m.time_us));
            let seq = seq.unwrap_or(0);
            let bytes = self.cfg.segment_bytes;
            if let Err(e) = d.append(seq, FrameKind::Records, &batch.lines, records, bytes, now) {
                return Err((e.into(), batch));
            }
        }
        g.push_batch(batch, &self.cfg);
        if let Some(s) = seq {
            g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(s));
        }
        // The batch is stored; a segment that cannot be deleted only costs disk.
        if let Err(e) = g.evict_disk(&self.cfg, now) {
            tracing::warn!("embedded store: cannot delete an evicted segment: {e}");
        }
        Ok(())
    }

    fn insert_sync(&self, seq: Option<u64>, records: &[DigestRecord]) -> Result<(), StoreError> {
        self.insert_batch_sync(seq, LineBatch::from_records(records))
            .map_err(|(e, _)| e)
    }

    fn insert_events_sync(
        &self,
        seq: Option<u64>,
        events: &[ChangeEvent],
    ) -> Result<(), StoreError> {
        let now = self.clock.now_us();
        let mut g = self.inner.lock();
        let mut lines = Vec::with_capacity(events.len() * 160);
        for e in events {
            encode_event(&mut lines, e);
        }
        if let Some(d) = g.disk.as_mut() {
            let bytes = self.cfg.segment_bytes;
            let none = std::iter::empty();
            d.append(
                seq.unwrap_or(0),
                FrameKind::Events,
                &lines,
                none,
                bytes,
                now,
            )?;
        }
        for e in events {
            g.push_event(e.clone(), &self.cfg);
        }
        if let Some(s) = seq {
            g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(s));
        }
        Ok(())
    }

    /// Records held in memory right now (at most `max_records`).
    pub fn len(&self) -> usize {
        self.inner.lock().records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn query_sync(&self, q: &RecordQuery) -> Result<Vec<DigestRecord>, StoreError> {
        let g = self.inner.lock();
        let matches = |v: &RecordView<'_>| {
            q.service.as_deref().is_none_or(|s| v.service == s)
                && q.operation.as_deref().is_none_or(|s| v.operation == s)
                && q.code.as_deref().is_none_or(|s| v.code == s)
                && q.scene.as_deref().is_none_or(|s| v.scene == s)
                && q.shadow.is_none_or(|s| v.shadow == s)
        };
        let mut out: Vec<DigestRecord> = Vec::new();
        for (i, e) in g.records.iter().enumerate() {
            if e.meta.time_us < q.from_us || e.meta.time_us >= q.to_us {
                continue;
            }
            let pos = g.base + i as u64;
            let Some(line) = g.line(pos) else { continue };
            match scan_record(line) {
                Some(v) if matches(&v) => out.push(v.to_record()),
                Some(_) => {}
                None => {
                    if let Some(r) = g.record(pos).filter(|r| matches(&RecordView::of(r))) {
                        out.push(r);
                    }
                }
            }
        }
        g.disk_query(q, &matches, &mut out)?;
        drop(g);
        out.sort_by_key(|r| r.time_us);
        if q.limit > 0 && out.len() > q.limit {
            out.drain(..out.len() - q.limit);
        }
        Ok(out)
    }
}

impl Store for EmbeddedStore {
    fn insert<'a>(&'a self, records: &'a [DigestRecord]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.insert_sync(None, records) })
    }
    fn insert_events<'a>(
        &'a self,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.insert_events_sync(None, events) })
    }
    fn insert_batch<'a>(
        &'a self,
        seq: u64,
        records: &'a [DigestRecord],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.insert_sync(Some(seq), records) })
    }
    fn insert_lines(
        &self,
        seq: u64,
        batch: LineBatch,
    ) -> BoxFuture<'_, Result<(), (StoreError, LineBatch)>> {
        Box::pin(async move { self.insert_batch_sync(Some(seq), batch) })
    }
    fn recent_keys(&self, max: usize) -> Vec<(TraceId, SpanId, SpanKind)> {
        let g = self.inner.lock();
        let skip = g.records.len().saturating_sub(max);
        g.records.iter().skip(skip).map(|e| e.meta.key()).collect()
    }
    fn insert_events_batch<'a>(
        &'a self,
        seq: u64,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.insert_events_sync(Some(seq), events) })
    }
    fn trace(&self, trace_id: TraceId) -> BoxFuture<'_, Result<Vec<DigestRecord>, StoreError>> {
        Box::pin(async move {
            let g = self.inner.lock();
            let mut out = Vec::new();
            let mut pos = g.by_trace.get(&trace_id).copied().unwrap_or(NONE);
            while pos != NONE && pos >= g.base {
                let Some(e) = g.records.get((pos - g.base) as usize) else {
                    break;
                };
                if let Some(r) = g.record(pos) {
                    out.push(r);
                }
                pos = e.prev;
            }
            out.extend(g.disk_trace(trace_id)?);
            drop(g);
            out.reverse();
            out.sort_by_key(|r| r.time_us);
            Ok(out)
        })
    }
    fn query<'a>(
        &'a self,
        q: &'a RecordQuery,
    ) -> BoxFuture<'a, Result<Vec<DigestRecord>, StoreError>> {
        Box::pin(async move { self.query_sync(q) })
    }
    fn events(
        &self,
        from_us: Micros,
        to_us: Micros,
    ) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>> {
        Box::pin(async move {
            let g = self.inner.lock();
            let mut out: Vec<ChangeEvent> = g
                .events
                .iter()
                .filter(|e| e.time_us >= from_us && e.time_us < to_us)
                .cloned()
                .collect();
            out.sort_by_key(|e| e.time_us);
            Ok(out)
        })
    }
    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let g = self.inner.lock();
            Ok(match g.disk.as_ref() {
                Some(d) => d.total_records(),
                None => g.records.len() as u64,
            })
        })
    }
    fn retention(&self) -> Option<RetentionStats> {
        let g = self.inner.lock();
        let d = g.disk.as_ref();
        Some(RetentionStats {
            memory_records: g.records.len() as u64,
            memory_max_records: self.cfg.max_records as u64,
            disk_records: d.map_or(0, |d| d.total_records()),
            disk_bytes: d.map_or(0, |d| d.total_bytes()),
            disk_segments: d.map_or(0, |d| d.segments.len() as u64),
            max_age_s: self.cfg.max_age_s,
            max_bytes: self.cfg.max_bytes,
            evicted_age_records: g.evicted.age_records,
            evicted_age_bytes: g.evicted.age_bytes,
            evicted_size_records: g.evicted.size_records,
            evicted_size_bytes: g.evicted.size_bytes,
        })
    }
    fn applied_seq(&self) -> Option<u64> {
        self.inner.lock().applied_seq
    }
    fn name(&self) -> &'static str {
        "embedded"
    }
}
