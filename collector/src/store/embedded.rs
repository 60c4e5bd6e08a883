//! The embedded store: nothing to install. Records live in memory (bounded by
//! count and age, oldest evicted first) with a trace-id index, and are appended
//! to CRC-framed segment files under `DIR/store/` that are replayed at start, so
//! `records_stored` survives a restart. Each frame carries its write-ahead
//! sequence number, reported by [`Store::applied_seq`] so the pipeline never
//! replays a batch twice. A segment is deleted once all its records are evicted.

use super::{BoxFuture, RecordQuery, Store, StoreError};
use crate::scan::decode_fast;
use crate::wal::frame::{self, FrameKind};
use digest::{
    encode_event, encode_record, ChangeEvent, DigestRecord, Line, Micros, SharedClock, TraceId,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Retention and files of the embedded store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// Records kept, at most (oldest evicted first).
    pub max_records: usize,
    /// Records older than this (by their `time`) are evicted; `None` keeps them.
    pub max_age_s: Option<u64>,
    /// Change events kept, at most.
    pub max_events: usize,
    /// Roll to a new segment file past this size.
    pub segment_bytes: u64,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            max_records: 300_000,
            max_age_s: Some(6 * 3600),
            max_events: 100_000,
            segment_bytes: 32 << 20,
        }
    }
}

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
    scratch: Vec<u8>,
    lines: Vec<u8>,
}

struct Inner {
    records: VecDeque<DigestRecord>,
    /// Position of `records[0]` in the sequence of all records ever stored.
    base: u64,
    by_trace: HashMap<TraceId, Vec<u64>, crate::fasthash::IdHash>,
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

    fn push(&mut self, r: DigestRecord, cfg: &EmbeddedConfig) {
        let pos = self.end_pos();
        self.by_trace.entry(r.trace_id).or_default().push(pos);
        self.records.push_back(r);
        if self.records.len() > cfg.max_records {
            self.evict_one();
        }
    }

    fn evict_one(&mut self) {
        if let Some(r) = self.records.pop_front() {
            let pos = self.base;
            self.base += 1;
            if let Some(v) = self.by_trace.get_mut(&r.trace_id) {
                v.retain(|&p| p != pos);
                if v.is_empty() {
                    self.by_trace.remove(&r.trace_id);
                }
            }
        }
    }

    fn evict_old(&mut self, cfg: &EmbeddedConfig, now_us: Micros) {
        if let Some(age) = cfg.max_age_s {
            let cutoff = now_us.saturating_sub(age * 1_000_000);
            while self.records.front().is_some_and(|r| r.time_us < cutoff) {
                self.evict_one();
            }
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

    fn write_frame(&mut self, seq: u64, kind: FrameKind, cfg: &EmbeddedConfig) -> io::Result<()> {
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
        d.scratch.clear();
        frame::encode(&mut d.scratch, seq, kind, &d.lines);
        if let Err(e) = d.file.write_all(&d.scratch) {
            let _ = d.file.set_len(d.file_bytes);
            return Err(e);
        }
        d.file_bytes += d.scratch.len() as u64;
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
            for f in frames {
                g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(f.seq));
                for line in f
                    .payload
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
                {
                    match decode_fast(line) {
                        Ok(Line::Record(r)) if f.kind == FrameKind::Records => {
                            g.push(r, &store.cfg)
                        }
                        Ok(Line::Event(e)) if f.kind == FrameKind::Events => {
                            g.push_event(e, &store.cfg)
                        }
                        // Written by us, CRC-checked: a bad line means a codec change.
                        _ => {
                            return Err(StoreError::Refused(format!(
                                "undecodable line in {}",
                                path.display()
                            )))
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
            scratch: Vec::new(),
            lines: Vec::new(),
        });
        g.drop_evicted_segments()?;
        drop(g);
        Ok(store)
    }

    fn insert_sync(&self, seq: Option<u64>, records: &[DigestRecord]) -> Result<(), StoreError> {
        self.insert_iter(seq, records, records.iter().cloned())
    }

    /// Writes the frame for `records`, then keeps `owned` (the same records).
    fn insert_iter(
        &self,
        seq: Option<u64>,
        records: &[DigestRecord],
        owned: impl Iterator<Item = DigestRecord>,
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if let Some(d) = g.disk.as_mut() {
            d.lines.clear();
            for r in records {
                encode_record(&mut d.lines, r);
            }
        }
        g.write_frame(seq.unwrap_or(0), FrameKind::Records, &self.cfg)?;
        for r in owned {
            g.push(r, &self.cfg);
        }
        g.evict_old(&self.cfg, self.clock.now_us());
        g.set_current_end();
        if let Some(s) = seq {
            g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(s));
        }
        g.drop_evicted_segments()?;
        Ok(())
    }

    fn insert_events_sync(
        &self,
        seq: Option<u64>,
        events: &[ChangeEvent],
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock();
        if let Some(d) = g.disk.as_mut() {
            d.lines.clear();
            for e in events {
                encode_event(&mut d.lines, e);
            }
        }
        g.write_frame(seq.unwrap_or(0), FrameKind::Events, &self.cfg)?;
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
        let mut out: Vec<DigestRecord> = g
            .records
            .iter()
            .filter(|r| {
                r.time_us >= q.from_us
                    && r.time_us < q.to_us
                    && q.service.as_deref().is_none_or(|s| r.service == s)
                    && q.operation.as_deref().is_none_or(|s| r.operation == s)
                    && q.code.as_deref().is_none_or(|s| r.code == s)
                    && q.scene.as_deref().is_none_or(|s| r.scene == s)
                    && q.shadow.is_none_or(|s| r.shadow == s)
            })
            .cloned()
            .collect();
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
    fn insert_owned(
        &self,
        seq: u64,
        records: Vec<DigestRecord>,
    ) -> BoxFuture<'_, Result<(), (StoreError, Vec<DigestRecord>)>> {
        self.insert_owned_lines(seq, records, None)
    }
    fn wants_lines(&self) -> bool {
        self.inner.lock().disk.is_some()
    }
    fn insert_owned_lines(
        &self,
        seq: u64,
        records: Vec<DigestRecord>,
        lines: Option<Vec<u8>>,
    ) -> BoxFuture<'_, Result<(), (StoreError, Vec<DigestRecord>)>> {
        Box::pin(async move {
            // The frame is written first; only then are the records moved in.
            let mut records = records;
            let encoded = {
                let mut g = self.inner.lock();
                let r = if let Some(d) = g.disk.as_mut() {
                    match lines {
                        Some(l) => d.lines = l,
                        None => {
                            d.lines.clear();
                            for r in &records {
                                encode_record(&mut d.lines, r);
                            }
                        }
                    }
                    g.write_frame(seq, FrameKind::Records, &self.cfg)
                } else {
                    Ok(())
                };
                if r.is_ok() {
                    for rec in records.drain(..) {
                        g.push(rec, &self.cfg);
                    }
                    g.evict_old(&self.cfg, self.clock.now_us());
                    g.set_current_end();
                    g.applied_seq = Some(g.applied_seq.unwrap_or(0).max(seq));
                    g.drop_evicted_segments().map_err(StoreError::from)
                } else {
                    r.map_err(StoreError::from)
                }
            };
            encoded.map_err(|e| (e, records))
        })
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
            let mut out: Vec<DigestRecord> = g
                .by_trace
                .get(&trace_id)
                .map(|ps| {
                    ps.iter()
                        .filter_map(|&p| g.records.get((p - g.base) as usize).cloned())
                        .collect()
                })
                .unwrap_or_default();
            drop(g);
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
