//! The payment services' handlers, one file each. `handle` routes an operation to
//! its service; every handler works on a [`Hop`] (its context and its calls out).

mod accounting;
mod cashier;
mod clearing;
mod engine;
mod gateway;
mod marketing;
mod payment;
mod risk;
mod trade;

use crate::msg::{Op, PayRequest, Reply};
use crate::world::{BoxFuture, Hop};

/// Serves `op` (already admitted by the guard).
pub(crate) fn handle<'a, 'h>(
    hop: &'a mut Hop<'h>,
    op: Op,
    req: &'a PayRequest,
) -> BoxFuture<'a, Reply> {
    Box::pin(async move {
        match op {
            Op::CashierPay => cashier::pay(hop, req).await,
            Op::TradeCreateOrder => trade::create_order(hop, req).await,
            Op::PaymentPay => payment::pay(hop, req).await,
            Op::RiskCheck => risk::check(hop, req),
            Op::RiskAsyncCheck => risk::async_check(hop, req),
            Op::MarketingUseCoupon => marketing::use_coupon(hop, req),
            Op::EnginePay => engine::pay(hop, req).await,
            Op::GatewayCharge => gateway::charge(hop, req).await,
            Op::GatewayReverse => gateway::reverse(hop, req),
            Op::AccountingPost => accounting::post(hop, req).await,
            Op::ClearingSubmit => clearing::submit(hop, req),
        }
    })
}
