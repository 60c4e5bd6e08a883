//! Reconciliation: "money stays right". Compares, per payment, trade's order, the
//! ledger's journal, the bank's book and clearing, and lists every mismatch — real
//! and shadow traffic separately, each against its own ledger.

use crate::msg::PayTool;
use crate::world::{OrderStatus, World};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One payment whose records disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub payment_id: u64,
    /// `order_not_paid_but_posted`, `paid_but_not_posted`, `amount_differs`,
    /// `bank_charged_order_not_paid`, `paid_but_bank_not_charged`,
    /// `paid_but_not_cleared`, `posting_without_order`, `order_still_pending`,
    /// `wrong_ledger`.
    pub kind: &'static str,
    pub detail: String,
}

/// Result of one reconciliation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReconReport {
    pub orders_checked: u64,
    pub real: Vec<Mismatch>,
    pub shadow: Vec<Mismatch>,
}

impl ReconReport {
    pub fn total(&self) -> usize {
        self.real.len() + self.shadow.len()
    }
}

/// Settles buffered postings, then compares everything.
pub(crate) async fn reconcile(w: &Arc<World>) -> ReconReport {
    w.ledger.settle().await;
    w.shadow_ledger.settle().await;
    let orders = w.orders.snapshot();
    let real_j = w.ledger.journal();
    let shadow_j = w.shadow_ledger.journal();
    let clearing = w.clearing.snapshot();
    let mut bank_books = BTreeMap::new();
    for b in &w.router.banks {
        for (id, t) in b.book() {
            bank_books.insert(id, (b.name().to_string(), t));
        }
    }
    let mut rep = ReconReport::default();
    for (&id, o) in &orders {
        rep.orders_checked += 1;
        let mut out = Vec::new();
        let (own, other) = if o.shadow {
            (&shadow_j, &real_j)
        } else {
            (&real_j, &shadow_j)
        };
        if other.contains_key(&id) {
            out.push((
                "wrong_ledger",
                "posted in the other namespace's ledger".to_string(),
            ));
        }
        let posted = own.get(&id);
        let bank = bank_books.get(&id);
        let charged = bank.is_some_and(|(_, t)| t.charged);
        match &o.status {
            OrderStatus::Paid => {
                match posted {
                    None => out.push(("paid_but_not_posted", String::new())),
                    Some(e) if e.amount_cents != o.amount_cents => out.push((
                        "amount_differs",
                        format!("order {} posted {}", o.amount_cents, e.amount_cents),
                    )),
                    _ => {}
                }
                if o.tool == PayTool::BankCard {
                    match bank {
                        Some((_, t)) if t.charged && t.amount_cents == o.amount_cents => {}
                        Some((b, t)) => out.push((
                            "paid_but_bank_not_charged",
                            format!("{b} booked {} charged={}", t.amount_cents, t.charged),
                        )),
                        None => out.push(("paid_but_bank_not_charged", "no bank record".into())),
                    }
                }
                if !clearing.contains_key(&id) {
                    out.push(("paid_but_not_cleared", String::new()));
                }
            }
            OrderStatus::Failed(code) => {
                if posted.is_some() {
                    out.push((
                        "order_not_paid_but_posted",
                        format!("order failed with {code}"),
                    ));
                }
                if charged {
                    let (b, t) = bank.expect("charged implies a record");
                    out.push((
                        "bank_charged_order_not_paid",
                        format!(
                            "{b} charged {} but order failed with {code}",
                            t.amount_cents
                        ),
                    ));
                }
            }
            OrderStatus::Created => out.push(("order_still_pending", String::new())),
        }
        let list = if o.shadow {
            &mut rep.shadow
        } else {
            &mut rep.real
        };
        for (kind, detail) in out {
            list.push(Mismatch {
                payment_id: id,
                kind,
                detail,
            });
        }
    }
    for (journal, list) in [(&real_j, &mut rep.real), (&shadow_j, &mut rep.shadow)] {
        for id in journal.keys() {
            if !orders.contains_key(id) {
                list.push(Mismatch {
                    payment_id: *id,
                    kind: "posting_without_order",
                    detail: String::new(),
                });
            }
        }
    }
    rep
}
