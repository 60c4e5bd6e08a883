//! One plan run: the healer's work on one incident with one plan — matched, guarded,
//! approved (by whom), each action applied or undone, verified, recovered — as a state and
//! a list of events. The incident itself (its id, its diagnosis, its whole timeline) belongs
//! to the caller (the `command` crate); a run only knows the incident's id and the
//! [`Trigger`] it was started for, and reports its events for the incident's timeline.

use crate::plan::Action;
use crate::trigger::Trigger;
use digest::Micros;
use serde::{Deserialize, Serialize};

/// A plan run's id (the engine numbers its runs 1, 2, …).
pub type RunId = u64;

/// What happened in a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEventKind {
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
    /// The no-harm check found failed payments rising under the run's actions.
    Harm,
    Verified,
    Recovered,
}

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub at_us: Micros,
    pub kind: RunEventKind,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// An event as [`Engine::take_events`](crate::Engine::take_events) hands it out: which
/// run, for which incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunUpdate {
    pub run: RunId,
    pub incident: u64,
    pub event: RunEvent,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
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

impl RunState {
    /// Still waiting or acting.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::AwaitingApproval | Self::Running | Self::Verifying
        )
    }

    /// Applying or verifying actions (not waiting for anyone).
    pub fn is_acting(self) -> bool {
        matches!(self, Self::Running | Self::Verifying)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Running => "running",
            Self::Verifying => "verifying",
            Self::Recovered => "recovered",
            Self::RolledBack => "rolled_back",
            Self::Rejected => "rejected",
            Self::Abandoned => "abandoned",
            Self::Blocked => "blocked",
        }
    }
}

/// One applied action as the run shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub step: usize,
    pub action: Action,
    pub at_us: Micros,
    pub undone: bool,
}

/// A plan run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRun {
    pub id: RunId,
    /// The incident this run works for (the caller's id).
    pub incident: u64,
    pub trigger: Trigger,
    /// `None` when no plan answered the trigger.
    pub plan: Option<String>,
    pub state: RunState,
    pub approved_by: Option<String>,
    pub escalated_to: Option<String>,
    pub dry_run: bool,
    pub actions: Vec<ActionRecord>,
    pub events: Vec<RunEvent>,
    pub started_us: Micros,
    /// When the verification saw the condition clear.
    pub recovered_us: Option<Micros>,
    /// Failed payments above the rate before the first action, counted while the rate was
    /// over the no-harm bar (0 when the run never made things worse).
    pub harm_failed_payments: f64,
    /// The no-harm check undid the run.
    pub harm_aborted: bool,
}

/// The figures a drill prints for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: RunId,
    pub incident: u64,
    pub state: RunState,
    pub plan: Option<String>,
    pub actions: Vec<String>,
    pub approved_by: Option<String>,
    pub recovered: bool,
    pub mttd_s: Option<f64>,
    pub mttr_s: Option<f64>,
}

impl PlanRun {
    pub(crate) fn new(
        id: RunId,
        incident: u64,
        trigger: Trigger,
        dry_run: bool,
        now: Micros,
    ) -> Self {
        Self {
            id,
            incident,
            plan: None,
            state: RunState::Running,
            approved_by: None,
            escalated_to: None,
            dry_run,
            actions: Vec::new(),
            events: Vec::new(),
            started_us: now,
            recovered_us: None,
            harm_failed_payments: 0.0,
            harm_aborted: false,
            trigger,
        }
    }

    pub(crate) fn note(
        &mut self,
        at_us: Micros,
        kind: RunEventKind,
        detail: String,
        by: Option<String>,
    ) {
        self.events.push(RunEvent {
            at_us,
            kind,
            detail,
            by,
        });
    }

    /// Detection delay of the trigger: detected − first bad request (seconds).
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

    /// The actions still in force (applied and not undone), newest last.
    pub fn applied(&self) -> impl Iterator<Item = &ActionRecord> {
        self.actions.iter().filter(|a| !a.undone)
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id,
            incident: self.incident,
            state: self.state,
            plan: self.plan.clone(),
            actions: self.actions.iter().map(|a| a.action.describe()).collect(),
            approved_by: self.approved_by.clone(),
            recovered: self.state == RunState::Recovered,
            mttd_s: self.mttd_s(),
            mttr_s: self.mttr_s(),
        }
    }
}
