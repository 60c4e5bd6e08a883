//! What a replay prints: one [`IncidentReport`] per incident (the live `command::Incident`
//! cut to what a reader of past incidents wants), [`BadInput`] for every refused line, and
//! the closing [`Summary`]. Times are the records' own clock, microseconds since the Unix
//! epoch, each with an RFC 3339 copy beside it (`…_at`).

use analyzer::{Candidate, Impact, RootCause};
use command::{Incident, IncidentStatus};
use serde::Serialize;

/// A refused line (or the rest of a file), by file and 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadInput {
    pub file: String,
    pub line: u64,
    pub reason: String,
    /// Records (or lines) this refusal stands for: 1 for a line, the spans refused in one
    /// OTLP request, the lines skipped after an unknown format.
    pub rejected: u64,
}

/// A candidate as reported (top 3 per incident).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateReport {
    pub root_cause: RootCause,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// The plan the healer would have matched for the incident's root cause (dry run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanChoice {
    pub name: String,
    pub description: String,
    /// The healer target it would act on (`bank:NAME`, `service:NAME`, …).
    pub target: String,
}

/// One incident of the replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentReport {
    pub id: u64,
    /// The incident's start: the first bad request of its episode (µs).
    pub opened: u64,
    pub opened_at: String,
    /// The first tick that flagged anything in the episode (µs).
    pub detected: u64,
    pub detected_at: String,
    /// `detected − opened`, seconds.
    pub detection_delay_s: f64,
    /// The first tick that named the final root cause (µs).
    pub diagnosed: u64,
    pub root_cause: RootCause,
    /// Earlier root causes it was refined from.
    pub revisions: Vec<RootCause>,
    pub confidence: f64,
    pub candidates: Vec<CandidateReport>,
    pub impact: Impact,
    /// `open` (still open when the records ended), `recovered`, `superseded`.
    pub status: &'static str,
    /// When the book closed it (µs), `null` while open at the end of the records.
    pub closed: Option<u64>,
    pub closed_at: Option<String>,
    /// With plans: the plan that would have run (`null`: none answers); absent without.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Option<PlanChoice>>,
}

impl IncidentReport {
    pub(crate) fn of(i: &Incident, plan: Option<Option<PlanChoice>>) -> Self {
        let rfc = digest::format_rfc3339;
        Self {
            id: i.id,
            opened: i.start_us,
            opened_at: rfc(i.start_us),
            detected: i.detected_us,
            detected_at: rfc(i.detected_us),
            detection_delay_s: (i.mttd_s() * 1e3).round() / 1e3,
            diagnosed: i.diagnosed_us,
            root_cause: i.root_cause.clone(),
            revisions: i.revisions.clone(),
            confidence: round3(i.confidence),
            candidates: i.candidates.iter().take(3).map(candidate).collect(),
            impact: i.impact.clone(),
            status: match i.status {
                IncidentStatus::Open => "open",
                s => s.as_str(),
            },
            closed: i.closed_us,
            closed_at: i.closed_us.map(rfc),
            plan,
        }
    }
}

fn candidate(c: &Candidate) -> CandidateReport {
    CandidateReport {
        root_cause: c.root_cause.clone(),
        confidence: round3(c.confidence),
        evidence: c.evidence.clone(),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// The last line of a replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Records fed to the analyzer.
    pub records: u64,
    /// Records and lines refused (malformed, unknown format, unreadable tail).
    pub rejected: u64,
    pub incidents: u64,
    /// Wall seconds the replay took.
    pub secs: f64,
    pub records_per_s: f64,
    pub files: usize,
    /// Change events fed to the analyzer.
    pub events: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// SOFATracer stat lines (aggregates, not calls), skipped.
    pub stat_lines: u64,
    /// Records that came after their tick was released (later than the reorder window);
    /// fed at once, as live would have.
    pub out_of_window: u64,
    /// Records the analyzer refused as too late or too far ahead of the records' clock.
    pub analyzer_late: u64,
    pub analyzer_future: u64,
    /// The records' clock: first and last tick (µs), and the seconds between.
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub record_secs: f64,
    /// Seconds of record time replayed per wall second (`record_secs / secs`).
    pub speedup: f64,
    /// Analyzer ticks run.
    pub ticks: u64,
}
