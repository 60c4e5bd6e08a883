//! `replay::replay` on real files: a hand-built recording of a system that is not
//! payments-sim (other names, a few dozen calls a second, an error burst on one service)
//! names that service; the same records shuffled within the reorder window, split over two
//! files or gzipped give the same incidents; bad lines, an unknown format and a truncated
//! gzip are counted and reported by file and line while the replay goes on; a missing file
//! is an error.

use digest::{encode_record, DigestRecord, Keys, SpanId, SpanKind, TraceId};
use replay::{BadInput, IncidentReport, ReplayOptions, Summary};
use std::io::Write;
use std::path::{Path, PathBuf};

/// 2026-03-01T00:00:00Z
const T0: u64 = 1_772_323_200_000_000;
const HEALTHY_S: u64 = 90;
const FAULT_S: u64 = 20;
const PER_S: u64 = 30;

/// One span: `(trace, span, parent)` ids, its kind, service and peer, success.
fn rec(
    t: u64,
    (trace, span, parent): (u128, u64, Option<u64>),
    kind: SpanKind,
    svc: &str,
    peer: &str,
    ok: bool,
) -> DigestRecord {
    let mut keys = Keys::new();
    keys.insert("user".into(), format!("u{}", trace % 500));
    DigestRecord {
        time_us: t,
        trace_id: TraceId(trace),
        span_id: SpanId(span),
        parent_span_id: parent.map(SpanId),
        kind,
        service: svc.into(),
        instance: format!("{svc}-1"),
        zone: "eu-1".into(),
        operation: format!("{svc}.handle"),
        peer: peer.into(),
        duration_us: 3_000 + (trace as u64 % 7) * 500,
        success: ok,
        code: if ok {
            "OK".into()
        } else {
            "UNAVAILABLE".into()
        },
        error: (!ok).then(|| "Unavailable".into()),
        scene: "checkout".into(),
        channel: String::new(),
        shadow: false,
        version: "1.0.0".into(),
        keys,
        amount_cents: Some(1_500),
        sql_count: None,
    }
}

/// storefront → basket → stockroom, `PER_S` requests a second; from `HEALTHY_S` on,
/// stockroom fails 70 % of its calls for `FAULT_S` seconds (and its callers with it).
fn recording() -> Vec<DigestRecord> {
    let mut out = Vec::new();
    let step = 1_000_000 / PER_S;
    for i in 0..(HEALTHY_S + FAULT_S) * PER_S {
        let t = T0 + i * step;
        let trace = 0xabc0_0000_0000_0000_0000_0000_0000_0000u128 + i as u128;
        let faulty = t >= T0 + HEALTHY_S * 1_000_000 && i % 10 < 7;
        let s = i * 8 + 1;
        out.push(rec(
            t,
            (trace, s, None),
            SpanKind::Server,
            "storefront",
            "",
            !faulty,
        ));
        out.push(rec(
            t + 100,
            (trace, s + 1, Some(s)),
            SpanKind::Client,
            "storefront",
            "basket",
            !faulty,
        ));
        out.push(rec(
            t + 200,
            (trace, s + 2, Some(s + 1)),
            SpanKind::Server,
            "basket",
            "storefront",
            !faulty,
        ));
        out.push(rec(
            t + 300,
            (trace, s + 3, Some(s + 2)),
            SpanKind::Client,
            "basket",
            "stockroom",
            !faulty,
        ));
        out.push(rec(
            t + 400,
            (trace, s + 4, Some(s + 3)),
            SpanKind::Server,
            "stockroom",
            "basket",
            !faulty,
        ));
    }
    out
}

