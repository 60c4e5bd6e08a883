//! payments-sim's books for the command loop's reconciliation after a heal: orders vs
//! journal vs bank books vs clearing (real and shadow ledgers), with the number of journal
//! entries and bank records read.

use command::{Books, BooksReport, Mismatch};
use payments_sim::Sim;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// [`Books`] over an in-process payments-sim.
pub struct SimBooks {
    sim: Arc<Sim>,
}

impl SimBooks {
    pub fn new(sim: Arc<Sim>) -> Self {
        Self { sim }
    }
}

impl Books for SimBooks {
    fn reconcile(&self) -> Pin<Box<dyn Future<Output = BooksReport> + Send + '_>> {
        Box::pin(async move {
            let r = self.sim.reconcile().await;
            let ledger =
                self.sim.ledger(false).journal().len() + self.sim.ledger(true).journal().len();
            let bank: usize = self.sim.banks().iter().map(|b| b.book().len()).sum();
            BooksReport {
                orders: r.orders_checked,
                ledger_entries: ledger as u64,
                bank_records: bank as u64,
                mismatches: r
                    .real
                    .iter()
                    .chain(&r.shadow)
                    .map(|m| Mismatch {
                        payment_id: m.payment_id,
                        kind: m.kind.to_string(),
                        detail: m.detail.clone(),
                    })
                    .collect(),
            }
        })
    }
}
