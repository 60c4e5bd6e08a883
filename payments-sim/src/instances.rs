//! Service instances: each service runs `zones.len() * instances_per_zone`
//! instances named `{service}-{n}` (n = 1..), instance n in zone
//! `zones[(n-1) % zones.len()]`. The table is built once per system (names
//! precomputed, nothing allocated per call) and answers the one question of the
//! payment path: which instance serves this call — one in the call's zone, by a
//! stable hash of trace id and service, skipping isolated instances.
//!
//! Must not: know about the control plane; whoever asks passes "is this
//! instance isolated?" as a function.

use crate::msg::Service;
use digest::TraceId;

/// One instance of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    /// `{service}-{n}`, e.g. `payment-engine-2`.
    pub(crate) name: Box<str>,
    pub(crate) service: Service,
    /// The zone it lives in.
    pub(crate) zone: Box<str>,
    /// Its number `n` (1..).
    pub(crate) n: u32,
}

/// Every instance of every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instances {
    zones: Vec<Box<str>>,
    per_zone: u32,
    /// `by_service[svc as usize]`: its instances, n = 1.. in order.
    by_service: Vec<Vec<Instance>>,
    /// `by_zone[svc as usize][zone]`: positions in `by_service[svc]`.
    by_zone: Vec<Vec<Vec<usize>>>,
}

/// Most instances per zone (`SimConfig.instances_per_zone`).
pub(crate) const MAX_PER_ZONE: u32 = 16;

impl Default for Instances {
    fn default() -> Self {
        let c = crate::SimConfig::default();
        Self::new(&c.zones, c.instances_per_zone)
    }
}

/// A stable 64-bit mix (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Instances {
    /// The table for `zones` (at least one) with `per_zone` instances in each
    /// (clamped to 1..=[`MAX_PER_ZONE`]; the config validates it first).
    pub(crate) fn new(zones: &[String], per_zone: u32) -> Self {
        let per_zone = per_zone.clamp(1, MAX_PER_ZONE);
        let zones: Vec<Box<str>> = if zones.is_empty() {
            vec!["zone-a".into()]
        } else {
            zones.iter().map(|z| z.as_str().into()).collect()
        };
        let count = zones.len() * per_zone as usize;
        let mut by_service = Vec::with_capacity(Service::ALL.len());
        let mut by_zone = Vec::with_capacity(Service::ALL.len());
        for svc in Service::ALL {
            let mut list = Vec::with_capacity(count);
            let mut zl = vec![Vec::with_capacity(per_zone as usize); zones.len()];
            for i in 0..count {
                let z = i % zones.len();
                zl[z].push(i);
                list.push(Instance {
                    name: format!("{}-{}", svc.name(), i + 1).into(),
                    service: svc,
                    zone: zones[z].clone(),
                    n: i as u32 + 1,
                });
            }
            by_service.push(list);
            by_zone.push(zl);
        }
        Self {
            zones,
            per_zone,
            by_service,
            by_zone,
        }
    }

    pub(crate) fn from_config(cfg: &crate::SimConfig) -> Self {
        Self::new(&cfg.zones, cfg.instances_per_zone)
    }

    /// The instances of `svc`, n = 1.. in order.
    pub(crate) fn of(&self, svc: Service) -> &[Instance] {
        &self.by_service[svc as usize]
    }

    /// Every instance, service by service.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Instance> {
        self.by_service.iter().flatten()
    }

    /// The instance called `name`, if there is one.
    pub(crate) fn find(&self, name: &str) -> Option<&Instance> {
        let (svc, n) = name.rsplit_once('-')?;
        let svc = Service::from_name(svc)?;
        let n: usize = n.parse().ok()?;
        let i = self.of(svc).get(n.checked_sub(1)?)?;
        (&*i.name == name).then_some(i)
    }

    /// The instance of `svc` that serves a call of trace `trace` in `zone`:
    /// a stable hash of trace and service picks among the zone's instances,
    /// skipping those `isolated` says are out of rotation; if the whole zone is
    /// isolated (or the zone is unknown), any instance in rotation elsewhere. If
    /// every instance is isolated (the control plane refuses that), the hashed one.
    pub(crate) fn pick(
        &self,
        svc: Service,
        zone: &str,
        trace: TraceId,
        isolated: impl Fn(&str) -> bool,
    ) -> &Instance {
        let all = &self.by_service[svc as usize];
        let h = mix((trace.0 as u64) ^ ((trace.0 >> 64) as u64) ^ ((svc as u64 + 1) << 56));
        let in_zone = self
            .zones
            .iter()
            .position(|z| **z == *zone)
            .map(|z| &self.by_zone[svc as usize][z]);
        if let Some(zl) = in_zone {
            let start = (h % zl.len() as u64) as usize;
            for k in 0..zl.len() {
                let i = &all[zl[(start + k) % zl.len()]];
                if !isolated(&i.name) {
                    return i;
                }
            }
        }
        let start = (h % all.len() as u64) as usize;
        for k in 0..all.len() {
            let i = &all[(start + k) % all.len()];
            if !isolated(&i.name) {
                return i;
            }
        }
        match in_zone {
            Some(zl) => &all[zl[(h % zl.len() as u64) as usize]],
            None => &all[start],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<String> {
        vec!["zone-a".into(), "zone-b".into()]
    }

    #[test]
    fn names_and_zones_follow_the_rule() {
        let t = Instances::new(&zones(), 2);
        let e: Vec<_> = t
            .of(Service::PaymentEngine)
            .iter()
            .map(|i| (&*i.name, &*i.zone))
            .collect();
        assert_eq!(
            e,
            [
                ("payment-engine-1", "zone-a"),
                ("payment-engine-2", "zone-b"),
                ("payment-engine-3", "zone-a"),
                ("payment-engine-4", "zone-b"),
            ]
        );
        assert_eq!(t.all().count(), 9 * 4);
        assert_eq!(t.find("payment-engine-3").unwrap().n, 3);
        for bad in [
            "payment-engine-5",
            "payment-engine-0",
            "payment-engine",
            "nope-1",
            "payment-engine-x",
        ] {
            assert!(t.find(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn picks_in_zone_and_skips_isolated() {
        let t = Instances::new(&zones(), 2);
        let mut seen = std::collections::BTreeMap::new();
        for i in 0..4000u128 {
            let trace = TraceId(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            let p = t.pick(Service::Payment, "zone-a", trace, |_| false);
            assert_eq!(&*p.zone, "zone-a");
            *seen.entry(p.name.to_string()).or_insert(0) += 1;
            let q = t.pick(Service::Payment, "zone-a", trace, |n| n == "payment-1");
            assert_eq!(&*q.name, "payment-3");
            let r = t.pick(Service::Payment, "zone-a", trace, |n| {
                n == "payment-1" || n == "payment-3"
            });
            assert_eq!(&*r.zone, "zone-b", "whole zone isolated: another zone");
            let u = t.pick(Service::Payment, "zone-x", trace, |_| false);
            assert_eq!(u.service, Service::Payment);
        }
        assert_eq!(seen.len(), 2);
        for (name, n) in seen {
            assert!((1700..=2300).contains(&n), "{name}: {n} of 4000");
        }
    }
}
