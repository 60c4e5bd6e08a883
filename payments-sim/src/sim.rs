//! Building and driving the whole system: [`SimBuilder`] (config, guard, digest
//! sink, run mode, banks) → [`Sim`] (pay one payment, run load, reconcile, look
//! at balances and bank books).

use crate::bank::{builtin_specs, BankSpec, VirtualBank};
use crate::config::SimConfig;
use crate::ctx::{new_trace_id, CallCtx};
use crate::error::SimError;
use crate::guard::{Guard, NoGuard};
use crate::msg::{merchant_key, user_key, Biz, Op, PayRequest, PayTool, Service};
use crate::recon::{reconcile, ReconReport};
use crate::rpc::{bind_all, HttpTransport};
use crate::services;
use crate::world::{serve, Transport, World};
use digest::{Keys, Recorder, SharedClock, Sink, SystemClock};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinHandle;

/// How the services talk to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// All services in this process, calls are direct (no socket).
    InProcess,
    /// Each service on its own loopback port, real HTTP between them.
    Http,
}

/// Assembles a [`Sim`].
pub struct SimBuilder {
    cfg: SimConfig,
    guard: Arc<dyn Guard>,
    sink: Option<Arc<dyn Sink>>,
    mode: Mode,
    banks: Option<Vec<BankSpec>>,
    clock: SharedClock,
    serve_only: Option<Vec<Service>>,
    remotes: Vec<(Service, String)>,
}

impl Default for SimBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SimBuilder {
    pub fn new() -> Self {
        Self {
            cfg: SimConfig::default(),
            guard: Arc::new(NoGuard),
            sink: None,
            mode: Mode::InProcess,
            banks: None,
            clock: Arc::new(SystemClock),
            serve_only: None,
            remotes: Vec::new(),
        }
    }
    pub fn config(mut self, cfg: SimConfig) -> Self {
        self.cfg = cfg;
        self
    }
    /// What steers and breaks the system (control plane, faults). Default: [`NoGuard`].
    pub fn guard(mut self, guard: Arc<dyn Guard>) -> Self {
        self.guard = guard;
        self
    }
    /// Where digests go. Without a sink no digest is made at all.
    pub fn sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sink = Some(sink);
        self
    }
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Banks other than the built-in data files.
    pub fn banks(mut self, specs: Vec<BankSpec>) -> Self {
        self.banks = Some(specs);
        self
    }
    /// Clock for digest timestamps and durations.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// HTTP mode: serve only these services in this process (default: all).
    pub fn serve_only(mut self, services: Vec<Service>) -> Self {
        self.serve_only = Some(services);
        self
    }
    /// HTTP mode: `svc` runs elsewhere, at base URL `url` (`http://host:port`).
    pub fn remote(mut self, svc: Service, url: impl Into<String>) -> Self {
        self.remotes.push((svc, url.into()));
        self
    }

    /// Builds the system; in HTTP mode binds every local service's listener.
    pub async fn build(self) -> Result<Sim, SimError> {
        self.cfg.validate()?;
        let specs = match self.banks {
            Some(s) => s,
            None => builtin_specs()?,
        };
        if !specs.iter().any(|s| !s.sandbox) {
            return Err(SimError::config("banks", "at least one non-sandbox bank"));
        }
        let banks: Vec<Arc<VirtualBank>> = specs
            .into_iter()
            .map(|s| Arc::new(VirtualBank::new(s)))
            .collect();
        let digest = self
            .sink
            .as_ref()
            .map(|s| Recorder::new(s.clone(), self.clock.clone(), ""));
        let world = Arc::new(World::new(
            self.cfg,
            self.guard,
            digest,
            banks,
            services::handle,
            self.clock.clone(),
        ));
        let mut servers = Vec::new();
        let mut addrs = Vec::new();
        match self.mode {
            Mode::InProcess => {
                let _ = world.transport.set(Transport::Local);
            }
            Mode::Http => {
                let local: Vec<Service> = match &self.serve_only {
                    Some(v) => v.clone(),
                    None => Service::ALL
                        .into_iter()
                        .filter(|s| !self.remotes.iter().any(|(r, _)| r == s))
                        .collect(),
                };
                let mut urls: Vec<Option<String>> = vec![None; Service::ALL.len()];
                for (svc, url) in &self.remotes {
                    urls[*svc as usize] = Some(url.trim_end_matches('/').to_string());
                }
                let (a, t) = bind_all(&world, &local).await?;
                for (svc, addr) in local.iter().zip(&a) {
                    urls[*svc as usize] = Some(format!("http://{addr}"));
                }
                let mut all = Vec::new();
                for (i, u) in urls.into_iter().enumerate() {
                    all.push(u.ok_or_else(|| {
                        SimError::config(
                            "remote",
                            format!(
                                "{} is neither served here nor remote",
                                Service::ALL[i].name()
                            ),
                        )
                    })?);
                }
                let _ = world
                    .transport
                    .set(Transport::Http(HttpTransport::new(all)));
                servers = t;
                addrs = local.into_iter().zip(a).collect();
            }
        }
        Ok(Sim {
            world,
            servers,
            addrs,
            next_id: AtomicU64::new(1),
        })
    }
}

