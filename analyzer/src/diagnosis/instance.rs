//! Sick instances: a service blamed for latency or errors is narrowed to one
//! instance when that instance (or a minority of them) is unhealthy while its
//! sibling instances are clearly fine (the same two-proportion test the zone
//! diagnosis uses), so the healer can route around it. A fault on every
//! instance alike stays on the service. The zone diagnosis asks a looser form
//! of the question (does an instance in the zone look fine?) to tell one sick
//! instance (its zone's callers slow down, since calls stay in their zone)
//! from a zone outage (every instance there fails).

use super::zone::clearly_ok;
use super::{pct, Inputs};
use crate::anomaly::Health;
use crate::window::ViewKey;

/// One sick instance named, with the figures behind it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SickInstance {
    pub instance: String,
    pub evidence: String,
}

impl Inputs<'_> {
    /// Real-traffic instance views of `s` with enough calls to judge:
    /// `(instance, health)`.
    fn active_instances(&self, s: &str) -> Vec<(&str, &Health)> {
        self.windows
            .instances_of(s)
            .into_iter()
            .filter_map(|(i, _)| {
                let h = self.h(&ViewKey::instance(s, i))?;
                (h.count >= self.cfg.min_volume).then_some((i, h))
            })
            .collect()
    }

    /// The one instance of `s` to blame, if the fault is confined to it (or to
    /// a minority of instances, the worst of which is named): every other
    /// instance with enough calls is clearly fine next to it.
    pub(super) fn sick_instance(&self, s: &str, slow: bool) -> Option<SickInstance> {
        let active = self.active_instances(s);
        let (bad, rest): (Vec<_>, Vec<_>) = active.into_iter().partition(|(_, h)| h.unhealthy());
        // A sibling that lost its traffic (isolated, draining) says nothing.
        let ok: Vec<_> = rest.into_iter().filter(|(_, h)| !h.drop).collect();
        if bad.is_empty() || ok.is_empty() || bad.len() > ok.len() {
            return None;
        }
        let (worst, wh) = bad
            .iter()
            .max_by(|a, b| a.1.severity.total_cmp(&b.1.severity).then(b.0.cmp(a.0)))
            .copied()?;
        // Every bad instance must stand out from every fine sibling.
        let min = self.cfg.min_volume;
        if !bad
            .iter()
            .all(|(_, b)| ok.iter().all(|(_, o)| clearly_ok(o, b, min)))
        {
            return None;
        }
        let (n, sick, total) = ok.iter().fold((0usize, 0u64, 0u64), |acc, (_, o)| {
            let x = if slow { o.slow } else { o.errors };
            (acc.0 + 1, acc.1 + x, acc.2 + o.count)
        });
        let theirs = if total == 0 {
            0.0
        } else {
            sick as f64 / total as f64
        };
        let (what, mine) = if slow {
            ("slow", wh.slow_ratio)
        } else {
            ("errors", wh.error_ratio)
        };
        let mut evidence = format!(
            "{worst}: {what} {} vs {} on its {n} sibling{}",
            pct(mine),
            pct(theirs),
            if n == 1 { "" } else { "s" }
        );
        if bad.len() > 1 {
            let others: Vec<&str> = bad.iter().map(|b| b.0).filter(|i| *i != worst).collect();
            evidence.push_str(&format!(" (also sick: {})", others.join(", ")));
        }
        Some(SickInstance {
            instance: worst.to_string(),
            evidence,
        })
    }

    /// Doubt about blaming `zone`: the deepest service failing there (no
    /// callee failing there too) has an instance in the zone that looks fine —
    /// a zone fault hits every instance in the zone, while one sick instance
    /// slows its zone's callers (calls stay in their zone). Services that only
    /// lost their traffic are left out: that is what a zone outage does to the
    /// services behind its entry.
    pub(super) fn zone_doubt(&self, zone: &str) -> Option<String> {
        let failing: Vec<String> = self
            .services()
            .into_iter()
            .filter(|s| self.bad(&ViewKey::service_zone(s, zone)))
            .collect();
        let deepest = failing.iter().filter(|s| {
            !self
                .topo
                .callees(s)
                .iter()
                .any(|(n, _)| failing.contains(&n.id))
        });
        let min = self.cfg.min_volume;
        for d in deepest {
            let here = self.instance_health(d, zone);
            let fine = |h: &Health| h.count >= min && !h.unhealthy() && !h.drop;
            let Some((o, _)) = here.iter().find(|(_, h)| fine(h)) else {
                continue;
            };
            return Some(match here.iter().find(|(_, h)| h.unhealthy()) {
                Some((b, _)) => {
                    format!("not zone {zone}: {d} instance {b} is sick while {o} in the same zone is fine")
                }
                None => format!("zone {zone} unconfirmed: {d} instance {o} there looks fine"),
            });
        }
        None
    }

    /// Every real-traffic instance view of `s` in `zone`, whatever its volume.
    fn instance_health(&self, s: &str, zone: &str) -> Vec<(&str, &Health)> {
        self.windows
            .instances_of(s)
            .into_iter()
            .filter(|(_, z)| *z == zone)
            .filter_map(|(i, _)| Some((i, self.h(&ViewKey::instance(s, i))?)))
            .collect()
    }
}
