//! The HTTP batch shipper: digest lines to `POST {url}/v1/digest`, change events to
//! `POST {url}/v1/events`, as newline-delimited JSON bodies of at most `batch_bytes`.
//! A failed batch (connection error, 5xx, 429) is retried with exponential backoff up
//! to `max_retries` times, then dropped and counted; a 4xx other than 429 is refused
//! for good and counted as rejected. New lines keep queuing (within `queue_bytes`)
//! while a batch is retried — the payment path never waits for the collector.
//!
//! With `token`, every request carries `Authorization: Bearer <token>` (a collector with
//! `[collector] tokens` refuses others with 401, counted as rejected); the token is never
//! shown by `Debug`. The client is a small HTTP/1.1 writer over `std::net` (plain
//! `http://` only): the shipper runs on its own thread and needs nothing more.

use super::buffer::{Drained, Queue};
use super::{Counters, Sink, SinkError, SinkStats};
use crate::codec::encode_event;
use crate::record::ChangeEvent;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Where to ship and how hard to try.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpShipperConfig {
    /// Collector base URL, `http://host:port` (a path prefix is allowed).
    pub url: String,
    /// Largest request body, in bytes (whole lines; one longer line goes alone).
    pub batch_bytes: usize,
    /// Bytes queued in memory before new lines are dropped (and counted).
    pub queue_bytes: usize,
    /// Retries of one batch before it is dropped.
    pub max_retries: u32,
    /// First retry delay; doubles each retry up to `backoff_max_ms`.
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
    /// How often queued lines are shipped, in milliseconds.
    pub flush_interval_ms: u64,
    /// Connect / read / write timeout per request, in milliseconds.
    pub timeout_ms: u64,
    /// Bearer token the collector knows this source by (`[collector] tokens`).
    pub token: Option<String>,
}

impl std::fmt::Debug for HttpShipperConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpShipperConfig")
            .field("url", &self.url)
            .field("batch_bytes", &self.batch_bytes)
            .field("queue_bytes", &self.queue_bytes)
            .field("max_retries", &self.max_retries)
            .field("backoff_initial_ms", &self.backoff_initial_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("flush_interval_ms", &self.flush_interval_ms)
            .field("timeout_ms", &self.timeout_ms)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for HttpShipperConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:4318".into(),
            batch_bytes: 1024 * 1024,
            queue_bytes: 64 * 1024 * 1024,
            max_retries: 8,
            backoff_initial_ms: 50,
            backoff_max_ms: 5_000,
            flush_interval_ms: 200,
            timeout_ms: 5_000,
            token: None,
        }
    }
}

/// Host, port and path prefix of a plain-HTTP URL.
#[derive(Debug, Clone)]
struct Target {
    host: String,
    addr: SocketAddr,
    prefix: String,
}

