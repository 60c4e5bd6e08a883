//! Shared test helpers: a real embedded store behind a gate that can refuse
//! writes the way an unreachable ClickHouse does, and record builders.
#![allow(dead_code)]

use collector::{BoxFuture, RecordQuery, Store, StoreError};
use collector::{EmbeddedConfig, EmbeddedStore, Pipeline, PipelineConfig};
use digest::{
    ChangeEvent, DigestRecord, ManualClock, Micros, SharedClock, SpanId, SpanKind, TraceId,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// An embedded store whose writes fail with `Unavailable` while the gate is shut.
pub struct GatedStore {
    pub inner: EmbeddedStore,
    pub open: AtomicBool,
}

impl GatedStore {
    pub fn new(dir: &Path, clock: SharedClock, open: bool) -> Arc<Self> {
        Arc::new(Self {
            inner: EmbeddedStore::open(dir, EmbeddedConfig::default(), clock).unwrap(),
            open: AtomicBool::new(open),
        })
    }
    pub fn set_open(&self, v: bool) {
        self.open.store(v, Ordering::SeqCst);
    }
    fn check(&self) -> Result<(), StoreError> {
        if self.open.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(StoreError::Unavailable("gate shut".into()))
        }
    }
}

impl Store for GatedStore {
    fn insert<'a>(&'a self, r: &'a [DigestRecord]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.insert(r).await
        })
    }
    fn insert_events<'a>(&'a self, e: &'a [ChangeEvent]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.insert_events(e).await
        })
    }
    fn insert_batch<'a>(
        &'a self,
        seq: u64,
        r: &'a [DigestRecord],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.insert_batch(seq, r).await
        })
    }
    fn insert_events_batch<'a>(
        &'a self,
        seq: u64,
        e: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.insert_events_batch(seq, e).await
        })
    }
    fn trace(&self, t: TraceId) -> BoxFuture<'_, Result<Vec<DigestRecord>, StoreError>> {
        self.inner.trace(t)
    }
    fn query<'a>(
        &'a self,
        q: &'a RecordQuery,
    ) -> BoxFuture<'a, Result<Vec<DigestRecord>, StoreError>> {
        self.inner.query(q)
    }
    fn events(&self, a: Micros, b: Micros) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>> {
        self.inner.events(a, b)
    }
    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.inner.count()
    }
    fn applied_seq(&self) -> Option<u64> {
        self.inner.applied_seq()
    }
    fn recent_keys(&self, max: usize) -> Vec<(TraceId, SpanId, SpanKind)> {
        self.inner.recent_keys(max)
    }
}

pub const T0: Micros = 1_800_000_000_000_000;

/// A record of trace `t`, span `s` at `time_us`.
pub fn rec(t: u128, s: u64, time_us: Micros) -> DigestRecord {
    DigestRecord {
        time_us,
        trace_id: TraceId(t),
        span_id: SpanId(s),
        kind: SpanKind::Server,
        service: "trade".into(),
        operation: "TradeService.pay".into(),
        duration_us: 1_000 + s,
        success: !s.is_multiple_of(10),
        code: if !s.is_multiple_of(10) {
            "SUCCESS".into()
        } else {
            "BANK_TIMEOUT".into()
        },
        scene: "quick_pay".into(),
        amount_cents: Some(500),
        ..Default::default()
    }
}

/// `n` distinct records of trace `t` from span 1, one millisecond apart.
pub fn recs(t: u128, n: u64) -> Vec<DigestRecord> {
    (1..=n).map(|s| rec(t, s, T0 + s * 1_000)).collect()
}

pub fn config(dir: &Path) -> PipelineConfig {
    PipelineConfig {
        data_dir: dir.to_path_buf(),
        fsync: collector::FsyncPolicy::Never,
        ..PipelineConfig::default()
    }
}

/// A pipeline over a gated store in `dir`, on a manual clock at `T0`.
pub fn pipeline(
    dir: &Path,
    cfg: PipelineConfig,
    open: bool,
) -> (Pipeline, Arc<GatedStore>, ManualClock) {
    let clock = ManualClock::new(T0);
    let shared: SharedClock = Arc::new(clock.clone());
    let store = GatedStore::new(&dir.join("store"), shared.clone(), open);
    let p = Pipeline::open(cfg, store.clone(), shared).unwrap();
    (p, store, clock)
}
