//! The tailer's downstream wired to the collector: `Pipeline` as a [`TailSink`].
//! Records and events go through `ingest_records` / `ingest_events` (write-ahead
//! buffer first); a refusal (queue or buffer full) becomes
//! [`TailError::Refused`] with the pipeline's retry-after, so the tailer offers
//! the same lines again later. A retry after a half-accepted batch repeats
//! records the pipeline already has; its `(trace_id, span_id, kind)` dedup drops
//! them. Rejected lines are counted in the pipeline's `rejected_by_reason`
//! (so in `records_rejected`). SOFATracer stat lines are counted by the tailer but not stored: the
//! pipeline has no input for foreign aggregates.

use super::tail::{TailBatch, TailError, TailSink};
use crate::store::BoxFuture;
use crate::Pipeline;

impl TailSink for Pipeline {
    fn deliver(&self, batch: TailBatch) -> BoxFuture<'_, Result<(), TailError>> {
        Box::pin(async move {
            let refused = |e: crate::IngestError| TailError::Refused {
                retry_after_s: e.retry_after_s(),
                reason: e.to_string(),
            };
            if !batch.records.is_empty() {
                self.ingest_records(batch.records).await.map_err(refused)?;
            }
            if !batch.events.is_empty() {
                self.ingest_events(batch.events).await.map_err(refused)?;
            }
            Ok(())
        })
    }

    /// Tailed bad lines count in `records_rejected` like refused HTTP lines.
    fn rejected(&self, reason: &str, n: u64) {
        self.metrics().reject(reason, n);
    }
}
