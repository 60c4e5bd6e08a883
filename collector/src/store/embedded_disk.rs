//! The embedded store's disk side: CRC-framed segment files `seg-N.log` under
//! `DIR/store/`, and beside each sealed one an index `seg-N.idx` (its record
//! count, record-time range, last arrival, highest write-ahead sequence, and the
//! sorted `(trace_id, frame offset, first record)` entries), so a trace or a
//! time range is found on disk without reading every segment. Whole segments are
//! deleted, oldest first, when they arrived longer ago than the retention or the
//! files exceed the byte budget. Nothing here holds records in memory.

use super::LineBatch;
use crate::wal::frame::{self, FrameKind};
use digest::{Micros, TraceId};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const IDX_MAGIC: &[u8; 8] = b"WRIDX01\n";
/// Header: magic, records, min_time, max_time, last_arrival, max_seq, seg_bytes, entries.
const IDX_HEADER: usize = 8 + 7 * 8;
/// One entry: trace id (16, big endian so bytes sort as ids), frame offset, first record.
const IDX_ENTRY: usize = 32;

/// Why a segment left the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvictReason {
    /// It arrived longer ago than the retention.
    Age,
    /// The files were over the byte budget.
    Size,
}

/// What a segment holds, kept in memory for every sealed segment (a few words).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SegmentSummary {
    pub records: u64,
    pub min_time_us: Micros,
    pub max_time_us: Micros,
    /// Clock time of the last write into the segment.
    pub last_arrival_us: Micros,
    pub max_seq: u64,
    pub bytes: u64,
}

impl SegmentSummary {
    fn add_record(&mut self, time_us: Micros) {
        if self.records == 0 {
            self.min_time_us = time_us;
            self.max_time_us = time_us;
        } else {
            self.min_time_us = self.min_time_us.min(time_us);
            self.max_time_us = self.max_time_us.max(time_us);
        }
        self.records += 1;
    }
}

/// A segment file on disk (sealed, or the one being written).
pub(crate) struct Segment {
    pub path: PathBuf,
    /// Position (in the sequence of all records ever stored) of its first record.
    pub start_pos: u64,
    pub summary: SegmentSummary,
}

impl Segment {
    pub fn end_pos(&self) -> u64 {
        self.start_pos + self.summary.records
    }
}

/// A record frame of the segment being written: `(trace, frame offset, first record)`.
type Entry = (TraceId, u64, u64);

pub(crate) fn seg_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("seg-{number:010}.log"))
}

fn idx_path(seg: &Path) -> PathBuf {
    seg.with_extension("idx")
}

/// Segment files in `dir`, by number.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
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
    Ok(found)
}

/// Writes the index of a sealed segment (tmp file, then rename).
fn write_index(seg: &Path, s: &SegmentSummary, mut entries: Vec<Entry>) -> io::Result<()> {
    entries.sort_unstable();
    entries.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut out = Vec::with_capacity(IDX_HEADER + entries.len() * IDX_ENTRY + 4);
    out.extend_from_slice(IDX_MAGIC);
    for v in [
        s.records,
        s.min_time_us,
        s.max_time_us,
        s.last_arrival_us,
        s.max_seq,
        s.bytes,
        entries.len() as u64,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (t, off, first) in &entries {
        out.extend_from_slice(&t.0.to_be_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&first.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    let path = idx_path(seg);
    let tmp = path.with_extension("idx.tmp");
    fs::write(&tmp, &out)?;
    fs::rename(tmp, path)
}

fn le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads an index's summary; `None` when missing, torn or not for this file size.
fn read_index_summary(seg: &Path, seg_len: u64) -> Option<SegmentSummary> {
    let buf = fs::read(idx_path(seg)).ok()?;
    if buf.len() < IDX_HEADER + 4 || &buf[..8] != IDX_MAGIC {
        return None;
    }
    let (body, crc) = buf.split_at(buf.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return None;
    }
    let s = SegmentSummary {
        records: le(body, 8),
        min_time_us: le(body, 16),
        max_time_us: le(body, 24),
        last_arrival_us: le(body, 32),
        max_seq: le(body, 40),
        bytes: le(body, 48),
    };
    let entries = le(body, 56) as usize;
    (body.len() == IDX_HEADER + entries * IDX_ENTRY && s.bytes == seg_len).then_some(s)
}

/// Reads a segment without a (good) index: cuts a torn tail, rebuilds the index
/// and writes it. Its arrival is taken as `now_us` (the clock at open: a segment
/// whose index was lost, e.g. the one being written at a crash, is kept a whole
/// retention from the restart rather than judged by a file time on another clock).
fn rebuild_index(seg: &Path, now_us: Micros) -> io::Result<SegmentSummary> {
    let (frames, good) = frame::read_file(seg)?;
    let meta = fs::metadata(seg)?;
    if (good as u64) < meta.len() {
        OpenOptions::new()
            .write(true)
            .open(seg)?
            .set_len(good as u64)?;
    }
    let mut s = SegmentSummary {
        last_arrival_us: now_us,
        bytes: good as u64,
        ..SegmentSummary::default()
    };
    let mut entries = Vec::new();
    let mut offset = 0u64;
    for f in frames {
        s.max_seq = s.max_seq.max(f.seq);
        if f.kind == FrameKind::Records {
            let first = s.records;
            // Written by us, CRC-checked: a line that does not decode means a codec change.
            let batch = LineBatch::from_payload(&f.payload).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("undecodable line in {}", seg.display()),
                )
            })?;
            for m in &batch.meta {
                entries.push((m.trace_id, offset, first));
                s.add_record(m.time_us);
            }
        }
        offset += (frame::HEADER + f.payload.len()) as u64;
    }
    write_index(seg, &s, entries)?;
    Ok(s)
}

