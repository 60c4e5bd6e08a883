//! Throughput of the issue-4 sources and the ClickHouse store, measured on this
//! machine (not a test: `cargo bench -p collector --bench sources`). Prints one
//! JSON object per measurement. The ClickHouse part runs when
//! `WARROOM_CLICKHOUSE_URL` is set (e.g. under `scripts/test`'s server).

use collector::otlp_proto::{
    any_value::Value as AV, AnyValue, ExportTraceServiceRequest, KeyValue, Resource, ResourceSpans,
    ScopeSpans, Span,
};
use collector::{decode_otlp, OtlpFormat};
use collector::{decode_sofa_line, SofaLogKind, SofaOptions};
use collector::{BoxFuture, Store};
use collector::{ClickHouseConfig, ClickHouseStore};
use collector::{TailBatch, TailConfig, TailError, TailSink, Tailer};
use digest::{encode_record, DigestRecord, SpanId, SpanKind, TraceId};
use prost::Message;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(AV::StringValue(v.into())),
        }),
    }
}

fn otlp_request(resources: usize, spans: usize) -> ExportTraceServiceRequest {
    let t0 = 1_795_784_497_000_000_000u64;
    ExportTraceServiceRequest {
        resource_spans: (0..resources)
            .map(|r| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", &format!("svc-{r}"))],
                }),
                scope_spans: vec![ScopeSpans {
                    spans: (0..spans)
                        .map(|i| Span {
                            trace_id: ((r * spans + i) as u128 + 1).to_be_bytes().to_vec(),
                            span_id: ((i as u64) + 1).to_be_bytes().to_vec(),
                            parent_span_id: vec![],
                            name: "PayService.pay".into(),
                            kind: 2,
                            start_time_unix_nano: t0 + i as u64,
                            end_time_unix_nano: t0 + i as u64 + 5_000_000,
                            attributes: vec![
                                kv("scene", "quick_pay"),
                                kv("channel", "SDK"),
                                kv("key.merchant", "m-42"),
                                kv("code", "SUCCESS"),
                            ],
                            status: None,
                        })
                        .collect(),
                }],
            })
            .collect(),
    }
}

fn rate(name: &str, items: u64, bytes: u64, secs: f64) {
    println!(
        "{{\"bench\":\"{name}\",\"items\":{items},\"per_s\":{:.0},\"bytes_per_s\":{:.0},\"secs\":{secs:.3}}}",
        items as f64 / secs,
        bytes as f64 / secs
    );
}

fn bench_otlp() {
    let req = otlp_request(10, 1000);
    let proto = req.encode_to_vec();
    let t = Instant::now();
    let mut n = 0u64;
    for _ in 0..20 {
        n += decode_otlp(&proto, OtlpFormat::Protobuf)
            .unwrap()
            .records
            .len() as u64;
    }
    rate(
        "otlp_protobuf_decode_spans",
        n,
        proto.len() as u64 * 20,
        t.elapsed().as_secs_f64(),
    );
    // JSON: build the equivalent body by hand (hex ids, string int64s).
    let mut json = String::from(r#"{"resourceSpans":["#);
    for (ri, rs) in req.resource_spans.iter().enumerate() {
        if ri > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc-{ri}"}}}}]}},"scopeSpans":[{{"spans":["#
        ));
        for (i, s) in rs.scope_spans[0].spans.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            json.push_str(&format!(
                r#"{{"traceId":"{}","spanId":"{}","name":"PayService.pay","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"scene","value":{{"stringValue":"quick_pay"}}}},{{"key":"channel","value":{{"stringValue":"SDK"}}}},{{"key":"key.merchant","value":{{"stringValue":"m-42"}}}},{{"key":"code","value":{{"stringValue":"SUCCESS"}}}}]}}"#,
                hex(&s.trace_id), hex(&s.span_id), s.start_time_unix_nano, s.end_time_unix_nano
            ));
        }
        json.push_str("]}]}");
    }
    json.push_str("]}");
    let t = Instant::now();
    let mut n = 0u64;
    for _ in 0..10 {
        n += decode_otlp(json.as_bytes(), OtlpFormat::Json)
            .unwrap()
            .records
            .len() as u64;
    }
    rate(
        "otlp_json_decode_spans",
        n,
        json.len() as u64 * 10,
        t.elapsed().as_secs_f64(),
    );
}

