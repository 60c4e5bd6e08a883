//! Payment engine: pays with the chosen pay tool (or declines it for business reasons
//! when the control plane's decline rate says so). A bank card goes through the bank
//! gateway and then books the bank clearing account against the merchant; balance
//! and credit book the user's account against the merchant directly. When the
//! booking fails after the bank charged, the engine reverses the charge (as real
//! engines compensate), so a failed order leaves no charged card behind.

use crate::msg::{Op, PayRequest, PayTool, Reply};
use crate::world::Hop;

pub(crate) async fn pay(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    if hop.w.guard.business_decline() {
        // A business outcome (no error class), before any money moves.
        let code = match req.tool {
            PayTool::BankCard => "BANK_DECLINED",
            PayTool::Balance | PayTool::Credit => "INSUFFICIENT_FUNDS",
        };
        return Reply::fail(code, None);
    }
    match req.tool {
        PayTool::BankCard => {
            let r = hop.call(Op::GatewayCharge, req).await;
            if !r.is_ok() {
                return r;
            }
            let mut post = req.clone();
            post.bank = r.bank.clone();
            let mut p = hop.call(Op::AccountingPost, &post).await;
            if !p.is_ok() {
                // A failed reversal stays visible: reconciliation reports the
                // charge (`bank_charged_order_not_paid`).
                let _ = hop.call(Op::GatewayReverse, &post).await;
            }
            p.bank = r.bank;
            p.virtual_us = 0;
            p
        }
        PayTool::Balance | PayTool::Credit => {
            let mut r = hop.call(Op::AccountingPost, req).await;
            r.virtual_us = 0;
            r
        }
    }
}
