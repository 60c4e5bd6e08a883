//! Topology: the live call graph as SVG (`#topology`), laid out deterministically —
//! columns by longest call depth from the entry services, rows sorted by id — with edges
//! sized by rate and coloured by error ratio, the root cause ringed in red; click a
//! node for its figures and its calls in and out.

use crate::api;
use crate::components::{num, yes_no, KeyValues};
use leptos::prelude::*;
use screen::Topology;
use std::collections::BTreeMap;

const COL_W: f64 = 230.0;
const ROW_H: f64 = 80.0;
const NODE_W: f64 = 170.0;
const NODE_H: f64 = 44.0;

/// Node id → (column, row), and the number of columns and rows.
pub fn layout(
    nodes: &[String],
    edges: &[(String, String)],
) -> (BTreeMap<String, (usize, usize)>, usize, usize) {
    let mut depth: BTreeMap<&str, usize> = nodes.iter().map(|n| (n.as_str(), 0)).collect();
    // Longest path from sources; bounded passes so cycles cannot loop forever.
    for _ in 0..nodes.len() {
        let mut moved = false;
        for (a, b) in edges {
            let da = depth.get(a.as_str()).copied().unwrap_or(0);
            if let Some(db) = depth.get_mut(b.as_str()) {
                if *db < da + 1 && da + 1 < nodes.len() {
                    *db = da + 1;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    let mut cols: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (n, d) in &depth {
        cols.entry(*d).or_default().push(n);
    }
    let mut pos = BTreeMap::new();
    let mut rows = 0;
    for (c, list) in &cols {
        rows = rows.max(list.len());
        for (r, n) in list.iter().enumerate() {
            pos.insert(n.to_string(), (*c, r));
        }
    }
    (pos, cols.len().max(1), rows.max(1))
}

fn edge_colour(error_ratio: f64) -> &'static str {
    if error_ratio >= 0.05 {
        "#e5484d"
    } else if error_ratio >= 0.01 {
        "#f5a524"
    } else {
        "#30a46c"
    }
}

#[component]
pub fn TopologyPage() -> impl IntoView {
    let data = LocalResource::new(|| api::get::<Topology>("/api/topology"));
    if let Ok(h) =
        set_interval_with_handle(move || data.refetch(), std::time::Duration::from_secs(2))
    {
        on_cleanup(move || h.clear());
    }
    let selected = RwSignal::new(None::<String>);
    let graph = move || {
        let Some(Ok(t)) = data.get() else {
            return view! { <p class="empty">"Loading the call graph…"</p> }.into_any();
        };
        let ids: Vec<String> = t.nodes.iter().map(|n| n.id.clone()).collect();
        let pairs: Vec<(String, String)> = t
            .edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        let (pos, ncols, nrows) = layout(&ids, &pairs);
        let (w, h) = (ncols as f64 * COL_W + 20.0, nrows as f64 * ROW_H + 20.0);
        let centre = |id: &str| {
            pos.get(id).map(|(c, r)| {
                (
                    20.0 + *c as f64 * COL_W + NODE_W / 2.0,
                    20.0 + *r as f64 * ROW_H + NODE_H / 2.0,
                )
            })
        };
        let lines = t
            .edges
            .iter()
            .filter_map(|e| {
                let (x1, y1) = centre(&e.from)?;
                let (x2, y2) = centre(&e.to)?;
                let width = (1.0 + (1.0 + e.rate).log2()).min(12.0);
                let title = format!("{} → {}: {:.1}/s, {:.2}% errors, p99 {:.1} ms", e.from, e.to,
                    e.rate, e.error_ratio * 100.0, e.p99_ms);
                Some(view! {
                    <line x1=x1 + NODE_W / 2.0 y1=y1 x2=x2 - NODE_W / 2.0 y2=y2
                        stroke=edge_colour(e.error_ratio) stroke-width=width stroke-opacity="0.8" marker-end="url(#arrow)">
                        <title>{title}</title>
                    </line>
                })
            })
            .collect_view();
        let boxes = t
            .nodes
            .iter()
            .map(|n| {
                let id = n.id.clone();
                let (c, r) = pos.get(&id).copied().unwrap_or((0, 0));
                let (x, y) = (20.0 + c as f64 * COL_W, 20.0 + r as f64 * ROW_H);
                let root = n.root_cause;
                let cls = format!("node {} {} {}", n.health.as_str(), n.kind.as_str(), if root { "root" } else { "" });
                let label = if id.len() > 18 { format!("{}…", &id[..17]) } else { id.clone() };
                let id2 = id.clone();
                view! {
                    <g class=cls data-node=id.clone() on:click=move |_| selected.set(Some(id2.clone()))>
                        <rect x=x y=y width=NODE_W height=NODE_H rx="8" />
                        <text x=x + NODE_W / 2.0 y=y + NODE_H / 2.0 + 6.0 text-anchor="middle">{label}</text>
                        {root.then(|| view! { <text class="tag" x=x + NODE_W / 2.0 y=y - 4.0 text-anchor="middle">"root cause"</text> })}
                    </g>
                }
            })
            .collect_view();
        view! {
            <svg id="topology" viewBox=format!("0 0 {w} {h}") preserveAspectRatio="xMidYMin meet"
                style=format!("max-height:{}px", (h * 1.2) as u32)>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" markerHeight="12" markerUnits="userSpaceOnUse" orient="auto">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#9aa3b2" />
                    </marker>
                </defs>
                {lines}{boxes}
            </svg>
        }
        .into_any()
    };
    let detail = move || {
        let id = selected.get()?;
        let Some(Ok(t)) = data.get() else { return None };
        let node = t.nodes.iter().find(|n| n.id == id)?.clone();
        let figures = node.detail.as_ref().map(|d| {
            vec![
                ("instances", d.instances.to_string()),
                ("rate", num(d.rate)),
                ("error ratio", num(d.error_ratio)),
                ("p99 ms", num(d.p99_ms)),
                ("healthy", yes_no(d.healthy)),
            ]
        });
        let calls = t
            .edges
            .iter()
            .filter(|e| e.from == id || e.to == id)
            .map(|e| {
                view! { <tr><td>{e.from.clone()}</td><td>{e.to.clone()}</td><td>{num(e.rate)}</td>
                <td>{format!("{:.2}%", e.error_ratio * 100.0)}</td><td>{num(e.p99_ms)}</td></tr> }
            })
            .collect_view();
        Some(view! {
            <section class="panel" id="node-detail">
                <h2>{format!("{id} ({})", node.kind.as_str())}</h2>
                <KeyValues pairs=figures.unwrap_or_default() />
                <div class="table-wrap"><table>
                    <thead><tr><th>"from"</th><th>"to"</th><th>"rate /s"</th><th>"errors"</th><th>"p99 ms"</th></tr></thead>
                    <tbody>{calls}</tbody>
                </table></div>
            </section>
        })
    };
    view! {
        <section class="panel"><h2>"Topology"</h2>{graph}</section>
        {detail}
    }
}
