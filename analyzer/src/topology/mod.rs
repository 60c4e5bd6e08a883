//! The live call topology (petgraph): services and external dependencies (banks)
//! as nodes, calls as edges with live rate, error ratio and p99; which services
//! each scene passes through; single points (a service seen with one instance, a
//! bank that is the only channel of its caller); cycles (strongly connected
//! components). Rebuilt from the windows at each tick.

use crate::window::{View, ViewKey, Windows};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Service,
    Bank,
}

/// A node of `/api/topology`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    /// Instances seen in the last minute (0 when records carry none).
    pub instances: usize,
    pub rate: f64,
    pub error_ratio: f64,
    pub p99_ms: f64,
    pub healthy: bool,
}

/// An edge of `/api/topology`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub rate: f64,
    pub error_ratio: f64,
    pub p99_ms: f64,
    pub healthy: bool,
}

/// A component whose loss has no fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinglePoint {
    pub id: String,
    pub reason: String,
}

/// The JSON body of `/api/topology`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopologySnapshot {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Scene → services it passes through.
    pub scenes: BTreeMap<String, Vec<String>>,
    pub single_points: Vec<SinglePoint>,
    /// Each cycle as the services on it (sorted).
    pub cycles: Vec<Vec<String>>,
}

/// Facts the topology needs beyond the windows (kept by the analyzer).
#[derive(Debug, Default)]
pub struct Membership {
    /// Real-traffic scene → service → last second seen.
    pub scene_services: HashMap<String, HashMap<String, u64>>,
    /// Service → instance → last second seen.
    pub instances: HashMap<String, HashMap<String, u64>>,
}

impl Membership {
    pub fn see_scene(&mut self, scene: &str, service: &str, s: u64) {
        let m = match self.scene_services.get_mut(scene) {
            Some(m) => m,
            None => self.scene_services.entry(scene.to_string()).or_default(),
        };
        match m.get_mut(service) {
            Some(t) => *t = (*t).max(s),
            None => {
                m.insert(service.to_string(), s);
            }
        }
    }
    pub fn see_instance(&mut self, service: &str, instance: &str, s: u64) {
        if instance.is_empty() {
            return;
        }
        let m = match self.instances.get_mut(service) {
            Some(m) => m,
            None => self.instances.entry(service.to_string()).or_default(),
        };
        match m.get_mut(instance) {
            Some(t) => *t = (*t).max(s),
            None => {
                m.insert(instance.to_string(), s);
            }
        }
    }
    /// Forgets scenes' services and instances not seen since `before_s`.
    pub fn expire(&mut self, before_s: u64) {
        for m in self
            .scene_services
            .values_mut()
            .chain(self.instances.values_mut())
        {
            m.retain(|_, t| *t >= before_s);
        }
        self.scene_services.retain(|_, m| !m.is_empty());
        self.instances.retain(|_, m| !m.is_empty());
    }

    fn instance_count(&self, service: &str, since: u64) -> usize {
        self.instances
            .get(service)
            .map_or(0, |m| m.values().filter(|t| **t >= since).count())
    }
}

/// The graph and its lookups.
#[derive(Debug, Default)]
pub struct Topology {
    pub graph: DiGraph<Node, Edge>,
    pub index: HashMap<String, NodeIndex>,
    pub scenes: BTreeMap<String, Vec<String>>,
}

