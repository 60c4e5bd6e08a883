//! OTLP/HTTP traces: JSON and protobuf bodies map onto the same digest records;
//! bad spans are refused one by one (partialSuccess); bad bodies get 400/415.

use collector::otlp_proto::{
    any_value::Value as AV, AnyValue, ExportTraceServiceRequest, ExportTraceServiceResponse,
    KeyValue, Resource, ResourceSpans, RpcStatus, ScopeSpans, Span, Status,
};
use collector::{
    decode_otlp, decode_otlp_with, export_response, throttled_response, OtlpError, OtlpFormat,
    OtlpOptions,
};
use digest::{SpanKind, TraceId};
use prost::Message;
use rand::{rngs::SmallRng, Rng, SeedableRng};

const TRACE: &str = "4BF92F3577B34DA6A3CE929D0E0E4736";
const T0: u64 = 1_795_784_497_000_000_000; // ns

fn json_body() -> String {
    format!(
        r#"{{"resourceSpans":[
 {{"resource":{{"attributes":[
    {{"key":"service.name","value":{{"stringValue":"cashier"}}}},
    {{"key":"service.version","value":{{"stringValue":"1.4.2"}}}},
    {{"key":"service.instance.id","value":{{"stringValue":"cashier-1"}}}},
    {{"key":"cloud.availability_zone","value":{{"stringValue":"gz-a"}}}}]}},
  "scopeSpans":[{{"scope":{{"name":"otel"}},"spans":[
   {{"traceId":"{TRACE}","spanId":"00F067AA0BA902B7","parentSpanId":"","name":"POST /pay","kind":2,
     "startTimeUnixNano":"{s0}","endTimeUnixNano":"{e0}",
     "attributes":[{{"key":"scene","value":{{"stringValue":"quick_pay"}}}},
                   {{"key":"channel","value":{{"stringValue":"SDK"}}}},
                   {{"key":"key.merchant","value":{{"stringValue":"m-42"}}}},
                   {{"key":"amount_cents","value":{{"intValue":"12500"}}}},
                   {{"key":"http.response.status_code","value":{{"intValue":200}}}}],
     "status":{{"code":1}}}},
   {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8","parentSpanId":"00f067aa0ba902b7","name":"trade.create","kind":3,
     "startTimeUnixNano":{s1},"endTimeUnixNano":{e1},"attributes":[]}},
   {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b9","parentSpanId":"00f067aa0ba902b7","name":"icbc.debit","kind":3,
     "startTimeUnixNano":"{s1}","endTimeUnixNano":"{e2}",
     "attributes":[{{"key":"peer.service","value":{{"stringValue":"bank-icbc"}}}},
                   {{"key":"code","value":{{"stringValue":"BANK_TIMEOUT"}}}},
                   {{"key":"error.type","value":{{"stringValue":"Timeout"}}}}],
     "status":{{"code":2,"message":"deadline exceeded"}}}}
  ]}}]}},
 {{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"trade"}}}}]}},
  "scopeSpans":[{{"spans":[
   {{"traceId":"{TRACE}","spanId":"1111111111111111","parentSpanId":"00f067aa0ba902b8","name":"TradeService.create","kind":2,
     "startTimeUnixNano":"{s1}","endTimeUnixNano":"{e1}","unknownField":{{"x":1}}}}
  ]}}]}}
]}}"#,
        s0 = T0,
        e0 = T0 + 30_000_000,
        s1 = T0 + 1_000_000,
        e1 = T0 + 11_000_000,
        e2 = T0 + 21_000_000,
    )
}

fn kv(k: &str, v: AV) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn s(v: &str) -> AV {
    AV::StringValue(v.into())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn proto_body() -> Vec<u8> {
    let span = |id: &str, parent: &str, name: &str, kind: i32, start: u64, end: u64| Span {
        trace_id: hex(TRACE),
        span_id: hex(id),
        parent_span_id: if parent.is_empty() {
            vec![]
        } else {
            hex(parent)
        },
        name: name.into(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: vec![],
        status: None,
    };
    let mut root = span("00F067AA0BA902B7", "", "POST /pay", 2, T0, T0 + 30_000_000);
    root.attributes = vec![
        kv("scene", s("quick_pay")),
        kv("channel", s("SDK")),
        kv("key.merchant", s("m-42")),
        kv("amount_cents", AV::IntValue(12500)),
        kv("http.response.status_code", AV::IntValue(200)),
    ];
    root.status = Some(Status {
        message: String::new(),
        code: 1,
    });
    let client = span(
        "00f067aa0ba902b8",
        "00f067aa0ba902b7",
        "trade.create",
        3,
        T0 + 1_000_000,
        T0 + 11_000_000,
    );
    let mut bank = span(
        "00f067aa0ba902b9",
        "00f067aa0ba902b7",
        "icbc.debit",
        3,
        T0 + 1_000_000,
        T0 + 21_000_000,
    );
    bank.attributes = vec![
        kv("peer.service", s("bank-icbc")),
        kv("code", s("BANK_TIMEOUT")),
        kv("error.type", s("Timeout")),
    ];
    bank.status = Some(Status {
        message: "deadline exceeded".into(),
        code: 2,
    });
    let trade = span(
        "1111111111111111",
        "00f067aa0ba902b8",
        "TradeService.create",
        2,
        T0 + 1_000_000,
        T0 + 11_000_000,
    );
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", s("cashier")),
                        kv("service.version", s("1.4.2")),
                        kv("service.instance.id", s("cashier-1")),
                        kv("cloud.availability_zone", s("gz-a")),
                    ],
                }),
                scope_spans: vec![ScopeSpans {
                    spans: vec![root, client, bank],
                }],
            },
            ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", s("trade"))],
                }),
                scope_spans: vec![ScopeSpans { spans: vec![trade] }],
            },
        ],
    }
    .encode_to_vec()
}

