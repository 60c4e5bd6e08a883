//! The built-in plans, one TOML file each under `healer/plans/`, covering every
//! payments-sim fault: bank outage/errors/timeouts (fail the channel over), surge (limit
//! the entry), overload (degrade marketing and async risk), hot merchant (buffered
//! accounting; cutting the hot key with a hot-parameter limit needs a commander), bad
//! release (roll back), an operator's config push (revert the config: a `bad_release`
//! whose blamed change is a config, label `change = "config"`), zone outage (staged cut-over), slow or failing risk (small
//! payments skip the sync check; a commander confirms), latency and errors on marketing,
//! off the critical path (breakers — never on a synchronous dependency of the payment
//! path), pool exhaustion (grow the pool), slow ledger (switch the ledger db over) and one
//! sick instance (isolate it). Flow limits only ever sit at the entry (cashier), before
//! any money moves.

use super::{parse_plan, Plan};

/// `(file name, TOML)` of every built-in plan.
pub const BUILTIN: [(&str, &str); 14] = [
    (
        "bank-failover.toml",
        include_str!("../../plans/bank-failover.toml"),
    ),
    (
        "surge-limit-entry.toml",
        include_str!("../../plans/surge-limit-entry.toml"),
    ),
    (
        "overload-degrade.toml",
        include_str!("../../plans/overload-degrade.toml"),
    ),
    (
        "pool-exhaustion.toml",
        include_str!("../../plans/pool-exhaustion.toml"),
    ),
    (
        "hot-merchant.toml",
        include_str!("../../plans/hot-merchant.toml"),
    ),
    (
        "risk-degrade.toml",
        include_str!("../../plans/risk-degrade.toml"),
    ),
    (
        "hot-key-cut.toml",
        include_str!("../../plans/hot-key-cut.toml"),
    ),
    (
        "bad-release-rollback.toml",
        include_str!("../../plans/bad-release-rollback.toml"),
    ),
    (
        "config-revert.toml",
        include_str!("../../plans/config-revert.toml"),
    ),
    (
        "zone-cutover.toml",
        include_str!("../../plans/zone-cutover.toml"),
    ),
    (
        "latency-breaker.toml",
        include_str!("../../plans/latency-breaker.toml"),
    ),
    (
        "slow-ledger.toml",
        include_str!("../../plans/slow-ledger.toml"),
    ),
    (
        "errors-breaker.toml",
        include_str!("../../plans/errors-breaker.toml"),
    ),
    (
        "isolate-instance.toml",
        include_str!("../../plans/isolate-instance.toml"),
    ),
];

/// Every built-in plan, parsed (they are checked by the tests, so this cannot fail).
pub fn builtin_plans() -> Vec<Plan> {
    BUILTIN
        .iter()
        .map(|(f, t)| parse_plan(t).unwrap_or_else(|e| panic!("built-in plan {f}: {e}")))
        .collect()
}
