//! The HTTP edge over a real loopback listener: replies, limits (413/400/415),
//! gzip, OTLP wiring, stats, trace lookup, metrics and backpressure (429 +
//! Retry-After).

mod common;

use collector::bench::{Conn, HttpReply};
use collector::{Limits, Pipeline};
use common::*;
use digest::record_to_line;
use std::io::Write;
use std::net::SocketAddr;

async fn serve(p: Pipeline) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(collector::serve(l, p, std::future::pending()));
    addr
}

async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpReply {
    let mut c = Conn::connect(addr).await.unwrap();
    c.request("POST", path, headers, body).await.unwrap()
}

async fn get(addr: SocketAddr, path: &str) -> HttpReply {
    let mut c = Conn::connect(addr).await.unwrap();
    c.request("GET", path, &[], b"").await.unwrap()
}

fn json(r: &HttpReply) -> serde_json::Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

fn lines(rs: &[digest::DigestRecord]) -> String {
    rs.iter().map(record_to_line).collect()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn digest_lines_good_bad_gzip_and_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let addr = serve(p.clone()).await;
    let good = lines(&recs(0xABCD, 3));
    let body = format!("{good}{{\"time\":1}}\nnot json\n\n");
    let r = post(addr, "/v1/digest", &[], body.as_bytes()).await;
    assert_eq!(r.status, 200);
    let v = json(&r);
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(v["errors"][0]["line"], 4);
    assert!(v["errors"][0]["reason"].as_str().unwrap().contains("time"));
    assert_eq!(v["errors"][1]["line"], 5);
    // gzip, with records of another trace.
    let z = gzip(lines(&recs(0xBEEF, 5)).as_bytes());
    let r = post(addr, "/v1/digest", &[("Content-Encoding", "gzip")], &z).await;
    assert_eq!((r.status, json(&r)["accepted"].as_u64()), (200, Some(5)));
    let r = post(
        addr,
        "/v1/digest",
        &[("Content-Encoding", "gzip")],
        b"not gzip",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post(
        addr,
        "/v1/digest",
        &[("Content-Encoding", "br")],
        good.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 415);
    // Every line bad: 400 with the same reply shape.
    let r = post(addr, "/v1/digest", &[], b"{}\n[1]\n").await;
    assert_eq!((r.status, json(&r)["rejected"].as_u64()), (400, Some(2)));
    p.flush().await;
    let stats = json(&get(addr, "/api/stats").await);
    assert_eq!(stats["records_stored"], 8);
    assert_eq!(stats["records_rejected"], 4);
    assert_eq!(stats["rejected_by_reason"]["malformed_json"], 2);
    // Uppercase ids are folded; a bad id is a 400.
    let id = format!("{:032X}", 0xABCDu128);
    let r = get(addr, &format!("/api/traces/{id}")).await;
    assert_eq!(r.status, 200);
    let arr = json(&r);
    assert_eq!(arr.as_array().unwrap().len(), 3);
    assert_eq!(arr[0]["trace_id"], format!("{:032x}", 0xABCDu128));
    assert_eq!(get(addr, "/api/traces/nothex").await.status, 400);
    let r = get(addr, &format!("/api/traces/{:032x}", 0x1234u128)).await;
    assert_eq!(json(&r), serde_json::json!([]));
    let r = get(addr, "/api/records?service=trade&limit=2").await;
    assert_eq!(json(&r).as_array().unwrap().len(), 2);
    let r = get(
        addr,
        &format!("/api/records?from_us={}&to_us={}", T0 + 2_000, T0 + 3_000),
    )
    .await;
    assert_eq!(
        json(&r).as_array().unwrap().len(),
        2,
        "span 2 of both traces"
    );
    assert_eq!(get(addr, "/api/records?colour=red").await.status, 400);
    let m = String::from_utf8(get(addr, "/metrics").await.body).unwrap();
    for needle in [
        "warroom_collector_records_accepted_total 8",
        "warroom_collector_rejected_total{reason=\"malformed_json\"} 2",
        "warroom_collector_buffer_pending_records 0",
        "warroom_collector_store_lag_seconds 0",
        "warroom_collector_bytes_in_total ",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
}

#[tokio::test]
async fn limits_answer_413_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits = Limits {
        max_body_bytes: 20_000,
        max_line_bytes: 1_000,
        max_lines: 30,
        max_reported_errors: 2,
        ..Limits::default()
    };
    let (p, _s, _c) = pipeline(dir.path(), cfg, true);
    let addr = serve(p.clone()).await;
    // Too many lines.
    let r = post(addr, "/v1/digest", &[], lines(&recs(1, 31)).as_bytes()).await;
    assert_eq!(r.status, 413);
    assert!(json(&r)["error"]
        .as_str()
        .unwrap()
        .contains("too many lines"));
    // Body too big (declared), and a gzip body that inflates past the limit.
    let big = vec![b'\n'; 20_001];
    assert_eq!(post(addr, "/v1/digest", &[], &big).await.status, 413);
    let bomb = gzip(&vec![b' '; 5_000_000]);
    assert!(bomb.len() < 20_000);
    let r = post(addr, "/v1/digest", &[("Content-Encoding", "gzip")], &bomb).await;
    assert_eq!(r.status, 413);
    // A line too long is rejected alone; errors listed are capped.
    let long = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(2_000));
    let body = format!("{long}{long}{long}{}", lines(&recs(2, 2)));
    let r = post(addr, "/v1/digest", &[], body.as_bytes()).await;
    let v = json(&r);
    assert_eq!(
        (r.status, v["accepted"].as_u64(), v["rejected"].as_u64()),
        (200, Some(2), Some(3))
    );
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
    p.flush().await;
    assert_eq!(json(&get(addr, "/api/stats").await)["records_stored"], 2);
}

