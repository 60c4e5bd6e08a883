//! Incidents: the list (`GET /api/incidents` and the live stream's `incidents` event,
//! a list of [`IncidentRow`], newest first) and the incident room
//! (`GET /api/incidents/{id}`, an [`IncidentDetail`]): timeline, candidates, impact, every
//! plan run with its actions (the latest also as `plan`), the damage second by second, and
//! the reconciliation after recovery.

use serde::{Deserialize, Serialize};

/// Where an incident stands, as the analyzer judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Something is still unhealthy.
    Open,
    /// Healthy again.
    Recovered,
    /// A newer diagnosis took its place.
    Superseded,
    /// A commander declared it over, with a note.
    Resolved,
}

impl IncidentStatus {
    /// The JSON word, shown on the screen as is.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Recovered => "recovered",
            IncidentStatus::Superseded => "superseded",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

/// One row of the incident list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    /// The incident's one id, from detection to recovery (`/api/incidents/{id}`).
    pub id: String,
    pub title: String,
    pub status: IncidentStatus,
    /// The diagnosed cause, e.g. `dependency bank:bank-a`.
    pub root_cause: String,
    /// RFC 3339 time of the first bad request.
    pub started: String,
    /// RFC 3339 time of detection.
    pub detected: String,
    pub failed_payments: u64,
}

/// What happened at one moment of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The first failed or slow request of the episode.
    FirstBadRequest,
    /// The analyzer flagged the episode.
    Detected,
    /// The analyzer named a root cause.
    Diagnosed,
    /// The analyzer revised the root cause.
    Revised,
    /// A contingency plan matched the diagnosis.
    PlanMatched,
    /// No plan matches the diagnosis.
    NoPlan,
    /// A guard held the plan back (runs per hour, busy target).
    Guard,
    /// The plan waits for a commander.
    ApprovalRequested,
    Approved,
    Rejected,
    /// Nobody decided in time; escalated.
    Escalated,
    /// Nobody decided even after escalation; nothing changed.
    Abandoned,
    /// A step of the plan was applied.
    Action,
    ActionFailed,
    /// A stage of a stepwise step held.
    StageVerified,
    /// A step was undone.
    Undone,
    /// The no-harm check found failed payments rising under the plan's actions (the
    /// plan is undone at once).
    Harm,
    /// The triggering condition cleared.
    Verified,
    /// The plan's incident recovered.
    Recovered,
    /// Orders, ledger and bank records compared after recovery.
    Reconciled,
    /// The analyzer's windows are healthy again.
    HealthyAgain,
    /// Its diagnosis moved elsewhere (another incident carries the fault).
    Superseded,
    /// A commander declared the incident over.
    Resolved,
    /// The same cause came back soon after the incident closed: open again.
    Reopened,
    /// Free text by a person or a part of the war room.
    Note,
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// RFC 3339 (UTC, microseconds).
    pub time: String,
    /// The same moment, µs since the epoch.
    pub at_us: u64,
    pub kind: TimelineKind,
    /// What happened, for people.
    pub what: String,
    /// Who did it (a user, `auto`, `healer`), when a person or a part acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The plan run it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
}

/// A ranked explanation the diagnosis considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub root_cause: String,
    /// 0..=1.
    pub confidence: f64,
    /// Facts behind the verdict, for people.
    pub evidence: Vec<String>,
}

/// Who and what an incident hurt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Impact {
    /// Distinct users with a failed payment (estimate).
    pub users: u64,
    /// Scenes with failed payments.
    pub scenes: Vec<String>,
    pub failed_payments: u64,
    /// Sum of the failed payments' amounts.
    pub money_at_stake_cents: i64,
}

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Waiting for a commander (escalated once the timeout passed).
    AwaitingApproval,
    /// Steps being applied.
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
    /// A guard stopped it; escalated.
    Blocked,
}

impl PlanStatus {
    /// The JSON word, shown on the screen as is (`#plan-status`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::AwaitingApproval => "awaiting_approval",
            PlanStatus::Running => "running",
            PlanStatus::Verifying => "verifying",
            PlanStatus::Recovered => "recovered",
            PlanStatus::RolledBack => "rolled_back",
            PlanStatus::Rejected => "rejected",
            PlanStatus::Abandoned => "abandoned",
            PlanStatus::Blocked => "blocked",
        }
    }
}

/// The incident's latest plan run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The plan's name (`None` when no plan matched).
    pub name: Option<String>,
    /// Who approved it, or what it waits for: `approved by cole`, `awaiting a commander`.
    pub approval: String,
    pub status: PlanStatus,
    /// The actions applied, for people: `channel bank-b weight 0`.
    pub steps: Vec<String>,
    /// The incident's detection time from its first bad request, seconds.
    pub mttd_s: f64,
    /// The incident's recovery time from its first bad request, seconds, once this run
    /// recovered it.
    pub mttr_s: Option<f64>,
}

/// One applied action of a plan run, as a commander's undo names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAction {
    /// `RUN.INDEX` (`POST /api/incidents/{id}/undo` takes it as `action`).
    pub id: String,
    /// What it changed, for people: `channel bank-b weight 0`.
    pub what: String,
    /// Undone already (by the healer's verification, the no-harm check or a commander).
    pub undone: bool,
}

/// One plan run of an incident (the healer's, or a commander's from the Plans panel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The run's id (`RUN` in its actions' ids).
    pub id: u64,
    /// The plan's name (`None` when no plan matched).
    pub plan: Option<String>,
    pub state: PlanStatus,
    /// What it acted on: `bank:bank-a`, `service:risk`, …
    pub target: String,
    pub approved_by: Option<String>,
    /// In the order applied.
    pub actions: Vec<RunAction>,
    /// Failed payments above the pre-action rate while its actions were over the no-harm
    /// bar.
    pub harm_failed_payments: f64,
    /// The no-harm check undid the run.
    pub harm_aborted: bool,
}

/// The incident's damage at one second, counted from its first bad request (the screen
/// draws the per-second rates between points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagePoint {
    /// Seconds since the epoch.
    pub second: u64,
    /// Failed payments so far.
    pub failed_payments: u64,
    /// Money of the failed payments so far.
    pub money_at_stake_cents: i64,
}

/// Orders, ledger entries and bank records compared after recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Reconciliation {
    pub orders: u64,
    pub ledger_entries: u64,
    pub bank_records: u64,
    pub mismatches: u64,
    /// One line per mismatch.
    #[serde(default)]
    pub detail: Vec<String>,
}

/// `GET /api/incidents/{id}`: the incident room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub id: String,
    pub title: String,
    pub status: IncidentStatus,
    pub root_cause: String,
    /// The top candidates of the last diagnosis.
    pub candidates: Vec<Candidate>,
    pub timeline: Vec<TimelineEntry>,
    pub impact: Impact,
    /// The latest plan run; `None` until one is matched (or when healing is off). Kept
    /// for the screens that read one plan; `runs` has every run.
    pub plan: Option<Plan>,
    /// Every plan run of the incident, oldest first.
    pub runs: Vec<RunDetail>,
    /// Cumulative damage while the incident was open, one point a second, oldest first
    /// (the newest 15 minutes).
    pub damage: Vec<DamagePoint>,
    /// `None` until checked after recovery.
    pub reconciliation: Option<Reconciliation>,
}
