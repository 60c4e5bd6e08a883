//! Rules compiled for the payment path: per resource, the flow limiters, the
//! hot-parameter limiters and the breakers that guard it, found by `service`
//! and `operation` without building a string per call. Replacing a rule list
//! recompiles it and starts its windows and breakers afresh (as Sentinel does).

use super::breaker::Breaker;
use super::rules::{
    count_of, param_index, split_resource, DegradeRule, FlowRule, ParamFlowRule, PARAM_KEYS,
};
use super::window::{FnvHasher, KeyedBuckets, Pacer, SlidingWindow};
use crate::guard::{CallSite, Verdict};
use crate::hotpath::{InFlight, Refusals};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

/// Service and operation names hash with FNV-1a in a few nanoseconds.
type FastMap<V> = HashMap<String, V, BuildHasherDefault<FnvHasher>>;

/// Sentinel's block exceptions as business code and error class.
pub(crate) const FLOW_LIMITED: (&str, &str) = ("FLOW_LIMITED", "FlowException");
pub(crate) const PARAM_LIMITED: (&str, &str) = ("PARAM_FLOW_LIMITED", "ParamFlowException");
pub(crate) const DEGRADED: (&str, &str) = ("DEGRADED", "DegradeException");

fn reject((code, error): (&str, &str)) -> Verdict {
    Verdict::Reject {
        code: code.to_string(),
        error: error.to_string(),
        delay_us: 0,
    }
}

#[derive(Debug)]
struct FlowLimiter {
    qps: bool,
    count: f64,
    window: SlidingWindow,
    pacer: Option<(Pacer, u64)>,
    in_flight: InFlight,
}

#[derive(Debug)]
struct ParamLimiter {
    key: usize,
    per_s: f64,
    capacity: f64,
    exceptions: HashMap<String, f64>,
    burst: f64,
    secs: f64,
    buckets: KeyedBuckets,
}

/// Everything guarding one resource.
#[derive(Debug, Default)]
struct Guards {
    flow: Vec<FlowLimiter>,
    param: Vec<ParamLimiter>,
    breakers: Vec<Arc<Breaker>>,
    refused: Refusals,
}

impl Guards {
    fn is_empty(&self) -> bool {
        self.flow.is_empty() && self.param.is_empty() && self.breakers.is_empty()
    }
}

#[derive(Debug, Default)]
struct ServiceGuards {
    whole: Guards,
    ops: FastMap<Guards>,
}

/// The compiled rules.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    services: FastMap<ServiceGuards>,
    /// Breakers by resource name, for the state listing.
    pub breakers: Vec<(String, Arc<Breaker>)>,
}

fn slot<'a>(map: &'a mut FastMap<ServiceGuards>, resource: &str) -> &'a mut Guards {
    let (service, op) = split_resource(resource);
    let sg = map.entry(service.to_string()).or_default();
    match op {
        Some(op) => sg.ops.entry(op.to_string()).or_default(),
        None => &mut sg.whole,
    }
}

fn key_value<'a>(site: &'a CallSite<'_>, key: usize) -> Option<&'a str> {
    match PARAM_KEYS[key] {
        "scene" => Some(site.scene),
        "zone" => Some(site.zone),
        name => site.keys.get(name).map(String::as_str),
    }
}

