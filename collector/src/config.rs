//! Collector configuration: serde structs (`deny_unknown_fields`) whose doc
//! comments are the user documentation, with defaults that run on a laptop.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// When the write-ahead buffer calls `fsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FsyncPolicy {
    /// After every batch, before acknowledging it (survives power loss; slowest).
    Always,
    /// Acknowledge after `write(2)`; fsync every `interval_ms` (survives a process
    /// crash; a power loss may lose the last interval).
    Batch { interval_ms: u64 },
    /// Never fsync (the OS decides; survives a process crash only).
    Never,
}

impl std::str::FromStr for FsyncPolicy {
    type Err = String;
    /// `always`, `never`, `batch` (100 ms) or `batch:MS`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            "batch" => Ok(Self::Batch { interval_ms: 100 }),
            _ => match s.strip_prefix("batch:").map(str::parse::<u64>) {
                Some(Ok(ms)) if ms > 0 => Ok(Self::Batch { interval_ms: ms }),
                _ => Err(format!(
                    "bad fsync policy {s:?} (expected always, never, batch or batch:MS)"
                )),
            },
        }
    }
}

/// Limits on one HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body, after gzip decompression (bytes). Larger: 413.
    pub max_body_bytes: usize,
    /// Longest accepted line (bytes); longer lines are rejected one by one.
    pub max_line_bytes: usize,
    /// Most lines in one request. More: 413.
    pub max_lines: usize,
    /// How many line errors a reply lists (the rest are only counted).
    pub max_reported_errors: usize,
    /// Ingest requests read at once, at most; more get 503 + `Retry-After`
    /// before their body is read. With `max_body_bytes` this bounds the memory
    /// bodies can take.
    pub max_inflight_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 << 20,
            max_line_bytes: 64 << 10,
            max_lines: 50_000,
            max_reported_errors: 10,
            max_inflight_requests: 32,
        }
    }
}

/// The pipeline's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Where the write-ahead buffer (`wal/`) and the embedded store (`store/`) live.
    pub data_dir: PathBuf,
    pub fsync: FsyncPolicy,
    /// Records accepted but not yet confirmed by the store, at most (else 429).
    pub max_pending_records: u64,
    /// Unconfirmed bytes in the write-ahead buffer, at most (else 503).
    pub max_wal_bytes: u64,
    /// Roll to a new write-ahead segment past this size.
    pub wal_segment_bytes: u64,
    /// Keys remembered for dropping duplicates (two generations of this size).
    pub dedup_keys: usize,
    /// A second is closed and published this long after it ended (late records
    /// still count, in a later partial for the same second).
    pub rollup_lateness_ms: u64,
    /// Most records one store write carries.
    pub store_batch_records: usize,
    /// Capacity of each subscription channel (in messages); slow consumers lag
    /// and are told how many messages they missed.
    pub bus_capacity: usize,
    pub limits: Limits,
    /// Records whose own `time` is older than this (against the clock) when
    /// they are admitted are acknowledged but not stored, counted as
    /// `outside_retention`; `None` keeps every age. Match the store's retention.
    pub retention_s: Option<u64>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("warroom-data"),
            fsync: FsyncPolicy::Batch { interval_ms: 100 },
            max_pending_records: 200_000,
            max_wal_bytes: 512 << 20,
            wal_segment_bytes: 32 << 20,
            dedup_keys: 500_000,
            rollup_lateness_ms: 1_000,
            store_batch_records: 20_000,
            bus_capacity: 256,
            limits: Limits::default(),
            retention_s: Some(crate::retention::DEFAULT_AGE_S),
        }
    }
}

impl PipelineConfig {
    /// Checks values that would make the pipeline useless.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_pending_records == 0 {
            return Err("max_pending_records must be > 0".into());
        }
        if self.max_wal_bytes < 1 << 16 {
            return Err("max_wal_bytes must be at least 65536".into());
        }
        if self.dedup_keys == 0 || self.store_batch_records == 0 || self.bus_capacity == 0 {
            return Err("dedup_keys, store_batch_records and bus_capacity must be > 0".into());
        }
        if self.limits.max_body_bytes == 0
            || self.limits.max_lines == 0
            || self.limits.max_inflight_requests == 0
        {
            return Err(
                "limits.max_body_bytes, limits.max_lines and limits.max_inflight_requests must be > 0"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsync_policy_parses_and_refuses() {
        assert_eq!("always".parse(), Ok(FsyncPolicy::Always));
        assert_eq!(
            "batch:50".parse(),
            Ok(FsyncPolicy::Batch { interval_ms: 50 })
        );
        assert!("batch:0".parse::<FsyncPolicy>().is_err());
        assert!("sometimes".parse::<FsyncPolicy>().is_err());
    }

    #[test]
    fn unknown_config_field_is_named() {
        let err = serde_json::from_str::<PipelineConfig>(r#"{"max_pending":1}"#).unwrap_err();
        assert!(err.to_string().contains("max_pending"), "{err}");
        let ok: PipelineConfig = serde_json::from_str(r#"{"fsync":"always"}"#).unwrap();
        assert_eq!(ok.fsync, FsyncPolicy::Always);
        assert!(ok.validate().is_ok());
    }
}
