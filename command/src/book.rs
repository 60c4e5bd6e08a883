//! The incident book: one incident per fault. It opens an incident when the analyzer names
//! a root cause on a component no open incident holds, refines it while the diagnosis
//! improves (another kind on the same component — latency to errors —, a better-supported
//! cause while the diagnosis is young, or the cause a symptom's incident moved to), keeps
//! its damage current, and closes it — `recovered` once its cause is gone and everything is
//! healthy for a while, `superseded` when the diagnosis moved elsewhere, `resolved` when a
//! commander says so. The same cause returning soon after its incident closed reopens that
//! incident (a flapping fault is one incident). It also tracks the episode (when anything
//! was first flagged, the first bad request near it), which gives a new incident its start
//! and detection times.

use crate::error::CommandError;
use crate::incident::{DamagePoint, EntryKind, Incident, IncidentStatus, DAMAGE_POINTS};
use crate::rules::target_of;
use analyzer::{Candidate, Impact};
use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Incident lifetimes (`[incidents]` in the config; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookConfig {
    /// Seconds of health (cause absent, nothing unhealthy) before an incident closes as recovered.
    pub recover_after_s: u64,
    /// Seconds a diagnosis must be absent before its incident closes as superseded.
    pub supersede_after_s: u64,
    /// Seconds after naming a cause during which a better-supported one revises it in place.
    pub refine_s: u64,
    /// Smallest confidence that opens an incident.
    pub min_confidence: f64,
    /// Closed incidents kept for the API.
    pub history: usize,
    /// Seconds after closing during which the same cause reopens its incident.
    pub reopen_s: u64,
    /// Seconds after naming a cause during which, once the analyzer stops naming it, a new
    /// cause is taken as the same fault seen better (a symptom's incident moves to it).
    pub move_s: u64,
}

impl Default for BookConfig {
    fn default() -> Self {
        Self {
            recover_after_s: 3,
            supersede_after_s: 5,
            refine_s: 2,
            min_confidence: 0.5,
            history: 200,
            reopen_s: 60,
            move_s: 10,
        }
    }
}

/// What one analyzer tick tells the book.
pub struct Observation<'a> {
    pub now_us: Micros,
    /// The ranked candidates, best first.
    pub candidates: &'a [Candidate],
    /// Anything (real) unhealthy now, named or not.
    pub any_unhealthy: bool,
    /// Whether the first service's calls reach the second (the call graph): latency or
    /// errors on a caller of a service an open incident blames are its symptom.
    pub calls: &'a dyn Fn(&str, &str) -> bool,
}

/// Whether `c` is a symptom of `inc`'s cause: latency or errors (timeouts among them) on a
/// service whose calls reach the service (or the bank) `inc` blames for latency, errors or
/// a failing dependency — a slow or failing callee shows on every caller above it.
fn symptom_of(c: &Candidate, inc: &Incident, calls: &dyn Fn(&str, &str) -> bool) -> bool {
    use analyzer::CauseKind::{Dependency, Errors, Latency};
    let (rc, cause) = (&c.root_cause, &inc.root_cause);
    if !matches!(rc.kind, Latency | Errors) || rc.instance.is_some() {
        return false;
    }
    if !matches!(cause.kind, Latency | Errors | Dependency) {
        return false;
    }
    let Some(caller) = rc.service.as_deref() else {
        return false;
    };
    let below = match cause.kind {
        Dependency => cause.bank.as_deref(),
        _ => cause.service.as_deref(),
    };
    below.is_some_and(|callee| callee != caller && calls(caller, callee))
}

/// Open and recent incidents.
#[derive(Debug)]
pub struct IncidentBook {
    cfg: BookConfig,
    next_id: u64,
    open: Vec<Incident>,
    closed: VecDeque<Incident>,
    /// Last time anything was unhealthy.
    last_bad_us: Micros,
    /// First tick of the current calm (nothing unhealthy), if calm.
    calm_since_us: Option<Micros>,
    /// First tick of the current episode that flagged anything.
    episode_detected_us: Option<Micros>,
    /// Components whose incident a commander resolved while the cause was still named,
    /// with the last tick it was named: no incident opens for them until they clear.
    muted: Vec<(String, Micros)>,
}

