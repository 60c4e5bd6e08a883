//! `Sla`: objectives plus their counters. Feed it the same per-second rollups
//! the analyzer gets; ask it for burn rates, budgets, bank layers (at the
//! clock's now) or a report over any period.

use crate::config::{BurnPolicy, ObjectiveKind, Objectives};
use crate::counts::{classify, Counts, Series};
use crate::duration::format_secs;
use crate::error::SlaError;
use digest::{format_rfc3339, SecondRollup, SharedClock};
use serde::Serialize;

/// An SLI: `availability` or `latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sli {
    Availability,
    Latency,
}

/// One SLI over one span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliFigures {
    pub total: u64,
    pub bad: u64,
    /// good / total (1 when there were no calls).
    pub ratio: f64,
    pub target: f64,
    pub met: bool,
    /// Share of the error budget left (negative when overspent).
    pub budget_remaining: f64,
}

impl SliFigures {
    fn of(total: u64, bad: u64, target: f64) -> Self {
        let ratio = if total == 0 {
            1.0
        } else {
            1.0 - bad as f64 / total as f64
        };
        let allowed = (1.0 - target) * total as f64;
        Self {
            total,
            bad,
            ratio,
            target,
            met: ratio >= target,
            budget_remaining: if total == 0 {
                1.0
            } else {
                1.0 - bad as f64 / allowed
            },
        }
    }
}

/// A burn-rate policy evaluated for one SLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurnStatus {
    pub policy: String,
    pub severity: String,
    pub factor: f64,
    pub long: String,
    pub short: String,
    pub burn_long: f64,
    pub burn_short: f64,
    /// Both windows burn at least `factor` × the sustainable rate.
    pub firing: bool,
}

/// The bank layers, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Reachable,
    Available,
    WithinTimeout,
    WithinContract,
}

/// One layer's figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerFigure {
    pub layer: Layer,
    pub ratio: f64,
    pub target: f64,
    pub ok: bool,
}

/// A bank's layers over the layer window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    pub window: String,
    pub calls: u64,
    pub layers: Vec<LayerFigure>,
    /// The first layer that fails (None: all hold, or no calls).
    pub first_failing: Option<Layer>,
    /// Share of calls at or above the contract p99 (must be ≤ 1%).
    pub over_p99_share: f64,
}

/// One objective now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveStatus {
    pub id: String,
    pub kind: ObjectiveKind,
    pub name: String,
    pub slis: Vec<SliStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliStatus {
    pub sli: Sli,
    /// Over the budget period.
    pub period: SliFigures,
    pub burn: Vec<BurnStatus>,
}

/// A firing burn-rate alert (for the alerts crate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurnAlert {
    pub objective: String,
    pub sli: Sli,
    pub policy: String,
    pub severity: String,
    pub burn_long: f64,
    pub burn_short: f64,
}

/// An SLA report for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaReport {
    pub from: String,
    pub to: String,
    pub from_us: u64,
    pub to_us: u64,
    /// False if part of the period is older than the counters hold.
    pub complete: bool,
    pub objectives: Vec<ReportRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub id: String,
    pub kind: ObjectiveKind,
    pub availability: SliFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<SliFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerReport>,
}

/// Objectives with their counters.
pub struct Sla {
    objectives: Objectives,
    series: Vec<Series>,
    clock: SharedClock,
    /// Services with a whole-service objective (their own or the `*` one).
    covered: std::collections::HashSet<String>,
    /// Services the `*` objective was not given to (already [`MAX_DISCOVERED`] objectives).
    ///
    /// [`MAX_DISCOVERED`]: crate::MAX_DISCOVERED
    pub uncovered_services: u64,
    /// Rollup series matched to an objective, and rollups refused as too old.
    pub matched_series: u64,
    pub refused_rollups: u64,
}

impl Sla {
    pub fn new(objectives: Objectives, clock: SharedClock) -> Self {
        let longest = objectives.longest_s();
        let series = objectives
            .objectives
            .iter()
            .map(|_| Series::new(longest))
            .collect();
        let covered = objectives
            .objectives
            .iter()
            .filter(|o| o.kind == crate::ObjectiveKind::Service && o.operation.is_none())
            .map(|o| o.service.clone())
            .collect();
        Self {
            objectives,
            series,
            clock,
            covered,
            uncovered_services: 0,
            matched_series: 0,
            refused_rollups: 0,
        }
    }

