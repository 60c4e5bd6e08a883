//! The ingest pipeline, drivable without sockets: validate → write-ahead buffer
//! (acknowledge only once durable) → dedup → per-second pre-aggregation → store,
//! plus the subscription bus downstream consumers read from.

use crate::error::IngestError;
use digest::{ChangeEvent, DigestRecord};

/// What an accepted batch got: its sequence number in the write-ahead buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Sequence number of the batch in the write-ahead buffer.
    pub seq: u64,
    /// Records (or events) made durable.
    pub accepted: usize,
}

/// The collector pipeline. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Pipeline {}

impl Pipeline {
    /// Makes `records` durable in the write-ahead buffer and queues them for the
    /// store. `Ok` means acknowledged: the records survive a crash from here on.
    pub async fn ingest_records(&self, records: Vec<DigestRecord>) -> Result<Receipt, IngestError> {
        let _ = records;
        Err(IngestError::Closed)
    }

    /// Same as [`Pipeline::ingest_records`] for change events.
    pub async fn ingest_events(&self, events: Vec<ChangeEvent>) -> Result<Receipt, IngestError> {
        let _ = events;
        Err(IngestError::Closed)
    }
}
