//! The ClickHouse schema and row types for the war-room store. Written for
//! Debian's ClickHouse 18.16 and current releases alike: `DateTime` plus a
//! `UInt64` microseconds column (no DateTime64), business keys as parallel
//! `Array(String)` columns (no Map), `UInt8` for booleans, daily partitions
//! (retention drops them; no TTL), and `LowCardinality(String)` for the small
//! dimensions only where the server accepts it (else plain `String`; both read
//! and write the same in RowBinary). Each row carries the write-ahead batch it
//! came in (`wal_seq`), written in the same INSERT as the data, so the highest
//! one stored tells a restarted pipeline what not to replay.

use digest::{ChangeEvent, ChangeKind, DigestRecord, SpanId, SpanKind, TraceId};
use serde::{Deserialize, Serialize};

/// Table of call records.
pub const RECORDS: &str = "digest_records";
/// Table of change events.
pub const EVENTS: &str = "change_events";

/// `CREATE TABLE` statements; `lc` is the type used for low-cardinality columns
/// (`LowCardinality(String)` or `String`).
pub fn create_tables(lc: &str) -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {RECORDS} (
                ts DateTime,
                time_us UInt64,
                trace_id String,
                span_id String,
                parent_span_id String,
                kind {lc},
                service {lc},
                instance {lc},
                zone {lc},
                operation {lc},
                peer {lc},
                duration_us UInt64,
                success UInt8,
                code {lc},
                error Nullable(String),
                scene {lc},
                channel {lc},
                shadow UInt8,
                version {lc},
                key_names Array(String),
                key_values Array(String),
                amount_cents Nullable(Int64),
                sql_count Nullable(UInt32),
                wal_seq UInt64
            ) ENGINE = MergeTree()
            PARTITION BY toYYYYMMDD(ts)
            ORDER BY (service, time_us)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {EVENTS} (
                ts DateTime,
                time_us UInt64,
                event {lc},
                service {lc},
                version String,
                detail String,
                actor String,
                wal_seq UInt64
            ) ENGINE = MergeTree()
            PARTITION BY toYYYYMMDD(ts)
            ORDER BY (time_us, service)"
        ),
    ]
}

/// One row of [`RECORDS`]; field order is column order.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct RecordRow {
    pub ts: u32,
    pub time_us: u64,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub kind: String,
    pub service: String,
    pub instance: String,
    pub zone: String,
    pub operation: String,
    pub peer: String,
    pub duration_us: u64,
    pub success: u8,
    pub code: String,
    pub error: Option<String>,
    pub scene: String,
    pub channel: String,
    pub shadow: u8,
    pub version: String,
    pub key_names: Vec<String>,
    pub key_values: Vec<String>,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
    /// Write-ahead batch the row came in (0 when written outside a batch).
    pub wal_seq: u64,
}

/// The same row borrowed from a record, for inserts (no string copies but the ids).
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize)]
pub struct RecordRowRef<'a> {
    pub ts: u32,
    pub time_us: u64,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub kind: &'a str,
    pub service: &'a str,
    pub instance: &'a str,
    pub zone: &'a str,
    pub operation: &'a str,
    pub peer: &'a str,
    pub duration_us: u64,
    pub success: u8,
    pub code: &'a str,
    pub error: Option<&'a str>,
    pub scene: &'a str,
    pub channel: &'a str,
    pub shadow: u8,
    pub version: &'a str,
    pub key_names: Vec<&'a str>,
    pub key_values: Vec<&'a str>,
    pub amount_cents: Option<i64>,
    pub sql_count: Option<u32>,
    pub wal_seq: u64,
}

