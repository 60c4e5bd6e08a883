//! Recorder tests: every line is the codec's own encoding of the same record
//! (byte for byte) and decodes as v1; invalid calls write nothing and are counted.

use super::*;
use crate::codec::{decode_line, encode_record, Line};
use crate::record::{DigestRecord, Keys};
use crate::sink::MemorySink;
use crate::time::ManualClock;

const T0: Micros = 1_767_225_599_999_990; // 2025-12-31T23:59:59.999990Z

fn setup() -> (Recorder, Arc<MemorySink>, ManualClock) {
    let sink = Arc::new(MemorySink::new());
    let clock = ManualClock::new(T0);
    let rec = Recorder::new(sink.clone(), Arc::new(clock.clone()), "host-1");
    (rec, sink, clock)
}

fn server_call<'a>(keys: &'a [(&'a str, &'a str)]) -> Call<'a> {
    Call {
        kind: SpanKind::Server,
        service: "trade",
        instance: "trade-1",
        operation: "trade.create",
        peer: "cashier",
        zone: "zone-a",
        scene: "quick_pay",
        channel: "SDK",
        version: "v1.2",
        shadow: false,
        trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        span_id: SpanId(0x00f0_67aa_0ba9_02b7),
        parent_span_id: Some(SpanId(0x0102_0304_0506_0708)),
        amount_cents: Some(12_345),
        sql_count: None,
        keys,
    }
}

fn decoded(line: &[u8]) -> DigestRecord {
    match decode_line(line).expect("a v1 line") {
        Line::Record(r) => r,
        Line::Event(e) => panic!("not a record: {e:?}"),
    }
}

fn reencoded(r: &DigestRecord) -> Vec<u8> {
    let mut b = Vec::new();
    encode_record(&mut b, r);
    b
}

#[test]
fn a_call_is_the_codecs_own_line() {
    let (rec, sink, clock) = setup();
    let start = rec.now_us();
    clock.advance_us(250);
    let keys = [("user", "u-7"), ("merchant", "m-3"), ("user", "u-dup")];
    let ok = rec.call(
        start,
        &server_call(&keys),
        &Outcome {
            success: true,
            code: "SUCCESS",
            error: None,
            extra_us: 1_000,
        },
    );
    assert!(ok);
    let lines = sink.lines();
    assert_eq!(lines.len(), 1);
    let (svc, line) = &lines[0];
    assert_eq!(svc, "trade");
    let r = decoded(line);
    let want = DigestRecord {
        time_us: T0,
        trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        span_id: SpanId(0x00f0_67aa_0ba9_02b7),
        parent_span_id: Some(SpanId(0x0102_0304_0506_0708)),
        kind: SpanKind::Server,
        service: "trade".into(),
        instance: "trade-1".into(),
        zone: "zone-a".into(),
        operation: "trade.create".into(),
        peer: "cashier".into(),
        duration_us: 1_250,
        success: true,
        code: "SUCCESS".into(),
        error: None,
        scene: "quick_pay".into(),
        channel: "SDK".into(),
        shadow: false,
        version: "v1.2".into(),
        keys: Keys::from([
            ("merchant".to_string(), "m-3".to_string()),
            ("user".to_string(), "u-7".to_string()),
        ]),
        amount_cents: Some(12_345),
        sql_count: None,
    };
    assert_eq!(r, want);
    assert_eq!(line, &reencoded(&want), "{}", String::from_utf8_lossy(line));
}

#[test]
fn rpc_writes_server_and_client_records() {
    let (rec, sink, clock) = setup();
    let start = rec.now_us();
    // Crosses a second boundary: the cached second must not leak into the next.
    clock.advance_us(40);
    let keys = [("merchant", "m-3")];
    let server = Call {
        instance: "",
        shadow: true,
        ..server_call(&keys)
    };
    let client = ClientHalf {
        instance: "cashier-1",
        version: "v9",
        parent_span_id: None,
    };
    let out = Outcome {
        success: false,
        code: "BANK_DECLINED",
        error: Some("Bank\"Error\n\u{1}"),
        extra_us: 0,
    };
    assert!(rec.rpc(start, &server, &client, &out));
    let lines = sink.lines();
    assert_eq!(lines.len(), 2);
    let s = decoded(&lines[0].1);
    let c = decoded(&lines[1].1);
    assert_eq!(
        (lines[0].0.as_str(), lines[1].0.as_str()),
        ("trade", "cashier")
    );
    assert_eq!(s.instance, "host-1", "default instance");
    assert_eq!(s.error.as_deref(), Some("Bank\"Error\n\u{1}"));
    assert!(s.shadow && c.shadow);
    assert_eq!(c.kind, SpanKind::Client);
    assert_eq!(c.span_id, s.parent_span_id.unwrap());
    assert_eq!(c.parent_span_id, None);
    assert_eq!((c.service.as_str(), c.peer.as_str()), ("cashier", "trade"));
    assert_eq!(
        (c.instance.as_str(), c.version.as_str()),
        ("cashier-1", "v9")
    );
    assert_eq!((c.trace_id, c.duration_us), (s.trace_id, 40));
    assert_eq!(
        (c.operation.as_str(), c.code.as_str()),
        ("trade.create", "BANK_DECLINED")
    );
    for (_, l) in &lines {
        assert_eq!(l, &reencoded(&decoded(l)));
    }
    // The next call, in the new second, has the new date.
    let t = rec.now_us();
    assert!(rec.call(t, &server_call(&[]), &out));
    let last = decoded(&sink.lines()[2].1);
    assert_eq!(last.time_us, T0 + 40);
    assert!(String::from_utf8_lossy(&sink.lines()[2].1).contains("2026-01-01T00:00:00.000030Z"));
}

