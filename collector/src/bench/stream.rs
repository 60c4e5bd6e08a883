//! Parsing a file as it is read, in bounded memory: one reader (the calling
//! thread) fills blocks of about `block_bytes` cut at line ends and hands them
//! to `threads` workers over a bounded channel; spent blocks come back for
//! reuse, so at most `2 × threads + 1` blocks exist whatever the file's size.

use super::{merge_rollups, thread_cpu_ns, ParseReport};
use digest::SecondRollup;
use parking_lot::Mutex;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

/// Per-worker figures: lines, rejected lines, closed rollups.
pub(super) type Part = (u64, u64, Vec<SecondRollup>);

/// Reads up to `want` more bytes into `buf`; returns whether the file ended.
fn fill(file: &mut File, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let n = file.by_ref().take(want as u64).read_to_end(buf)?;
    Ok(n < want)
}

/// Streams `path` through `parse` on `threads` workers; each worker starts from
/// `new()` and ends with `done`. Returns the report over the whole file.
pub(super) fn stream_threads<S, N, P, D>(
    path: &Path,
    threads: usize,
    block_bytes: usize,
    new: N,
    parse: P,
    done: D,
) -> io::Result<ParseReport>
where
    N: Fn() -> S + Sync,
    P: Fn(&mut S, &[u8]) + Sync,
    D: Fn(S) -> Part + Sync,
{
    let threads = threads.max(1);
    let block_bytes = block_bytes.max(1 << 16);
    let mut file = File::open(path)?;
    let (work_tx, work_rx) = mpsc::sync_channel::<Vec<u8>>(threads);
    let work_rx = Mutex::new(work_rx);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let t0 = Instant::now();
    let c0 = thread_cpu_ns();
    let (parts, bytes) = std::thread::scope(|s| -> io::Result<(Vec<(Part, u64)>, u64)> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (work_rx, free_tx) = (&work_rx, free_tx.clone());
                let (new, parse, done) = (&new, &parse, &done);
                s.spawn(move || {
                    let c0 = thread_cpu_ns();
                    let mut state = new();
                    loop {
                        let next = work_rx.lock().recv();
                        let Ok(block) = next else { break };
                        parse(&mut state, &block);
                        let _ = free_tx.send(block);
                    }
                    let cpu = match (c0, thread_cpu_ns()) {
                        (Some(a), Some(b)) => b.saturating_sub(a),
                        _ => 0,
                    };
                    (done(state), cpu)
                })
            })
            .collect();
        drop(free_tx);
        let mut made = 0;
        let mut carry: Vec<u8> = Vec::new();
        let mut bytes = 0u64;
        let read = (|| -> io::Result<()> {
            loop {
                let mut buf = match free_rx.try_recv() {
                    Ok(b) => b,
                    Err(_) if made < 2 * threads + 1 => {
                        made += 1;
                        Vec::with_capacity(block_bytes + (block_bytes >> 2))
                    }
                    Err(_) => match free_rx.recv() {
                        Ok(b) => b,
                        Err(_) => return Ok(()),
                    },
                };
                buf.clear();
                buf.append(&mut carry);
                let before = buf.len();
                let mut ended = fill(&mut file, &mut buf, block_bytes.saturating_sub(before))?;
                // A line longer than a block: read on until it ends.
                while !ended && memchr::memrchr(b'\n', &buf).is_none() {
                    ended = fill(&mut file, &mut buf, block_bytes)?;
                }
                bytes += (buf.len() - before) as u64;
                if !ended {
                    if let Some(last) = memchr::memrchr(b'\n', &buf) {
                        carry.extend_from_slice(&buf[last + 1..]);
                        buf.truncate(last + 1);
                    }
                }
                if !buf.is_empty() && work_tx.send(buf).is_err() {
                    return Ok(());
                }
                if ended {
                    return Ok(());
                }
            }
        })();
        drop(work_tx);
        let parts = workers
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        read.map(|()| (parts, bytes))
    })?;
    let secs = t0.elapsed().as_secs_f64();
    let reader_cpu = match (c0, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    let cpu_secs = (parts.iter().map(|p| p.1).sum::<u64>() + reader_cpu) as f64 / 1e9;
    let parts: Vec<Part> = parts.into_iter().map(|p| p.0).collect();
    let lines: u64 = parts.iter().map(|p| p.0).sum();
    let rejected: u64 = parts.iter().map(|p| p.1).sum();
    let merged = merge_rollups(parts.into_iter().flat_map(|p| p.2));
    Ok(ParseReport {
        lines,
        bytes,
        rejected,
        threads,
        secs,
        lines_per_s: lines as f64 / secs,
        bytes_per_s: bytes as f64 / secs,
        cpu_secs,
        lines_per_cpu_s: if cpu_secs > 0.0 {
            lines as f64 / cpu_secs
        } else {
            0.0
        },
        rollup_seconds: merged.len(),
        rollup_records: merged.iter().map(|r| r.total_count()).sum(),
    })
}
