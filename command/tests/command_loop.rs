//! The command loop on a manual clock with a fixed diagnosis and an in-memory executor:
//! one incident id from detection to recovery with the plan's events on its timeline and in
//! the audit log; the localisation wait; a revised diagnosis rejecting the plan that waited
//! for the old one; a plan's own shedding counting as cleared; the commander's levers and
//! what they refuse; reconciliation in one pass and in two; watch-only; notices.

use analyzer::{Candidate, CauseKind, Impact, RootCause};
use command::*;
use digest::{Clock, ManualClock};
use healer::{
    Action, Applied, ApprovalMode, AuditLog, Engine, EngineConfig, ExecError, Executor,
    ExecutorKind, Executors, RunState,
};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

const T0: u64 = 1_795_785_000_000_000;
const STEP: u64 = 100_000;

/// A diagnosis the test sets by hand.
#[derive(Default)]
struct Fixed {
    candidates: Vec<Candidate>,
    unhealthy: bool,
    first_failure_us: u64,
    /// Failed payments in any window asked for.
    failed: u64,
    /// Failed payments so far (the test moves it along to set a rate).
    failed_total: u64,
    /// Failed payments added per 100 ms step.
    failed_per_step: u64,
    /// Of those, shed by a limit (`FLOW_LIMITED`).
    shed_per_step: u64,
    shed_total: u64,
    /// Payments (failed or not) per 100 ms step, and so far.
    payments_per_step: u64,
    payments_total: u64,
}

impl DiagnosisSource for Fixed {
    fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }
    fn any_unhealthy(&self) -> bool {
        self.unhealthy
    }
    fn payment_tally(&self, _shed_codes: &[String]) -> PaymentTally {
        PaymentTally {
            payments: self.payments_total,
            failed: self.failed_total,
            shed: self.shed_total,
        }
    }
    fn impact_since(&self, _from_us: u64) -> Impact {
        Impact {
            users: 3,
            scenes: vec!["quick_pay".into()],
            failed_payments: self.failed,
            money_at_stake_cents: 7_000,
            first_failure_us: self.first_failure_us,
        }
    }
}

/// Records what it applies and undoes; changes nothing.
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<String>>,
}

impl Executor for Recorder {
    fn apply<'a>(
        &'a self,
        a: &'a Action,
    ) -> Pin<Box<dyn Future<Output = Result<Applied, ExecError>> + Send + 'a>> {
        self.log.lock().push(format!("apply {}", a.describe()));
        Box::pin(async {
            Ok(Applied {
                before: serde_json::Value::Null,
                after: serde_json::Value::Null,
            })
        })
    }
    fn undo<'a>(
        &'a self,
        a: &'a Action,
        _: &'a Applied,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, ExecError>> + Send + 'a>> {
        self.log.lock().push(format!("undo {}", a.describe()));
        Box::pin(async { Ok(serde_json::Value::Null) })
    }
}

/// Books that answer from a list of passes (the last one repeats).
struct Passes(Mutex<Vec<Vec<u64>>>);

impl Books for Passes {
    fn reconcile(&self) -> Pin<Box<dyn Future<Output = BooksReport> + Send + '_>> {
        let mut p = self.0.lock();
        let ids = if p.len() > 1 {
            p.remove(0)
        } else {
            p[0].clone()
        };
        Box::pin(async move {
            BooksReport {
                orders: 100,
                ledger_entries: 200,
                bank_records: 50,
                mismatches: ids
                    .into_iter()
                    .map(|id| Mismatch {
                        payment_id: id,
                        kind: "paid_but_not_posted".into(),
                        detail: format!("payment {id}"),
                    })
                    .collect(),
            }
        })
    }
}

struct World {
    clock: ManualClock,
    diagnosis: Mutex<Fixed>,
    command: CommandLoop,
    executor: Arc<Recorder>,
    books: Passes,
    drained: HashSet<String>,
}

