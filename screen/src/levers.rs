//! The commander's levers in the incident room: the plans that can answer an incident
//! (`GET /api/incidents/{id}/plans`, a list of [`PlanChoice`]), running one
//! (`POST …/run` with a [`RunRequest`] → [`RunStarted`]), undoing one applied action
//! (`POST …/undo` with an [`UndoRequest`] → [`Undone`]) and closing the incident with a
//! note (`POST …/resolve` with a [`ResolveRequest`] → [`Resolved`]). The requests' checks
//! live here, so the server and the app apply the same rules.

use crate::actions::{is_token, InvalidRequest};
use serde::{Deserialize, Serialize};

/// Longest note a commander may resolve an incident with, in bytes.
pub const MAX_NOTE_BYTES: usize = 1000;

/// Who lets a plan act when the healer picks it by itself (a commander's Run is approved
/// by that commander whatever this says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanApproval {
    /// It acts at once.
    Auto,
    /// It waits for a commander.
    Commander,
    /// The plan leaves it to the healer's rule: a commander on core services (the ledger,
    /// accounting, clearing), at once elsewhere.
    CommanderOnCore,
}

impl PlanApproval {
    /// The JSON word, shown on the screen as is.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanApproval::Auto => "auto",
            PlanApproval::Commander => "commander",
            PlanApproval::CommanderOnCore => "commander_on_core",
        }
    }
}

/// One row of `GET /api/incidents/{id}/plans`: a plan that fits the incident's target,
/// with what it would change there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChoice {
    /// The name `POST …/run` takes.
    pub name: String,
    pub description: String,
    /// The plan the healer itself picks for this incident.
    pub automatic: bool,
    /// It answers the incident's kind of fault (else it only fits the target).
    pub answers_kind: bool,
    /// What it would change, step by step, for people: `channel bank-a weight 0`.
    pub changes: Vec<String>,
    pub approval: PlanApproval,
}

/// `POST /api/incidents/{id}/run`: run `plan` now, approved by the commander asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    pub plan: String,
}

impl RunRequest {
    /// The plan's name is a token ([`is_token`]).
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if is_token(&self.plan) {
            Ok(())
        } else {
            Err(InvalidRequest(
                "plan: a name of [A-Za-z0-9_.:-], 1..=64".into(),
            ))
        }
    }
}

/// `POST /api/incidents/{id}/undo`: undo one applied action of one of its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoRequest {
    /// `RUN.INDEX`, as [`RunAction::id`](crate::RunAction::id) names it.
    pub action: String,
}

impl UndoRequest {
    /// `action` is two numbers joined by a dot: `3.0`.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let number =
            |s: &str| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit());
        match self.action.split_once('.') {
            Some((run, index)) if number(run) && number(index) => Ok(()),
            _ => Err(InvalidRequest(
                "action: RUN.INDEX as the incident lists it, e.g. 3.0".into(),
            )),
        }
    }
}

/// `POST /api/incidents/{id}/resolve`: the incident is over, in the commander's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub note: String,
}

impl ResolveRequest {
    /// A note with some text in it, at most [`MAX_NOTE_BYTES`].
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        if self.note.trim().is_empty() {
            return Err(InvalidRequest("note: say why the incident is over".into()));
        }
        if self.note.len() > MAX_NOTE_BYTES {
            return Err(InvalidRequest(format!(
                "note: at most {MAX_NOTE_BYTES} bytes"
            )));
        }
        Ok(())
    }
}

/// The answer of `POST /api/incidents/{id}/run`: the run acts from the next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStarted {
    pub ok: bool,
    /// The incident's id.
    pub incident: u64,
    /// The new run (listed in the incident's `runs`).
    pub run: u64,
    pub plan: String,
    pub approved_by: String,
}

/// The answer of `POST /api/incidents/{id}/undo`: the action is no longer in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undone {
    pub ok: bool,
    /// The incident's id.
    pub incident: u64,
    /// `RUN.INDEX`.
    pub action: String,
    pub undone_by: String,
}

/// The answer of `POST /api/incidents/{id}/resolve`: the incident reads `resolved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub ok: bool,
    /// The incident's id.
    pub incident: u64,
    pub resolved_by: String,
}