impl IncidentBook {
    pub fn new(cfg: BookConfig) -> Self {
        Self {
            cfg,
            next_id: 1,
            open: Vec::new(),
            closed: VecDeque::new(),
            last_bad_us: 0,
            calm_since_us: None,
            episode_detected_us: None,
            muted: Vec::new(),
        }
    }

    pub fn config(&self) -> &BookConfig {
        &self.cfg
    }

    /// Open incidents, oldest first.
    pub fn open(&self) -> &[Incident] {
        &self.open
    }

    /// Closed incidents, oldest first (at most `history`).
    pub fn closed(&self) -> impl DoubleEndedIterator<Item = &Incident> {
        self.closed.iter()
    }

    /// Every incident the book still holds, open first.
    pub fn all(&self) -> impl Iterator<Item = &Incident> {
        self.open.iter().chain(self.closed.iter())
    }

    pub fn get(&self, id: u64) -> Option<&Incident> {
        self.all().find(|i| i.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Incident> {
        self.open
            .iter_mut()
            .chain(self.closed.iter_mut())
            .find(|i| i.id == id)
    }

    /// Updates the book from one tick. `impact(from_us)` is the damage from `from_us` to
    /// the newest data (its `first_failure_us` dates the episode's first bad request).
    pub fn update(&mut self, t: &Observation, impact: impl Fn(Micros) -> Impact) {
        let flagged = t.any_unhealthy || !t.candidates.is_empty();
        if flagged && self.episode_detected_us.is_none() {
            self.episode_detected_us = Some(t.now_us);
        }
        let detected_us = self.episode_detected_us.unwrap_or(t.now_us);
        // Start: the first failed payment near the episode, else the detection.
        let first_fail = impact(detected_us.saturating_sub(3_000_000)).first_failure_us;
        let start_us = if first_fail > 0 {
            first_fail.min(detected_us)
        } else {
            detected_us
        };
        if t.any_unhealthy {
            self.last_bad_us = t.now_us;
            self.calm_since_us = None;
        } else if self.calm_since_us.is_none() {
            self.calm_since_us = Some(t.now_us);
        }
        if let Some(top) = t
            .candidates
            .first()
            .filter(|c| c.confidence >= self.cfg.min_confidence)
        {
            let symptom = self.open.iter().any(|i| symptom_of(top, i, t.calls));
            if !symptom {
                self.take_up(t.now_us, top, start_us, detected_us, &impact);
            }
        }
        self.follow(t, &impact);
        if !flagged && self.open.is_empty() {
            self.episode_detected_us = None;
        }
    }

    /// The top candidate: the open incident on its component, else the youngest provisional
    /// one or one whose diagnosis moved away (revised in place), else the recently closed
    /// incident on its component (reopened), else a new incident.
    fn take_up(
        &mut self,
        now_us: Micros,
        top: &Candidate,
        start_us: Micros,
        detected_us: Micros,
        impact: &impl Fn(Micros) -> Impact,
    ) {
        let key = target_of(&top.root_cause);
        if self.muted.iter().any(|(k, _)| *k == key) {
            return;
        }
        let refine_us = self.cfg.refine_s * 1_000_000;
        // A young diagnosis may be refined in place, unless a plan already healed what it
        // named (a new cause is then another fault).
        let young = |i: &Incident| {
            now_us.saturating_sub(i.diagnosed_us) <= refine_us && i.recovered_us.is_none()
        };
        // The diagnosis of a symptom moved to its cause: a young incident, not healed,
        // whose cause the analyzer stopped naming.
        let move_us = self.cfg.move_s * 1_000_000;
        let moved = |i: &Incident| {
            i.absent_since_us.is_some()
                && i.recovered_us.is_none()
                && now_us.saturating_sub(i.diagnosed_us) <= move_us
        };
        let pos = self
            .open
            .iter()
            .position(|i| target_of(&i.root_cause) == key)
            .or_else(|| {
                self.open
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| young(i) || moved(i))
                    .max_by_key(|(_, i)| i.diagnosed_us)
                    .map(|(p, _)| p)
            });
        if let Some(p) = pos {
            let inc = &mut self.open[p];
            if inc.root_cause.identity() != top.root_cause.identity() {
                let was = inc.title();
                inc.revisions.push(inc.root_cause.clone());
                inc.root_cause = top.root_cause.clone();
                inc.diagnosed_us = now_us;
                let detail = format!("{was} → {}", inc.title());
                inc.note(now_us, EntryKind::Revised, detail, None, None);
            }
            inc.confidence = top.confidence;
            inc.evidence = top.evidence.clone();
            inc.root_cause = top.root_cause.clone();
            return;
        }
        let reopen_us = self.cfg.reopen_s * 1_000_000;
        // The same cause (kind and component) back soon after closing: a flapping fault.
        let identity = top.root_cause.identity();
        if let Some(p) = self.closed.iter().rposition(|i| {
            i.status != IncidentStatus::Resolved
                && i.root_cause.identity() == identity
                && i.closed_us
                    .is_some_and(|c| now_us.saturating_sub(c) <= reopen_us)
        }) {
            let mut inc = self.closed.remove(p).expect("found");
            inc.status = IncidentStatus::Open;
            inc.closed_us = None;
            inc.recovered_us = None;
            inc.absent_since_us = None;
            // Open again: the healer takes it up again (its last fix did not hold).
            inc.acted_on = None;
            inc.last_seen_us = now_us;
            inc.root_cause = top.root_cause.clone();
            inc.confidence = top.confidence;
            inc.evidence = top.evidence.clone();
            let detail = format!("{} is back", inc.title());
            inc.note(now_us, EntryKind::Reopened, detail, None, None);
            self.open.push(inc);
            return;
        }
        let start_us = start_us.min(now_us);
        let detected_us = detected_us.min(now_us);
        let mut inc = Incident {
            id: self.next_id,
            status: IncidentStatus::Open,
            root_cause: top.root_cause.clone(),
            confidence: top.confidence,
            evidence: top.evidence.clone(),
            candidates: Vec::new(),
            revisions: Vec::new(),
            start_us,
            detected_us,
            diagnosed_us: now_us,
            last_seen_us: now_us,
            recovered_us: None,
            closed_us: None,
            impact: impact(start_us),
            damage: Default::default(),
            runs: Vec::new(),
            reconciliation: None,
            timeline: Vec::new(),
            absent_since_us: None,
            acted_on: None,
        };
        let title = inc.title();
        inc.note(
            start_us,
            EntryKind::FirstBadRequest,
            "first failed or slow request".into(),
            None,
            None,
        );
        inc.note(detected_us, EntryKind::Detected, title.clone(), None, None);
        inc.note(now_us, EntryKind::Diagnosed, title, None, None);
        self.next_id += 1;
        self.open.push(inc);
    }

    /// A commander closes `id` as resolved with `note`; while its cause is still named no
    /// incident opens for it again.
    pub(crate) fn resolve(
        &mut self,
        id: u64,
        now_us: Micros,
        note: &str,
        by: &str,
    ) -> Result<(), CommandError> {
        let p = match self.open.iter().position(|i| i.id == id) {
            Some(p) => p,
            None if self.get(id).is_some() => return Err(CommandError::Closed(id)),
            None => return Err(CommandError::UnknownIncident(id)),
        };
        let mut inc = self.open.remove(p);
        inc.status = IncidentStatus::Resolved;
        inc.closed_us = Some(now_us);
        inc.note(
            now_us,
            EntryKind::Resolved,
            note.to_string(),
            Some(by.to_string()),
            None,
        );
        if inc.absent_since_us.is_none() {
            self.muted.push((target_of(&inc.root_cause), now_us));
        }
        self.push_closed(inc);
        Ok(())
    }

    fn push_closed(&mut self, inc: Incident) {
        self.closed.push_back(inc);
        while self.closed.len() > self.cfg.history {
            self.closed.pop_front();
        }
    }

    /// Every open incident: seen or absent, its impact, closed when due.
    fn follow(&mut self, t: &Observation, impact: &impl Fn(Micros) -> Impact) {
        let recover_us = self.cfg.recover_after_s * 1_000_000;
        let supersede_us = self.cfg.supersede_after_s * 1_000_000;
        let calm = t.now_us.saturating_sub(self.last_bad_us);
        for inc in &mut self.open {
            let key = target_of(&inc.root_cause);
            // Seen: named itself, or shown by a symptom (a mitigated cause may fall below
            // the analyzer's notice while its callers still suffer).
            if t.candidates.iter().any(|c| {
                target_of(&c.root_cause) == key
                    || (c.confidence >= self.cfg.min_confidence && symptom_of(c, inc, t.calls))
            }) {
                inc.last_seen_us = t.now_us;
                inc.absent_since_us = None;
            } else if inc.absent_since_us.is_none() {
                inc.absent_since_us = Some(t.now_us);
            }
            if inc.last_seen_us == t.now_us {
                inc.candidates = t.candidates.iter().take(5).cloned().collect();
            }
            let absent = t.now_us.saturating_sub(inc.last_seen_us);
            if absent >= recover_us && calm >= recover_us {
                // The first tick at which it was both gone and all was calm.
                let gone = inc.absent_since_us.unwrap_or(t.now_us);
                let healthy = gone.max(self.calm_since_us.unwrap_or(t.now_us));
                inc.status = IncidentStatus::Recovered;
                inc.closed_us = Some(t.now_us);
                inc.note(
                    healthy,
                    EntryKind::HealthyAgain,
                    "analyzer: healthy again".into(),
                    None,
                    None,
                );
                if inc.recovered_us.is_none() {
                    inc.recovered_us = Some(healthy);
                    inc.note(
                        healthy,
                        EntryKind::Recovered,
                        "recovered".into(),
                        None,
                        None,
                    );
                }
            } else if absent >= supersede_us {
                inc.status = IncidentStatus::Superseded;
                inc.closed_us = Some(t.now_us);
                inc.note(
                    t.now_us,
                    EntryKind::Superseded,
                    format!("{} no longer diagnosed", inc.title()),
                    None,
                    None,
                );
            }
            if inc.is_open() {
                inc.impact = impact(inc.start_us);
                let second = t.now_us / 1_000_000;
                let point = DamagePoint {
                    second,
                    failed_payments: inc.impact.failed_payments,
                    money_at_stake_cents: inc.impact.money_at_stake_cents,
                };
                match inc.damage.back_mut() {
                    Some(last) if last.second == second => *last = point,
                    _ => {
                        inc.damage.push_back(point);
                        if inc.damage.len() > DAMAGE_POINTS {
                            inc.damage.pop_front();
                        }
                    }
                }
            }
        }
        let (still, done): (Vec<Incident>, Vec<Incident>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|i| i.is_open());
        self.open = still;
        for i in done {
            self.push_closed(i);
        }
        // A muted component is unmuted once it has not been named for `recover_after_s`.
        for (key, seen) in &mut self.muted {
            if t.candidates
                .iter()
                .any(|c| target_of(&c.root_cause) == *key)
            {
                *seen = t.now_us;
            }
        }
        self.muted
            .retain(|(_, seen)| t.now_us.saturating_sub(*seen) < recover_us);
    }
}