fn world(approval: Option<ApprovalMode>, settle_ms: u64, heal: bool) -> World {
    let clock = ManualClock::new(T0);
    let executor = Arc::new(Recorder::default());
    let engine = Engine::new(
        Arc::new(clock.clone()),
        EngineConfig {
            approval_override: approval,
            ..EngineConfig::default()
        },
        healer::builtin_plans(),
        Executors::default().with(ExecutorKind::Sim, executor.clone()),
        AuditLog::memory(),
    );
    let cfg = CommandConfig {
        reconcile_settle_ms: settle_ms,
        ..CommandConfig::default()
    };
    World {
        command: CommandLoop::new(Arc::new(clock.clone()), cfg, engine, heal),
        clock,
        diagnosis: Mutex::new(Fixed::default()),
        executor,
        books: Passes(Mutex::new(vec![vec![]])),
        drained: HashSet::new(),
    }
}

impl World {
    fn diagnose(&self, candidates: Vec<Candidate>) {
        let mut d = self.diagnosis.lock();
        d.unhealthy = !candidates.is_empty();
        d.candidates = candidates;
    }

    /// Steps of 100 ms for `ms` milliseconds.
    async fn run(&self, ms: u64) {
        for _ in 0..ms / 100 {
            self.clock.advance_us(STEP);
            {
                let mut d = self.diagnosis.lock();
                d.failed_total += d.failed_per_step;
                d.shed_total += d.shed_per_step;
                d.payments_total += d.payments_per_step.max(d.failed_per_step);
            }
            let s = Situation {
                drained_zones: &self.drained,
                books: Some(&self.books),
            };
            self.command.step(&self.diagnosis, &s).await;
        }
    }

    fn only(&self) -> Incident {
        let all: Vec<Incident> = self.command.book(|b| b.all().cloned().collect());
        assert_eq!(all.len(), 1, "one incident: {all:#?}");
        all.into_iter().next().unwrap()
    }
}

fn cand(rc: RootCause) -> Candidate {
    Candidate {
        root_cause: rc,
        confidence: 0.9,
        evidence: vec!["x".into()],
        codes: vec![],
        slow_share: 0.0,
    }
}

fn instance(kind: CauseKind, service: &str, instance: &str) -> RootCause {
    RootCause {
        instance: Some(instance.into()),
        ..RootCause::service(kind, service)
    }
}

#[tokio::test]
async fn a_bank_outage_is_one_incident_from_detection_to_recovery() {
    let w = world(None, 0, true);
    w.diagnosis.lock().first_failure_us = T0 - 400_000;
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    let i = w.only();
    assert_eq!((i.id, i.status), (1, IncidentStatus::Open));
    assert_eq!(i.start_us, T0 - 400_000, "dated by the first failure");
    let run = i.last_run().expect("taken up at once");
    assert_eq!(run.plan.as_deref(), Some("bank-failover"));
    assert_eq!(run.target, "bank:bank-b");
    assert_eq!(run.state, RunState::Verifying);
    assert_eq!(*w.executor.log.lock(), ["apply channel bank-b weight 0"]);
    // Still named: not recovered.
    w.run(500).await;
    assert!(w.only().recovered_us.is_none());
    let d = &w.only().damage;
    assert_eq!(d.len(), 1, "one point a second: {d:?}");
    assert_eq!(d[0].money_at_stake_cents, 7_000);
    // The bank is no longer named: the run verifies, the incident has recovered.
    w.diagnose(vec![]);
    w.run(100).await;
    let i = w.only();
    let run = i.last_run().unwrap();
    assert_eq!(run.state, RunState::Recovered);
    assert_eq!(i.recovered_us, Some(T0 + 700_000));
    assert_eq!(i.mttr_s(), Some(1.1));
    assert_eq!(i.reconciliation.as_ref().map(|r| r.mismatches), Some(0));
    let kinds: Vec<(EntryKind, Option<u64>)> = i.timeline.iter().map(|e| (e.kind, e.run)).collect();
    use EntryKind::*;
    assert_eq!(
        kinds,
        [
            (FirstBadRequest, None),
            (Detected, None),
            (Diagnosed, None),
            (PlanMatched, Some(1)),
            (Approved, Some(1)),
            (Action, Some(1)),
            (Verified, Some(1)),
            (Recovered, Some(1)),
            (Reconciled, None),
        ]
    );
    // The audit log names the same incident.
    let audit = w.command.engine(|e| e.audit().entries().to_vec()).await;
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].incident, audit[0].run), (1, 1));
    // Healthy for 3 s: closed as recovered, the recovery moment kept.
    w.run(3_100).await;
    let i = w.only();
    assert_eq!(i.status, IncidentStatus::Recovered);
    assert_eq!(i.recovered_us, Some(T0 + 700_000));
    assert_eq!(i.timeline.last().unwrap().kind, HealthyAgain);
    let (last, avg) = w.command.book(figures::healed_mttr);
    assert_eq!((last, avg), (Some(1.1), Some(1.1)));
}

