//! A fast keyed hasher for the ingest-side tables keyed by ids (dedup set,
//! trace index): a multiply-xor mix seeded once per process from the standard
//! library's random state, so keys chosen by a client cannot be aimed at one
//! bucket without knowing the seed.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let s = std::collections::hash_map::RandomState::new();
        s.hash_one(0x5eed_u64) | 1
    })
}

/// Builds [`IdHasher`]s.
#[derive(Clone, Copy)]
pub struct IdHash(u64);

impl Default for IdHash {
    fn default() -> Self {
        Self(seed())
    }
}

impl BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// The hasher: folds each written word into the state with a 128-bit multiply.
pub struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        let m = ((self.0 ^ v) as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_u128);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.mix(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    fn write_u128(&mut self, v: u128) {
        self.mix(v as u64);
        self.mix((v >> 64) as u64);
    }
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_sequential_ids() {
        let b = IdHash::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..10_000u128 {
            seen.insert(b.hash_one(i) >> 52);
        }
        // 10k ids over 4096 top-12-bit buckets: nearly all buckets used.
        assert!(seen.len() > 3_500, "{}", seen.len());
    }
}
