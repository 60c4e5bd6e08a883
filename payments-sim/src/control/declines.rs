//! [`Declines`]: business declines on demand (`PUT /control/declines {"rate": 0.3}`): a
//! share of payments the payment engine declines before any money moves — card payments
//! `BANK_DECLINED`, balance and credit `INSUFFICIENT_FUNDS`, with no error class (a
//! business outcome, not a system failure). A noise drill's burst of legitimate declines;
//! not a fault and not a control change (no change event). The payment path reads it with
//! one atomic load while the rate is 0.

use super::error::ControlError;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// `GET/PUT /control/declines`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclinesBody {
    /// Share of payments declined, 0..=1.
    pub rate: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Declines {
    /// The rate's f64 bits (0 = none).
    rate_bits: AtomicU64,
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0x2545_F491_4F6C_DD1D) };
}

/// Uniform in [0, 1) from a per-thread xorshift.
fn unit() -> f64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

impl Declines {
    /// Whether this payment is declined.
    #[inline]
    pub(crate) fn decline(&self) -> bool {
        let bits = self.rate_bits.load(Ordering::Relaxed);
        bits != 0 && unit() < f64::from_bits(bits)
    }

    pub(crate) fn view(&self) -> DeclinesBody {
        DeclinesBody {
            rate: f64::from_bits(self.rate_bits.load(Ordering::Relaxed)),
        }
    }

    pub(crate) fn put(&self, body: DeclinesBody) -> Result<DeclinesBody, ControlError> {
        if !(body.rate.is_finite() && (0.0..=1.0).contains(&body.rate)) {
            return Err(ControlError::invalid("rate", "must be a share in 0..=1"));
        }
        let bits = if body.rate == 0.0 {
            0
        } else {
            body.rate.to_bits()
        };
        self.rate_bits.store(bits, Ordering::Relaxed);
        Ok(self.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_declines_about_that_share_and_bad_rates_change_nothing() {
        let d = Declines::default();
        assert!(!(0..1000).any(|_| d.decline()), "none by default");
        d.put(DeclinesBody { rate: 0.3 }).unwrap();
        let n = (0..10_000).filter(|_| d.decline()).count();
        assert!((2_700..3_300).contains(&n), "{n}");
        for bad in [-0.1, 1.5, f64::NAN] {
            assert!(d.put(DeclinesBody { rate: bad }).is_err());
        }
        assert_eq!(d.view().rate, 0.3);
        d.put(DeclinesBody { rate: 0.0 }).unwrap();
        assert!(!(0..1000).any(|_| d.decline()));
    }
}