#[test]
fn json_spans_map_onto_records() {
    let b = decode_otlp(json_body().as_bytes(), OtlpFormat::Json).unwrap();
    assert_eq!(b.rejected_spans, 0, "{}", b.error_message);
    assert_eq!(b.records.len(), 4);
    let r = &b.records[0];
    assert_eq!(r.trace_id, TraceId::parse(&TRACE.to_lowercase()).unwrap());
    assert_eq!(
        r.trace_id.to_hex(),
        TRACE.to_lowercase(),
        "uppercase folded"
    );
    assert_eq!(r.span_id.to_hex(), "00f067aa0ba902b7");
    assert_eq!(r.parent_span_id, None);
    assert_eq!(r.kind, SpanKind::Server);
    assert_eq!(r.service, "cashier");
    assert_eq!(r.version, "1.4.2");
    assert_eq!(r.instance, "cashier-1");
    assert_eq!(r.zone, "gz-a");
    assert_eq!(r.operation, "POST /pay");
    assert_eq!(r.time_us, T0 / 1000);
    assert_eq!(r.duration_us, 30_000);
    assert!(r.success);
    assert_eq!(r.code, "200");
    assert_eq!(r.scene, "quick_pay");
    assert_eq!(r.channel, "SDK");
    assert_eq!(r.key("merchant"), Some("m-42"));
    assert_eq!(r.amount_cents, Some(12500));

    // client span to trade: peer is the child server span's service, so it stays `client`
    let c = &b.records[1];
    assert_eq!((c.kind, c.peer.as_str()), (SpanKind::Client, "trade"));
    assert_eq!(c.code, "OK");
    // client span to a bank outside the platform: integrator, failed, with code and error
    let i = &b.records[2];
    assert_eq!(
        (i.kind, i.peer.as_str()),
        (SpanKind::Integrator, "bank-icbc")
    );
    assert!(!i.success);
    assert_eq!(i.code, "BANK_TIMEOUT");
    assert_eq!(i.error.as_deref(), Some("Timeout"));
    // trade's server span: caller is the parent span's service
    let t = &b.records[3];
    assert_eq!(
        (t.kind, t.service.as_str(), t.peer.as_str()),
        (SpanKind::Server, "trade", "cashier")
    );
    assert_eq!(t.parent_span_id.unwrap().to_hex(), "00f067aa0ba902b8");
}

#[test]
fn protobuf_and_json_give_the_same_records() {
    let j = decode_otlp(json_body().as_bytes(), OtlpFormat::Json).unwrap();
    let p = decode_otlp(&proto_body(), OtlpFormat::Protobuf).unwrap();
    assert_eq!(p.rejected_spans, 0, "{}", p.error_message);
    assert_eq!(j.records, p.records);
}

#[test]
fn known_platform_service_keeps_client_kind() {
    let mut opts = OtlpOptions::default();
    opts.platform_services.insert("bank-icbc".into());
    let b = decode_otlp_with(json_body().as_bytes(), OtlpFormat::Json, &opts).unwrap();
    assert_eq!(b.records[2].kind, SpanKind::Client);
}

