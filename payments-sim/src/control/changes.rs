//! Change events of the control plane: where they go ([`ChangeSink`]) and the
//! order they come out in. Every control change runs as one [`ChangeBatch`],
//! which holds the control plane's write lock, so changes apply — and their
//! events are emitted — one after another, in the order applied.

use digest::{ChangeEvent, ChangeKind, SharedClock};
use parking_lot::{Mutex, MutexGuard};
use std::sync::Arc;

/// Where change events go (the digest sink, a collector client, a test's Vec).
pub type ChangeSink = Arc<dyn Fn(ChangeEvent) + Send + Sync>;

/// The service a change event names for bank channel weights.
pub(crate) const CHANNEL_SERVICE: &str = "bank-gateway";
/// The service a change event names for ledger strategies and the ledger's database.
pub(crate) const LEDGER_SERVICE: &str = "accounting";

/// The change events of one payments-sim: its sink, clock and write order.
pub(crate) struct Changes {
    clock: SharedClock,
    sink: ChangeSink,
    writes: Mutex<()>,
}

impl Changes {
    pub(crate) fn new(clock: SharedClock, sink: ChangeSink) -> Self {
        Self {
            clock,
            sink,
            writes: Mutex::new(()),
        }
    }

    /// Starts one control change made `by` someone (the change events' `by`);
    /// other changes wait until the batch is dropped.
    pub(crate) fn begin<'a>(&'a self, by: &'a str) -> ChangeBatch<'a> {
        ChangeBatch {
            _order: self.writes.lock(),
            changes: self,
            by,
        }
    }
}

/// One control change in progress; see [`Changes::begin`].
pub(crate) struct ChangeBatch<'a> {
    _order: MutexGuard<'a, ()>,
    changes: &'a Changes,
    by: &'a str,
}

impl ChangeBatch<'_> {
    /// Emits one change event, timed now.
    pub(crate) fn emit(&self, event: ChangeKind, service: &str, version: &str, detail: String) {
        (self.changes.sink)(ChangeEvent {
            time_us: self.changes.clock.now_us(),
            event,
            service: service.to_string(),
            version: version.to_string(),
            detail,
            by: self.by.to_string(),
        });
    }
}