impl Compiled {
    pub(crate) fn build(
        flow: &[FlowRule],
        param: &[ParamFlowRule],
        degrade: &[DegradeRule],
    ) -> Self {
        let mut services: FastMap<ServiceGuards> = FastMap::default();
        for r in flow {
            let count = count_of(&r.count);
            let pacer = (r.control_behavior == Some(2)).then(|| {
                (
                    Pacer::default(),
                    r.max_queueing_time_ms.unwrap_or(500) as u64 * 1000,
                )
            });
            slot(&mut services, &r.resource).flow.push(FlowLimiter {
                qps: r.grade.unwrap_or(1) == 1,
                count,
                window: SlidingWindow::new(1_000_000),
                pacer,
                in_flight: InFlight::default(),
            });
        }
        for r in param {
            let secs = r.duration_in_sec.unwrap_or(1) as f64;
            let count = count_of(&r.count);
            let burst = r.burst_count.unwrap_or(0) as f64;
            let exceptions = r
                .param_flow_item_list
                .iter()
                .flatten()
                .map(|i| (i.object.clone(), count_of(&i.count)))
                .collect();
            slot(&mut services, &r.resource).param.push(ParamLimiter {
                key: param_index(r.param_idx).unwrap_or(0),
                per_s: count / secs,
                capacity: count + burst,
                exceptions,
                burst,
                secs,
                buckets: KeyedBuckets::default(),
            });
        }
        let mut breakers = Vec::new();
        for r in degrade {
            let b = Arc::new(Breaker::new(r));
            breakers.push((r.resource.clone(), b.clone()));
            slot(&mut services, &r.resource).breakers.push(b);
        }
        Self { services, breakers }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    fn guards(&self, service: &str, op: &str) -> [Option<&Guards>; 2] {
        match self.services.get(service) {
            None => [None, None],
            Some(sg) => [
                (!sg.whole.is_empty()).then_some(&sg.whole),
                sg.ops.get(op).filter(|g| !g.is_empty()),
            ],
        }
    }

    /// Checks a call against its resources' rules: hot parameters, then flow,
    /// then breakers (Sentinel's slot order). `Pass` may carry a pacing delay.
    pub(crate) fn enter(
        &self,
        service: &str,
        op: &str,
        site: &CallSite<'_>,
        now: impl Fn() -> u64,
    ) -> Verdict {
        let gs = self.guards(service, op);
        if gs[0].is_none() && gs[1].is_none() {
            return Verdict::PASS;
        }
        let v = self.check(gs, site, now());
        if matches!(v, Verdict::Reject { .. }) {
            for g in gs.iter().flatten() {
                g.refused.note();
            }
        }
        v
    }

    fn check(&self, gs: [Option<&Guards>; 2], site: &CallSite<'_>, now_us: u64) -> Verdict {
        for g in gs.iter().flatten() {
            for p in &g.param {
                let Some(v) = key_value(site, p.key) else {
                    continue;
                };
                let (per_s, cap) = match p.exceptions.get(v) {
                    Some(&c) => (c / p.secs, c + p.burst),
                    None => (p.per_s, p.capacity),
                };
                if !p.buckets.try_take(v, now_us, per_s, cap) {
                    return reject(PARAM_LIMITED);
                }
            }
        }
        let mut delay_us = 0;
        for g in gs.iter().flatten() {
            for f in &g.flow {
                if f.qps {
                    if f.pacer.is_none() && f.window.sum(now_us) as f64 + 1.0 > f.count {
                        return reject(FLOW_LIMITED);
                    }
                } else if f.in_flight.get() as f64 + 1.0 > f.count {
                    return reject(FLOW_LIMITED);
                }
            }
        }
        let mut probes: [Option<&Breaker>; 8] = [None; 8];
        let mut n = 0;
        for g in gs.iter().flatten() {
            for b in &g.breakers {
                let was_open = !b.is_closed();
                if !b.try_pass(now_us) {
                    for p in probes.iter().take(n).flatten() {
                        p.abort_probe(now_us);
                    }
                    return reject(DEGRADED);
                }
                if was_open && n < probes.len() {
                    probes[n] = Some(b);
                    n += 1;
                }
            }
        }
        for g in gs.iter().flatten() {
            for f in &g.flow {
                if let Some((pacer, max_q)) = &f.pacer {
                    match pacer.acquire(now_us, f.count, *max_q) {
                        Some(w) => delay_us = delay_us.max(w),
                        None => {
                            for p in probes.iter().take(n).flatten() {
                                p.abort_probe(now_us);
                            }
                            return reject(FLOW_LIMITED);
                        }
                    }
                }
                if f.qps {
                    f.window.add(now_us, 1);
                } else {
                    f.in_flight.enter();
                }
            }
        }
        Verdict::Pass { delay_us }
    }

    /// Records the end of a call (the services call it for refused calls too;
    /// those are cancelled against the refusals `enter` noted).
    pub(crate) fn exit(
        &self,
        service: &str,
        op: &str,
        success: bool,
        duration_us: u64,
        now: impl Fn() -> u64,
    ) {
        let gs = self.guards(service, op);
        if gs[0].is_none() && gs[1].is_none() {
            return;
        }
        let now_us = now();
        for g in gs.iter().flatten() {
            if !success && g.refused.take() {
                continue;
            }
            for f in &g.flow {
                if !f.qps {
                    f.in_flight.exit();
                }
            }
            for b in &g.breakers {
                b.on_exit(now_us, success, duration_us);
            }
        }
    }
}
