//! Streaming windows over the collector's per-second rollups: 1 s buckets rolled
//! up to 10 s and 1 min, bounded retention, one set per view (service, operation,
//! call edge, scene, bank channel, zone, service-in-zone, instance), real and
//! shadow traffic kept apart. Late data within the lateness bound merges into
//! its own second; older (or far-future) data is counted and dropped. Instance
//! views come from raw server records (rollups carry no instance; see
//! [`InstanceRollup`]), at most `max_instances` per service.

mod entry;
mod instance;
mod ring;
mod stats;

pub(crate) use entry::EntryScenes;
pub use instance::{InstanceRollup, InstanceSeries};
pub use ring::{Retention, Ring, Tiered};
pub use stats::{Stats, StatsSummary};

use digest::{SecondRollup, SpanKind};
use serde::Serialize;
use std::collections::HashMap;

/// What a view aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum View {
    /// Server-side records of one service (its callers' experience of it).
    Service { service: String },
    /// Server-side records of one operation of a service.
    Operation { service: String, operation: String },
    /// A call edge seen by the caller: client and integrator records.
    Edge {
        from: String,
        to: String,
        operation: String,
    },
    /// All operations of a call edge (caller → callee), seen by the caller.
    Link { from: String, to: String },
    /// Server-side records carrying this scene.
    Scene { scene: String },
    /// Integrator records to one bank channel.
    Bank { bank: String },
    /// Server-side records in one zone.
    Zone { zone: String },
    /// Server-side records of one service in one zone.
    ServiceZone { service: String, zone: String },
    /// Server-side records of one instance of a service (`payment-engine-2`).
    Instance { service: String, instance: String },
}

/// A view, on real or shadow traffic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ViewKey {
    pub shadow: bool,
    #[serde(flatten)]
    pub view: View,
}

impl ViewKey {
    pub fn real(view: View) -> Self {
        Self {
            shadow: false,
            view,
        }
    }
    pub fn service(s: &str) -> Self {
        Self::real(View::Service {
            service: s.to_string(),
        })
    }
    pub fn link(from: &str, to: &str) -> Self {
        Self::real(View::Link {
            from: from.to_string(),
            to: to.to_string(),
        })
    }
    pub fn service_zone(s: &str, z: &str) -> Self {
        Self::real(View::ServiceZone {
            service: s.to_string(),
            zone: z.to_string(),
        })
    }
    pub fn bank(b: &str) -> Self {
        Self::real(View::Bank {
            bank: b.to_string(),
        })
    }
    pub fn instance(s: &str, i: &str) -> Self {
        Self::real(View::Instance {
            service: s.to_string(),
            instance: i.to_string(),
        })
    }
}

/// Counters of what the windows refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WindowCounters {
    pub seconds_merged: u64,
    pub late_merged: u64,
    pub late_dropped_series: u64,
    pub future_dropped_series: u64,
    /// Instance series ignored because their service already had
    /// `max_instances` instance views (or because they were too late).
    pub instance_series_refused: u64,
}

/// All views' tiers.
#[derive(Debug)]
pub struct Windows {
    retention: Retention,
    lateness_s: u64,
    views: HashMap<ViewKey, Tiered>,
    /// Instance views held per (shadow, service): instance → its zone.
    instances: HashMap<(bool, String), HashMap<String, String>>,
    max_instances: usize,
    /// Result codes that are business declines, not errors.
    business_codes: Vec<String>,
    pub counters: WindowCounters,
}

impl Windows {
    pub fn new(retention: Retention, lateness_s: u64) -> Self {
        Self {
            retention,
            lateness_s,
            views: HashMap::new(),
            instances: HashMap::new(),
            max_instances: 64,
            business_codes: Vec::new(),
            counters: WindowCounters::default(),
        }
    }

    /// The result codes counted as business declines, not errors.
    pub fn with_business_codes(mut self, codes: Vec<String>) -> Self {
        self.business_codes = codes;
        self
    }

    fn is_business(&self, code: &str) -> bool {
        !code.is_empty() && self.business_codes.iter().any(|c| c == code)
    }

    /// Caps the instance views per service (and real/shadow); beyond it new
    /// instances are counted in `instance_series_refused` and ignored.
    pub fn with_max_instances(mut self, n: usize) -> Self {
        self.max_instances = n;
        self
    }

