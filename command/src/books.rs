//! Reconciliation after a heal: once a plan run has recovered an incident, the watched
//! system's books (orders, ledger, bank records) are compared through [`Books`] and the
//! mismatches new since the last reconciliation are attached to the incident. With a
//! settle time, two passes that far apart on the clock keep only mismatches present in
//! both (payments in flight during the first pass have finished by the second).

use crate::book::IncidentBook;
use crate::incident::{EntryKind, Reconciliation};
use digest::Micros;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

/// One mismatch between the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub payment_id: u64,
    /// What disagrees (`paid_but_not_posted`, `bank_charged_order_not_paid`, …).
    pub kind: String,
    pub detail: String,
}

/// What one reconciliation pass read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BooksReport {
    pub orders: u64,
    pub ledger_entries: u64,
    pub bank_records: u64,
    pub mismatches: Vec<Mismatch>,
}

/// The watched system's books (payments-sim's reconciliation, or a real platform's).
pub trait Books: Send + Sync {
    fn reconcile(&self) -> Pin<Box<dyn Future<Output = BooksReport> + Send + '_>>;
}

type Key = (u64, String);

/// Which incidents wait for a reconciliation, and what was already reported.
#[derive(Debug, Default)]
pub(crate) struct Reconciler {
    settle_us: u64,
    /// Incidents taken up (never reconciled twice).
    taken: HashSet<u64>,
    /// Between their two passes: incident, when the second is due, the first's mismatches.
    pending: Vec<(u64, Micros, HashSet<Key>)>,
    /// Mismatches already attached to an earlier incident.
    reported: HashSet<Key>,
}

impl Reconciler {
    pub(crate) fn new(settle_us: u64) -> Self {
        Self {
            settle_us,
            ..Self::default()
        }
    }

    /// Starts the reconciliation of every incident a plan recovered that has none yet, and
    /// finishes those whose second pass is due at `now_us`.
    pub(crate) async fn step(
        &mut self,
        now_us: Micros,
        book: &parking_lot::Mutex<IncidentBook>,
        books: &dyn Books,
    ) {
        let due: Vec<u64> = book
            .lock()
            .all()
            .filter(|i| {
                i.reconciliation.is_none() && i.runs.iter().any(|r| r.recovered_us.is_some())
            })
            .map(|i| i.id)
            .filter(|id| !self.taken.contains(id))
            .collect();
        for id in due {
            self.taken.insert(id);
            let r = books.reconcile().await;
            if self.settle_us == 0 {
                self.attach(now_us, book, id, &r, None);
            } else {
                let first = r
                    .mismatches
                    .iter()
                    .map(|m| (m.payment_id, m.kind.clone()))
                    .collect();
                self.pending.push((id, now_us + self.settle_us, first));
            }
        }
        let (ready, wait) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(_, due, _)| *due <= now_us);
        self.pending = wait;
        for (id, _, first) in ready {
            let r = books.reconcile().await;
            self.attach(now_us, book, id, &r, Some(&first));
        }
    }

    /// Attaches what is new since the last reconciliation (and, with `first`, also present
    /// in the earlier pass).
    fn attach(
        &mut self,
        now_us: Micros,
        book: &parking_lot::Mutex<IncidentBook>,
        id: u64,
        r: &BooksReport,
        first: Option<&HashSet<Key>>,
    ) {
        let fresh: Vec<&Mismatch> = r
            .mismatches
            .iter()
            .filter(|m| first.is_none_or(|f| f.contains(&(m.payment_id, m.kind.clone()))))
            .filter(|m| self.reported.insert((m.payment_id, m.kind.clone())))
            .collect();
        let rec = Reconciliation {
            orders: r.orders,
            ledger_entries: r.ledger_entries,
            bank_records: r.bank_records,
            mismatches: fresh.len() as u64,
            detail: fresh
                .iter()
                .take(20)
                .map(|m| format!("{} {}: {}", m.payment_id, m.kind, m.detail))
                .collect(),
        };
        let mut book = book.lock();
        if let Some(inc) = book.get_mut(id) {
            inc.note(
                now_us,
                EntryKind::Reconciled,
                format!("{} mismatches", rec.mismatches),
                None,
                None,
            );
            inc.reconciliation = Some(rec);
        }
    }
}
