//! [`Published`]: a value replaced rarely (by the control plane) and read on
//! every call. Readers keep a per-thread copy of the current `Arc` and only
//! check a generation counter (a shared, never-written cache line), so
//! concurrent readers touch no common reference count or lock. Each owner
//! declares its own per-thread [`Cache`] (`thread_local!`), so reads of two
//! owners never nest on one cache.

use parking_lot::RwLock;
use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::LocalKey;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
const SLOTS: usize = 4;

/// Per-thread cached snapshots: (owner id, generation, value). Declare one
/// with `thread_local! { static CACHE: Cache = const { Cache::new(Vec::new()) }; }`.
pub(crate) type Cache = RefCell<Vec<(u64, u64, Arc<dyn Any + Send + Sync>)>>;

/// A value published by writers and read through a per-thread cache.
pub(crate) struct Published<T: Send + Sync + 'static> {
    id: u64,
    gen: AtomicU64,
    value: RwLock<Arc<T>>,
    cache: &'static LocalKey<Cache>,
}

impl<T: Send + Sync + 'static> std::fmt::Debug for Published<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Published")
            .field("gen", &self.gen)
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Published<T> {
    pub(crate) fn new(value: T, cache: &'static LocalKey<Cache>) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            gen: AtomicU64::new(0),
            value: RwLock::new(Arc::new(value)),
            cache,
        }
    }

    /// Replaces the value; readers see it on their next call.
    pub(crate) fn publish(&self, value: T) {
        *self.value.write() = Arc::new(value);
        self.gen.fetch_add(1, Ordering::AcqRel);
    }

    /// The current value (a reference count; for the control plane, not the payment path).
    pub(crate) fn load(&self) -> Arc<T> {
        self.value.read().clone()
    }

    /// Runs `f` on the current value from this thread's cache. Never nests on
    /// the same cache: a nested read falls back to [`Published::load`].
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let gen = self.gen.load(Ordering::Acquire);
        let mut f = Some(f);
        let hit = self
            .cache
            .try_with(|cell| {
                let mut slots = cell.try_borrow_mut().ok()?;
                let pos = match slots.iter().position(|s| s.0 == self.id) {
                    Some(p) if slots[p].1 == gen => p,
                    Some(p) => {
                        slots[p] = (self.id, gen, self.load() as Arc<dyn Any + Send + Sync>);
                        p
                    }
                    None => {
                        if slots.len() >= SLOTS {
                            slots.remove(0);
                        }
                        slots.push((self.id, gen, self.load() as Arc<dyn Any + Send + Sync>));
                        slots.len() - 1
                    }
                };
                let v = slots[pos].2.downcast_ref::<T>()?;
                Some((f.take()?)(v))
            })
            .ok()
            .flatten();
        match hit {
            Some(r) => r,
            None => match f.take() {
                Some(f) => f(&self.load()),
                None => unreachable!("f runs once: a hit returned its result"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static CACHE: Cache = const { Cache::new(Vec::new()) };
    }

    #[test]
    fn readers_see_new_values_and_nested_reads_work() {
        let p = Published::new(1u32, &CACHE);
        assert_eq!(p.with(|v| *v), 1);
        p.publish(2);
        assert_eq!(p.with(|v| *v), 2);
        let q = Published::new(10u32, &CACHE);
        assert_eq!(
            p.with(|a| q.with(|b| a + b)),
            12,
            "nested on one cache falls back"
        );
        assert_eq!(q.with(|v| *v), 10);
        let others: Vec<_> = (0..6).map(|i| Published::new(i, &CACHE)).collect();
        for (i, o) in others.iter().enumerate() {
            assert_eq!(o.with(|v| *v), i as u32);
        }
        assert_eq!(p.with(|v| *v), 2, "evicted slots reload");
    }
}
