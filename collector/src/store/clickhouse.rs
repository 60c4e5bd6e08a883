//! `ClickHouseStore`: the [`Store`] on a ClickHouse server over HTTP, through the
//! `clickhouse` crate (RowBinary, LZ4, validation off for 18.16). The database
//! and tables are created on first use (`IF NOT EXISTS`), so the collector may
//! start while ClickHouse is still down: every operation then fails with
//! [`StoreError::Unavailable`], the pipeline keeps the batch in its write-ahead
//! buffer, and the next try after ClickHouse returns writes it.

pub use super::clickhouse_config::ClickHouseConfig;
use super::clickhouse_schema::{create_tables, EventRow, RecordRow, RecordRowRef, EVENTS, RECORDS};
use super::{BoxFuture, RecordQuery, Store, StoreError};
use digest::{ChangeEvent, DigestRecord, Micros, SpanId, SpanKind, TraceId};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The ClickHouse backend.
pub struct ClickHouseStore {
    cfg: ClickHouseConfig,
    /// Bound to the database (tables are referred to by bare name).
    client: ::clickhouse::Client,
    /// Not bound to a database (for `CREATE DATABASE`).
    root: ::clickhouse::Client,
    schema_ready: AtomicBool,
    low_cardinality: AtomicBool,
    /// Highest `wal_seq` stored (read when the schema is ensured, then kept up).
    applied: AtomicU64,
    /// Dedup keys of the newest stored records, read by [`ClickHouseStore::open`]
    /// (oldest first), so a restarted pipeline rebuilds its duplicate window.
    recent: parking_lot::Mutex<Vec<(TraceId, SpanId, SpanKind)>>,
}

/// Dedup keys read back at open: the collector's default duplicate window.
const RECENT_KEYS_AT_OPEN: usize = 500_000;

/// Maps a client error: network trouble and timeouts mean "try again later".
fn map_err(e: ::clickhouse::error::Error) -> StoreError {
    use ::clickhouse::error::Error as E;
    match e {
        E::Network(_) | E::TimedOut => StoreError::Unavailable(e.to_string()),
        other => {
            let text = other.to_string();
            // 5xx answers while the server starts or shuts down are transient too.
            if text.contains("Connection refused")
                || text.contains("connection closed")
                || text.contains("shutting down")
            {
                StoreError::Unavailable(text)
            } else {
                StoreError::Refused(text)
            }
        }
    }
}

