//! The live call graph, `GET /api/topology`: nodes (services and banks) with their
//! health and the diagnosed root cause, and call edges with live figures.

use crate::figures::Health;
use serde::{Deserialize, Serialize};

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A service of the platform.
    Service,
    /// An external bank channel the platform calls out to.
    Bank,
}

impl NodeKind {
    /// The JSON word, also the CSS class of the node.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Service => "service",
            NodeKind::Bank => "bank",
        }
    }
}

/// What the screen shows when a node is clicked (`#node-detail`): the analyzer's
/// figures of the node over the last 10 seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDetail {
    pub id: String,
    pub kind: NodeKind,
    /// Instances seen in the last minute (0 when records carry none).
    pub instances: u64,
    /// Calls per second.
    pub rate: f64,
    pub error_ratio: f64,
    pub p99_ms: f64,
    /// The analyzer's judgement against the node's baseline.
    pub healthy: bool,
}

/// A node of [`Topology`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyNode {
    pub id: String,
    pub kind: NodeKind,
    #[serde(default)]
    pub health: Health,
    /// The diagnosed root cause of an open incident.
    #[serde(default)]
    pub root_cause: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<NodeDetail>,
}

/// A call edge of [`Topology`]: caller → callee, with live figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologyEdge {
    pub from: String,
    pub to: String,
    /// Calls per second.
    pub rate: f64,
    pub error_ratio: f64,
    pub p99_ms: f64,
}

/// `GET /api/topology`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Topology {
    pub nodes: Vec<TopologyNode>,
    pub edges: Vec<TopologyEdge>,
}
