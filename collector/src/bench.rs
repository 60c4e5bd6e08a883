//! Ingest benchmarks behind `warroom bench ingest`: parse + validate +
//! pre-aggregate over all cores (the fast scanner against the `serde_json`
//! reference decoder on the same lines), and HTTP ingest end to end through a
//! real listener over loopback (a minimal keep-alive HTTP/1.1 client).

use crate::preagg::{merge_rollups, Preagg};
use crate::scan::{scan_record, RecordView};
use digest::{decode_line, Line, RollupBuilder};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
pub fn chunks(data: &[u8], n: usize) -> Vec<&[u8]> {
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
    parts: Vec<(u64, u64, Vec<digest::SecondRollup>)>,
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

/// Non-empty lines of `data` (memchr-driven).
pub fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
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

/// The hot path: fast scanner (reference decoder for unusual lines) + pre-aggregation.
pub fn parse_fast(data: &[u8], threads: usize) -> ParseReport {
    let (parts, secs, cpu) = run_threads(data, threads, |chunk| {
        let mut agg = Preagg::new();
        let (mut lines, mut rejected) = (0u64, 0u64);
        for line in split_lines(chunk) {
            lines += 1;
            match scan_record(line) {
                Some(v) => agg.add(&v),
                None => match decode_line(line) {
                    Ok(Line::Record(r)) => agg.add(&RecordView::of(&r)),
                    Ok(Line::Event(_)) => {}
                    Err(_) => rejected += 1,
                },
            }
        }
        (lines, rejected, agg.take_all())
    });
    report(data, threads, (secs, cpu), parts)
}

/// The baseline: `digest::decode_line` (serde_json) + `digest::RollupBuilder`.
pub fn parse_reference(data: &[u8], threads: usize) -> ParseReport {
    let (parts, secs, cpu) = run_threads(data, threads, |chunk| {
        let mut agg = RollupBuilder::default();
        let (mut lines, mut rejected) = (0u64, 0u64);
        for line in split_lines(chunk) {
            lines += 1;
            match decode_line(line) {
                Ok(Line::Record(r)) => agg.add(&r),
                Ok(Line::Event(_)) => {}
                Err(_) => rejected += 1,
            }
        }
        (lines, rejected, agg.take_all())
    });
    report(data, threads, (secs, cpu), parts)
}

/// A reply from the minimal client.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal keep-alive HTTP/1.1 client (one connection), enough for load and
/// crash tests without pulling in a client library.
pub struct Conn {
    s: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn { s, buf: Vec::new() })
    }

    /// Sends one request and reads the whole reply.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpReply> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: collector\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.s.write_all(head.as_bytes()).await?;
        self.s.write_all(body).await?;
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> std::io::Result<HttpReply> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let head_end = loop {
            if let Some(p) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            let mut tmp = [0u8; 8192];
            let n = self.s.read(&mut tmp).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.buf.extend_from_slice(&tmp[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .ok_or_else(|| bad("no content-length"))?;
        let total = head_end + 4 + len;
        while self.buf.len() < total {
            let mut tmp = [0u8; 8192];
            let n = self.s.read(&mut tmp).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
        let body = self.buf[head_end + 4..total].to_vec();
        self.buf.drain(..total);
        Ok(HttpReply {
            status,
            headers,
            body,
        })
    }
}

/// What an HTTP load run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HttpReport {
    pub connections: usize,
    pub lines_per_request: usize,
    pub secs: f64,
    /// Lines the collector acknowledged (200 replies).
    pub acked_lines: u64,
    pub lines_per_s: f64,
    pub bytes_per_s: f64,
    pub requests: u64,
    pub refused_429: u64,
    pub refused_503: u64,
    pub errors: u64,
}

/// Offsets of each line's trace id in a v1 body made by our encoder
/// (`{"time":"<27 chars>","trace_id":"` is 50 bytes).
fn trace_id_offsets(body: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body) {
        if body[start..end].starts_with(b"{\"time\":\"") && body.len() > start + 58 {
            out.push(start + 50);
        }
        start = end + 1;
    }
    out
}

