//! SOFATracer JSON logs onto digest records: `rpc-client-digest.log`,
//! `rpc-server-digest.log`, `spring-mvc-digest.log` (one call per line) and the
//! `*-stat.log` files (aggregates per period, kept apart as [`SofaStat`] — never
//! turned into invented per-call records).
//!
//! Ids: a SOFATracer trace id (about 30 hex digits) becomes a 128-bit trace id by
//! left-padding with zeros when it is hex of at most 32 digits, else by FNV-1a-128
//! of its text. A hierarchical span id `0.1.2` becomes FNV-1a-64 of its text, and
//! its parent is the id of the prefix (`0.1`); the root `0` has no parent. Client
//! and server lines of one RPC share the span id (as in SOFATracer), so the
//! server record's identity differs from the client's by `kind` only.
//!
//! Time: SOFATracer prints the local wall clock without a zone when the span
//! ends; the record's start is that instant minus the duration, with the zone
//! given by [`SofaOptions::utc_offset_s`] (default UTC).

use super::sofa_fields::{Fields, Scalar};
use digest::{
    parse_rfc3339, DigestRecord, Keys, Micros, SecondRollup, SeriesKey, SeriesStats, SpanId,
    SpanKind, TraceId,
};

/// Which SOFATracer log a line comes from (chosen from the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SofaLogKind {
    /// `rpc-client-digest.log`: the caller's side of a SOFARPC call.
    RpcClient,
    /// `rpc-server-digest.log`: the provider's side.
    RpcServer,
    /// `spring-mvc-digest.log`: an HTTP request served by Spring MVC.
    SpringMvc,
    /// `*-stat.log`: aggregates per period; `client` tells the side
    /// (`rpc-client-stat.log`, `httpclient-stat.log` …) when the name says so.
    Stat { client: bool },
}

impl SofaLogKind {
    /// The kind for a file name (rotated suffixes such as `.2026-11-27` or `.1`
    /// are allowed), or `None` when the name is not a SOFATracer log.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let base = name.rsplit('/').next().unwrap_or(name);
        let stem = match base.find(".log") {
            Some(i) => &base[..i],
            None => return None,
        };
        match stem {
            "rpc-client-digest" => Some(Self::RpcClient),
            "rpc-server-digest" => Some(Self::RpcServer),
            "spring-mvc-digest" => Some(Self::SpringMvc),
            s if s.ends_with("-stat") => Some(Self::Stat {
                client: s.contains("client"),
            }),
            _ => None,
        }
    }
}

/// Decoding options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SofaOptions {
    /// The zone of the timestamps SOFATracer printed, in seconds east of UTC
    /// (`28800` for UTC+8). Timestamps with an explicit zone ignore it.
    pub utc_offset_s: i32,
}

/// One decoded SOFATracer line. (Records are the common case: not boxed.)
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum SofaLine {
    Record(DigestRecord),
    Stat(SofaStat),
}

/// One stat-log line: what one (app, operation, peer, outcome) did in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct SofaStat {
    /// When the line was printed (the end of the period).
    pub time_us: Micros,
    pub kind: SpanKind,
    pub service: String,
    pub operation: String,
    pub peer: String,
    pub count: u64,
    pub total_cost_us: u64,
    pub success: bool,
    /// `load.test` = `T`: full-link stress-test traffic.
    pub shadow: bool,
}

impl SofaStat {
    /// As a rollup of the second the line was printed in. Latency is
    /// approximate: the mean cost is recorded `count` times; `code` is `OK` or
    /// `ERROR` as the line has no per-call code.
    pub fn to_rollup(&self) -> SecondRollup {
        let mut r = SecondRollup::new(self.time_us / 1_000_000);
        let key = SeriesKey {
            service: self.service.clone(),
            operation: self.operation.clone(),
            kind: self.kind,
            peer: self.peer.clone(),
            scene: String::new(),
            zone: String::new(),
            shadow: self.shadow,
            code: if self.success { "OK" } else { "ERROR" }.to_string(),
        };
        let mut s = SeriesStats {
            count: self.count,
            errors: if self.success { 0 } else { self.count },
            ..Default::default()
        };
        if let Some(mean) = self.total_cost_us.checked_div(self.count) {
            s.latency_us.record_n(mean, self.count);
        }
        r.series.insert(key, s);
        r
    }
}

