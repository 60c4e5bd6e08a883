//! Bank gateway: routes a card charge to a bank channel (weights and health, shadow
//! to sandbox banks only), sends it in that bank's message format, maps the bank's
//! code to a platform code, and waits for the bank's result callback.

use crate::msg::{PayRequest, Reply};
use crate::world::Hop;

pub async fn charge(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
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
