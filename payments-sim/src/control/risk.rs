//! [`RiskDegrade`]: the business-aware degrade of the synchronous risk check. With a cap
//! set (`PUT /control/risk {"sync_skip_below_cents": N}`), payments below N cents skip the
//! core sync check — the small payments a slow or failing risk service would otherwise
//! hold up or fail — and every skipped check is counted and marked on the payment's digest
//! (`risk = skipped`) for later review. 0 (the default) checks every payment. The payment
//! path reads it with one atomic load.

use super::changes::ChangeBatch;
use super::error::ControlError;
use digest::ChangeKind;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The largest cap a body may set (100,000 yuan): a degrade that skips every check is a
/// switch, not a cap.
pub(crate) const MAX_SKIP_CENTS: i64 = 10_000_000;

/// `GET /control/risk` (and the answer of `PUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskView {
    /// Payments below this amount skip the sync check (0: none does).
    pub sync_skip_below_cents: i64,
    /// Sync checks skipped so far (each to be reviewed).
    pub skipped: u64,
}

/// `PUT /control/risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    pub sync_skip_below_cents: i64,
}

#[derive(Debug, Default)]
pub(crate) struct RiskDegrade {
    below_cents: AtomicI64,
    skipped: AtomicU64,
}

impl RiskDegrade {
    /// Whether a payment of `amount_cents` skips the sync check (counted when it does).
    #[inline]
    pub(crate) fn skips(&self, amount_cents: i64) -> bool {
        let cap = self.below_cents.load(Ordering::Relaxed);
        if cap > 0 && amount_cents < cap {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }

    pub(crate) fn view(&self) -> RiskView {
        RiskView {
            sync_skip_below_cents: self.below_cents.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    /// Sets the cap (checked first: a refused body changes nothing); one change event
    /// when it changed.
    pub(crate) fn put(
        &self,
        body: RiskBody,
        batch: &ChangeBatch<'_>,
    ) -> Result<RiskView, ControlError> {
        let cap = body.sync_skip_below_cents;
        if !(0..=MAX_SKIP_CENTS).contains(&cap) {
            return Err(ControlError::invalid(
                "sync_skip_below_cents",
                format!("must be 0..={MAX_SKIP_CENTS} cents"),
            ));
        }
        if self.below_cents.swap(cap, Ordering::Relaxed) != cap {
            let what = if cap == 0 {
                "risk sync check on for every payment".to_string()
            } else {
                format!("risk sync check skipped below {cap} cents")
            };
            batch.emit(ChangeKind::Switch, "risk", "", what);
        }
        Ok(self.view())
    }
}