/// Posts `bodies` round robin over `connections` for `duration`. Every request
/// gets fresh trace ids (a counter stamped into each line), so nothing is a
/// duplicate. On 429/503 the client waits a little and resends.
pub async fn drive_http(
    addr: SocketAddr,
    bodies: Vec<Vec<u8>>,
    connections: usize,
    duration: Duration,
) -> std::io::Result<HttpReport> {
    let lines_per_request = bodies
        .first()
        .map_or(0, |b| memchr::memchr_iter(b'\n', b).count());
    let bodies: Arc<Vec<(Vec<u8>, Vec<usize>)>> = Arc::new(
        bodies
            .into_iter()
            .map(|b| {
                let o = trace_id_offsets(&b);
                (b, o)
            })
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let stamp = Arc::new(AtomicU64::new(1));
    let c = Arc::new([(); 6].map(|_| AtomicU64::new(0)));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..connections.max(1) {
        let (bodies, stop, stamp, c) = (bodies.clone(), stop.clone(), stamp.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            let mut i = k;
            let mut buf = Vec::new();
            while !stop.load(Relaxed) {
                let (body, offs) = &bodies[i % bodies.len()];
                i += 1;
                buf.clear();
                buf.extend_from_slice(body);
                let s = format!("{:08x}", stamp.fetch_add(1, Relaxed) as u32);
                for &o in offs {
                    buf[o..o + 8].copy_from_slice(s.as_bytes());
                }
                loop {
                    let r = conn
                        .request(
                            "POST",
                            "/v1/digest",
                            &[("Content-Type", "application/x-ndjson")],
                            &buf,
                        )
                        .await?;
                    c[0].fetch_add(1, Relaxed);
                    match r.status {
                        200 => {
                            c[1].fetch_add(offs.len() as u64, Relaxed);
                            c[2].fetch_add(buf.len() as u64, Relaxed);
                            break;
                        }
                        429 | 503 => {
                            c[if r.status == 429 { 3 } else { 4 }].fetch_add(1, Relaxed);
                            if stop.load(Relaxed) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        _ => {
                            c[5].fetch_add(1, Relaxed);
                            break;
                        }
                    }
                }
            }
            Ok::<(), std::io::Error>(())
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Relaxed);
    for t in tasks {
        t.await.map_err(std::io::Error::other)??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let acked = c[1].load(Relaxed);
    Ok(HttpReport {
        connections,
        lines_per_request,
        secs,
        acked_lines: acked,
        lines_per_s: acked as f64 / secs,
        bytes_per_s: c[2].load(Relaxed) as f64 / secs,
        requests: c[0].load(Relaxed),
        refused_429: c[3].load(Relaxed),
        refused_503: c[4].load(Relaxed),
        errors: c[5].load(Relaxed),
    })
}

/// One end-to-end HTTP run: what the client saw, the CPU the whole process
/// (server and client) spent, and what the collector wrote and stored.
#[derive(Debug)]
pub struct HttpRun {
    pub report: HttpReport,
    pub cpu_secs: Option<f64>,
    pub records_written: u64,
    pub records_stored: u64,
}

/// Why an end-to-end HTTP run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HttpRunError {
    #[error("collector: {0}")]
    Open(#[from] crate::OpenError),
    #[error("store: {0}")]
    Store(#[from] crate::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// HTTP ingest end to end in this process: a real loopback listener, the
/// write-ahead buffer with `fsync`, the embedded store in `dir` (removed
/// afterwards), and [`drive_http`] sending generated v1 lines
/// (`lines_per_request` each) over `connections` for `duration`.
pub async fn http_end_to_end(
    dir: &std::path::Path,
    fsync: crate::FsyncPolicy,
    lines_per_request: usize,
    connections: usize,
    duration: Duration,
) -> Result<HttpRun, HttpRunError> {
    let _ = std::fs::remove_dir_all(dir);
    let clock: digest::SharedClock = Arc::new(digest::SystemClock);
    let store = Arc::new(crate::EmbeddedStore::open(
        &dir.join("store"),
        crate::EmbeddedConfig::default(),
        clock.clone(),
    )?);
    let cfg = crate::PipelineConfig {
        data_dir: dir.to_path_buf(),
        fsync,
        ..crate::PipelineConfig::default()
    };
    let pipeline = crate::Pipeline::open(cfg, store, clock)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::http::serve(listener, pipeline.clone(), async {
        let _ = stop_rx.await;
    }));
    let start = digest::Clock::now_us(&digest::SystemClock);
    let bodies: Vec<Vec<u8>> = (0..64)
        .map(|i| crate::gen::lines(lines_per_request, 1000 + i, start, 200_000))
        .collect();
    let cpu0 = process_cpu_secs();
    let report = drive_http(addr, bodies, connections, duration).await;
    pipeline.flush().await;
    let cpu_secs = process_cpu_secs().zip(cpu0).map(|(b, a)| b - a);
    let stored = pipeline.store().count().await;
    let records_written = pipeline.metrics().records_written.load(Relaxed);
    let _ = stop_tx.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(HttpRun {
        report: report?,
        cpu_secs,
        records_written,
        records_stored: stored?,
    })
}

/// CPU time this process has used so far (user + system, all threads), in
/// seconds, when Linux tells (`/proc/self/stat`, 10 ms ticks).
pub fn process_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, after) = s.rsplit_once(')')?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((t(11)? + t(12)?) / 100.0)
}

/// Peak resident memory of this process (`VmHWM`), in bytes, when Linux tells.
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_reference_count_the_same() {
        let data = crate::gen::lines(3_000, 1, 1_800_000_000_000_000, 1000);
        let a = parse_fast(&data, 2);
        let b = parse_reference(&data, 2);
        assert_eq!((a.lines, a.rejected, a.rollup_records), (3_000, 0, 3_000));
        assert_eq!((b.lines, b.rollup_seconds), (a.lines, a.rollup_seconds));
        assert_eq!(chunks(&data, 3).concat(), data);
        let got: Vec<&[u8]> = split_lines(b"a\n\nbc\nd").collect();
        assert_eq!(got, vec![&b"a"[..], b"bc", b"d"]);
        assert_eq!(split_lines(b"x\n").count(), 1);
        assert_eq!(trace_id_offsets(&data).len(), 3_000);
        assert_eq!(&data[38..50], b"\"trace_id\":\"");
    }
}
