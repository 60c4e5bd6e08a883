//! A Zipf sampler over `1..=n` by inverse CDF (binary search in a precomputed table).

/// Zipf(s) over ranks `1..=n`.
pub(crate) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// `n >= 1`, `s >= 0` (0 is uniform).
    pub(crate) fn new(n: u32, s: f64) -> Zipf {
        let n = n.max(1) as usize;
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += 1.0 / (k as f64).powf(s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }

    /// The rank for a uniform `u` in `[0, 1)`.
    pub(crate) fn sample(&self, u: f64) -> u32 {
        let i = self.cdf.partition_point(|c| *c <= u);
        (i.min(self.cdf.len() - 1) + 1) as u32
    }

    /// Share of draws that land on rank 1.
    #[cfg(test)]
    pub(crate) fn top_share(&self) -> f64 {
        self.cdf[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn skewed_and_in_range() {
        let z = Zipf::new(1000, 1.0);
        assert_eq!(z.sample(0.0), 1);
        assert_eq!(z.sample(0.999_999_9), 1000);
        let mut top = 0;
        for i in 0..10_000 {
            let r = z.sample(i as f64 / 10_000.0);
            assert!((1..=1000).contains(&r));
            top += u32::from(r == 1);
        }
        let expect = z.top_share() * 10_000.0;
        assert!((top as f64 - expect).abs() < 5.0, "{top} vs {expect}");
        let u = Zipf::new(10, 0.0);
        assert!((u.top_share() - 0.1).abs() < 1e-9);
    }
}