/// Why a SOFATracer line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field.map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct SofaError {
    pub field: Option<&'static str>,
    pub reason: String,
}

impl SofaError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            reason: reason.into(),
        }
    }
    /// A short, stable label for counting rejections by reason.
    pub fn label(&self) -> &'static str {
        match self.field {
            None => "malformed_json",
            Some(_) if self.reason.starts_with("missing") => "missing_field",
            Some(_) => "invalid_field",
        }
    }
}

/// Decodes one line (without its newline) of a SOFATracer log of `kind`.
pub fn decode_sofa_line(
    line: &[u8],
    kind: SofaLogKind,
    opts: &SofaOptions,
) -> Result<SofaLine, SofaError> {
    let fields = Fields::parse(line).map_err(|reason| SofaError {
        field: None,
        reason,
    })?;
    let o = &fields;
    if o.contains("stat.key") || matches!(kind, SofaLogKind::Stat { .. }) {
        let client = matches!(
            kind,
            SofaLogKind::Stat { client: true } | SofaLogKind::RpcClient
        );
        return decode_stat(o, client, opts).map(SofaLine::Stat);
    }
    decode_digest(o, kind, opts).map(SofaLine::Record)
}

fn text(o: &Fields, key: &str) -> Option<String> {
    match o.get(key)? {
        Scalar::Str(s) if !s.is_empty() => Some(s.to_string()),
        Scalar::Num(n) => Some(n.clone()),
        _ => None,
    }
}

fn required(o: &Fields, key: &'static str) -> Result<String, SofaError> {
    match o.get(key) {
        None | Some(Scalar::Null) => Err(SofaError::new(key, "missing")),
        Some(Scalar::Str(s)) if s.is_empty() => Err(SofaError::new(key, "missing (empty)")),
        Some(Scalar::Str(s)) => Ok(s.to_string()),
        Some(_) => Err(SofaError::new(key, "must be a string")),
    }
}

/// Parses `2018-05-20 17:03:20.708` (zone from `opts`) or an RFC 3339 stamp.
fn parse_time(s: &str, opts: &SofaOptions, field: &'static str) -> Result<Micros, SofaError> {
    let bad = |_| SofaError::new(field, format!("not a timestamp: {s:?}"));
    let has_zone = s.len() > 19
        && (s.ends_with('Z')
            || s.ends_with('z')
            || s.as_bytes()[19..].iter().any(|b| matches!(b, b'+' | b'-')));
    if has_zone {
        return parse_rfc3339(s).map_err(bad);
    }
    let utc = parse_rfc3339(&format!("{s}Z")).map_err(bad)? as i64;
    let us = utc - opts.utc_offset_s as i64 * 1_000_000;
    u64::try_from(us).map_err(|_| SofaError::new(field, "before 1970"))
}

/// A cost in milliseconds: `155`, `"155"`, `"5006ms"`.
fn parse_ms(v: &Scalar, field: &'static str) -> Result<u64, SofaError> {
    let text = match v {
        Scalar::Num(n) => n.as_str(),
        Scalar::Str(s) => s.trim(),
        other => {
            return Err(SofaError::new(
                field,
                format!("not a cost in milliseconds ({})", other.type_name()),
            ))
        }
    };
    let digits = text.strip_suffix("ms").unwrap_or(text).trim();
    digits
        .parse::<u64>()
        .map_err(|_| SofaError::new(field, format!("not a cost in milliseconds: {:?}", text)))
}

fn cost_ms(o: &Fields, keys: &[&'static str]) -> Result<Option<u64>, SofaError> {
    for k in keys {
        match o.get(k) {
            None | Some(Scalar::Null) => continue,
            Some(v) => return parse_ms(v, k).map(Some),
        }
    }
    Ok(None)
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// FNV-1a, 128 bits.
pub fn fnv1a128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    h
}

/// A SOFATracer trace id as a 128-bit trace id (see the module comment).
pub fn sofa_trace_id(s: &str) -> TraceId {
    if !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(v) = u128::from_str_radix(s, 16) {
            if v != 0 {
                return TraceId(v);
            }
        }
    }
    TraceId(fnv1a128(s.as_bytes()).max(1))
}