    /// Gives the `*` objective to a service seen for the first time.
    fn discover(&mut self, service: &str) {
        if self.covered.contains(service) {
            return;
        }
        self.covered.insert(service.to_string());
        if self.objectives.objectives.len() >= crate::MAX_DISCOVERED {
            // Counted once per service: it stays in `covered`, without an objective.
            self.uncovered_services += 1;
            return;
        }
        if let Some(o) = self.objectives.for_service(service) {
            self.objectives.objectives.push(o);
            self.series.push(Series::new(self.objectives.longest_s()));
        }
    }

    /// Counts one rollup (a collector's partial or a whole second).
    pub fn ingest_rollup(&mut self, r: &SecondRollup) {
        let now_s = self.clock.now_us() / 1_000_000;
        if r.second + self.objectives.longest_s() < now_s || r.second > now_s + 5 {
            self.refused_rollups += 1;
            return;
        }
        if self.objectives.every_service.is_some() {
            for k in r.series.keys() {
                if k.kind == digest::SpanKind::Server && !k.shadow {
                    self.discover(&k.service);
                }
            }
        }
        for (k, s) in &r.series {
            for (o, ser) in self
                .objectives
                .objectives
                .iter()
                .zip(self.series.iter_mut())
            {
                if let Some(c) = classify(o, k, s, &self.objectives.business_codes) {
                    ser.add(r.second, &c);
                    self.matched_series += 1;
                }
            }
        }
    }

    fn sli_bad(&self, i: usize, c: &Counts, sli: Sli) -> Option<(u64, f64)> {
        let o = &self.objectives.objectives[i];
        match sli {
            Sli::Availability => Some((c.failed, o.availability)),
            Sli::Latency if o.bank.is_none() => o.latency_us.map(|_| (c.slow, o.latency_target)),
            Sli::Latency => None,
        }
    }

    fn burn(&self, i: usize, sli: Sli, p: &BurnPolicy, now_s: u64) -> Option<BurnStatus> {
        let to = now_s + 1;
        let (l, _) = self.series[i].range(to.saturating_sub(p.long_s), to, now_s);
        let (s, _) = self.series[i].range(to.saturating_sub(p.short_s), to, now_s);
        let (bl, target) = self.sli_bad(i, &l, sli)?;
        let (bs, _) = self.sli_bad(i, &s, sli)?;
        let rate = |bad: u64, total: u64| {
            if total == 0 {
                0.0
            } else {
                bad as f64 / total as f64 / (1.0 - target)
            }
        };
        let (burn_long, burn_short) = (rate(bl, l.total), rate(bs, s.total));
        Some(BurnStatus {
            policy: p.name.clone(),
            severity: p.severity.clone(),
            factor: p.factor,
            long: format_secs(p.long_s),
            short: format_secs(p.short_s),
            burn_long,
            burn_short,
            // Judged once the long window holds enough calls for one failure
            // to be within budget: at start-up one failed call among a few
            // hundred is not a burning budget.
            firing: (1.0 - target) * l.total as f64 >= 1.0
                && burn_long >= p.factor
                && burn_short >= p.factor,
        })
    }

    fn layers(&self, i: usize, c: &Counts, window_s: u64) -> Option<LayerReport> {
        let b = self.objectives.objectives[i].bank.as_ref()?;
        let share = |num: u64, den: u64| {
            if den == 0 {
                1.0
            } else {
                1.0 - num as f64 / den as f64
            }
        };
        let reached = c.total - c.unreachable.min(c.total);
        let answered = reached - c.unavailable.min(reached);
        let over_p99 = if c.total == 0 {
            0.0
        } else {
            c.slow as f64 / c.total as f64
        };
        let contract = share(c.unsuccessful, c.total);
        let layers = vec![
            (Layer::Reachable, share(c.unreachable, c.total), b.reachable),
            (Layer::Available, share(c.unavailable, reached), b.available),
            (
                Layer::WithinTimeout,
                share(c.timeout, answered),
                b.within_timeout,
            ),
            (Layer::WithinContract, contract, b.success_ratio),
        ]
        .into_iter()
        .map(|(layer, ratio, target)| {
            let ok = ratio >= target && (layer != Layer::WithinContract || over_p99 <= 0.01);
            LayerFigure {
                layer,
                ratio,
                target,
                ok,
            }
        })
        .collect::<Vec<_>>();
        let first_failing = if c.total == 0 {
            None
        } else {
            layers.iter().find(|l| !l.ok).map(|l| l.layer)
        };
        Some(LayerReport {
            window: format_secs(window_s),
            calls: c.total,
            layers,
            first_failing,
            over_p99_share: over_p99,
        })
    }

