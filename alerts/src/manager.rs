//! The alert manager: rules → alerts → (silence, inhibition) → routing → groups →
//! notifications, with history and silences kept in the append-only [`Store`]. Driven by
//! explicit calls and the `Clock` it is given; delivery is the [`crate::Notifier`]'s job.

use crate::error::AlertsError;
use crate::group::{Groups, Notification};
use crate::inhibit::{InhibitConfig, InhibitRule};
use crate::notify::{ReceiverConfig, RetryPolicy};
use crate::route::{Route, RouteConfig};
use crate::rule::{Alert, AlertState, RuleConfig, RuleSet, Sample};
use crate::silence::{Silence, SilenceRequest, Silences};
use crate::store::{HistoryEntry, Store};
use digest::SharedClock;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::Path;

/// Everything the alerts side is configured with (one TOML/JSON document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerConfig {
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    pub route: RouteConfig,
    pub receivers: Vec<ReceiverConfig>,
    #[serde(default)]
    pub inhibit: Vec<InhibitConfig>,
    /// Add the built-in "zone outage mutes alerts in that zone" rule (default true).
    #[serde(default = "yes")]
    pub zone_outage_inhibit: bool,
    #[serde(default)]
    pub external_url: String,
    #[serde(default)]
    pub retry: RetryPolicy,
    /// How many history entries stay in memory (the file keeps all).
    #[serde(default = "history_limit")]
    pub history_limit: usize,
}

fn yes() -> bool {
    true
}
fn history_limit() -> usize {
    10_000
}

/// An alert as the API shows it, with why it is muted if it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: Alert,
    pub silenced_by: Option<String>,
    pub inhibited: bool,
}

/// Rules, silences, inhibition, routing and groups.
pub struct Manager {
    clock: SharedClock,
    rules: RuleSet,
    route: Route,
    inhibit: Vec<InhibitRule>,
    silences: Silences,
    groups: Groups,
    store: Option<Store>,
    history: VecDeque<HistoryEntry>,
    history_limit: usize,
    firing: Vec<Alert>,
    active: Vec<Alert>,
    /// Lines of the history file that could not be read on start.
    pub rejected_history_lines: usize,
}

impl Manager {
    /// Validates the config; with `store`, replays and then appends to that file.
    pub fn new(
        cfg: &ManagerConfig,
        clock: SharedClock,
        store: Option<&Path>,
    ) -> Result<Self, AlertsError> {
        let names: Vec<String> = cfg.receivers.iter().map(|r| r.name.clone()).collect();
        let route = Route::new(&cfg.route, &names)?;
        let mut rules = RuleSet::new(cfg.rules.clone())?;
        rules.external_url = cfg.external_url.clone();
        let mut inhibit = cfg
            .inhibit
            .iter()
            .map(InhibitRule::new)
            .collect::<Result<Vec<_>, _>>()?;
        if cfg.zone_outage_inhibit {
            inhibit.push(InhibitRule::zone_outage());
        }
        let mut m = Self {
            clock,
            rules,
            route,
            inhibit,
            silences: Silences::default(),
            groups: Groups::default(),
            store: None,
            history: VecDeque::new(),
            history_limit: cfg.history_limit.max(1),
            firing: Vec::new(),
            active: Vec::new(),
            rejected_history_lines: 0,
        };
        if let Some(path) = store {
            let (s, replay) = Store::open(path)?;
            for e in replay.history {
                m.remember(e);
            }
            for s in replay.silences {
                m.silences.insert(s);
            }
            for a in replay.active {
                m.rules.restore(a);
            }
            m.active = m.rules.active().cloned().collect();
            m.firing = m
                .active
                .iter()
                .filter(|a| a.state == AlertState::Firing)
                .cloned()
                .collect();
            m.rejected_history_lines = replay.rejected_lines;
            m.store = Some(s);
        }
        Ok(m)
    }

    fn remember(&mut self, e: HistoryEntry) {
        if self.history.len() == self.history_limit {
            self.history.pop_front();
        }
        self.history.push_back(e);
    }

