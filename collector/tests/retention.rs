//! Retention over real HTTP (issue 14): after more records than the memory window,
//! the first traces are still found (from the store's files), also after a restart;
//! a record from yesterday (inside 7 d) is stored and found; one older than the
//! retention is acknowledged, counted and reported in the answer, not stored; age
//! by arrival evicts whole segments and counts them in `/api/stats` and `/metrics`;
//! the in-memory record count never exceeds its cap while the disk holds more.

mod common;

use collector::bench::{Conn, HttpReply};
use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, Store};
use common::*;
use digest::{record_to_line, DigestRecord, ManualClock, SharedClock};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

const DAY_US: u64 = 86_400_000_000;

struct Running {
    addr: SocketAddr,
    pipeline: Pipeline,
    store: Arc<EmbeddedStore>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn store_config() -> EmbeddedConfig {
    EmbeddedConfig {
        max_records: 500,
        segment_bytes: 32 << 10,
        max_age_s: Some(7 * 86_400),
        ..EmbeddedConfig::default()
    }
}

async fn start(dir: &Path, clock: &ManualClock) -> Running {
    let shared: SharedClock = Arc::new(clock.clone());
    let store =
        Arc::new(EmbeddedStore::open(&dir.join("store"), store_config(), shared.clone()).unwrap());
    let mut cfg = config(dir);
    cfg.retention_s = Some(7 * 86_400);
    let p = Pipeline::open(cfg, store.clone(), shared).unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(collector::serve(l, p.clone(), async {
        let _ = rx.await;
    }));
    Running {
        addr,
        pipeline: p,
        store,
        stop,
        server,
    }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> HttpReply {
    let mut c = Conn::connect(addr).await.unwrap();
    c.request(method, path, &[], body).await.unwrap()
}

fn json(r: &HttpReply) -> serde_json::Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

async fn post(addr: SocketAddr, rs: &[DigestRecord]) -> serde_json::Value {
    let body: String = rs.iter().map(record_to_line).collect();
    let r = request(addr, "POST", "/v1/digest", body.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    json(&r)
}

async fn trace_len(addr: SocketAddr, t: u128) -> usize {
    let r = request(addr, "GET", &format!("/api/traces/{t:032X}"), b"").await;
    assert_eq!(r.status, 200);
    json(&r).as_array().unwrap().len()
}

/// Stats once everything acknowledged is stored (the writer task stores asynchronously).
async fn stored(run: &Running) -> serde_json::Value {
    run.pipeline.flush().await;
    json(&request(run.addr, "GET", "/api/stats", b"").await)
}

#[tokio::test]
async fn first_traces_survive_the_memory_window_and_a_restart_and_retention_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let run = start(dir.path(), &clock).await;
    let addr = run.addr;
    for t in 1..=20u128 {
        assert_eq!(post(addr, &recs(t, 100)).await["accepted"], 100);
        assert!(run.store.len() <= 500, "memory holds {}", run.store.len());
    }
    // Backfill from yesterday: kept. From eight days ago: outside the 7 d retention.
    let yesterday = rec(9_001, 1, T0 - DAY_US);
    let v = post(addr, &[yesterday]).await;
    assert_eq!(v["accepted"], 1);
    assert!(v.get("outside_retention").is_none(), "{v}");
    let too_old = [
        rec(9_002, 1, T0 - 8 * DAY_US),
        rec(9_002, 2, T0 - 9 * DAY_US),
    ];
    let v = post(addr, &too_old).await;
    assert_eq!(
        (v["accepted"].as_u64(), v["outside_retention"].as_u64()),
        (Some(2), Some(2))
    );

    let stats = stored(&run).await;
    assert_eq!(stats["records_stored"], 2_001);
    assert_eq!(stats["outside_retention"], 2);
    let r = &stats["retention"];
    assert!(r["memory_records"].as_u64().unwrap() <= 500, "{r}");
    assert_eq!(r["disk_records"], 2_001);
    assert_eq!(r["evicted_age_records"], 0);
    assert_eq!(trace_len(addr, 1).await, 100, "the first trace, from disk");
    assert_eq!(trace_len(addr, 20).await, 100);
    assert_eq!(trace_len(addr, 9_001).await, 1, "yesterday's record");
    assert_eq!(trace_len(addr, 9_002).await, 0);
    let first_minute = format!(
        "/api/records?from_us={T0}&to_us={}&limit=10000",
        T0 + 60_000_000
    );
    let r = request(addr, "GET", &first_minute, b"").await;
    assert_eq!(json(&r).as_array().unwrap().len(), 2_000);
    let m = String::from_utf8(request(addr, "GET", "/metrics", b"").await.body).unwrap();
    for line in [
        "warroom_collector_outside_retention_total 2",
        "warroom_collector_store_disk_records 2001",
        "warroom_collector_store_evicted_records_total{reason=\"age\"} 0",
        "warroom_collector_store_evicted_bytes_total{reason=\"size\"} 0",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
    run.stop().await;

    // Restart: the files and their indexes are found again, memory still bounded.
    let run = start(dir.path(), &clock).await;
    let addr = run.addr;
    assert!(
        run.store.len() <= 500,
        "memory after restart: {}",
        run.store.len()
    );
    assert_eq!(run.store.count().await.unwrap(), 2_001);
    assert_eq!(trace_len(addr, 1).await, 100);
    assert_eq!(trace_len(addr, 9_001).await, 1);

    // Eight days later every sealed segment arrived before the retention: deleted, counted.
    clock.advance_secs(8 * 86_400);
    let now = T0 + 8 * DAY_US;
    let fresh: Vec<_> = (1..=10).map(|s| rec(77, s, now + s)).collect();
    post(addr, &fresh).await;
    let stats = stored(&run).await;
    assert_eq!(stats["records_stored"], 10);
    let r = &stats["retention"];
    assert_eq!(r["evicted_age_records"], 2_001, "{r}");
    assert!(r["evicted_age_bytes"].as_u64().unwrap() > 0);
    assert_eq!(trace_len(addr, 1).await, 0);
    assert_eq!(trace_len(addr, 77).await, 10);
    let m = String::from_utf8(request(addr, "GET", "/metrics", b"").await.body).unwrap();
    assert!(m.contains("warroom_collector_store_evicted_records_total{reason=\"age\"} 2001"));
    run.stop().await;
}
