//! The call context carried on every call: W3C trace context (`traceparent`) plus
//! the business context every digest needs (scene, channel, zone, shadow flag and
//! the payment's keys), as headers in HTTP mode (`traceparent`, `baggage`).
//! Also the fast per-thread random source for span ids and simulated outcomes.

use crate::error::SimError;
use digest::{Keys, SpanId, TraceId};
use std::cell::Cell;
use std::sync::Arc;

/// Context of one call, as the callee sees it.
#[derive(Debug, Clone)]
pub(crate) struct CallCtx {
    pub trace_id: TraceId,
    /// The caller's span (the client span of this call); `None` at the entry.
    pub parent: Option<SpanId>,
    pub scene: Arc<str>,
    pub channel: Arc<str>,
    pub zone: Arc<str>,
    /// Full-link stress-test traffic.
    pub shadow: bool,
    /// Business keys of the payment (`user`, `merchant`), shared by all its calls.
    pub keys: Arc<Keys>,
}

impl CallCtx {
    /// The same call context one level down, under span `parent`.
    pub(crate) fn child(&self, parent: SpanId) -> CallCtx {
        CallCtx {
            parent: Some(parent),
            ..self.clone()
        }
    }

    /// `traceparent` for a call made from span `span`.
    pub(crate) fn traceparent(&self, span: SpanId) -> String {
        format!("00-{}-{}-01", self.trace_id, span)
    }

    /// `baggage` with the business context (W3C baggage syntax).
    pub(crate) fn baggage(&self) -> String {
        let mut s = format!(
            "scene={},channel={},zone={},shadow={}",
            self.scene,
            self.channel,
            self.zone,
            if self.shadow { 1 } else { 0 }
        );
        for (k, v) in self.keys.iter() {
            s.push_str(&format!(",key.{k}={v}"));
        }
        s
    }

    /// Rebuilds the context from `traceparent` and `baggage` header values.
    pub(crate) fn from_headers(traceparent: &str, baggage: &str) -> Result<CallCtx, SimError> {
        let (trace_id, parent) = parse_traceparent(traceparent)?;
        let mut ctx = CallCtx {
            trace_id,
            parent: Some(parent),
            scene: Arc::from(""),
            channel: Arc::from(""),
            zone: Arc::from(""),
            shadow: false,
            keys: Arc::new(Keys::new()),
        };
        let mut keys = Keys::new();
        for item in baggage.split(',').filter(|s| !s.trim().is_empty()) {
            let (k, v) = item
                .trim()
                .split_once('=')
                .ok_or_else(|| SimError::Header {
                    header: "baggage",
                    reason: format!("item {item:?} is not key=value"),
                })?;
            match k {
                "scene" => ctx.scene = Arc::from(v),
                "channel" => ctx.channel = Arc::from(v),
                "zone" => ctx.zone = Arc::from(v),
                "shadow" => {
                    ctx.shadow = match v {
                        "1" | "true" => true,
                        "0" | "false" => false,
                        _ => {
                            return Err(SimError::Header {
                                header: "baggage",
                                reason: format!("shadow={v:?} is not 0 or 1"),
                            })
                        }
                    }
                }
                _ => {
                    if let Some(name) = k.strip_prefix("key.") {
                        keys.insert(name.to_string(), v.to_string());
                    }
                }
            }
        }
        ctx.keys = Arc::new(keys);
        Ok(ctx)
    }
}

/// Parses a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`).
pub(crate) fn parse_traceparent(s: &str) -> Result<(TraceId, SpanId), SimError> {
    let bad = |reason: String| SimError::Header {
        header: "traceparent",
        reason,
    };
    let parts: Vec<&str> = s.trim().split('-').collect();
    if parts.len() != 4 {
        return Err(bad(format!("{s:?} does not have 4 dash-separated parts")));
    }
    if parts[0].len() != 2 || parts[0] == "ff" || u8::from_str_radix(parts[0], 16).is_err() {
        return Err(bad(format!("bad version {:?}", parts[0])));
    }
    let t = TraceId::parse(parts[1]).map_err(|e| bad(format!("trace id: {e}")))?;
    let p = SpanId::parse(parts[2]).map_err(|e| bad(format!("parent id: {e}")))?;
    if parts[3].len() != 2 || u8::from_str_radix(parts[3], 16).is_err() {
        return Err(bad(format!("bad flags {:?}", parts[3])));
    }
    Ok((t, p))
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let x = &t as *const u64 as u64;
    (t ^ x.rotate_left(32)) | 1
}

/// A fast per-thread random u64 (xorshift64*). Not for cryptography.
pub(crate) fn rand_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// Uniform in `0..n` (n > 0).
pub(crate) fn rand_below(n: u64) -> u64 {
    ((rand_u64() as u128 * n as u128) >> 64) as u64
}

/// A new non-zero span id.
pub(crate) fn new_span_id() -> SpanId {
    SpanId(rand_u64() | 1)
}

/// A new non-zero trace id.
pub(crate) fn new_trace_id() -> TraceId {
    TraceId(((rand_u64() as u128) << 64 | rand_u64() as u128) | 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trip_and_refusals() {
        let ctx = CallCtx {
            trace_id: new_trace_id(),
            parent: None,
            scene: "quick_pay".into(),
            channel: "SDK".into(),
            zone: "zone-a".into(),
            shadow: true,
            keys: Arc::new(Keys::from([("merchant".to_string(), "m-3".to_string())])),
        };
        let span = new_span_id();
        let back = CallCtx::from_headers(&ctx.traceparent(span), &ctx.baggage()).unwrap();
        assert_eq!(back.trace_id, ctx.trace_id);
        assert_eq!(back.parent, Some(span));
        assert!(back.shadow);
        assert_eq!(&*back.scene, "quick_pay");
        assert_eq!(back.keys.get("merchant").map(String::as_str), Some("m-3"));
        for bad in [
            "",
            "00-abc-def-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(parse_traceparent(bad).is_err(), "{bad}");
        }
        assert!(CallCtx::from_headers(&ctx.traceparent(span), "shadow=maybe").is_err());
    }
}
