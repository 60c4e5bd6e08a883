//! A sharded concurrent map (64 mutex-guarded shards, a fast integer hash): the
//! storage of orders, journal, bank books and clearing items.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// FxHash-style hasher: keys here are small integers and ids.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64)
    }
    fn write_u16(&mut self, v: u16) {
        self.write_u64(v as u64)
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64)
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64)
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

const SHARDS: usize = 64;

pub(crate) struct Shards<K, V> {
    shards: Vec<Mutex<Map<K, V>>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Default for Shards<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shards<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Map::default())).collect(),
        }
    }
    fn shard(&self, k: &K) -> &Mutex<Map<K, V>> {
        let mut h = FastHasher::default();
        k.hash(&mut h);
        &self.shards[(h.finish() >> 58) as usize % SHARDS]
    }
    pub(crate) fn get_cloned(&self, k: &K) -> Option<V> {
        self.shard(k).lock().get(k).cloned()
    }
    pub(crate) fn get_or_insert(&self, k: K, f: impl FnOnce() -> V) -> V {
        self.shard(&k).lock().entry(k).or_insert_with(f).clone()
    }
    /// Inserts only if absent; returns whether it did.
    pub(crate) fn insert_new(&self, k: K, v: V) -> bool {
        let mut s = self.shard(&k).lock();
        if s.contains_key(&k) {
            return false;
        }
        s.insert(k, v);
        true
    }
    pub(crate) fn insert(&self, k: K, v: V) {
        self.shard(&k).lock().insert(k, v);
    }
    pub(crate) fn remove(&self, k: &K) -> Option<V> {
        self.shard(k).lock().remove(k)
    }
    /// Runs `f` on the value of `k` if present.
    pub(crate) fn update<R>(&self, k: &K, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.shard(k).lock().get_mut(k).map(f)
    }
    pub(crate) fn values(&self) -> Vec<V> {
        let mut out = Vec::new();
        for s in &self.shards {
            out.extend(s.lock().values().cloned());
        }
        out
    }
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

impl<K: Hash + Eq + Clone + Ord, V: Clone> Shards<K, V> {
    pub(crate) fn snapshot(&self) -> BTreeMap<K, V> {
        let mut out = BTreeMap::new();
        for s in &self.shards {
            for (k, v) in s.lock().iter() {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}