#[tokio::test]
async fn events_and_otlp_routes() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let addr = serve(p.clone()).await;
    let ev = r#"{"time":"2026-11-27T13:00:00.000000Z","event":"deploy","service":"trade","version":"2.4.0","detail":"canary 10%","by":"ci"}"#;
    let body = format!("{ev}\n{}", lines(&recs(3, 1)));
    let r = post(addr, "/v1/events", &[], body.as_bytes()).await;
    let v = json(&r);
    assert_eq!(
        (r.status, v["accepted"].as_u64(), v["rejected"].as_u64()),
        (200, Some(1), Some(1))
    );
    // OTLP JSON: one span, uppercase hex ids folded.
    let otlp = serde_json::json!({"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"cashier"}}]},
      "scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
        "name":"POST /pay","kind":2,"startTimeUnixNano":"1800000000000000000","endTimeUnixNano":"1800000000005000000",
        "status":{}}]}]}]});
    let r = post(
        addr,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        otlp.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = post(addr, "/v1/traces", &[("Content-Type", "text/plain")], b"x").await;
    assert_eq!(r.status, 415);
    let r = post(
        addr,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        b"\xff\xff",
    )
    .await;
    assert_eq!(r.status, 400);
    p.flush().await;
    assert_eq!(p.store().events(0, u64::MAX).await.unwrap().len(), 1);
    let r = get(addr, "/api/traces/5b8efff798038103d269b633813fc60c").await;
    assert_eq!(json(&r).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn backpressure_is_429_with_retry_after_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.max_pending_records = 500;
    let (p, store, _c) = pipeline(dir.path(), cfg, false);
    let addr = serve(p.clone()).await;
    let mut acked = 0u64;
    let mut refused = 0;
    for t in 1..=10u128 {
        let r = post(addr, "/v1/digest", &[], lines(&recs(t, 200)).as_bytes()).await;
        match r.status {
            200 => acked += json(&r)["accepted"].as_u64().unwrap(),
            429 => {
                refused += 1;
                assert_eq!(r.header("retry-after"), Some("1"));
                assert!(json(&r)["error"].as_str().unwrap().contains("queue full"));
            }
            s => panic!("status {s}"),
        }
    }
    assert_eq!((acked, refused), (400, 8));
    store.set_open(true);
    for _ in 0..500 {
        if p.store().count().await.unwrap() == acked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        json(&get(addr, "/api/stats").await)["records_stored"],
        acked
    );
    assert_eq!(json(&get(addr, "/api/stats").await)["refused_busy"], 8);
}

#[tokio::test]
async fn bodies_in_flight_are_bounded() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits.max_inflight_requests = 1;
    let (p, _s, _c) = pipeline(dir.path(), cfg, true);
    let addr = serve(p.clone()).await;
    // A slow client holds the only slot: headers sent, body unfinished.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /v1/digest HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let body = lines(&recs(5, 1));
    let mut refused = None;
    for _ in 0..200 {
        let r = post(addr, "/v1/digest", &[], body.as_bytes()).await;
        if r.status == 503 {
            refused = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let r = refused.expect("a second body while the slot is held gets 503");
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(slow);
    // The slot comes back once the slow request is gone.
    let mut ok = false;
    for _ in 0..200 {
        if post(addr, "/v1/digest", &[], body.as_bytes()).await.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(ok);
}

/// Issue 4 follow-up: `/v1/traces` knows the platform's services from records
/// admitted earlier (here digest lines from `trade`), so a client span to
/// `trade` stays `client`; a bank nobody has seen serving stays `integrator`.
#[tokio::test]
async fn otlp_client_spans_to_services_seen_earlier_stay_client() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _s, _c) = pipeline(dir.path(), config(dir.path()), true);
    let addr = serve(p.clone()).await;
    let span = |id: &str, peer: &str| {
        serde_json::json!({"traceId":"5b8efff798038103d269b633813fc60d","spanId":id,
          "name":"call","kind":3,"startTimeUnixNano":"1800000000000000000",
          "endTimeUnixNano":"1800000000005000000",
          "attributes":[{"key":"peer.service","value":{"stringValue":peer}}]})
    };
    let body = |a: &str, b: &str| {
        serde_json::json!({"resourceSpans":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"cashier"}}]},
          "scopeSpans":[{"spans":[span(a, "trade"), span(b, "bank-icbc")]}]}]})
        .to_string()
    };
    let kinds = |p: Pipeline| async move {
        p.flush().await;
        let t = digest::TraceId::parse("5b8efff798038103d269b633813fc60d").unwrap();
        let mut r = p.store().trace(t).await.unwrap();
        r.sort_by_key(|r| r.span_id.0);
        r.iter().map(|r| (r.span_id.0, r.kind)).collect::<Vec<_>>()
    };
    let ct = [("Content-Type", "application/json")];
    let r = post(
        addr,
        "/v1/traces",
        &ct,
        body("00000000000000a1", "00000000000000a2").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    use digest::SpanKind::{Client, Integrator};
    assert_eq!(
        kinds(p.clone()).await,
        vec![(0xa1, Integrator), (0xa2, Integrator)]
    );
    // trade's own server records arrive as digest lines.
    let r = post(addr, "/v1/digest", &[], lines(&recs(0x77, 2)).as_bytes()).await;
    assert_eq!(r.status, 200);
    let r = post(
        addr,
        "/v1/traces",
        &ct,
        body("00000000000000b1", "00000000000000b2").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        kinds(p.clone()).await,
        vec![
            (0xa1, Integrator),
            (0xa2, Integrator),
            (0xb1, Client),
            (0xb2, Integrator)
        ]
    );
    assert!(p
        .known_services()
        .options()
        .platform_services
        .contains("trade"));
}