#[tokio::test]
async fn a_service_wide_diagnosis_waits_for_the_analyzer_to_name_an_instance() {
    let w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Latency,
        "payment-engine",
    ))]);
    w.run(1_000).await;
    assert!(
        w.only().runs.is_empty(),
        "held back while an instance may be named"
    );
    w.diagnose(vec![cand(instance(
        CauseKind::Latency,
        "payment-engine",
        "payment-engine-2",
    ))]);
    w.run(100).await;
    let i = w.only();
    assert_eq!(i.revisions.len(), 1, "the same incident, revised");
    assert_eq!(i.runs.len(), 1);
    assert_eq!(i.runs[0].target, "instance:payment-engine-2");
    assert_eq!(i.runs[0].plan.as_deref(), Some("isolate-instance"));

    // Nobody names an instance: after the wait the service itself is taken up.
    let w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::service(CauseKind::Latency, "trade"))]);
    w.run(1_500).await;
    assert!(w.only().runs.is_empty());
    w.run(200).await;
    assert_eq!(w.only().runs[0].target, "service:trade");
}

#[tokio::test]
async fn a_revised_diagnosis_rejects_the_plan_that_waited_for_the_old_one() {
    let w = world(Some(ApprovalMode::Commander), 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    let i = w.only();
    assert_eq!(i.runs[0].state, RunState::AwaitingApproval);
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    let i = w.only();
    assert_eq!(i.runs.len(), 2);
    assert_eq!(i.runs[0].state, RunState::Rejected);
    assert!(i.timeline.iter().any(|e| e.kind == EntryKind::Rejected
        && e.detail == "diagnosis revised to dependency bank:bank-b"
        && e.by.as_deref() == Some("healer")));
    assert_eq!(
        (i.runs[1].target.as_str(), i.runs[1].state),
        ("bank:bank-b", RunState::AwaitingApproval)
    );
    assert!(w.executor.log.lock().is_empty(), "nothing changed yet");
    // The commander approves by the incident's id: the new run acts.
    let run = w.command.approve(i.id, "cole").await.unwrap();
    assert_eq!(run, i.runs[1].id);
    w.run(100).await;
    let i = w.only();
    assert_eq!(i.runs[1].approved_by.as_deref(), Some("cole"));
    assert!(i
        .timeline
        .iter()
        .any(|e| e.kind == EntryKind::Approved && e.by.as_deref() == Some("cole")));
    assert_eq!(*w.executor.log.lock(), ["apply channel bank-b weight 0"]);
}

#[tokio::test]
async fn the_levers_refuse_what_they_must() {
    let w = world(Some(ApprovalMode::Commander), 0, true);
    assert!(matches!(
        w.command.approve(9, "cole").await,
        Err(CommandError::UnknownIncident(9))
    ));
    w.diagnose(vec![cand(RootCause::bank("bank-a"))]);
    w.run(100).await;
    let id = w.only().id;
    w.command.reject(id, "cole", "not now").await.unwrap();
    assert!(matches!(
        w.command.approve(id, "cole").await,
        Err(CommandError::NothingWaiting(i)) if i == id
    ));
    assert!(matches!(
        w.command.reject(id, "cole", "again").await,
        Err(CommandError::NothingWaiting(_))
    ));
    w.run(500).await;
    assert_eq!(
        w.only().runs.len(),
        1,
        "a rejected plan is not raised again"
    );
    assert!(w.executor.log.lock().is_empty());
}

#[tokio::test]
async fn the_plans_own_load_shedding_counts_as_cleared() {
    let w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    assert_eq!(
        w.only().last_run().unwrap().plan.as_deref(),
        Some("surge-limit-entry")
    );
    // The entry now refuses the excess with the flow limit's own code, fast.
    let mut shed = cand(RootCause::service(CauseKind::Overload, "cashier"));
    shed.codes = vec![("FLOW_LIMITED".into(), 120)];
    w.diagnose(vec![shed.clone()]);
    w.run(100).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Recovered);
    // Slow shedding is not the plan working.
    let w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    shed.slow_share = 0.3;
    w.diagnose(vec![shed]);
    w.run(100).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Verifying);
}

