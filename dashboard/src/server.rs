//! Putting the dashboard together: [`Dashboard`] holds the backend, users, sessions,
//! audit log and assets; [`Dashboard::router`] is the whole HTTP surface (`/api/…` and
//! the bundle at `/`); [`Dashboard::serve`] runs it on a listener.

use crate::assets::Assets;
use crate::audit::Audit;
use crate::auth::{LoginThrottle, SessionStore, Users};
use crate::backend::DashboardBackend;
use crate::config::DashboardConfig;
use crate::error::DashboardError;
use axum::Router;
use digest::SharedClock;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use crate::auth::FirstAdmin;

/// How to build a [`Dashboard`].
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// Users and settings; `None` generates a first admin (see [`FirstAdmin`]).
    pub config: Option<DashboardConfig>,
    /// The built bundle (`index.html`, JS glue, `.wasm`, CSS).
    pub dist_dir: PathBuf,
    /// Audit log path when the config does not name one.
    pub audit_log: PathBuf,
    /// How often the live stream looks for changes (default 250 ms; the screen updates within 1 s).
    pub stream_interval: Duration,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        Self {
            config: None,
            dist_dir: default_dist_dir(),
            audit_log: PathBuf::from(".warroom/audit.jsonl"),
            stream_interval: Duration::from_millis(250),
        }
    }
}

/// `$WARROOM_DASHBOARD_DIST`, else `dashboard/dist` of this source tree.
pub fn default_dist_dir() -> PathBuf {
    std::env::var_os("WARROOM_DASHBOARD_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/dist")))
}

/// The dashboard's shared state.
pub struct Dashboard {
    pub(crate) backend: Arc<dyn DashboardBackend>,
    pub(crate) users: Users,
    pub(crate) sessions: SessionStore,
    pub(crate) throttle: LoginThrottle,
    pub(crate) audit: Audit,
    pub(crate) assets: Assets,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) stream_interval: Duration,
}

impl Dashboard {
    /// Builds the dashboard; returns the generated first admin when no config was given.
    pub fn new(
        opts: DashboardOptions,
        backend: Arc<dyn DashboardBackend>,
        clock: SharedClock,
    ) -> Result<(Arc<Self>, Option<FirstAdmin>), DashboardError> {
        let (users, first, ttl, audit_path, origins) = match &opts.config {
            Some(c) => (
                Users::from_config(c),
                None,
                c.session_ttl_s,
                c.audit_log.clone().unwrap_or(opts.audit_log.clone()),
                c.allowed_origins.clone(),
            ),
            None => {
                let (u, f) = Users::first_admin();
                (u, Some(f), 12 * 3600, opts.audit_log.clone(), Vec::new())
            }
        };
        let audit = Audit::open(&audit_path, clock.clone())?;
        let d = Dashboard {
            backend,
            users,
            sessions: SessionStore::new(clock.clone(), ttl),
            throttle: LoginThrottle::new(clock),
            audit,
            assets: Assets::new(opts.dist_dir),
            allowed_origins: origins,
            stream_interval: opts.stream_interval,
        };
        Ok((Arc::new(d), first))
    }

    /// The whole HTTP surface.
    pub fn router(self: &Arc<Self>) -> Router {
        crate::api::routes()
            .fallback(crate::assets::serve)
            .with_state(self.clone())
    }

    /// Serves until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    pub fn audit_path(&self) -> &std::path::Path {
        self.audit.path()
    }

    /// Whether `dist/index.html` exists.
    pub fn bundle_present(&self) -> bool {
        self.assets.present()
    }
}