fn lines(records: &[DigestRecord]) -> Vec<u8> {
    let mut b = Vec::new();
    for r in records {
        encode_record(&mut b, r);
    }
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

struct Run {
    incidents: Vec<IncidentReport>,
    bad: Vec<BadInput>,
    summary: Summary,
}

fn run(files: &[PathBuf], o: &ReplayOptions) -> Run {
    let (mut incidents, mut bad) = (Vec::new(), Vec::new());
    let summary = replay::replay(files, o, &mut |r| incidents.push(r.clone()), &mut |b| {
        bad.push(b.clone())
    })
    .expect("replay");
    Run {
        incidents,
        bad,
        summary,
    }
}

/// The one incident the burst must open, blamed on stockroom.
fn stockroom_incident(r: &Run) -> &IncidentReport {
    let names: Vec<String> = r
        .incidents
        .iter()
        .map(|i| format!("{:?} {:?}", i.root_cause.kind, i.root_cause.service))
        .collect();
    assert_eq!(r.incidents.len(), 1, "one incident, not {names:?}");
    let i = &r.incidents[0];
    assert_eq!(
        i.root_cause.service.as_deref(),
        Some("stockroom"),
        "{names:?}"
    );
    let fault_us = T0 + HEALTHY_S * 1_000_000;
    assert!(
        i.opened >= fault_us && i.opened < fault_us + 1_000_000,
        "opened {}",
        i.opened_at
    );
    assert!(
        i.detected >= i.opened && i.detection_delay_s <= 3.0,
        "detected after {} s",
        i.detection_delay_s
    );
    assert!(i.impact.failed_payments > 0, "{:?}", i.impact);
    i
}

#[test]
fn an_error_burst_in_another_system_is_blamed_on_its_service() {
    let dir = tempfile::tempdir().unwrap();
    let recs = recording();
    let f = write(dir.path(), "shop.jsonl", &lines(&recs));
    let r = run(&[f], &ReplayOptions::default());
    stockroom_incident(&r);
    assert_eq!(r.summary.records, recs.len() as u64);
    assert_eq!(r.summary.rejected, 0);
    assert!(r.bad.is_empty());
    assert_eq!(r.summary.incidents, 1);
    // The clock followed the records: ~110 s of record time, one tick per 100 ms.
    assert!(
        (r.summary.record_secs - (HEALTHY_S + FAULT_S) as f64).abs() < 1.0,
        "{:?}",
        r.summary
    );
    assert!(
        r.summary.ticks >= (HEALTHY_S + FAULT_S) * 10,
        "{:?}",
        r.summary
    );
}

#[test]
fn out_of_order_split_and_gzipped_inputs_give_the_same_incident() {
    let dir = tempfile::tempdir().unwrap();
    let recs = recording();
    let base = run(
        &[write(dir.path(), "a.jsonl", &lines(&recs))],
        &ReplayOptions::default(),
    );
    let want = stockroom_incident(&base).clone();
    // Exporter-style batches: each 2 s of records written newest first.
    let mut shuffled = Vec::new();
    for chunk in recs.chunks((2 * PER_S * 5) as usize) {
        shuffled.extend(chunk.iter().rev().cloned());
    }
    // Two files (one per half of the services), the second gzipped.
    let (front, back): (Vec<_>, Vec<_>) = shuffled
        .into_iter()
        .partition(|r| r.service == "storefront");
    let files = [
        write(dir.path(), "front.jsonl", &lines(&front)),
        write(dir.path(), "back.jsonl.gz", &gzip(&lines(&back))),
    ];
    let r = run(&files, &ReplayOptions::default());
    let got = stockroom_incident(&r);
    assert_eq!(r.summary.records, recs.len() as u64);
    assert_eq!(r.summary.out_of_window, 0, "{:?}", r.summary);
    assert_eq!(got.root_cause, want.root_cause);
    assert_eq!(
        (got.opened, got.detected, got.closed),
        (want.opened, want.detected, want.closed)
    );
}

#[test]
fn bad_lines_unknown_formats_and_a_truncated_gzip_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let recs = recording();
    let mut text = lines(&recs);
    // Line 3 is not JSON; line 5 misses its service; both are skipped, the rest replayed.
    let mut with_bad = Vec::new();
    for (n, l) in text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        match n + 1 {
            3 => with_bad.extend_from_slice(b"this is not a record\n"),
            5 => with_bad.extend_from_slice(br#"{"time":"2026-03-01T00:00:00.000000Z","trace_id":"0000000000000000000000000000000a","span_id":"000000000000000b","kind":"server","operation":"x","duration_us":1,"success":true}"#),
            _ => {}
        }
        if n + 1 == 5 {
            with_bad.push(b'\n');
        }
        with_bad.extend_from_slice(l);
        with_bad.push(b'\n');
    }
    let good = write(dir.path(), "shop.jsonl", &with_bad);
    let unknown = write(dir.path(), "blob.bin", b"\x00\x01\x02 not a log\nmore\n");
    // The last third of a gzipped copy cut off.
    text.truncate(text.len() / 10);
    let gz = gzip(&text);
    let truncated = write(dir.path(), "cut.jsonl.gz", &gz[..gz.len() * 2 / 3]);
    let r = run(
        &[good.clone(), unknown.clone(), truncated.clone()],
        &ReplayOptions::default(),
    );
    stockroom_incident(&r);
    let on = |f: &PathBuf| {
        r.bad
            .iter()
            .filter(|b| b.file == f.display().to_string())
            .collect::<Vec<_>>()
    };
    let g = on(&good);
    assert_eq!(
        g.iter().map(|b| b.line).collect::<Vec<_>>(),
        [3, 6],
        "{:?}",
        r.bad
    );
    assert!(g[1].reason.contains("service"), "{}", g[1].reason);
    let u = on(&unknown);
    assert_eq!(u.len(), 1, "{:?}", r.bad);
    assert!(
        u[0].reason.contains("unknown format") && u[0].rejected == 2,
        "{:?}",
        u[0]
    );
    let t = on(&truncated);
    assert_eq!(t.len(), 1, "{:?}", r.bad);
    assert!(t[0].reason.contains("gzip") && t[0].line > 1, "{:?}", t[0]);
    assert_eq!(r.summary.rejected, 2 + 2 + 1, "{:?}", r.summary);
    // The good file's records all went through; the truncated copy's intact part too.
    assert!(r.summary.records > recs.len() as u64, "{:?}", r.summary);
}