/// One payment to make.
#[derive(Debug, Clone)]
pub struct PaymentInput {
    pub user: u32,
    pub merchant: u32,
    pub amount_cents: i64,
    pub scene: Arc<str>,
    pub channel: Arc<str>,
    pub biz: Biz,
    pub tool: PayTool,
    pub coupon: bool,
    pub shadow: bool,
}

/// What became of it.
#[derive(Debug, Clone)]
pub struct PayOutcome {
    pub payment_id: u64,
    pub trace_id: digest::TraceId,
    pub code: String,
    pub ok: bool,
    /// Real time plus simulated time.
    pub latency_us: u64,
}

/// The running payment system.
pub struct Sim {
    world: Arc<World>,
    servers: Vec<JoinHandle<()>>,
    addrs: Vec<(Service, SocketAddr)>,
    next_id: AtomicU64,
}

fn user_hash(user: u32) -> u64 {
    let mut x = user as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

impl Sim {
    /// Makes one payment, entering at the cashier.
    pub async fn pay(&self, p: PaymentInput) -> PayOutcome {
        let start = Instant::now();
        let payment_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let w = &self.world;
        let h = user_hash(p.user);
        let zone: Arc<str> = match w.guard.zone_for(h) {
            Some(z) => Arc::from(z),
            None => Arc::from(w.cfg.zones[(h % w.cfg.zones.len() as u64) as usize].as_str()),
        };
        let mut keys = Keys::new();
        keys.insert("user".into(), user_key(p.user));
        keys.insert("merchant".into(), merchant_key(p.merchant));
        let ctx = CallCtx {
            trace_id: new_trace_id(),
            parent: None,
            scene: p.scene,
            channel: p.channel,
            zone,
            shadow: p.shadow,
            keys: Arc::new(keys),
        };
        let trace_id = ctx.trace_id;
        let req = PayRequest {
            payment_id,
            user: p.user,
            merchant: p.merchant,
            amount_cents: p.amount_cents,
            biz: p.biz,
            tool: p.tool,
            coupon: p.coupon,
            bank: None,
        };
        let r = serve(w, Service::Cashier, "user-app", ctx, Op::CashierPay, &req).await;
        PayOutcome {
            payment_id,
            trace_id,
            ok: r.is_ok(),
            code: r.code.into_owned(),
            latency_us: start.elapsed().as_micros() as u64 + r.virtual_us,
        }
    }

    /// Compares orders, ledger postings, bank books and clearing (settles first).
    pub async fn reconcile(&self) -> ReconReport {
        reconcile(&self.world).await
    }

    /// Settled balances of every real account.
    pub async fn real_balances(&self) -> BTreeMap<String, i64> {
        self.world.ledger.balances().await
    }

    /// Settled balances of every shadow account.
    pub async fn shadow_balances(&self) -> BTreeMap<String, i64> {
        self.world.shadow_ledger.balances().await
    }

    /// Every bank.
    pub fn banks(&self) -> Vec<Arc<VirtualBank>> {
        self.world.router.banks.clone()
    }

    /// Listener address of each service served here in HTTP mode (empty in process).
    pub fn addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        self.addrs.iter().map(|(s, a)| (s.name(), *a)).collect()
    }

    pub fn guard(&self) -> Arc<dyn Guard> {
        self.world.guard.clone()
    }

    /// The ledger (real or shadow) for inspection.
    pub fn ledger(&self, shadow: bool) -> &crate::ledger::Ledger {
        self.world.ledger_for(shadow)
    }

    /// Number of orders created so far.
    pub fn orders(&self) -> usize {
        self.world.orders.len()
    }

    /// Stops the HTTP listeners.
    pub fn shutdown(&self) {
        for t in &self.servers {
            t.abort();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}
