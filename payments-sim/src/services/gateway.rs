//! Bank gateway: routes a card charge to a bank channel (weights and health, shadow
//! to sandbox banks only), sends it in that bank's message format, maps the bank's
//! code to a platform code, and waits for the bank's result callback. Reverses a
//! charge the platform could not book (the payment engine's compensation).

use crate::msg::{PayRequest, Reply};
use crate::world::Hop;

pub(crate) async fn charge(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    let Some(idx) = hop.w.router.choose(&*hop.w.guard, hop.ctx.shadow) else {
        return Reply::fail("NO_BANK_CHANNEL", Some("NoChannel"));
    };
    let w = hop.w;
    hop.add_key("bank", w.router.banks[idx].name());
    let (mut r, _) = hop.bank(idx, req).await;
    r.bank = Some(hop.w.router.banks[idx].name().to_string());
    r.virtual_us = 0;
    r
}

/// Reverses the charge of `req.payment_id` at `req.bank` (the bank's book then
/// shows it not charged). Nothing to reverse is not an error.
pub(crate) fn reverse(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    let Some(bank) = req.bank.as_deref() else {
        return Reply::fail("UNKNOWN_BANK", Some("BadRequest"));
    };
    let Some(idx) = hop.w.router.index_of(bank) else {
        return Reply::fail("UNKNOWN_BANK", Some("BadRequest"));
    };
    let w = hop.w;
    hop.add_key("bank", w.router.banks[idx].name());
    w.router.banks[idx].reverse(req.payment_id);
    Reply::ok()
}