/// Frame offsets (and the frame's first record) holding records of `trace` in a sealed segment.
fn index_lookup(seg: &Path, trace: TraceId) -> io::Result<Vec<(u64, u64)>> {
    let f = File::open(idx_path(seg))?;
    let mut head = [0u8; IDX_HEADER];
    f.read_exact_at(&mut head, 0)?;
    let n = le(&head, 56);
    let want = trace.0.to_be_bytes();
    let at = |i: u64| -> io::Result<[u8; IDX_ENTRY]> {
        let mut e = [0u8; IDX_ENTRY];
        f.read_exact_at(&mut e, IDX_HEADER as u64 + i * IDX_ENTRY as u64)?;
        Ok(e)
    };
    // First entry not below the trace.
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if at(mid)?[..16] < want[..] {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut out = Vec::new();
    while lo < n {
        let e = at(lo)?;
        if e[..16] != want[..] {
            break;
        }
        out.push((le(&e, 16), le(&e, 24)));
        lo += 1;
    }
    Ok(out)
}

/// The segment files and the one being written.
pub(crate) struct Disk {
    dir: PathBuf,
    /// Sealed segments, oldest first, then the current one last.
    pub segments: VecDeque<Segment>,
    file: File,
    /// Index entries of the current segment.
    current: Vec<Entry>,
    next_number: u64,
}

impl Disk {
    /// Opens `dir`: every existing segment is sealed (its index rebuilt if
    /// missing, see [`rebuild_index`]) and a new one started after them.
    pub fn open(dir: &Path, now_us: Micros) -> io::Result<Disk> {
        fs::create_dir_all(dir)?;
        let mut segments = VecDeque::new();
        let mut pos = 0;
        let mut next_number = 0;
        for (number, path) in list_segments(dir)? {
            let len = fs::metadata(&path)?.len();
            let summary = match read_index_summary(&path, len) {
                Some(s) => s,
                None => rebuild_index(&path, now_us)?,
            };
            next_number = number + 1;
            if summary.bytes == 0 {
                let _ = fs::remove_file(idx_path(&path));
                fs::remove_file(&path)?;
                continue;
            }
            let seg = Segment {
                path,
                start_pos: pos,
                summary,
            };
            pos = seg.end_pos();
            segments.push_back(seg);
        }
        let path = seg_path(dir, next_number);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        segments.push_back(Segment {
            path,
            start_pos: pos,
            summary: SegmentSummary::default(),
        });
        Ok(Disk {
            dir: dir.to_path_buf(),
            segments,
            file,
            current: Vec::new(),
            next_number: next_number + 1,
        })
    }

    fn current_mut(&mut self) -> &mut Segment {
        self.segments
            .back_mut()
            .expect("the disk always has a current segment")
    }

    /// Seals the current segment (writes its index) and starts the next.
    fn roll(&mut self) -> io::Result<()> {
        let cur = self.current_mut();
        let (path, summary, end) = (cur.path.clone(), cur.summary.clone(), cur.end_pos());
        write_index(&path, &summary, std::mem::take(&mut self.current))?;
        let path = seg_path(&self.dir, self.next_number);
        self.file = OpenOptions::new().create(true).append(true).open(&path)?;
        self.segments.push_back(Segment {
            path,
            start_pos: end,
            summary: SegmentSummary::default(),
        });
        self.next_number += 1;
        Ok(())
    }

    /// Appends one frame; `records` are the `(trace, time)` of its record lines.
    /// Rolls first when the current segment is past `segment_bytes`.
    pub fn append(
        &mut self,
        seq: u64,
        kind: FrameKind,
        payload: &[u8],
        records: impl Iterator<Item = (TraceId, Micros)>,
        segment_bytes: u64,
        now_us: Micros,
    ) -> io::Result<()> {
        if self.current_mut().summary.bytes >= segment_bytes {
            self.roll()?;
        }
        let offset = self.current_mut().summary.bytes;
        if let Err(e) = frame::write(&mut self.file, seq, kind, payload) {
            let _ = self.file.set_len(offset);
            return Err(e);
        }
        let mut entries = Vec::new();
        let cur = self.current_mut();
        let first = cur.summary.records;
        for (trace, time_us) in records {
            entries.push((trace, offset, first));
            cur.summary.add_record(time_us);
        }
        cur.summary.bytes += (frame::HEADER + payload.len()) as u64;
        cur.summary.max_seq = cur.summary.max_seq.max(seq);
        cur.summary.last_arrival_us = now_us;
        self.current.extend(entries);
        Ok(())
    }

    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.summary.bytes).sum()
    }

    pub fn total_records(&self) -> u64 {
        self.segments.iter().map(|s| s.summary.records).sum()
    }

    /// Deletes the oldest sealed segment if it is due; returns it and why.
    pub fn evict_one(
        &mut self,
        max_age_s: Option<u64>,
        max_bytes: Option<u64>,
        now_us: Micros,
    ) -> io::Result<Option<(SegmentSummary, EvictReason)>> {
        if self.segments.len() < 2 {
            return Ok(None);
        }
        let oldest = &self.segments[0].summary;
        let reason = if max_age_s
            .is_some_and(|a| oldest.last_arrival_us < now_us.saturating_sub(a * 1_000_000))
        {
            EvictReason::Age
        } else if max_bytes.is_some_and(|b| self.total_bytes() > b) {
            EvictReason::Size
        } else {
            return Ok(None);
        };
        let Some(s) = self.segments.pop_front() else {
            return Ok(None);
        };
        let _ = fs::remove_file(idx_path(&s.path));
        match fs::remove_file(&s.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Some((s.summary, reason)))
    }

    /// Record frames of `trace` in segments starting before `before_pos`, as
    /// `(segment path, frame offset, position of the frame's first record)`.
    pub fn trace_frames(
        &self,
        trace: TraceId,
        before_pos: u64,
    ) -> io::Result<Vec<(PathBuf, u64, u64)>> {
        let mut out = Vec::new();
        let last = self.segments.len() - 1;
        for (i, s) in self.segments.iter().enumerate() {
            if s.start_pos >= before_pos {
                break;
            }
            if i == last {
                for &(t, off, first) in &self.current {
                    if t == trace && out.last().is_none_or(|l: &(PathBuf, u64, u64)| l.1 != off) {
                        out.push((s.path.clone(), off, s.start_pos + first));
                    }
                }
            } else {
                for (off, first) in index_lookup(&s.path, trace)? {
                    out.push((s.path.clone(), off, s.start_pos + first));
                }
            }
        }
        Ok(out)
    }
}

/// Reads the intact frame at `offset` of a segment file.
pub(crate) fn read_frame_at(path: &Path, offset: u64) -> io::Result<frame::Frame> {
    let f = File::open(path)?;
    let mut head = [0u8; frame::HEADER];
    f.read_exact_at(&mut head, offset)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len > frame::MAX_PAYLOAD {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mut buf = vec![0u8; frame::HEADER + len];
    f.read_exact_at(&mut buf, offset)?;
    frame::decode_all(&buf)
        .0
        .pop()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad frame"))
}
