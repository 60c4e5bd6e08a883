//! Sick instances: a service blamed for latency or errors is narrowed to one
//! instance when that instance (or a minority of them) is unhealthy while its
//! sibling instances are clearly fine (the same two-proportion test the zone
//! diagnosis uses), so the healer can route around it. A fault on every
//! instance alike stays on the service. The zone diagnosis asks the same
//! question to tell one sick instance (its zone's callers slow down, since
//! calls stay in their zone) from a zone outage (every instance there fails).

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
    /// Real-traffic instance views of `s` with enough calls to judge, optionally
    /// only those in `zone`: `(instance, health)`.
    fn active_instances(&self, s: &str, zone: Option<&str>) -> Vec<(&str, &Health)> {
        self.windows
            .instances_of(s)
            .into_iter()
            .filter(|(_, z)| zone.is_none_or(|want| want == *z))
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
        let active = self.active_instances(s, None);
        let (bad, ok): (Vec<_>, Vec<_>) = active.into_iter().partition(|(_, h)| h.unhealthy());
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

    /// Whether, in `zone`, service `s` has one instance bad while a sibling in
    /// the same zone is clearly fine — one sick instance, not a zone fault.
    pub(super) fn split_in_zone(&self, s: &str, zone: &str) -> Option<String> {
        let active = self.active_instances(s, Some(zone));
        let min = self.cfg.min_volume;
        for (b, bh) in active.iter().filter(|(_, h)| h.unhealthy()) {
            if let Some((o, _)) = active.iter().find(|(_, oh)| clearly_ok(oh, bh, min)) {
                return Some(format!(
                    "not zone {zone}: {s} instance {b} is sick while {o} in the same zone is fine"
                ));
            }
        }
        None
    }
}
