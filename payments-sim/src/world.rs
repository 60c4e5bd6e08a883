//! The running system's shared state and its call path. Every served call goes
//! through [`serve`] (server digest span, guard `enter`/`exit`, injected delays,
//! the service's handler) and every call out through [`Hop::call`] (client digest
//! span, `traceparent`, the transport) or [`Hop::bank`] (integrator span). The two
//! transports — in-process (a direct call of `serve`, no socket) and HTTP — share
//! all of it, so both run modes produce the same digests.

use crate::bank::{Router, VirtualBank};
use crate::config::{Delays, SimConfig};
use crate::ctx::{new_span_id, CallCtx};
use crate::guard::{CallSite, Guard, Verdict};
use crate::ledger::Ledger;
use crate::msg::{Op, PayRequest, PayTool, Reply, Service};
use crate::rpc::HttpTransport;
use crate::store::Shards;
use digest::SpanId;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tracing::field::Empty;
use tracing::Span;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where an order stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStatus {
    Created,
    Paid,
    Failed(Cow<'static, str>),
}

/// An order as trade keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
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
pub struct ClearingItem {
    pub merchant: u32,
    pub amount_cents: i64,
    pub fee_cents: i64,
    pub shadow: bool,
}

/// How calls between services travel.
pub enum Transport {
    /// Direct calls in this process.
    Local,
    /// Real HTTP to each service's own loopback listener.
    Http(HttpTransport),
}

/// Everything the services share.
pub struct World {
    pub cfg: SimConfig,
    pub guard: Arc<dyn Guard>,
    pub digest: Option<tracing::Dispatch>,
    pub ledger: Ledger,
    pub shadow_ledger: Ledger,
    pub orders: Shards<u64, Order>,
    pub clearing: Shards<u64, ClearingItem>,
    pub router: Router,
    pub coupon_spent: AtomicI64,
    pub transport: OnceLock<Transport>,
}

impl World {
    pub fn new(
        cfg: SimConfig,
        guard: Arc<dyn Guard>,
        digest: Option<tracing::Dispatch>,
        banks: Vec<Arc<VirtualBank>>,
    ) -> World {
        World {
            ledger: Ledger::new(cfg.ledger.clone(), false, guard.clone()),
            shadow_ledger: Ledger::new(cfg.ledger.clone(), true, guard.clone()),
            cfg,
            guard,
            digest,
            orders: Shards::new(),
            clearing: Shards::new(),
            router: Router::new(banks),
            coupon_spent: AtomicI64::new(0),
            transport: OnceLock::new(),
        }
    }

    /// A digest span, or nothing when digests are off.
    #[inline]
    pub fn span(&self, f: impl FnOnce() -> Span) -> Span {
        match &self.digest {
            Some(d) => tracing::dispatcher::with_default(d, f),
            None => Span::none(),
        }
    }

    pub fn version(&self, svc: Service) -> Cow<'_, str> {
        match self.guard.version(svc.name()) {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed(&self.cfg.version),
        }
    }

    pub fn ledger_for(&self, shadow: bool) -> &Ledger {
        if shadow {
            &self.shadow_ledger
        } else {
            &self.ledger
        }
    }
}

fn key<'a>(ctx: &'a CallCtx, name: &str) -> &'a str {
    ctx.keys.get(name).map(String::as_str).unwrap_or("")
}

/// Records the outcome on a digest span, in one `record_all` (one layer callback).
fn finish_span(span: &Span, r: &Reply, extra_us: u64) {
    use tracing::field::Value;
    let Some(meta) = span.metadata() else { return };
    let fs = meta.fields();
    let (Some(fc), Some(fok), Some(fe), Some(fx)) = (
        fs.field("code"),
        fs.field("success"),
        fs.field("error"),
        fs.field("extra_us"),
    ) else {
        return;
    };
    let code: &str = &r.code;
    let ok = r.is_ok();
    let err: Option<&str> = r.error.as_deref();
    let vals = [
        (&fc, Some(&code as &dyn Value)),
        (&fok, Some(&ok as &dyn Value)),
        (&fe, err.as_ref().map(|e| e as &dyn Value)),
        (&fx, (extra_us > 0).then_some(&extra_us as &dyn Value)),
    ];
    span.record_all(&fs.value_set(&vals));
}

