//! Aggregation groups: alerts routed to the same receiver with the same `group_by` labels
//! travel together. A new group waits `group_wait` before its first notification, then is
//! looked at every `group_interval`; it notifies only when its set of firing/resolved alerts
//! changed (dedup) or `repeat_interval` passed. One incident → one notification per group.

use crate::labels::Labels;
use crate::route::{GroupSettings, Route};
use crate::rule::{Alert, AlertState};
use digest::Micros;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Firing if any alert in it fires, else resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    Firing,
    Resolved,
}

/// One message for one receiver about one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub receiver: String,
    pub group_key: String,
    pub status: NotificationStatus,
    pub group_labels: Labels,
    pub common_labels: Labels,
    pub common_annotations: Labels,
    pub alerts: Vec<Alert>,
    pub at_us: Micros,
}

#[derive(Debug)]
struct Group {
    receiver: String,
    settings: GroupSettings,
    labels: Labels,
    alerts: BTreeMap<String, Alert>,
    next_flush_us: Micros,
    sent_firing: BTreeSet<String>,
    last_sent_us: Option<Micros>,
}

/// Every live group.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    groups: BTreeMap<String, Group>,
}

fn group_labels(settings: &GroupSettings, labels: &Labels) -> Labels {
    if settings.group_by.iter().any(|g| g == "...") {
        return labels.clone();
    }
    settings
        .group_by
        .iter()
        .filter_map(|k| labels.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

impl Groups {
    /// Adds (or updates) a firing or resolved alert in its group for `route`.
    pub(crate) fn insert(&mut self, route: &Route, alert: &Alert, now: Micros) {
        let gl = group_labels(&route.settings, &alert.labels);
        let key = format!(
            "{}:{{{}}}",
            route.id,
            gl.iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let g = self.groups.entry(key).or_insert_with(|| Group {
            receiver: route.receiver.clone(),
            settings: route.settings.clone(),
            labels: gl,
            alerts: BTreeMap::new(),
            next_flush_us: now + route.settings.group_wait_us,
            sent_firing: BTreeSet::new(),
            last_sent_us: None,
        });
        g.alerts.insert(alert.fingerprint.clone(), alert.clone());
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Notifications due at `now`. `muted` says whether an alert is silenced or inhibited
    /// (muted alerts are left out; a group whose alerts are all muted sends nothing).
    pub(crate) fn flush(
        &mut self,
        now: Micros,
        muted: impl Fn(&Alert) -> bool,
    ) -> Vec<Notification> {
        let mut out = Vec::new();
        let mut empty = Vec::new();
        for (key, g) in self.groups.iter_mut() {
            if g.next_flush_us > now {
                continue;
            }
            g.next_flush_us = now + g.settings.group_interval_us;
            let firing: Vec<&Alert> = g
                .alerts
                .values()
                .filter(|a| a.state == AlertState::Firing && !muted(a))
                .collect();
            let resolved: Vec<&Alert> = g
                .alerts
                .values()
                .filter(|a| {
                    a.state == AlertState::Resolved && g.sent_firing.contains(&a.fingerprint)
                })
                .collect();
            let firing_set: BTreeSet<String> =
                firing.iter().map(|a| a.fingerprint.clone()).collect();
            let changed = firing_set != g.sent_firing || !resolved.is_empty();
            let repeat = !firing.is_empty()
                && g.last_sent_us
                    .is_some_and(|t| now.saturating_sub(t) >= g.settings.repeat_interval_us);
            if (changed && !(firing.is_empty() && resolved.is_empty())) || repeat {
                let alerts: Vec<Alert> = firing
                    .iter()
                    .chain(resolved.iter())
                    .map(|a| (*a).clone())
                    .collect();
                out.push(Notification {
                    receiver: g.receiver.clone(),
                    group_key: key.clone(),
                    status: if firing.is_empty() {
                        NotificationStatus::Resolved
                    } else {
                        NotificationStatus::Firing
                    },
                    group_labels: g.labels.clone(),
                    common_labels: common(alerts.iter().map(|a| &a.labels)),
                    common_annotations: common(alerts.iter().map(|a| &a.annotations)),
                    alerts,
                    at_us: now,
                });
                g.last_sent_us = Some(now);
            }
            g.sent_firing = firing_set;
            g.alerts.retain(|_, a| a.state != AlertState::Resolved);
            if g.alerts.is_empty() {
                empty.push(key.clone());
            }
        }
        for k in empty {
            self.groups.remove(&k);
        }
        out
    }
}

fn common<'a>(mut sets: impl Iterator<Item = &'a Labels>) -> Labels {
    let Some(first) = sets.next() else {
        return Labels::new();
    };
    let mut c = first.clone();
    for s in sets {
        c.retain(|k, v| s.get(k) == Some(v));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{Route, RouteConfig};

    fn alert(fp: &str, state: AlertState) -> Alert {
        Alert {
            fingerprint: fp.into(),
            labels: [
                ("alertname".to_string(), "A".to_string()),
                ("fp".to_string(), fp.to_string()),
            ]
            .into(),
            annotations: Labels::new(),
            state,
            active_at_us: 0,
            starts_at_us: 1,
            ends_at_us: if state == AlertState::Resolved { 9 } else { 0 },
            value: 1.0,
            generator_url: String::new(),
        }
    }

    fn route() -> Route {
        let c = RouteConfig {
            receiver: Some("r".into()),
            group_wait_s: Some(1.0),
            group_interval_s: Some(5.0),
            repeat_interval_s: Some(60.0),
            ..Default::default()
        };
        Route::new(&c, &["r".to_string()]).unwrap()
    }

    const S: u64 = 1_000_000;

    #[test]
    fn wait_dedup_repeat_and_resolve() {
        let r = route();
        let mut g = Groups::default();
        g.insert(&r, &alert("a", AlertState::Firing), 0);
        assert!(g.flush(0, |_| false).is_empty(), "group wait");
        g.insert(&r, &alert("b", AlertState::Firing), S / 2);
        let n = g.flush(S, |_| false);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].alerts.len(), 2);
        // Same alerts again: nothing new until the repeat interval.
        for t in [6, 11, 16, 56] {
            g.insert(&r, &alert("a", AlertState::Firing), t * S);
            g.insert(&r, &alert("b", AlertState::Firing), t * S);
            assert!(g.flush(t * S, |_| false).is_empty(), "dedup at {t}s");
        }
        g.insert(&r, &alert("a", AlertState::Firing), 61 * S);
        assert_eq!(g.flush(61 * S, |_| false).len(), 1, "repeat after 60 s");
        // One resolves: one notification listing the firing one and the resolved one.
        g.insert(&r, &alert("b", AlertState::Resolved), 62 * S);
        let n = g.flush(66 * S, |_| false);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].status, NotificationStatus::Firing);
        assert_eq!(n[0].alerts.len(), 2);
        g.insert(&r, &alert("a", AlertState::Resolved), 67 * S);
        let n = g.flush(71 * S, |_| false);
        assert_eq!(n[0].status, NotificationStatus::Resolved);
        assert!(g.is_empty(), "a fully resolved group is dropped");
    }

    #[test]
    fn muted_alerts_send_nothing_and_never_resolve_loudly() {
        let r = route();
        let mut g = Groups::default();
        g.insert(&r, &alert("a", AlertState::Firing), 0);
        assert!(g.flush(S, |_| true).is_empty());
        g.insert(&r, &alert("a", AlertState::Resolved), 2 * S);
        assert!(
            g.flush(6 * S, |_| true).is_empty(),
            "never announced, so no resolve either"
        );
        assert!(g.is_empty());
    }
}
