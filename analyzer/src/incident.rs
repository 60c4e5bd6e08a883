//! Incidents: one per diagnosed root cause (the same cause is one incident),
//! with start (first bad request), detected, diagnosed and recovered times, the
//! ranked candidates, the impact so far, and the steps others (the healer) add.
//! An incident closes as `recovered` once its cause is gone and everything is
//! healthy for a while, or as `superseded` when the diagnosis moved elsewhere.

use crate::diagnosis::{Candidate, RootCause};
use crate::impact::Impact;
use serde::Serialize;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Recovered,
    Superseded,
}

/// A step taken on an incident (by the healer or a commander).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentStep {
    pub time_us: u64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: u64,
    pub status: IncidentStatus,
    pub root_cause: RootCause,
    pub confidence: f64,
    pub evidence: Vec<String>,
    /// The ranked candidates at the last evaluation (top 5).
    pub candidates: Vec<Candidate>,
    /// First bad request seen (epoch µs).
    pub start_us: u64,
    /// First tick that flagged an anomaly in this episode.
    pub detected_us: u64,
    /// First tick that named this root cause.
    pub diagnosed_us: u64,
    pub recovered_us: Option<u64>,
    /// Last tick this cause was among the candidates.
    pub last_seen_us: u64,
    pub impact: Impact,
    pub steps: Vec<IncidentStep>,
    /// Earlier root causes of this incident, replaced within `refine` seconds
    /// of being named by a better-supported one.
    pub revisions: Vec<RootCause>,
    /// First tick this cause was missing from the candidates (while it is).
    #[serde(skip)]
    pub absent_since_us: Option<u64>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.status == IncidentStatus::Open
    }
}

/// What one tick tells the book.
pub struct TickView<'a> {
    pub now_us: u64,
    pub candidates: &'a [Candidate],
    /// Anything unhealthy now.
    pub any_unhealthy: bool,
    /// When the current episode was first detected.
    pub detected_us: u64,
    /// Estimated start (first bad request) of the current episode.
    pub start_us: u64,
    pub recover_after_us: u64,
    pub supersede_after_us: u64,
    /// How long after naming a cause it may still be refined in place.
    pub refine_us: u64,
    /// Minimum confidence to open an incident.
    pub min_confidence: f64,
}

/// Open and recent incidents.
#[derive(Debug, Default)]
pub struct IncidentBook {
    next_id: u64,
    pub open: Vec<Incident>,
    pub closed: VecDeque<Incident>,
    history: usize,
    /// Last time anything was unhealthy.
    last_bad_us: u64,
    /// First tick of the current calm (nothing unhealthy), if calm.
    calm_since_us: Option<u64>,
}

impl IncidentBook {
    pub fn new(history: usize) -> Self {
        Self {
            next_id: 1,
            history,
            ..Default::default()
        }
    }

    /// Updates the book; `impact(start_us)` computes an incident's damage.
    pub fn update(&mut self, t: &TickView, impact: impl Fn(u64) -> Impact) {
        if t.any_unhealthy {
            self.last_bad_us = t.now_us;
            self.calm_since_us = None;
        } else if self.calm_since_us.is_none() {
            self.calm_since_us = Some(t.now_us);
        }
        if let Some(top) = t
            .candidates
            .first()
            .filter(|c| c.confidence >= t.min_confidence)
        {
            let id = top.root_cause.identity();
            // A diagnosis is provisional for `refine_us`: in the same episode,
            // a different top cause revises the youngest provisional incident
            // instead of opening a second one.
            let young = |i: &Incident| t.now_us.saturating_sub(i.diagnosed_us) <= t.refine_us;
            let pos = self
                .open
                .iter()
                .position(|i| i.root_cause.identity() == id)
                .or_else(|| {
                    self.open
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| young(i))
                        .max_by_key(|(_, i)| i.diagnosed_us)
                        .map(|(p, _)| p)
                });
            match pos.map(|p| &mut self.open[p]) {
                Some(inc) if inc.root_cause.identity() != id => {
                    // A young diagnosis refined by better evidence in the same episode.
                    inc.revisions.push(inc.root_cause.clone());
                    inc.root_cause = top.root_cause.clone();
                    inc.confidence = top.confidence;
                    inc.evidence = top.evidence.clone();
                    inc.diagnosed_us = t.now_us;
                }
                Some(inc) => {
                    inc.confidence = top.confidence;
                    inc.evidence = top.evidence.clone();
                    inc.root_cause = top.root_cause.clone();
                }
                None => {
                    let inc = Incident {
                        id: self.next_id,
                        status: IncidentStatus::Open,
                        root_cause: top.root_cause.clone(),
                        confidence: top.confidence,
                        evidence: top.evidence.clone(),
                        candidates: Vec::new(),
                        start_us: t.start_us.min(t.now_us),
                        detected_us: t.detected_us.min(t.now_us),
                        diagnosed_us: t.now_us,
                        recovered_us: None,
                        last_seen_us: t.now_us,
                        impact: impact(t.start_us),
                        steps: Vec::new(),
                        revisions: Vec::new(),
                        absent_since_us: None,
                    };
                    self.next_id += 1;
                    self.open.push(inc);
                }
            }
        }
        for inc in &mut self.open {
            let id = inc.root_cause.identity();
            if t.candidates.iter().any(|c| c.root_cause.identity() == id) {
                inc.last_seen_us = t.now_us;
                inc.absent_since_us = None;
            } else if inc.absent_since_us.is_none() {
                inc.absent_since_us = Some(t.now_us);
            }
            if inc.last_seen_us == t.now_us {
                inc.candidates = t.candidates.iter().take(5).cloned().collect();
            }
            let absent = t.now_us.saturating_sub(inc.last_seen_us);
            let calm = t.now_us.saturating_sub(self.last_bad_us);
            if absent >= t.recover_after_us && calm >= t.recover_after_us {
                inc.status = IncidentStatus::Recovered;
                // The first tick at which it was both gone and all was calm.
                let gone = inc.absent_since_us.unwrap_or(t.now_us);
                let calm = self.calm_since_us.unwrap_or(t.now_us);
                inc.recovered_us = Some(gone.max(calm));
            } else if absent >= t.supersede_after_us {
                inc.status = IncidentStatus::Superseded;
            }
            if inc.is_open() {
                inc.impact = impact(inc.start_us);
            }
        }
        let (still, done): (Vec<Incident>, Vec<Incident>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|i| i.is_open());
        self.open = still;
        for i in done {
            self.closed.push_back(i);
            while self.closed.len() > self.history {
                self.closed.pop_front();
            }
        }
    }

    pub fn add_step(&mut self, id: u64, step: IncidentStep) -> bool {
        match self
            .open
            .iter_mut()
            .chain(self.closed.iter_mut())
            .find(|i| i.id == id)
        {
            Some(i) => {
                i.steps.push(step);
                true
            }
            None => false,
        }
    }

    pub fn get(&self, id: u64) -> Option<&Incident> {
        self.open
            .iter()
            .chain(self.closed.iter())
            .find(|i| i.id == id)
    }
}
