//! A full set of answers: every screen type with every optional field present, so a
//! test can check each reaches the screen types unchanged.
#![allow(dead_code)]

use super::fixed::{payment_trace, Answers};
use screen::*;
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn window(count: u64, errors: u64) -> WindowStats {
    WindowStats {
        count,
        rate_per_s: count as f64 / 10.0,
        errors,
        error_ratio: errors as f64 / count as f64,
        error_codes: [("BANK_TIMEOUT".to_string(), errors)].into_iter().collect(),
        p50_ms: 12.5,
        p90_ms: 30.1,
        p99_ms: 41.9,
        p999_ms: 80.3,
        amount_cents: 1_999_000,
        failed_amount_cents: 19_990,
    }
}

fn timeline(at_us: u64, kind: TimelineKind, what: &str, by: Option<&str>) -> TimelineEntry {
    let plan = !matches!(kind, TimelineKind::FirstBadRequest | TimelineKind::Detected);
    TimelineEntry {
        time: digest::format_rfc3339(at_us),
        at_us,
        kind,
        what: what.into(),
        by: by.map(String::from),
        run: plan.then_some(1),
    }
}

fn burn(policy: &str, firing: bool) -> BurnStatus {
    BurnStatus {
        policy: policy.into(),
        severity: "page".into(),
        factor: 14.4,
        long: "1h".into(),
        short: "5m".into(),
        burn_long: 15.2,
        burn_short: 20.5,
        firing,
    }
}

fn sli(sli: Sli, burns: Vec<BurnStatus>) -> SliStatus {
    SliStatus {
        sli,
        period: SliFigures {
            total: 1000,
            bad: 3,
            ratio: 0.997,
            target: 0.999,
            met: false,
            budget_remaining: -2.0,
        },
        burn: burns,
    }
}