/// Serves `op` on `svc` for a call from `caller`; `ctx.parent` is the caller's span.
pub fn serve<'a>(
    w: &'a Arc<World>,
    svc: Service,
    caller: &'a str,
    ctx: CallCtx,
    op: Op,
    req: &'a PayRequest,
) -> BoxFuture<'a, Reply> {
    serve_with(w, svc, caller, ctx, op, req, None)
}

/// The client side of an in-process call: its service and its parent span.
#[derive(Clone, Copy)]
pub struct ClientSide {
    pub service: Service,
    pub parent: Option<SpanId>,
}

/// [`serve`]; with `client`, the call was made in this process and its one span
/// (`kind = "rpc"`) is written as both the client and the server record.
pub fn serve_with<'a>(
    w: &'a Arc<World>,
    svc: Service,
    caller: &'a str,
    ctx: CallCtx,
    op: Op,
    req: &'a PayRequest,
    client: Option<ClientSide>,
) -> BoxFuture<'a, Reply> {
    Box::pin(async move {
        let start = Instant::now();
        let span_id = new_span_id();
        let span = w.span(|| {
            let version = w.version(svc);
            match client {
                None => tracing::info_span!(target: "digest", "call", kind = "server",
                    service = svc.name(), instance = svc.instance(), operation = op.name(),
                    peer = caller, zone = &*ctx.zone, scene = &*ctx.scene,
                    channel = &*ctx.channel, shadow = ctx.shadow, version = &*version,
                    trace_id = ctx.trace_id.0, span_id = span_id.0,
                    parent_span_id = ctx.parent.map(|p| p.0).unwrap_or(0),
                    amount_cents = req.amount_cents, key.user = key(&ctx, "user"),
                    key.merchant = key(&ctx, "merchant"), key.account = Empty, key.bank = Empty,
                    code = Empty, success = Empty, error = Empty, extra_us = Empty),
                Some(c) => {
                    let client_version = w.version(c.service);
                    tracing::info_span!(target: "digest", "call", kind = "rpc",
                        service = svc.name(), instance = svc.instance(), operation = op.name(),
                        peer = caller, zone = &*ctx.zone, scene = &*ctx.scene,
                        channel = &*ctx.channel, shadow = ctx.shadow, version = &*version,
                        client_instance = c.service.instance(),
                        client_version = &*client_version,
                        client_parent_span_id = c.parent.map(|p| p.0).unwrap_or(0),
                        trace_id = ctx.trace_id.0, span_id = span_id.0,
                        parent_span_id = ctx.parent.map(|p| p.0).unwrap_or(0),
                        amount_cents = req.amount_cents, key.user = key(&ctx, "user"),
                        key.merchant = key(&ctx, "merchant"), key.account = Empty,
                        key.bank = Empty, code = Empty, success = Empty, error = Empty,
                        extra_us = Empty)
                }
            }
        });
        let site = CallSite {
            service: svc.name(),
            operation: op.name(),
            zone: &ctx.zone,
            scene: &ctx.scene,
            keys: &ctx.keys,
            shadow: ctx.shadow,
        };
        let verdict = w.guard.enter(&site);
        let mut hop = Hop {
            w,
            svc,
            ctx: ctx.child(span_id),
            virt: 0,
            span: &span,
        };
        let mut reply = match verdict {
            Verdict::Pass { delay_us } => {
                hop.delay(delay_us).await;
                crate::services::handle(&mut hop, op, req).await
            }
            Verdict::Reject {
                code,
                error,
                delay_us,
            } => {
                hop.delay(delay_us).await;
                let mut r = Reply::fail(code, None);
                r.error = Some(Cow::Owned(error));
                r
            }
        };
        reply.virtual_us = hop.virt;
        let took = start.elapsed().as_micros() as u64 + hop.virt;
        w.guard.exit(&site, reply.is_ok(), took);
        finish_span(&span, &reply, hop.virt);
        reply
    })
}

