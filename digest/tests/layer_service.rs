//! A service whose handlers are `tracing` spans writes digests through
//! `digest::DigestLayer`: the example service (`examples/pay_service`), driven
//! over an in-memory pipe, yields v1 lines whose kinds, peers and parents make
//! one call chain per payment: web (client) → checkout (server) → bank
//! (integrator).

#[path = "../examples/pay_service/service.rs"]
mod service;

use digest::{decode_record, DigestLayer, DigestRecord, ManualClock, MemorySink, SpanKind};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::BufReader;

const T0: u64 = 1_795_784_497_000_000;

#[tokio::test]
async fn handlers_as_spans_write_one_v1_line_per_call() {
    let sink = Arc::new(MemorySink::new());
    let layer = DigestLayer::new(sink.clone(), Arc::new(ManualClock::new(T0)), "pay-1");
    let invalid = layer.invalid();
    // The test runs on one thread, where this subscriber is the default.
    let _installed = tracing::subscriber::set_default(digest::subscriber(layer));

    let (web_end, checkout_end) = tokio::io::duplex(4096);
    let checkout = tokio::spawn(service::serve(checkout_end));
    let mut conn = BufReader::new(web_end);
    let declined = service::BANK_LIMIT_CENTS + 1;
    let payments = [
        ("u-1", 1_999, "SUCCESS"),
        ("u-2", declined, "BANK_DECLINED"),
    ];
    for (user, amount_cents, code) in payments {
        let reply = service::pay(&mut conn, user, amount_cents).await.unwrap();
        assert_eq!(reply, format!("OK {code}"));
    }
    drop(conn);
    checkout.await.unwrap().unwrap();

    assert_eq!(invalid.load(Ordering::Relaxed), 0);
    let records: Vec<DigestRecord> = sink
        .lines()
        .iter()
        .map(|(service, line)| {
            let r = decode_record(line).expect("a v1 record line");
            assert_eq!(service, &r.service, "the sink is told the record's service");
            r
        })
        .collect();
    assert_eq!(records.len(), 6, "three calls per payment");

    let of_kind = |kind: SpanKind| -> Vec<&DigestRecord> {
        records.iter().filter(|r| r.kind == kind).collect()
    };
    let clients = of_kind(SpanKind::Client);
    let servers = of_kind(SpanKind::Server);
    let banks = of_kind(SpanKind::Integrator);
    assert_eq!((clients.len(), servers.len(), banks.len()), (2, 2, 2));
    for (client, (user, amount_cents, code)) in clients.iter().zip(payments) {
        let in_trace = |rs: &[&'_ DigestRecord]| -> DigestRecord {
            let found: Vec<_> = rs
                .iter()
                .filter(|r| r.trace_id == client.trace_id)
                .collect();
            assert_eq!(found.len(), 1, "one record of each kind per trace");
            (*found[0]).clone()
        };
        let (server, bank) = (in_trace(&servers), in_trace(&banks));
        // web → checkout: the caller's client record is the trace's root.
        assert_eq!(
            (client.service.as_str(), client.peer.as_str()),
            ("web", "checkout")
        );
        assert_eq!(client.parent_span_id, None);
        // checkout ← web: the server record's parent is the caller's span.
        assert_eq!(
            (server.service.as_str(), server.peer.as_str()),
            ("checkout", "web")
        );
        assert_eq!(server.parent_span_id, Some(client.span_id));
        // checkout → bank: the integrator record's parent is the handler's span.
        assert_eq!(
            (bank.service.as_str(), bank.peer.as_str()),
            ("checkout", "bank-a")
        );
        assert_eq!(bank.parent_span_id, Some(server.span_id));
        assert_eq!(bank.duration_us, service::BANK_LATENCY_US);
        for r in [*client, &server, &bank] {
            assert_eq!(r.code, code);
            assert_eq!(r.success, code == "SUCCESS");
            assert_eq!(r.amount_cents, Some(amount_cents));
            assert_eq!((r.time_us, r.instance.as_str()), (T0, "pay-1"));
        }
        assert_eq!(client.key("user"), Some(user));
        assert_eq!(server.key("user"), Some(user));
        assert_eq!(server.scene, "quick_pay");
    }
}
