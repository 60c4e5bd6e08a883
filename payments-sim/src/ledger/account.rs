//! One ledger account and its hot-account strategies:
//! - `lock`: the posting takes the account's row lock and holds it for the modelled
//!   hold time (one posting per hold);
//! - `buffered`: the posting is queued and returns; a settler applies queued
//!   postings in batches of up to `batch_max` under one row-lock hold;
//! - `split`: the account is split into sub-accounts (rows), each with its own lock;
//!   a posting takes one of them (by payment id).
//!
//! The balance is the main row plus every sub-account plus what is queued. An
//! account with a floor (a user balance or credit line) is always posted under its
//! main row lock: a balance cannot be checked against postings not yet applied.

use super::LedgerError;
use crate::guard::LedgerStrategy;
use parking_lot::Mutex as SyncMutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

pub(crate) struct Account {
    name: String,
    floor: Option<i64>,
    default: LedgerStrategy,
    row: Mutex<i64>,
    subs: Vec<Mutex<i64>>,
    queue: SyncMutex<Vec<i64>>,
    /// Sum and count of queued, not yet applied postings.
    unsettled_sum: AtomicI64,
    unsettled_n: AtomicI64,
    settling: AtomicBool,
    /// Row-lock holds taken (main row and sub-accounts).
    holds: AtomicU64,
}

impl Account {
    /// Holds the row lock already taken for the modelled time.
    async fn hold(&self, us: u64) {
        self.holds.fetch_add(1, Ordering::Relaxed);
        if us > 0 {
            tokio::time::sleep(Duration::from_micros(us)).await;
        }
    }

    /// Row-lock holds taken so far.
    #[cfg(test)]
    pub(crate) fn holds(&self) -> u64 {
        self.holds.load(Ordering::Relaxed)
    }
}

impl Account {
    pub(crate) fn new(
        name: String,
        opening: i64,
        floor: Option<i64>,
        default: LedgerStrategy,
        split_ways: usize,
    ) -> Self {
        Self {
            name,
            floor,
            default,
            row: Mutex::new(opening),
            subs: (0..split_ways.max(1)).map(|_| Mutex::new(0)).collect(),
            queue: SyncMutex::new(Vec::new()),
            unsettled_sum: AtomicI64::new(0),
            unsettled_n: AtomicI64::new(0),
            settling: AtomicBool::new(false),
            holds: AtomicU64::new(0),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn default_strategy(&self) -> LedgerStrategy {
        self.default
    }

    /// Applies `delta` with `strategy`, holding row locks for `hold_us`.
    pub(crate) async fn apply(
        self: &Arc<Self>,
        delta: i64,
        payment_id: u64,
        strategy: LedgerStrategy,
        hold_us: u64,
        batch_max: usize,
    ) -> Result<(), LedgerError> {
        if let Some(floor) = self.floor {
            let mut row = self.row.lock().await;
            self.hold(hold_us).await;
            if *row + delta < floor {
                return Err(LedgerError::InsufficientFunds {
                    account: self.name.clone(),
                });
            }
            *row += delta;
            return Ok(());
        }
        match strategy {
            LedgerStrategy::Lock => {
                let mut row = self.row.lock().await;
                self.hold(hold_us).await;
                *row += delta;
            }
            LedgerStrategy::Split => {
                let sub = &self.subs[(payment_id % self.subs.len() as u64) as usize];
                let mut row = sub.lock().await;
                self.hold(hold_us).await;
                *row += delta;
            }
            LedgerStrategy::Buffered => {
                self.queue.lock().push(delta);
                self.unsettled_sum.fetch_add(delta, Ordering::AcqRel);
                self.unsettled_n.fetch_add(1, Ordering::AcqRel);
                if !self.settling.swap(true, Ordering::AcqRel) {
                    let me = self.clone();
                    tokio::spawn(async move { me.settler(hold_us, batch_max).await });
                }
            }
        }
        Ok(())
    }

    /// Applies queued postings in batches until the queue is empty.
    async fn settler(self: Arc<Self>, hold_us: u64, batch_max: usize) {
        loop {
            let batch: Vec<i64> = {
                let mut q = self.queue.lock();
                let n = q.len().min(batch_max);
                q.drain(..n).collect()
            };
            if batch.is_empty() {
                self.settling.store(false, Ordering::Release);
                let more = !self.queue.lock().is_empty();
                if more && !self.settling.swap(true, Ordering::AcqRel) {
                    continue;
                }
                return;
            }
            let sum: i64 = batch.iter().sum();
            {
                let mut row = self.row.lock().await;
                self.hold(hold_us).await;
                *row += sum;
            }
            self.unsettled_sum.fetch_sub(sum, Ordering::AcqRel);
            self.unsettled_n
                .fetch_sub(batch.len() as i64, Ordering::AcqRel);
        }
    }

    /// Postings queued and not yet applied.
    #[cfg(test)]
    pub(crate) fn unsettled_count(&self) -> i64 {
        self.unsettled_n.load(Ordering::Acquire)
    }

    /// Waits until no queued posting is left.
    pub(crate) async fn settle(&self) {
        let mut spins = 0u32;
        while self.unsettled_n.load(Ordering::Acquire) > 0 || self.settling.load(Ordering::Acquire)
        {
            spins += 1;
            if spins.is_multiple_of(64) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Main row + sub-accounts + queued postings.
    pub(crate) async fn balance(&self) -> i64 {
        let mut total = *self.row.lock().await;
        for s in &self.subs {
            total += *s.lock().await;
        }
        total + self.unsettled_sum.load(Ordering::Acquire)
    }
}