fn bench_sofa() {
    let line = br#"{"timestamp":"2018-05-20 17:03:20.708","tracerId":"1e27326d1526807000498100185597","spanId":"0.1.2","span.kind":"client","local.app":"cashier","protocol":"bolt","service":"com.pay.TradeService:1.0","method":"create","current.thread.name":"main","invoke.type":"sync","router.record":"DIRECT","remote.app":"trade","remote.ip":"127.0.0.1:12200","local.client.ip":"127.0.0.1","result.code":"00","req.serialize.time":"33","resp.deserialize.time":"39","resp.size":"170","req.size":"582","client.conn.time":"0","client.elapse.time":"155","local.client.port":"59774","baggage":"scene=quick_pay&merchant=m-7"}"#;
    let n = 200_000u64;
    let t = Instant::now();
    for _ in 0..n {
        decode_sofa_line(line, SofaLogKind::RpcClient, &SofaOptions::default()).unwrap();
    }
    rate(
        "sofa_rpc_client_lines",
        n,
        n * line.len() as u64,
        t.elapsed().as_secs_f64(),
    );
}

struct CountSink(AtomicU64);
impl TailSink for CountSink {
    fn deliver(&self, b: TailBatch) -> BoxFuture<'_, Result<(), TailError>> {
        self.0.fetch_add(b.records.len() as u64, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

fn record(i: u64) -> DigestRecord {
    DigestRecord {
        time_us: 1_795_784_497_000_000 + i,
        trace_id: TraceId(i as u128 + 1),
        span_id: SpanId(i + 1),
        kind: SpanKind::Server,
        service: format!("svc-{}", i % 8),
        instance: "svc-1".into(),
        zone: "gz-a".into(),
        operation: "PayService.pay".into(),
        peer: "cashier".into(),
        duration_us: 1000 + i % 5000,
        success: !i.is_multiple_of(50),
        code: "SUCCESS".into(),
        scene: "quick_pay".into(),
        channel: "SDK".into(),
        version: "1.0.0".into(),
        keys: [("merchant".to_string(), format!("m-{}", i % 1000))].into(),
        amount_cents: Some(12_500),
        ..Default::default()
    }
}

async fn bench_tail() {
    let dir = std::env::temp_dir().join(format!("wr-bench-tail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = 300_000u64;
    let mut buf = Vec::new();
    for i in 0..n {
        encode_record(&mut buf, &record(i));
    }
    std::fs::write(dir.join("pay-digest.log"), &buf).unwrap();
    let cfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.display())],
        dir.join("ck.json"),
    );
    let mut t = Tailer::open(cfg, CountSink(AtomicU64::new(0))).unwrap();
    let start = Instant::now();
    t.poll_once().await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(t.sink().0.load(Ordering::Relaxed), n);
    rate("tail_digest_v1_lines", n, buf.len() as u64, secs);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn bench_clickhouse(url: String) {
    let mut cfg = ClickHouseConfig::new(url.clone());
    cfg.database = format!("wr_bench_{}", std::process::id());
    let store = ClickHouseStore::open(cfg.clone()).await.unwrap();
    let recs: Vec<DigestRecord> = (0..500_000).map(record).collect();
    let t = Instant::now();
    for (seq, chunk) in recs.chunks(50_000).enumerate() {
        store.insert_batch(seq as u64 + 1, chunk).await.unwrap();
    }
    rate(
        "clickhouse_insert_rows",
        recs.len() as u64,
        0,
        t.elapsed().as_secs_f64(),
    );
    let t = Instant::now();
    for i in 0..20u64 {
        assert_eq!(
            store
                .trace(TraceId(i as u128 * 997 + 1))
                .await
                .unwrap()
                .len(),
            1
        );
    }
    println!(
        "{{\"bench\":\"clickhouse_trace_lookup\",\"rows\":{},\"ms_each\":{:.2}}}",
        recs.len(),
        t.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
    let t = Instant::now();
    let q = collector::RecordQuery {
        from_us: 1_795_784_497_000_000,
        to_us: 1_795_784_497_100_000,
        service: Some("svc-3".into()),
        limit: 1000,
        ..Default::default()
    };
    let got = store.query(&q).await.unwrap().len();
    println!(
        "{{\"bench\":\"clickhouse_range_query\",\"rows\":{got},\"ms\":{:.2}}}",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let c = clickhouse::Client::default()
        .with_url(url)
        .with_validation(false);
    let _ = c
        .query(&format!("DROP DATABASE IF EXISTS {}", cfg.database))
        .execute()
        .await;
}

#[tokio::main]
async fn main() {
    bench_otlp();
    bench_sofa();
    bench_tail().await;
    match std::env::var("WARROOM_CLICKHOUSE_URL") {
        Ok(url) if !url.is_empty() => bench_clickhouse(url).await,
        _ => eprintln!("WARROOM_CLICKHOUSE_URL not set: ClickHouse bench skipped"),
    }
}
