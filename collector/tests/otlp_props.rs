//! Property tests (proptest) for the OTLP and SOFATracer decoders: any batch of
//! valid spans decodes to the same records from protobuf and from JSON, with
//! every field mapped; SOFATracer span ids always chain to their prefix.

use collector::otlp_proto::{
    any_value::Value as AV, AnyValue, ExportTraceServiceRequest, KeyValue, Resource, ResourceSpans,
    ScopeSpans, Span,
};
use collector::{decode_otlp, OtlpFormat};
use collector::{decode_sofa_line, sofa_span_ids, SofaLine, SofaLogKind, SofaOptions};
use digest::SpanKind;
use proptest::prelude::*;
use prost::Message;
use serde_json::json;

#[derive(Debug, Clone)]
struct GenSpan {
    trace: u128,
    span: u64,
    parent: u64,
    kind: i32,
    start: u64,
    dur: u64,
    name: String,
    scene: String,
    amount: i64,
    failed: bool,
}

fn gen_span() -> impl Strategy<Value = GenSpan> {
    (
        1u128..,
        1u64..,
        any::<u64>(),
        0i32..=5,
        1u64..4_000_000_000_000_000_000,
        0u64..10_000_000_000,
        "[a-zA-Z0-9./ _-]{0,24}",
        "[a-z_]{0,10}",
        any::<i64>(),
        any::<bool>(),
    )
        .prop_map(
            |(trace, span, parent, kind, start, dur, name, scene, amount, failed)| GenSpan {
                trace,
                span,
                parent,
                kind,
                start,
                dur,
                name,
                scene,
                amount,
                failed,
            },
        )
}

fn kv(k: &str, v: AV) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn to_proto(service: &str, spans: &[GenSpan]) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", AV::StringValue(service.into()))],
            }),
            scope_spans: vec![ScopeSpans {
                spans: spans
                    .iter()
                    .map(|s| Span {
                        trace_id: s.trace.to_be_bytes().to_vec(),
                        span_id: s.span.to_be_bytes().to_vec(),
                        parent_span_id: if s.parent == 0 {
                            vec![]
                        } else {
                            s.parent.to_be_bytes().to_vec()
                        },
                        name: s.name.clone(),
                        kind: s.kind,
                        start_time_unix_nano: s.start,
                        end_time_unix_nano: s.start + s.dur,
                        attributes: vec![
                            kv("scene", AV::StringValue(s.scene.clone())),
                            kv("amount_cents", AV::IntValue(s.amount)),
                        ],
                        status: Some(collector::otlp_proto::Status {
                            message: String::new(),
                            code: if s.failed { 2 } else { 0 },
                        }),
                    })
                    .collect(),
            }],
        }],
    }
    .encode_to_vec()
}

fn to_json(service: &str, spans: &[GenSpan]) -> Vec<u8> {
    let spans: Vec<_> = spans
        .iter()
        .map(|s| {
            json!({
                // uppercase on purpose: ids are case-insensitive hex
                "traceId": format!("{:032X}", s.trace),
                "spanId": format!("{:016x}", s.span),
                "parentSpanId": if s.parent == 0 { String::new() } else { format!("{:016X}", s.parent) },
                "name": s.name,
                "kind": s.kind,
                "startTimeUnixNano": s.start.to_string(),
                "endTimeUnixNano": (s.start + s.dur),
                "attributes": [
                    {"key": "scene", "value": {"stringValue": s.scene}},
                    {"key": "amount_cents", "value": {"intValue": s.amount.to_string()}}
                ],
                "status": {"code": if s.failed { 2 } else { 0 }}
            })
        })
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "p"}, "spans": spans}]
    }]})
    .to_string()
    .into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn protobuf_and_json_agree_and_map_every_field(spans in prop::collection::vec(gen_span(), 0..20)) {
        let p = decode_otlp(&to_proto("pay", &spans), OtlpFormat::Protobuf).unwrap();
        let j = decode_otlp(&to_json("pay", &spans), OtlpFormat::Json).unwrap();
        prop_assert_eq!(p.rejected_spans, 0);
        prop_assert_eq!(&p.records, &j.records);
        prop_assert_eq!(p.records.len(), spans.len());
        for (r, s) in p.records.iter().zip(&spans) {
            prop_assert_eq!(r.trace_id.0, s.trace);
            prop_assert_eq!(r.span_id.0, s.span);
            prop_assert_eq!(r.parent_span_id.map(|p| p.0), (s.parent != 0).then_some(s.parent));
            prop_assert_eq!(r.time_us, s.start / 1000);
            prop_assert_eq!(r.duration_us, s.dur / 1000);
            prop_assert_eq!(&r.operation, &s.name);
            prop_assert_eq!(&r.scene, &s.scene);
            prop_assert_eq!(r.amount_cents, Some(s.amount));
            prop_assert_eq!(r.success, !s.failed);
            prop_assert_eq!(&r.service, "pay");
            let want_kind = match s.kind {
                2 | 5 => SpanKind::Server,
                1 | 0 => SpanKind::Internal,
                _ => r.kind, // client or integrator: depends on the peer
            };
            prop_assert_eq!(r.kind, want_kind);
        }
    }

    #[test]
    fn sofa_span_ids_chain_to_their_prefix(path in prop::collection::vec(0u32..50, 1..8)) {
        let text: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        let full = text.join(".");
        let (id, parent) = sofa_span_ids(&full).unwrap();
        prop_assert_eq!(sofa_span_ids(&full).unwrap().0, id, "deterministic");
        if text.len() == 1 {
            prop_assert_eq!(parent, None);
        } else {
            let prefix = text[..text.len() - 1].join(".");
            prop_assert_eq!(parent, Some(sofa_span_ids(&prefix).unwrap().0));
        }
    }

    #[test]
    fn sofa_client_lines_keep_their_fields(
        app in "[A-Za-z][A-Za-z0-9-]{0,15}",
        remote in "[A-Za-z][A-Za-z0-9-]{0,15}",
        ms in 0u64..10_000_000,
        code in prop::sample::select(vec!["00", "01", "02", "03", "04"]),
        suffix in any::<bool>(),
    ) {
        let cost = if suffix { format!("{ms}ms") } else { ms.to_string() };
        let line = json!({
            "timestamp": "2026-11-27 13:01:37.500", "tracerId": "0a0fe9271567477985327100211176",
            "spanId": "0.1.2", "span.kind": "client", "local.app": app, "remote.app": remote,
            "service": "com.pay.Trade:1.0", "method": "create", "result.code": code,
            "client.elapse.time": cost,
        }).to_string();
        let SofaLine::Record(r) = decode_sofa_line(line.as_bytes(), SofaLogKind::RpcClient, &SofaOptions::default()).unwrap() else {
            panic!("a record")
        };
        prop_assert_eq!(&r.service, &app);
        prop_assert_eq!(&r.peer, &remote);
        prop_assert_eq!(r.duration_us, ms * 1000);
        prop_assert_eq!(r.success, code == "00");
        prop_assert_eq!(r.time_us + r.duration_us, digest::parse_rfc3339("2026-11-27T13:01:37.5Z").unwrap());
    }
}
