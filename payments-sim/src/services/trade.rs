//! Trade (acquiring): creates the order, routes it to the plugin of its business
//! type (goods, bill, top-up), asks payment to pay it, and on success marks it paid
//! and submits it to clearing.

use crate::msg::{Biz, Op, PayRequest, Reply};
use crate::world::{Hop, Order, OrderStatus};

/// A business-type plugin: checks what only that business knows.
trait BizPlugin {
    fn check(&self, req: &PayRequest) -> Result<(), &'static str>;
}

struct Goods;
struct Bill;
struct Topup;

impl BizPlugin for Goods {
    fn check(&self, _req: &PayRequest) -> Result<(), &'static str> {
        Ok(())
    }
}
impl BizPlugin for Bill {
    fn check(&self, req: &PayRequest) -> Result<(), &'static str> {
        // Billers take whole cents up to 50,000 yuan.
        if req.amount_cents > 5_000_000 {
            return Err("BILL_AMOUNT_TOO_LARGE");
        }
        Ok(())
    }
}
impl BizPlugin for Topup {
    fn check(&self, req: &PayRequest) -> Result<(), &'static str> {
        // Top-ups are whole yuan up to 500.
        if req.amount_cents % 100 != 0 || req.amount_cents > 50_000 {
            return Err("TOPUP_AMOUNT_INVALID");
        }
        Ok(())
    }
}

fn plugin(biz: Biz) -> &'static dyn BizPlugin {
    match biz {
        Biz::Goods => &Goods,
        Biz::Bill => &Bill,
        Biz::Topup => &Topup,
    }
}

pub(crate) async fn create_order(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    if let Err(code) = plugin(req.biz).check(req) {
        return Reply::fail(code, None);
    }
    let order = Order {
        user: req.user,
        merchant: req.merchant,
        amount_cents: req.amount_cents,
        tool: req.tool,
        shadow: hop.ctx.shadow,
        status: OrderStatus::Created,
        bank: None,
    };
    if !hop.w.orders.insert_new(req.payment_id, order) {
        return Reply::fail("DUPLICATE_ORDER", None);
    }
    let r = hop.call(Op::PaymentPay, req).await;
    let status = if r.is_ok() {
        OrderStatus::Paid
    } else {
        OrderStatus::Failed(r.code.clone())
    };
    let bank = r.bank.clone();
    hop.w.orders.update(&req.payment_id, |o| {
        o.status = status;
        o.bank = bank;
    });
    if r.is_ok() {
        // The payment stands even if clearing fails: the missing clearing item
        // shows in reconciliation.
        let _ = hop.call(Op::ClearingSubmit, req).await;
    }
    r
}
