//! Direct recording of call digests: the hot path for code that already holds a
//! call's fields (the payments simulator), without tracing's span registry or
//! field `Visit` dispatch.
//!
//! A caller reads [`Recorder::now_us`] when the call starts, then hands the call's
//! fields ([`Call`]) and outcome ([`Outcome`]) to [`Recorder::call`] (one record) or
//! [`Recorder::rpc`] (a call made and served in this process: the server record and
//! its client counterpart, see [`ClientHalf`]). Each record is encoded as one v1
//! line — the same bytes [`crate::encode_record`] writes for the equivalent
//! [`crate::DigestRecord`] — into a per-thread buffer and handed to the [`Sink`].
//!
//! The encoder is tight: the RFC 3339 date and time up to the second are cached per
//! thread (only the six micro digits change within a second), ids go through a byte
//! to two-hex-digits table, and nothing is allocated once the thread's buffer is
//! warm. A call lacking a required field (service, operation, non-zero trace and
//! span ids; for `rpc`, a parent span and a peer) is counted in
//! [`Recorder::invalid`] and writes nothing. [`crate::DigestLayer`] remains the
//! general path for tracing-instrumented code.

use crate::ids::{SpanId, TraceId};
#[cfg(test)]
use crate::json::clean;
use crate::json::{json_str, push_u64, HEX2};
use crate::record::SpanKind;
use crate::sink::Sink;
use crate::time::{write_rfc3339, Micros, SharedClock};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Most business keys one call may carry; further keys are left out (the record
/// is still written).
pub const MAX_KEYS: usize = 8;

/// What is known of a call, as its own side sees it. Empty strings are "absent"
/// (omitted from the line) except `service` and `operation`, which are required.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub kind: SpanKind,
    pub service: &'a str,
    /// `""`: the recorder's default instance.
    pub instance: &'a str,
    pub operation: &'a str,
    /// The other side: the callee for client/integrator calls, the caller for server calls.
    pub peer: &'a str,
    pub zone: &'a str,
    pub scene: &'a str,
    pub channel: &'a str,
    pub version: &'a str,
    pub shadow: bool,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
    /// Business keys (`user`, `merchant`, …); written sorted by name, the first of
    /// duplicate names kept, at most [`MAX_KEYS`].
    pub keys: &'a [(&'a str, &'a str)],
}

/// How a call ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub success: bool,
    /// Business result code; `""` omits it.
    pub code: &'a str,
    pub error: Option<&'a str>,
    /// Simulated time added to the measured duration.
    pub extra_us: u64,
}

/// The client side of a call made and served in one process: written as a
/// `client` record with the server's trace, operation, context, keys and duration,
/// `span_id` = the server's parent, `peer` = the server's service.
#[derive(Debug, Clone, Copy)]
pub struct ClientHalf<'a> {
    pub instance: &'a str,
    pub version: &'a str,
    /// The client's own parent (the caller's server span).
    pub parent_span_id: Option<SpanId>,
}

/// Writes call digests straight to a sink.
pub struct Recorder {
    sink: Arc<dyn Sink>,
    clock: SharedClock,
    instance: String,
    invalid: AtomicU64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("instance", &self.instance)
            .field("invalid", &self.invalid())
            .finish()
    }
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(2048));
    /// The client line of an `rpc` call.
    static LINE2: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(2048));
    /// `(second, "YYYY-MM-DDTHH:MM:SS.")` of the last timestamp written here.
    static SECOND: RefCell<(u64, [u8; 20])> = const { RefCell::new((u64::MAX, [0; 20])) };
}

impl Recorder {
    /// `instance` is written when a call does not name its own.
    pub fn new(sink: Arc<dyn Sink>, clock: SharedClock, instance: impl Into<String>) -> Self {
        Self {
            sink,
            clock,
            instance: instance.into(),
            invalid: AtomicU64::new(0),
        }
    }

    /// The clock now: read it when a call starts.
    #[inline]
    pub fn now_us(&self) -> Micros {
        self.clock.now_us()
    }

