use super::*;
use crate::guard::{LedgerStrategy, NoGuard};

fn cfg(strategy: LedgerStrategy, hold_us: u64) -> LedgerConfig {
    LedgerConfig {
        hold_us,
        split_ways: 4,
        batch_max: 16,
        user_opening_cents: 10_000,
        credit_limit_cents: 5_000,
        merchant_strategy: strategy,
        ..LedgerConfig::default()
    }
}

async fn many_payers(strategy: LedgerStrategy) {
    let ledger = Arc::new(Ledger::new(cfg(strategy, 0), false, Arc::new(NoGuard)));
    let mut tasks = tokio::task::JoinSet::new();
    for payer in 0..200u32 {
        let l = ledger.clone();
        tasks.spawn(async move {
            for k in 0..5u64 {
                let id = payer as u64 * 10 + k + 1;
                l.post(id, AccountId::User(payer), AccountId::Merchant(1), 100)
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(ledger.balance(AccountId::Merchant(1)).await, 200 * 5 * 100);
    let all = ledger.balances().await;
    assert_eq!(all["user:u-7"], 10_000 - 500);
    // Double entry: money only moved.
    assert_eq!(all.values().sum::<i64>(), 200 * 10_000);
    assert_eq!(ledger.unsettled(), 0);
    assert_eq!(ledger.journal().len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_strategy_posts_everything() {
    many_payers(LedgerStrategy::Lock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_strategy_settles_everything() {
    many_payers(LedgerStrategy::Buffered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_strategy_sums_sub_accounts() {
    many_payers(LedgerStrategy::Split).await;
}

#[tokio::test]
async fn floors_duplicates_and_bad_amounts_change_nothing() {
    let l = Ledger::new(cfg(LedgerStrategy::Lock, 0), false, Arc::new(NoGuard));
    let e = l
        .post(1, AccountId::User(1), AccountId::Merchant(1), 10_001)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "BALANCE_NOT_ENOUGH");
    assert!(l.entry(1).is_none());
    assert_eq!(l.balance(AccountId::User(1)).await, 10_000);
    assert_eq!(l.balance(AccountId::Merchant(1)).await, 0);
    // Credit may go down to minus the limit, not further.
    l.post(2, AccountId::Credit(1), AccountId::Merchant(1), 5_000)
        .await
        .unwrap();
    assert!(l
        .post(3, AccountId::Credit(1), AccountId::Merchant(1), 1)
        .await
        .is_err());
    // One posting per payment.
    assert_eq!(
        l.post(2, AccountId::User(2), AccountId::Merchant(1), 1)
            .await
            .unwrap_err(),
        LedgerError::Duplicate(2)
    );
    assert_eq!(
        l.post(4, AccountId::User(2), AccountId::Merchant(1), 0)
            .await
            .unwrap_err(),
        LedgerError::BadAmount(0)
    );
    assert_eq!(l.balance(AccountId::Merchant(1)).await, 5_000);
    assert_eq!(l.balance(AccountId::User(2)).await, 10_000);
}

/// A guard that switches the merchant account's strategy, as the control plane does.
struct Switch(parking_lot::Mutex<Option<LedgerStrategy>>);
impl Guard for Switch {
    fn ledger_strategy(&self, account: &str) -> Option<LedgerStrategy> {
        if account.contains("merchant:") {
            *self.0.lock()
        } else {
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_strategy_midway_keeps_the_balance() {
    let g = Arc::new(Switch(parking_lot::Mutex::new(None)));
    let l = Ledger::new(cfg(LedgerStrategy::Lock, 0), true, g.clone());
    let mut id = 0;
    for s in [
        None,
        Some(LedgerStrategy::Buffered),
        Some(LedgerStrategy::Split),
        Some(LedgerStrategy::Lock),
    ] {
        *g.0.lock() = s;
        for u in 0..30 {
            id += 1;
            l.post(id, AccountId::User(u), AccountId::Merchant(9), 7)
                .await
                .unwrap();
        }
        assert_eq!(
            l.strategy(AccountId::Merchant(9)),
            s.unwrap_or(LedgerStrategy::Lock)
        );
    }
    assert_eq!(l.balance(AccountId::Merchant(9)).await, 120 * 7);
    assert!(l.balances().await.keys().all(|k| k.starts_with("shadow:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_lock_hold_serialises_lock_but_not_buffered() {
    // Counts row-lock holds, not time: with `lock` every posting to the hot
    // account holds its row once; with `buffered` a batch shares one hold.
    for (strategy, max_holds) in [(LedgerStrategy::Lock, 64), (LedgerStrategy::Buffered, 63)] {
        let l = Arc::new(Ledger::new(cfg(strategy, 1000), false, Arc::new(NoGuard)));
        let mut tasks = tokio::task::JoinSet::new();
        for p in 0..64u32 {
            let l = l.clone();
            tasks.spawn(async move {
                l.post(
                    p as u64 + 1,
                    AccountId::Merchant(2),
                    AccountId::Merchant(1),
                    1,
                )
                .await
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap().unwrap();
        }
        assert_eq!(l.balance(AccountId::Merchant(1)).await, 64);
        let holds = l.account(AccountId::Merchant(1)).holds();
        assert!(holds <= max_holds, "{strategy:?}: {holds} holds");
        if strategy == LedgerStrategy::Lock {
            assert_eq!(holds, 64);
        }
    }
}
