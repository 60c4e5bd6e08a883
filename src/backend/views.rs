//! Field-by-field mappings from the crates' own answers to the screen's types: the
//! analyzer's entry, topology, service rows and hot keys, the alerts manager's alerts
//! and silences, the SLA board, change events and digest records. A field renamed on
//! either side is a compile error here.

use screen::{
    Alert, AlertState, Baseline, BurnAlert, BurnPolicy, BurnStatus, ChangeEvent, ChangeKind,
    Health, HealthJudgement, HotScope, HotSpot, Layer, LayerFigure, LayerReport, MatchOp, Matcher,
    NodeDetail, NodeKind, ObjectiveKind, SceneStatus, ServiceRow, ServiceView, Silence, Sli,
    SliFigures, SliStatus, SloBoard, SloObjective, SpanKind, Topology, TopologyEdge, TopologyNode,
    TraceSpan, WindowStats,
};

pub fn scene(s: &analyzer::api::SceneEntry) -> SceneStatus {
    SceneStatus {
        scene: s.scene.clone(),
        health: Health::of_error_ratio(1.0 - s.success_rate),
        rate: s.rate,
        success_rate: Some(s.success_rate),
    }
}

fn node_kind(k: analyzer::topology::NodeKind) -> NodeKind {
    match k {
        analyzer::topology::NodeKind::Service => NodeKind::Service,
        analyzer::topology::NodeKind::Bank => NodeKind::Bank,
    }
}

/// The call graph; `causes` are the targets of open incidents (ringed as root causes).
pub fn topology(snap: &analyzer::TopologySnapshot, causes: &[String]) -> Topology {
    Topology {
        nodes: snap
            .nodes
            .iter()
            .map(|n| TopologyNode {
                id: n.id.clone(),
                kind: node_kind(n.kind),
                health: if n.healthy {
                    Health::of_error_ratio(n.error_ratio)
                } else {
                    Health::Red
                },
                root_cause: causes.iter().any(|c| c == &n.id),
                detail: Some(NodeDetail {
                    id: n.id.clone(),
                    kind: node_kind(n.kind),
                    instances: n.instances as u64,
                    rate: n.rate,
                    error_ratio: n.error_ratio,
                    p99_ms: n.p99_ms,
                    healthy: n.healthy,
                }),
            })
            .collect(),
        edges: snap
            .edges
            .iter()
            .map(|e| TopologyEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                rate: e.rate,
                error_ratio: e.error_ratio,
                p99_ms: e.p99_ms,
            })
            .collect(),
    }
}

fn window(s: &analyzer::StatsSummary) -> WindowStats {
    WindowStats {
        count: s.count,
        rate_per_s: s.rate_per_s,
        errors: s.errors,
        error_ratio: s.error_ratio,
        error_codes: s.error_codes.clone(),
        p50_ms: s.p50_ms,
        p90_ms: s.p90_ms,
        p99_ms: s.p99_ms,
        p999_ms: s.p999_ms,
        amount_cents: s.amount_cents,
        failed_amount_cents: s.failed_amount_cents,
    }
}

fn baseline(b: &analyzer::Baseline) -> Baseline {
    Baseline {
        seconds: b.seconds,
        rate: b.rate,
        error_ratio: b.error_ratio,
        error_mad: b.error_mad,
        p99_us: b.p99_us,
        slow_threshold_us: b.slow_threshold_us,
    }
}

fn judgement(service: &str, h: &analyzer::Health) -> HealthJudgement {
    HealthJudgement {
        view: ServiceView::Service,
        service: service.to_string(),
        shadow: h.key.shadow,
        count: h.count,
        rate: h.rate,
        errors: h.errors,
        error_ratio: h.error_ratio,
        slow: h.slow,
        slow_ratio: h.slow_ratio,
        p99_ms: h.p99_ms,
        baseline: baseline(&h.baseline),
        error_codes: h.error_codes.clone(),
        error_bad: h.error_bad,
        slow_bad: h.slow_bad,
        surge: h.surge,
        drop: h.drop,
        severity: h.severity,
    }
}