#[test]
fn bad_spans_are_refused_one_by_one() {
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"cashier"}}}}]}},
      "scopeSpans":[{{"spans":[
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b7","name":"ok","kind":2,"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        {{"traceId":"zz","spanId":"00f067aa0ba902b7","name":"bad hex","kind":2,"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        {{"traceId":"00000000000000000000000000000000","spanId":"00f067aa0ba902b7","name":"zero","startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba9","name":"short span id","startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8","name":"end before start","startTimeUnixNano":"{T0}","endTimeUnixNano":"1"}},
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8","name":"kind as text","kind":{{}},"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8","name":"kind 9","kind":9,"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}},
        7
      ]}}]}},
      {{"resource":{{}},"scopeSpans":[{{"spans":[
        {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b9","name":"no service","startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}}]}}]}}]}}"#
    );
    let b = decode_otlp(body.as_bytes(), OtlpFormat::Json).unwrap();
    assert_eq!(b.records.len(), 1);
    assert_eq!(b.records[0].operation, "ok");
    assert_eq!(b.rejected_spans, 8);
    assert!(
        b.error_message.contains("rejected 8 of 9 spans"),
        "{}",
        b.error_message
    );
    assert_eq!(b.rejected_by_reason.get("missing_service"), Some(&1));
    assert_eq!(b.rejected_by_reason.get("invalid_trace_id"), Some(&1));
    assert_eq!(b.rejected_by_reason.get("malformed_span"), Some(&3));

    // partialSuccess in both encodings
    let r = export_response(&b, OtlpFormat::Json);
    assert_eq!((r.status, r.content_type), (200, "application/json"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "8");
    assert!(v["partialSuccess"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("span #2"));
    let r = export_response(&b, OtlpFormat::Protobuf);
    assert_eq!(r.content_type, "application/x-protobuf");
    let m = ExportTraceServiceResponse::decode(r.body.as_slice()).unwrap();
    assert_eq!(m.partial_success.unwrap().rejected_spans, 8);
}

#[test]
fn full_success_leaves_partial_success_unset() {
    let b = decode_otlp(&proto_body(), OtlpFormat::Protobuf).unwrap();
    let r = export_response(&b, OtlpFormat::Protobuf);
    let m = ExportTraceServiceResponse::decode(r.body.as_slice()).unwrap();
    assert_eq!(m.partial_success, None);
    assert_eq!(export_response(&b, OtlpFormat::Json).body, b"{}");
    // an empty request is a success with nothing in it
    for (body, f) in [
        (&b"{}"[..], OtlpFormat::Json),
        (&b""[..], OtlpFormat::Protobuf),
    ] {
        let e = decode_otlp(body, f).unwrap();
        assert_eq!((e.records.len(), e.rejected_spans), (0, 0));
    }
}

#[test]
fn undecodable_bodies_get_400_with_a_status_body() {
    for (body, f) in [
        (&b"{not json"[..], OtlpFormat::Json),
        (&b"[1,2]"[..], OtlpFormat::Json),
        (&br#"{"resourceSpans":{}}"#[..], OtlpFormat::Json),
        (&br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"intValue":true}}]}}]}"#[..], OtlpFormat::Json),
        (&b"\xff\xff\xff\xff"[..], OtlpFormat::Protobuf),
        (&b"\x0a\x05\x0a"[..], OtlpFormat::Protobuf),
    ] {
        let e = decode_otlp(body, f).unwrap_err();
        assert_eq!(e.http_status(), 400, "{body:?}");
        let r = e.response(f);
        assert_eq!(r.status, 400);
        match f {
            OtlpFormat::Protobuf => {
                let st = RpcStatus::decode(r.body.as_slice()).unwrap();
                assert!(st.message.contains("protobuf"), "{}", st.message);
            }
            OtlpFormat::Json => {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                assert!(v["message"].as_str().unwrap().contains("cannot decode"));
            }
        }
    }
}

#[test]
fn content_types_and_throttling() {
    assert_eq!(
        OtlpFormat::from_content_type("application/x-protobuf").unwrap(),
        OtlpFormat::Protobuf
    );
    assert_eq!(
        OtlpFormat::from_content_type("Application/JSON; charset=utf-8").unwrap(),
        OtlpFormat::Json
    );
    let e = OtlpFormat::from_content_type("text/plain").unwrap_err();
    assert!(matches!(e, OtlpError::UnsupportedMediaType(_)));
    assert_eq!(e.http_status(), 415);
    let r = throttled_response(429, 3, "busy", OtlpFormat::Json);
    assert_eq!((r.status, r.retry_after_s), (429, Some(3)));
    let r = throttled_response(503, 5, "buffer full", OtlpFormat::Protobuf);
    assert_eq!(r.status, 503);
    assert_eq!(
        RpcStatus::decode(r.body.as_slice()).unwrap().message,
        "buffer full"
    );
}

