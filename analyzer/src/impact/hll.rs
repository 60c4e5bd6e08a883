//! HyperLogLog distinct counter (2^p registers, 64-bit FNV-1a/murmur-finalized
//! hash): about 1.04/sqrt(2^p) relative error, linear counting for small sets
//! (exact enough for a handful of users), mergeable by taking register maxima.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hll {
    p: u8,
    regs: Vec<u8>,
}

fn hash(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    // fmix64 from MurmurHash3 spreads FNV's low-entropy high bits.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Hll {
    pub fn new(p: u8) -> Self {
        let p = p.clamp(4, 16);
        Self {
            p,
            regs: vec![0; 1 << p],
        }
    }

    pub fn add(&mut self, s: &str) {
        self.add_bytes(s.as_bytes())
    }

    pub fn add_bytes(&mut self, s: &[u8]) {
        let h = hash(s);
        let idx = (h >> (64 - self.p)) as usize;
        let rest = (h << self.p) | (1 << (self.p - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if rank > self.regs[idx] {
            self.regs[idx] = rank;
        }
    }

    pub fn merge(&mut self, o: &Hll) {
        if o.p != self.p {
            return;
        }
        for (a, b) in self.regs.iter_mut().zip(&o.regs) {
            *a = (*a).max(*b);
        }
    }

    pub fn clear(&mut self) {
        self.regs.iter_mut().for_each(|r| *r = 0);
    }

    pub fn estimate(&self) -> u64 {
        let m = self.regs.len() as f64;
        let mut sum = 0.0;
        let mut zeros = 0;
        for &r in &self.regs {
            sum += 1.0 / (1u64 << r) as f64;
            if r == 0 {
                zeros += 1;
            }
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let e = alpha * m * m / sum;
        if e <= 2.5 * m && zeros > 0 {
            (m * (m / zeros as f64).ln()).round() as u64
        } else {
            e.round() as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_small_and_large_sets() {
        let mut h = Hll::new(12);
        for i in 0..5 {
            h.add(&format!("u{i}"));
            h.add(&format!("u{i}"));
        }
        assert_eq!(h.estimate(), 5);
        let mut big = Hll::new(12);
        for i in 0..100_000 {
            big.add(&format!("user-{i}"));
        }
        let e = big.estimate() as f64;
        assert!((e - 100_000.0).abs() / 100_000.0 < 0.05, "{e}");
        let mut a = Hll::new(12);
        let mut b = Hll::new(12);
        for i in 0..1000 {
            if i % 2 == 0 {
                a.add(&format!("x{i}"))
            } else {
                b.add(&format!("x{i}"))
            }
        }
        a.merge(&b);
        let e = a.estimate() as f64;
        assert!((e - 1000.0).abs() < 50.0, "{e}");
    }
}
