//! Misra–Gries heavy-hitter summary: at most `k` counters; a new key when full
//! decrements every counter by one (amortized O(1) per update, since each round of
//! decrements removes `k` units that were each added once). A key with more than
//! `n/(k+1)` occurrences is always held, and its count is under by at most that.
//! Each held key also carries the errors and latency seen while it was held.

use std::collections::HashMap;

/// Figures of one held key.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeyEntry {
    pub count: u64,
    pub errors: u64,
    pub latency_sum_us: u64,
}

/// One Misra–Gries summary (typically one second of one scope).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub k: usize,
    pub entries: HashMap<String, KeyEntry>,
    pub total: u64,
    pub total_errors: u64,
    pub total_latency_us: u64,
}

impl Summary {
    pub fn new(k: usize) -> Self {
        Self {
            k: k.max(1),
            entries: HashMap::with_capacity(k + 1),
            ..Default::default()
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.total = 0;
        self.total_errors = 0;
        self.total_latency_us = 0;
    }

    pub fn add(&mut self, key: &str, failed: bool, latency_us: u64) {
        self.total += 1;
        self.total_errors += failed as u64;
        self.total_latency_us = self.total_latency_us.saturating_add(latency_us);
        if let Some(e) = self.entries.get_mut(key) {
            e.count += 1;
            e.errors += failed as u64;
            e.latency_sum_us = e.latency_sum_us.saturating_add(latency_us);
            return;
        }
        if self.entries.len() < self.k {
            self.entries.insert(
                key.to_string(),
                KeyEntry {
                    count: 1,
                    errors: failed as u64,
                    latency_sum_us: latency_us,
                },
            );
            return;
        }
        // Full: one decrement round (the new key's unit is absorbed by it).
        self.entries.retain(|_, e| {
            e.count -= 1;
            e.count > 0
        });
    }

    /// Adds another summary's counters (query-time merge of a few seconds; the
    /// result may hold more than `k` keys, and each count stays an under-estimate).
    pub fn merge(&mut self, o: &Summary) {
        self.total += o.total;
        self.total_errors += o.total_errors;
        self.total_latency_us = self.total_latency_us.saturating_add(o.total_latency_us);
        for (key, e) in &o.entries {
            let m = self.entries.entry(key.clone()).or_default();
            m.count += e.count;
            m.errors += e.errors;
            m.latency_sum_us = m.latency_sum_us.saturating_add(e.latency_sum_us);
        }
    }

    /// Keys by count, largest first.
    pub fn top(&self, n: usize) -> Vec<(String, KeyEntry)> {
        let mut v: Vec<(String, KeyEntry)> =
            self.entries.iter().map(|(k, e)| (k.clone(), *e)).collect();
        v.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Keys by errors, largest first.
    pub fn top_errors(&self, n: usize) -> Vec<(String, KeyEntry)> {
        let mut v: Vec<(String, KeyEntry)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.errors > 0)
            .map(|(k, e)| (k.clone(), *e))
            .collect();
        v.sort_by(|a, b| b.1.errors.cmp(&a.1.errors).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_hitter_is_always_held_and_count_is_bounded() {
        let mut s = Summary::new(16);
        let mut n = 0u64;
        for i in 0..10_000u64 {
            // 30% of traffic is "m-hot", the rest spread over 5,000 keys.
            if i % 10 < 3 {
                s.add("m-hot", i % 2 == 0, 1000);
            } else {
                s.add(&format!("m{}", i % 5000), false, 100);
            }
            n += 1;
        }
        let top = s.top(1);
        assert_eq!(top[0].0, "m-hot");
        let true_count = 3000;
        assert!(top[0].1.count <= true_count);
        assert!(top[0].1.count + n / 17 >= true_count, "{}", top[0].1.count);
        assert!(s.entries.len() <= 16);
        assert_eq!(s.total, 10_000);
    }
}
