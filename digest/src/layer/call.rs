//! What a live call span has collected ([`CallData`]): each field taken once,
//! most of them already as `,"field":value` fragments, and how its record(s)
//! are written into one line buffer when it closes. Buffers are pooled per
//! thread.

use crate::json::{json_str, push_u64};
use crate::record::SpanKind;
use crate::time::write_rfc3339;
use std::cell::RefCell;
use tracing::field::{Field, Visit};

// Bits of `CallData::seen`, so every field is taken once.
const F_KIND: u32 = 1;
const F_SERVICE: u32 = 1 << 1;
const F_OPERATION: u32 = 1 << 2;
const F_TRACE: u32 = 1 << 3;
const F_SPAN: u32 = 1 << 4;
const F_PARENT: u32 = 1 << 5;
const F_SUCCESS: u32 = 1 << 6;
const F_SHADOW: u32 = 1 << 7;
const F_INSTANCE: u32 = 1 << 8;
const F_EXTRA: u32 = 1 << 9;
const F_AMOUNT: u32 = 1 << 10;
const F_SQL: u32 = 1 << 11;
const F_PEER: u32 = 1 << 12;
const F_ZONE: u32 = 1 << 13;
const F_SCENE: u32 = 1 << 14;
const F_CHANNEL: u32 = 1 << 15;
const F_VERSION: u32 = 1 << 16;
const F_CODE: u32 = 1 << 17;
const F_ERROR: u32 = 1 << 18;
const F_CINSTANCE: u32 = 1 << 19;
const F_CVERSION: u32 = 1 << 20;
const F_CPARENT: u32 = 1 << 21;

// Slots of `CallData::side`: fields kept raw because an `rpc` span writes them twice.
const S_PEER: usize = 0;
const S_INSTANCE: usize = 1;
const S_VERSION: usize = 2;
const S_CINSTANCE: usize = 3;
const S_CVERSION: usize = 4;

/// What a live call span has collected.
pub(super) struct CallData {
    start_us: u64,
    seen: u32,
    kind: Option<SpanKind>,
    rpc: bool,
    client_parent: u64,
    trace: u128,
    span: u64,
    parent: u64,
    success: bool,
    shadow: bool,
    extra_us: u64,
    service: String,
    /// Raw values of peer, instance, version, client_instance, client_version.
    side: Vec<u8>,
    ranges: [(u32, u32); 5],
    /// `,"field":value` fragments, ready to paste into the line.
    body: Vec<u8>,
    /// `"name":"value"` fragments joined by commas, for the `keys` object.
    keys: Vec<u8>,
}

fn string_field(name: &str) -> Option<u32> {
    Some(match name {
        "operation" => F_OPERATION,
        "zone" => F_ZONE,
        "scene" => F_SCENE,
        "channel" => F_CHANNEL,
        "code" => F_CODE,
        "error" => F_ERROR,
        _ => return None,
    })
}

fn side_field(name: &str) -> Option<(u32, usize)> {
    Some(match name {
        "peer" => (F_PEER, S_PEER),
        "instance" => (F_INSTANCE, S_INSTANCE),
        "version" => (F_VERSION, S_VERSION),
        "client_instance" => (F_CINSTANCE, S_CINSTANCE),
        "client_version" => (F_CVERSION, S_CVERSION),
        _ => return None,
    })
}