#[tokio::test]
async fn a_drained_zone_counts_as_cleared() {
    let mut w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::zone("zone-b"))]);
    w.run(100).await;
    assert_eq!(
        w.only().last_run().unwrap().plan.as_deref(),
        Some("zone-cutover")
    );
    w.drained.insert("zone-b".into());
    // Past the zone shift's stages (held and checked one by one).
    w.run(20_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert_eq!(run.state, RunState::Recovered, "{run:#?}");
}

#[tokio::test]
async fn reconciliation_in_two_passes_keeps_what_both_saw_and_reports_each_once() {
    let w = world(None, 1_000, true);
    *w.books.0.lock() = vec![vec![1, 2], vec![2, 3], vec![2, 3, 4], vec![2, 3]];
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    w.diagnose(vec![]);
    w.run(100).await;
    assert!(
        w.only().reconciliation.is_none(),
        "the second pass is 1 s away"
    );
    w.run(1_000).await;
    let r = w.only().reconciliation.clone().unwrap();
    assert_eq!((r.mismatches, r.orders), (1, 100));
    assert_eq!(r.detail, ["2 paid_but_not_posted: payment 2"]);
    // A later heal reports only what is new: of 2 and 3, seen in both of its passes
    // (4 only in the first), 2 was reported already.
    w.run(4_000).await;
    w.diagnose(vec![cand(RootCause::bank("bank-c"))]);
    w.run(100).await;
    w.diagnose(vec![]);
    w.run(1_200).await;
    let second: Vec<Incident> = w.command.book(|b| b.all().cloned().collect());
    let r = second
        .iter()
        .find(|i| i.root_cause.bank.as_deref() == Some("bank-c"))
        .and_then(|i| i.reconciliation.clone())
        .unwrap();
    assert_eq!(r.detail, ["3 paid_but_not_posted: payment 3"]);
}

#[tokio::test]
async fn watch_only_opens_incidents_and_never_runs_a_plan() {
    let w = world(None, 0, false);
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(2_000).await;
    let i = w.only();
    assert!(i.is_open() && i.runs.is_empty());
    assert!(w.executor.log.lock().is_empty());
}

#[tokio::test]
async fn approval_requests_and_escalations_become_notices_once() {
    let w = world(Some(ApprovalMode::Commander), 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    let n = w.command.take_notices();
    assert_eq!(n.len(), 1);
    assert_eq!(
        (n[0].kind, n[0].to.as_str()),
        (EntryKind::ApprovalRequested, "commander")
    );
    assert!(n[0].subject.starts_with("[incident 1] approval_requested"));
    assert!(w.command.take_notices().is_empty(), "each notice once");
    // The plan's approval timeout passes: escalated to its escalation target.
    w.run(31_000).await;
    let n = w.command.take_notices();
    assert_eq!(n.len(), 1, "{n:#?}");
    assert_eq!(n[0].kind, EntryKind::Escalated);
    assert_ne!(n[0].to, "commander");
    assert_eq!(w.clock.now_us() - T0, 31_100_000);
    // Both reach people by e-mail through the real SMTP relay `scripts/test` starts.
    let Some((addr, maildir)) = smtp() else {
        return;
    };
    let marker = format!("pid{}", std::process::id());
    let cfg = alerts::EmailConfig {
        smarthost: addr,
        from: "war-room@pay.test".into(),
        to: vec![format!("duty-manager+{marker}@pay.test")],
    };
    let first = Notice {
        kind: EntryKind::ApprovalRequested,
        ..n[0].clone()
    };
    for notice in [&first, &n[0]] {
        send_email(&cfg, notice).await.unwrap();
    }
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        for f in std::fs::read_dir(maildir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            if text.contains(&marker) {
                found.push(text);
            }
        }
    }
    assert_eq!(found.len(), 2, "one e-mail per notice");
    assert!(found
        .iter()
        .any(|m| m.contains("[incident 1] escalated") && m.contains("surge-limit-entry")));
}