    fn record(&mut self, e: HistoryEntry) -> Result<(), AlertsError> {
        if let Some(s) = &mut self.store {
            s.append(&e)?;
        }
        self.remember(e);
        Ok(())
    }

    /// Evaluates the rules on one snapshot of samples, then returns the notifications due.
    pub fn evaluate(&mut self, samples: &[Sample]) -> Result<Vec<Notification>, AlertsError> {
        let now = self.clock.now_us();
        let ev = self.rules.evaluate(samples, now);
        for a in &ev.changed {
            self.record(HistoryEntry::Alert {
                alert: a.clone(),
                at_us: now,
            })?;
        }
        for a in ev.firing.iter().chain(ev.resolved.iter()) {
            for r in self.route.matching(&a.labels) {
                self.groups.insert(r, a, now);
            }
        }
        self.firing = ev.firing;
        self.active = self.rules.active().cloned().collect();
        self.flush()
    }

    /// Returns the notifications whose group timers are due (call on every tick).
    pub fn flush(&mut self) -> Result<Vec<Notification>, AlertsError> {
        let now = self.clock.now_us();
        let (silences, inhibit, firing) = (&self.silences, &self.inhibit, &self.firing);
        let notes = self.groups.flush(now, |a| {
            silences.muted_by(&a.labels, now).is_some()
                || inhibit.iter().any(|r| r.inhibits(&a.labels, firing))
        });
        for n in &notes {
            self.record(HistoryEntry::Notified {
                receiver: n.receiver.clone(),
                group_key: n.group_key.clone(),
                status: n.status,
                alerts: n.alerts.len(),
                at_us: now,
            })?;
        }
        Ok(notes)
    }

    /// Pending and firing alerts with their mute state (`GET /api/alerts`).
    pub fn alerts(&self) -> Vec<AlertView> {
        let now = self.clock.now_us();
        self.active
            .iter()
            .map(|a| AlertView {
                silenced_by: self.silences.muted_by(&a.labels, now).map(String::from),
                inhibited: self
                    .inhibit
                    .iter()
                    .any(|r| r.inhibits(&a.labels, &self.firing)),
                alert: a.clone(),
            })
            .collect()
    }

    /// Firing alerts (muted ones included).
    pub fn firing(&self) -> &[Alert] {
        &self.firing
    }

    /// Creates a silence (`POST /api/silences`); a bad request changes nothing.
    pub fn create_silence(&mut self, req: &SilenceRequest) -> Result<Silence, AlertsError> {
        let s = self.silences.build(req, self.clock.now_us())?;
        self.record(HistoryEntry::Silence { silence: s.clone() })?;
        self.silences.insert(s.clone());
        Ok(s)
    }

    /// Silences alerts whose labels equal all of `labels` for `duration_s` from now (the
    /// dashboard's shape of a silence request).
    pub fn silence_for(
        &mut self,
        labels: &std::collections::BTreeMap<String, String>,
        duration_s: u64,
        created_by: &str,
        comment: &str,
    ) -> Result<Silence, AlertsError> {
        let now = self.clock.now_us();
        let req = SilenceRequest {
            matchers: labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect(),
            starts_at: None,
            ends_at: digest::format_rfc3339(
                now.saturating_add(duration_s.saturating_mul(1_000_000)),
            ),
            created_by: created_by.into(),
            comment: comment.into(),
        };
        self.create_silence(&req)
    }

    /// Ends a silence now.
    pub fn expire_silence(&mut self, id: &str) -> Result<Silence, AlertsError> {
        let now = self.clock.now_us();
        let s = self.silences.expire(id, now)?;
        self.record(HistoryEntry::Expire {
            id: id.into(),
            at_us: now,
        })?;
        Ok(s)
    }

    pub fn silences(&self) -> Vec<Silence> {
        self.silences.list().cloned().collect()
    }

    /// The newest history entries, oldest first.
    pub fn history(&self) -> Vec<HistoryEntry> {
        self.history.iter().cloned().collect()
    }
}