/// Property: any byte string, and any truncation or byte flip of a valid body,
/// decodes to `Ok` or `Err` without panicking, and every kept record is valid.
#[test]
fn fuzz_never_panics() {
    let mut rng = SmallRng::seed_from_u64(4);
    let json = json_body().into_bytes();
    let proto = proto_body();
    for (valid, f) in [(&json, OtlpFormat::Json), (&proto, OtlpFormat::Protobuf)] {
        for cut in 0..valid.len() {
            let _ = decode_otlp(&valid[..cut], f);
        }
        for _ in 0..3000 {
            let mut b = valid.clone();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            if let Ok(batch) = decode_otlp(&b, f) {
                for r in &batch.records {
                    assert_ne!(r.trace_id.0, 0);
                    assert_ne!(r.span_id.0, 0);
                    assert!(!r.service.is_empty());
                }
            }
        }
    }
    for _ in 0..3000 {
        let n = rng.random_range(0..200);
        let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
        let _ = decode_otlp(&b, OtlpFormat::Protobuf);
        let _ = decode_otlp(&b, OtlpFormat::Json);
    }
    // deep nesting is refused, not a stack overflow
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(decode_otlp(deep.as_bytes(), OtlpFormat::Json).is_err());
}

/// Every JSON shape error inside a span refuses that span only; its value is
/// consumed whole, so the next span still decodes.
#[test]
fn json_shape_errors_inside_spans_refuse_only_that_span() {
    let ok = format!(
        r#"{{"traceId":"{TRACE}","spanId":"00f067aa0ba902b7","name":"ok","kind":"SPAN_KIND_SERVER","startTimeUnixNano":{T0},"endTimeUnixNano":"{T0}",
           "attributes":[{{"key":"d","value":{{"doubleValue":"NaN"}}}},{{"key":"l","value":{{"arrayValue":{{"values":[{{"intValue":1}},{{"kvlistValue":{{"values":[{{"key":"x","value":{{"boolValue":true}}}}]}}}}]}}}}}},
                         {{"key":"b","value":{{"bytesValue":"AAE="}}}},{{"key":"n","value":null}}],
           "status":{{"code":"STATUS_CODE_OK","message":null}},"links":[{{"a":[1,{{"b":2}}]}}]}}"#
    );
    let bad_parts = [
        r#""status":"x""#,
        r#""attributes":{}"#,
        r#""attributes":[{"key":"a","value":{"boolValue":"yes"}}]"#,
        r#""attributes":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":1.5}]}}}]"#,
        r#""attributes":[{"key":"a","value":{"kvlistValue":{"values":[7]}}}]"#,
        r#""attributes":[[1,2,{"x":[3]}]]"#,
        r#""kind":"SIDEWAYS""#,
        r#""kind":2.5"#,
        r#""startTimeUnixNano":-1"#,
        r#""endTimeUnixNano":{"n":1}"#,
        r#""name":["a"]"#,
        r#""spanId":"xyz""#,
    ];
    let mut spans = vec![ok.clone()];
    for b in bad_parts {
        spans.push(format!(
            r#"{{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8",{b},"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}"}}"#
        ));
        spans.push(ok.clone());
    }
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"cashier"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    let b = decode_otlp(body.as_bytes(), OtlpFormat::Json).unwrap();
    assert_eq!(
        b.rejected_spans,
        bad_parts.len() as u64,
        "{}",
        b.error_message
    );
    assert_eq!(b.records.len(), bad_parts.len() + 1);
    assert!(b
        .records
        .iter()
        .all(|r| r.operation == "ok" && r.kind == SpanKind::Server && r.success));
}

/// Services learnt from earlier batches (any source) keep later client spans to
/// them as `client`; unknown peers stay `integrator`.
#[test]
fn known_services_are_learnt_across_batches() {
    use collector::KnownServices;
    let known = KnownServices::default();
    let client_only = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"cashier"}}}}]}},
         "scopeSpans":[{{"spans":[
           {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b8","name":"trade.create","kind":3,"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}",
             "attributes":[{{"key":"peer.service","value":{{"stringValue":"trade"}}}}]}},
           {{"traceId":"{TRACE}","spanId":"00f067aa0ba902b9","name":"debit","kind":3,"startTimeUnixNano":"{T0}","endTimeUnixNano":"{T0}",
             "attributes":[{{"key":"peer.service","value":{{"stringValue":"bank-icbc"}}}}]}}]}}]}}]}}"#
    );
    let before =
        decode_otlp_with(client_only.as_bytes(), OtlpFormat::Json, &known.options()).unwrap();
    assert_eq!(
        before.records[0].kind,
        SpanKind::Integrator,
        "trade not seen yet"
    );
    // trade's own server spans arrive (from OTLP or any other source)
    let trade = decode_otlp(json_body().as_bytes(), OtlpFormat::Json).unwrap();
    known.observe(&trade.records);
    assert!(known.options().platform_services.contains("trade"));
    let after =
        decode_otlp_with(client_only.as_bytes(), OtlpFormat::Json, &known.options()).unwrap();
    assert_eq!(after.records[0].kind, SpanKind::Client);
    assert_eq!(
        after.records[1].kind,
        SpanKind::Integrator,
        "a bank stays outside"
    );
}
