//! The tailer wired to the real pipeline (write-ahead buffer, dedup, embedded
//! store): every line of a followed file is stored exactly once, across a
//! tailer restart, and bad lines are counted, not stored.

use collector::Store;
use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, PipelineConfig};
use collector::{TailConfig, Tailer};
use digest::{
    encode_event, encode_record, ChangeEvent, ChangeKind, DigestRecord, ManualClock, SharedClock,
    SpanId, SpanKind, TraceId,
};
use std::io::Write;
use std::sync::Arc;

const T0: u64 = 1_795_784_497_000_000;

fn rec(i: u64) -> DigestRecord {
    DigestRecord {
        time_us: T0 + i,
        trace_id: TraceId(0x7000 + i as u128),
        span_id: SpanId(0x100 + i),
        kind: SpanKind::Server,
        service: "cashier".into(),
        operation: "pay".into(),
        duration_us: 100,
        success: true,
        code: "SUCCESS".into(),
        ..Default::default()
    }
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tailed_lines_are_stored_exactly_once() {
    let dir = std::env::temp_dir().join(format!("wr-tail-pipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(
        EmbeddedStore::open(&dir.join("store"), EmbeddedConfig::default(), clock.clone()).unwrap(),
    );
    let cfg = PipelineConfig {
        data_dir: dir.join("data"),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::open(cfg, store.clone(), clock).unwrap();
    let log = dir.join("cashier-digest.log");
    let mut buf = Vec::new();
    for i in 0..1000 {
        encode_record(&mut buf, &rec(i));
    }
    encode_event(
        &mut buf,
        &ChangeEvent {
            time_us: T0,
            event: ChangeKind::Deploy,
            service: "cashier".into(),
            version: "1.1.0".into(),
            detail: "canary".into(),
            by: "ci".into(),
        },
    );
    buf.extend_from_slice(b"{\"broken\n");
    append(&log, &buf);

    let tcfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.display())],
        dir.join("data/tail-checkpoints.json"),
    );
    let mut t = Tailer::open(tcfg.clone(), pipeline.clone()).unwrap();
    t.poll_once().await.unwrap();
    pipeline.flush().await;
    assert_eq!(store.count().await.unwrap(), 1000);
    assert_eq!(store.events(0, u64::MAX / 2).await.unwrap().len(), 1);
    assert_eq!(t.stats().rejected_by_reason.get("malformed_json"), Some(&1));
    drop(t);

    // Restart the tailer: only the new lines go in.
    let mut more = Vec::new();
    for i in 1000..1500 {
        encode_record(&mut more, &rec(i));
    }
    append(&log, &more);
    let mut t = Tailer::open(tcfg, pipeline.clone()).unwrap();
    t.poll_once().await.unwrap();
    pipeline.flush().await;
    assert_eq!(store.count().await.unwrap(), 1500);
    assert_eq!(
        store.trace(TraceId(0x7000 + 1499)).await.unwrap(),
        vec![rec(1499)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An embedded store that is "down" (`Unavailable`) while the gate is shut.
struct Gated {
    inner: EmbeddedStore,
    open: std::sync::atomic::AtomicBool,
}

impl Store for Gated {
    fn insert<'a>(
        &'a self,
        r: &'a [DigestRecord],
    ) -> collector::BoxFuture<'a, Result<(), collector::StoreError>> {
        Box::pin(async move {
            if !self.open.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(collector::StoreError::Unavailable("gate shut".into()));
            }
            self.inner.insert(r).await
        })
    }
    fn insert_events<'a>(
        &'a self,
        e: &'a [ChangeEvent],
    ) -> collector::BoxFuture<'a, Result<(), collector::StoreError>> {
        self.inner.insert_events(e)
    }
    fn trace(
        &self,
        t: TraceId,
    ) -> collector::BoxFuture<'_, Result<Vec<DigestRecord>, collector::StoreError>> {
        self.inner.trace(t)
    }
    fn query<'a>(
        &'a self,
        q: &'a collector::RecordQuery,
    ) -> collector::BoxFuture<'a, Result<Vec<DigestRecord>, collector::StoreError>> {
        self.inner.query(q)
    }
    fn events(
        &self,
        a: u64,
        b: u64,
    ) -> collector::BoxFuture<'_, Result<Vec<ChangeEvent>, collector::StoreError>> {
        self.inner.events(a, b)
    }
    fn count(&self) -> collector::BoxFuture<'_, Result<u64, collector::StoreError>> {
        self.inner.count()
    }
}

