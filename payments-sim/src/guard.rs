//! The seam between the payment services and what steers or breaks them.
//!
//! Every served call, every bank call and every steering decision of payments-sim
//! asks a [`Guard`]. The services (foundation) call it at each resource boundary;
//! the control plane and fault injection (`control/`, `faults/`) implement it. With
//! [`NoGuard`] the system runs unsteered and unbroken.
//!
//! Contract for implementers: methods are called on the payment path, concurrently,
//! hundreds of thousands of times a second — no blocking, no allocation where avoidable.

use digest::Keys;

/// One call at a resource boundary.
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    pub service: &'a str,
    pub operation: &'a str,
    /// The instance of `service` serving the call (`payment-engine-2`); for a
    /// bank call, the calling instance.
    pub instance: &'a str,
    /// Zone (data centre / unit) serving the call.
    pub zone: &'a str,
    pub scene: &'a str,
    /// The payment's channel (`SDK`, `WAP`, …).
    pub channel: &'a str,
    pub keys: &'a Keys,
    pub shadow: bool,
}

/// What the guard decides before a call is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it, after `delay_us` of injected extra latency (0 normally).
    Pass { delay_us: u64 },
    /// Do not serve it: fail with business `code` and error class `error`, after
    /// `delay_us` (0 for a fast failure such as a flow limit or an open breaker;
    /// the timeout for a timeout).
    Reject {
        code: String,
        error: String,
        delay_us: u64,
    },
}

impl Verdict {
    pub const PASS: Verdict = Verdict::Pass { delay_us: 0 };
}

/// A bank channel the routing engine may choose, with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelWeight {
    pub bank: String,
    pub weight: u32,
}

/// How the ledger posts to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerStrategy {
    /// Exclusive per-account posting (row lock held for the posting).
    Lock,
    /// Postings queued and applied in batches; balance settled asynchronously.
    Buffered,
    /// The account is split into sub-accounts.
    Split,
}

pub trait Guard: Send + Sync + 'static {
    /// Before serving `site`: flow rules, hot-parameter rules, circuit breakers,
    /// zone availability, injected faults, version defects.
    fn enter(&self, _site: &CallSite<'_>) -> Verdict {
        Verdict::PASS
    }
    /// After serving `site` (breaker statistics). `duration_us` includes delays.
    /// Call it once for every call `enter` saw, refused or not.
    fn exit(&self, _site: &CallSite<'_>, _success: bool, _duration_us: u64) {}
    /// Before calling out to `bank` (bank outages, bank latency/error faults).
    fn bank(&self, _bank: &str, _site: &CallSite<'_>) -> Verdict {
        Verdict::PASS
    }
    /// After every bank call `bank` saw, refused or not (breakers on
    /// `bank:NAME`), like `exit`.
    fn bank_exit(&self, _bank: &str, _site: &CallSite<'_>, _success: bool, _duration_us: u64) {}
    /// Is a degradable feature (`marketing`, `risk.async`, …) switched on?
    fn feature_enabled(&self, _feature: &str) -> bool {
        true
    }
    /// Is this payment declined for business reasons (insufficient funds, a card the bank
    /// declines) before any money moves? A noise drill's legitimate declines.
    fn business_decline(&self) -> bool {
        false
    }
    /// Does a payment of `amount_cents` skip the synchronous risk check (the control
    /// plane's business-aware degrade)? Counted by the guard when it does.
    fn skip_sync_risk(&self, _amount_cents: i64) -> bool {
        false
    }
    /// Bank channel weights for routing; `None` means the routing engine's defaults.
    fn channel_weights(&self) -> Option<Vec<ChannelWeight>> {
        None
    }
    /// Which zone serves a user whose stable hash is `user_hash`; `None` = default split.
    fn zone_for(&self, _user_hash: u64) -> Option<String> {
        None
    }
    /// The deployed version of `service`; `None` = the service's built-in version.
    fn version(&self, _service: &str) -> Option<String> {
        None
    }
    /// Posting strategy for `account`; `None` = the ledger's default for it.
    fn ledger_strategy(&self, _account: &str) -> Option<LedgerStrategy> {
        None
    }
    /// Is `instance` out of rotation (isolated through the control plane)?
    /// Asked while picking the instance of every served call: keep it to an
    /// atomic load when nothing is isolated.
    fn instance_isolated(&self, _instance: &str) -> bool {
        false
    }
    /// The system's instance table, told once when the system is built (the
    /// control plane checks instance names against it).
    fn attach_instances(&self, _table: &std::sync::Arc<crate::instances::Instances>) {}
    /// Extra latency per ledger posting (slow-ledger fault), in microseconds.
    fn ledger_delay_us(&self) -> u64 {
        0
    }
    /// Load multiplier for the load generator (surge fault); 1.0 normally.
    fn load_multiplier(&self) -> f64 {
        1.0
    }
    /// A merchant receiving extra load (hot-merchant fault) and the share of all
    /// payments it should receive, if any.
    fn hot_merchant(&self) -> Option<(String, f64)> {
        None
    }
}

/// No steering, no faults.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoGuard;

impl Guard for NoGuard {}
