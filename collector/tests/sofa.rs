//! SOFATracer digest and stat lines (the samples from SOFATracer's docs) onto
//! digest records; hierarchical span ids; bad lines refused with a reason.

use collector::{
    decode_sofa_line, sofa_span_ids, sofa_trace_id, SofaLine, SofaLogKind, SofaOptions,
};
use digest::{parse_rfc3339, SpanKind, TraceId};
use rand::{rngs::SmallRng, Rng, SeedableRng};

const CLIENT: &str = r#"{"timestamp":"2018-05-20 17:03:20.708","tracerId":"1e27326d1526807000498100185597","spanId":"0.1","span.kind":"client","local.app":"SOFATracerRPC","protocol":"bolt","service":"com.alipay.sofa.tracer.examples.sofarpc.direct.DirectService:1.0","method":"sayDirect","current.thread.name":"main","invoke.type":"sync","router.record":"DIRECT","remote.app":"samples","remote.ip":"127.0.0.1:12200","local.client.ip":"127.0.0.1","result.code":"00","req.serialize.time":"33","resp.deserialize.time":"39","resp.size":"170","req.size":"582","client.conn.time":"0","client.elapse.time":"155","local.client.port":"59774","baggage":"scene=quick_pay&merchant=m-7&amount_cents=990"}"#;
const SERVER: &str = r#"{"timestamp":"2018-05-20 17:00:53.312","tracerId":"1e27326d1526806853032100185011","spanId":"0.1.2","span.kind":"server","service":"com.alipay.sofa.tracer.examples.sofarpc.direct.DirectService:1.0","method":"sayDirect","remote.ip":"127.0.0.1","remote.app":"SOFATracerRPC","protocol":"bolt","local.app":"samples","current.thread.name":"SOFA-BOLT-BIZ-12200-5-T1","result.code":"03","server.pool.wait.time":"3","biz.impl.time":"1","resp.serialize.time":"4","req.deserialize.time":"38","resp.size":"170","req.size":"582","sys.baggage":"mark=T","biz.baggage":""}"#;
const MVC: &str = r#"{"time":"2019-09-03 10:33:10.336","local.app":"RestTemplateDemo","traceId":"0a0fe9271567477985327100211176","spanId":"0.1","span.kind":"server","result.code":"200","current.thread.name":"http-nio-8801-exec-2","time.cost.milliseconds":"5006ms","request.url":"http://localhost:8801/asyncrest?x=1","method":"GET","req.size.bytes":-1,"resp.size.bytes":0,"sys.baggage":"","biz.baggage":""}"#;
const STAT: &str = r#"{"time":"2018-06-03 16:44:02.473","stat.key":{"request.url":"http://localhost:63933/greeting","local.app":"SpringMvcJsonOutput","method":"GET"},"count":5,"total.cost.milliseconds":149,"success":"Y","load.test":"F"}"#;

fn record(line: &str, kind: SofaLogKind) -> digest::DigestRecord {
    match decode_sofa_line(line.as_bytes(), kind, &SofaOptions::default()).unwrap() {
        SofaLine::Record(r) => r,
        other => panic!("expected a record, got {other:?}"),
    }
}

#[test]
fn file_names_choose_the_format() {
    assert_eq!(
        SofaLogKind::from_file_name("/var/log/tracelog/rpc-client-digest.log"),
        Some(SofaLogKind::RpcClient)
    );
    assert_eq!(
        SofaLogKind::from_file_name("rpc-server-digest.log.2026-11-27"),
        Some(SofaLogKind::RpcServer)
    );
    assert_eq!(
        SofaLogKind::from_file_name("spring-mvc-digest.log"),
        Some(SofaLogKind::SpringMvc)
    );
    assert_eq!(
        SofaLogKind::from_file_name("rpc-client-stat.log"),
        Some(SofaLogKind::Stat { client: true })
    );
    assert_eq!(
        SofaLogKind::from_file_name("spring-mvc-stat.log"),
        Some(SofaLogKind::Stat { client: false })
    );
    assert_eq!(SofaLogKind::from_file_name("cashier-digest.log"), None);
}

