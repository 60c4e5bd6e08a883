//! Payment service: the core sync risk check (skipped below the control plane's cap, when
//! one is set, and marked `risk = skipped`), the (degradable) coupon, the
//! (degradable) async risk check for large amounts, then the payment engine.

use crate::msg::{Op, PayRequest, Reply, Service};
use crate::world::{call_from, Hop};

pub(crate) async fn pay(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    if hop.w.guard.skip_sync_risk(req.amount_cents) {
        // Degraded: a small payment goes on without the sync check, marked for review.
        hop.add_key("risk", "skipped");
    } else {
        let r = hop.call(Op::RiskCheck, req).await;
        if !r.is_ok() {
            return r;
        }
    }
    if req.coupon && hop.w.guard.feature_enabled("marketing") {
        // Non-core: a failed coupon call does not fail the payment.
        let _ = hop.call(Op::MarketingUseCoupon, req).await;
    }
    if req.amount_cents >= hop.w.cfg.risk_async_min_cents
        && hop.w.guard.feature_enabled("risk.async")
    {
        let w = hop.w.clone();
        let ctx = hop.ctx.clone();
        let from: Box<str> = hop.instance.into();
        let req = req.clone();
        tokio::spawn(async move {
            let _ = call_from(&w, Service::Payment, &from, &ctx, Op::RiskAsyncCheck, &req).await;
        });
    }
    let mut r = hop.call(Op::EnginePay, req).await;
    r.virtual_us = 0;
    r
}
