//! [`EmbeddedConfig`]: how much the embedded store keeps (in memory, on disk), and its segment size.

use serde::{Deserialize, Serialize};

/// Retention and files of the embedded store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// Records kept in memory, at most (oldest leave memory first; they stay on disk).
    pub max_records: usize,
    /// Segments whose last record arrived longer ago than this are deleted
    /// (by arrival, not by the records' own `time`); `None` keeps them.
    pub max_age_s: Option<u64>,
    /// Segment files take at most this many bytes (oldest deleted first); `None`: no cap.
    pub max_bytes: Option<u64>,
    /// Change events kept, at most.
    pub max_events: usize,
    /// Roll to a new segment file past this size.
    pub segment_bytes: u64,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            max_records: 300_000,
            max_age_s: Some(crate::retention::DEFAULT_AGE_S),
            max_bytes: Some(crate::retention::DEFAULT_BYTES),
            max_events: 100_000,
            segment_bytes: 32 << 20,
        }
    }
}
