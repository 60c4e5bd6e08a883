//! The HTTP edge (axum): one router with the ingest endpoints, the stats and
//! trace API and `/metrics`. Handlers only read bodies, call the pipeline and map
//! its typed errors to status codes. [`serve_edge`] is what `warroom serve`, `up` and
//! `collect` run: with [`EdgeConfig`] tokens every ingest endpoint and the record reads
//! need `Authorization: Bearer <token>` (`auth`), with a certificate it speaks TLS
//! (`tls`), and it refuses to listen beyond loopback without tokens unless told to.

mod api;
mod auth;
mod ingest;
mod tls;

pub use auth::{SourceToken, INVALID_TOKEN, MIN_TOKEN_BYTES, UNAUTHENTICATED};

use crate::error::EdgeError;
use crate::Pipeline;
use auth::Access;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio_rustls::rustls;

/// PEM files of the edge's certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How the edge is guarded. The default: no tokens, plain HTTP, loopback only.
#[derive(Debug, Clone, Default)]
pub struct EdgeConfig {
    /// Sources allowed to send (and read records); empty: no token asked for.
    pub tokens: Vec<SourceToken>,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Listen beyond loopback even without tokens (the operator said so).
    pub allow_unauthenticated: bool,
}

/// The edge, checked and loaded: tokens, TLS config, the listen rule.
pub struct Edge {
    access: Arc<Access>,
    tls: Option<Arc<rustls::ServerConfig>>,
    allow_unauthenticated: bool,
}

impl Edge {
    /// Checks the tokens (unique names and tokens) and reads the TLS files; errors name
    /// the source or the file.
    pub fn new(cfg: EdgeConfig) -> Result<Self, EdgeError> {
        let access = Arc::new(Access::new(cfg.tokens)?);
        let tls = cfg
            .tls
            .as_ref()
            .map(|f| tls::load(&f.cert, &f.key))
            .transpose()?;
        Ok(Self {
            access,
            tls,
            allow_unauthenticated: cfg.allow_unauthenticated,
        })
    }

    /// No tokens, plain HTTP: for a loopback listener.
    pub fn open() -> Self {
        Self::new(EdgeConfig::default()).expect("the default edge is valid")
    }

    /// Whether ingest and record reads need a bearer token.
    pub fn requires_token(&self) -> bool {
        self.access.required()
    }

    /// `https` with TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Refuses a listener beyond loopback (`0.0.0.0`, `[::]` and any non-loopback
    /// address) when no token is configured, unless `allow_unauthenticated`.
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), EdgeError> {
        if addr.ip().is_loopback() || self.requires_token() || self.allow_unauthenticated {
            Ok(())
        } else {
            Err(EdgeError::UnauthenticatedBeyondLoopback { addr })
        }
    }
}

/// What every handler can reach: the pipeline, the sources' counters, TLS figures.
#[derive(Clone)]
pub(crate) struct EdgeState {
    pub(crate) pipeline: Pipeline,
    pub(crate) access: Arc<Access>,
    pub(crate) tls: bool,
    pub(crate) tls_handshakes_failed: Arc<AtomicU64>,
}

impl FromRef<EdgeState> for Pipeline {
    fn from_ref(s: &EdgeState) -> Pipeline {
        s.pipeline.clone()
    }
}

/// The collector's routes. Ingest, traces and records sit behind the token check when
/// tokens are set; `/api/stats` and `/metrics` (figures only, no payload, no secret)
/// stay open for health checks and scrapers.
fn router(state: EdgeState) -> Router {
    let mut guarded = Router::new()
        .route("/v1/digest", post(ingest::post_digest))
        .route("/v1/events", post(ingest::post_events))
        .route("/v1/traces", post(ingest::post_traces))
        .route("/api/traces/{trace_id}", get(api::trace))
        .route("/api/records", get(api::records));
    if state.access.required() {
        guarded = guarded.route_layer(axum::middleware::from_fn_with_state(
            state.access.clone(),
            auth::require_token,
        ));
    }
    Router::new()
        .merge(guarded)
        .route("/api/stats", get(api::stats))
        .route("/metrics", get(api::metrics))
        .with_state(state)
}

/// Serves the collector's routes on a loopback `listener` with no token and plain HTTP
/// until `shutdown` resolves (tests, benchmarks).
pub async fn serve(
    listener: tokio::net::TcpListener,
    p: Pipeline,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_edge(listener, p, Edge::open(), shutdown)
        .await
        .map_err(|e| match e {
            EdgeError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        })
}

/// Serves the collector's routes on `listener`, guarded as `edge` says, until
/// `shutdown` resolves. Refuses (before serving anything) a listener beyond loopback
/// without tokens, unless the edge allows it.
pub async fn serve_edge(
    listener: tokio::net::TcpListener,
    p: Pipeline,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EdgeError> {
    edge.check_listen(listener.local_addr()?)?;
    let state = EdgeState {
        pipeline: p,
        access: edge.access.clone(),
        tls: edge.tls.is_some(),
        tls_handshakes_failed: Arc::new(AtomicU64::new(0)),
    };
    let failed = state.tls_handshakes_failed.clone();
    let app = router(state);
    match edge.tls {
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(EdgeError::Io),
        Some(cfg) => {
            let l = tls::TlsListener::new(listener, cfg, failed)?;
            axum::serve(l, app)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(EdgeError::Io)
        }
    }
}
