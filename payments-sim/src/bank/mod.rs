//! The virtual banks behind the bank gateway. Each bank's message template,
//! result codes and their mapping to platform codes, latency and outcome rates are
//! DATA (`payments-sim/banks/*.toml`, built in; another directory can be loaded).
//! Each bank keeps its own book of transactions (what it believes it charged),
//! which reconciliation compares with orders and ledger.

mod router;
mod spec;

pub(crate) use router::Router;
pub use spec::{BankSpec, Responses};

use crate::ctx::rand_below;
use crate::error::SimError;
use crate::store::Shards;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The built-in bank data files.
pub(crate) const BUILTIN: [(&str, &str); 4] = [
    ("bank-a.toml", include_str!("../../banks/bank-a.toml")),
    ("bank-b.toml", include_str!("../../banks/bank-b.toml")),
    ("bank-c.toml", include_str!("../../banks/bank-c.toml")),
    (
        "bank-sandbox.toml",
        include_str!("../../banks/bank-sandbox.toml"),
    ),
];

/// Loads the built-in banks.
pub fn builtin_specs() -> Result<Vec<BankSpec>, SimError> {
    BUILTIN.iter().map(|(f, s)| BankSpec::parse(f, s)).collect()
}

/// What the bank believes happened to one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTxn {
    pub amount_cents: i64,
    /// The bank's own result code.
    pub bank_code: String,
    pub charged: bool,
    pub shadow: bool,
}

/// How a bank answered.
#[derive(Debug, Clone)]
pub(crate) struct BankAnswer {
    /// The platform code the bank's own code maps to.
    pub code: &'static str,
    pub latency_us: u64,
    /// The result callback reached the platform.
    pub callback: bool,
}

/// One virtual bank.
pub struct VirtualBank {
    pub spec: BankSpec,
    book: Shards<u64, BankTxn>,
    /// Test hook: drop the result callback of these payment ids.
    drop_callbacks: parking_lot::Mutex<Vec<u64>>,
    calls: AtomicU64,
    shadow_calls: AtomicU64,
}

impl VirtualBank {
    pub(crate) fn new(spec: BankSpec) -> Self {
        Self {
            spec,
            book: Shards::new(),
            drop_callbacks: parking_lot::Mutex::new(Vec::new()),
            calls: AtomicU64::new(0),
            shadow_calls: AtomicU64::new(0),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Processes a charge: renders the message, decides the outcome, books it.
    pub(crate) fn charge(
        &self,
        payment_id: u64,
        merchant: &str,
        amount_cents: i64,
        shadow: bool,
    ) -> BankAnswer {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if shadow {
            self.shadow_calls.fetch_add(1, Ordering::Relaxed);
        }
        // The bank reads the request rendered from its template: that work is
        // part of every charge, though nothing keeps the message.
        std::hint::black_box(self.spec.render(payment_id, merchant, amount_cents));
        let r = rand_below(1_000_000) as u32;
        let (bank_code, charged) = if r < self.spec.error_per_million {
            (self.spec.responses.error.as_str(), false)
        } else if r < self.spec.error_per_million + self.spec.decline_per_million {
            (self.spec.responses.decline.as_str(), false)
        } else {
            (self.spec.responses.success.as_str(), true)
        };
        let code = self.spec.map_code(bank_code);
        self.book.insert(
            payment_id,
            BankTxn {
                amount_cents,
                bank_code: bank_code.to_string(),
                charged,
                shadow,
            },
        );
        let callback = {
            let mut d = self.drop_callbacks.lock();
            match d.iter().position(|p| *p == payment_id) {
                Some(i) => {
                    d.swap_remove(i);
                    false
                }
                None => true,
            }
        };
        let latency_us = self.spec.latency_base_us
            + if self.spec.latency_jitter_us > 0 {
                rand_below(self.spec.latency_jitter_us)
            } else {
                0
            };
        BankAnswer {
            code,
            latency_us,
            callback,
        }
    }

    /// Reverses the charge of `payment_id` (the platform could not book it): the
    /// book then shows it not charged, with the bank code `REVERSED`. Whether a
    /// charge was reversed.
    pub(crate) fn reverse(&self, payment_id: u64) -> bool {
        self.book
            .update(&payment_id, |t| {
                let was = t.charged;
                if was {
                    t.charged = false;
                    t.bank_code = "REVERSED".to_string();
                }
                was
            })
            .unwrap_or(false)
    }

    /// Test hook: the bank will not deliver the result callback of `payment_id`.
    pub fn drop_callback_of(&self, payment_id: u64) {
        self.drop_callbacks.lock().push(payment_id);
    }

    /// The bank's book: payment id → transaction.
    pub fn book(&self) -> BTreeMap<u64, BankTxn> {
        self.book.snapshot()
    }

    /// Calls received (all, and shadow ones).
    pub fn calls(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.shadow_calls.load(Ordering::Relaxed),
        )
    }
}
