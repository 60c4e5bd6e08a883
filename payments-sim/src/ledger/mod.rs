//! The accounting core: a double-entry ledger with user, credit, merchant and bank
//! clearing accounts, a journal keyed by payment (idempotent: one posting per
//! payment), and per-account hot-account strategies (`account`).
//!
//! Real and shadow traffic use two `Ledger` values: the shadow one names every
//! account `shadow:…`, and nothing ever posts across them.

mod account;

pub(crate) use account::Account;

use crate::config::LedgerConfig;
use crate::guard::Guard;
use crate::store::Shards;
use std::collections::BTreeMap;
use std::sync::Arc;

/// An account of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountId {
    /// A user's stored balance (the `balance` pay tool).
    User(u32),
    /// A user's credit line (the `credit` pay tool); may go down to minus the limit.
    Credit(u32),
    /// A merchant's settlement account (credited by every payment to it).
    Merchant(u32),
    /// The platform's clearing account with a bank (debited by card payments).
    BankClearing(u16),
}

impl AccountId {
    pub(crate) fn name(self, ns: &str) -> String {
        match self {
            Self::User(u) => format!("{ns}user:u-{u}"),
            Self::Credit(u) => format!("{ns}credit:u-{u}"),
            Self::Merchant(m) => format!("{ns}merchant:{}", crate::msg::merchant_key(m)),
            Self::BankClearing(b) => format!("{ns}clearing:bank-{b}"),
        }
    }
}

/// Why a posting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LedgerError {
    #[error("account {account} would go below its floor")]
    InsufficientFunds { account: String },
    #[error("payment {0} is already posted")]
    Duplicate(u64),
    #[error("amount must be positive, got {0}")]
    BadAmount(i64),
}

impl LedgerError {
    /// Business result code for digests.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::InsufficientFunds { .. } => "BALANCE_NOT_ENOUGH",
            Self::Duplicate(_) => "DUPLICATE_POSTING",
            Self::BadAmount(_) => "INVALID_AMOUNT",
        }
    }
}

/// One journal entry: `amount` moved from `debit` to `credit` for a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalEntry {
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount_cents: i64,
}

/// A double-entry ledger.
pub struct Ledger {
    ns: &'static str,
    cfg: LedgerConfig,
    accounts: Shards<AccountId, Arc<Account>>,
    journal: Shards<u64, JournalEntry>,
    guard: Arc<dyn Guard>,
}

impl Ledger {
    /// `shadow` selects the shadow namespace.
    pub(crate) fn new(cfg: LedgerConfig, shadow: bool, guard: Arc<dyn Guard>) -> Self {
        Self {
            ns: if shadow { "shadow:" } else { "" },
            cfg,
            accounts: Shards::new(),
            journal: Shards::new(),
            guard,
        }
    }

    fn account(&self, id: AccountId) -> Arc<Account> {
        if let Some(a) = self.accounts.get_cloned(&id) {
            return a;
        }
        let (opening, floor) = match id {
            AccountId::User(_) => (self.cfg.user_opening_cents, Some(0)),
            AccountId::Credit(_) => (0, Some(-self.cfg.credit_limit_cents)),
            AccountId::Merchant(_) | AccountId::BankClearing(_) => (0, None),
        };
        let default = match id {
            AccountId::User(_) | AccountId::Credit(_) => self.cfg.user_strategy,
            AccountId::Merchant(_) => self.cfg.merchant_strategy,
            AccountId::BankClearing(_) => self.cfg.internal_strategy,
        };
        let acct = Arc::new(Account::new(
            id.name(self.ns),
            opening,
            floor,
            default,
            self.cfg.split_ways as usize,
        ));
        self.accounts.get_or_insert(id, || acct).clone()
    }

    /// The strategy `id` is posted with now (guard first, then the default).
    #[cfg(test)]
    pub(crate) fn strategy(&self, id: AccountId) -> crate::guard::LedgerStrategy {
        let a = self.account(id);
        self.guard
            .ledger_strategy(a.name())
            .unwrap_or(a.default_strategy())
    }

    /// Posts `amount` from `debit` to `credit` for `payment_id`, once.
    /// The debit leg checks its floor under the account's row lock; the credit leg
    /// uses the account's strategy. Returns the posted entry.
    pub(crate) async fn post(
        &self,
        payment_id: u64,
        debit: AccountId,
        credit: AccountId,
        amount_cents: i64,
    ) -> Result<JournalEntry, LedgerError> {
        if amount_cents <= 0 {
            return Err(LedgerError::BadAmount(amount_cents));
        }
        let entry = JournalEntry {
            debit,
            credit,
            amount_cents,
        };
        if !self.journal.insert_new(payment_id, entry) {
            return Err(LedgerError::Duplicate(payment_id));
        }
        let hold = self.cfg.hold_us + self.guard.ledger_delay_us();
        let d = self.account(debit);
        let ds = self
            .guard
            .ledger_strategy(d.name())
            .unwrap_or(d.default_strategy());
        if let Err(e) = d
            .apply(-amount_cents, payment_id, ds, hold, self.cfg.batch_max)
            .await
        {
            self.journal.remove(&payment_id);
            return Err(e);
        }
        let c = self.account(credit);
        let cs = self
            .guard
            .ledger_strategy(c.name())
            .unwrap_or(c.default_strategy());
        c.apply(amount_cents, payment_id, cs, hold, self.cfg.batch_max)
            .await
            .expect("credit legs have no floor");
        Ok(entry)
    }

    /// The journal entry of a payment, if posted.
    #[cfg(test)]
    pub(crate) fn entry(&self, payment_id: u64) -> Option<JournalEntry> {
        self.journal.get_cloned(&payment_id)
    }

    /// Every journal entry, by payment id.
    pub fn journal(&self) -> BTreeMap<u64, JournalEntry> {
        self.journal.snapshot()
    }

    /// Waits until every buffered posting has been applied.
    pub(crate) async fn settle(&self) {
        for a in self.accounts.values() {
            a.settle().await;
        }
    }

    /// Every account's settled balance, by account name (settles first).
    pub(crate) async fn balances(&self) -> BTreeMap<String, i64> {
        self.settle().await;
        let mut out = BTreeMap::new();
        for a in self.accounts.values() {
            out.insert(a.name().to_string(), a.balance().await);
        }
        out
    }

    /// The settled balance of one account (settles it first).
    #[cfg(any(test, feature = "bench"))]
    pub(crate) async fn balance(&self, id: AccountId) -> i64 {
        let a = self.account(id);
        a.settle().await;
        a.balance().await
    }

    /// Postings queued in buffered accounts and not yet applied.
    #[cfg(test)]
    pub(crate) fn unsettled(&self) -> i64 {
        self.accounts
            .values()
            .iter()
            .map(|a| a.unsettled_count())
            .sum()
    }
}

#[cfg(test)]
mod tests;
