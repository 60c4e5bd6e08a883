//! The incident: one fault from its first bad request to its recovery, under one id —
//! the diagnosis as it was refined (root cause, candidates, earlier causes), the damage
//! (impact), the plan runs the healer made for it, the reconciliation after recovery, and
//! one typed timeline that holds everything that happened, whoever did it.

use analyzer::{Candidate, Impact, RootCause};
use digest::Micros;
use healer::{RunEventKind, RunId, RunState};
use serde::Serialize;

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// The fault is on (or its recovery is not yet confirmed).
    Open,
    /// Healthy again for the book's `recover_after_s`.
    Recovered,
    /// Its diagnosis moved elsewhere (another incident carries the fault).
    Superseded,
    /// A commander declared it over, with a note.
    Resolved,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Recovered => "recovered",
            Self::Superseded => "superseded",
            Self::Resolved => "resolved",
        }
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The first failed or slow request of the episode (from the digests).
    FirstBadRequest,
    /// The first tick that flagged anything in the episode.
    Detected,
    /// The root cause was named.
    Diagnosed,
    /// A young diagnosis was replaced by a better-supported one.
    Revised,
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
    /// The no-harm check found failed payments rising under a plan's actions.
    Harm,
    /// A plan's verification saw the condition clear.
    Verified,
    /// The incident recovered (a plan verified it, or the watchers saw health again).
    Recovered,
    /// The analyzer saw everything healthy again.
    HealthyAgain,
    /// Orders, ledger and bank records were compared after recovery.
    Reconciled,
    Superseded,
    /// A commander declared the incident over.
    Resolved,
    /// The same cause came back soon after the incident closed: the incident is open again.
    Reopened,
    /// Free text by a person or a part of the war room.
    Note,
}

impl From<RunEventKind> for EntryKind {
    fn from(k: RunEventKind) -> Self {
        match k {
            RunEventKind::PlanMatched => Self::PlanMatched,
            RunEventKind::NoPlan => Self::NoPlan,
            RunEventKind::Guard => Self::Guard,
            RunEventKind::ApprovalRequested => Self::ApprovalRequested,
            RunEventKind::Approved => Self::Approved,
            RunEventKind::Rejected => Self::Rejected,
            RunEventKind::Escalated => Self::Escalated,
            RunEventKind::Abandoned => Self::Abandoned,
            RunEventKind::Action => Self::Action,
            RunEventKind::ActionFailed => Self::ActionFailed,
            RunEventKind::StageVerified => Self::StageVerified,
            RunEventKind::Undone => Self::Undone,
            RunEventKind::Harm => Self::Harm,
            RunEventKind::Verified => Self::Verified,
            RunEventKind::Recovered => Self::Recovered,
        }
    }
}

impl EntryKind {
    /// The snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstBadRequest => "first_bad_request",
            Self::Detected => "detected",
            Self::Diagnosed => "diagnosed",
            Self::Revised => "revised",
            Self::PlanMatched => "plan_matched",
            Self::NoPlan => "no_plan",
            Self::Guard => "guard",
            Self::ApprovalRequested => "approval_requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Escalated => "escalated",
            Self::Abandoned => "abandoned",
            Self::Action => "action",
            Self::ActionFailed => "action_failed",
            Self::StageVerified => "stage_verified",
            Self::Undone => "undone",
            Self::Harm => "harm",
            Self::Verified => "verified",
            Self::Recovered => "recovered",
            Self::HealthyAgain => "healthy_again",
            Self::Reconciled => "reconciled",
            Self::Superseded => "superseded",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Note => "note",
        }
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub at_us: Micros,
    pub kind: EntryKind,
    pub detail: String,
    /// Who did it (a user, `auto`, `healer`), when a person or a part acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The plan run it belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunId>,
}