    /// Merges the per-instance figures of raw records (see [`InstanceRollup`]),
    /// judged against `now_s` like rollups.
    pub fn ingest_instances(&mut self, r: InstanceRollup, now_s: u64) {
        self.counters.instance_series_refused += r.refused;
        for x in r.into_series() {
            let InstanceSeries {
                second,
                shadow,
                service,
                instance,
                zone,
                code,
                stats,
            } = x;
            if second + self.lateness_s < now_s || second > now_s + self.lateness_s.max(2) {
                self.counters.instance_series_refused += 1;
                continue;
            }
            let held = self.instances.entry((shadow, service.clone())).or_default();
            if let Some(z) = held.get_mut(&instance) {
                if *z != zone {
                    *z = zone;
                }
            } else if held.len() >= self.max_instances {
                self.counters.instance_series_refused += 1;
                continue;
            } else {
                held.insert(instance.clone(), zone);
            }
            let key = ViewKey {
                shadow,
                view: View::Instance { service, instance },
            };
            let ret = self.retention;
            let business = self.is_business(&code);
            self.views
                .entry(key)
                .or_insert_with(|| Tiered::new(ret))
                .add(second, &code, &stats, business);
        }
    }

    /// The instances of one service on real traffic, with their zones, by name.
    pub fn instances_of(&self, service: &str) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = self
            .instances
            .get(&(false, service.to_string()))
            .map(|h| h.iter().map(|(i, z)| (i.as_str(), z.as_str())).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Adds one rollup, judged against `now_s` (the analyzer clock's second).
    /// Returns false if the whole second was refused as too late or too early.
    pub fn ingest(&mut self, r: &SecondRollup, now_s: u64) -> bool {
        let n = r.series.len() as u64;
        if r.second + self.lateness_s < now_s {
            self.counters.late_dropped_series += n;
            return false;
        }
        if r.second > now_s + self.lateness_s.max(2) {
            self.counters.future_dropped_series += n;
            return false;
        }
        if r.second < now_s {
            self.counters.late_merged += 1;
        }
        self.counters.seconds_merged += 1;
        for (k, s) in &r.series {
            let business = self.is_business(&k.code);
            for view in views_of(k) {
                let key = ViewKey {
                    shadow: k.shadow,
                    view,
                };
                let ret = self.retention;
                self.views
                    .entry(key)
                    .or_insert_with(|| Tiered::new(ret))
                    .add(r.second, &k.code, s, business);
            }
        }
        true
    }

    pub fn get(&self, key: &ViewKey) -> Option<&Tiered> {
        self.views.get(key)
    }

    /// Stats of a view over `[from, to)` seconds.
    pub fn range(&self, key: &ViewKey, from: u64, to: u64, now_s: u64) -> Stats {
        self.views
            .get(key)
            .map(|t| t.range(from, to, now_s))
            .unwrap_or_default()
    }

    pub fn keys(&self) -> impl Iterator<Item = &ViewKey> {
        self.views.keys()
    }

    pub fn contains(&self, key: &ViewKey) -> bool {
        self.views.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ViewKey, &Tiered)> {
        self.views.iter()
    }

    /// Drops views that saw no data for longer than the coarsest tier holds.
    pub fn expire(&mut self, now_s: u64) {
        let keep = 60 * self.retention.buckets_1m as u64;
        self.views.retain(|_, t| t.last_second + keep >= now_s);
        let views = &self.views;
        for ((shadow, service), held) in self.instances.iter_mut() {
            held.retain(|i, _| {
                views.contains_key(&ViewKey {
                    shadow: *shadow,
                    view: View::Instance {
                        service: service.clone(),
                        instance: i.clone(),
                    },
                })
            });
        }
        self.instances.retain(|_, held| !held.is_empty());
    }
}

/// The views one rollup series contributes to.
pub fn views_of(k: &digest::SeriesKey) -> Vec<View> {
    let mut v = Vec::with_capacity(5);
    match k.kind {
        SpanKind::Server => {
            v.push(View::Service {
                service: k.service.clone(),
            });
            v.push(View::Operation {
                service: k.service.clone(),
                operation: k.operation.clone(),
            });
            if !k.scene.is_empty() {
                v.push(View::Scene {
                    scene: k.scene.clone(),
                });
            }
            if !k.zone.is_empty() {
                v.push(View::Zone {
                    zone: k.zone.clone(),
                });
                v.push(View::ServiceZone {
                    service: k.service.clone(),
                    zone: k.zone.clone(),
                });
            }
        }
        SpanKind::Client | SpanKind::Integrator => {
            if !k.peer.is_empty() {
                v.push(View::Edge {
                    from: k.service.clone(),
                    to: k.peer.clone(),
                    operation: k.operation.clone(),
                });
                v.push(View::Link {
                    from: k.service.clone(),
                    to: k.peer.clone(),
                });
                if k.kind == SpanKind::Integrator {
                    v.push(View::Bank {
                        bank: k.peer.clone(),
                    });
                }
            }
        }
        SpanKind::Internal => v.push(View::Operation {
            service: k.service.clone(),
            operation: k.operation.clone(),
        }),
    }
    v
}