/// A hierarchical span id (`0.1.2`) as a 64-bit span id and its parent's.
/// `None` when the text is not dot-separated decimal numbers.
pub fn sofa_span_ids(s: &str) -> Option<(SpanId, Option<SpanId>)> {
    if s.is_empty() || s.len() > 256 {
        return None;
    }
    if !s
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let id = |t: &str| SpanId(fnv1a64(t.as_bytes()).max(1));
    let parent = s.rfind('.').map(|i| id(&s[..i]));
    Some((id(s), parent))
}

/// `key=value&key2=value2` (SOFATracer baggage) as pairs.
fn baggage(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(['&', ','])
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

/// `com.example.PayService:1.0` + `pay` → `com.example.PayService.pay`.
fn rpc_operation(service: &str, method: &str) -> String {
    let iface = service.split(':').next().unwrap_or(service);
    match (iface.is_empty(), method.is_empty()) {
        (false, false) => format!("{iface}.{method}"),
        (false, true) => iface.to_string(),
        _ => method.to_string(),
    }
}

/// `GET` + `http://host:8801/pay/quick?x=1` → `GET /pay/quick`.
fn http_operation(method: &str, url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = match rest.find('/') {
        Some(i) if url.contains("://") => &rest[i..],
        _ if url.contains("://") => "/",
        _ => rest,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    if method.is_empty() {
        path.to_string()
    } else {
        format!("{method} {path}")
    }
}

fn decode_digest(
    o: &Fields,
    kind: SofaLogKind,
    opts: &SofaOptions,
) -> Result<DigestRecord, SofaError> {
    let (time_field, stamp) = match (text(o, "timestamp"), text(o, "time")) {
        (Some(t), _) => ("timestamp", t),
        (None, Some(t)) => ("time", t),
        (None, None) => return Err(SofaError::new("timestamp", "missing (also no `time`)")),
    };
    let end_us = parse_time(&stamp, opts, time_field)?;
    let trace = match (text(o, "tracerId"), text(o, "traceId")) {
        (Some(t), _) | (None, Some(t)) => t,
        _ => return Err(SofaError::new("tracerId", "missing (also no `traceId`)")),
    };
    if trace.len() > 128 {
        return Err(SofaError::new("tracerId", "longer than 128 characters"));
    }
    let span_text = required(o, "spanId")?;
    let (span_id, parent_span_id) = sofa_span_ids(&span_text)
        .ok_or_else(|| SofaError::new("spanId", format!("not like 0.1.2: {span_text:?}")))?;
    let service = required(o, "local.app")?;
    let kind_field = text(o, "span.kind");
    let span_kind = match (kind_field.as_deref(), kind) {
        (Some("client"), _) => SpanKind::Client,
        (Some("server"), _) => SpanKind::Server,
        (Some(other), _) => {
            return Err(SofaError::new(
                "span.kind",
                format!("unknown kind {other:?}"),
            ))
        }
        (None, SofaLogKind::RpcClient) => SpanKind::Client,
        (None, _) => SpanKind::Server,
    };
    let method = text(o, "method").unwrap_or_default();
    let operation = match (text(o, "request.url"), kind) {
        (Some(url), _) => http_operation(&method, &url),
        (None, SofaLogKind::SpringMvc) => method,
        (None, _) => rpc_operation(&text(o, "service").unwrap_or_default(), &method),
    };
    let duration_ms = match cost_ms(o, &["time.cost.milliseconds", "client.elapse.time"])? {
        Some(ms) => ms,
        None => {
            // rpc-server-digest: pool wait + business + (de)serialization.
            let parts = [
                "server.pool.wait.time",
                "biz.impl.time",
                "req.deserialize.time",
                "resp.serialize.time",
            ];
            let mut sum = None;
            for p in parts {
                if let Some(ms) = cost_ms(o, &[p])? {
                    sum = Some(sum.unwrap_or(0u64).saturating_add(ms));
                }
            }
            sum.ok_or_else(|| {
                SofaError::new("time.cost.milliseconds", "missing (no cost field at all)")
            })?
        }
    };
    let duration_us = duration_ms.saturating_mul(1000);
    let code = text(o, "result.code").unwrap_or_default();
    let is_http = matches!(kind, SofaLogKind::SpringMvc) || o.contains("request.url");
    let (success, error) = if is_http {
        let ok = code.starts_with('1') || code.starts_with('2') || code == "302";
        (ok, (!ok).then(|| format!("http_{code}")))
    } else {
        match code.as_str() {
            "00" => (true, None),
            "01" => (false, Some("biz_exception".to_string())),
            "02" => (false, Some("rpc_error".to_string())),
            "03" => (false, Some("timeout".to_string())),
            "04" => (false, Some("route_failure".to_string())),
            "" => (false, Some("no_result_code".to_string())),
            other => (false, Some(format!("result_{other}"))),
        }
    };
    let mut rec = DigestRecord {
        time_us: end_us.saturating_sub(duration_us),
        trace_id: sofa_trace_id(&trace),
        span_id,
        parent_span_id,
        kind: span_kind,
        service,
        instance: text(o, "local.client.ip").unwrap_or_default(),
        operation,
        peer: text(o, "remote.app").unwrap_or_default(),
        duration_us,
        success,
        code,
        error,
        keys: Keys::new(),
        ..Default::default()
    };
    for field in ["sys.baggage", "baggage"] {
        if let Some(b) = text(o, field) {
            for (k, v) in baggage(&b) {
                if k == "mark" && v == "T" {
                    rec.shadow = true;
                }
            }
        }
    }
    for field in ["biz.baggage", "baggage"] {
        if let Some(b) = text(o, field) {
            for (k, v) in baggage(&b) {
                if v.is_empty() {
                    continue;
                }
                match k {
                    "scene" => rec.scene = v.to_string(),
                    "channel" => rec.channel = v.to_string(),
                    "zone" => rec.zone = v.to_string(),
                    "shadow" => rec.shadow |= v == "true" || v == "T",
                    "amount_cents" => rec.amount_cents = v.parse().ok(),
                    "user" | "merchant" | "account" | "bank" | "item" => {
                        rec.keys.insert(k.to_string(), v.to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(rec)
}

fn decode_stat(o: &Fields, client: bool, opts: &SofaOptions) -> Result<SofaStat, SofaError> {
    let stamp = text(o, "time")
        .or_else(|| text(o, "timestamp"))
        .ok_or_else(|| SofaError::new("time", "missing"))?;
    let time_us = parse_time(&stamp, opts, "time")?;
    let key = match o.get("stat.key") {
        Some(Scalar::Obj(k)) => k,
        None | Some(Scalar::Null) => return Err(SofaError::new("stat.key", "missing")),
        Some(_) => return Err(SofaError::new("stat.key", "must be an object")),
    };
    let service = required(key, "local.app").map_err(|e| SofaError {
        field: Some("stat.key.local.app"),
        ..e
    })?;
    let method = text(key, "method").unwrap_or_default();
    let operation = match text(key, "request.url") {
        Some(url) => http_operation(&method, &url),
        None => rpc_operation(&text(key, "service").unwrap_or_default(), &method),
    };
    let count = match o.get("count") {
        Some(Scalar::Num(n)) => n.parse::<u64>().ok(),
        Some(Scalar::Str(s)) => s.parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| SofaError::new("count", "missing or not a non-negative integer"))?;
    let total_ms = match o.get("total.cost.milliseconds") {
        Some(v) => parse_ms(v, "total.cost.milliseconds")?,
        None => return Err(SofaError::new("total.cost.milliseconds", "missing")),
    };
    let success = match text(o, "success").as_deref() {
        Some("Y") | Some("true") => true,
        Some("N") | Some("false") => false,
        _ => return Err(SofaError::new("success", "missing or not Y/N")),
    };
    Ok(SofaStat {
        time_us,
        kind: if client {
            SpanKind::Client
        } else {
            SpanKind::Server
        },
        service,
        operation,
        peer: text(key, "remote.app").unwrap_or_default(),
        count,
        total_cost_us: total_ms.saturating_mul(1000),
        success,
        shadow: text(o, "load.test").as_deref() == Some("T"),
    })
}
