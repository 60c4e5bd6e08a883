//! Incidents: one per diagnosis (per target), with a timeline — first bad request,
//! detected, diagnosed, plan matched, approved (by whom), each action, verified,
//! recovered — MTTD and MTTR computed from it, and room for the reconciliation of orders,
//! ledger and bank records attached after recovery.

use crate::plan::Action;
use crate::trigger::Trigger;
use digest::Micros;
use serde::{Deserialize, Serialize};

/// What happened, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    FirstBadRequest,
    Detected,
    Diagnosed,
    PlanMatched,
    NoPlan,
    Guard,
    ApprovalRequested,
    Approved,
    Rejected,
    Escalated,
    Abandoned,
    Action,
    ActionFailed,
    StageVerified,
    Undone,
    Verified,
    Recovered,
    Reconciled,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at_us: Micros,
    pub kind: TimelineKind,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Waiting for a commander (escalated once the timeout passed).
    AwaitingApproval,
    /// Steps being applied (a stepwise step holds between stages).
    Running,
    /// All steps applied; waiting for the condition to clear.
    Verifying,
    Recovered,
    /// The plan did not help (or an action failed): undone and escalated.
    RolledBack,
    /// A commander said no; nothing changed.
    Rejected,
    /// Nobody decided in time, even after escalation; nothing changed.
    Abandoned,
    /// A guard stopped it (runs per hour, busy target, no plan); escalated.
    Blocked,
}

impl IncidentState {
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::AwaitingApproval | Self::Running | Self::Verifying
        )
    }
}

/// Orders, ledger and bank records compared after recovery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub orders: u64,
    pub ledger_entries: u64,
    pub bank_records: u64,
    pub mismatches: u64,
    #[serde(default)]
    pub detail: Vec<String>,
}

/// One applied action as the incident shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub step: usize,
    pub action: Action,
    pub at_us: Micros,
    pub undone: bool,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: u64,
    pub trigger: Trigger,
    pub plan: Option<String>,
    pub state: IncidentState,
    pub approved_by: Option<String>,
    pub escalated_to: Option<String>,
    pub dry_run: bool,
    pub actions: Vec<ActionRecord>,
    pub timeline: Vec<TimelineEntry>,
    pub recovered_us: Option<Micros>,
    pub reconciliation: Option<Reconciliation>,
}

/// The figures a drill prints for one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: u64,
    pub state: IncidentState,
    pub plan: Option<String>,
    pub actions: Vec<String>,
    pub approved_by: Option<String>,
    pub recovered: bool,
    pub mttd_s: Option<f64>,
    pub mttr_s: Option<f64>,
    pub reconciliation_mismatches: Option<u64>,
}

impl Incident {
    pub(crate) fn new(id: u64, trigger: Trigger, dry_run: bool) -> Self {
        let mut i = Self {
            id,
            plan: None,
            state: IncidentState::Running,
            approved_by: None,
            escalated_to: None,
            dry_run,
            actions: Vec::new(),
            timeline: Vec::new(),
            recovered_us: None,
            reconciliation: None,
            trigger,
        };
        let t = i.trigger.clone();
        if let Some(f) = t.first_bad_us {
            i.note(
                f,
                TimelineKind::FirstBadRequest,
                "first failed or slow request".into(),
                None,
            );
        }
        let what = t
            .alert
            .clone()
            .map(|a| format!("alert {a}"))
            .unwrap_or_else(|| format!("{} on {}", t.kind, t.target));
        i.note(t.detected_us, TimelineKind::Detected, what.clone(), None);
        i.note(t.diagnosed_us, TimelineKind::Diagnosed, what, None);
        i
    }

    pub(crate) fn note(
        &mut self,
        at_us: Micros,
        kind: TimelineKind,
        detail: String,
        by: Option<String>,
    ) {
        self.timeline.push(TimelineEntry {
            at_us,
            kind,
            detail,
            by,
        });
    }

    /// Detection delay: detected − first bad request (seconds).
    pub fn mttd_s(&self) -> Option<f64> {
        let f = self.trigger.first_bad_us?;
        Some(self.trigger.detected_us.saturating_sub(f) as f64 / 1e6)
    }

    /// Time to recover: recovered − first bad request (or detection when unknown).
    pub fn mttr_s(&self) -> Option<f64> {
        let start = self
            .trigger
            .first_bad_us
            .unwrap_or(self.trigger.detected_us);
        Some(self.recovered_us?.saturating_sub(start) as f64 / 1e6)
    }

    pub fn summary(&self) -> IncidentSummary {
        IncidentSummary {
            id: self.id,
            state: self.state,
            plan: self.plan.clone(),
            actions: self.actions.iter().map(|a| a.action.describe()).collect(),
            approved_by: self.approved_by.clone(),
            recovered: self.state == IncidentState::Recovered,
            mttd_s: self.mttd_s(),
            mttr_s: self.mttr_s(),
            reconciliation_mismatches: self.reconciliation.as_ref().map(|r| r.mismatches),
        }
    }
}