    /// Calls dropped for lacking a required field.
    pub fn invalid(&self) -> u64 {
        self.invalid.load(Ordering::Relaxed)
    }

    /// The sink lines go to.
    pub fn sink(&self) -> &Arc<dyn Sink> {
        &self.sink
    }

    /// Writes one record of a call that started at `start_us` and ends now.
    /// Returns false (writing nothing, counting it) if a required field is missing.
    pub fn call(&self, start_us: Micros, call: &Call<'_>, out: &Outcome<'_>) -> bool {
        if !valid(call) {
            self.invalid.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let duration = self.clock.now_us().saturating_sub(start_us) + out.extra_us;
        LINE.with(|b| {
            let mut line = b.borrow_mut();
            line.clear();
            self.encode(&mut line, start_us, duration, call, out);
            self.sink.line(call.service, &line);
        });
        true
    }

    /// Writes a call made and served in this process: `server` is the server's
    /// record (its `peer` the calling service, its `parent_span_id` the client's
    /// span) and `client` completes the client's. Returns false (writing nothing,
    /// counting it) if a required field is missing.
    pub fn rpc(
        &self,
        start_us: Micros,
        server: &Call<'_>,
        client: &ClientHalf<'_>,
        out: &Outcome<'_>,
    ) -> bool {
        let Some(client_span) = server.parent_span_id.filter(|p| p.0 != 0) else {
            self.invalid.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        if !valid(server) || server.peer.is_empty() {
            self.invalid.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let duration = self.clock.now_us().saturating_sub(start_us) + out.extra_us;
        let c = Call {
            kind: SpanKind::Client,
            service: server.peer,
            instance: client.instance,
            peer: server.service,
            version: client.version,
            span_id: client_span,
            parent_span_id: client.parent_span_id,
            ..*server
        };
        LINE.with(|b| {
            LINE2.with(|b2| {
                let (mut line, mut line2) = (b.borrow_mut(), b2.borrow_mut());
                line.clear();
                line2.clear();
                let from = self.encode_head(&mut line, start_us, server);
                encode_tail(&mut line, duration, server, out);
                self.encode_head(&mut line2, start_us, &c);
                if c.version == server.version {
                    // Everything from `duration_us` on is the same on both sides.
                    line2.extend_from_slice(&line[from..]);
                } else {
                    encode_tail(&mut line2, duration, &c, out);
                }
                self.sink.line(server.service, &line);
                self.sink.line(c.service, &line2);
            })
        });
        true
    }

    /// Appends the v1 line of `call` (newline included): the field order and
    /// omissions of [`crate::encode_record`].
    fn encode(&self, o: &mut Vec<u8>, start_us: Micros, dur: u64, c: &Call<'_>, r: &Outcome<'_>) {
        self.encode_head(o, start_us, c);
        encode_tail(o, dur, c, r);
    }

    /// `time` … `peer`; returns where it ends.
    fn encode_head(&self, o: &mut Vec<u8>, start_us: Micros, c: &Call<'_>) -> usize {
        o.reserve(640);
        o.extend_from_slice(b"{\"time\":\"");
        write_time(o, start_us);
        o.extend_from_slice(b"\",\"trace_id\":\"");
        hex(o, &c.trace_id.0.to_be_bytes());
        o.extend_from_slice(b"\",\"span_id\":\"");
        hex(o, &c.span_id.0.to_be_bytes());
        if let Some(p) = c.parent_span_id {
            o.extend_from_slice(b"\",\"parent_span_id\":\"");
            hex(o, &p.0.to_be_bytes());
        }
        o.push(b'"');
        let instance = if c.instance.is_empty() {
            &self.instance
        } else {
            c.instance
        };
        o.extend_from_slice(b",\"kind\":\"");
        o.extend_from_slice(c.kind.as_str().as_bytes());
        o.extend_from_slice(b"\",\"service\":");
        json_str(o, c.service);
        opt_str(o, b",\"instance\":", instance);
        opt_str(o, b",\"zone\":", c.zone);
        o.extend_from_slice(b",\"operation\":");
        json_str(o, c.operation);
        opt_str(o, b",\"peer\":", c.peer);
        o.len()
    }
}

/// `duration_us` … the end of the line.
fn encode_tail(o: &mut Vec<u8>, dur: u64, c: &Call<'_>, r: &Outcome<'_>) {
    o.extend_from_slice(b",\"duration_us\":");
    push_u64(o, dur);
    o.extend_from_slice(if r.success {
        b",\"success\":true"
    } else {
        b",\"success\":false"
    });
    opt_str(o, b",\"code\":", r.code);
    if let Some(e) = r.error {
        o.extend_from_slice(b",\"error\":");
        json_str(o, e);
    }
    opt_str(o, b",\"scene\":", c.scene);
    opt_str(o, b",\"channel\":", c.channel);
    if c.shadow {
        o.extend_from_slice(b",\"shadow\":true");
    }
    opt_str(o, b",\"version\":", c.version);
    write_keys(o, c.keys);
    if let Some(a) = c.amount_cents {
        o.extend_from_slice(b",\"amount_cents\":");
        if a < 0 {
            o.push(b'-');
        }
        push_u64(o, a.unsigned_abs());
    }
    if let Some(n) = c.sql_count {
        o.extend_from_slice(b",\"sql_count\":");
        push_u64(o, n as u64);
    }
    o.extend_from_slice(b"}\n");
}

fn valid(c: &Call<'_>) -> bool {
    !c.service.is_empty() && !c.operation.is_empty() && c.trace_id.0 != 0 && c.span_id.0 != 0
}

/// `"keys":{…}` sorted by name, first of duplicates kept; nothing if empty.
fn write_keys(o: &mut Vec<u8>, keys: &[(&str, &str)]) {
    if keys.is_empty() {
        return;
    }
    let mut idx = [0u8; MAX_KEYS];
    let n = keys.len().min(MAX_KEYS);
    // Insertion sort of indexes (stable: the first of equal names stays first).
    for i in 0..n {
        let mut j = i;
        while j > 0 && keys[idx[j - 1] as usize].0 > keys[i].0 {
            idx[j] = idx[j - 1];
            j -= 1;
        }
        idx[j] = i as u8;
    }
    o.extend_from_slice(b",\"keys\":{");
    let mut prev: Option<&str> = None;
    for &i in &idx[..n] {
        let (k, v) = keys[i as usize];
        if prev == Some(k) {
            continue;
        }
        if prev.is_some() {
            o.push(b',');
        }
        prev = Some(k);
        json_str(o, k);
        o.push(b':');
        json_str(o, v);
    }
    o.push(b'}');
}

fn opt_str(o: &mut Vec<u8>, key: &[u8], v: &str) {
    if !v.is_empty() {
        o.extend_from_slice(key);
        json_str(o, v);
    }
}

/// RFC 3339 with microseconds; the part up to the second is cached per thread.
fn write_time(o: &mut Vec<u8>, us: Micros) {
    let sec = us / 1_000_000;
    let frac = (us % 1_000_000) as u32;
    SECOND.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 != sec {
            let mut full = Vec::with_capacity(27);
            write_rfc3339(&mut full, sec * 1_000_000);
            s.1.copy_from_slice(&full[..20]);
            s.0 = sec;
        }
        o.extend_from_slice(&s.1);
    });
    let mut d = [0u8; 7];
    let mut v = frac;
    for b in d[..6].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
    d[6] = b'Z';
    o.extend_from_slice(&d);
}

/// Lower-case hex of `bytes`, big-endian (the ids' text form).
fn hex(o: &mut Vec<u8>, bytes: &[u8]) {
    let mut buf = [0u8; 32];
    for (i, &b) in bytes.iter().enumerate() {
        buf[2 * i..2 * i + 2].copy_from_slice(&HEX2[b as usize]);
    }
    o.extend_from_slice(&buf[..2 * bytes.len()]);
}

#[cfg(test)]
mod tests;