fn parse_url(url: &str) -> Result<Target, SinkError> {
    let bad = |reason: &str| SinkError::Config {
        field: "url",
        reason: format!("{url:?}: {reason}"),
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// URLs are supported"))?;
    let (hostport, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if hostport.is_empty() {
        return Err(bad("missing host"));
    }
    let with_port = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| bad(&format!("cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| bad("resolves to no address"))?;
    Ok(Target {
        host: hostport.to_string(),
        addr,
        prefix: prefix.to_string(),
    })
}

/// Outcome of one POST.
enum Sent {
    Ok,
    Retry,
    Refused,
}

fn post(t: &Target, path: &str, auth: &str, body: &[u8], timeout: Duration) -> Sent {
    let attempt = || -> std::io::Result<u16> {
        let mut s = TcpStream::connect_timeout(&t.addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        s.set_nodelay(true)?;
        let head = format!(
            "POST {}{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n{auth}Connection: close\r\n\r\n",
            t.prefix,
            path,
            t.host,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        s.flush()?;
        let mut resp = Vec::with_capacity(512);
        let mut chunk = [0u8; 1024];
        // Read until the status line is complete (the body is not needed).
        loop {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            resp.extend_from_slice(&chunk[..n]);
            if resp.windows(2).any(|w| w == b"\r\n") || resp.len() > 8192 {
                break;
            }
        }
        let line = String::from_utf8_lossy(&resp);
        line.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| std::io::Error::other("no HTTP status line"))
    };
    match attempt() {
        Ok(c) if (200..300).contains(&c) => Sent::Ok,
        Ok(429) => Sent::Retry,
        Ok(c) if (400..500).contains(&c) => Sent::Refused,
        _ => Sent::Retry,
    }
}

/// Splits a buffer of whole lines into bodies of at most `max` bytes; returns
/// `(body, line_count)` pairs.
fn chunks(buf: &[u8], max: usize) -> Vec<(&[u8], u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut lines = 0u64;
    let mut last_nl = None;
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if i + 1 - start > max && lines > 0 {
                let end = last_nl.expect("lines > 0 means a newline was seen") + 1;
                out.push((&buf[start..end], lines));
                start = end;
                lines = 0;
            }
            lines += 1;
            last_nl = Some(i);
        }
        i += 1;
    }
    if start < buf.len() {
        out.push((&buf[start..], lines.max(1)));
    }
    out
}

struct Shipper {
    target: Target,
    cfg: HttpShipperConfig,
    /// The `Authorization` header line (with its CRLF), or empty.
    auth: String,
}

impl Shipper {
    /// Ships one body with retries; counts the outcome against `n` items.
    fn ship(&self, path: &str, body: &[u8], n: u64, c: &Counters) {
        let timeout = Duration::from_millis(self.cfg.timeout_ms.max(1));
        let mut backoff = self.cfg.backoff_initial_ms.max(1);
        for attempt in 0..=self.cfg.max_retries {
            match post(&self.target, path, &self.auth, body, timeout) {
                Sent::Ok => {
                    Counters::add(&c.delivered, n);
                    return;
                }
                Sent::Refused => {
                    Counters::add(&c.rejected, n);
                    return;
                }
                Sent::Retry if attempt < self.cfg.max_retries => {
                    Counters::add(&c.retries, 1);
                    std::thread::sleep(Duration::from_millis(backoff));
                    backoff = (backoff * 2).min(self.cfg.backoff_max_ms.max(1));
                }
                Sent::Retry => {}
            }
        }
        Counters::add(&c.dropped, n);
    }
}

/// Batches lines and events to a collector over HTTP.
pub struct HttpShipper {
    drained: Drained,
}

impl HttpShipper {
    /// Checks the config and starts the shipping thread (no request is made yet).
    pub fn start(cfg: HttpShipperConfig) -> Result<Self, SinkError> {
        let target = parse_url(&cfg.url)?;
        if cfg.batch_bytes == 0 {
            return Err(SinkError::Config {
                field: "batch_bytes",
                reason: "must be > 0".into(),
            });
        }
        if cfg.queue_bytes < cfg.batch_bytes.min(4096) {
            return Err(SinkError::Config {
                field: "queue_bytes",
                reason: "must be at least 4096 or batch_bytes".into(),
            });
        }
        let queue = Arc::new(Queue::new(cfg.queue_bytes));
        let interval = Duration::from_millis(cfg.flush_interval_ms.max(1));
        let auth = match &cfg.token {
            None => String::new(),
            Some(t)
                if t.is_empty()
                    || t.bytes()
                        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) =>
            {
                return Err(SinkError::Config {
                    field: "token",
                    reason: "must be non-empty, without whitespace or control characters".into(),
                });
            }
            Some(t) => format!("Authorization: Bearer {t}\r\n"),
        };
        let shipper = Shipper { target, cfg, auth };
        let drained = Drained::spawn(queue, "digest-http-shipper", move |q| {
            while let Some(batch) = q.take(interval) {
                let max = shipper.cfg.batch_bytes;
                for (_, buf, _) in &batch.lines {
                    for (body, n) in chunks(buf, max) {
                        shipper.ship("/v1/digest", body, n, &q.counters);
                    }
                }
                for (body, n) in chunks(&batch.events, max) {
                    shipper.ship("/v1/events", body, n, &q.counters);
                }
                q.handled(batch.upto);
            }
        })?;
        Ok(Self { drained })
    }

    /// Ships what is queued (with its retries) and stops.
    pub fn close(&self) {
        self.drained.close();
    }
}

impl Sink for HttpShipper {
    fn line(&self, _service: &str, line: &[u8]) {
        self.drained.queue.push_line("", line);
    }
    fn event(&self, ev: &ChangeEvent) {
        let mut buf = Vec::with_capacity(160);
        encode_event(&mut buf, ev);
        self.drained.queue.push_event(&buf);
    }
    fn stats(&self) -> SinkStats {
        self.drained.queue.counters.snapshot()
    }
    fn flush(&self, timeout: Duration) -> bool {
        self.drained.queue.flush(timeout)
    }
}

#[cfg(test)]
pub(crate) fn chunks_for_test(buf: &[u8], max: usize) -> Vec<(Vec<u8>, u64)> {
    chunks(buf, max)
        .into_iter()
        .map(|(b, n)| (b.to_vec(), n))
        .collect()
}
