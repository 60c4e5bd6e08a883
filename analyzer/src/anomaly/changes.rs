//! The change log: deploys, config pushes, rules, switches and rollbacks, kept
//! for a bounded time so every anomaly can be checked against what changed just
//! before it ("suspect change: trade v2.3 at 12:01:07").

use digest::{format_rfc3339, ChangeEvent, ChangeKind};
use serde::Serialize;
use std::collections::VecDeque;

/// A change named as a suspect, in API form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRef {
    pub event: ChangeKind,
    pub service: String,
    pub version: String,
    pub detail: String,
    pub by: String,
    /// RFC 3339 time of the change.
    pub time: String,
    pub time_us: u64,
    /// "trade v2.3 at 12:01:07".
    pub label: String,
}

impl ChangeRef {
    pub fn of(e: &ChangeEvent) -> Self {
        let t = format_rfc3339(e.time_us);
        let hms = t.get(11..19).unwrap_or("").to_string();
        let what = if e.version.is_empty() {
            format!("{} {}", e.event, e.detail)
        } else {
            e.version.clone()
        };
        Self {
            event: e.event,
            service: e.service.clone(),
            version: e.version.clone(),
            detail: e.detail.clone(),
            by: e.by.clone(),
            label: format!("{} {} at {}", e.service, what.trim(), hms),
            time: t,
            time_us: e.time_us,
        }
    }
}

/// Recent change events, oldest first.
#[derive(Debug, Default)]
pub struct ChangeLog {
    events: VecDeque<ChangeEvent>,
    cap: usize,
    /// Who the war room's own changes are made by (its plans, its drills): known changes,
    /// never a suspect.
    own: Vec<String>,
}

impl ChangeLog {
    pub fn new(cap: usize) -> Self {
        Self {
            events: VecDeque::new(),
            cap: cap.max(1),
            own: Vec::new(),
        }
    }

    /// Changes `by` any of `actors` are the war room's own: never a suspect.
    pub fn with_own_actors(mut self, actors: &[String]) -> Self {
        self.own = actors.to_vec();
        self
    }

    /// Whether `e` is one of the war room's own changes.
    pub fn is_own(&self, e: &ChangeEvent) -> bool {
        self.own.contains(&e.by)
    }

    pub fn add(&mut self, e: ChangeEvent) {
        // Keep time order even if events arrive a little out of order.
        let pos = self
            .events
            .iter()
            .rposition(|x| x.time_us <= e.time_us)
            .map_or(0, |p| p + 1);
        self.events.insert(pos, e);
        while self.events.len() > self.cap {
            self.events.pop_front();
        }
    }

    pub fn recent(&self, n: usize) -> impl Iterator<Item = &ChangeEvent> {
        self.events.iter().rev().take(n)
    }

    /// The change to `service` that most plausibly explains an anomaly starting
    /// at `onset_us`: the latest deploy/config/rule/switch within `lookback_us`
    /// before it (or up to `grace_us` after, for events that arrive with their
    /// first bad requests), not undone by a later rollback before the onset.
    pub fn suspect_for(
        &self,
        service: &str,
        onset_us: u64,
        lookback_us: u64,
        grace_us: u64,
    ) -> Option<&ChangeEvent> {
        let from = onset_us.saturating_sub(lookback_us);
        let to = onset_us + grace_us;
        let mut found: Option<&ChangeEvent> = None;
        for e in &self.events {
            if e.service != service || e.time_us < from || e.time_us > to {
                continue;
            }
            if self.is_own(e) && e.event != ChangeKind::Rollback {
                continue;
            }
            match e.event {
                ChangeKind::Rollback => found = None,
                _ => found = Some(e),
            }
        }
        found
    }

    /// Any change (to any service) within `lookback_us` before `onset_us`.
    pub fn any_before(
        &self,
        onset_us: u64,
        lookback_us: u64,
        grace_us: u64,
    ) -> Option<&ChangeEvent> {
        let from = onset_us.saturating_sub(lookback_us);
        self.events.iter().rev().find(|e| {
            e.time_us >= from
                && e.time_us <= onset_us + grace_us
                && e.event != ChangeKind::Rollback
                && !self.is_own(e)
        })
    }
}
