//! Cost of one call digest through `digest::Recorder` (ns per line), next to the
//! tracing layer's cost for the same call (`layer_cost`): `cargo run --release -p
//! digest --example recorder_cost`.
use digest::DiscardSink;
use digest::{Call, Outcome};
use digest::{Recorder, SpanId, SpanKind, SystemClock, TraceId};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let n: u64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let sink = Arc::new(DiscardSink::new());
    let rec = Recorder::new(sink.clone(), Arc::new(SystemClock), "");
    let keys = [
        ("user", "u-12345"),
        ("merchant", "m-17"),
        ("bank", "bank-b"),
    ];
    let t = Instant::now();
    for i in 0..n {
        let start = rec.now_us();
        let call = Call {
            kind: SpanKind::Server,
            service: "payment-engine",
            instance: "payment-engine-1",
            operation: "PayEngine.pay",
            peer: "payment",
            zone: "zone-a",
            scene: "quick_pay",
            channel: "SDK",
            version: "1.0.0",
            shadow: false,
            trace_id: TraceId((i as u128) << 64 | 7),
            span_id: SpanId(i | 1),
            parent_span_id: Some(SpanId(99)),
            amount_cents: Some(12_345),
            sql_count: None,
            keys: &keys,
        };
        let out = Outcome {
            success: true,
            code: "SUCCESS",
            error: None,
            extra_us: 25_000,
        };
        rec.call(start, &call, &out);
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    let st = digest::Sink::stats(&*sink);
    println!(
        "recorder: {ns:.0} ns/line, {} lines, {:.0} bytes/line",
        st.lines,
        sink.bytes() as f64 / st.lines as f64
    );
}
