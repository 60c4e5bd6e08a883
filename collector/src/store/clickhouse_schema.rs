//! The ClickHouse schema and row types for the war-room store. Written for
//! Debian's ClickHouse 18.16 and current releases alike: `DateTime` plus a
//! `UInt64` microseconds column (no DateTime64), business keys as parallel
//! `Array(String)` columns (no Map), `UInt8` for booleans, daily partitions
//! (retention drops them; no TTL), and `LowCardinality(String)` for the small
//! dimensions only where the server accepts it (else plain `String`; both read
//! and write the same in RowBinary). Each row carries the write-ahead batch it
//! came in (`wal_seq`), written in the same INSERT as the data, so the highest
//! one stored tells a restarted pipeline what not to replay.
//!
//! The records table follows `digest::RECORD_FIELDS` ([`record_columns`]); the
//! row types are written out by hand, and tests here fail when their fields
//! and the columns drift apart.

use digest::{
    ChangeEvent, ChangeKind, DigestRecord, Presence, SpanId, SpanKind, TraceId, ValueType,
    RECORD_FIELDS,
};
use serde::{Deserialize, Serialize};

/// Table of call records.
pub const RECORDS: &str = "digest_records";
/// Table of change events.
pub const EVENTS: &str = "change_events";

/// The columns of [`RECORDS`] in order, with their types, following
/// `digest::RECORD_FIELDS`: the time as `ts` (seconds, for partitions) and
/// `time_us`; ids as hex `String`s (`""` when absent); kinds and text as `lc`
/// (the low-cardinality type) unless nullable; business keys as the parallel
/// `key_names`/`key_values` arrays; then the row's `wal_seq`.
pub fn record_columns(lc: &str) -> Vec<(String, String)> {
    let mut cols = Vec::with_capacity(RECORD_FIELDS.len() + 3);
    for f in &RECORD_FIELDS {
        let nullable = |t: &str| match f.presence {
            Presence::Nullable => format!("Nullable({t})"),
            Presence::Required | Presence::Optional => t.to_string(),
        };
        let ty = match f.value {
            ValueType::Time => {
                cols.push(("ts".to_string(), "DateTime".to_string()));
                cols.push((format!("{}_us", f.name), "UInt64".to_string()));
                continue;
            }
            ValueType::Keys => {
                cols.push(("key_names".to_string(), "Array(String)".to_string()));
                cols.push(("key_values".to_string(), "Array(String)".to_string()));
                continue;
            }
            ValueType::TraceId | ValueType::SpanId => "String".to_string(),
            ValueType::SpanKind | ValueType::ChangeKind => lc.to_string(),
            ValueType::Text => match f.presence {
                Presence::Nullable => nullable("String"),
                Presence::Required | Presence::Optional => lc.to_string(),
            },
            ValueType::U64 => nullable("UInt64"),
            ValueType::U32 => nullable("UInt32"),
            ValueType::I64 => nullable("Int64"),
            ValueType::Bool => nullable("UInt8"),
        };
        cols.push((f.name.to_string(), ty));
    }
    cols.push(("wal_seq".to_string(), "UInt64".to_string()));
    cols
}

/// `CREATE TABLE` statements; `lc` is the type used for low-cardinality columns
/// (`LowCardinality(String)` or `String`).
pub fn create_tables(lc: &str) -> [String; 2] {
    let columns: Vec<String> = record_columns(lc)
        .into_iter()
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect();
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {RECORDS} ({}) ENGINE = MergeTree() \
             PARTITION BY toYYYYMMDD(ts) ORDER BY (service, time_us)",
            columns.join(", ")
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

/// One row of [`RECORDS`], as read: one field per column of [`record_columns`].
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

#[cfg(test)]
mod tests {
    use super::*;
    use digest::{EventField, EVENT_FIELDS};

    /// The field names a row serializes (the columns it writes), sorted.
    fn row_columns(row: &impl Serialize) -> Vec<String> {
        let serde_json::Value::Object(fields) = serde_json::to_value(row).unwrap() else {
            panic!("a row serializes as an object")
        };
        fields.keys().cloned().collect()
    }

    /// A record with every field set.
    fn full_record() -> DigestRecord {
        digest::decode_record(crate::test_lines::EVERY_FIELD.as_bytes()).unwrap()
    }

    #[test]
    fn every_record_field_has_its_columns_and_rows_carry_them() {
        let columns: Vec<String> = record_columns("LC").into_iter().map(|c| c.0).collect();
        for f in &RECORD_FIELDS {
            let want = match f.value {
                ValueType::Time => format!("{}_us", f.name),
                ValueType::Keys => "key_names".to_string(),
                _ => f.name.to_string(),
            };
            assert!(columns.contains(&want), "{} has no column", f.name);
        }
        let sql = &create_tables("LC")[0];
        for (name, ty) in record_columns("LC") {
            let declared = [",", ")"].map(|end| format!("{name} {ty}{end}"));
            assert!(
                declared.iter().any(|d| sql.contains(d)),
                "{name} {ty} in {sql}"
            );
        }
        // The row written and the row read have exactly these columns (inserts
        // and selects name them), and every field comes back.
        let r = full_record();
        let written = serde_json::to_string(&RecordRowRef::of(&r, 9)).unwrap();
        let read: RecordRow = serde_json::from_str(&written).unwrap();
        let mut sorted = columns.clone();
        sorted.sort();
        assert_eq!(row_columns(&RecordRowRef::of(&r, 9)), sorted);
        assert_eq!(row_columns(&read), sorted);
        assert_eq!(read.wal_seq, 9);
        assert_eq!(read.into_record(), Ok(r));
    }

    #[test]
    fn record_column_types_follow_the_field_table() {
        let types: std::collections::HashMap<String, String> =
            record_columns("LC").into_iter().collect();
        assert_eq!(types["ts"], "DateTime");
        assert_eq!(types["time_us"], "UInt64");
        assert_eq!(types["trace_id"], "String");
        assert_eq!(types["parent_span_id"], "String");
        assert_eq!(types["kind"], "LC");
        assert_eq!(types["instance"], "LC");
        assert_eq!(types["error"], "Nullable(String)");
        assert_eq!(types["duration_us"], "UInt64");
        assert_eq!(types["success"], "UInt8");
        assert_eq!(types["key_values"], "Array(String)");
        assert_eq!(types["amount_cents"], "Nullable(Int64)");
        assert_eq!(types["sql_count"], "Nullable(UInt32)");
        assert_eq!(types["wal_seq"], "UInt64");
    }

    #[test]
    fn every_event_field_has_its_column() {
        let e = ChangeEvent {
            time_us: 1_795_784_497_000_000,
            event: ChangeKind::Config,
            service: "trade".into(),
            version: "2.3".into(),
            detail: "limits".into(),
            by: "ci".into(),
        };
        let columns = row_columns(&EventRow::from_event(&e, 4));
        let sql = &create_tables("LC")[1];
        for f in &EVENT_FIELDS {
            let column = match f.field {
                EventField::Time => "time_us",
                EventField::By => "actor",
                EventField::Event
                | EventField::Service
                | EventField::Version
                | EventField::Detail => f.name,
            };
            assert!(
                columns.iter().any(|c| c == column),
                "{} has no column",
                f.name
            );
            assert!(sql.contains(&format!("{column} ")), "{column} in {sql}");
        }
        assert_eq!(EventRow::from_event(&e, 4).into_event(), Ok(e));
    }
}
