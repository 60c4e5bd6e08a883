//! The embedded store on its own: restart keeps the records (and the applied
//! sequence), retention by count and age, trace lookup and filtered queries.

mod common;

use collector::{EmbeddedConfig, EmbeddedStore};
use collector::{RecordQuery, Store};
use common::*;
use digest::{ManualClock, SharedClock, TraceId};
use std::sync::Arc;

fn clock() -> (ManualClock, SharedClock) {
    let c = ManualClock::new(T0 + 10_000_000);
    let s: SharedClock = Arc::new(c.clone());
    (c, s)
}

#[tokio::test]
async fn survives_restart_with_retention_and_applied_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, clk) = clock();
    let cfg = EmbeddedConfig {
        max_records: 1_000,
        segment_bytes: 64 << 10,
        ..EmbeddedConfig::default()
    };
    {
        let s = EmbeddedStore::open(dir.path(), cfg.clone(), clk.clone()).unwrap();
        for t in 1..=30u128 {
            s.insert_batch(t as u64, &recs(t, 100)).await.unwrap();
        }
        assert_eq!(s.count().await.unwrap(), 1_000);
        assert_eq!(s.applied_seq(), Some(30));
        // Old traces are gone from the index too.
        assert!(s.trace(TraceId(1)).await.unwrap().is_empty());
        assert_eq!(s.trace(TraceId(30)).await.unwrap().len(), 100);
    }
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(files < 30, "evicted segments are deleted ({files} files)");
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    assert_eq!(s.count().await.unwrap(), 1_000);
    assert_eq!(s.applied_seq(), Some(30));
    assert_eq!(s.trace(TraceId(21)).await.unwrap().len(), 100);
    assert!(s.trace(TraceId(20)).await.unwrap().is_empty());
}

#[tokio::test]
async fn age_retention_and_filtered_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (c, clk) = clock();
    let cfg = EmbeddedConfig {
        max_age_s: Some(60),
        ..EmbeddedConfig::default()
    };
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    let mut batch = recs(1, 100);
    for (i, r) in batch.iter_mut().enumerate() {
        if i % 4 == 0 {
            r.service = "cashier".into();
            r.shadow = true;
        }
    }
    s.insert(&batch).await.unwrap();
    let q = RecordQuery {
        from_us: 0,
        to_us: u64::MAX,
        service: Some("cashier".into()),
        shadow: Some(true),
        ..RecordQuery::default()
    };
    assert_eq!(s.query(&q).await.unwrap().len(), 25);
    let q = RecordQuery {
        from_us: T0 + 10_000,
        to_us: T0 + 20_000,
        code: Some("SUCCESS".into()),
        ..RecordQuery::default()
    };
    // Spans 10..=19 in range, span 10 failed.
    assert_eq!(s.query(&q).await.unwrap().len(), 9);
    let q = RecordQuery {
        from_us: 0,
        to_us: u64::MAX,
        limit: 5,
        ..RecordQuery::default()
    };
    let newest = s.query(&q).await.unwrap();
    assert_eq!(
        newest.iter().map(|r| r.span_id.0).collect::<Vec<_>>(),
        vec![96, 97, 98, 99, 100]
    );
    // An hour later, the next insert evicts everything older than 60 s.
    c.advance_secs(3600);
    s.insert(&[rec(2, 1, T0 + 3_600_000_000)]).await.unwrap();
    assert_eq!(s.count().await.unwrap(), 1);
}