/// One served call in progress: the context for calls it makes.
pub struct Hop<'a> {
    pub w: &'a Arc<World>,
    pub svc: Service,
    /// Context whose `parent` is this call's server span.
    pub ctx: CallCtx,
    /// Simulated time spent so far (own delays + callees' subtrees).
    pub virt: u64,
    pub span: &'a Span,
}

impl<'a> Hop<'a> {
    /// Waits `us` for real or adds it as simulated time, per the config.
    pub async fn delay(&mut self, us: u64) {
        if us == 0 {
            return;
        }
        match self.w.cfg.delays {
            Delays::Real => tokio::time::sleep(Duration::from_micros(us)).await,
            Delays::Virtual => self.virt += us,
        }
    }

    /// Calls `op` on its service with a client span.
    pub async fn call(&mut self, op: Op, req: &PayRequest) -> Reply {
        let to = op.service();
        let r = call_from(self.w, self.svc, &self.ctx, op, req).await;
        let _ = to;
        self.virt += r.virtual_us;
        r
    }

    /// Charges `bank` through the bank gateway's integrator call.
    pub async fn bank(&mut self, idx: usize, req: &PayRequest) -> (Reply, bool) {
        let w = self.w;
        let bank: &VirtualBank = &w.router.banks[idx];
        let span_id = new_span_id();
        let ctx = &self.ctx;
        let span = w.span(|| {
            let version = w.version(self.svc);
            tracing::info_span!(target: "digest", "call", kind = "integrator",
                service = self.svc.name(), instance = self.svc.instance(),
                operation = "bank.pay", peer = bank.name(), zone = &*ctx.zone,
                scene = &*ctx.scene, channel = &*ctx.channel, shadow = ctx.shadow,
                version = &*version, trace_id = ctx.trace_id.0, span_id = span_id.0,
                parent_span_id = ctx.parent.map(|p| p.0).unwrap_or(0),
                amount_cents = req.amount_cents, key.user = key(ctx, "user"),
                key.merchant = key(ctx, "merchant"), key.bank = bank.name(),
                code = Empty, success = Empty, error = Empty, extra_us = Empty)
        });
        let site = CallSite {
            service: self.svc.name(),
            operation: "bank.pay",
            zone: &ctx.zone,
            scene: &ctx.scene,
            keys: &ctx.keys,
            shadow: ctx.shadow,
        };
        let before = self.virt;
        let (reply, system_failure) = match w.guard.bank(bank.name(), &site) {
            Verdict::Reject {
                code,
                error,
                delay_us,
            } => {
                self.delay(delay_us).await;
                let mut r = Reply::fail(code, None);
                r.error = Some(Cow::Owned(error));
                (r, true)
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
        finish_span(&span, &reply, self.virt - before);
        (reply, system_failure)
    }
}

/// A call from `from` (whose server span is `ctx.parent`) to `op`'s service.
/// Over HTTP the caller writes a client span and the callee a server span; in
/// process one `rpc` span stands for both.
pub async fn call_from(
    w: &Arc<World>,
    from: Service,
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
                parent: ctx.parent,
            };
            return serve_with(w, to, from.name(), child, op, req, Some(client)).await;
        }
    };
    let span = w.span(|| {
        let version = w.version(from);
        tracing::info_span!(target: "digest", "call", kind = "client",
            service = from.name(), instance = from.instance(), operation = op.name(),
            peer = to.name(), zone = &*ctx.zone, scene = &*ctx.scene,
            channel = &*ctx.channel, shadow = ctx.shadow, version = &*version,
            trace_id = ctx.trace_id.0, span_id = span_id.0,
            parent_span_id = ctx.parent.map(|p| p.0).unwrap_or(0),
            amount_cents = req.amount_cents, key.user = key(ctx, "user"),
            key.merchant = key(ctx, "merchant"),
            code = Empty, success = Empty, error = Empty, extra_us = Empty)
    });
    let r = h.call(to, from.name(), &child, op, req).await;
    finish_span(&span, &r, r.virtual_us);
    r
}