impl Topology {
    /// Builds the real-traffic graph over the last `span_s` seconds up to `now_s`.
    /// `unhealthy` names nodes (`service`/`bank`) and links (`from→to`) judged unhealthy.
    pub fn build(
        w: &Windows,
        m: &Membership,
        now_s: u64,
        span_s: u64,
        unhealthy: &BTreeSet<String>,
    ) -> Self {
        let from = now_s.saturating_sub(span_s - 1);
        let to = now_s + 1;
        let secs = span_s as f64;
        let mut t = Topology::default();
        let mut banks = BTreeSet::new();
        for k in w.keys() {
            if let (false, View::Bank { bank }) = (k.shadow, &k.view) {
                banks.insert(bank.clone());
            }
        }
        let mut keys: Vec<&ViewKey> = w.keys().filter(|k| !k.shadow).collect();
        keys.sort();
        let add_node = |t: &mut Topology, id: &str| -> NodeIndex {
            if let Some(i) = t.index.get(id) {
                return *i;
            }
            let kind = if banks.contains(id) {
                NodeKind::Bank
            } else {
                NodeKind::Service
            };
            let vk = match kind {
                NodeKind::Bank => ViewKey::bank(id),
                NodeKind::Service => ViewKey::service(id),
            };
            let st = w.range(&vk, from, to, now_s);
            let i = t.graph.add_node(Node {
                id: id.to_string(),
                kind,
                instances: m.instance_count(id, now_s.saturating_sub(60)),
                rate: st.count as f64 / secs,
                error_ratio: st.error_ratio(),
                p99_ms: st.quantile_ms(0.99),
                healthy: !unhealthy.contains(id),
            });
            t.index.insert(id.to_string(), i);
            i
        };
        for k in &keys {
            match &k.view {
                View::Service { service } => {
                    add_node(&mut t, service);
                }
                View::Link { from: a, to: b } => {
                    let st = w.range(k, from, to, now_s);
                    if st.count == 0 {
                        continue;
                    }
                    let ia = add_node(&mut t, a);
                    let ib = add_node(&mut t, b);
                    t.graph.add_edge(
                        ia,
                        ib,
                        Edge {
                            from: a.clone(),
                            to: b.clone(),
                            rate: st.count as f64 / secs,
                            error_ratio: st.error_ratio(),
                            p99_ms: st.quantile_ms(0.99),
                            healthy: !unhealthy.contains(&format!("{a}→{b}")),
                        },
                    );
                }
                _ => {}
            }
        }
        let since = now_s.saturating_sub(60);
        for (scene, svcs) in &m.scene_services {
            let mut v: Vec<String> = svcs
                .iter()
                .filter(|(_, t)| **t >= since)
                .map(|(s, _)| s.clone())
                .collect();
            if !v.is_empty() {
                v.sort();
                t.scenes.insert(scene.clone(), v);
            }
        }
        t
    }

    /// Callees of a node (services and banks) with recent traffic.
    pub fn callees(&self, id: &str) -> Vec<(&Node, &Edge)> {
        let Some(i) = self.index.get(id) else {
            return Vec::new();
        };
        self.graph
            .edges(*i)
            .map(|e| {
                (
                    &self.graph[petgraph::visit::EdgeRef::target(&e)],
                    e.weight(),
                )
            })
            .collect()
    }

    /// Whether calls from `caller` reach `callee` (directly or through other services).
    pub fn reaches(&self, caller: &str, callee: &str) -> bool {
        let (Some(from), Some(to)) = (self.index.get(caller), self.index.get(callee)) else {
            return false;
        };
        if from == to {
            return false;
        }
        let mut seen = std::collections::HashSet::from([*from]);
        let mut todo = vec![*from];
        while let Some(n) = todo.pop() {
            for next in self.graph.neighbors(n) {
                if next == *to {
                    return true;
                }
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        false
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.index.get(id).map(|i| &self.graph[*i])
    }

    /// Cycles: strongly connected components with more than one node, or a self-call.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|c| c.len() > 1 || self.graph.contains_edge(c[0], c[0]))
            .map(|c| {
                let mut v: Vec<String> = c.iter().map(|i| self.graph[*i].id.clone()).collect();
                v.sort();
                v
            })
            .collect();
        out.sort();
        out
    }

    /// Single points: services seen with exactly one instance; banks that are
    /// the only bank their caller uses.
    pub fn single_points(&self) -> Vec<SinglePoint> {
        let mut out = Vec::new();
        for i in self.graph.node_indices() {
            let n = &self.graph[i];
            if n.kind == NodeKind::Service && n.instances == 1 {
                out.push(SinglePoint {
                    id: n.id.clone(),
                    reason: "one instance".into(),
                });
            }
            if n.kind == NodeKind::Service {
                let banks: Vec<&Node> = self
                    .callees(&n.id)
                    .into_iter()
                    .map(|(t, _)| t)
                    .filter(|t| t.kind == NodeKind::Bank)
                    .collect();
                if banks.len() == 1 {
                    out.push(SinglePoint {
                        id: banks[0].id.clone(),
                        reason: format!("only bank channel of {}", n.id),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.reason.cmp(&b.reason)));
        out.dedup();
        out
    }

    pub fn snapshot(&self) -> TopologySnapshot {
        let mut nodes: Vec<Node> = self.graph.node_weights().cloned().collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let mut edges: Vec<Edge> = self.graph.edge_weights().cloned().collect();
        edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        TopologySnapshot {
            nodes,
            edges,
            scenes: self.scenes.clone(),
            single_points: self.single_points(),
            cycles: self.cycles(),
        }
    }
}
