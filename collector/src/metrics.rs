//! The collector's self-metrics: plain atomic counters, rendered as Prometheus
//! text at `GET /metrics` and as JSON fields of `GET /api/stats`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Reasons a line is rejected that are always listed (others appear when seen,
/// e.g. the OTLP decoder's `invalid_trace_id`).
pub const REJECT_REASONS: [&str; 5] = [
    "malformed_json",
    "missing_field",
    "invalid_field",
    "line_too_long",
    "wrong_type",
];

#[derive(Default)]
pub struct Metrics {
    pub records_accepted: AtomicU64,
    pub events_accepted: AtomicU64,
    rejected: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    pub bytes_in: AtomicU64,
    pub requests: AtomicU64,
    pub refused_busy: AtomicU64,
    pub refused_buffer_full: AtomicU64,
    pub refused_too_large: AtomicU64,
    pub refused_inflight: AtomicU64,
    pub duplicates_dropped: AtomicU64,
    pub records_written: AtomicU64,
    pub events_written: AtomicU64,
    pub store_errors: AtomicU64,
    pub replayed_records: AtomicU64,
    pub late_records: AtomicU64,
    /// Records acknowledged but older than the retention (by their `time`): not stored.
    pub outside_retention: AtomicU64,
    pub rollups_published: AtomicU64,
    pub pending_records: AtomicU64,
    pub wal_fsyncs: AtomicU64,
    /// Age of the oldest unstored batch when last looked at (microseconds).
    pub store_lag_us: AtomicU64,
}

impl Metrics {
    /// Counts `n` rejected lines (or spans) for `reason`.
    pub fn reject(&self, reason: &str, n: u64) {
        if n > 0 {
            *self.rejected.lock().entry(reason.to_string()).or_default() += n;
        }
    }
    pub fn rejected_total(&self) -> u64 {
        self.rejected.lock().values().sum()
    }
    /// Rejections by reason (the fixed reasons always present).
    pub fn rejected_by_reason(&self) -> std::collections::BTreeMap<String, u64> {
        let mut m = self.rejected.lock().clone();
        for r in REJECT_REASONS {
            m.entry(r.to_string()).or_default();
        }
        m
    }
}

/// Values that live outside the counters (gauges read at scrape time).
pub struct Gauges {
    pub records_stored: u64,
    pub wal_unconfirmed_bytes: u64,
    pub wal_unconfirmed_batches: u64,
    pub subscribers: u64,
    pub subscriber_missed: u64,
    pub dedup_keys: u64,
    /// The file tailer's counters, when one feeds this pipeline.
    pub tail: Option<crate::sources::tail::TailStats>,
    /// The store's own retention figures, when it keeps them (the embedded store).
    pub retention: Option<crate::store::RetentionStats>,
}

/// Prometheus text exposition (version 0.0.4).
pub fn render(m: &Metrics, g: &Gauges) -> String {
    let mut o = String::with_capacity(4096);
    let mut c = |name: &str, help: &str, kind: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    };
    c(
        "warroom_collector_records_accepted_total",
        "Digest records acknowledged (durable in the write-ahead buffer).",
        "counter",
        m.records_accepted.load(Relaxed),
    );
    c(
        "warroom_collector_events_accepted_total",
        "Change events acknowledged.",
        "counter",
        m.events_accepted.load(Relaxed),
    );
    c(
        "warroom_collector_bytes_in_total",
        "Request body bytes received (before gzip decompression).",
        "counter",
        m.bytes_in.load(Relaxed),
    );
    c(
        "warroom_collector_requests_total",
        "Ingest requests received.",
        "counter",
        m.requests.load(Relaxed),
    );
    c(
        "warroom_collector_duplicates_dropped_total",
        "Records dropped as retried duplicates of (trace_id, span_id, kind).",
        "counter",
        m.duplicates_dropped.load(Relaxed),
    );
    c(
        "warroom_collector_records_written_total",
        "Records written to the store by this process.",
        "counter",
        m.records_written.load(Relaxed),
    );
    c(
        "warroom_collector_store_errors_total",
        "Failed store writes (retried; data stays buffered).",
        "counter",
        m.store_errors.load(Relaxed),
    );
    c(
        "warroom_collector_replayed_records_total",
        "Records replayed from the write-ahead buffer at start.",
        "counter",
        m.replayed_records.load(Relaxed),
    );
    c(
        "warroom_collector_late_records_total",
        "Records for a second already published (sent in a later partial).",
        "counter",
        m.late_records.load(Relaxed),
    );
    c(
        "warroom_collector_rollups_published_total",
        "Per-second rollups published to subscribers.",
        "counter",
        m.rollups_published.load(Relaxed),
    );
    c(
        "warroom_collector_records_stored",
        "Records held by the store.",
        "gauge",
        g.records_stored,
    );
    c(
        "warroom_collector_buffer_pending_records",
        "Records acknowledged but not yet confirmed by the store (buffer depth).",
        "gauge",
        m.pending_records.load(Relaxed),
    );
    c(
        "warroom_collector_buffer_bytes",
        "Unconfirmed bytes in the write-ahead buffer.",
        "gauge",
        g.wal_unconfirmed_bytes,
    );
    c(
        "warroom_collector_buffer_batches",
        "Unconfirmed batches in the write-ahead buffer.",
        "gauge",
        g.wal_unconfirmed_batches,
    );
    let lag = m.store_lag_us.load(Relaxed) as f64 / 1e6;
    let _ = writeln!(
        o,
        "# HELP warroom_collector_store_lag_seconds Age of the oldest batch waiting for the store (0 when none).\n# TYPE warroom_collector_store_lag_seconds gauge\nwarroom_collector_store_lag_seconds {lag}"
    );
    let mut c = |name: &str, help: &str, kind: &str, v: u64| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    };
    c(
        "warroom_collector_subscribers",
        "Downstream subscriptions open.",
        "gauge",
        g.subscribers,
    );
    c(
        "warroom_collector_subscriber_missed_total",
        "Messages lagging subscribers missed.",
        "counter",
        g.subscriber_missed,
    );
    c(
        "warroom_collector_dedup_keys",
        "Keys held by the duplicate filter.",
        "gauge",
        g.dedup_keys,
    );
    let _ = writeln!(
        o,
        "# HELP warroom_collector_refused_total Requests refused whole, by reason.\n# TYPE warroom_collector_refused_total counter"
    );
    for (r, v) in [
        ("busy", &m.refused_busy),
        ("buffer_full", &m.refused_buffer_full),
        ("too_large", &m.refused_too_large),
        ("inflight", &m.refused_inflight),
    ] {
        let _ = writeln!(
            o,
            "warroom_collector_refused_total{{reason=\"{r}\"}} {}",
            v.load(Relaxed)
        );
    }
    let _ = writeln!(
        o,
        "# HELP warroom_collector_rejected_total Lines rejected, by reason.\n# TYPE warroom_collector_rejected_total counter"
    );
    for (r, v) in m.rejected_by_reason() {
        let _ = writeln!(o, "warroom_collector_rejected_total{{reason=\"{r}\"}} {v}");
    }
    let _ = writeln!(
        o,
        "# HELP warroom_collector_outside_retention_total Records acknowledged but older than the retention (by their time): not stored.\n# TYPE warroom_collector_outside_retention_total counter\nwarroom_collector_outside_retention_total {}",
        m.outside_retention.load(Relaxed)
    );
    if let Some(r) = &g.retention {
        render_retention(&mut o, r);
    }
    if let Some(t) = &g.tail {
        render_tail(&mut o, t);
    }
    o
}

