//! Shared by the dashboard's tests: a dashboard on a real loopback port with users of
//! every role on a manual clock, serving a [`FixedBackend`] whose answers the test sets
//! (`fixed`), a full set of answers (`sample`) and a scripted incident (`scripted`);
//! `warroom up` for the browser tests of the whole stack (`up`).
#![allow(dead_code)]

use dashboard::{Dashboard, DashboardConfig, DashboardOptions};
use digest::ManualClock;
use fixed::FixedBackend;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const PASSWORD: &str = "correct horse battery";
/// 2026-11-27T12:00:00Z
pub const T0_US: u64 = 1_795_780_800_000_000;

pub struct Running {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub backend: Arc<FixedBackend>,
    pub dashboard: Arc<Dashboard>,
    pub audit: PathBuf,
    pub _dir: tempfile::TempDir,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    pub fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit).unwrap_or_default()
    }
}

pub fn config_text(audit: &std::path::Path) -> String {
    let h = |pw: &str| dashboard::hash_password_with(pw, 1000);
    format!(
        "audit_log = {audit:?}\nsession_ttl_s = 600\n\
         [[users]]\nname = \"vera\"\nrole = \"viewer\"\npassword_hash = \"{}\"\n\
         [[users]]\nname = \"cole\"\nrole = \"commander\"\npassword_hash = \"{}\"\n\
         [[users]]\nname = \"ada\"\nrole = \"admin\"\npassword_hash = \"{}\"\n",
        h(PASSWORD),
        h(PASSWORD),
        h(PASSWORD)
    )
}

/// A dashboard serving `dist` (or a missing folder) on 127.0.0.1:0.
pub async fn start(dist: Option<PathBuf>) -> Running {
    start_with(dist, Duration::from_millis(100)).await
}

/// Same, with the live stream's interval.
pub async fn start_with(dist: Option<PathBuf>, stream_interval: Duration) -> Running {
    start_wrapped(dist, stream_interval, |r| r).await
}

/// Same, serving a backend built around the fixed one.
pub async fn start_wrapped(
    dist: Option<PathBuf>,
    stream_interval: Duration,
    wrap: impl FnOnce(Arc<FixedBackend>) -> Arc<dyn dashboard::DashboardBackend>,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let cfg = DashboardConfig::from_toml_str(&config_text(&audit), "test").unwrap();
    let clock = ManualClock::new(T0_US);
    let backend = Arc::new(FixedBackend::default());
    let opts = DashboardOptions {
        config: Some(cfg),
        dist_dir: dist.unwrap_or_else(|| dir.path().join("no-dist")),
        audit_log: audit.clone(),
        stream_interval,
    };
    let (dashboard, first) =
        Dashboard::new(opts, wrap(backend.clone()), Arc::new(clock.clone())).unwrap();
    assert!(first.is_none());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(dashboard.clone().serve(listener));
    Running {
        addr,
        clock,
        backend,
        dashboard,
        audit,
        _dir: dir,
    }
}

pub mod client;
pub mod fixed;
pub mod layout;
pub mod sample;
pub mod scripted;
pub mod up;
pub mod webdriver;