/// Every answer, every optional field set, at `t0_us`.
pub fn full(t0_us: u64) -> Answers {
    let mut a = Answers::default();
    a.payments(t0_us, 30.0, 0.9);
    a.overview = Overview {
        as_of_us: t0_us,
        payments_per_s: 30.0,
        success_rate: Some(0.9),
        mttr_last_s: Some(4.2),
        mttr_avg_s: Some(5.1),
        open_incidents: 1,
        error_budget_left: Some(0.25),
    };
    a.topology.nodes[0].root_cause = true;
    a.topology.nodes[1].detail = None;
    let judged = HealthJudgement {
        view: ServiceView::Service,
        service: "engine".into(),
        shadow: false,
        count: 30,
        rate: 30.0,
        errors: 3,
        error_ratio: 0.1,
        slow: 1,
        slow_ratio: 1.0 / 30.0,
        p99_ms: 41.9,
        baseline: Baseline {
            seconds: 20,
            rate: 29.5,
            error_ratio: 0.001,
            error_mad: 0.0005,
            p99_us: 35_000,
            slow_threshold_us: 70_000,
        },
        error_codes: vec![("BANK_TIMEOUT".into(), 3)],
        error_bad: true,
        slow_bad: false,
        surge: false,
        drop: false,
        severity: 0.8,
    };
    a.services = vec![ServiceRow {
        view: ServiceView::Service,
        service: "engine".into(),
        shadow: false,
        healthy: false,
        last_10s: window(300, 30),
        last_1m: window(1800, 31),
        health: Some(judged),
    }];
    a.hotspots = vec![HotSpot {
        scope: HotScope::Scene,
        within: "quick_pay".into(),
        shadow: false,
        key: "merchant".into(),
        value: "m-hot".into(),
        count: 120,
        share: 0.6,
        baseline_share: 0.05,
        baseline_calls: 3000,
        baseline_seconds: 60,
        errors: 12,
        error_share: 0.4,
        mean_latency_ms: 80.5,
        scope_mean_latency_ms: 20.25,
    }];
    let t = |s: u64| t0_us + s * 100_000;
    a.incidents = vec![IncidentRow {
        id: "7".into(),
        title: "dependency bank:bank_icbc".into(),
        status: IncidentStatus::Open,
        root_cause: "dependency bank:bank_icbc".into(),
        started: digest::format_rfc3339(t(0)),
        detected: digest::format_rfc3339(t(4)),
        failed_payments: 37,
    }];
    a.details = vec![IncidentDetail {
        id: "7".into(),
        title: "dependency bank:bank_icbc".into(),
        status: IncidentStatus::Open,
        root_cause: "dependency bank:bank_icbc".into(),
        candidates: vec![Candidate {
            root_cause: "dependency bank:bank_icbc".into(),
            confidence: 0.9,
            evidence: vec!["errors 55.0% vs 0.0% baseline".into()],
        }],
        timeline: vec![
            timeline(
                t(0),
                TimelineKind::FirstBadRequest,
                "first bad request",
                None,
            ),
            timeline(t(4), TimelineKind::Detected, "detected", None),
            timeline(
                t(5),
                TimelineKind::PlanMatched,
                "PlanMatched: bank-failover",
                None,
            ),
            timeline(
                t(9),
                TimelineKind::Approved,
                "Approved: approved",
                Some("cole"),
            ),
        ],
        impact: Impact {
            users: 30,
            scenes: vec!["quick_pay".into()],
            failed_payments: 37,
            money_at_stake_cents: 73_963,
        },
        plan: Some(Plan {
            name: Some("bank-failover".into()),
            approval: "approved by cole".into(),
            status: PlanStatus::Recovered,
            steps: vec!["channel bank_icbc weight 0".into()],
            mttd_s: 0.4,
            mttr_s: Some(4.2),
        }),
        runs: vec![
            RunDetail {
                id: 1,
                plan: None,
                state: PlanStatus::Rejected,
                target: "bank:bank_icbc".into(),
                approved_by: None,
                actions: Vec::new(),
                harm_failed_payments: 0.0,
                harm_aborted: false,
            },
            RunDetail {
                id: 2,
                plan: Some("bank-failover".into()),
                state: PlanStatus::Recovered,
                target: "bank:bank_icbc".into(),
                approved_by: Some("cole".into()),
                actions: vec![
                    RunAction {
                        id: "2.0".into(),
                        what: "channel bank_icbc weight 0".into(),
                        undone: false,
                    },
                    RunAction {
                        id: "2.1".into(),
                        what: "flow limit bank_icbc 50 qps".into(),
                        undone: true,
                    },
                ],
                harm_failed_payments: 1.5,
                harm_aborted: true,
            },
        ],
        damage: (0..3)
            .map(|s| DamagePoint {
                second: t0_us / 1_000_000 + s,
                failed_payments: 10 * s,
                money_at_stake_cents: 19_990 * s as i64,
            })
            .collect(),
        reconciliation: Some(Reconciliation {
            orders: 37,
            ledger_entries: 74,
            bank_records: 37,
            mismatches: 1,
            detail: vec!["order o-1 has no ledger entry".into()],
        }),
    }];
    a.plans = super::scripted::plan_choices();
    a.plans.push(PlanChoice {
        name: "degrade".into(),
        description: "switch a feature off".into(),
        automatic: false,
        answers_kind: false,
        changes: Vec::new(),
        approval: PlanApproval::Auto,
    });
    a.alerts = vec![Alert {
        fingerprint: "a39ebd467d3930e2".into(),
        labels: map(&[
            ("alertname", "RootCauseDiagnosed"),
            ("target", "bank:bank_icbc"),
        ]),
        annotations: map(&[("summary", "dependency on bank:bank_icbc")]),
        state: AlertState::Firing,
        active_at_us: t(4),
        starts_at_us: t(4),
        ends_at_us: 0,
        value: 0.9,
        generator_url: "/alerts?rule=RootCauseDiagnosed".into(),
        silenced_by: Some("s-1".into()),
        inhibited: true,
    }];
    a.silences = vec![Silence {
        id: "s-1".into(),
        matchers: [MatchOp::Eq, MatchOp::NotEq, MatchOp::Like]
            .into_iter()
            .map(|op| Matcher {
                name: "target".into(),
                op,
                value: "bank:*".into(),
            })
            .collect(),
        starts_at_us: t(5),
        ends_at_us: t(5) + 3_600_000_000,
        created_by: "cole".into(),
        comment: "failing over".into(),
    }];
    a.slo = SloBoard {
        now_us: t0_us,
        budget_period: "30d".into(),
        policies: vec![BurnPolicy {
            name: "page-1h".into(),
            factor: 14.4,
            long_s: 3600,
            short_s: 300,
            severity: "page".into(),
        }],
        objectives: vec![
            SloObjective {
                id: "service:engine".into(),
                kind: ObjectiveKind::Service,
                name: "engine".into(),
                slis: vec![
                    sli(Sli::Availability, vec![burn("page-1h", true)]),
                    sli(Sli::Latency, vec![burn("page-1h", false)]),
                ],
                layers: None,
            },
            SloObjective {
                id: "bank:bank_icbc".into(),
                kind: ObjectiveKind::Bank,
                name: "bank_icbc".into(),
                slis: vec![sli(Sli::Availability, vec![])],
                layers: Some(LayerReport {
                    window: "5m".into(),
                    calls: 393,
                    layers: [
                        Layer::Reachable,
                        Layer::Available,
                        Layer::WithinTimeout,
                        Layer::WithinContract,
                    ]
                    .into_iter()
                    .map(|layer| LayerFigure {
                        layer,
                        ratio: 0.99,
                        target: 0.995,
                        ok: layer == Layer::Reachable,
                    })
                    .collect(),
                    first_failing: Some(Layer::Available),
                    over_p99_share: 0.02,
                }),
            },
        ],
        firing: vec![BurnAlert {
            objective: "service:engine".into(),
            sli: Sli::Availability,
            policy: "page-1h".into(),
            severity: "page".into(),
            burn_long: 15.2,
            burn_short: 20.5,
        }],
    };
    a.changes = vec![ChangeEvent {
        time: digest::format_rfc3339(t(9)),
        event: ChangeKind::Config,
        service: "bank-gateway".into(),
        version: String::new(),
        detail: "channel weights: bank_icbc=0".into(),
        by: "healer".into(),
    }];
    let mut odd = payment_trace(99, t0_us, false, "quick_pay");
    odd[0].error = Some("Timeout".into());
    odd[0].shadow = true;
    odd[0].keys = map(&[("merchant", "m-hot"), ("user", "u-9")]);
    odd[0].sql_count = Some(3);
    a.spans.extend(odd);
    a.drill_kinds = vec![DrillKind {
        fault: "bank-outage".into(),
        targets: vec!["bank_icbc".into()],
    }];
    a
}