#[test]
fn invalid_calls_write_nothing_and_are_counted() {
    let (rec, sink, _) = setup();
    let out = Outcome {
        success: true,
        code: "",
        error: None,
        extra_us: 0,
    };
    let ok = server_call(&[]);
    let bad = [
        Call { service: "", ..ok },
        Call {
            operation: "",
            ..ok
        },
        Call {
            trace_id: TraceId(0),
            ..ok
        },
        Call {
            span_id: SpanId(0),
            ..ok
        },
    ];
    for c in &bad {
        assert!(!rec.call(0, c, &out));
    }
    let client = ClientHalf {
        instance: "",
        version: "",
        parent_span_id: None,
    };
    assert!(!rec.rpc(0, &Call { peer: "", ..ok }, &client, &out));
    assert!(!rec.rpc(
        0,
        &Call {
            parent_span_id: None,
            ..ok
        },
        &client,
        &out
    ));
    assert_eq!(rec.invalid(), 6);
    assert!(sink.lines().is_empty());
}

#[test]
fn many_shapes_match_the_codec() {
    let (rec, sink, clock) = setup();
    let names = ["", "a", "zone-b", "x\\y", "tab\there", "ünï"];
    let mut n = 0u64;
    for (i, a) in names.iter().enumerate() {
        for (j, b) in names.iter().enumerate() {
            n += 1;
            clock.advance_us(777_777);
            let keys = [("bank", *a), ("account", *b), ("z", "1")];
            let c = Call {
                kind: [SpanKind::Client, SpanKind::Server, SpanKind::Integrator][(i + j) % 3],
                instance: a,
                zone: b,
                peer: a,
                scene: b,
                channel: a,
                version: b,
                shadow: i % 2 == 0,
                trace_id: TraceId(
                    (n as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834),
                ),
                span_id: SpanId(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                parent_span_id: (j % 2 == 0).then_some(SpanId(n)),
                amount_cents: [None, Some(-5), Some(0)][i % 3],
                sql_count: [None, Some(3)][j % 2],
                keys: &keys[..(i + j) % 4],
                ..server_call(&[])
            };
            let out = Outcome {
                success: j % 2 == 1,
                code: b,
                error: (i % 2 == 1).then_some(*a),
                extra_us: n,
            };
            assert!(rec.call(rec.now_us(), &c, &out));
        }
    }
    let lines = sink.lines();
    assert_eq!(lines.len() as u64, n);
    for (_, l) in &lines {
        assert_eq!(l, &reencoded(&decoded(l)), "{}", String::from_utf8_lossy(l));
    }
}

#[test]
fn the_word_at_a_time_escape_check_is_exact() {
    for len in 1..20 {
        for pos in 0..len {
            for b in 0..=255u8 {
                let mut s = vec![b'a'; len];
                s[pos] = b;
                let want = b >= 0x20 && b != b'"' && b != b'\\';
                assert_eq!(clean(&s), want, "byte {b:#x} at {pos} of {len}");
            }
        }
    }
    assert!(clean(b""));
    assert!(clean("ünïcode ✓ 0x7f\u{7f}".as_bytes()));
}

#[test]
fn rpc_with_one_version_shares_the_tail_and_stays_exact() {
    let (rec, sink, clock) = setup();
    let start = rec.now_us();
    clock.advance_us(7);
    let keys = [("user", "u-1"), ("bank", "bank-a")];
    let server = server_call(&keys);
    let client = ClientHalf {
        instance: "cashier-1",
        version: server.version,
        parent_span_id: Some(SpanId(42)),
    };
    let out = Outcome {
        success: false,
        code: "RISK_REJECT",
        error: Some("Risk"),
        extra_us: 3,
    };
    assert!(rec.rpc(start, &server, &client, &out));
    let lines = sink.lines();
    let (s, c) = (decoded(&lines[0].1), decoded(&lines[1].1));
    for (_, l) in &lines {
        assert_eq!(l, &reencoded(&decoded(l)));
    }
    assert_eq!(c.kind, SpanKind::Client);
    assert_eq!(
        (c.span_id, c.parent_span_id),
        (SpanId(0x0102_0304_0506_0708), Some(SpanId(42)))
    );
    assert_eq!(
        (c.service.as_str(), c.peer.as_str(), c.instance.as_str()),
        ("cashier", "trade", "cashier-1")
    );
    assert_eq!(
        (
            c.duration_us,
            c.code.as_str(),
            c.error.as_deref(),
            c.version.as_str(),
            &c.keys,
            c.amount_cents
        ),
        (
            10,
            "RISK_REJECT",
            Some("Risk"),
            "v1.2",
            &s.keys,
            Some(12_345)
        )
    );
}
