//! The running system's shared state and its call path. Every served call goes
//! through [`serve`] (server digest span, guard `enter`/`exit`, injected delays,
//! the service's handler) and every call out through [`Hop::call`] (client digest
//! span, `traceparent`, the transport) or [`Hop::bank`] (integrator span). The two
//! transports — in-process (a direct call of `serve`, no socket) and HTTP — share
//! all of it, so both run modes produce the same digests.
//!
//! Digests are written through [`digest::Recorder`], not tracing spans: every
//! field of a call is already at hand here (most are `&'static str` from fixed
//! sets), so the recorder encodes each v1 line straight from them, skipping the
//! span registry and per-field `Visit` dispatch that cost about half the
//! simulator's throughput. The clock is read when a call starts; the record is
//! written when it ends (`record.rs`).

mod record;

use crate::bank::{Router, VirtualBank};
use crate::capacity::{Admission, Capacity};
use crate::config::{Delays, SimConfig};
use crate::ctx::{new_span_id, CallCtx};
use crate::guard::{CallSite, Guard, Verdict};
use crate::instances::Instances;
use crate::ledger::Ledger;
use crate::msg::{Op, PayRequest, PayTool, Reply, Service};
use crate::rpc::HttpTransport;
use crate::store::Shards;
use digest::{Recorder, SpanKind};
use record::{key, record, ClientSide, Site};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where an order stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrderStatus {
    Created,
    Paid,
    Failed(Cow<'static, str>),
}

/// An order as trade keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub user: u32,
    pub merchant: u32,
    pub amount_cents: i64,
    pub tool: PayTool,
    pub shadow: bool,
    pub status: OrderStatus,
    /// Bank that served a card payment.
    pub bank: Option<String>,
}

/// A clearing item: what the merchant is owed for one paid order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClearingItem {
    pub merchant: u32,
    pub amount_cents: i64,
    pub fee_cents: i64,
    pub shadow: bool,
}

/// How calls between services travel.
pub(crate) enum Transport {
    /// Direct calls in this process.
    Local,
    /// Real HTTP to each service's own loopback listener.
    Http(HttpTransport),
}

/// What serves an operation the guard admitted: the services' handlers
/// (`services::handle`), handed to the world when it is built, so the call
/// path does not depend on the services built on top of it.
pub(crate) type Handler =
    for<'a, 'h> fn(&'a mut Hop<'h>, Op, &'a PayRequest) -> BoxFuture<'a, Reply>;

/// Everything the services share.
pub(crate) struct World {
    pub cfg: SimConfig,
    pub handler: Handler,
    pub guard: Arc<dyn Guard>,
    /// Where call digests are written; `None`: no digests at all.
    pub digest: Option<Recorder>,
    pub ledger: Ledger,
    pub shadow_ledger: Ledger,
    pub orders: Shards<u64, Order>,
    pub clearing: Shards<u64, ClearingItem>,
    pub router: Router,
    pub coupon_spent: AtomicI64,
    pub transport: OnceLock<Transport>,
    /// Every service's instances (from `cfg.zones` and `cfg.instances_per_zone`).
    pub instances: Arc<Instances>,
    /// The bounded services' queues (`cfg.capacity`).
    pub capacity: Capacity,
}

impl World {
    pub(crate) fn new(
        cfg: SimConfig,
        guard: Arc<dyn Guard>,
        digest: Option<Recorder>,
        banks: Vec<Arc<VirtualBank>>,
        handler: Handler,
        clock: digest::SharedClock,
    ) -> World {
        let instances = Arc::new(Instances::from_config(&cfg));
        let bounded = cfg.capacity.iter().filter_map(|(svc, per_s)| {
            crate::msg::Service::from_name(svc).map(|s| (s.name(), *per_s))
        });
        let capacity = Capacity::new(clock, bounded, cfg.queue_timeout_ms);
        guard.attach_instances(&instances);
        World {
            ledger: Ledger::new(cfg.ledger.clone(), false, guard.clone()),
            shadow_ledger: Ledger::new(cfg.ledger.clone(), true, guard.clone()),
            cfg,
            handler,
            guard,
            digest,
            orders: Shards::new(),
            clearing: Shards::new(),
            router: Router::new(banks),
            coupon_spent: AtomicI64::new(0),
            transport: OnceLock::new(),
            instances,
            capacity,
        }
    }

    /// The instance of `svc` serving a call of `ctx` (see [`Instances::pick`]).
    #[inline]
    pub(crate) fn instance_for(&self, svc: Service, ctx: &CallCtx) -> &str {
        let g = &*self.guard;
        &self
            .instances
            .pick(svc, &ctx.zone, ctx.trace_id, |i| g.instance_isolated(i))
            .name
    }

    /// The digest clock when a call starts (0 when digests are off).
    #[inline]
    pub(crate) fn digest_start(&self) -> u64 {
        self.digest.as_ref().map_or(0, |r| r.now_us())
    }

    pub(crate) fn version(&self, svc: Service) -> Cow<'_, str> {
        match self.guard.version(svc.name()) {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed(&self.cfg.version),
        }
    }

    pub(crate) fn ledger_for(&self, shadow: bool) -> &Ledger {
        if shadow {
            &self.shadow_ledger
        } else {
            &self.ledger
        }
    }
}