/// Backpressure: while the store is down the pipeline fills up and refuses the
/// tailer (`Busy` → `Refused` with a retry-after); the refused lines are offered
/// again later and stored once, nothing dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_pipeline_refuses_and_the_tailer_retries() {
    let dir = std::env::temp_dir().join(format!("wr-tail-busy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(Gated {
        inner: EmbeddedStore::open(&dir.join("store"), EmbeddedConfig::default(), clock.clone())
            .unwrap(),
        open: false.into(),
    });
    let cfg = PipelineConfig {
        data_dir: dir.join("data"),
        max_pending_records: 150,
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::open(cfg, store.clone(), clock).unwrap();
    for (name, base) in [("a-digest.log", 0u64), ("b-digest.log", 100)] {
        let mut buf = Vec::new();
        for i in base..base + 100 {
            encode_record(&mut buf, &rec(i));
        }
        append(&dir.join(name), &buf);
    }
    let tcfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.display())],
        dir.join("ck.json"),
    );
    let mut t = Tailer::open(tcfg, pipeline.clone()).unwrap();
    let r = t.poll_once().await.unwrap();
    assert!(
        r.refused,
        "the second file's batch is refused while the store is down"
    );
    assert!(r.retry_after_s.is_some());
    assert_eq!(t.stats().records, 100);
    assert_eq!(t.stats().deliveries_refused, 1);
    // Still down: refused again, nothing lost or counted twice.
    assert!(t.poll_once().await.unwrap().refused);
    store.open.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::timeout(std::time::Duration::from_secs(60), pipeline.flush())
        .await
        .unwrap();
    let r = t.poll_once().await.unwrap();
    assert!(!r.refused);
    tokio::time::timeout(std::time::Duration::from_secs(60), pipeline.flush())
        .await
        .unwrap();
    assert_eq!(store.count().await.unwrap(), 200);
    assert_eq!(t.stats().records, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 4 follow-up: the tailer shows in `/api/stats` (`tail`) and `/metrics`
/// (`warroom_collector_tail_*`), and its bad lines count in `records_rejected`
/// and `warroom_collector_rejected_total` like refused HTTP lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tailer_stats_and_rejects_show_in_stats_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(
        EmbeddedStore::open(
            &dir.path().join("store"),
            EmbeddedConfig::default(),
            clock.clone(),
        )
        .unwrap(),
    );
    let cfg = PipelineConfig {
        data_dir: dir.path().join("data"),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::open(cfg, store, clock).unwrap();
    let mut buf = Vec::new();
    for i in 0..10 {
        encode_record(&mut buf, &rec(i));
    }
    buf.extend_from_slice(b"{\"broken\nnot json either\n");
    append(&dir.path().join("cashier-digest.log"), &buf);
    let tcfg = TailConfig::new(
        vec![format!("{}/*-digest.log", dir.path().display())],
        dir.path().join("data/ck.json"),
    );
    let mut t = Tailer::open(tcfg, pipeline.clone()).unwrap();
    pipeline.watch_tailer(t.shared_stats());
    t.poll_once().await.unwrap();
    // A second poll finds nothing new: rejects are not counted twice.
    t.poll_once().await.unwrap();
    pipeline.flush().await;

    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(collector::serve(
        l,
        pipeline.clone(),
        std::future::pending(),
    ));
    let mut c = collector::bench::Conn::connect(addr).await.unwrap();
    let r = c.request("GET", "/api/stats", &[], b"").await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["records_stored"], 10);
    assert_eq!(v["records_rejected"], 2, "{v}");
    assert_eq!(v["rejected_by_reason"]["malformed_json"], 2);
    assert_eq!(v["tail"]["files_followed"], 1);
    assert_eq!(v["tail"]["records"], 10);
    assert_eq!(v["tail"]["rejected_total"], 2);
    assert_eq!(v["tail"]["recent_bad_lines"].as_array().unwrap().len(), 2);
    let r = c.request("GET", "/metrics", &[], b"").await.unwrap();
    let text = String::from_utf8(r.body).unwrap();
    for want in [
        "warroom_collector_rejected_total{reason=\"malformed_json\"} 2",
        "warroom_collector_tail_files_followed 1",
        "warroom_collector_tail_records_total 10",
        "warroom_collector_tail_rejected_total{reason=\"malformed_json\"} 2",
        "warroom_collector_tail_rotations_total 0",
    ] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
}