/// The SMTP relay started by `scripts/test`; `None` (with a notice) outside it, a failure
/// under CI.
fn smtp() -> Option<(String, std::path::PathBuf)> {
    match (
        std::env::var("WARROOM_SMTP_ADDR"),
        std::env::var("WARROOM_SMTP_MAILDIR"),
    ) {
        (Ok(a), Ok(d)) => Some((a, d.into())),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but WARROOM_SMTP_ADDR/WARROOM_SMTP_MAILDIR are unset: run the tests with scripts/test"
            );
            eprintln!("notice: no SMTP server (WARROOM_SMTP_ADDR unset); run scripts/test for the e-mail test");
            None
        }
    }
}

#[tokio::test]
async fn a_plan_under_which_failures_rise_is_undone_at_once() {
    let w = world(None, 0, true);
    // 1 failed payment a step (10/s) for a second before the fault is named (its first
    // bad request a second before: the rate before is the fault's settled one).
    w.diagnosis.lock().failed_per_step = 1;
    w.diagnosis.lock().first_failure_us = w.clock.now_us();
    w.run(1_000).await;
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Verifying);
    // Failed payments climb from 10/s to 40/s under the failover.
    w.diagnosis.lock().failed_per_step = 4;
    w.run(400).await;
    assert_eq!(
        w.only().last_run().unwrap().state,
        RunState::Verifying,
        "within the settle time nothing is judged"
    );
    w.run(500).await;
    let i = w.only();
    let run = i.last_run().unwrap();
    assert_eq!(run.state, RunState::RolledBack, "{:#?}", i.timeline);
    assert!(run.harm_aborted);
    assert!(
        run.harm_failed_payments > 5.0,
        "{}",
        run.harm_failed_payments
    );
    assert!(
        i.timeline.iter().any(|e| e.kind == EntryKind::Harm),
        "the reason is on the timeline"
    );
    assert_eq!(
        *w.executor.log.lock(),
        [
            "apply channel bank-b weight 0",
            "undo channel bank-b weight 0"
        ]
    );
    // A plan under which failures fall is left alone.
    let w = world(None, 0, true);
    w.diagnosis.lock().failed_per_step = 9;
    w.run(1_000).await;
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    w.diagnosis.lock().failed_per_step = 1;
    w.run(2_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert_eq!((run.state, run.harm_aborted), (RunState::Verifying, false));
    assert_eq!(run.harm_failed_payments, 0.0);
}