/// Serves `op` on `svc` for a call from `caller`; `ctx.parent` is the caller's span.
pub(crate) fn serve<'a>(
    w: &'a Arc<World>,
    svc: Service,
    caller: &'a str,
    ctx: CallCtx,
    op: Op,
    req: &'a PayRequest,
) -> BoxFuture<'a, Reply> {
    serve_with(w, svc, caller, ctx, op, req, None)
}

/// [`serve`]; with `client`, the call was made in this process and its one span
/// (`kind = "rpc"`) is written as both the client and the server record.
fn serve_with<'a>(
    w: &'a Arc<World>,
    svc: Service,
    caller: &'a str,
    ctx: CallCtx,
    op: Op,
    req: &'a PayRequest,
    client: Option<ClientSide<'a>>,
) -> BoxFuture<'a, Reply> {
    Box::pin(async move {
        let start = Instant::now();
        let span_id = new_span_id();
        let instance = w.instance_for(svc, &ctx);
        let dsite = Site {
            kind: SpanKind::Server,
            service: svc,
            instance,
            operation: op.name(),
            peer: caller,
            span_id,
            start_us: w.digest_start(),
        };
        let site = CallSite {
            service: svc.name(),
            operation: op.name(),
            instance,
            zone: &ctx.zone,
            scene: &ctx.scene,
            channel: &ctx.channel,
            keys: &ctx.keys,
            shadow: ctx.shadow,
        };
        let verdict = match w.guard.enter(&site) {
            Verdict::Pass { delay_us } => match w.capacity.admit(site.service) {
                None => Verdict::Pass { delay_us },
                Some(Admission::Wait(us)) => Verdict::Pass {
                    delay_us: delay_us + us,
                },
                Some(Admission::TimedOut(us)) => Verdict::Reject {
                    code: "TIMEOUT".into(),
                    error: "TimeoutException".into(),
                    delay_us: delay_us + us,
                },
            },
            refused => refused,
        };
        let mut hop = Hop {
            w,
            svc,
            instance,
            ctx: ctx.child(span_id),
            virt: 0,
            late_keys: Vec::new(),
        };
        let mut reply = match verdict {
            Verdict::Pass { delay_us } => {
                hop.delay(delay_us).await;
                (w.handler)(&mut hop, op, req).await
            }
            Verdict::Reject {
                code,
                error,
                delay_us,
            } => {
                hop.delay(delay_us).await;
                Reply::refused(code, error)
            }
        };
        reply.virtual_us = hop.virt;
        let took = start.elapsed().as_micros() as u64 + hop.virt;
        w.guard.exit(&site, reply.is_ok(), took);
        let Hop {
            virt, late_keys, ..
        } = hop;
        record(
            w,
            &dsite,
            &ctx,
            req.amount_cents,
            &late_keys,
            client,
            &reply,
            virt,
        );
        reply
    })
}

/// One served call in progress: the context for calls it makes.
pub(crate) struct Hop<'a> {
    pub w: &'a Arc<World>,
    pub svc: Service,
    /// The instance of `svc` serving this call.
    pub instance: &'a str,
    /// Context whose `parent` is this call's server span.
    pub ctx: CallCtx,
    /// Simulated time spent so far (own delays + callees' subtrees).
    pub virt: u64,
    /// Business keys learnt while serving (`account`, `bank`), for the digest.
    pub late_keys: Vec<(&'static str, Cow<'a, str>)>,
}

impl<'a> Hop<'a> {
    /// Whether digests are written (skip work done only for them when not).
    pub(crate) fn digest_on(&self) -> bool {
        self.w.digest.is_some()
    }

    /// Adds a business key to this call's digest.
    pub(crate) fn add_key(&mut self, name: &'static str, value: impl Into<Cow<'a, str>>) {
        if self.digest_on() {
            self.late_keys.push((name, value.into()));
        }
    }