    /// Every objective now: period figures, burn rates per policy, bank layers.
    pub fn status(&self) -> Vec<ObjectiveStatus> {
        let now_s = self.clock.now_us() / 1_000_000;
        let to = now_s + 1;
        let period = self.objectives.budget_period_s;
        let lw = self.objectives.layer_window_s;
        self.objectives
            .objectives
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let (pc, _) = self.series[i].range(to.saturating_sub(period), to, now_s);
                let mut slis = Vec::new();
                for sli in [Sli::Availability, Sli::Latency] {
                    let Some((bad, target)) = self.sli_bad(i, &pc, sli) else {
                        continue;
                    };
                    slis.push(SliStatus {
                        sli,
                        period: SliFigures::of(pc.total, bad, target),
                        burn: self
                            .objectives
                            .burn
                            .iter()
                            .filter_map(|p| self.burn(i, sli, p, now_s))
                            .collect(),
                    });
                }
                let (lc, _) = self.series[i].range(to.saturating_sub(lw), to, now_s);
                ObjectiveStatus {
                    id: o.id.clone(),
                    kind: o.kind,
                    name: o.name.clone(),
                    slis,
                    layers: self.layers(i, &lc, lw),
                }
            })
            .collect()
    }

    /// Burn-rate alerts firing now.
    pub fn firing(&self) -> Vec<BurnAlert> {
        let mut out = Vec::new();
        for st in self.status() {
            for s in &st.slis {
                for b in s.burn.iter().filter(|b| b.firing) {
                    out.push(BurnAlert {
                        objective: st.id.clone(),
                        sli: s.sli,
                        policy: b.policy.clone(),
                        severity: b.severity.clone(),
                        burn_long: b.burn_long,
                        burn_short: b.burn_short,
                    });
                }
            }
        }
        out
    }

    /// The SLA report for `[from_us, to_us)`.
    pub fn report(&self, from_us: u64, to_us: u64) -> Result<SlaReport, SlaError> {
        if to_us <= from_us {
            return Err(SlaError::Period(format!(
                "to ({to_us}) must be after from ({from_us})"
            )));
        }
        let now_s = self.clock.now_us() / 1_000_000;
        let (from, to) = (from_us / 1_000_000, to_us.div_ceil(1_000_000));
        let mut complete = true;
        let objectives = self
            .objectives
            .objectives
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let (c, whole) = self.series[i].range(from, to, now_s);
                complete &= whole;
                ReportRow {
                    id: o.id.clone(),
                    kind: o.kind,
                    availability: SliFigures::of(c.total, c.failed, o.availability),
                    latency: self
                        .sli_bad(i, &c, Sli::Latency)
                        .map(|(bad, t)| SliFigures::of(c.total, bad, t)),
                    layers: self.layers(i, &c, to - from),
                }
            })
            .collect();
        Ok(SlaReport {
            from: format_rfc3339(from_us),
            to: format_rfc3339(to_us),
            from_us,
            to_us,
            complete,
            objectives,
        })
    }
}

/// `GET /api/slo`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloSnapshot {
    pub now_us: u64,
    pub budget_period: String,
    pub policies: Vec<BurnPolicy>,
    pub objectives: Vec<ObjectiveStatus>,
    pub firing: Vec<BurnAlert>,
}

/// The body of `/api/slo` (axum-free; the dashboard mounts it).
pub fn slo(s: &Sla) -> SloSnapshot {
    let objectives = s.status();
    let firing = objectives
        .iter()
        .flat_map(|st| {
            st.slis.iter().flat_map(move |x| {
                x.burn.iter().filter(|b| b.firing).map(move |b| BurnAlert {
                    objective: st.id.clone(),
                    sli: x.sli,
                    policy: b.policy.clone(),
                    severity: b.severity.clone(),
                    burn_long: b.burn_long,
                    burn_short: b.burn_short,
                })
            })
        })
        .collect();
    SloSnapshot {
        now_us: s.clock.now_us(),
        budget_period: format_secs(s.objectives.budget_period_s),
        policies: s.objectives.burn.clone(),
        objectives,
        firing,
    }
}
