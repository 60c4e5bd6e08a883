use super::buffer::Queue;
use super::*;
use crate::codec::{decode_line, Line};
use crate::record::{ChangeKind, SpanKind};
use crate::{SpanId, TraceId};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

fn rec(service: &str, i: u64) -> DigestRecord {
    DigestRecord {
        time_us: 1_767_225_600_000_000 + i,
        trace_id: TraceId(i as u128 + 1),
        span_id: SpanId(i + 1),
        kind: SpanKind::Server,
        service: service.into(),
        operation: "op".into(),
        duration_us: 10,
        success: true,
        code: "SUCCESS".into(),
        ..Default::default()
    }
}

fn event() -> ChangeEvent {
    ChangeEvent {
        time_us: 1_767_225_600_000_000,
        event: ChangeKind::Deploy,
        service: "trade".into(),
        version: "2.0.0".into(),
        detail: "release".into(),
        by: "ci".into(),
    }
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("digest-sink-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn file_sink_writes_per_service_and_rotates() {
    let dir = tmpdir("rotate");
    let sink = FileSink::start(FileSinkConfig {
        dir: dir.clone(),
        max_bytes: 2000,
        keep: 2,
        ..Default::default()
    })
    .unwrap();
    for i in 0..40 {
        sink.record(&rec(if i % 2 == 0 { "cashier" } else { "trade" }, i));
        if i % 5 == 0 {
            assert!(sink.flush(Duration::from_secs(10)));
        }
    }
    sink.event(&event());
    assert!(sink.flush(Duration::from_secs(10)));
    let st = sink.stats();
    assert_eq!(
        (st.lines, st.events, st.delivered, st.dropped),
        (40, 1, 41, 0)
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.contains(&"cashier-digest.log".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"cashier-digest.log.1".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"change-events.log".to_string()));
    assert!(
        !names.iter().any(|n| n.ends_with(".3")),
        "keep=2: {names:?}"
    );
    for n in &names {
        let body = std::fs::read(dir.join(n)).unwrap();
        assert!(body.len() as u64 <= 2000 + 400, "{n} too big");
        for l in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match decode_line(l).unwrap() {
                Line::Record(r) => assert!(n.starts_with(&r.service)),
                Line::Event(e) => assert_eq!(e, event()),
            }
        }
    }
    sink.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn full_queue_drops_and_counts() {
    let q = Queue::new(1000);
    let line = [b'x'; 300];
    for _ in 0..5 {
        q.push_line("a", &line);
    }
    let s = q.counters.snapshot();
    assert_eq!((s.lines, s.dropped), (3, 2));
}

#[test]
fn file_sink_refuses_bad_config() {
    let e = FileSink::start(FileSinkConfig {
        dir: tmpdir("bad"),
        max_bytes: 0,
        ..Default::default()
    });
    assert!(matches!(
        e,
        Err(SinkError::Config {
            field: "max_bytes",
            ..
        })
    ));
}

#[test]
fn chunks_keep_whole_lines() {
    let buf = b"aaaa\nbbbb\ncccc\nd\n";
    let c = http::chunks_for_test(buf, 10);
    let joined: Vec<u8> = c.iter().flat_map(|(b, _)| b.clone()).collect();
    assert_eq!(joined, buf);
    assert_eq!(c.iter().map(|(_, n)| n).sum::<u64>(), 4);
    assert!(c.iter().all(|(b, _)| b.ends_with(b"\n")));
    assert!(c.iter().all(|(b, _)| b.len() <= 10));
}

/// A tiny real HTTP server: answers each request with the next status of `plan`
/// (then 200s), and hands `(path, body)` of every request to the returned channel.
fn server(plan: Vec<u16>) -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut plan = plan.into_iter();
        for conn in l.incoming() {
            let Ok(mut c) = conn else { return };
            let mut r = BufReader::new(c.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let status = plan.next().unwrap_or(200);
            let _ = write!(
                c,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if tx.send((path, body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

fn shipper(url: String) -> HttpShipper {
    HttpShipper::start(HttpShipperConfig {
        url,
        batch_bytes: 4096,
        max_retries: 3,
        backoff_initial_ms: 1,
        backoff_max_ms: 4,
        flush_interval_ms: 5,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn shipper_retries_then_delivers_every_line() {
    let (url, rx) = server(vec![503, 503]);
    let s = shipper(url);
    for i in 0..50 {
        s.record(&rec("trade", i));
    }
    s.event(&event());
    assert!(s.flush(Duration::from_secs(20)));
    let st = s.stats();
    assert_eq!(st.delivered, 51, "{st:?}");
    assert!(st.retries >= 2, "{st:?}");
    assert_eq!(st.dropped, 0);
    s.close();
    let got: Vec<(String, Vec<u8>)> = rx.try_iter().collect();
    let mut digest_lines = std::collections::HashSet::new();
    let mut events = 0;
    for (path, body) in &got {
        for l in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match (path.as_str(), decode_line(l).unwrap()) {
                ("/v1/digest", Line::Record(r)) => {
                    digest_lines.insert(r.span_id);
                }
                ("/v1/events", Line::Event(_)) => events += 1,
                (p, _) => panic!("line on wrong path {p}"),
            }
        }
    }
    assert_eq!(digest_lines.len(), 50);
    assert!(events >= 1);
}

#[test]
fn shipper_counts_refused_batches_and_unreachable_collector() {
    let (url, _rx) = server(vec![400]);
    let s = shipper(url);
    s.record(&rec("trade", 1));
    assert!(s.flush(Duration::from_secs(20)));
    assert_eq!(s.stats().rejected, 1);
    s.close();

    // A port nobody listens on: retried, then dropped and counted.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let s = shipper(url);
    s.record(&rec("trade", 1));
    assert!(s.flush(Duration::from_secs(20)));
    let st = s.stats();
    assert_eq!((st.dropped, st.retries, st.delivered), (1, 3, 0));
}

#[test]
fn shipper_refuses_bad_url() {
    let e = HttpShipper::start(HttpShipperConfig {
        url: "https://example".into(),
        ..Default::default()
    });
    assert!(matches!(e, Err(SinkError::Config { field: "url", .. })));
}

#[test]
fn discard_sink_counts_every_line_from_every_thread() {
    let sink = Arc::new(DiscardSink::new());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let sink = sink.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    sink.line("svc", &vec![b'x'; t + 1]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let st = sink.stats();
    assert_eq!((st.lines, st.delivered, st.dropped), (8000, 8000, 0));
    assert_eq!(sink.bytes(), (1..=8).map(|n| n * 1000).sum::<u64>());
}