impl<'a> RecordRowRef<'a> {
    pub fn of(r: &'a DigestRecord, wal_seq: u64) -> Self {
        Self {
            ts: secs(r.time_us),
            time_us: r.time_us,
            trace_id: r.trace_id.to_hex(),
            span_id: r.span_id.to_hex(),
            parent_span_id: r.parent_span_id.map(|p| p.to_hex()).unwrap_or_default(),
            kind: r.kind.as_str(),
            service: &r.service,
            instance: &r.instance,
            zone: &r.zone,
            operation: &r.operation,
            peer: &r.peer,
            duration_us: r.duration_us,
            success: r.success as u8,
            code: &r.code,
            error: r.error.as_deref(),
            scene: &r.scene,
            channel: &r.channel,
            shadow: r.shadow as u8,
            version: &r.version,
            key_names: r.keys.keys().map(String::as_str).collect(),
            key_values: r.keys.values().map(String::as_str).collect(),
            amount_cents: r.amount_cents,
            sql_count: r.sql_count,
            wal_seq,
        }
    }
}

/// Seconds for a `DateTime` column (saturating: DateTime ends in 2106).
fn secs(us: u64) -> u32 {
    u32::try_from(us / 1_000_000).unwrap_or(u32::MAX)
}

impl RecordRow {
    pub fn from_record(r: &DigestRecord, wal_seq: u64) -> Self {
        Self {
            ts: secs(r.time_us),
            time_us: r.time_us,
            trace_id: r.trace_id.to_hex(),
            span_id: r.span_id.to_hex(),
            parent_span_id: r.parent_span_id.map(|p| p.to_hex()).unwrap_or_default(),
            kind: r.kind.as_str().to_string(),
            service: r.service.clone(),
            instance: r.instance.clone(),
            zone: r.zone.clone(),
            operation: r.operation.clone(),
            peer: r.peer.clone(),
            duration_us: r.duration_us,
            success: r.success as u8,
            code: r.code.clone(),
            error: r.error.clone(),
            scene: r.scene.clone(),
            channel: r.channel.clone(),
            shadow: r.shadow as u8,
            version: r.version.clone(),
            key_names: r.keys.keys().cloned().collect(),
            key_values: r.keys.values().cloned().collect(),
            amount_cents: r.amount_cents,
            sql_count: r.sql_count,
            wal_seq,
        }
    }

    /// Back to a record; `Err` names what in the stored row is not valid.
    pub fn into_record(self) -> Result<DigestRecord, String> {
        let trace_id = TraceId::parse(&self.trace_id).map_err(|e| format!("trace_id: {e}"))?;
        let span_id = SpanId::parse(&self.span_id).map_err(|e| format!("span_id: {e}"))?;
        let parent_span_id = match self.parent_span_id.as_str() {
            "" => None,
            p => Some(SpanId::parse(p).map_err(|e| format!("parent_span_id: {e}"))?),
        };
        if self.key_names.len() != self.key_values.len() {
            return Err("key_names and key_values differ in length".into());
        }
        Ok(DigestRecord {
            time_us: self.time_us,
            trace_id,
            span_id,
            parent_span_id,
            kind: self.kind.parse::<SpanKind>()?,
            service: self.service,
            instance: self.instance,
            zone: self.zone,
            operation: self.operation,
            peer: self.peer,
            duration_us: self.duration_us,
            success: self.success != 0,
            code: self.code,
            error: self.error,
            scene: self.scene,
            channel: self.channel,
            shadow: self.shadow != 0,
            version: self.version,
            keys: self.key_names.into_iter().zip(self.key_values).collect(),
            amount_cents: self.amount_cents,
            sql_count: self.sql_count,
        })
    }
}

/// One row of [`EVENTS`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct EventRow {
    pub ts: u32,
    pub time_us: u64,
    pub event: String,
    pub service: String,
    pub version: String,
    pub detail: String,
    pub actor: String,
    pub wal_seq: u64,
}

impl EventRow {
    pub fn from_event(e: &ChangeEvent, wal_seq: u64) -> Self {
        Self {
            ts: secs(e.time_us),
            time_us: e.time_us,
            event: e.event.as_str().to_string(),
            service: e.service.clone(),
            version: e.version.clone(),
            detail: e.detail.clone(),
            actor: e.by.clone(),
            wal_seq,
        }
    }

    pub fn into_event(self) -> Result<ChangeEvent, String> {
        Ok(ChangeEvent {
            time_us: self.time_us,
            event: self.event.parse::<ChangeKind>()?,
            service: self.service,
            version: self.version,
            detail: self.detail,
            by: self.actor,
        })
    }
}
