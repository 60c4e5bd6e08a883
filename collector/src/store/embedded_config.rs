//! [`EmbeddedConfig`]: how much the embedded store keeps, and its segment size.

use serde::{Deserialize, Serialize};

/// Retention and files of the embedded store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// Records kept, at most (oldest evicted first).
    pub max_records: usize,
    /// Records older than this (by their `time`) are evicted; `None` keeps them.
    pub max_age_s: Option<u64>,
    /// Change events kept, at most.
    pub max_events: usize,
    /// Roll to a new segment file past this size.
    pub segment_bytes: u64,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            max_records: 300_000,
            max_age_s: Some(6 * 3600),
            max_events: 100_000,
            segment_bytes: 32 << 20,
        }
    }
}
