//! Risk: the core sync check (amount limits, a user block list, a velocity-style
//! score) and the degradable async deep check for large payments.

use crate::msg::{PayRequest, Reply};
use crate::world::Hop;

fn score(req: &PayRequest) -> u64 {
    // A deterministic stand-in for a model score: mixes the features.
    let mut x =
        (req.user as u64) << 32 ^ req.merchant as u64 ^ (req.amount_cents as u64).rotate_left(17);
    for _ in 0..8 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    }
    x % 1000
}

pub(crate) fn check(hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    if req.amount_cents > hop.w.cfg.risk_max_cents {
        return Reply::fail("RISK_AMOUNT_LIMIT", None);
    }
    // Users on the block list (one in 9,973).
    if req.user % 9_973 == 9_972 {
        return Reply::fail("RISK_REJECTED", None);
    }
    let _ = score(req);
    Reply::ok()
}

pub(crate) fn async_check(_hop: &mut Hop<'_>, req: &PayRequest) -> Reply {
    let s = (0..4u64).fold(0, |a, i| {
        a ^ score(&PayRequest {
            amount_cents: req.amount_cents + i as i64,
            ..req.clone()
        })
    });
    if s > 2000 {
        return Reply::fail("RISK_REVIEW", None);
    }
    Reply::ok()
}
