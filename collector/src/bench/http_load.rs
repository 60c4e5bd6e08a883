//! HTTP ingest end to end: [`http_end_to_end`] runs a real collector (loopback
//! listener, write-ahead buffer, embedded store) in this process and drives it
//! with generated lines over several [`Conn`]s; process CPU and peak memory
//! from `/proc`.

use super::client::Conn;
use super::generate::generate_lines;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
async fn drive_http(
    addr: SocketAddr,
    bodies: Vec<Vec<u8>>,
    connections: usize,
    duration: Duration,
    auth: Option<String>,
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
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            let mut i = k;
            let mut buf = Vec::new();
            let mut headers = vec![("Content-Type", "application/x-ndjson")];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
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
                    let r = conn.request("POST", "/v1/digest", &headers, &buf).await?;
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
    #[error("{0}")]
    Edge(#[from] crate::EdgeError),
}

/// HTTP ingest end to end in this process: a real loopback listener, the
/// write-ahead buffer with `fsync`, the embedded store in `dir` (removed
/// afterwards), and a client sending generated v1 lines
/// (`lines_per_request` each) over `connections` for `duration`. With `token`, the
/// collector requires it (one source, `bench`) and every request carries it.
pub async fn http_end_to_end(
    dir: &std::path::Path,
    fsync: crate::FsyncPolicy,
    lines_per_request: usize,
    connections: usize,
    duration: Duration,
    token: Option<&str>,
) -> Result<HttpRun, HttpRunError> {
    let edge = crate::Edge::new(crate::EdgeConfig {
        tokens: token
            .map(|t| crate::SourceToken::new("bench", t))
            .transpose()?
            .into_iter()
            .collect(),
        ..Default::default()
    })?;
    let auth = token.map(|t| format!("Bearer {t}"));
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
    let server = tokio::spawn(crate::http::serve_edge(
        listener,
        pipeline.clone(),
        edge,
        async {
            let _ = stop_rx.await;
        },
    ));
    let start = digest::Clock::now_us(&digest::SystemClock);
    let bodies: Vec<Vec<u8>> = (0..64)
        .map(|i| generate_lines(lines_per_request, 1000 + i, start, 200_000))
        .collect();
    let cpu0 = process_cpu_secs();
    let report = drive_http(addr, bodies, connections, duration, auth).await;
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
    fn trace_ids_sit_where_the_stamp_goes() {
        let data = generate_lines(3_000, 1, 1_800_000_000_000_000, 1000);
        assert_eq!(trace_id_offsets(&data).len(), 3_000);
        assert_eq!(&data[38..50], b"\"trace_id\":\"");
    }
}