/// The store's memory window, files and evictions (`warroom_collector_store_*`).
fn render_retention(o: &mut String, r: &crate::store::RetentionStats) {
    for (name, help, v) in [
        (
            "memory_records",
            "Records held in memory (the recent window).",
            r.memory_records,
        ),
        (
            "disk_records",
            "Records in the store's segment files.",
            r.disk_records,
        ),
        (
            "disk_bytes",
            "Bytes of the store's segment files.",
            r.disk_bytes,
        ),
        (
            "disk_segments",
            "Segment files of the store.",
            r.disk_segments,
        ),
    ] {
        let _ = writeln!(
            o,
            "# HELP warroom_collector_store_{name} {help}\n# TYPE warroom_collector_store_{name} gauge\nwarroom_collector_store_{name} {v}"
        );
    }
    for (what, age, size) in [
        ("records", r.evicted_age_records, r.evicted_size_records),
        ("bytes", r.evicted_age_bytes, r.evicted_size_bytes),
    ] {
        let _ = writeln!(
            o,
            "# HELP warroom_collector_store_evicted_{what}_total Store {what} deleted with their segment, by reason (age: arrived before the retention; size: over the byte budget).\n# TYPE warroom_collector_store_evicted_{what}_total counter\nwarroom_collector_store_evicted_{what}_total{{reason=\"age\"}} {age}\nwarroom_collector_store_evicted_{what}_total{{reason=\"size\"}} {size}"
        );
    }
}

/// The file tailer's counters (`warroom_collector_tail_*`).
fn render_tail(o: &mut String, t: &crate::sources::tail::TailStats) {
    let mut c = |name: &str, help: &str, kind: &str, v: u64| {
        let _ = writeln!(
            o,
            "# HELP warroom_collector_tail_{name} {help}\n# TYPE warroom_collector_tail_{name} {kind}\nwarroom_collector_tail_{name} {v}"
        );
    };
    c(
        "files_followed",
        "Files the tailer follows now.",
        "gauge",
        t.files_followed as u64,
    );
    c(
        "lines_accepted_total",
        "Tailed lines accepted.",
        "counter",
        t.lines_accepted,
    );
    c(
        "records_total",
        "Records delivered from tailed files.",
        "counter",
        t.records,
    );
    c(
        "events_total",
        "Change events delivered from tailed files.",
        "counter",
        t.events,
    );
    c(
        "stat_lines_total",
        "SOFATracer stat lines read (counted, not stored).",
        "counter",
        t.stat_lines,
    );
    c(
        "deliveries_refused_total",
        "Tailed batches the pipeline refused (offered again later).",
        "counter",
        t.deliveries_refused,
    );
    c(
        "rotations_total",
        "Files let go after a rename or delete, once drained.",
        "counter",
        t.rotations,
    );
    c(
        "truncations_total",
        "Files that shrank or got a different head (copytruncate).",
        "counter",
        t.truncations,
    );
    c(
        "io_errors_total",
        "Read errors on tailed files.",
        "counter",
        t.io_errors,
    );
    let _ = writeln!(
        o,
        "# HELP warroom_collector_tail_rejected_total Tailed lines rejected, by reason (also in warroom_collector_rejected_total).\n# TYPE warroom_collector_tail_rejected_total counter"
    );
    for (r, v) in &t.rejected_by_reason {
        let _ = writeln!(
            o,
            "warroom_collector_tail_rejected_total{{reason=\"{r}\"}} {v}"
        );
    }
}
