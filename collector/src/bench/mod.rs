//! Benchmark and load-test tooling, compiled only with the `bench` feature
//! (`warroom bench ingest`, the collector's own tests, benches and examples):
//! parse + validate + pre-aggregate over all cores (a file streamed in bounded
//! memory: [`parse_fast_file`]) (the fast scanner against
//! the `serde_json` reference decoder on the same lines), realistic generated
//! lines ([`generate_lines`]), and HTTP ingest end to end through a real
//! listener over loopback ([`http_end_to_end`], with the minimal client [`Conn`]).

mod client;
mod generate;
mod http_load;
mod stream;

pub use client::{Conn, HttpReply};
pub use generate::generate_lines;
pub use http_load::{
    http_end_to_end, peak_rss_bytes, process_cpu_secs, HttpReport, HttpRun, HttpRunError,
};

use crate::preagg::Preagg;
use crate::scan::{scan_record, RecordView};
use digest::{decode_line, Line, RollupBuilder, SecondRollup};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Instant;

/// What one parse run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParseReport {
    pub lines: u64,
    pub bytes: u64,
    pub rejected: u64,
    pub threads: usize,
    pub secs: f64,
    pub lines_per_s: f64,
    pub bytes_per_s: f64,
    /// CPU time the worker threads got (from `/proc/thread-self/schedstat`; 0
    /// when unknown). On a shared machine wall time understates the code.
    pub cpu_secs: f64,
    /// Lines per CPU-second of the worker threads.
    pub lines_per_cpu_s: f64,
    /// Seconds and series the rollups came to (a check that work was done).
    pub rollup_seconds: usize,
    pub rollup_records: u64,
}

/// Splits `data` into `n` chunks at line boundaries.
fn chunks(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        let mut end = if i == n {
            data.len()
        } else {
            data.len() * i / n
        };
        if end < start {
            end = start;
        }
        if i < n {
            end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |p| end + p + 1);
        }
        out.push(&data[start..end]);
        start = end;
    }
    out
}

