//! The embedded store on its own: a bounded memory window over segment files
//! that keep everything within the retention (by arrival) and the byte budget;
//! restart finds every record again (and the applied sequence); evictions are
//! counted by reason; trace lookup and filtered queries span memory and disk.

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
async fn memory_window_is_bounded_and_older_records_come_from_disk_across_a_restart() {
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
            assert!(s.len() <= 1_000, "memory holds {} records", s.len());
        }
        assert_eq!(s.len(), 1_000);
        assert_eq!(s.count().await.unwrap(), 3_000);
        assert_eq!(s.applied_seq(), Some(30));
        // The first traces left memory long ago: found on disk, whole, once.
        let first = s.trace(TraceId(1)).await.unwrap();
        assert_eq!(first, recs(1, 100));
        assert_eq!(s.trace(TraceId(30)).await.unwrap(), recs(30, 100));
        let r = s.retention().unwrap();
        assert_eq!((r.memory_records, r.disk_records), (1_000, 3_000));
        assert!(r.disk_segments > 2, "{r:?}");
    }
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    assert!(s.len() <= 1_000, "memory after restart: {}", s.len());
    assert_eq!(s.count().await.unwrap(), 3_000);
    assert_eq!(s.applied_seq(), Some(30));
    for t in [1u128, 15, 21, 30] {
        assert_eq!(
            s.trace(TraceId(t)).await.unwrap(),
            recs(t, 100),
            "trace {t}"
        );
    }
    // A time range over disk and memory: every record once, in time order.
    let all = s
        .query(&RecordQuery {
            from_us: 0,
            to_us: u64::MAX,
            ..RecordQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3_000);
    assert!(all.windows(2).all(|w| w[0].time_us <= w[1].time_us));
    let newest = s
        .query(&RecordQuery {
            from_us: 0,
            to_us: u64::MAX,
            limit: 150,
            ..RecordQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(newest.len(), 150);
    assert_eq!(newest.last(), all.last());
    // Writes after the restart go on from where the files ended.
    s.insert_batch(31, &recs(31, 10)).await.unwrap();
    assert_eq!(s.count().await.unwrap(), 3_010);
    assert_eq!(s.trace(TraceId(31)).await.unwrap().len(), 10);
    assert_eq!(s.trace(TraceId(2)).await.unwrap().len(), 100);
}

#[tokio::test]
async fn segments_older_than_the_retention_by_arrival_are_deleted_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (c, clk) = clock();
    let cfg = EmbeddedConfig {
        max_records: 500,
        max_age_s: Some(3_600),
        segment_bytes: 32 << 10,
        ..EmbeddedConfig::default()
    };
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    // Records stamped a day ago (backfill) are kept: age is by arrival.
    let day_ago = T0 + 10_000_000 - 86_400_000_000;
    let old: Vec<_> = (1..=100).map(|i| rec(7, i, day_ago + i)).collect();
    s.insert(&old).await.unwrap();
    assert_eq!(s.trace(TraceId(7)).await.unwrap().len(), 100);
    for t in 8..=12u128 {
        s.insert(&recs(t, 100)).await.unwrap();
    }
    let before = s.count().await.unwrap();
    assert_eq!(before, 600);
    // Two hours later every segment but the current one is older than an hour.
    c.advance_secs(7_200);
    s.insert(&recs(13, 100)).await.unwrap();
    let r = s.retention().unwrap();
    assert!(r.evicted_age_records >= 100, "{r:?}");
    assert!(r.evicted_age_bytes > 0);
    assert_eq!(r.evicted_size_records, 0);
    assert_eq!(r.disk_records, 700 - r.evicted_age_records);
    assert!(s.trace(TraceId(7)).await.unwrap().is_empty());
    assert_eq!(s.trace(TraceId(13)).await.unwrap().len(), 100);
    assert!(s.len() as u64 <= r.disk_records);
}

#[tokio::test]
async fn the_byte_cap_deletes_the_oldest_segments_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, clk) = clock();
    let cfg = EmbeddedConfig {
        max_records: 200,
        max_bytes: Some(256 << 10),
        segment_bytes: 32 << 10,
        ..EmbeddedConfig::default()
    };
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    for t in 1..=100u128 {
        s.insert(&recs(t, 50)).await.unwrap();
    }
    let r = s.retention().unwrap();
    assert!(r.disk_bytes <= 256 << 10, "{r:?}");
    assert!(
        r.evicted_size_records > 0 && r.evicted_size_bytes > 0,
        "{r:?}"
    );
    assert_eq!(r.evicted_age_records, 0);
    assert_eq!(r.disk_records + r.evicted_size_records, 5_000);
    let on_disk: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(on_disk, r.disk_bytes);
    // Oldest gone, newest kept.
    assert!(s.trace(TraceId(1)).await.unwrap().is_empty());
    assert_eq!(s.trace(TraceId(100)).await.unwrap().len(), 50);
}

#[tokio::test]
async fn a_segment_without_its_index_is_reindexed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, clk) = clock();
    let cfg = EmbeddedConfig {
        max_records: 100,
        segment_bytes: 16 << 10,
        ..EmbeddedConfig::default()
    };
    {
        let s = EmbeddedStore::open(dir.path(), cfg.clone(), clk.clone()).unwrap();
        for t in 1..=20u128 {
            s.insert_batch(t as u64, &recs(t, 40)).await.unwrap();
        }
    }
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "idx") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let s = EmbeddedStore::open(dir.path(), cfg, clk).unwrap();
    assert_eq!(s.count().await.unwrap(), 800);
    assert_eq!(s.applied_seq(), Some(20));
    assert_eq!(s.trace(TraceId(1)).await.unwrap(), recs(1, 40));
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
    // An hour later the first segment is still the current one: nothing is
    // deleted; once it is sealed and the next insert comes, it goes.
    c.advance_secs(3600);
    s.insert(&[rec(2, 1, T0 + 3_600_000_000)]).await.unwrap();
    assert_eq!(s.count().await.unwrap(), 101);
}