#[test]
fn rpc_client_line() {
    let r = record(CLIENT, SofaLogKind::RpcClient);
    assert_eq!(r.trace_id.to_hex(), "001e27326d1526807000498100185597");
    assert_eq!(r.kind, SpanKind::Client);
    assert_eq!(r.service, "SOFATracerRPC");
    assert_eq!(r.peer, "samples");
    assert_eq!(
        r.operation,
        "com.alipay.sofa.tracer.examples.sofarpc.direct.DirectService.sayDirect"
    );
    assert_eq!(r.duration_us, 155_000);
    let end = parse_rfc3339("2018-05-20T17:03:20.708Z").unwrap();
    assert_eq!(r.time_us, end - 155_000, "start = printed end - cost");
    assert!(r.success);
    assert_eq!(r.code, "00");
    assert_eq!(r.scene, "quick_pay");
    assert_eq!(r.key("merchant"), Some("m-7"));
    assert_eq!(r.amount_cents, Some(990));
    let (id, parent) = sofa_span_ids("0.1").unwrap();
    assert_eq!((r.span_id, r.parent_span_id), (id, parent));
    assert_eq!(parent, Some(sofa_span_ids("0").unwrap().0));
}

#[test]
fn rpc_server_line() {
    let r = record(SERVER, SofaLogKind::RpcServer);
    assert_eq!(r.kind, SpanKind::Server);
    assert_eq!(
        (r.service.as_str(), r.peer.as_str()),
        ("samples", "SOFATracerRPC")
    );
    assert_eq!(
        r.duration_us,
        (3 + 1 + 4 + 38) * 1000,
        "pool wait + business + (de)serialize"
    );
    assert!(!r.success);
    assert_eq!(r.error.as_deref(), Some("timeout"));
    assert!(r.shadow, "sys.baggage mark=T is stress-test traffic");
    assert_eq!(r.parent_span_id, Some(sofa_span_ids("0.1").unwrap().0));
}

