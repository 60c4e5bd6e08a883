//! Incidents for the screen: the command loop's incidents (list and room), each with
//! its plan runs (the latest also as `plan`), its damage second by second and its one
//! typed timeline, and the plans a commander may run for one — mapped field by field.

use command::{Entry, EntryKind, Incident, RunRecord};
use healer::{ApprovalMode, PlanOption, RunState};
use screen::{
    Candidate, DamagePoint, Impact, IncidentDetail, IncidentRow, IncidentStatus, Plan,
    PlanApproval, PlanChoice, PlanStatus, Reconciliation, RunAction, RunDetail, TimelineEntry,
    TimelineKind,
};

fn cause_text(rc: &analyzer::RootCause) -> String {
    format!("{} {}", rc.kind.as_str(), command::target_of(rc))
}

fn status(s: command::IncidentStatus) -> IncidentStatus {
    match s {
        command::IncidentStatus::Open => IncidentStatus::Open,
        command::IncidentStatus::Recovered => IncidentStatus::Recovered,
        command::IncidentStatus::Superseded => IncidentStatus::Superseded,
        command::IncidentStatus::Resolved => IncidentStatus::Resolved,
    }
}

fn plan_status(s: RunState) -> PlanStatus {
    match s {
        RunState::AwaitingApproval => PlanStatus::AwaitingApproval,
        RunState::Running => PlanStatus::Running,
        RunState::Verifying => PlanStatus::Verifying,
        RunState::Recovered => PlanStatus::Recovered,
        RunState::RolledBack => PlanStatus::RolledBack,
        RunState::Rejected => PlanStatus::Rejected,
        RunState::Abandoned => PlanStatus::Abandoned,
        RunState::Blocked => PlanStatus::Blocked,
    }
}

fn kind(k: EntryKind) -> TimelineKind {
    match k {
        EntryKind::FirstBadRequest => TimelineKind::FirstBadRequest,
        EntryKind::Detected => TimelineKind::Detected,
        EntryKind::Diagnosed => TimelineKind::Diagnosed,
        EntryKind::Revised => TimelineKind::Revised,
        EntryKind::PlanMatched => TimelineKind::PlanMatched,
        EntryKind::NoPlan => TimelineKind::NoPlan,
        EntryKind::Guard => TimelineKind::Guard,
        EntryKind::ApprovalRequested => TimelineKind::ApprovalRequested,
        EntryKind::Approved => TimelineKind::Approved,
        EntryKind::Rejected => TimelineKind::Rejected,
        EntryKind::Escalated => TimelineKind::Escalated,
        EntryKind::Abandoned => TimelineKind::Abandoned,
        EntryKind::Action => TimelineKind::Action,
        EntryKind::ActionFailed => TimelineKind::ActionFailed,
        EntryKind::StageVerified => TimelineKind::StageVerified,
        EntryKind::Undone => TimelineKind::Undone,
        EntryKind::Harm => TimelineKind::Harm,
        EntryKind::Verified => TimelineKind::Verified,
        EntryKind::Recovered => TimelineKind::Recovered,
        EntryKind::HealthyAgain => TimelineKind::HealthyAgain,
        EntryKind::Reconciled => TimelineKind::Reconciled,
        EntryKind::Superseded => TimelineKind::Superseded,
        EntryKind::Resolved => TimelineKind::Resolved,
        EntryKind::Reopened => TimelineKind::Reopened,
        EntryKind::Note => TimelineKind::Note,
    }
}

/// A timeline line as the screen reads it: the analyzer's moments in words, the
/// plan's as `Kind: detail` (the incident room's tests read `approved`, `Action`).
fn what(t: &Entry) -> String {
    match t.kind {
        EntryKind::FirstBadRequest => "first bad request".into(),
        EntryKind::Detected => "detected".into(),
        EntryKind::Diagnosed => format!("diagnosed: {}", t.detail),
        EntryKind::HealthyAgain => "analyzer: healthy again".into(),
        k => format!("{}: {}", camel(k.as_str()), t.detail),
    }
}