#[tokio::test]
async fn a_commander_sees_the_plans_runs_one_undoes_an_action_and_resolves() {
    let w = world(Some(ApprovalMode::Commander), 0, true);
    w.diagnose(vec![cand(RootCause::service(CauseKind::Latency, "risk"))]);
    w.run(1_700).await;
    let id = w.only().id;
    let plans = w.command.plans_for(id).await.unwrap();
    let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    assert!(plans[0].automatic, "the healer's own pick first: {names:?}");
    assert!(plans.iter().all(|p| !p.changes.is_empty()));
    assert!(
        !names.contains(&"bank-failover"),
        "a bank plan does not fit a service: {names:?}"
    );
    // Refusals change nothing.
    assert!(matches!(
        w.command.run_plan(id, "no-such-plan", "cole").await,
        Err(CommandError::Healer(healer::HealerError::UnknownPlan(_)))
    ));
    assert!(matches!(
        w.command.run_plan(id, "bank-failover", "cole").await,
        Err(CommandError::Healer(healer::HealerError::DoesNotFit { .. }))
    ));
    assert!(matches!(
        w.command.run_plan(99, &plans[0].name, "cole").await,
        Err(CommandError::UnknownIncident(99))
    ));
    // The healer's own run waits for approval and holds the target.
    assert!(matches!(
        w.command.run_plan(id, &plans[0].name, "cole").await,
        Err(CommandError::Healer(healer::HealerError::Busy(_)))
    ));
    w.command
        .reject(id, "cole", "I pick the plan")
        .await
        .unwrap();
    assert!(w.executor.log.lock().is_empty());
    let chosen = plans[0].name.clone();
    let run = w.command.run_plan(id, &chosen, "cole").await.unwrap();
    w.run(100).await;
    let i = w.only();
    let r = i.runs.iter().find(|r| r.id == run).unwrap();
    assert_eq!(r.approved_by.as_deref(), Some("cole"));
    assert!(!r.actions.is_empty());
    let first = r.action_ids().next().unwrap();
    assert!(matches!(
        w.command.undo(id, "77.0", "cole").await,
        Err(CommandError::UnknownAction(_))
    ));
    w.command.undo(id, &first, "cole").await.unwrap();
    assert!(matches!(
        w.command.undo(id, &first, "cole").await,
        Err(CommandError::Healer(
            healer::HealerError::AlreadyUndone { .. }
        ))
    ));
    let i = w.only();
    assert!(
        i.runs.iter().find(|r| r.id == run).unwrap().actions[0].1,
        "undone"
    );
    assert!(i
        .timeline
        .iter()
        .any(|e| e.kind == EntryKind::Undone && e.by.as_deref() == Some("cole")));
    // Resolved with a note while the cause is still named: no new incident for it
    // until it clears.
    w.command
        .resolve(id, "risk vendor fixed it", "cole")
        .await
        .unwrap();
    assert!(matches!(
        w.command.resolve(id, "again", "cole").await,
        Err(CommandError::Closed(_))
    ));
    w.run(1_000).await;
    let i = w.only();
    assert_eq!(i.status, IncidentStatus::Resolved);
    assert!(i.timeline.iter().any(|e| e.kind == EntryKind::Resolved
        && e.detail == "risk vendor fixed it"
        && e.by.as_deref() == Some("cole")));
    w.diagnose(vec![]);
    w.run(3_100).await;
    w.diagnose(vec![cand(RootCause::service(CauseKind::Latency, "risk"))]);
    w.run(100).await;
    let n = w.command.book(|b| b.open().len());
    assert_eq!(n, 1, "cleared, then back: a new incident");
}

