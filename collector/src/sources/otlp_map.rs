//! OTLP spans onto digest records: each span validated and mapped by its
//! attributes (span first, then resource), then peers and kinds resolved across
//! the batch ([`map_groups`]). Yields the [`OtlpBatch`] of records and refusals.

use super::otlp_proto::{any_value::Value as AV, span_kind, status_code, KeyValue, Span};
use digest::{DigestRecord, Keys, SpanId, SpanKind, TraceId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one request yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtlpBatch {
    pub records: Vec<DigestRecord>,
    /// Spans refused (bad id, bad time, no `service.name`, …); the rest are kept.
    pub rejected_spans: u64,
    /// Why, in English, for `partialSuccess.errorMessage` (empty when nothing was refused).
    pub error_message: String,
    /// Refusals counted by a short reason label (`invalid_trace_id`, …), for metrics.
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
}

/// Mapping options. `platform_services` are services known to be inside the
/// platform (e.g. every service the collector has seen); a CLIENT/PRODUCER span
/// whose peer is neither in the batch nor in this set becomes `integrator`.
#[derive(Debug, Clone, Default)]
pub struct OtlpOptions {
    pub platform_services: HashSet<String>,
}

/// One resource's attributes and its spans, each decoded or refused with a reason.
pub(super) type Group = (Vec<KeyValue>, Vec<Result<Span, String>>);

struct Rejects {
    count: u64,
    by_reason: BTreeMap<&'static str, u64>,
    first: Vec<String>,
}

impl Rejects {
    fn add(&mut self, label: &'static str, detail: String) {
        self.count += 1;
        *self.by_reason.entry(label).or_default() += 1;
        if self.first.len() < 5 {
            self.first.push(detail);
        }
    }
}

/// A span that passed validation, before peers are resolved across the batch.
struct Staged {
    rec: DigestRecord,
    otlp_kind: i32,
    attr_peer: Option<String>,
}

/// Maps decoded spans onto records: validates each span (a refusal is counted
/// with its reason), then resolves peers and kinds across the whole batch.
pub(super) fn map_groups(groups: Vec<Group>, opts: &OtlpOptions) -> OtlpBatch {
    let mut rej = Rejects {
        count: 0,
        by_reason: BTreeMap::new(),
        first: Vec::new(),
    };
    let mut staged = Vec::new();
    let mut n = 0usize;
    for (res_attrs, spans) in groups {
        let res = Attrs::new(&res_attrs);
        for sp in spans {
            n += 1;
            let sp = match sp {
                Ok(s) => s,
                Err(e) => {
                    rej.add("malformed_span", format!("span #{n}: {e}"));
                    continue;
                }
            };
            match stage(&sp, &res) {
                Ok(s) => staged.push(s),
                Err((label, why)) => rej.add(label, format!("span #{n}: {why}")),
            }
        }
    }
    resolve_peers(&mut staged, opts);
    let error_message = if rej.count == 0 {
        String::new()
    } else {
        format!(
            "rejected {} of {} spans; first reasons: {}",
            rej.count,
            n,
            rej.first.join("; ")
        )
    };
    OtlpBatch {
        records: staged.into_iter().map(|s| s.rec).collect(),
        rejected_spans: rej.count,
        error_message,
        rejected_by_reason: rej.by_reason,
    }
}

/// Attribute lookup over one key/value list (first occurrence wins).
struct Attrs<'a>(HashMap<&'a str, &'a AV>);

impl<'a> Attrs<'a> {
    fn new(kvs: &'a [KeyValue]) -> Self {
        let mut m = HashMap::with_capacity(kvs.len());
        for kv in kvs {
            if let Some(v) = kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                m.entry(kv.key.as_str()).or_insert(v);
            }
        }
        Attrs(m)
    }
    /// A scalar attribute as text (strings as is, ints and bools printed).
    fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            AV::StringValue(s) if !s.is_empty() => Some(s.clone()),
            AV::IntValue(i) => Some(i.to_string()),
            AV::BoolValue(b) => Some(b.to_string()),
            AV::DoubleValue(d) if d.is_finite() => Some(d.to_string()),
            _ => None,
        }
    }
    fn int(&self, key: &str) -> Option<i64> {
        match self.0.get(key)? {
            AV::IntValue(i) => Some(*i),
            AV::StringValue(s) => s.trim().parse().ok(),
            AV::DoubleValue(d) if d.is_finite() && d.fract() == 0.0 => Some(*d as i64),
            _ => None,
        }
    }
    fn boolean(&self, key: &str) -> Option<bool> {
        match self.0.get(key)? {
            AV::BoolValue(b) => Some(*b),
            AV::StringValue(s) => match s.as_str() {
                "true" | "TRUE" | "True" | "1" | "T" | "Y" => Some(true),
                "false" | "FALSE" | "False" | "0" | "F" | "N" => Some(false),
                _ => None,
            },
            AV::IntValue(i) => Some(*i != 0),
            _ => None,
        }
    }
}

