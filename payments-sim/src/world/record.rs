//! The digest of one finished call, written from the fields the call path
//! has at hand: a server record, a client record (over HTTP), or one `rpc`
//! span standing for both (a call made in this process).

use super::World;
use crate::ctx::CallCtx;
use crate::msg::{Reply, Service};
use digest::{Call, ClientHalf, Outcome, MAX_KEYS};
use digest::{SpanId, SpanKind};
use std::borrow::Cow;

/// The client side of an in-process call: its service, instance and parent span.
#[derive(Clone, Copy)]
pub(super) struct ClientSide<'a> {
    pub(super) service: Service,
    pub(super) instance: &'a str,
    pub(super) parent: Option<SpanId>,
}

pub(super) fn key<'a>(ctx: &'a CallCtx, name: &str) -> &'a str {
    ctx.keys.get(name).map(String::as_str).unwrap_or("")
}

/// One call's digest fields that vary by call site.
pub(super) struct Site<'x> {
    pub(super) kind: SpanKind,
    pub(super) service: Service,
    pub(super) instance: &'x str,
    pub(super) operation: &'x str,
    pub(super) peer: &'x str,
    pub(super) span_id: SpanId,
    pub(super) start_us: u64,
}

/// Writes the digest of a finished call (nothing when digests are off).
/// `client`: the call was made in this process; write its client record too.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    w: &World,
    site: &Site<'_>,
    ctx: &CallCtx,
    amount_cents: i64,
    late_keys: &[(&'static str, Cow<'_, str>)],
    client: Option<ClientSide<'_>>,
    r: &Reply,
    extra_us: u64,
) {
    let Some(rec) = &w.digest else { return };
    let version = w.version(site.service);
    let mut keys: [(&str, &str); MAX_KEYS] = [("", ""); MAX_KEYS];
    keys[0] = ("user", key(ctx, "user"));
    keys[1] = ("merchant", key(ctx, "merchant"));
    let mut n = 2;
    for (k, v) in late_keys.iter().take(MAX_KEYS - 2) {
        keys[n] = (k, v);
        n += 1;
    }
    let call = Call {
        kind: site.kind,
        service: site.service.name(),
        instance: site.instance,
        operation: site.operation,
        peer: site.peer,
        zone: &ctx.zone,
        scene: &ctx.scene,
        channel: &ctx.channel,
        version: &version,
        shadow: ctx.shadow,
        trace_id: ctx.trace_id,
        span_id: site.span_id,
        parent_span_id: ctx.parent,
        amount_cents: Some(amount_cents),
        sql_count: None,
        keys: &keys[..n],
    };
    let out = Outcome {
        success: r.is_ok(),
        code: &r.code,
        error: r.error.as_deref(),
        extra_us,
    };
    match client {
        None => rec.call(site.start_us, &call, &out),
        Some(c) => {
            let client_version = w.version(c.service);
            let half = ClientHalf {
                instance: c.instance,
                version: &client_version,
                parent_span_id: c.parent,
            };
            rec.rpc(site.start_us, &call, &half, &out)
        }
    };
}