#[tokio::test]
async fn a_fault_still_ramping_up_at_the_action_is_not_blamed_on_it() {
    // An unrelated decline 2 s before the fault dates its first bad request; the fault
    // fails 8 payments a step from 300 ms before it is named (flagged unhealthy from its
    // start); the failover is applied at once and changes nothing.
    let w = world(None, 0, true);
    w.run(2_000).await;
    w.diagnosis.lock().first_failure_us = w.clock.now_us() - 2_000_000;
    w.diagnosis.lock().unhealthy = true;
    w.diagnosis.lock().failed_per_step = 8;
    w.run(300).await;
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(2_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert!(!run.harm_aborted, "{:#?}", w.only().timeline);
    assert_eq!(run.harm_failed_payments, 0.0);
}

#[tokio::test]
async fn a_fault_setting_in_at_the_action_is_measured_at_its_full_rate_but_shedding_is_not() {
    // The fault's first failures 100 ms before it is named, the action at once: in the
    // settle time its failures rise from 4 to 15 a step on their own — not the plan's.
    let w = world(None, 0, true);
    w.diagnosis.lock().payments_per_step = 30;
    w.run(5_000).await;
    w.diagnosis.lock().first_failure_us = w.clock.now_us();
    w.diagnosis.lock().unhealthy = true;
    w.diagnosis.lock().failed_per_step = 4;
    w.run(100).await;
    w.diagnose(vec![cand(RootCause::bank("bank-b"))]);
    w.run(100).await;
    w.diagnosis.lock().failed_per_step = 15;
    w.run(2_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert!(!run.harm_aborted, "{:#?}", w.only().timeline);
    // The same onset, but what rises is a limit refusing normal traffic (no surge: the
    // payments stay at 30 a step): harm, undone.
    let w = world(None, 0, true);
    w.diagnosis.lock().payments_per_step = 30;
    w.run(5_000).await;
    w.diagnosis.lock().first_failure_us = w.clock.now_us();
    w.diagnosis.lock().unhealthy = true;
    w.diagnosis.lock().failed_per_step = 4;
    w.run(100).await;
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    {
        let mut d = w.diagnosis.lock();
        d.failed_per_step = 15;
        d.shed_per_step = 11;
    }
    w.run(2_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert!(run.harm_aborted, "{:#?}", w.only().timeline);
    // A surge to three times the payments, the limit shedding only that surplus: fine.
    let w = world(None, 0, true);
    w.diagnosis.lock().payments_per_step = 30;
    w.run(12_000).await;
    w.diagnosis.lock().first_failure_us = w.clock.now_us();
    w.diagnosis.lock().unhealthy = true;
    w.diagnosis.lock().payments_per_step = 90;
    w.diagnosis.lock().failed_per_step = 1;
    w.run(100).await;
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    {
        let mut d = w.diagnosis.lock();
        d.failed_per_step = 51;
        d.shed_per_step = 50;
    }
    w.run(2_000).await;
    let run = w.only().last_run().unwrap().clone();
    assert!(!run.harm_aborted, "{:#?}", w.only().timeline);
}

#[tokio::test]
async fn a_plan_that_cleared_the_diagnosis_but_then_makes_payments_fail_is_undone() {
    let w = world(None, 0, true);
    w.diagnosis.lock().failed_per_step = 1;
    w.diagnosis.lock().first_failure_us = w.clock.now_us();
    w.run(1_000).await;
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    // The limit clears the diagnosis at once ...
    w.diagnose(vec![]);
    w.run(100).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Recovered);
    assert!(w.only().recovered_us.is_some());
    // ... and then refuses 40 payments a second while it stays in force.
    w.diagnosis.lock().failed_per_step = 5;
    w.run(1_500).await;
    let i = w.only();
    let run = i.last_run().unwrap();
    assert_eq!(run.state, RunState::RolledBack, "{:#?}", i.timeline);
    assert!(run.harm_aborted);
    assert_eq!(
        i.recovered_us, None,
        "no recovery: its plan made things worse"
    );
    assert!(w
        .executor
        .log
        .lock()
        .iter()
        .any(|l| l.starts_with("undo flow limit")));
    // Past the watch, a recovered plan's actions are left alone.
    let w = world(None, 0, true);
    w.diagnose(vec![cand(RootCause::service(
        CauseKind::Overload,
        "cashier",
    ))]);
    w.run(100).await;
    w.diagnose(vec![]);
    w.run(5_200).await;
    w.diagnosis.lock().failed_per_step = 5;
    w.run(1_500).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Recovered);
}

#[tokio::test]
async fn a_healed_diagnosis_is_not_revised_into_another_fault() {
    let w = world(None, 0, true);
    let mut release = cand(RootCause::service(CauseKind::BadRelease, "payment"));
    release.evidence = vec!["errors on payment's new version".into()];
    w.diagnose(vec![release]);
    w.run(100).await;
    w.diagnose(vec![]);
    w.run(100).await;
    assert_eq!(w.only().last_run().unwrap().state, RunState::Recovered);
    // Within the refine window a zone outage becomes the top cause: another fault.
    w.diagnose(vec![cand(RootCause::zone("zone-b"))]);
    w.run(100).await;
    let all: Vec<Incident> = w.command.book(|b| b.all().cloned().collect());
    let titles: Vec<String> = all.iter().map(|i| i.title()).collect();
    assert_eq!(
        titles,
        ["bad_release service:payment", "zone zone:zone-b"],
        "two incidents"
    );
}
