//! The payment path: [`Guard`] for [`Steering`], rules first, then faults.
//! With no rules and no faults every method is one or two atomic loads;
//! otherwise rules and faults are read from per-thread cached snapshots (no
//! shared lock or reference count) and the clock is read only when a rule or
//! fault applies.
//!
//! Contract with the services: `exit` is called once for every call `enter`
//! saw, refused or not (`success` false when refused); `bank_exit` likewise
//! for `bank`. A call refused by a rule (flow, hot parameter, open breaker) is
//! not a served call: its exit is cancelled against the refusal, as Sentinel
//! never exits a blocked entry. A call failed by a fault is a served call that
//! failed, and counts in the breakers like any other failure.

use super::steering::Steering;
use crate::guard::{CallSite, ChannelWeight, Guard, LedgerStrategy, Verdict};
use crate::instances::Instances;
use std::sync::Arc;

impl Steering {
    /// Rules, then faults, for one call (`bank` set for a bank call).
    fn guard_call(
        &self,
        service: &str,
        op: &str,
        site: &CallSite<'_>,
        bank: Option<&str>,
    ) -> Verdict {
        let rules_on = self.rules.is_active();
        let faults_on = self.faults.any();
        if !rules_on && !faults_on {
            return Verdict::PASS;
        }
        let mut verdict = Verdict::PASS;
        if rules_on {
            verdict = self
                .rules
                .compiled(|c| c.enter(service, op, site, || self.clock.now_us()));
        }
        if !faults_on {
            return verdict;
        }
        if self.faults.has_releases() {
            let now = self.clock.now_us();
            self.releases.poll(&self.faults, now, &self.changes);
            self.configs.poll(&self.faults, now, &self.changes);
        }
        self.faults
            .judge(site, bank, verdict, &self.clock, |service| {
                self.routing.pools.size(service)
            })
    }

    fn call_exit(
        &self,
        service: &str,
        op: &str,
        site: &CallSite<'_>,
        bank: bool,
        success: bool,
        duration_us: u64,
    ) {
        if self.rules.is_active() {
            self.rules
                .compiled(|c| c.exit(service, op, success, duration_us, || self.clock.now_us()));
        }
        if !bank {
            self.faults.exit(site, success, &self.clock);
        }
    }
}

impl Guard for Steering {
    fn enter(&self, site: &CallSite<'_>) -> Verdict {
        self.guard_call(site.service, site.operation, site, None)
    }

    fn exit(&self, site: &CallSite<'_>, success: bool, duration_us: u64) {
        self.call_exit(
            site.service,
            site.operation,
            site,
            false,
            success,
            duration_us,
        );
    }

    fn bank(&self, bank: &str, site: &CallSite<'_>) -> Verdict {
        self.guard_call("bank", bank, site, Some(bank))
    }

    fn bank_exit(&self, bank: &str, site: &CallSite<'_>, success: bool, duration_us: u64) {
        self.call_exit("bank", bank, site, true, success, duration_us);
    }

    fn feature_enabled(&self, feature: &str) -> bool {
        self.switches.enabled(feature)
    }

    fn business_decline(&self) -> bool {
        self.declines.decline()
    }

    fn skip_sync_risk(&self, amount_cents: i64) -> bool {
        self.risk.skips(amount_cents)
    }

    fn channel_weights(&self) -> Option<Vec<ChannelWeight>> {
        self.routing.channels.weights()
    }

    fn zone_for(&self, user_hash: u64) -> Option<String> {
        self.routing.zones.zone_for(user_hash)
    }

    fn version(&self, service: &str) -> Option<String> {
        self.faults
            .bad_version(service, &self.clock)
            .or_else(|| self.releases.pinned(service))
    }

    fn ledger_strategy(&self, account: &str) -> Option<LedgerStrategy> {
        self.routing.strategies.of(account).or_else(|| {
            // A hot merchant's account is one row: while the fault lasts its postings queue
            // on that row's lock, until the control plane buffers or splits them.
            let merchant = account.strip_prefix("merchant:")?;
            let (hot, _) = self.faults.hot_merchant(&self.clock)?;
            (hot == merchant).then_some(LedgerStrategy::Lock)
        })
    }

    fn instance_isolated(&self, instance: &str) -> bool {
        self.routing.rotation.is_isolated(instance)
    }

    fn attach_instances(&self, table: &Arc<Instances>) {
        self.routing.rotation.attach(table);
    }

    /// Slow-ledger faults slow postings only while their database is the primary.
    fn ledger_delay_us(&self) -> u64 {
        self.faults
            .ledger_delay_us(self.routing.ledger_db.primary(), &self.clock)
    }

    fn load_multiplier(&self) -> f64 {
        self.faults.load_multiplier(&self.clock)
    }

    fn hot_merchant(&self) -> Option<(String, f64)> {
        self.faults.hot_merchant(&self.clock)
    }
}
