//! The pipeline driven without sockets: durability before acknowledgement,
//! replay after a restart, dedup, backpressure and the rollup subscription.

mod common;

use collector::IngestError;
use common::*;
use digest::{RollupBuilder, SecondRollup};
use std::time::Duration;

/// Waits (bounded) until the store holds `n` records.
async fn wait_count(p: &collector::Pipeline, n: u64) -> u64 {
    for _ in 0..500 {
        let c = p.store().count().await.unwrap();
        if c >= n {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    p.store().count().await.unwrap()
}

#[tokio::test]
async fn stores_what_it_acknowledges_and_drops_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _store, _clock) = pipeline(dir.path(), config(dir.path()), true);
    let r = p.ingest_records(recs(1, 500)).await.unwrap();
    assert_eq!(r.accepted, 500);
    // A client retry of the same batch, and an overlapping one.
    p.ingest_records(recs(1, 500)).await.unwrap();
    p.ingest_records(recs(1, 600)).await.unwrap();
    p.flush().await;
    assert_eq!(p.store().count().await.unwrap(), 600);
    let m = p.metrics();
    assert_eq!(
        m.duplicates_dropped
            .load(std::sync::atomic::Ordering::Relaxed),
        1000
    );
    let trace = p.store().trace(digest::TraceId(1)).await.unwrap();
    assert_eq!(trace.len(), 600);
    assert!(trace.windows(2).all(|w| w[0].time_us <= w[1].time_us));
}

