//! Cost of one digest span through the layer (ns per span), for tuning.
use digest::DiscardSink;
use digest::{subscriber, DigestLayer};
use digest::{Sink, SystemClock};
use std::sync::Arc;
use std::time::Instant;
use tracing::field::Empty;

fn one(i: u64) {
    let span = tracing::info_span!(target: "digest", "call", kind = "server",
        service = "payment-engine", instance = "payment-engine-1", operation = "PayEngine.pay",
        peer = "payment", zone = "zone-a", scene = "quick_pay", channel = "SDK", shadow = false,
        version = "1.0.0", trace_id = (i as u128) << 64 | 7, span_id = i | 1, parent_span_id = 99u64,
        amount_cents = 12345i64, key.user = "u-12345", key.merchant = "m-17",
        key.account = Empty, key.bank = Empty, code = Empty, success = Empty, error = Empty, extra_us = Empty);
    span.record("code", "SUCCESS");
    span.record("success", true);
    span.record("extra_us", 25_000u64);
    drop(span);
}

fn main() {
    let n = 1_000_000u64;
    let sink = Arc::new(DiscardSink::new());
    let layer = DigestLayer::new(sink.clone(), Arc::new(SystemClock), "");
    let invalid = layer.invalid();
    let d = tracing::Dispatch::new(subscriber(layer));
    tracing::dispatcher::with_default(&d, || {
        let s = tracing::info_span!(target: "digest", "call", kind = "server");
        println!(
            "probe disabled={} meta={:?}",
            s.is_disabled(),
            s.metadata().map(|m| m.target())
        );
    });
    tracing::dispatcher::with_default(&d, || one(5));
    println!(
        "after one: lines {} invalid {:?}",
        sink.stats().lines,
        invalid
    );
    // baseline: no dispatcher
    let t = Instant::now();
    for i in 0..n {
        one(i)
    }
    println!(
        "no subscriber: {:.0} ns/span",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = Instant::now();
    for i in 0..n {
        tracing::dispatcher::with_default(&d, || one(i))
    }
    println!(
        "with_default per span: {:.0} ns/span",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = Instant::now();
    tracing::dispatcher::with_default(&d, || {
        for i in 0..n {
            one(i)
        }
    });
    println!(
        "scoped once: {:.0} ns/span",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    println!(
        "lines {} bytes {} invalid {:?}",
        sink.stats().lines,
        sink.bytes(),
        invalid
    );
}