    /// Waits `us` for real or adds it as simulated time, per the config.
    pub(crate) async fn delay(&mut self, us: u64) {
        if us == 0 {
            return;
        }
        match self.w.cfg.delays {
            Delays::Real => tokio::time::sleep(Duration::from_micros(us)).await,
            Delays::Virtual => self.virt += us,
        }
    }

    /// Calls `op` on its service with a client span.
    pub(crate) async fn call(&mut self, op: Op, req: &PayRequest) -> Reply {
        let to = op.service();
        let r = call_from(self.w, self.svc, self.instance, &self.ctx, op, req).await;
        let _ = to;
        self.virt += r.virtual_us;
        r
    }

    /// The resource boundary of this hop's bank call.
    fn bank_site(&self) -> CallSite<'_> {
        CallSite {
            service: self.svc.name(),
            operation: "bank.pay",
            instance: self.instance,
            zone: &self.ctx.zone,
            scene: &self.ctx.scene,
            channel: &self.ctx.channel,
            keys: &self.ctx.keys,
            shadow: self.ctx.shadow,
        }
    }

    /// Charges `bank` through the bank gateway's integrator call.
    pub(crate) async fn bank(&mut self, idx: usize, req: &PayRequest) -> (Reply, bool) {
        let w = self.w;
        let bank: &VirtualBank = &w.router.banks[idx];
        let span_id = new_span_id();
        let ctx = &self.ctx;
        let dsite = Site {
            kind: SpanKind::Integrator,
            service: self.svc,
            instance: self.instance,
            operation: "bank.pay",
            peer: bank.name(),
            span_id,
            start_us: w.digest_start(),
        };
        let before = self.virt;
        let started = std::time::Instant::now();
        let verdict = w.guard.bank(bank.name(), &self.bank_site());
        let (reply, system_failure) = match verdict {
            Verdict::Reject {
                code,
                error,
                delay_us,
            } => {
                self.delay(delay_us).await;
                (Reply::refused(code, error), true)
            }
            Verdict::Pass { delay_us } => {
                let a = bank.charge(
                    req.payment_id,
                    key(ctx, "merchant"),
                    req.amount_cents,
                    ctx.shadow,
                );
                self.delay(a.latency_us + delay_us).await;
                if !a.callback {
                    (
                        Reply::fail("BANK_CALLBACK_TIMEOUT", Some("CallbackLost")),
                        true,
                    )
                } else if a.code == crate::msg::SUCCESS {
                    (Reply::ok(), false)
                } else {
                    let err = (a.code == "BANK_SYSTEM_ERROR").then_some("BankError");
                    (Reply::fail(a.code, err), err.is_some())
                }
            }
        };
        w.router.observe(idx, system_failure);
        let took = started.elapsed().as_micros() as u64 + (self.virt - before);
        // Breakers on `bank:NAME` learn from every bank call, as service breakers do.
        w.guard
            .bank_exit(bank.name(), &self.bank_site(), !system_failure, took);
        let bank_key = [("bank", Cow::Borrowed(bank.name()))];
        let extra = self.virt - before;
        record(
            w,
            &dsite,
            &self.ctx,
            req.amount_cents,
            &bank_key,
            None,
            &reply,
            extra,
        );
        (reply, system_failure)
    }
}

/// A call from `from` (whose server span is `ctx.parent`) to `op`'s service.
/// Over HTTP the caller writes a client span and the callee a server span; in
/// process one `rpc` span stands for both.
pub(crate) async fn call_from(
    w: &Arc<World>,
    from: Service,
    from_instance: &str,
    ctx: &CallCtx,
    op: Op,
    req: &PayRequest,
) -> Reply {
    let to = op.service();
    let span_id = new_span_id();
    let child = ctx.child(span_id);
    let h = match w.transport.get() {
        Some(Transport::Http(h)) => h,
        _ => {
            let client = ClientSide {
                service: from,
                instance: from_instance,
                parent: ctx.parent,
            };
            return serve_with(w, to, from.name(), child, op, req, Some(client)).await;
        }
    };
    let dsite = Site {
        kind: SpanKind::Client,
        service: from,
        instance: from_instance,
        operation: op.name(),
        peer: to.name(),
        span_id,
        start_us: w.digest_start(),
    };
    let r = h.call(to, from.name(), &child, op, req).await;
    record(
        w,
        &dsite,
        ctx,
        req.amount_cents,
        &[],
        None,
        &r,
        r.virtual_us,
    );
    r
}