/// CPU time of the calling thread in nanoseconds (Linux), if known.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn run_threads<F, T>(data: &[u8], threads: usize, f: F) -> (Vec<T>, f64, f64)
where
    F: Fn(&[u8]) -> T + Sync,
    T: Send,
{
    let parts = chunks(data, threads.max(1));
    let t0 = Instant::now();
    let out = std::thread::scope(|s| {
        let hs: Vec<_> = parts
            .iter()
            .map(|c| {
                s.spawn(|| {
                    let c0 = thread_cpu_ns();
                    let r = f(c);
                    let cpu = match (c0, thread_cpu_ns()) {
                        (Some(a), Some(b)) => b.saturating_sub(a),
                        _ => 0,
                    };
                    (r, cpu)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect::<Vec<(T, u64)>>()
    });
    let secs = t0.elapsed().as_secs_f64();
    let cpu = out.iter().map(|x| x.1).sum::<u64>() as f64 / 1e9;
    (out.into_iter().map(|x| x.0).collect(), secs, cpu)
}

fn report(
    data: &[u8],
    threads: usize,
    (secs, cpu_secs): (f64, f64),
    parts: Vec<(u64, u64, Vec<SecondRollup>)>,
) -> ParseReport {
    let lines: u64 = parts.iter().map(|p| p.0).sum();
    let rejected: u64 = parts.iter().map(|p| p.1).sum();
    let merged = merge_rollups(parts.into_iter().flat_map(|p| p.2));
    ParseReport {
        lines,
        bytes: data.len() as u64,
        rejected,
        threads,
        secs,
        lines_per_s: lines as f64 / secs,
        bytes_per_s: data.len() as f64 / secs,
        cpu_secs,
        lines_per_cpu_s: if cpu_secs > 0.0 {
            lines as f64 / cpu_secs
        } else {
            0.0
        },
        rollup_seconds: merged.len(),
        rollup_records: merged.iter().map(|r| r.total_count()).sum(),
    }
}

/// Merges the rollups of several threads into one list, oldest first.
fn merge_rollups(parts: impl IntoIterator<Item = SecondRollup>) -> Vec<SecondRollup> {
    let mut out: BTreeMap<u64, SecondRollup> = BTreeMap::new();
    for r in parts {
        match out.get_mut(&r.second) {
            Some(x) => x.merge(&r),
            None => {
                out.insert(r.second, r);
            }
        }
    }
    out.into_values().collect()
}

/// Non-empty lines of `data` (memchr-driven).
fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', data);
    std::iter::from_fn(move || loop {
        let end = match ends.next() {
            Some(e) => e,
            None if start < data.len() => data.len(),
            None => return None,
        };
        let line = &data[start..end];
        start = end + 1;
        if !line.is_empty() {
            return Some(line);
        }
    })
}

/// The hot path's per-worker state: pre-aggregation and counts.
struct FastState {
    agg: Preagg,
    lines: u64,
    rejected: u64,
}

fn fast_new() -> FastState {
    FastState {
        agg: Preagg::new(),
        lines: 0,
        rejected: 0,
    }
}

fn fast_block(st: &mut FastState, chunk: &[u8]) {
    for line in split_lines(chunk) {
        st.lines += 1;
        match scan_record(line) {
            Some(v) => st.agg.add(&v),
            None => match decode_line(line) {
                Ok(Line::Record(r)) => st.agg.add(&RecordView::of(&r)),
                Ok(Line::Event(_)) => {}
                Err(_) => st.rejected += 1,
            },
        }
    }
}

fn fast_done(mut st: FastState) -> stream::Part {
    (st.lines, st.rejected, st.agg.take_all())
}

struct ReferenceState {
    agg: RollupBuilder,
    lines: u64,
    rejected: u64,
}

fn reference_new() -> ReferenceState {
    ReferenceState {
        agg: RollupBuilder::default(),
        lines: 0,
        rejected: 0,
    }
}

fn reference_block(st: &mut ReferenceState, chunk: &[u8]) {
    for line in split_lines(chunk) {
        st.lines += 1;
        match decode_line(line) {
            Ok(Line::Record(r)) => st.agg.add(&r),
            Ok(Line::Event(_)) => {}
            Err(_) => st.rejected += 1,
        }
    }
}

fn reference_done(mut st: ReferenceState) -> stream::Part {
    (st.lines, st.rejected, st.agg.take_all())
}

/// The hot path: fast scanner (reference decoder for unusual lines) + pre-aggregation.
pub fn parse_fast(data: &[u8], threads: usize) -> ParseReport {
    let (parts, secs, cpu) = run_threads(data, threads, |chunk| {
        let mut st = fast_new();
        fast_block(&mut st, chunk);
        fast_done(st)
    });
    report(data, threads, (secs, cpu), parts)
}

/// The baseline: `digest::decode_line` (serde_json) + `digest::RollupBuilder`.
pub fn parse_reference(data: &[u8], threads: usize) -> ParseReport {
    let (parts, secs, cpu) = run_threads(data, threads, |chunk| {
        let mut st = reference_new();
        reference_block(&mut st, chunk);
        reference_done(st)
    });
    report(data, threads, (secs, cpu), parts)
}

/// As [`parse_fast`] over a file read as it goes, in blocks of about
/// `block_bytes` (memory: a few blocks, whatever the file's size).
pub fn parse_fast_file(path: &Path, threads: usize, block_bytes: usize) -> io::Result<ParseReport> {
    stream::stream_threads(path, threads, block_bytes, fast_new, fast_block, fast_done)
}

/// As [`parse_reference`] over a file read as it goes.
pub fn parse_reference_file(
    path: &Path,
    threads: usize,
    block_bytes: usize,
) -> io::Result<ParseReport> {
    stream::stream_threads(
        path,
        threads,
        block_bytes,
        reference_new,
        reference_block,
        reference_done,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_reference_count_the_same() {
        let data = generate_lines(3_000, 1, 1_800_000_000_000_000, 1000);
        let a = parse_fast(&data, 2);
        let b = parse_reference(&data, 2);
        assert_eq!((a.lines, a.rejected, a.rollup_records), (3_000, 0, 3_000));
        assert_eq!((b.lines, b.rollup_seconds), (a.lines, a.rollup_seconds));
        assert_eq!(chunks(&data, 3).concat(), data);
        let got: Vec<&[u8]> = split_lines(b"a\n\nbc\nd").collect();
        assert_eq!(got, vec![&b"a"[..], b"bc", b"d"]);
        assert_eq!(split_lines(b"x\n").count(), 1);
    }

    #[test]
    fn a_file_streamed_in_small_blocks_counts_as_the_whole_buffer() {
        let mut data = generate_lines(5_000, 3, 1_800_000_000_000_000, 1000);
        data.extend_from_slice(b"not json\n\n");
        // A last line without its newline, and one longer than a block.
        let long = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(200_000));
        data.extend_from_slice(long.as_bytes());
        data.extend_from_slice(&generate_lines(10, 4, 1_800_000_000_000_000, 10));
        data.pop();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.log");
        std::fs::write(&path, &data).unwrap();
        let whole = parse_fast(&data, 2);
        for block in [1 << 16, 100_000, 8 << 20] {
            let s = parse_fast_file(&path, 2, block).unwrap();
            assert_eq!(
                (
                    s.lines,
                    s.rejected,
                    s.bytes,
                    s.rollup_records,
                    s.rollup_seconds
                ),
                (
                    whole.lines,
                    whole.rejected,
                    whole.bytes,
                    whole.rollup_records,
                    whole.rollup_seconds
                ),
                "block {block}"
            );
            let r = parse_reference_file(&path, 3, block).unwrap();
            assert_eq!((r.lines, r.rejected), (whole.lines, whole.rejected));
        }
        assert!(parse_fast_file(&dir.path().join("missing"), 2, 1 << 20).is_err());
    }
}