/// A row of the analyzer's service views (`None` for any other view).
pub fn service(r: &analyzer::api::ViewRow) -> Option<ServiceRow> {
    let analyzer::View::Service { service } = &r.key.view else {
        return None;
    };
    Some(ServiceRow {
        view: ServiceView::Service,
        service: service.clone(),
        shadow: r.key.shadow,
        healthy: r.healthy,
        last_10s: window(&r.last_10s),
        last_1m: window(&r.last_1m),
        health: r.health.as_ref().map(|h| judgement(service, h)),
    })
}

pub fn hot_spot(k: &analyzer::HotKey) -> HotSpot {
    HotSpot {
        scope: match k.scope {
            analyzer::hotspot::ScopeKind::Service => HotScope::Service,
            analyzer::hotspot::ScopeKind::Scene => HotScope::Scene,
        },
        within: k.within.clone(),
        shadow: k.shadow,
        key: k.key.clone(),
        value: k.value.clone(),
        count: k.count,
        share: k.share,
        baseline_share: k.baseline_share,
        baseline_calls: k.baseline_calls,
        baseline_seconds: k.baseline_seconds,
        errors: k.errors,
        error_share: k.error_share,
        mean_latency_ms: k.mean_latency_ms,
        scope_mean_latency_ms: k.scope_mean_latency_ms,
    }
}

pub fn alert(v: &alerts::AlertView) -> Alert {
    let a = &v.alert;
    Alert {
        fingerprint: a.fingerprint.clone(),
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: match a.state {
            alerts::AlertState::Pending => AlertState::Pending,
            alerts::AlertState::Firing => AlertState::Firing,
            alerts::AlertState::Resolved => AlertState::Resolved,
        },
        active_at_us: a.active_at_us,
        starts_at_us: a.starts_at_us,
        ends_at_us: a.ends_at_us,
        value: a.value,
        generator_url: a.generator_url.clone(),
        silenced_by: v.silenced_by.clone(),
        inhibited: v.inhibited,
    }
}

pub fn silence(s: &alerts::Silence) -> Silence {
    Silence {
        id: s.id.clone(),
        matchers: s
            .matchers
            .iter()
            .map(|m| Matcher {
                name: m.name.clone(),
                op: match m.op {
                    alerts::MatchOp::Eq => MatchOp::Eq,
                    alerts::MatchOp::NotEq => MatchOp::NotEq,
                    alerts::MatchOp::Like => MatchOp::Like,
                },
                value: m.value.clone(),
            })
            .collect(),
        starts_at_us: s.starts_at_us,
        ends_at_us: s.ends_at_us,
        created_by: s.created_by.clone(),
        comment: s.comment.clone(),
    }
}

fn sli(s: sla::Sli) -> Sli {
    match s {
        sla::Sli::Availability => Sli::Availability,
        sla::Sli::Latency => Sli::Latency,
    }
}

fn layer(l: sla::Layer) -> Layer {
    match l {
        sla::Layer::Reachable => Layer::Reachable,
        sla::Layer::Available => Layer::Available,
        sla::Layer::WithinTimeout => Layer::WithinTimeout,
        sla::Layer::WithinContract => Layer::WithinContract,
    }
}

fn figures(f: &sla::SliFigures) -> SliFigures {
    SliFigures {
        total: f.total,
        bad: f.bad,
        ratio: f.ratio,
        target: f.target,
        met: f.met,
        budget_remaining: f.budget_remaining,
    }
}

fn burn(b: &sla::BurnStatus) -> BurnStatus {
    BurnStatus {
        policy: b.policy.clone(),
        severity: b.severity.clone(),
        factor: b.factor,
        long: b.long.clone(),
        short: b.short.clone(),
        burn_long: b.burn_long,
        burn_short: b.burn_short,
        firing: b.firing,
    }
}

