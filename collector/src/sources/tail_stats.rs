//! What the file tailer reports: its running totals ([`TailStats`], shared
//! with the pipeline's stats and `/metrics` as [`SharedTailStats`]) and the
//! last bad lines.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

/// A bad line, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    pub path: PathBuf,
    /// Byte offset of the line in its file.
    pub offset: u64,
    pub reason: String,
}

/// What the tailer did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TailStats {
    pub files_followed: usize,
    pub lines_accepted: u64,
    pub records: u64,
    pub events: u64,
    pub stat_lines: u64,
    pub rejected_total: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Batches the sink refused (offered again later).
    pub deliveries_refused: u64,
    /// Files let go after a rename or delete, once drained.
    pub rotations: u64,
    /// Files that shrank or got a different head (copytruncate).
    pub truncations: u64,
    pub io_errors: u64,
    /// The last bad lines (at most 20).
    pub recent_bad_lines: VecDeque<BadLine>,
}

/// A copy of the tailer's stats that other tasks (e.g. `/api/stats`) can read;
/// refreshed at the end of every poll.
pub type SharedTailStats = std::sync::Arc<parking_lot::Mutex<TailStats>>;
