//! The embedded store: nothing to install. Records live in memory as the v1
//! lines they came in (one chunk per stored batch; bounded by count and age,
//! oldest evicted first, decoded only when read) with a trace-id index, and are appended
//! to CRC-framed segment files under `DIR/store/` that are replayed at start, so
//! `records_stored` survives a restart. Each frame carries its write-ahead
//! sequence number, reported by [`Store::applied_seq`] so the pipeline never
//! replays a batch twice. A segment is deleted once all its records are evicted.

pub use super::embedded_config::EmbeddedConfig;
use super::{BoxFuture, LineBatch, LineMeta, RecordQuery, Store, StoreError};
use crate::scan::{decode_fast, scan_record, RecordView};
use crate::wal::frame::{self, FrameKind};
use digest::{
    encode_event, ChangeEvent, DigestRecord, Line, Micros, SharedClock, SpanId, SpanKind, TraceId,
};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

struct Segment {
    path: PathBuf,
    /// Position after the segment's last record.
    end_pos: u64,
}

struct Disk {
    dir: PathBuf,
    segments: VecDeque<Segment>,
    file: File,
    file_bytes: u64,
    next_index: u64,
}

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
}

/// The embedded store. See the module documentation.
pub struct EmbeddedStore {
    inner: Mutex<Inner>,
    cfg: EmbeddedConfig,
    clock: SharedClock,
}

fn seg_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("seg-{index:010}.log"))
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

    fn evict_old(&mut self, cfg: &EmbeddedConfig, now_us: Micros) {
        if let Some(age) = cfg.max_age_s {
            let cutoff = now_us.saturating_sub(age * 1_000_000);
            while self
                .records
                .front()
                .is_some_and(|r| r.meta.time_us < cutoff)
            {
                self.evict_one();
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

    /// Deletes segments whose records are all evicted (never the current one).
    fn drop_evicted_segments(&mut self) -> io::Result<()> {
        let base = self.base;
        if let Some(d) = self.disk.as_mut() {
            while d.segments.len() > 1 && d.segments[0].end_pos <= base {
                if let Some(s) = d.segments.pop_front() {
                    fs::remove_file(&s.path)?;
                }
            }
        }
        Ok(())
    }

    fn write_frame(
        &mut self,
        seq: u64,
        kind: FrameKind,
        payload: &[u8],
        cfg: &EmbeddedConfig,
    ) -> io::Result<()> {
        let end_pos = self.end_pos();
        let Some(d) = self.disk.as_mut() else {
            return Ok(());
        };
        if d.file_bytes >= cfg.segment_bytes {
            let path = seg_path(&d.dir, d.next_index);
            d.next_index += 1;
            d.file = OpenOptions::new().create(true).append(true).open(&path)?;
            d.file_bytes = 0;
            d.segments.push_back(Segment { path, end_pos });
        }
        match frame::write(&mut d.file, seq, kind, payload) {
            Ok(n) => d.file_bytes += n,
            Err(e) => {
                let _ = d.file.set_len(d.file_bytes);
                return Err(e);
            }
        }
        Ok(())
    }

    fn set_current_end(&mut self) {
        let end = self.end_pos();
        if let Some(s) = self.disk.as_mut().and_then(|d| d.segments.back_mut()) {
            s.end_pos = end;
        }
    }
}

impl EmbeddedStore {
    /// A store in memory only (tests, benchmarks).
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
            }),
            cfg,
            clock,
        }
    }

    /// Opens (or creates) the store in `dir`, replaying its segment files.
    pub fn open(dir: &Path, cfg: EmbeddedConfig, clock: SharedClock) -> Result<Self, StoreError> {
        fs::create_dir_all(dir)?;
        let store = Self::in_memory(cfg, clock);
        let mut found: Vec<(u64, PathBuf)> = Vec::new();
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(n) = name
                .strip_prefix("seg-")
                .and_then(|r| r.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                found.push((n, p));
            }
        }
        found.sort();
        let now = store.clock.now_us();
        let mut g = store.inner.lock();
        let mut segments = VecDeque::new();
        let mut next_index = 0;
        for (index, path) in found {
            let (frames, good) = frame::read_file(&path)?;
            if (good as u64) < fs::metadata(&path)?.len() {
                OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(good as u64)?;
            }
            // Written by us, CRC-checked: a bad line means a codec change.
            let undecodable =
                || StoreError::Refused(format!("undecodable line in {}", path.display()));
            for f in frames {
                g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(f.seq));
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
            g.evict_old(&store.cfg, now);
            let end_pos = g.end_pos();
            segments.push_back(Segment { path, end_pos });
            next_index = index + 1;
        }
        let path = seg_path(dir, next_index);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let end_pos = g.end_pos();
        segments.push_back(Segment { path, end_pos });
        g.disk = Some(Disk {
            dir: dir.to_path_buf(),
            segments,
            file,
            file_bytes: 0,
            next_index: next_index + 1,
        });
        g.drop_evicted_segments()?;
        drop(g);
        Ok(store)
    }

    /// Writes the batch's frame, then keeps its lines. On failure nothing is kept.
    fn insert_batch_sync(
        &self,
        seq: Option<u64>,
        batch: LineBatch,
    ) -> Result<(), (StoreError, LineBatch)> {
        let mut g = self.inner.lock();
        if let Err(e) = g.write_frame(
            seq.unwrap_or(0),
            FrameKind::Records,
            &batch.lines,
            &self.cfg,
        ) {
            return Err((e.into(), batch));
        }
        g.push_batch(batch, &self.cfg);
        g.evict_old(&self.cfg, self.clock.now_us());
        g.set_current_end();
        if let Some(s) = seq {
            g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(s));
        }
        // The batch is stored; a segment that cannot be deleted only costs disk.
        if let Err(e) = g.drop_evicted_segments() {
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
        let mut g = self.inner.lock();
        let mut lines = Vec::with_capacity(events.len() * 160);
        for e in events {
            encode_event(&mut lines, e);
        }
        g.write_frame(seq.unwrap_or(0), FrameKind::Events, &lines, &self.cfg)?;
        for e in events {
            g.push_event(e.clone(), &self.cfg);
        }
        if let Some(s) = seq {
            g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(s));
        }
        Ok(())
    }

    /// Records held right now.
    pub fn len(&self) -> usize {
        self.inner.lock().records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn query_sync(&self, q: &RecordQuery) -> Vec<DigestRecord> {
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
        drop(g);
        out.sort_by_key(|r| r.time_us);
        if q.limit > 0 && out.len() > q.limit {
            out.drain(..out.len() - q.limit);
        }
        out
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
        Box::pin(async move { Ok(self.query_sync(q)) })
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
        Box::pin(async move { Ok(self.inner.lock().records.len() as u64) })
    }
    fn applied_seq(&self) -> Option<u64> {
        self.inner.lock().applied_seq
    }
    fn name(&self) -> &'static str {
        "embedded"
    }
}
