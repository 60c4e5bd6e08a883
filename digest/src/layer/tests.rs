use super::*;
use crate::codec::decode_record;
use crate::sink::MemorySink;
use crate::time::ManualClock;
use crate::{SpanId, TraceId};

fn setup() -> (
    Arc<MemorySink>,
    ManualClock,
    tracing::Dispatch,
    Arc<AtomicU64>,
) {
    let sink = Arc::new(MemorySink::new());
    let clock = ManualClock::new(1_767_225_600_000_000);
    let layer = DigestLayer::new(sink.clone(), Arc::new(clock.clone()), "host-1");
    let invalid = layer.invalid();
    let dispatch = tracing::Dispatch::new(subscriber(layer));
    (sink, clock, dispatch, invalid)
}

#[test]
fn closed_span_becomes_a_v1_line() {
    let (sink, clock, dispatch, invalid) = setup();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!(target: "digest", "call",
            kind = "client", service = "cashier", operation = "trade.createOrder",
            peer = "trade", zone = "zone-a", scene = "quick_pay", channel = "SDK",
            shadow = true, version = "1.2.0", trace_id = 0xabcu128, span_id = 7u64,
            parent_span_id = 3u64, amount_cents = 1999i64, key.user = "u\"1",
            key.merchant = "m2", code = tracing::field::Empty,
            success = tracing::field::Empty, error = tracing::field::Empty,
            extra_us = tracing::field::Empty);
        clock.advance_us(250);
        span.record("code", "BANK_DECLINED");
        span.record("success", false);
        span.record("error", "BankError");
        span.record("extra_us", 1000u64);
        // A second record of the same field is ignored: fields are taken once.
        span.record("success", true);
        drop(span);
    });
    assert_eq!(invalid.load(Ordering::Relaxed), 0);
    let lines = sink.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, "cashier");
    let rec = decode_record(&lines[0].1).expect("layer writes v1");
    assert_eq!(rec.time_us, 1_767_225_600_000_000);
    assert_eq!(rec.trace_id, TraceId(0xabc));
    assert_eq!(rec.span_id, SpanId(7));
    assert_eq!(rec.parent_span_id, Some(SpanId(3)));
    assert_eq!(rec.kind, crate::SpanKind::Client);
    assert_eq!(rec.instance, "host-1");
    assert_eq!(rec.duration_us, 1250);
    assert!(!rec.success);
    assert!(rec.shadow);
    assert_eq!(rec.code, "BANK_DECLINED");
    assert_eq!(rec.error.as_deref(), Some("BankError"));
    assert_eq!(rec.key("user"), Some("u\"1"));
    assert_eq!(rec.key("merchant"), Some("m2"));
    assert_eq!(rec.amount_cents, Some(1999));
    assert_eq!(rec.scene, "quick_pay");
    assert_eq!(rec.version, "1.2.0");
}

#[test]
fn spans_missing_required_fields_are_counted_not_written() {
    let (sink, _clock, dispatch, invalid) = setup();
    tracing::dispatcher::with_default(&dispatch, || {
        // no span_id
        let s = tracing::info_span!(target: "digest", "call", kind = "server",
            service = "trade", operation = "x", trace_id = 1u128);
        drop(s);
        // bad kind
        let s = tracing::info_span!(target: "digest", "call", kind = "sideways",
            service = "trade", operation = "x", trace_id = 1u128, span_id = 1u64);
        drop(s);
        // other targets are not digests at all
        let s = tracing::info_span!(target: "other", "call", kind = "server",
            service = "trade", operation = "x", trace_id = 1u128, span_id = 1u64);
        drop(s);
    });
    assert!(sink.lines().is_empty());
    assert_eq!(invalid.load(Ordering::Relaxed), 2);
}

#[test]
fn root_server_span_has_no_parent_and_default_success_false() {
    let (sink, _clock, dispatch, _) = setup();
    tracing::dispatcher::with_default(&dispatch, || {
        let s = tracing::info_span!(target: "digest", "call", kind = "server",
            service = "trade", operation = "trade.createOrder", trace_id = u128::MAX,
            span_id = u64::MAX, instance = "trade-7");
        drop(s);
    });
    let rec = decode_record(&sink.lines()[0].1).unwrap();
    assert_eq!(rec.parent_span_id, None);
    assert_eq!(rec.instance, "trade-7");
    assert!(!rec.success);
    assert_eq!(rec.trace_id, TraceId(u128::MAX));
}