/// Span attribute first, then resource attribute, over several names.
fn first_text(span: &Attrs, res: &Attrs, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| span.text(k))
        .or_else(|| keys.iter().find_map(|k| res.text(k)))
}

type Refusal = (&'static str, String);

fn stage(sp: &Span, res: &Attrs) -> Result<Staged, Refusal> {
    let trace_id = match <[u8; 16]>::try_from(sp.trace_id.as_slice()) {
        Ok(b) if u128::from_be_bytes(b) != 0 => TraceId(u128::from_be_bytes(b)),
        _ => {
            return Err((
                "invalid_trace_id",
                "trace id must be 16 non-zero bytes".into(),
            ))
        }
    };
    let span_id = match <[u8; 8]>::try_from(sp.span_id.as_slice()) {
        Ok(b) if u64::from_be_bytes(b) != 0 => SpanId(u64::from_be_bytes(b)),
        _ => return Err(("invalid_span_id", "span id must be 8 non-zero bytes".into())),
    };
    let parent_span_id = match sp.parent_span_id.len() {
        0 => None,
        8 => match u64::from_be_bytes(sp.parent_span_id[..].try_into().unwrap_or([0; 8])) {
            0 => None,
            v => Some(SpanId(v)),
        },
        _ => {
            return Err((
                "invalid_parent_span_id",
                "parent span id must be empty or 8 bytes".into(),
            ))
        }
    };
    if sp.start_time_unix_nano == 0 {
        return Err(("invalid_time", "startTimeUnixNano is missing".into()));
    }
    if sp.end_time_unix_nano < sp.start_time_unix_nano {
        return Err((
            "invalid_time",
            "endTimeUnixNano is before startTimeUnixNano".into(),
        ));
    }
    let service = match res.text("service.name") {
        Some(s) => s,
        None => {
            return Err((
                "missing_service",
                "resource attribute service.name is missing".into(),
            ))
        }
    };
    let kind = match sp.kind {
        span_kind::SERVER | span_kind::CONSUMER => SpanKind::Server,
        span_kind::CLIENT | span_kind::PRODUCER => SpanKind::Client,
        span_kind::INTERNAL | span_kind::UNSPECIFIED => SpanKind::Internal,
        k => return Err(("invalid_kind", format!("unknown span kind {k}"))),
    };
    let a = Attrs::new(&sp.attributes);
    let status = sp
        .status
        .as_ref()
        .map(|s| s.code)
        .unwrap_or(status_code::UNSET);
    let success = a.boolean("success").unwrap_or(status != status_code::ERROR);
    let code = [
        "code",
        "rpc.grpc.status_code",
        "http.response.status_code",
        "http.status_code",
    ]
    .iter()
    .find_map(|k| a.text(k))
    .unwrap_or_else(|| if success { "OK" } else { "ERROR" }.to_string());
    let error = ["error.type", "exception.type"]
        .iter()
        .find_map(|k| a.text(k))
        .or_else(|| {
            (!success)
                .then(|| sp.status.as_ref().map(|s| s.message.clone()))
                .flatten()
                .filter(|m| !m.is_empty())
        });
    let mut keys = Keys::new();
    for kv in &sp.attributes {
        if let Some(name) = kv.key.strip_prefix("key.") {
            if let Some(v) = a.text(&kv.key) {
                if !name.is_empty() {
                    keys.entry(name.to_string()).or_insert(v);
                }
            }
        }
    }
    let attr_peer = ["peer.service", "server.address", "net.peer.name"]
        .iter()
        .find_map(|k| a.text(k));
    let explicit_kind = a
        .text("warroom.kind")
        .and_then(|k| k.parse::<SpanKind>().ok());
    let rec = DigestRecord {
        time_us: sp.start_time_unix_nano / 1000,
        trace_id,
        span_id,
        parent_span_id,
        kind: explicit_kind.unwrap_or(kind),
        service,
        instance: res
            .text("service.instance.id")
            .or_else(|| res.text("host.name"))
            .unwrap_or_default(),
        zone: first_text(&a, res, &["zone", "cloud.availability_zone"]).unwrap_or_default(),
        operation: sp.name.clone(),
        peer: String::new(),
        duration_us: (sp.end_time_unix_nano - sp.start_time_unix_nano) / 1000,
        success,
        code,
        error,
        scene: first_text(&a, res, &["scene", "payment.scene"]).unwrap_or_default(),
        channel: first_text(&a, res, &["channel", "payment.channel"]).unwrap_or_default(),
        shadow: a
            .boolean("shadow")
            .or_else(|| res.boolean("shadow"))
            .unwrap_or(false),
        version: res.text("service.version").unwrap_or_default(),
        keys,
        amount_cents: a.int("amount_cents"),
        sql_count: a.int("sql_count").and_then(|v| u32::try_from(v).ok()),
    };
    Ok(Staged {
        otlp_kind: if explicit_kind.is_some() { -1 } else { sp.kind },
        rec,
        attr_peer,
    })
}

/// Fills `peer` from the batch: a server span's caller is its parent's service;
/// a client span's callee is its child server span's service, else the
/// `peer.service`/`server.address` attribute. A client span whose peer is not a
/// platform service (not in the batch, not in `opts`) becomes `integrator`.
fn resolve_peers(staged: &mut [Staged], opts: &OtlpOptions) {
    let services: HashSet<String> = staged.iter().map(|s| s.rec.service.clone()).collect();
    let by_span: HashMap<(TraceId, SpanId), usize> = staged
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.rec.trace_id, s.rec.span_id), i))
        .collect();
    let mut child_service: HashMap<(TraceId, SpanId), String> = HashMap::new();
    for s in staged.iter() {
        if let (SpanKind::Server, Some(p)) = (s.rec.kind, s.rec.parent_span_id) {
            child_service
                .entry((s.rec.trace_id, p))
                .or_insert_with(|| s.rec.service.clone());
        }
    }
    let parent_service: Vec<Option<String>> = staged
        .iter()
        .map(|s| {
            let p = s.rec.parent_span_id?;
            let i = *by_span.get(&(s.rec.trace_id, p))?;
            Some(staged[i].rec.service.clone())
        })
        .collect();
    for (i, s) in staged.iter_mut().enumerate() {
        match s.rec.kind {
            SpanKind::Server => {
                s.rec.peer = parent_service[i]
                    .clone()
                    .filter(|p| *p != s.rec.service)
                    .or_else(|| s.attr_peer.clone())
                    .unwrap_or_default();
            }
            SpanKind::Client | SpanKind::Integrator => {
                let child = child_service.get(&(s.rec.trace_id, s.rec.span_id)).cloned();
                let inside = child.is_some();
                s.rec.peer = child.or_else(|| s.attr_peer.clone()).unwrap_or_default();
                let auto = matches!(s.otlp_kind, span_kind::CLIENT | span_kind::PRODUCER);
                if auto
                    && !inside
                    && !s.rec.peer.is_empty()
                    && !services.contains(&s.rec.peer)
                    && !opts.platform_services.contains(&s.rec.peer)
                {
                    s.rec.kind = SpanKind::Integrator;
                }
            }
            SpanKind::Internal => {}
        }
    }
}
