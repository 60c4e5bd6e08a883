//! The ledger's levers: posting strategies per account ([`LedgerStrategies`]:
//! `lock`, `buffered`, `split`) and the database switchover ([`LedgerDb`]:
//! primary ↔ standby). One change event per change; the payment path reads
//! each with one atomic load when nothing is set.

use super::super::changes::{ChangeBatch, LEDGER_SERVICE};
use super::super::error::{check_name, ControlError};
use crate::faults::LEDGER_DBS;
use crate::guard::LedgerStrategy;
use crate::hotpath::Flagged;
use digest::ChangeKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `GET`/`PUT /control/ledger-db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerDbView {
    pub primary: String,
    pub standby: String,
}

/// `PUT /control/ledger-db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchoverBody {
    pub primary: String,
}

/// Posting strategies set per account through the control plane.
#[derive(Debug, Default)]
pub(crate) struct LedgerStrategies {
    by_account: Flagged<BTreeMap<String, LedgerStrategy>>,
}

impl LedgerStrategies {
    /// The strategy set for `account`; `None` = the ledger's default.
    #[inline]
    pub(crate) fn of(&self, account: &str) -> Option<LedgerStrategy> {
        self.by_account
            .read_set(|m| m.get(account).copied())
            .flatten()
    }

    pub(crate) fn all(&self) -> BTreeMap<String, LedgerStrategy> {
        self.by_account.read(|m| m.clone())
    }

    /// Merges `body` (`null` restores the ledger's default for that account);
    /// one change event per account that changed.
    pub(crate) fn put(
        &self,
        body: BTreeMap<String, Option<LedgerStrategy>>,
        batch: &ChangeBatch<'_>,
    ) -> Result<BTreeMap<String, LedgerStrategy>, ControlError> {
        for k in body.keys() {
            check_name(k, k)?;
        }
        for (account, s) in self.by_account.merge(body) {
            let s = s
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_else(|| "default".into());
            batch.emit(
                ChangeKind::Config,
                LEDGER_SERVICE,
                "",
                format!("ledger strategy {account} = {s}"),
            );
        }
        Ok(self.all())
    }
}

/// Which of [`LEDGER_DBS`] is the ledger's primary.
#[derive(Debug, Default)]
pub(crate) struct LedgerDb {
    /// Index of the primary in [`LEDGER_DBS`].
    primary: AtomicUsize,
}

impl LedgerDb {
    pub(crate) fn primary(&self) -> &'static str {
        LEDGER_DBS[self.primary.load(Ordering::Acquire) % LEDGER_DBS.len()]
    }

    pub(crate) fn view(&self) -> LedgerDbView {
        let p = self.primary.load(Ordering::Acquire) % LEDGER_DBS.len();
        LedgerDbView {
            primary: LEDGER_DBS[p].to_string(),
            standby: LEDGER_DBS[(p + 1) % LEDGER_DBS.len()].to_string(),
        }
    }

    /// The index of the database a switchover asks for.
    pub(crate) fn check(body: &SwitchoverBody) -> Result<usize, ControlError> {
        LEDGER_DBS
            .iter()
            .position(|d| *d == body.primary)
            .ok_or_else(|| {
                ControlError::invalid(
                    "primary",
                    format!(
                        "unknown database {:?} (expected {})",
                        body.primary,
                        LEDGER_DBS.join(" or ")
                    ),
                )
            })
    }

    /// Switches the ledger over to database `next` (the primary already is a
    /// no-op); one change event when it changes.
    pub(crate) fn switch_to(&self, next: usize, batch: &ChangeBatch<'_>) -> LedgerDbView {
        let before = self.primary.swap(next, Ordering::AcqRel);
        if before != next {
            batch.emit(
                ChangeKind::Config,
                LEDGER_SERVICE,
                "",
                format!(
                    "ledger switchover {} -> {}",
                    LEDGER_DBS[before % LEDGER_DBS.len()],
                    LEDGER_DBS[next]
                ),
            );
        }
        self.view()
    }
}
