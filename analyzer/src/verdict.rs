//! Judging a verdict against a drill's ground truth: does a root cause name the
//! injected fault? One table, so the drill and the tests score the same way.
//! Fault kinds are payments-sim's: `latency`, `errors`, `timeout`,
//! `bank-outage`, `surge`, `hot-merchant`, `bad-release`, `pool-exhaustion`,
//! `slow-ledger`, `zone-outage`; the target is a service, `service/operation`,
//! a bank, a merchant id, a zone, or empty.

use crate::diagnosis::{CauseKind, RootCause};

/// Whether `rc` names a fault of `kind` on `target`. `banks` lists the bank
/// names, so `latency:icbc` is matched as a dependency and not as a service.
pub fn matches_fault(kind: &str, target: &str, rc: &RootCause, banks: &[&str]) -> bool {
    let target_service = target.split('/').next().unwrap_or("");
    let svc = |want: &str| want.is_empty() || rc.service.as_deref() == Some(want);
    let is_bank = banks.contains(&target_service);
    match kind {
        "bank-outage" => {
            rc.kind == CauseKind::Dependency && rc.bank.as_deref() == Some(target_service)
        }
        "latency" | "errors" | "timeout" if is_bank => {
            rc.kind == CauseKind::Dependency && rc.bank.as_deref() == Some(target_service)
        }
        "latency" => matches!(rc.kind, CauseKind::Latency) && svc(target_service),
        "timeout" => {
            matches!(rc.kind, CauseKind::Latency | CauseKind::Errors) && svc(target_service)
        }
        "errors" => rc.kind == CauseKind::Errors && svc(target_service),
        "bad-release" => {
            rc.kind == CauseKind::BadRelease && svc(target_service) && rc.change.is_some()
        }
        "hot-merchant" => {
            rc.kind == CauseKind::HotSpot
                && rc.key.as_deref().is_some_and(|k| {
                    k.starts_with("merchant:")
                        && (target.is_empty() || k == format!("merchant:{target}"))
                })
        }
        "surge" | "pool-exhaustion" => {
            rc.kind == CauseKind::Overload && (kind == "surge" || svc(target_service))
        }
        "slow-ledger" => {
            matches!(rc.kind, CauseKind::Latency | CauseKind::Overload)
                && rc
                    .service
                    .as_deref()
                    .is_some_and(|s| s.contains("account") || s.contains("ledger"))
        }
        "zone-outage" => {
            rc.kind == CauseKind::Zone && (target.is_empty() || rc.zone.as_deref() == Some(target))
        }
        _ => false,
    }
}
