//! Cashier: the entry of every payment (by scene and channel). Checks the request
//! and hands it to trade.

use crate::msg::{Op, PayRequest, Reply};
use crate::world::Hop;

pub(crate) async fn pay(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    if req.amount_cents <= 0 {
        return Reply::fail("INVALID_AMOUNT", None);
    }
    hop.call(Op::TradeCreateOrder, req).await
}