impl ClickHouseStore {
    /// A store that creates its schema on first use; never fails for a down server.
    pub fn new(cfg: ClickHouseConfig) -> Result<Self, StoreError> {
        cfg.validate()?;
        let mut root = ::clickhouse::Client::default()
            .with_url(cfg.url.clone())
            .with_validation(false)
            .with_compression(::clickhouse::Compression::Lz4);
        if let Some(u) = &cfg.user {
            root = root.with_user(u.clone());
        }
        if let Some(p) = &cfg.password {
            root = root.with_password(p.clone());
        }
        let client = root.clone().with_database(cfg.database.clone());
        Ok(Self {
            cfg,
            client,
            root,
            schema_ready: AtomicBool::new(false),
            low_cardinality: AtomicBool::new(false),
            applied: AtomicU64::new(0),
            recent: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// A store whose schema exists now; `Unavailable` when the server is down.
    /// It also reads back the dedup keys of the newest records (up to
    /// 500 000, the default duplicate window) for [`Store::recent_keys`].
    pub async fn open(cfg: ClickHouseConfig) -> Result<Self, StoreError> {
        let s = Self::new(cfg)?;
        s.ensure_schema().await?;
        s.load_recent_keys(RECENT_KEYS_AT_OPEN).await?;
        Ok(s)
    }

    /// Reads the dedup keys of the newest `max` records (by write-ahead
    /// sequence; rows that do not parse are skipped) into the store's memory.
    pub async fn load_recent_keys(&self, max: usize) -> Result<usize, StoreError> {
        self.ensure_schema().await?;
        let rows: Vec<(String, String, String)> = self
            .client
            .query(&format!(
                "SELECT trace_id, span_id, toString(kind) FROM {RECORDS} \
                 ORDER BY wal_seq DESC, time_us DESC LIMIT {max}"
            ))
            .fetch_all()
            .await
            .map_err(map_err)?;
        let mut keys: Vec<(TraceId, SpanId, SpanKind)> = rows
            .iter()
            .filter_map(|(t, sp, k)| {
                Some((
                    TraceId::parse(t).ok()?,
                    SpanId::parse(sp).ok()?,
                    k.parse().ok()?,
                ))
            })
            .collect();
        keys.reverse();
        let n = keys.len();
        *self.recent.lock() = keys;
        Ok(n)
    }

    pub fn config(&self) -> &ClickHouseConfig {
        &self.cfg
    }

    /// Whether the tables use `LowCardinality(String)` (known once the schema exists).
    pub fn uses_low_cardinality(&self) -> bool {
        self.low_cardinality.load(Ordering::Relaxed)
    }

    /// `CREATE DATABASE/TABLE IF NOT EXISTS`, once per process (retried until it works).
    pub async fn ensure_schema(&self) -> Result<(), StoreError> {
        if self.schema_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        self.root
            .query(&format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                self.cfg.database
            ))
            .execute()
            .await
            .map_err(map_err)?;
        // LowCardinality where the server takes it (18.16 only with
        // allow_experimental_low_cardinality_type=1), plain String otherwise.
        let mut lc = true;
        for sql in create_tables("LowCardinality(String)") {
            if let Err(e) = self.client.query(&sql).execute().await {
                match map_err(e) {
                    StoreError::Refused(_) => {
                        lc = false;
                        break;
                    }
                    other => return Err(other),
                }
            }
        }
        if !lc {
            for sql in create_tables("String") {
                self.client.query(&sql).execute().await.map_err(map_err)?;
            }
        }
        // The tables may predate this process: read the real type back.
        let kind_type: String = self
            .client
            .query("SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = 'kind'")
            .bind(self.cfg.database.as_str())
            .bind(RECORDS)
            .fetch_one()
            .await
            .map_err(map_err)?;
        self.low_cardinality
            .store(kind_type.starts_with("LowCardinality"), Ordering::Relaxed);
        for table in [RECORDS, EVENTS] {
            let max: u64 = self
                .client
                .query(&format!("SELECT toUInt64(max(wal_seq)) FROM {table}"))
                .fetch_one()
                .await
                .map_err(map_err)?;
            self.applied.fetch_max(max, Ordering::AcqRel);
        }
        self.schema_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Drops the daily partitions wholly before `cutoff_us` (retention; 18.16
    /// has no TTL). Returns how many partitions of both tables were dropped.
    pub async fn drop_days_before(&self, cutoff_us: Micros) -> Result<usize, StoreError> {
        self.ensure_schema().await?;
        let day = digest::format_rfc3339(cutoff_us);
        let cutoff: u32 = day[0..10].replace('-', "").parse().unwrap_or(0);
        let mut dropped = 0;
        for table in [RECORDS, EVENTS] {
            let parts: Vec<String> = self
                .client
                .query(
                    "SELECT DISTINCT partition FROM system.parts \
                     WHERE database = ? AND table = ? AND active",
                )
                .bind(self.cfg.database.as_str())
                .bind(table)
                .fetch_all()
                .await
                .map_err(map_err)?;
            for p in parts {
                let Ok(n) = p.trim_matches('\'').parse::<u32>() else {
                    continue;
                };
                if n < cutoff {
                    self.client
                        .query(&format!("ALTER TABLE {table} DROP PARTITION {n}"))
                        .execute()
                        .await
                        .map_err(map_err)?;
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }

    async fn insert_records(&self, seq: u64, records: &[DigestRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.ensure_schema().await?;
        let mut ins = self
            .client
            .insert::<RecordRowRef<'_>>(RECORDS)
            .await
            .map_err(map_err)?;
        for r in records {
            ins.write(&RecordRowRef::of(r, seq))
                .await
                .map_err(map_err)?;
        }
        ins.end().await.map_err(map_err)?;
        self.applied.fetch_max(seq, Ordering::AcqRel);
        Ok(())
    }

    async fn insert_event_rows(&self, seq: u64, events: &[ChangeEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        self.ensure_schema().await?;
        let mut ins = self
            .client
            .insert::<EventRow>(EVENTS)
            .await
            .map_err(map_err)?;
        for e in events {
            ins.write(&EventRow::from_event(e, seq))
                .await
                .map_err(map_err)?;
        }
        ins.end().await.map_err(map_err)?;
        self.applied.fetch_max(seq, Ordering::AcqRel);
        Ok(())
    }

    async fn fetch_records(
        &self,
        q: ::clickhouse::query::Query,
    ) -> Result<Vec<DigestRecord>, StoreError> {
        let rows: Vec<RecordRow> = q.fetch_all().await.map_err(map_err)?;
        rows.into_iter()
            .map(|r| {
                r.into_record().map_err(|e| {
                    StoreError::Refused(format!("stored row is not a valid record: {e}"))
                })
            })
            .collect()
    }

    async fn trace_records(&self, trace_id: TraceId) -> Result<Vec<DigestRecord>, StoreError> {
        self.ensure_schema().await?;
        let q = self
            .client
            .query(&format!(
                "SELECT ?fields FROM {RECORDS} WHERE trace_id = ? ORDER BY time_us, span_id"
            ))
            .bind(trace_id.to_hex().as_str());
        self.fetch_records(q).await
    }

    async fn range(&self, q: &RecordQuery) -> Result<Vec<DigestRecord>, StoreError> {
        self.ensure_schema().await?;
        let mut sql = format!(
            "SELECT ?fields FROM {RECORDS} WHERE ts >= toDateTime(?) AND ts <= toDateTime(?) \
             AND time_us >= ? AND time_us < ?"
        );
        let filters: [(&str, Option<&String>); 4] = [
            ("service", q.service.as_ref()),
            ("operation", q.operation.as_ref()),
            ("code", q.code.as_ref()),
            ("scene", q.scene.as_ref()),
        ];
        for (col, v) in &filters {
            if v.is_some() {
                sql.push_str(&format!(" AND {col} = ?"));
            }
        }
        if q.shadow.is_some() {
            sql.push_str(" AND shadow = ?");
        }
        sql.push_str(" ORDER BY time_us DESC, span_id DESC");
        if q.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", q.limit));
        }
        let from_s = (q.from_us / 1_000_000).min(u32::MAX as u64);
        let to_s = (q.to_us / 1_000_000).min(u32::MAX as u64);
        let mut query = self
            .client
            .query(&sql)
            .bind(from_s)
            .bind(to_s)
            .bind(q.from_us)
            .bind(q.to_us);
        for (_, v) in filters {
            if let Some(v) = v {
                query = query.bind(v.as_str());
            }
        }
        if let Some(s) = q.shadow {
            query = query.bind(s as u8);
        }
        let mut out = self.fetch_records(query).await?;
        out.reverse();
        Ok(out)
    }

    async fn event_range(
        &self,
        from_us: Micros,
        to_us: Micros,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        self.ensure_schema().await?;
        let rows: Vec<EventRow> = self
            .client
            .query(&format!(
                "SELECT ?fields FROM {EVENTS} WHERE time_us >= ? AND time_us < ? ORDER BY time_us"
            ))
            .bind(from_us)
            .bind(to_us)
            .fetch_all()
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| {
                r.into_event().map_err(|e| {
                    StoreError::Refused(format!("stored row is not a valid event: {e}"))
                })
            })
            .collect()
    }

    async fn record_count(&self) -> Result<u64, StoreError> {
        self.ensure_schema().await?;
        self.client
            .query(&format!("SELECT toUInt64(count()) FROM {RECORDS}"))
            .fetch_one::<u64>()
            .await
            .map_err(map_err)
    }
}

impl ClickHouseStore {
    /// Runs `fut`, failing as `Unavailable` after `timeout_ms`.
    async fn timed<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let limit = std::time::Duration::from_millis(self.cfg.timeout_ms);
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable(format!(
                "clickhouse {what} took longer than {} ms",
                self.cfg.timeout_ms
            ))),
        }
    }
}

impl Store for ClickHouseStore {
    /// The keys read at open (the newest last); empty for a store made with
    /// [`ClickHouseStore::new`] until [`ClickHouseStore::load_recent_keys`] runs.
    fn recent_keys(&self, max: usize) -> Vec<(TraceId, SpanId, SpanKind)> {
        let keys = self.recent.lock();
        keys[keys.len().saturating_sub(max)..].to_vec()
    }
    fn insert<'a>(&'a self, records: &'a [DigestRecord]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed("insert", self.insert_records(0, records)))
    }
    fn insert_events<'a>(
        &'a self,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed("insert", self.insert_event_rows(0, events)))
    }
    fn insert_batch<'a>(
        &'a self,
        seq: u64,
        records: &'a [DigestRecord],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed("insert", self.insert_records(seq, records)))
    }
    fn insert_events_batch<'a>(
        &'a self,
        seq: u64,
        events: &'a [ChangeEvent],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed("insert", self.insert_event_rows(seq, events)))
    }
    /// Known once the schema has been ensured ([`ClickHouseStore::open`]);
    /// `None` before, so a store opened while ClickHouse was down replays all.
    fn applied_seq(&self) -> Option<u64> {
        self.schema_ready
            .load(Ordering::Acquire)
            .then(|| self.applied.load(Ordering::Acquire))
    }
    fn name(&self) -> &'static str {
        "clickhouse"
    }
    fn trace(&self, trace_id: TraceId) -> BoxFuture<'_, Result<Vec<DigestRecord>, StoreError>> {
        Box::pin(self.timed("trace lookup", self.trace_records(trace_id)))
    }
    fn query<'a>(
        &'a self,
        q: &'a RecordQuery,
    ) -> BoxFuture<'a, Result<Vec<DigestRecord>, StoreError>> {
        Box::pin(self.timed("query", self.range(q)))
    }
    fn events(
        &self,
        from_us: Micros,
        to_us: Micros,
    ) -> BoxFuture<'_, Result<Vec<ChangeEvent>, StoreError>> {
        Box::pin(self.timed("events query", self.event_range(from_us, to_us)))
    }
    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.timed("count", self.record_count()))
    }
}
