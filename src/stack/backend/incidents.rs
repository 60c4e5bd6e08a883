//! Incidents for the screen: the analyzer's incidents (list and room) with the plan,
//! approvals, actions and reconciliation of the healer's incident linked to each, in one
//! typed timeline. The first three moments (first bad request, detection, diagnosis)
//! are the analyzer's; the healer's copies of them are left out.

use crate::stack::Stack;
use dashboard::{BackendError, BackendResult};
use healer::{IncidentState, TimelineKind as Healer};
use screen::{
    Candidate, Impact, IncidentDetail, IncidentRow, IncidentStatus, Plan, PlanStatus,
    Reconciliation, TimelineEntry, TimelineKind,
};

fn cause_text(rc: &analyzer::RootCause) -> String {
    format!("{} {}", rc.kind.as_str(), crate::stack::heal::target_of(rc))
}

fn status(s: analyzer::IncidentStatus) -> IncidentStatus {
    match s {
        analyzer::IncidentStatus::Open => IncidentStatus::Open,
        analyzer::IncidentStatus::Recovered => IncidentStatus::Recovered,
        analyzer::IncidentStatus::Superseded => IncidentStatus::Superseded,
    }
}

fn plan_status(s: IncidentState) -> PlanStatus {
    match s {
        IncidentState::AwaitingApproval => PlanStatus::AwaitingApproval,
        IncidentState::Running => PlanStatus::Running,
        IncidentState::Verifying => PlanStatus::Verifying,
        IncidentState::Recovered => PlanStatus::Recovered,
        IncidentState::RolledBack => PlanStatus::RolledBack,
        IncidentState::Rejected => PlanStatus::Rejected,
        IncidentState::Abandoned => PlanStatus::Abandoned,
        IncidentState::Blocked => PlanStatus::Blocked,
    }
}

/// The healer's moments after the diagnosis (`None` for the analyzer's own three).
fn healer_kind(k: Healer) -> Option<TimelineKind> {
    Some(match k {
        Healer::FirstBadRequest | Healer::Detected | Healer::Diagnosed => return None,
        Healer::PlanMatched => TimelineKind::PlanMatched,
        Healer::NoPlan => TimelineKind::NoPlan,
        Healer::Guard => TimelineKind::Guard,
        Healer::ApprovalRequested => TimelineKind::ApprovalRequested,
        Healer::Approved => TimelineKind::Approved,
        Healer::Rejected => TimelineKind::Rejected,
        Healer::Escalated => TimelineKind::Escalated,
        Healer::Abandoned => TimelineKind::Abandoned,
        Healer::Action => TimelineKind::Action,
        Healer::ActionFailed => TimelineKind::ActionFailed,
        Healer::StageVerified => TimelineKind::StageVerified,
        Healer::Undone => TimelineKind::Undone,
        Healer::Verified => TimelineKind::Verified,
        Healer::Recovered => TimelineKind::Recovered,
        Healer::Reconciled => TimelineKind::Reconciled,
    })
}

fn entry(at_us: u64, kind: TimelineKind, what: String, by: Option<String>) -> TimelineEntry {
    TimelineEntry {
        time: digest::format_rfc3339(at_us),
        at_us,
        kind,
        what,
        by,
    }
}

/// Every analyzer incident, newest first.
pub fn rows(a: &analyzer::Analyzer) -> Vec<IncidentRow> {
    let b = a.incidents();
    let mut list: Vec<&analyzer::Incident> = b.open.iter().chain(b.closed.iter()).collect();
    list.sort_by_key(|i| std::cmp::Reverse(i.detected_us));
    list.iter()
        .map(|i| IncidentRow {
            id: i.id.to_string(),
            title: cause_text(&i.root_cause),
            status: status(i.status),
            root_cause: cause_text(&i.root_cause),
            started: digest::format_rfc3339(i.start_us),
            detected: digest::format_rfc3339(i.detected_us),
            failed_payments: i.impact.failed_payments,
        })
        .collect()
}

/// The incident room of analyzer incident `id`.
pub fn detail(stack: &Stack, id: &str) -> BackendResult<IncidentDetail> {
    let nf = || BackendError::NotFound(format!("incident {id}"));
    let aid: u64 = id.parse().map_err(|_| nf())?;
    let i = {
        let a = stack.analyzer.lock();
        let b = a.incidents();
        let found = b.open.iter().chain(b.closed.iter()).find(|i| i.id == aid);
        found.cloned().ok_or_else(nf)?
    };
    let mut timeline = vec![
        entry(
            i.start_us,
            TimelineKind::FirstBadRequest,
            "first bad request".into(),
            None,
        ),
        entry(
            i.detected_us,
            TimelineKind::Detected,
            "detected".into(),
            None,
        ),
        entry(
            i.diagnosed_us,
            TimelineKind::Diagnosed,
            format!("diagnosed: {}", cause_text(&i.root_cause)),
            None,
        ),
    ];
    let (mut plan, mut reconciliation) = (None, None);
    if let Some(hid) = stack.healer.linked(aid) {
        if let Ok(engine) = stack.healer.engine.try_lock() {
            if let Some(h) = engine.incident(hid) {
                for t in &h.timeline {
                    if let Some(kind) = healer_kind(t.kind) {
                        let what = format!("{:?}: {}", t.kind, t.detail);
                        timeline.push(entry(t.at_us, kind, what, t.by.clone()));
                    }
                }
                let s = h.summary();
                plan = Some(Plan {
                    name: h.plan.clone(),
                    approval: match (&h.approved_by, h.state) {
                        (Some(by), _) => format!("approved by {by}"),
                        (None, IncidentState::AwaitingApproval) => "awaiting a commander".into(),
                        (None, st) => format!("{st:?}"),
                    },
                    status: plan_status(h.state),
                    steps: s.actions,
                    mttd_s: s.mttd_s,
                    mttr_s: s.mttr_s,
                });
                reconciliation = h.reconciliation.as_ref().map(|r| Reconciliation {
                    orders: r.orders,
                    ledger_entries: r.ledger_entries,
                    bank_records: r.bank_records,
                    mismatches: r.mismatches,
                    detail: r.detail.clone(),
                });
            }
        }
    }
    if let Some(r) = i.recovered_us {
        timeline.push(entry(
            r,
            TimelineKind::HealthyAgain,
            "analyzer: healthy again".into(),
            None,
        ));
    }
    Ok(IncidentDetail {
        id: i.id.to_string(),
        title: cause_text(&i.root_cause),
        status: status(i.status),
        root_cause: cause_text(&i.root_cause),
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
        timeline,
        impact: Impact {
            users: i.impact.users,
            scenes: i.impact.scenes.clone(),
            failed_payments: i.impact.failed_payments,
            money_at_stake_cents: i.impact.money_at_stake_cents,
        },
        plan,
        reconciliation,
    })
}
