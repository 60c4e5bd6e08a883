//! Storage behind one trait: the embedded default (`embedded`) and ClickHouse
//! (`clickhouse`). The pipeline writes batches that are already durable in the
//! write-ahead buffer; a store error leaves them there to be retried.

mod batch;
pub(crate) mod clickhouse;
mod clickhouse_config;
mod clickhouse_schema;
pub(crate) mod embedded;
mod embedded_config;
mod embedded_disk;

pub use batch::{LineBatch, LineMeta};
use digest::{ChangeEvent, DigestRecord, Micros, SpanId, SpanKind, TraceId};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so `Store` can be used as `Arc<dyn Store>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached right now (retry later; data stays buffered).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend refused the request (schema, SQL, bad value).
    #[error("store refused the request: {0}")]
    Refused(String),
    #[error("store I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A time-range query with optional filters (all `None` = no filter).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct RecordQuery {
    /// Inclusive start, microseconds since the epoch.
    pub from_us: Micros,
    /// Exclusive end, microseconds since the epoch.
    pub to_us: Micros,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub code: Option<String>,
    pub scene: Option<String>,
    pub shadow: Option<bool>,
    /// At most this many records (newest first when cut).
    pub limit: usize,
}

/// What a store holds and what it let go (`/api/stats` `retention`, `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetentionStats {
    pub memory_records: u64,
    pub memory_max_records: u64,
    pub disk_records: u64,
    pub disk_bytes: u64,
    pub disk_segments: u64,
    pub max_age_s: Option<u64>,
    pub max_bytes: Option<u64>,
    /// Records (and their segment bytes) deleted because they arrived longer ago than `max_age_s`.
    pub evicted_age_records: u64,
    pub evicted_age_bytes: u64,
    /// Records (and bytes) deleted to keep the files within `max_bytes`.
    pub evicted_size_records: u64,
    pub evicted_size_bytes: u64,
}

pub trait Store: Send + Sync + 'static {
    /// Writes call records. Must be idempotent for a repeated batch only in the
    /// sense that callers drop duplicates before; stores need not deduplicate.
    fn insert<'a>(&'a self, records: &'a [DigestRecord]) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Writes change events.
    fn insert_events<'a>(
        &'a self,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Every record of one trace, ordered by time.
    fn trace(&self, trace_id: TraceId) -> BoxFuture<'_, Result<Vec<DigestRecord>, StoreError>>;
    /// Records in a time range matching the filters, ordered by time.
    fn query<'a>(
        &'a self,
        q: &'a RecordQuery,
    ) -> BoxFuture<'a, Result<Vec<DigestRecord>, StoreError>>;
    /// Change events in `[from_us, to_us)`, ordered by time.
    fn events(
        &self,
        from_us: Micros,
        to_us: Micros,
    ) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>>;
    /// Number of call records stored.
    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// Writes call records that are write-ahead batch `seq` (or batches up to it).
    /// A store that remembers `seq` atomically with the data can report it from
    /// [`Store::applied_seq`], so a restart replays nothing twice.
    fn insert_batch<'a>(
        &'a self,
        seq: u64,
        records: &'a [DigestRecord],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = seq;
        self.insert(records)
    }
    /// As [`Store::insert_batch`], handing the records over so a store that keeps
    /// them in memory need not copy them. On failure the records come back for
    /// the retry.
    fn insert_owned(
        &self,
        seq: u64,
        records: Vec<DigestRecord>,
    ) -> BoxFuture<'_, Result<(), (StoreError, Vec<DigestRecord>)>> {
        Box::pin(async move {
            match self.insert_batch(seq, &records).await {
                Ok(()) => Ok(()),
                Err(e) => Err((e, records)),
            }
        })
    }
    /// As [`Store::insert_owned`], with the records' v1 lines when the pipeline
    /// has them (`lines` decode to exactly `records`, in order), so a store that
    /// writes lines need not encode them again.
    fn insert_owned_lines(
        &self,
        seq: u64,
        records: Vec<DigestRecord>,
        lines: Option<Vec<u8>>,
    ) -> BoxFuture<'_, Result<(), (StoreError, Vec<DigestRecord>)>> {
        let _ = lines;
        self.insert_owned(seq, records)
    }
    /// True when [`Store::insert_owned_lines`] uses the lines (the pipeline then keeps a copy).
    fn wants_lines(&self) -> bool {
        false
    }
    /// Writes write-ahead batch `seq` (or batches up to it) given as lines: the
    /// pipeline's hot path. The default decodes the lines and calls
    /// [`Store::insert_owned_lines`]; on failure the batch comes back for the retry.
    fn insert_lines(
        &self,
        seq: u64,
        batch: LineBatch,
    ) -> BoxFuture<'_, Result<(), (StoreError, LineBatch)>> {
        Box::pin(async move {
            let records = batch.records();
            let lines = self.wants_lines().then(|| batch.lines.clone());
            match self.insert_owned_lines(seq, records, lines).await {
                Ok(()) => Ok(()),
                Err((e, _)) => Err((e, batch)),
            }
        })
    }
    /// The dedup keys `(trace_id, span_id, kind)` of the last `max` records
    /// stored, oldest first, so a restarted pipeline can rebuild its duplicate
    /// window. A store that cannot tell returns none (the default).
    fn recent_keys(&self, max: usize) -> Vec<(TraceId, SpanId, SpanKind)> {
        let _ = max;
        Vec::new()
    }
    /// Writes change events of write-ahead batch `seq`.
    fn insert_events_batch<'a>(
        &'a self,
        seq: u64,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = seq;
        self.insert_events(events)
    }
    /// The highest write-ahead sequence known to be stored, if the store tracks it.
    fn applied_seq(&self) -> Option<u64> {
        None
    }
    /// What the store holds and evicted, when it manages its own retention.
    fn retention(&self) -> Option<RetentionStats> {
        None
    }
    /// A short name for stats (`embedded`, `clickhouse`).
    fn name(&self) -> &'static str {
        "store"
    }
}
