//! [`LineBatch`]: accepted records as the v1 lines they came in, with the few
//! fields a store indexes (ids, kind, time) beside each line. This is what the
//! pipeline hands to a store: no record is materialised on the hot path, and a
//! store that keeps lines (the embedded one) never re-parses them.

use crate::scan::{decode_fast, scan_record, RecordView};
use digest::{encode_record, DigestRecord, Line, Micros, SpanId, SpanKind, TraceId};

/// Where one record's line sits in a [`LineBatch`], with what stores index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMeta {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub kind: SpanKind,
    pub time_us: Micros,
    /// Byte offset of the line in [`LineBatch::lines`].
    pub start: u32,
    /// Length of the line without its newline.
    pub len: u32,
}

impl LineMeta {
    /// The dedup identity `(trace_id, span_id, kind)`.
    pub fn key(&self) -> (TraceId, SpanId, SpanKind) {
        (self.trace_id, self.span_id, self.kind)
    }
}

/// Newline-terminated v1 record lines and one [`LineMeta`] per line, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineBatch {
    pub lines: Vec<u8>,
    pub meta: Vec<LineMeta>,
}

impl LineBatch {
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            lines: Vec::with_capacity(bytes),
            meta: Vec::with_capacity(records),
        }
    }

    /// Appends `line` (without its newline) for the record `v` describes.
    pub fn push(&mut self, line: &[u8], v: &RecordView<'_>) {
        self.meta.push(LineMeta {
            trace_id: v.trace_id,
            span_id: v.span_id,
            kind: v.kind,
            time_us: v.time_us,
            start: self.lines.len() as u32,
            len: line.len() as u32,
        });
        self.lines.extend_from_slice(line);
        self.lines.push(b'\n');
    }

    /// Encodes owned records (the slow path: OTLP, files, tests).
    pub fn from_records(records: &[DigestRecord]) -> Self {
        let mut b = Self::with_capacity(records.len(), records.len() * 480);
        for r in records {
            let start = b.lines.len();
            encode_record(&mut b.lines, r);
            b.meta.push(LineMeta {
                trace_id: r.trace_id,
                span_id: r.span_id,
                kind: r.kind,
                time_us: r.time_us,
                start: start as u32,
                len: (b.lines.len() - start - 1) as u32,
            });
        }
        b
    }

    /// A batch of the record lines of a payload as the codec takes them (blank
    /// lines skipped); `None` when a line is not a v1 record.
    pub fn from_payload(payload: &[u8]) -> Option<LineBatch> {
        let mut b = LineBatch::with_capacity(0, payload.len());
        for line in payload
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        {
            match scan_record(line) {
                Some(v) => b.push(line, &v),
                None => match digest::decode_line(line) {
                    Ok(Line::Record(r)) => b.push(line, &RecordView::of(&r)),
                    _ => return None,
                },
            }
        }
        Some(b)
    }

    /// Appends another batch (offsets shifted).
    pub fn append(&mut self, other: LineBatch) {
        if self.meta.is_empty() {
            *self = other;
            return;
        }
        let shift = self.lines.len() as u32;
        self.lines.extend_from_slice(&other.lines);
        self.meta.extend(other.meta.into_iter().map(|mut m| {
            m.start += shift;
            m
        }));
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Line `i` without its newline.
    pub fn line(&self, i: usize) -> &[u8] {
        let m = &self.meta[i];
        &self.lines[m.start as usize..(m.start + m.len) as usize]
    }

    /// The records, decoded (lines were validated on the way in; a line that no
    /// longer decodes, which only a codec change could cause, is skipped).
    pub fn records(&self) -> Vec<DigestRecord> {
        (0..self.len())
            .filter_map(|i| match decode_fast(self.line(i)) {
                Ok(Line::Record(r)) => Some(r),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_append_shifts() {
        let recs: Vec<DigestRecord> = (1..=3u64)
            .map(|i| DigestRecord {
                time_us: 1_800_000_000_000_000 + i,
                trace_id: TraceId(i as u128),
                span_id: SpanId(i),
                service: "trade".into(),
                operation: "pay".into(),
                code: "SUCCESS".into(),
                success: true,
                ..Default::default()
            })
            .collect();
        let mut a = LineBatch::from_records(&recs[..1]);
        a.append(LineBatch::from_records(&recs[1..]));
        assert_eq!(a.len(), 3);
        assert_eq!(a.records(), recs);
        assert_eq!(a.meta[2].key(), (TraceId(3), SpanId(3), SpanKind::Server));
        assert!(a.line(1).starts_with(b"{") && a.line(1).ends_with(b"}"));
        assert_eq!(a, LineBatch::from_records(&recs));
        let mut payload = a.lines.clone();
        payload.extend_from_slice(b"\n  \n");
        let b = LineBatch::from_payload(&payload).unwrap();
        assert_eq!(b.records(), recs);
        payload.extend_from_slice(b"{\"time\":1}\n");
        assert_eq!(LineBatch::from_payload(&payload), None);
    }
}
