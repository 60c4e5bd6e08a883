//! Accounting core: posts a paid payment in the double-entry ledger (the shadow
//! ledger for shadow traffic): the pay tool's source account against the merchant.

use crate::ledger::AccountId;
use crate::msg::{PayRequest, PayTool, Reply};
use crate::world::Hop;

pub(crate) async fn post(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    let debit = match req.tool {
        PayTool::Balance => AccountId::User(req.user),
        PayTool::Credit => AccountId::Credit(req.user),
        PayTool::BankCard => {
            let idx = req.bank.as_deref().and_then(|b| hop.w.router.index_of(b));
            match idx {
                Some(i) => AccountId::BankClearing(i as u16),
                None => return Reply::fail("UNKNOWN_BANK", Some("BadRequest")),
            }
        }
    };
    let credit = AccountId::Merchant(req.merchant);
    if hop.digest_on() {
        let ns = if hop.ctx.shadow { "shadow:" } else { "" };
        hop.add_key("account", credit.name(ns));
    }
    match hop
        .w
        .ledger_for(hop.ctx.shadow)
        .post(req.payment_id, debit, credit, req.amount_cents)
        .await
    {
        Ok(_) => Reply::ok(),
        Err(e) => Reply::fail(e.code(), None),
    }
}
