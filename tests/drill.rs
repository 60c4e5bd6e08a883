//! `warroom drill` end to end through the real binary (issues 5 and 6): the
//! whole stack in one process with traffic, a fault injected through
//! payments-sim's control API, the analyzer naming it from digests alone, the
//! healer's plan acting over the control API, recovery and reconciliation.
//! Kept short (a 22 s baseline on the stack's manual clock) for CI.

use serde_json::Value;
use std::process::Command;

fn drill(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["drill", "--json", "--warm", "22", "--tps", "250"])
        .args(args)
        .output()
        .expect("run warroom drill");
    assert!(
        out.status.success(),
        "warroom drill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // stdout is pure JSON: exactly one value.
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not one JSON value ({e}): {text}"))
}

#[test]
fn bank_outage_is_blamed_on_the_bank_and_failed_over() {
    let d = drill(&["--fault", "bank-outage", "--target", "bank-b"]);
    assert_eq!(d["fault"], "bank-outage", "{d}");
    assert_eq!(d["target"], "bank-b", "{d}");
    // Root cause: the bank, not the payment engine that calls it.
    assert_eq!(d["root_cause"]["kind"], "dependency", "{d}");
    assert_eq!(d["root_cause"]["bank"], "bank-b", "{d}");
    assert!(
        d["candidates"].as_array().is_some_and(|c| !c.is_empty()),
        "{d}"
    );
    let detected = d["detected_after_s"].as_f64().expect("detected");
    assert!(
        (0.0..=1.0).contains(&detected),
        "detected after {detected} s: {d}"
    );
    let impact = &d["impact"];
    for f in ["users", "failed_payments", "money_at_stake_cents"] {
        assert!(impact[f].as_u64().is_some_and(|n| n > 0), "impact.{f}: {d}");
    }
    assert!(
        impact["scenes"].as_array().is_some_and(|s| !s.is_empty()),
        "{d}"
    );
    // Healing: the built-in failover plan, auto-approved, recovered fast and clean.
    assert_eq!(d["plan"], "bank-failover", "{d}");
    assert_eq!(d["approved_by"], "auto", "{d}");
    assert!(
        d["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("bank-b")),
        "{d}"
    );
    assert_eq!(d["recovered"], true, "{d}");
    let mttr = d["mttr_s"].as_f64().expect("mttr");
    assert!(mttr > 0.0 && mttr <= 10.0, "mttr {mttr}: {d}");
    assert!(d["mttd_s"].as_f64().unwrap() <= mttr, "{d}");
    assert_eq!(d["reconciliation_mismatches"], 0, "{d}");
}

#[test]
fn a_rejected_plan_changes_nothing() {
    let d = drill(&[
        "--fault",
        "bad-release",
        "--target",
        "payment",
        "--approve",
        "reject",
        "--max",
        "6",
    ]);
    assert_eq!(d["root_cause"]["kind"], "bad_release", "{d}");
    assert_eq!(d["root_cause"]["service"], "payment", "{d}");
    assert!(
        d["root_cause"]["change"].is_object(),
        "blamed on its deploy: {d}"
    );
    assert_eq!(d["plan"], "bad-release-rollback", "{d}");
    assert_eq!(d["healer_state"], "rejected", "{d}");
    assert_eq!(d["recovered"], false, "{d}");
    assert!(d["actions"].as_array().unwrap().is_empty(), "{d}");
    assert!(d["approved_by"].is_null(), "{d}");
}

#[test]
fn bad_flags_are_refused_without_running() {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["drill", "--fault", "meteor", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "drill",
            "--fault",
            "latency",
            "--approve",
            "maybe",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--approve"));
}

/// Issue 6's "done when": every built-in fault, one drill each, recovers with
/// an `auto` plan in at most 10 s and leaves orders, ledger and bank books in
/// agreement.
#[test]
fn every_built_in_fault_heals_within_ten_seconds() {
    let d = drill(&["--all"]);
    let drills = d.as_array().expect("an array of drills");
    let kinds: Vec<&str> = drills.iter().filter_map(|x| x["fault"].as_str()).collect();
    for k in [
        "bank-outage",
        "surge",
        "hot-merchant",
        "bad-release",
        "zone-outage",
        "latency",
        "errors",
        "pool-exhaustion",
        "slow-ledger",
    ] {
        assert!(kinds.contains(&k), "no {k} drill in {kinds:?}");
    }
    for x in drills {
        let name = format!("{} {}", x["fault"], x["target"]);
        assert_eq!(x["recovered"], true, "{name} did not recover: {x}");
        assert_eq!(x["approved_by"], "auto", "{name}: {x}");
        let mttr = x["mttr_s"].as_f64().unwrap_or(f64::NAN);
        assert!(mttr > 0.0 && mttr <= 10.0, "{name}: mttr {mttr}: {x}");
        assert_eq!(x["reconciliation_mismatches"], 0, "{name}: {x}");
        assert!(x["plan"].is_string(), "{name}: {x}");
    }
}

/// Issue 12: faults off the catalogue, one scenario each of the kinds a plan answers on its
/// own — an operator's config push (the cure reverts that change) and a bank failing on and
/// off (one incident, not one per flap) — named, healed, no harm, books in agreement.
#[test]
fn a_config_push_is_reverted_and_a_flapping_bank_is_one_incident() {
    for (kind, target, plan) in [
        ("config-push", "trade", "config-revert"),
        ("flapping", "bank-c", "bank-failover"),
    ] {
        let d = drill(&["--scenario", kind, "--target", target]);
        let name = format!("{kind} {target}");
        assert_eq!(d["all_roots_named"], true, "{name}: {d}");
        assert_eq!(d["recovered"], true, "{name}: {d}");
        assert_eq!(d["incidents_opened"], 1, "{name}: {d}");
        assert_eq!(d["harm_failed_payments"], 0.0, "{name}: {d}");
        assert_eq!(d["reconciliation_mismatches"], 0, "{name}: {d}");
        let roots = d["per_root"].as_array().expect("per_root");
        assert!(
            roots.iter().any(|r| r["plan"] == plan),
            "{name}: no {plan} run: {d}"
        );
        let mttr = d["mttr_s"].as_f64().unwrap_or(f64::NAN);
        assert!(mttr > 0.0 && mttr <= 10.0, "{name}: mttr {mttr}");
    }
}
