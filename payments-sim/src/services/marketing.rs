//! Marketing (coupons): spends a coupon from the campaign budget. Non-core and
//! degradable: the payment service skips it when the `marketing` switch is off.

use crate::msg::{PayRequest, Reply};
use crate::world::Hop;
use std::sync::atomic::Ordering;

pub(crate) fn use_coupon(hop: &mut Hop<'_>, _req: &PayRequest) -> Reply {
    let c = hop.w.cfg.coupon_cents;
    let before = hop.w.coupon_spent.fetch_add(c, Ordering::Relaxed);
    if before + c > hop.w.cfg.coupon_budget_cents {
        hop.w.coupon_spent.fetch_sub(c, Ordering::Relaxed);
        return Reply::fail("COUPON_BUDGET_EXHAUSTED", None);
    }
    Reply::ok()
}