#[tokio::test]
async fn replays_unconfirmed_batches_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        // The store is down: everything stays in the write-ahead buffer.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let d = dir.path().to_path_buf();
        std::thread::spawn(move || {
            rt.block_on(async {
                let (p, _store, _c) = pipeline(&d, config(&d), false);
                for t in 1..=4 {
                    p.ingest_records(recs(t, 250)).await.unwrap();
                }
                p.ingest_events(vec![digest::ChangeEvent {
                    time_us: T0,
                    event: digest::ChangeKind::Deploy,
                    service: "trade".into(),
                    version: "2.1".into(),
                    detail: "canary".into(),
                    by: "ci".into(),
                }])
                .await
                .unwrap();
                assert_eq!(p.store().count().await.unwrap(), 0);
            });
            // Dropping the runtime kills the writer mid-retry, like a crash.
        })
        .join()
        .unwrap();
    }
    let (p, _store, _c) = pipeline(dir.path(), config(dir.path()), true);
    assert_eq!(wait_count(&p, 1000).await, 1000);
    p.flush().await;
    let ev = p.store().events(0, u64::MAX).await.unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        p.metrics()
            .replayed_records
            .load(std::sync::atomic::Ordering::Relaxed),
        1000
    );
    drop(p);
    // Confirmed batches are not replayed again: the count stays exact.
    let (p, _store, _c) = pipeline(dir.path(), config(dir.path()), true);
    p.flush().await;
    assert_eq!(p.store().count().await.unwrap(), 1000);
    assert_eq!(
        p.metrics()
            .replayed_records
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_with_busy_when_full_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.max_pending_records = 1_000;
    let (p, store, _c) = pipeline(dir.path(), cfg, false);
    let mut acked = 0u64;
    let mut busy = 0;
    for t in 1..=20u128 {
        match p.ingest_records(recs(t, 300)).await {
            Ok(r) => acked += r.accepted as u64,
            Err(IngestError::Busy {
                retry_after_s,
                pending,
                limit,
            }) => {
                busy += 1;
                assert!(retry_after_s >= 1);
                assert!(pending <= limit);
            }
            Err(e) => panic!("unexpected {e}"),
        }
        // Memory bound: never more than the limit plus one batch waits.
        let pending = p
            .metrics()
            .pending_records
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(pending <= 1_000, "{pending} pending");
    }
    assert_eq!(acked, 900);
    assert_eq!(busy, 17);
    // The writer keeps retrying the shut store (bounded wait for its first failure).
    for _ in 0..500 {
        if p.metrics()
            .store_errors
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(p.store().count().await.unwrap(), 0);
    store.set_open(true);
    assert_eq!(wait_count(&p, acked).await, acked);
    p.flush().await;
    assert_eq!(p.store().count().await.unwrap(), acked);
    assert!(
        p.metrics()
            .store_errors
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    // Once drained, ingest is accepted again.
    p.ingest_records(recs(99, 10)).await.unwrap();
}

#[tokio::test]
async fn publishes_closed_seconds_equal_to_the_reference_rollup() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _store, clock) = pipeline(dir.path(), config(dir.path()), true);
    let mut rollups = p.bus().subscribe_rollups();
    let mut records = p.bus().subscribe_records();
    let batch: Vec<_> = (1..=3_000u64).map(|s| rec(7, s, T0 + s * 1_000)).collect();
    let mut reference = RollupBuilder::default();
    batch.iter().for_each(|r| reference.add(r));
    p.ingest_records(batch).await.unwrap();
    p.flush().await;
    // Nothing is closed while the clock stands at T0.
    assert!(rollups.try_recv().is_none());
    clock.advance_secs(10);
    p.flush().await;
    let mut got: Vec<SecondRollup> = Vec::new();
    while let Some(r) = rollups.try_recv() {
        got.push((*r).clone());
    }
    assert_eq!(got, reference.take_all());
    let mut n = 0;
    while let Some(b) = records.try_recv() {
        n += b.len();
    }
    assert_eq!(n, 3_000);
    // A late record for a closed second comes out as a further partial.
    p.ingest_records(vec![rec(8, 1, T0 + 500)]).await.unwrap();
    p.flush().await;
    let late = rollups.try_recv().expect("late partial");
    assert_eq!((late.second, late.total_count()), (T0 / 1_000_000, 1));
    assert_eq!(
        p.metrics()
            .late_records
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn raw_lines_reach_the_embedded_store_and_reload_the_same() {
    use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, Store};
    use digest::record_to_line;
    let dir = tempfile::tempdir().unwrap();
    let clock: digest::SharedClock = std::sync::Arc::new(digest::ManualClock::new(T0));
    let open = || {
        std::sync::Arc::new(
            EmbeddedStore::open(
                &dir.path().join("store"),
                EmbeddedConfig::default(),
                clock.clone(),
            )
            .unwrap(),
        )
    };
    let a = recs(11, 3);
    let b = recs(12, 2);
    {
        let p = Pipeline::open(config(dir.path()), open(), clock.clone()).unwrap();
        // CRLF, a blank line, no final newline: the body goes to the WAL and store as is.
        let body_a: String = a
            .iter()
            .map(|r| record_to_line(r).replace('\n', "\r\n"))
            .collect();
        let body_a = format!("{body_a}\n   \n");
        p.ingest_lines(body_a.as_bytes(), a.clone()).unwrap();
        let body_b: String = b.iter().map(record_to_line).collect();
        p.ingest_lines(body_b.trim_end().as_bytes(), b.clone())
            .unwrap();
        // A retried batch: duplicates dropped, so its lines are not used.
        p.ingest_lines(body_b.as_bytes(), b.clone()).unwrap();
        // Lines that do not match the records: refused, nothing acknowledged.
        let accepted = p
            .metrics()
            .records_accepted
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(matches!(
            p.ingest_lines(body_b.as_bytes(), recs(13, 3)),
            Err(IngestError::LinesMismatch {
                lines: 2,
                records: 3
            })
        ));
        assert_eq!(
            p.metrics()
                .records_accepted
                .load(std::sync::atomic::Ordering::Relaxed),
            accepted
        );
        p.flush().await;
        assert_eq!(p.store().count().await.unwrap(), 5);
    }
    let store = open();
    assert_eq!(store.count().await.unwrap(), 5);
    assert_eq!(store.trace(digest::TraceId(11)).await.unwrap(), a);
    assert_eq!(store.trace(digest::TraceId(12)).await.unwrap(), b);
}

/// Issue 4 follow-up: the duplicate window survives a restart. A client that
/// re-sends a batch acknowledged before the restart (stored, or still only in
/// the write-ahead buffer) does not get it stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_restart_is_still_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stats = |p: &collector::Pipeline| {
        let m = p.metrics();
        m.duplicates_dropped
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    {
        let (p, _s, _c) = pipeline(d, config(d), true);
        p.ingest_records(recs(1, 300)).await.unwrap();
        p.flush().await;
        assert_eq!(p.store().count().await.unwrap(), 300);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    {
        // Stored before the restart: the window is rebuilt from the store.
        let (p, store, _c) = pipeline(d, config(d), true);
        assert_eq!(p.gauges().await.dedup_keys, 300);
        p.ingest_records(recs(1, 300)).await.unwrap();
        p.flush().await;
        assert_eq!(
            p.store().count().await.unwrap(),
            300,
            "records_stored unchanged"
        );
        assert_eq!(stats(&p), 300);
        // Acknowledged while the store is down: only in the write-ahead buffer.
        store.set_open(false);
        p.ingest_records(recs(2, 200)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (p, _s, _c) = pipeline(d, config(d), true);
    // The replay refills the window before any request is taken.
    p.ingest_records(recs(2, 200)).await.unwrap();
    p.ingest_records(recs(1, 300)).await.unwrap();
    p.flush().await;
    assert_eq!(p.store().count().await.unwrap(), 500);
    assert_eq!(stats(&p), 500);
    assert_eq!(
        p.store().trace(digest::TraceId(2)).await.unwrap().len(),
        200
    );
}
