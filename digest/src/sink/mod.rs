//! Sinks: where a process's digest lines and change events go once they are made.
//!
//! One trait, [`Sink`], takes both call records (already encoded as v1 lines by the
//! tracing layer, or as [`DigestRecord`]s) and [`ChangeEvent`]s. Every implementation
//! must return at once on the payment path: it queues within a bound and counts what
//! it had to drop. Implementations: [`FileSink`] (rolling `<service>-digest.log`),
//! [`HttpShipper`] (batches to a collector's `/v1/digest` and `/v1/events`),
//! [`DiscardSink`] (counts, keeps nothing: for benchmarks), [`MemorySink`] (keeps
//! every line: for tests), [`FanoutSink`] (several at once).

mod buffer;
mod file;
mod http;

pub use file::{FileSink, FileSinkConfig};
pub use http::{HttpShipper, HttpShipperConfig};

use crate::codec::encode_record;
use crate::record::{ChangeEvent, DigestRecord};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Why a sink could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("sink config field `{field}`: {reason}")]
    Config { field: &'static str, reason: String },
    #[error("cannot use digest directory {dir}: {source}")]
    Dir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a sink has done so far. All counters only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SinkStats {
    /// Call-record lines accepted into the queue.
    pub lines: u64,
    /// Change events accepted into the queue.
    pub events: u64,
    /// Lines or events refused because the queue was full (or the sink closed).
    pub dropped: u64,
    /// Lines or events delivered (written to a file, acknowledged by the collector).
    pub delivered: u64,
    /// Lines or events the receiver refused for good (HTTP 4xx), not retried.
    pub rejected: u64,
    /// Delivery attempts that failed and were retried.
    pub retries: u64,
}

/// Takes call records and change events. Must never block its caller.
pub trait Sink: Send + Sync + 'static {
    /// One encoded v1 call-record line from `service`, newline included.
    fn line(&self, service: &str, line: &[u8]);
    /// One change event.
    fn event(&self, ev: &ChangeEvent);
    /// One call record, encoded here.
    fn record(&self, rec: &DigestRecord) {
        let mut buf = Vec::with_capacity(512);
        encode_record(&mut buf, rec);
        self.line(&rec.service, &buf);
    }
    fn stats(&self) -> SinkStats;
    /// Pushes out everything queued so far; waits at most `timeout`. Returns whether
    /// everything queued before the call was delivered (or refused for good).
    /// Not for the payment path.
    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
}

/// Shared counters every sink keeps.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub lines: AtomicU64,
    pub events: AtomicU64,
    pub dropped: AtomicU64,
    pub delivered: AtomicU64,
    pub rejected: AtomicU64,
    pub retries: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> SinkStats {
        SinkStats {
            lines: self.lines.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// Counts and forgets: what the encoding costs, without any I/O.
///
/// Its counters are striped per thread (cache-line sized slots), so that counting
/// does not make payment threads fight over one cache line: the benchmark then
/// measures making the lines, not the measuring tool.
#[derive(Debug, Default)]
pub struct DiscardSink {
    stripes: [Stripe; STRIPES],
    events: AtomicU64,
}

const STRIPES: usize = 16;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe {
    lines: AtomicU64,
    bytes: AtomicU64,
}

thread_local! {
    static STRIPE: usize = {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) as usize % STRIPES
    };
}

impl DiscardSink {
    pub fn new() -> Self {
        Self::default()
    }
    /// Bytes of lines seen.
    pub fn bytes(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum()
    }
}

impl Sink for DiscardSink {
    fn line(&self, _service: &str, line: &[u8]) {
        let s = &self.stripes[STRIPE.with(|i| *i)];
        s.lines.fetch_add(1, Ordering::Relaxed);
        s.bytes.fetch_add(line.len() as u64, Ordering::Relaxed);
    }
    fn event(&self, _ev: &ChangeEvent) {
        self.events.fetch_add(1, Ordering::Relaxed);
    }
    fn stats(&self) -> SinkStats {
        let lines: u64 = self
            .stripes
            .iter()
            .map(|s| s.lines.load(Ordering::Relaxed))
            .sum();
        let events = self.events.load(Ordering::Relaxed);
        SinkStats {
            lines,
            events,
            delivered: lines + events,
            ..SinkStats::default()
        }
    }
}

/// Keeps every line and event in memory (tests, small tools).
#[derive(Debug, Default)]
pub struct MemorySink {
    counters: Counters,
    lines: Mutex<Vec<(String, Vec<u8>)>>,
    events: Mutex<Vec<ChangeEvent>>,
}

impl MemorySink {
    pub fn new() -> Self {
        Self::default()
    }
    /// Every line so far as `(service, line)`.
    pub fn lines(&self) -> Vec<(String, Vec<u8>)> {
        self.lines.lock().clone()
    }
    /// Every change event so far.
    pub fn events(&self) -> Vec<ChangeEvent> {
        self.events.lock().clone()
    }
}

impl Sink for MemorySink {
    fn line(&self, service: &str, line: &[u8]) {
        Counters::add(&self.counters.lines, 1);
        Counters::add(&self.counters.delivered, 1);
        self.lines.lock().push((service.to_string(), line.to_vec()));
    }
    fn event(&self, ev: &ChangeEvent) {
        Counters::add(&self.counters.events, 1);
        Counters::add(&self.counters.delivered, 1);
        self.events.lock().push(ev.clone());
    }
    fn stats(&self) -> SinkStats {
        self.counters.snapshot()
    }
}

/// Sends everything to several sinks. Its stats are the sum of theirs.
pub struct FanoutSink(pub Vec<Arc<dyn Sink>>);

impl Sink for FanoutSink {
    fn line(&self, service: &str, line: &[u8]) {
        for s in &self.0 {
            s.line(service, line);
        }
    }
    fn event(&self, ev: &ChangeEvent) {
        for s in &self.0 {
            s.event(ev);
        }
    }
    fn stats(&self) -> SinkStats {
        let mut t = SinkStats::default();
        for s in &self.0 {
            let x = s.stats();
            t.lines += x.lines;
            t.events += x.events;
            t.dropped += x.dropped;
            t.delivered += x.delivered;
            t.rejected += x.rejected;
            t.retries += x.retries;
        }
        t
    }
    fn flush(&self, timeout: Duration) -> bool {
        self.0.iter().all(|s| s.flush(timeout))
    }
}

#[cfg(test)]
mod tests;
