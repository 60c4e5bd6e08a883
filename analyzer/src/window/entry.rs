//! Payments at the platform's entry, per scene: root server records (a payment's first
//! span, no parent) of real traffic, counted per second in a ring — what the screen's
//! payments/s, success rate and scene board read (see [`crate::api::entry`]). Raw
//! records only (rollups do not say which calls are a payment's first). Kept apart
//! from the health-judged views: the entry services' own service views are judged.

use digest::{DigestRecord, SpanKind};
use std::collections::BTreeMap;

/// Payments and how many succeeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub payments: u64,
    pub ok: u64,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.payments += o.payments;
        self.ok += o.ok;
    }
}

#[derive(Debug, Clone)]
struct Second {
    second: u64,
    by_scene: BTreeMap<String, Tally>,
}

/// The last seconds of entry payments, by scene (`""` for records without one).
#[derive(Debug)]
pub struct EntryScenes {
    secs: Vec<Second>,
}

impl EntryScenes {
    /// Keeps `seconds` seconds (at least 2).
    pub fn new(seconds: usize) -> Self {
        let empty = Second {
            second: u64::MAX,
            by_scene: BTreeMap::new(),
        };
        Self {
            secs: vec![empty; seconds.max(2)],
        }
    }

    /// Counts `r` if it is a payment's entry on real traffic; a record older than the
    /// ring holds is dropped.
    pub fn add(&mut self, r: &DigestRecord) {
        if r.kind != SpanKind::Server || r.parent_span_id.is_some() || r.shadow {
            return;
        }
        let second = r.time_us / 1_000_000;
        let idx = (second % self.secs.len() as u64) as usize;
        let s = &mut self.secs[idx];
        if s.second != second {
            if s.second != u64::MAX && s.second > second {
                return;
            }
            s.second = second;
            s.by_scene.clear();
        }
        let t = match s.by_scene.get_mut(&r.scene) {
            Some(t) => t,
            None => s.by_scene.entry(r.scene.clone()).or_default(),
        };
        t.add(Tally {
            payments: 1,
            ok: u64::from(r.success),
        });
    }

    /// Per scene over the seconds `[from_s, to_s)`.
    pub fn range(&self, from_s: u64, to_s: u64) -> BTreeMap<&str, Tally> {
        let mut out: BTreeMap<&str, Tally> = BTreeMap::new();
        for s in self
            .secs
            .iter()
            .filter(|s| (from_s..to_s).contains(&s.second))
        {
            for (scene, t) in &s.by_scene {
                out.entry(scene.as_str()).or_default().add(*t);
            }
        }
        out
    }
}