#[test]
fn spring_mvc_line_with_ms_suffix_and_zone() {
    let r = record(MVC, SofaLogKind::SpringMvc);
    assert_eq!(r.duration_us, 5_006_000);
    assert_eq!(r.operation, "GET /asyncrest");
    assert!(r.success);
    assert_eq!(r.code, "200");
    let utc8 = SofaOptions {
        utc_offset_s: 8 * 3600,
    };
    let SofaLine::Record(r8) =
        decode_sofa_line(MVC.as_bytes(), SofaLogKind::SpringMvc, &utc8).unwrap()
    else {
        panic!()
    };
    assert_eq!(r.time_us - r8.time_us, 8 * 3600 * 1_000_000);
    let failed = MVC.replace(r#""result.code":"200""#, r#""result.code":"500""#);
    let r = record(&failed, SofaLogKind::SpringMvc);
    assert!(!r.success);
    assert_eq!(r.error.as_deref(), Some("http_500"));
}

#[test]
fn ids_are_deterministic() {
    assert_eq!(
        sofa_trace_id("0a0fe9271567477985327100211176"),
        sofa_trace_id("0a0fe9271567477985327100211176")
    );
    assert_eq!(sofa_trace_id("ABC").0, 0xabc);
    let hashed = sofa_trace_id("not-hex-trace");
    assert_eq!(hashed, sofa_trace_id("not-hex-trace"));
    assert_ne!(hashed, TraceId(0));
    assert_eq!(sofa_trace_id("0000"), sofa_trace_id("0000"));
    assert_ne!(sofa_trace_id("0000").0, 0);
    let (a, pa) = sofa_span_ids("0.1.2").unwrap();
    let (b, pb) = sofa_span_ids("0.1").unwrap();
    assert_eq!(pa, Some(b));
    assert_ne!(a, b);
    assert!(pb.is_some());
    assert_eq!(sofa_span_ids("0").unwrap().1, None);
    for bad in ["", "0..1", "a.b", ".1", "1.", "0.1 "] {
        assert!(sofa_span_ids(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn stat_lines_are_aggregates_not_records() {
    let kind = SofaLogKind::from_file_name("spring-mvc-stat.log").unwrap();
    let SofaLine::Stat(s) =
        decode_sofa_line(STAT.as_bytes(), kind, &SofaOptions::default()).unwrap()
    else {
        panic!("stat line must not become a record")
    };
    assert_eq!(
        (s.count, s.total_cost_us, s.success, s.shadow),
        (5, 149_000, true, false)
    );
    assert_eq!(s.service, "SpringMvcJsonOutput");
    assert_eq!(s.operation, "GET /greeting");
    let roll = s.to_rollup();
    assert_eq!(roll.total_count(), 5);
    let st = roll.series.values().next().unwrap();
    assert_eq!((st.errors, st.latency_us.count()), (0, 5));
    let bad = STAT
        .replace(r#""success":"Y""#, r#""success":"N""#)
        .replace(r#""load.test":"F""#, r#""load.test":"T""#);
    let SofaLine::Stat(s) =
        decode_sofa_line(bad.as_bytes(), kind, &SofaOptions::default()).unwrap()
    else {
        panic!()
    };
    assert!(!s.success && s.shadow);
    assert_eq!(s.to_rollup().series.values().next().unwrap().errors, 5);
}

#[test]
fn bad_lines_name_the_field() {
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        ("not json".into(), None, "malformed_json"),
        ("[1]".into(), None, "malformed_json"),
        (
            CLIENT.replace(r#""tracerId":"1e27326d1526807000498100185597","#, ""),
            Some("tracerId"),
            "missing_field",
        ),
        (
            CLIENT.replace(r#""spanId":"0.1""#, r#""spanId":"x.y""#),
            Some("spanId"),
            "invalid_field",
        ),
        (
            CLIENT.replace(r#""local.app":"SOFATracerRPC","#, ""),
            Some("local.app"),
            "missing_field",
        ),
        (
            CLIENT.replace("2018-05-20 17:03:20.708", "yesterday"),
            Some("timestamp"),
            "invalid_field",
        ),
        (
            CLIENT.replace("2018-05-20 17:03:20.708", "2018-05-20 17:03:2é0.708"),
            Some("timestamp"),
            "invalid_field",
        ),
        (
            CLIENT.replace("2018-05-20 17:03:20.708", "2018-05-20 17:03:20é+08:00"),
            Some("timestamp"),
            "invalid_field",
        ),
        (
            CLIENT.replace(
                r#""client.elapse.time":"155""#,
                r#""client.elapse.time":"fast""#,
            ),
            Some("client.elapse.time"),
            "invalid_field",
        ),
        (
            CLIENT.replace(r#""span.kind":"client""#, r#""span.kind":"sideways""#),
            Some("span.kind"),
            "invalid_field",
        ),
        (
            MVC.replace(r#""time.cost.milliseconds":"5006ms","#, ""),
            Some("time.cost.milliseconds"),
            "missing_field",
        ),
        (
            STAT.replace(r#""count":5"#, r#""count":-5"#),
            Some("count"),
            "missing_field",
        ),
    ];
    for (line, field, label) in cases {
        let kind = if line.contains("stat.key") {
            SofaLogKind::Stat { client: false }
        } else {
            SofaLogKind::RpcClient
        };
        let e = decode_sofa_line(line.as_bytes(), kind, &SofaOptions::default()).unwrap_err();
        assert_eq!(e.field, field, "{line}: {e}");
        assert_eq!(e.label(), label, "{line}: {e}");
    }
}

/// Property: truncations and byte flips of valid lines never panic.
#[test]
fn fuzz_never_panics() {
    let mut rng = SmallRng::seed_from_u64(7);
    for (line, kind) in [
        (CLIENT, SofaLogKind::RpcClient),
        (SERVER, SofaLogKind::RpcServer),
        (MVC, SofaLogKind::SpringMvc),
        (STAT, SofaLogKind::Stat { client: false }),
    ] {
        let b = line.as_bytes();
        for cut in 0..b.len() {
            let _ = decode_sofa_line(&b[..cut], kind, &SofaOptions::default());
        }
        for _ in 0..3000 {
            let mut m = b.to_vec();
            for _ in 0..rng.random_range(1..5) {
                let i = rng.random_range(0..m.len());
                m[i] = rng.random();
            }
            let opts = SofaOptions {
                utc_offset_s: rng.random_range(-50_000..50_000),
            };
            if let Ok(SofaLine::Record(r)) = decode_sofa_line(&m, kind, &opts) {
                assert_ne!(r.trace_id.0, 0);
                assert_ne!(r.span_id.0, 0);
            }
        }
    }
}

#[test]
fn escapes_duplicates_and_trailing_bytes() {
    let escaped = CLIENT.replace(
        r#""local.app":"SOFATracerRPC""#,
        r#""local.app":"cash\u0069er","extra":[1,{"a":[2]}],"local.app":"cash\u0069er2""#,
    );
    let r = record(&escaped, SofaLogKind::RpcClient);
    assert_eq!(
        r.service, "cashier2",
        "escapes decoded, the last duplicate wins"
    );
    let trailing = format!("{CLIENT} x");
    let e = decode_sofa_line(
        trailing.as_bytes(),
        SofaLogKind::RpcClient,
        &SofaOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.label(), "malformed_json");
    let e = decode_sofa_line(
        CLIENT
            .replace(r#""local.app":"SOFATracerRPC""#, r#""local.app":7"#)
            .as_bytes(),
        SofaLogKind::RpcClient,
        &SofaOptions::default(),
    )
    .unwrap_err();
    assert_eq!((e.field, e.label()), (Some("local.app"), "invalid_field"));
}