#[test]
fn a_missing_file_fails_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "ok.jsonl", &lines(&recording()[..10]));
    let missing = dir.path().join("nope.jsonl");
    let mut seen = 0;
    let e = replay::replay(
        &[f, missing.clone()],
        &ReplayOptions::default(),
        &mut |_| seen += 1,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("nope.jsonl"), "{e}");
    assert_eq!(seen, 0);
}

#[test]
fn otlp_json_lines_are_replayed_through_the_collector_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = Vec::new();
    for i in 0..50u64 {
        let start = T0 + i * 100_000_000_000 / 100_000;
        let span = |svc: &str, kind: u8, sid: u64| {
            format!(
                r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{svc}"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:016x}","name":"GET /","kind":{kind},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","status":{{}}}}]}}]}}"#,
                i + 1,
                sid,
                start * 1000,
                (start + 2_000) * 1000
            )
        };
        body.extend_from_slice(
            format!(
                r#"{{"resourceSpans":[{},{}]}}"#,
                span("catalog", 2, i * 2 + 1),
                span("pricing", 2, i * 2 + 2)
            )
            .as_bytes(),
        );
        body.push(b'\n');
    }
    body.extend_from_slice(b"{\"resourceSpans\": 7}\n");
    let f = write(dir.path(), "traces.json", &body);
    let r = run(std::slice::from_ref(&f), &ReplayOptions::default());
    assert_eq!(r.summary.records, 100, "{:?} {:?}", r.summary, r.bad);
    assert_eq!(r.summary.rejected, 1);
    assert_eq!(r.bad[0].line, 51, "{:?}", r.bad);
    assert!(r.incidents.is_empty());
}

