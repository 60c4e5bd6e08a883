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

/// Why the HTTP edge (tokens, TLS, the address it listens on) cannot be set up. Messages
/// name the source or the file, never a token.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// A source's name is empty, too long, not `[A-Za-z0-9._-]`, reserved or used twice.
    #[error("ingest token `{name}`: {reason}")]
    SourceName { name: String, reason: String },
    /// A source's token is too short, or the same as another source's.
    #[error("ingest token of `{name}`: {reason}")]
    Token { name: String, reason: String },
    /// A TLS certificate or key file cannot be read or holds no usable PEM.
    #[error("TLS {what} {path}: {reason}")]
    TlsFile {
        what: &'static str,
        path: String,
        reason: String,
    },
    /// rustls refused the certificate and key together (e.g. the key is not the
    /// certificate's).
    #[error("TLS certificate {cert} with key {key}: {reason}")]
    TlsConfig {
        cert: String,
        key: String,
        reason: String,
    },
    /// Listening beyond loopback with no token configured, without the operator's say-so.
    #[error(
        "refusing to listen on {addr} without ingest tokens: anyone who reaches it could feed \
         the war room forged digests (configure [collector] tokens, listen on loopback, or pass \
         --allow-unauthenticated-ingest / set [collector] allow_unauthenticated = true)"
    )]
    UnauthenticatedBeyondLoopback { addr: std::net::SocketAddr },
    /// The listener failed.
    #[error("collector listener: {0}")]
    Io(#[from] std::io::Error),
}
