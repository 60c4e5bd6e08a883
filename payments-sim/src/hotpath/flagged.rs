//! [`Flagged`]: a collection set rarely through the control plane and read on
//! every call; while it is empty, readers check one atomic flag and take no lock.

use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a [`Flagged`] holds: a collection whose emptiness lowers the flag.
pub(crate) trait Emptiable {
    fn is_empty(&self) -> bool;
}

impl<K, V> Emptiable for BTreeMap<K, V> {
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

impl<K, V, S> Emptiable for HashMap<K, V, S> {
    fn is_empty(&self) -> bool {
        HashMap::is_empty(self)
    }
}

impl<T> Emptiable for Vec<T> {
    fn is_empty(&self) -> bool {
        <[T]>::is_empty(self)
    }
}

/// A collection whose readers skip the lock while it is empty.
#[derive(Debug, Default)]
pub(crate) struct Flagged<T> {
    set: AtomicBool,
    value: RwLock<T>,
}

impl<T: Emptiable> Flagged<T> {
    /// `f` on the value, or `None` while it is empty (one atomic load then).
    #[inline]
    pub(crate) fn read_set<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        if !self.set.load(Ordering::Acquire) {
            return None;
        }
        Some(f(&self.value.read()))
    }

    /// `f` on the value, empty or not (for the control plane).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.value.read())
    }

    /// Changes the value under its write lock; the flag follows its emptiness.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut v = self.value.write();
        let out = f(&mut v);
        self.set.store(!v.is_empty(), Ordering::Release);
        out
    }
}

impl<V: Clone + PartialEq> Flagged<BTreeMap<String, V>> {
    /// Merges `body` into the map (`Some` sets a key, `None` removes it); the
    /// entries that changed, as given.
    pub(crate) fn merge(&self, body: BTreeMap<String, Option<V>>) -> Vec<(String, Option<V>)> {
        self.update(|m| {
            let mut changed = Vec::new();
            for (k, v) in body {
                let before = match v.clone() {
                    Some(x) => m.insert(k.clone(), x),
                    None => m.remove(&k),
                };
                if before != v {
                    changed.push((k, v));
                }
            }
            changed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_nothing_while_empty() {
        let f: Flagged<Vec<u32>> = Flagged::default();
        assert_eq!(f.read_set(|v| v.len()), None);
        f.update(|v| v.push(7));
        assert_eq!(f.read_set(|v| v[0]), Some(7));
        f.update(|v| v.clear());
        assert_eq!(f.read_set(|v| v.len()), None, "emptied lowers the flag");
        assert_eq!(f.read(|v| v.len()), 0);
    }

    #[test]
    fn merge_reports_what_changed() {
        let f: Flagged<BTreeMap<String, bool>> = Flagged::default();
        let body = |kv: &[(&str, Option<bool>)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        let changed = f.merge(body(&[("a", Some(false)), ("b", None)]));
        assert_eq!(
            changed,
            [("a".to_string(), Some(false))],
            "removing nothing is no change"
        );
        assert_eq!(f.merge(body(&[("a", Some(false))])), [], "same value");
        assert_eq!(f.merge(body(&[("a", None)])), [("a".to_string(), None)]);
        assert_eq!(f.read_set(|m| m.len()), None, "empty again");
    }
}