fn layers(r: &sla::LayerReport) -> LayerReport {
    LayerReport {
        window: r.window.clone(),
        calls: r.calls,
        layers: r
            .layers
            .iter()
            .map(|f| LayerFigure {
                layer: layer(f.layer),
                ratio: f.ratio,
                target: f.target,
                ok: f.ok,
            })
            .collect(),
        first_failing: r.first_failing.map(layer),
        over_p99_share: r.over_p99_share,
    }
}

fn objective(o: &sla::ObjectiveStatus) -> SloObjective {
    SloObjective {
        id: o.id.clone(),
        kind: match o.kind {
            sla::ObjectiveKind::Service => ObjectiveKind::Service,
            sla::ObjectiveKind::Scene => ObjectiveKind::Scene,
            sla::ObjectiveKind::Bank => ObjectiveKind::Bank,
        },
        name: o.name.clone(),
        slis: o
            .slis
            .iter()
            .map(|s| SliStatus {
                sli: sli(s.sli),
                period: figures(&s.period),
                burn: s.burn.iter().map(burn).collect(),
            })
            .collect(),
        layers: o.layers.as_ref().map(layers),
    }
}

pub fn slo(s: &sla::SloSnapshot) -> SloBoard {
    SloBoard {
        now_us: s.now_us,
        budget_period: s.budget_period.clone(),
        policies: s
            .policies
            .iter()
            .map(|p| BurnPolicy {
                name: p.name.clone(),
                factor: p.factor,
                long_s: p.long_s,
                short_s: p.short_s,
                severity: p.severity.clone(),
            })
            .collect(),
        objectives: s.objectives.iter().map(objective).collect(),
        firing: s
            .firing
            .iter()
            .map(|f| BurnAlert {
                objective: f.objective.clone(),
                sli: sli(f.sli),
                policy: f.policy.clone(),
                severity: f.severity.clone(),
                burn_long: f.burn_long,
                burn_short: f.burn_short,
            })
            .collect(),
    }
}

pub fn change(e: &digest::ChangeEvent) -> ChangeEvent {
    ChangeEvent {
        time: digest::format_rfc3339(e.time_us),
        event: match e.event {
            digest::ChangeKind::Deploy => ChangeKind::Deploy,
            digest::ChangeKind::Config => ChangeKind::Config,
            digest::ChangeKind::Rule => ChangeKind::Rule,
            digest::ChangeKind::Switch => ChangeKind::Switch,
            digest::ChangeKind::Rollback => ChangeKind::Rollback,
        },
        service: e.service.clone(),
        version: e.version.clone(),
        detail: e.detail.clone(),
        by: e.by.clone(),
    }
}

pub fn span(r: &digest::DigestRecord) -> TraceSpan {
    TraceSpan {
        time: digest::format_rfc3339(r.time_us),
        trace_id: r.trace_id.to_hex(),
        span_id: r.span_id.to_hex(),
        parent_span_id: r.parent_span_id.map(|p| p.to_hex()),
        kind: match r.kind {
            digest::SpanKind::Server => SpanKind::Server,
            digest::SpanKind::Client => SpanKind::Client,
            digest::SpanKind::Integrator => SpanKind::Integrator,
            digest::SpanKind::Internal => SpanKind::Internal,
        },
        service: r.service.clone(),
        instance: r.instance.clone(),
        zone: r.zone.clone(),
        operation: r.operation.clone(),
        peer: r.peer.clone(),
        duration_us: r.duration_us,
        success: r.success,
        code: r.code.clone(),
        error: r.error.clone(),
        scene: r.scene.clone(),
        channel: r.channel.clone(),
        shadow: r.shadow,
        version: r.version.clone(),
        keys: r.keys.clone(),
        amount_cents: r.amount_cents,
        sql_count: r.sql_count,
    }
}