/// A plan run of this incident as the incident shows it (the healer's run, copied after
/// every change so a reader never waits for the healer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: RunId,
    /// The root cause the run was started for (a revised diagnosis starts another run).
    pub cause: RootCause,
    /// The healer target it acted on (`bank:NAME`, `service:NAME`, …).
    pub target: String,
    pub plan: Option<String>,
    pub state: RunState,
    pub approved_by: Option<String>,
    /// Who it was escalated to, if it was.
    pub escalated_to: Option<String>,
    /// Each action as described, with whether it was undone.
    pub actions: Vec<(String, bool)>,
    pub started_us: Micros,
    pub recovered_us: Option<Micros>,
    /// Failed payments above the pre-action rate while it was over the no-harm bar.
    pub harm_failed_payments: f64,
    /// The no-harm check undid the run.
    pub harm_aborted: bool,
}

impl RunRecord {
    /// `RUN.INDEX` for each action, as a commander's undo names it.
    pub fn action_ids(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.actions.len()).map(|i| format!("{}.{i}", self.id))
    }
}

/// The incident's damage at one second: failed payments and money at stake so far (the
/// screen draws their rate; a commander sees whether an action helped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DamagePoint {
    /// Epoch second.
    pub second: u64,
    pub failed_payments: u64,
    pub money_at_stake_cents: i64,
}

/// Most damage points kept per incident (15 minutes at one a second).
pub const DAMAGE_POINTS: usize = 900;

/// Orders, ledger and bank records compared after recovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub orders: u64,
    pub ledger_entries: u64,
    pub bank_records: u64,
    /// Mismatches new since the last reconciliation.
    pub mismatches: u64,
    /// Up to 20 of them, `PAYMENT KIND: DETAIL`.
    pub detail: Vec<String>,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: u64,
    pub status: IncidentStatus,
    pub root_cause: RootCause,
    pub confidence: f64,
    pub evidence: Vec<String>,
    /// The ranked candidates at the last evaluation that named this cause (top 5).
    pub candidates: Vec<Candidate>,
    /// Earlier root causes, replaced within the refine window by a better-supported one.
    pub revisions: Vec<RootCause>,
    /// First bad request of the episode (epoch µs).
    pub start_us: Micros,
    /// First tick that flagged anything in the episode.
    pub detected_us: Micros,
    /// First tick that named the current root cause.
    pub diagnosed_us: Micros,
    /// Last tick the root cause was among the candidates.
    pub last_seen_us: Micros,
    /// The recovery moment: a plan's verification, else health seen again.
    pub recovered_us: Option<Micros>,
    /// When the book closed it (recovered or superseded).
    pub closed_us: Option<Micros>,
    pub impact: Impact,
    /// The impact second by second while open (at most [`DAMAGE_POINTS`], newest last).
    pub damage: std::collections::VecDeque<DamagePoint>,
    pub runs: Vec<RunRecord>,
    pub reconciliation: Option<Reconciliation>,
    pub timeline: Vec<Entry>,
    /// First tick the root cause was missing from the candidates (while it is).
    #[serde(skip)]
    pub(crate) absent_since_us: Option<Micros>,
    /// The healer target the latest run was started for (or judged recovered on).
    #[serde(skip)]
    pub(crate) acted_on: Option<String>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.status == IncidentStatus::Open
    }

    /// The latest plan run, if the healer took it up.
    pub fn last_run(&self) -> Option<&RunRecord> {
        self.runs.last()
    }

    /// Detection delay: detected − first bad request (seconds).
    pub fn mttd_s(&self) -> f64 {
        self.detected_us.saturating_sub(self.start_us) as f64 / 1e6
    }

    /// Time to recover: recovered − first bad request (seconds), once recovered.
    pub fn mttr_s(&self) -> Option<f64> {
        Some(self.recovered_us?.saturating_sub(self.start_us) as f64 / 1e6)
    }

    /// `KIND TARGET` of the root cause, as the screen titles it.
    pub fn title(&self) -> String {
        format!(
            "{} {}",
            self.root_cause.kind.as_str(),
            crate::rules::target_of(&self.root_cause)
        )
    }

    pub(crate) fn note(
        &mut self,
        at_us: Micros,
        kind: EntryKind,
        detail: String,
        by: Option<String>,
        run: Option<RunId>,
    ) {
        self.timeline.push(Entry {
            at_us,
            kind,
            detail,
            by,
            run,
        });
    }
}
