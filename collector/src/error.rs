//! The collector's one error enum for ingest, named by what failed. HTTP status
//! codes are chosen only at the edge (`http::reply`), never here.

use crate::store::StoreError;

/// Why a batch was not accepted. Nothing of a refused batch is acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Too many records are waiting for the store; try again later (HTTP 429).
    #[error("ingest queue full ({pending} records pending, limit {limit}); retry after {retry_after_s}s")]
    Busy {
        pending: u64,
        limit: u64,
        retry_after_s: u64,
    },
    /// The write-ahead buffer on disk is full (store far behind); HTTP 503.
    #[error(
        "write-ahead buffer full ({bytes} bytes, limit {limit}); retry after {retry_after_s}s"
    )]
    BufferFull {
        bytes: u64,
        limit: u64,
        retry_after_s: u64,
    },
    /// Writing the write-ahead buffer failed; nothing was acknowledged (HTTP 503).
    #[error("write-ahead buffer I/O: {0}")]
    Wal(#[from] std::io::Error),
    /// The pipeline is shutting down.
    #[error("collector is shutting down")]
    Closed,
    /// The caller's payload does not hold one line per record (a caller bug);
    /// nothing was acknowledged.
    #[error("payload has {lines} record lines for {records} records")]
    LinesMismatch { lines: usize, records: usize },
}

impl IngestError {
    /// Seconds a client should wait before retrying, when retrying makes sense.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::Busy { retry_after_s, .. } | Self::BufferFull { retry_after_s, .. } => {
                Some(*retry_after_s)
            }
            Self::Wal(_) | Self::Closed => Some(1),
            Self::LinesMismatch { .. } => None,
        }
    }
}

/// Why the pipeline could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("write-ahead buffer: {0}")]
    Wal(std::io::Error),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("config: {0}")]
    Config(String),
}
