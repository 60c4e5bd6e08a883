//! Seconds kept out of the baselines: while anything is unhealthy, a fault's effects must
//! never become the new normal (an unhealed fault would otherwise read healthy once it
//! filled half the baseline span, and the views it starves of calls would learn the
//! lower rate). A few merged spans of seconds.

/// Quarantined seconds, as inclusive `[from, to]` spans, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    spans: Vec<(u64, u64)>,
}

impl Quarantine {
    /// Quarantines the seconds `from..=to` (merged with an adjacent or overlapping span).
    pub fn mark(&mut self, from: u64, to: u64) {
        if let Some(last) = self.spans.last_mut() {
            if from <= last.1 + 1 && to + 1 >= last.0 {
                *last = (last.0.min(from), last.1.max(to));
                return;
            }
        }
        self.spans.push((from, to));
        self.spans.sort_unstable();
    }

    pub fn contains(&self, s: u64) -> bool {
        self.spans.iter().any(|(f, t)| *f <= s && s <= *t)
    }

    /// How many seconds in a row are quarantined up to and including `s` (0 if `s` is not).
    pub fn run_ending_at(&self, s: u64) -> u64 {
        self.spans
            .iter()
            .find(|(f, t)| *f <= s && s <= *t)
            .map_or(0, |(f, _)| s - f + 1)
    }

    /// Quarantined seconds within `from..end`.
    pub fn count_in(&self, from: u64, end: u64) -> u64 {
        self.spans
            .iter()
            .map(|(f, t)| {
                let (a, b) = ((*f).max(from), (*t + 1).min(end));
                b.saturating_sub(a)
            })
            .sum()
    }

    /// Forgets seconds before `s`; `true` when nothing is left.
    pub fn expire(&mut self, s: u64) -> bool {
        self.spans.retain(|(_, t)| *t >= s);
        self.spans.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_count_and_expire() {
        let mut q = Quarantine::default();
        q.mark(10, 10);
        q.mark(11, 12);
        q.mark(12, 12);
        assert_eq!(q.spans, [(10, 12)]);
        q.mark(20, 21);
        assert_eq!(q.spans, [(10, 12), (20, 21)]);
        assert!(q.contains(11) && q.contains(21) && !q.contains(13));
        assert_eq!(q.count_in(0, 100), 5);
        assert_eq!(q.count_in(11, 21), 3, "11, 12 and 20");
        assert_eq!(
            (
                q.run_ending_at(12),
                q.run_ending_at(11),
                q.run_ending_at(13)
            ),
            (3, 2, 0)
        );
        assert!(!q.expire(13));
        assert_eq!(q.spans, [(20, 21)]);
        assert!(q.expire(22));
    }
}