#[test]
fn plans_are_matched_as_the_healer_would_without_acting() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "shop.jsonl", &lines(&recording()));
    let plan = |name: &str, priority: i32, target: &str, exclude: &str| {
        healer::parse_plan(&format!(
            "name = \"{name}\"\ndescription = \"d\"\npriority = {priority}\n[trigger]\nkind = [\"errors\", \"latency\"]\ntarget = \"{target}\"\nexclude = [{exclude}]\n[[steps]]\nexecutor = \"webhook\"\ncall = {{ name = \"restart\", body = {{ service = \"{{target}}\" }} }}\n"
        ))
        .unwrap()
    };
    let o = ReplayOptions {
        plans: Some(vec![
            plan("restart-any", 1, "service:*", ""),
            // Higher priority, but not for stockroom.
            plan("restart-others", 5, "service:*", "\"service:stockroom\""),
            plan("restart-stockroom", 3, "service:stockroom", ""),
        ]),
        ..ReplayOptions::default()
    };
    let r = run(std::slice::from_ref(&f), &o);
    let i = stockroom_incident(&r);
    let p = i
        .plan
        .clone()
        .expect("plans given")
        .expect("a plan answers");
    assert_eq!(p.name, "restart-stockroom");
    assert_eq!(p.target, "service:stockroom");
    // None answers: `plan` is null; without plans it is absent.
    let o = ReplayOptions {
        plans: Some(vec![plan(
            "restart-others",
            5,
            "service:*",
            "\"service:stockroom\"",
        )]),
        ..ReplayOptions::default()
    };
    let none = run(std::slice::from_ref(&f), &o);
    assert_eq!(stockroom_incident(&none).plan, Some(None));
    let json = serde_json::to_value(stockroom_incident(&none)).unwrap();
    assert!(
        json["plan"].is_null() && json.get("plan").is_some(),
        "{json}"
    );
    let without = run(&[f], &ReplayOptions::default());
    let json = serde_json::to_value(stockroom_incident(&without)).unwrap();
    assert!(json.get("plan").is_none(), "{json}");
}

#[test]
fn sofatracer_logs_are_read_by_their_names_in_their_zone() {
    let dir = tempfile::tempdir().unwrap();
    let server = r#"{"timestamp":"2018-05-20 17:00:5S.312","tracerId":"1e27326d152680685303210018501T","spanId":"0.1.2","span.kind":"server","service":"com.example.DirectService:1.0","method":"sayDirect","remote.ip":"127.0.0.1","remote.app":"caller","protocol":"bolt","local.app":"samples","result.code":"00","server.pool.wait.time":"3","biz.impl.time":"1","resp.size":"170","req.size":"582"}"#;
    let mut log = String::new();
    for (s, t) in [("3", "1"), ("4", "2"), ("5", "3")] {
        log.push_str(
            &server
                .replace("5S", &format!("5{s}"))
                .replace("501T", &format!("501{t}")),
        );
        log.push('\n');
    }
    log.push_str("{\"timestamp\":\"2018-05-20 17:00:56.000\",\"local.app\":\"samples\"}\n");
    let stat = r#"{"time":"2018-05-20 17:01:00.000","stat.key":{"request.url":"http://localhost/x","local.app":"samples","method":"GET"},"count":5,"total.cost.milliseconds":149,"success":"Y","load.test":"F"}"#;
    let files = [
        write(dir.path(), "rpc-server-digest.log", log.as_bytes()),
        write(
            dir.path(),
            "spring-mvc-stat.log.2018-05-20",
            format!("{stat}\n").as_bytes(),
        ),
    ];
    let o = ReplayOptions {
        sofa: collector::SofaOptions {
            utc_offset_s: 8 * 3600,
        },
        ..ReplayOptions::default()
    };
    let r = run(&files, &o);
    assert_eq!(r.summary.records, 3, "{:?} {:?}", r.summary, r.bad);
    assert_eq!(r.summary.stat_lines, 1, "{:?}", r.summary);
    assert_eq!(r.summary.rejected, 1, "{:?}", r.bad);
    assert_eq!(r.bad[0].line, 4, "{:?}", r.bad);
    // 17:00:53 at UTC+8 is 09:00:53Z.
    let from = digest::format_rfc3339(r.summary.from.unwrap());
    assert!(from.starts_with("2018-05-20T09:00:5"), "{from}");
}
