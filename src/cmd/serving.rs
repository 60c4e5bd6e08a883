//! What `warroom serve` and `warroom up` both do once their room is built: bind the
//! collector's and the dashboard's listeners, print where they are, move the loop every
//! 200 ms of wall time, and on Ctrl-C or SIGTERM drain the listeners and flush what the
//! collector acknowledged.

use crate::backend::StackBackend;
use anyhow::Context;
use stack::{ControlClient, Room};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One step of the loop, and the last ingest before stopping.
pub trait Looper: Send + Sync + 'static {
    fn step(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
    fn ingest(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// A room alone (`serve`): nothing drained, no books to reconcile.
pub struct RoomAlone(pub Arc<Room>);

impl Looper for RoomAlone {
    fn step(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let none = std::collections::HashSet::new();
            let s = command::Situation {
                drained_zones: &none,
                books: None,
            };
            self.0.step(&s).await
        })
    }
    fn ingest(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.ingest())
    }
}

impl Looper for stack::Stack {
    fn step(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(stack::Stack::step(self))
    }
    fn ingest(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(stack::Stack::ingest(self))
    }
}

/// Everything the serving part needs.
pub struct Serving {
    pub room: Arc<Room>,
    pub looper: Arc<dyn Looper>,
    /// payments-sim's control API, when there is a simulator to inject drills into.
    pub drills: Option<ControlClient>,
    pub listen: String,
    pub collector_listen: String,
    /// The collector's edge (tokens, TLS, the loopback rule), from `[collector]`.
    pub edge: collector::Edge,
    pub dashboard: Option<dashboard::DashboardConfig>,
    pub data_dir: PathBuf,
    /// Printed after the addresses (`approval: plan`, `control API: …`).
    pub notes: Vec<String>,
}

/// Serves until Ctrl-C or SIGTERM; `before_stop` runs first when it comes (stop traffic).
pub async fn serve(s: Serving, before_stop: impl FnOnce()) -> anyhow::Result<()> {
    let clock = s.room.clock.clone();
    let collector_l = tokio::net::TcpListener::bind(&s.collector_listen)
        .await
        .with_context(|| format!("--collector-listen {}", s.collector_listen))?;
    let collector_addr = collector_l.local_addr()?;
    s.edge
        .check_listen(collector_addr)
        .with_context(|| format!("--collector-listen {}", s.collector_listen))?;
    let dash_l = tokio::net::TcpListener::bind(&s.listen)
        .await
        .with_context(|| format!("--listen {}", s.listen))?;
    let backend = Arc::new(StackBackend {
        room: s.room.clone(),
        drills: s.drills,
    });
    let (dash, first_admin) = dashboard::Dashboard::new(
        dashboard::DashboardOptions {
            config: s.dashboard,
            audit_log: s.data_dir.join("dashboard-audit.jsonl"),
            ..Default::default()
        },
        backend,
        clock,
    )?;
    println!("dashboard: http://{}", dash_l.local_addr()?);
    println!("collector: {}://{collector_addr}", s.edge.scheme());
    println!("{}", ingest_note(&s.edge, collector_addr));
    for n in &s.notes {
        println!("{n}");
    }
    if let Some(f) = first_admin {
        println!("first admin login: user {} password {}", f.name, f.password);
    }
    if !dash.bundle_present() {
        println!(
            "note: no dashboard bundle; run scripts/build-dashboard (the API works regardless)"
        );
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let coll = tokio::spawn(collector::serve_edge(
        collector_l,
        s.room.pipeline.clone(),
        s.edge,
        stopped(stop_rx.clone()),
    ));
    let dash_stop = stopped(stop_rx.clone());
    let dash_task = tokio::spawn(async move {
        axum::serve(dash_l, dash.router())
            .with_graceful_shutdown(dash_stop)
            .await
    });
    let looper = {
        let l = s.looper.clone();
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = every.tick() => l.step().await,
                    _ = rx.changed() => break,
                }
            }
        })
    };

    shutdown_signal().await;
    eprintln!("stopping…");
    before_stop();
    let _ = stop_tx.send(true);
    let _ = looper.await;
    s.looper.ingest().await;
    s.room.pipeline.flush().await;
    let _ = coll.await;
    let _ = tokio::time::timeout(Duration::from_secs(5), dash_task).await;
    Ok(())
}

/// One line on how the collector's ingest is guarded (never a token).
pub fn ingest_note(edge: &collector::Edge, addr: std::net::SocketAddr) -> String {
    match (edge.requires_token(), edge.scheme(), addr.ip().is_loopback()) {
        (true, "https", _) => "collector ingest: bearer tokens, TLS".into(),
        (true, _, true) => "collector ingest: bearer tokens (plain HTTP on loopback)".into(),
        (true, _, false) => {
            "collector ingest: bearer tokens over plain HTTP beyond loopback; set [collector] tls_cert and tls_key so tokens do not cross the network in clear".into()
        }
        (false, _, true) => "collector ingest: open (loopback, no tokens)".into(),
        (false, _, false) => {
            "collector ingest: OPEN beyond loopback, no tokens (allowed by the operator): anyone who reaches it can feed the war room".into()
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