impl CallData {
    fn new(start_us: u64) -> Self {
        Self {
            start_us,
            seen: 0,
            kind: None,
            rpc: false,
            client_parent: 0,
            trace: 0,
            span: 0,
            parent: 0,
            success: false,
            shadow: false,
            extra_us: 0,
            service: String::new(),
            side: Vec::with_capacity(96),
            ranges: [(0, 0); 5],
            body: Vec::with_capacity(320),
            keys: Vec::with_capacity(96),
        }
    }
    /// A fresh span's data, reusing buffers from this thread's pool.
    pub(super) fn pooled(start_us: u64) -> Self {
        match POOL.with(|p| p.borrow_mut().pop()) {
            Some(mut d) => {
                d.start_us = start_us;
                d
            }
            None => Self::new(start_us),
        }
    }
    /// Gives the buffers back to this thread's pool.
    pub(super) fn recycle(mut self) {
        self.seen = 0;
        self.kind = None;
        self.rpc = false;
        self.client_parent = 0;
        self.trace = 0;
        self.span = 0;
        self.parent = 0;
        self.success = false;
        self.shadow = false;
        self.extra_us = 0;
        self.service.clear();
        self.side.clear();
        self.ranges = [(0, 0); 5];
        self.body.clear();
        self.keys.clear();
        if self.body.capacity() > 4096 || self.keys.capacity() > 4096 || self.side.capacity() > 4096
        {
            return;
        }
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_MAX {
                p.push(self);
            }
        });
    }
    fn first(&mut self, bit: u32) -> bool {
        let new = self.seen & bit == 0;
        self.seen |= bit;
        new
    }
    fn str_field(&mut self, name: &str, v: &str) {
        if name == "kind" {
            if self.first(F_KIND) {
                if v == "rpc" {
                    self.rpc = true;
                    self.kind = Some(SpanKind::Server);
                } else {
                    self.kind = v.parse().ok();
                }
            }
        } else if name == "service" {
            if self.first(F_SERVICE) {
                self.service.push_str(v);
            }
        } else if let Some((bit, slot)) = side_field(name) {
            if self.first(bit) {
                let start = self.side.len() as u32;
                self.side.extend_from_slice(v.as_bytes());
                self.ranges[slot] = (start, self.side.len() as u32);
            }
        } else if let Some(bit) = string_field(name) {
            if self.first(bit) {
                self.body.extend_from_slice(b",\"");
                self.body.extend_from_slice(name.as_bytes());
                self.body.extend_from_slice(b"\":");
                json_str(&mut self.body, v);
            }
        } else if let Some(key) = name.strip_prefix("key.") {
            if !self.keys.is_empty() {
                self.keys.push(b',');
            }
            json_str(&mut self.keys, key);
            self.keys.push(b':');
            json_str(&mut self.keys, v);
        }
    }
    fn u64_field(&mut self, name: &str, v: u64) {
        match name {
            "span_id" if self.first(F_SPAN) => self.span = v,
            "parent_span_id" if self.first(F_PARENT) => self.parent = v,
            "client_parent_span_id" if self.first(F_CPARENT) => self.client_parent = v,
            "trace_id" if self.first(F_TRACE) => self.trace = v as u128,
            "extra_us" if self.first(F_EXTRA) => self.extra_us = v,
            "amount_cents" if self.first(F_AMOUNT) => {
                self.body.extend_from_slice(b",\"amount_cents\":");
                push_u64(&mut self.body, v);
            }
            "sql_count" if self.first(F_SQL) => {
                self.body.extend_from_slice(b",\"sql_count\":");
                push_u64(&mut self.body, v.min(u32::MAX as u64));
            }
            _ => {
                if name.starts_with("key.")
                    || string_field(name).is_some()
                    || side_field(name).is_some()
                {
                    self.str_field(name, v.to_string().as_str());
                }
            }
        }
    }
    /// A raw side field, if recorded.
    fn side(&self, bit: u32, slot: usize) -> Option<&str> {
        if self.seen & bit == 0 {
            return None;
        }
        let (a, b) = self.ranges[slot];
        std::str::from_utf8(&self.side[a as usize..b as usize]).ok()
    }

    /// Checks the required fields.
    fn valid(&self) -> bool {
        self.kind.is_some()
            && self.trace != 0
            && self.span != 0
            && !self.service.is_empty()
            && self.seen & F_OPERATION != 0
            && (!self.rpc || (self.parent != 0 && self.seen & F_PEER != 0))
    }

    /// Writes one line into `out`.
    #[allow(clippy::too_many_arguments)]
    fn write_line(
        &self,
        out: &mut Vec<u8>,
        kind: SpanKind,
        span: u64,
        parent: u64,
        service: &str,
        peer: Option<&str>,
        instance: Option<&str>,
        version: Option<&str>,
        duration_us: u64,
    ) {
        out.extend_from_slice(b"{\"time\":\"");
        write_rfc3339(out, self.start_us);
        out.extend_from_slice(b"\",\"trace_id\":\"");
        crate::ids::TraceId(self.trace).write_hex(out);
        out.extend_from_slice(b"\",\"span_id\":\"");
        crate::ids::SpanId(span).write_hex(out);
        if parent != 0 {
            out.extend_from_slice(b"\",\"parent_span_id\":\"");
            crate::ids::SpanId(parent).write_hex(out);
        }
        out.extend_from_slice(b"\",\"kind\":\"");
        out.extend_from_slice(kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"service\":");
        json_str(out, service);
        for (name, v) in [("peer", peer), ("instance", instance), ("version", version)] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                json_str(out, v);
            }
        }
        out.extend_from_slice(b",\"duration_us\":");
        push_u64(out, duration_us);
        out.extend_from_slice(b",\"success\":");
        out.extend_from_slice(if self.success { b"true" } else { b"false" });
        if self.shadow {
            out.extend_from_slice(b",\"shadow\":true");
        }
        out.extend_from_slice(&self.body);
        if !self.keys.is_empty() {
            out.extend_from_slice(b",\"keys\":{");
            out.extend_from_slice(&self.keys);
            out.push(b'}');
        }
        out.extend_from_slice(b"}\n");
    }

    /// Writes the record(s) of this span, handing each to `emit(service, line)`.
    /// Returns false (writing nothing) if a required field is missing.
    pub(super) fn finish(
        &self,
        end_us: u64,
        default_instance: &str,
        out: &mut Vec<u8>,
        mut emit: impl FnMut(&str, &[u8]),
    ) -> bool {
        if !self.valid() {
            return false;
        }
        let kind = self.kind.unwrap_or(SpanKind::Server);
        let duration = end_us.saturating_sub(self.start_us) + self.extra_us;
        let dflt = (!default_instance.is_empty()).then_some(default_instance);
        let peer = self.side(F_PEER, S_PEER);
        out.clear();
        self.write_line(
            out,
            kind,
            self.span,
            self.parent,
            &self.service,
            peer,
            self.side(F_INSTANCE, S_INSTANCE).or(dflt),
            self.side(F_VERSION, S_VERSION),
            duration,
        );
        emit(&self.service, out);
        if self.rpc {
            let client = peer.unwrap_or("");
            out.clear();
            self.write_line(
                out,
                SpanKind::Client,
                self.parent,
                self.client_parent,
                client,
                Some(&self.service),
                self.side(F_CINSTANCE, S_CINSTANCE).or(dflt),
                self.side(F_CVERSION, S_CVERSION),
                duration,
            );
            emit(client, out);
        }
        true
    }
}

impl Visit for CallData {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.str_field(field.name(), value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        match field.name() {
            "success" if self.first(F_SUCCESS) => self.success = value,
            "shadow" if self.first(F_SHADOW) => self.shadow = value,
            _ => {}
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.u64_field(field.name(), value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        let name = field.name();
        if name == "amount_cents" {
            if self.first(F_AMOUNT) {
                self.body.extend_from_slice(b",\"amount_cents\":");
                if value < 0 {
                    self.body.push(b'-');
                }
                push_u64(&mut self.body, value.unsigned_abs());
            }
        } else if value >= 0 {
            self.u64_field(name, value as u64);
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if field.name() == "trace_id" && self.first(F_TRACE) {
            self.trace = value;
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if name == "kind"
            || name == "service"
            || string_field(name).is_some()
            || side_field(name).is_some()
            || name.starts_with("key.")
        {
            let s = format!("{value:?}");
            self.str_field(name, &s);
        }
    }
}

const POOL_MAX: usize = 512;

thread_local! {
    /// Span data whose buffers can be reused: no allocation per span once warm.
    static POOL: RefCell<Vec<CallData>> = const { RefCell::new(Vec::new()) };
}