/// `plan_matched` → `PlanMatched`.
fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn run(r: &RunRecord) -> RunDetail {
    RunDetail {
        id: r.id,
        plan: r.plan.clone(),
        state: plan_status(r.state),
        target: r.target.clone(),
        approved_by: r.approved_by.clone(),
        actions: r
            .action_ids()
            .zip(&r.actions)
            .map(|(id, (what, undone))| RunAction {
                id,
                what: what.clone(),
                undone: *undone,
            })
            .collect(),
        harm_failed_payments: r.harm_failed_payments,
        harm_aborted: r.harm_aborted,
    }
}

/// A plan a commander may run, as the Plans panel lists it.
pub fn plan_choice(o: PlanOption) -> PlanChoice {
    PlanChoice {
        name: o.name,
        description: o.description,
        automatic: o.automatic,
        answers_kind: o.answers_kind,
        changes: o.changes,
        approval: match o.approval {
            Some(ApprovalMode::Auto) => PlanApproval::Auto,
            Some(ApprovalMode::Commander) => PlanApproval::Commander,
            None => PlanApproval::CommanderOnCore,
        },
    }
}

/// Every incident, newest first.
pub fn rows(mut list: Vec<Incident>) -> Vec<IncidentRow> {
    list.sort_by_key(|i| std::cmp::Reverse(i.detected_us));
    list.iter()
        .map(|i| IncidentRow {
            id: i.id.to_string(),
            title: i.title(),
            status: status(i.status),
            root_cause: i.title(),
            started: digest::format_rfc3339(i.start_us),
            detected: digest::format_rfc3339(i.detected_us),
            failed_payments: i.impact.failed_payments,
        })
        .collect()
}

/// The incident room.
pub fn detail(i: &Incident) -> IncidentDetail {
    let plan = i.last_run().map(|r| Plan {
        name: r.plan.clone(),
        approval: match (&r.approved_by, r.state) {
            (Some(by), _) => format!("approved by {by}"),
            (None, RunState::AwaitingApproval) => "awaiting a commander".into(),
            (None, st) => format!("{st:?}"),
        },
        status: plan_status(r.state),
        steps: r.actions.iter().map(|(a, _)| a.clone()).collect(),
        mttd_s: i.mttd_s(),
        mttr_s: r.recovered_us.and(i.mttr_s()),
    });
    IncidentDetail {
        id: i.id.to_string(),
        title: i.title(),
        status: status(i.status),
        root_cause: i.title(),
        candidates: i
            .candidates
            .iter()
            .take(3)
            .map(|c| Candidate {
                root_cause: cause_text(&c.root_cause),
                confidence: c.confidence,
                evidence: c.evidence.clone(),
            })
            .collect(),
        timeline: i
            .timeline
            .iter()
            .map(|t| TimelineEntry {
                time: digest::format_rfc3339(t.at_us),
                at_us: t.at_us,
                kind: kind(t.kind),
                what: what(t),
                by: t.by.clone(),
                run: t.run,
            })
            .collect(),
        impact: Impact {
            users: i.impact.users,
            scenes: i.impact.scenes.clone(),
            failed_payments: i.impact.failed_payments,
            money_at_stake_cents: i.impact.money_at_stake_cents,
        },
        plan,
        runs: i.runs.iter().map(run).collect(),
        damage: i
            .damage
            .iter()
            .map(|d| DamagePoint {
                second: d.second,
                failed_payments: d.failed_payments,
                money_at_stake_cents: d.money_at_stake_cents,
            })
            .collect(),
        reconciliation: i.reconciliation.as_ref().map(|r| Reconciliation {
            orders: r.orders,
            ledger_entries: r.ledger_entries,
            bank_records: r.bank_records,
            mismatches: r.mismatches,
            detail: r.detail.clone(),
        }),
    }
}