#[test]
fn rpc_span_writes_the_client_and_the_server_record() {
    let (sink, clock, dispatch, invalid) = setup();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!(target: "digest", "call", kind = "rpc",
            service = "accounting", instance = "accounting-1", version = "2.0.0",
            peer = "payment-engine", client_instance = "payment-engine-1",
            client_version = "1.0.0", operation = "Ledger.post", zone = "zone-b",
            trace_id = 5u128, span_id = 30u64, parent_span_id = 20u64,
            client_parent_span_id = 10u64, key.merchant = "m-1", code = tracing::field::Empty,
            success = tracing::field::Empty);
        clock.advance_us(40);
        span.record("code", "SUCCESS");
        span.record("success", true);
        drop(span);
    });
    assert_eq!(invalid.load(Ordering::Relaxed), 0);
    let lines = sink.lines();
    assert_eq!(lines.len(), 2);
    let server = decode_record(&lines[0].1).unwrap();
    let client = decode_record(&lines[1].1).unwrap();
    assert_eq!(
        (lines[0].0.as_str(), lines[1].0.as_str()),
        ("accounting", "payment-engine")
    );
    assert_eq!(server.kind, crate::SpanKind::Server);
    assert_eq!(
        (server.span_id, server.parent_span_id),
        (SpanId(30), Some(SpanId(20)))
    );
    assert_eq!(
        (
            server.peer.as_str(),
            server.instance.as_str(),
            server.version.as_str()
        ),
        ("payment-engine", "accounting-1", "2.0.0")
    );
    assert_eq!(client.kind, crate::SpanKind::Client);
    assert_eq!(
        (client.span_id, client.parent_span_id),
        (SpanId(20), Some(SpanId(10)))
    );
    assert_eq!(
        (client.service.as_str(), client.peer.as_str()),
        ("payment-engine", "accounting")
    );
    assert_eq!(
        (client.instance.as_str(), client.version.as_str()),
        ("payment-engine-1", "1.0.0")
    );
    for r in [&server, &client] {
        assert_eq!(
            (r.trace_id, r.duration_us, r.success),
            (TraceId(5), 40, true)
        );
        assert_eq!(
            (r.operation.as_str(), r.zone.as_str(), r.key("merchant")),
            ("Ledger.post", "zone-b", Some("m-1"))
        );
    }
    // An rpc span without its client side is refused.
    tracing::dispatcher::with_default(&dispatch, || {
        let s = tracing::info_span!(target: "digest", "call", kind = "rpc", service = "a",
            operation = "x", trace_id = 1u128, span_id = 2u64);
        drop(s);
    });
    assert_eq!(invalid.load(Ordering::Relaxed), 1);
}

#[test]
fn reused_span_buffers_carry_nothing_over() {
    let (sink, _clock, dispatch, _) = setup();
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 1..=3u64 {
            let s = tracing::info_span!(target: "digest", "call", kind = "server",
                service = "bank-gateway", operation = "bank.pay", trace_id = i as u128,
                span_id = i, key.bank = tracing::field::Empty, error = tracing::field::Empty,
                success = tracing::field::Empty, code = tracing::field::Empty);
            if i == 1 {
                s.record("key.bank", "bank-a");
                s.record("error", "BankError");
                s.record("code", "BANK_SYSTEM_ERROR");
            } else {
                s.record("success", true);
                s.record("code", "SUCCESS");
            }
            drop(s);
        }
    });
    let recs: Vec<_> = sink
        .lines()
        .iter()
        .map(|(_, l)| decode_record(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0].key("bank"), Some("bank-a"));
    assert_eq!(recs[0].error.as_deref(), Some("BankError"));
    for r in &recs[1..] {
        assert!(r.keys.is_empty() && r.error.is_none() && r.success, "{r:?}");
        assert_eq!(r.code, "SUCCESS");
    }
}
