//! Judging a verdict against a drill's ground truth: does a root cause name the
//! injected fault? One table, so the drill and the tests score the same way.
//! Fault kinds and targets are payments-sim's (`--fault KIND[:TARGET]`):
//! `latency|errors|timeout` on `SERVICE`, `SERVICE:OPERATION`, `bank:NAME` or
//! `instance:NAME` (one instance, e.g. `payment-engine-2`: the root cause must
//! name that instance);
//! `bank-outage` on `BANK` or `bank:BANK`; `surge` (target = factor);
//! `hot-merchant` on `MERCHANT`; `bad-release`, `config-push` and
//! `pool-exhaustion` on `SERVICE`; `slow-ledger`; `zone-outage` on `ZONE`. An empty target takes
//! payments-sim's default.

use crate::diagnosis::{CauseKind, RootCause};

/// payments-sim's default target per fault kind.
pub fn default_target(kind: &str) -> &'static str {
    match kind {
        "latency" | "errors" | "timeout" => "payment-engine",
        "bank-outage" => "bank-a",
        "hot-merchant" => "m-hot",
        "bad-release" => "payment",
        "pool-exhaustion" => "accounting",
        "zone-outage" => "zone-b",
        _ => "",
    }
}

/// Whether `rc` names a fault of `kind` on `target`. `banks` lists bank names
/// that may appear without the `bank:` prefix (e.g. `bank-outage:bank-b`).
pub fn matches_fault(kind: &str, target: &str, rc: &RootCause, banks: &[&str]) -> bool {
    let target = if target.is_empty() {
        default_target(kind)
    } else {
        target
    };
    let (bank, service) = match target.strip_prefix("bank:") {
        Some(b) => (Some(b), ""),
        None => {
            let s = target.split([':', '/']).next().unwrap_or("");
            if kind == "bank-outage" || banks.contains(&s) {
                (Some(s), "")
            } else {
                (None, s)
            }
        }
    };
    if let Some(inst) = target.strip_prefix("instance:") {
        // One sick instance: the healer isolates it, so it must be named.
        let kind_ok = match kind {
            "latency" => rc.kind == CauseKind::Latency,
            "errors" => rc.kind == CauseKind::Errors,
            "timeout" => matches!(rc.kind, CauseKind::Latency | CauseKind::Errors),
            _ => false,
        };
        return kind_ok && rc.instance.as_deref() == Some(inst);
    }
    let svc = |want: &str| want.is_empty() || rc.service.as_deref() == Some(want);
    let whole = rc.instance.is_none();
    let is_bank = |b: &str| rc.kind == CauseKind::Dependency && rc.bank.as_deref() == Some(b);
    match (kind, bank) {
        ("bank-outage" | "latency" | "errors" | "timeout", Some(b)) => is_bank(b),
        // A service-wide fault must not be narrowed to one instance.
        ("latency", None) => rc.kind == CauseKind::Latency && svc(service) && whole,
        ("timeout", None) => {
            matches!(rc.kind, CauseKind::Latency | CauseKind::Errors) && svc(service) && whole
        }
        ("errors", None) => rc.kind == CauseKind::Errors && svc(service) && whole,
        // A config push is blamed like a release: on the service, with the change.
        ("bad-release" | "config-push", _) => {
            rc.kind == CauseKind::BadRelease && svc(service) && rc.change.is_some()
        }
        ("hot-merchant", _) => {
            rc.kind == CauseKind::HotSpot
                && rc.key.as_deref() == Some(&format!("merchant:{target}"))
        }
        ("surge", _) => rc.kind == CauseKind::Overload,
        ("pool-exhaustion", _) => rc.kind == CauseKind::Overload && svc(service),
        ("slow-ledger", _) => {
            matches!(rc.kind, CauseKind::Latency | CauseKind::Overload)
                && rc.service.as_deref() == Some("accounting")
        }
        ("zone-outage", _) => rc.kind == CauseKind::Zone && rc.zone.as_deref() == Some(target),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_payments_sim_syntax() {
        let bank = RootCause::bank("bank-b");
        assert!(matches_fault("latency", "bank:bank-b", &bank, &[]));
        assert!(matches_fault("bank-outage", "bank-b", &bank, &[]));
        assert!(
            !matches_fault("bank-outage", "", &bank, &[]),
            "default is bank-a"
        );
        let eng = RootCause::service(CauseKind::Errors, "payment-engine");
        assert!(matches_fault("errors", "", &eng, &[]));
        assert!(matches_fault(
            "errors",
            "payment-engine:PayEngine.pay",
            &eng,
            &[]
        ));
        assert!(
            !matches_fault("errors", "bank:bank-b", &eng, &[]),
            "a bank fault is not the engine's"
        );
        let mut hot = RootCause::service(CauseKind::HotSpot, "accounting");
        hot.key = Some("merchant:m-hot".into());
        assert!(matches_fault("hot-merchant", "", &hot, &[]));
        assert!(!matches_fault("hot-merchant", "m-7", &hot, &[]));
        let release = RootCause::service(CauseKind::BadRelease, "payment");
        assert!(
            !matches_fault("bad-release", "payment", &release, &[]),
            "needs its change"
        );
        assert!(matches_fault(
            "zone-outage",
            "",
            &RootCause::zone("zone-b"),
            &[]
        ));
        assert!(matches_fault(
            "surge",
            "3",
            &RootCause::service(CauseKind::Overload, "trade"),
            &[]
        ));
        let mut sick = RootCause::service(CauseKind::Latency, "payment-engine");
        sick.instance = Some("payment-engine-2".into());
        assert!(matches_fault(
            "latency",
            "instance:payment-engine-2",
            &sick,
            &[]
        ));
        assert!(matches_fault(
            "timeout",
            "instance:payment-engine-2",
            &sick,
            &[]
        ));
        assert!(!matches_fault(
            "errors",
            "instance:payment-engine-2",
            &sick,
            &[]
        ));
        assert!(!matches_fault(
            "latency",
            "instance:payment-engine-4",
            &sick,
            &[]
        ));
        assert!(
            !matches_fault("latency", "instance:payment-engine-2", &eng, &[]),
            "the service without its instance does not count"
        );
        assert!(
            !matches_fault(
                "latency",
                "instance:payment-engine-2",
                &RootCause::service(CauseKind::Latency, "payment-engine"),
                &[]
            ),
            "the healer needs the instance"
        );
        assert!(
            !matches_fault("latency", "payment-engine", &sick, &[]),
            "a service-wide fault blamed on one instance would isolate the wrong thing"
        );
        assert!(matches_fault(
            "slow-ledger",
            "",
            &RootCause::service(CauseKind::Latency, "accounting"),
            &[]
        ));
    }
}
