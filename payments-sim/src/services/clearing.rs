//! Clearing: records what each merchant is owed (amount less the 0.6% fee) for
//! every paid order, for settlement.

use crate::msg::{PayRequest, Reply};
use crate::world::{ClearingItem, Hop};

pub(crate) fn submit(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    let item = ClearingItem {
        merchant: req.merchant,
        amount_cents: req.amount_cents,
        fee_cents: req.amount_cents * 6 / 1000,
        shadow: hop.ctx.shadow,
    };
    if !hop.w.clearing.insert_new(req.payment_id, item) {
        return Reply::fail("DUPLICATE_CLEARING", None);
    }
    Reply::ok()
}
