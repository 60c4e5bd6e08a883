//! The control plane's plain state — degrade switches, bank channel weights, zone
//! split, service versions, ledger strategies — with the validation of each body.
//! Every setter returns a summary of what changed so the caller can emit change
//! events; readers on the payment path check one atomic flag before any lock.

use super::error::ControlError;
use crate::guard::{ChannelWeight, LedgerStrategy};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

/// One bank channel and its routing weight (`PUT /control/channels`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    pub bank: String,
    pub weight: u32,
}

fn check_name(field: &str, name: &str) -> Result<(), ControlError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(
            field,
            format!("{name:?} is not a name (1..=64 of a-z, 0-9, '.', '_', '-', ':')"),
        ))
    }
}

/// A map whose readers skip the lock while it is empty.
#[derive(Debug, Default)]
struct Flagged<T> {
    set: AtomicBool,
    value: RwLock<T>,
}

/// Switches, channels, zones, versions and ledger strategies.
#[derive(Debug, Default)]
pub struct ControlState {
    switches: Flagged<BTreeMap<String, bool>>,
    channels: Flagged<Vec<ChannelWeight>>,
    zones: Flagged<Vec<(String, u32)>>,
    versions: Flagged<HashMap<String, String>>,
    ledger: Flagged<HashMap<String, LedgerStrategy>>,
}

impl ControlState {
    // ---- switches ------------------------------------------------------------

    pub fn feature_enabled(&self, feature: &str) -> bool {
        if !self.switches.set.load(Ordering::Acquire) {
            return true;
        }
        self.switches
            .value
            .read()
            .get(feature)
            .copied()
            .unwrap_or(true)
    }

    pub fn switches(&self) -> BTreeMap<String, bool> {
        self.switches.value.read().clone()
    }

    /// Merges `body` (`null` resets a switch to on). Returns the changed entries.
    pub fn put_switches(
        &self,
        body: BTreeMap<String, Option<bool>>,
    ) -> Result<Vec<(String, Option<bool>)>, ControlError> {
        for k in body.keys() {
            check_name(k, k)?;
        }
        let mut m = self.switches.value.write();
        let mut changed = Vec::new();
        for (k, v) in body {
            let before = m.get(&k).copied();
            match v {
                Some(on) => {
                    m.insert(k.clone(), on);
                }
                None => {
                    m.remove(&k);
                }
            }
            if before != v {
                changed.push((k, v));
            }
        }
        self.switches.set.store(!m.is_empty(), Ordering::Release);
        Ok(changed)
    }

    // ---- channels ------------------------------------------------------------

    pub fn channel_weights(&self) -> Option<Vec<ChannelWeight>> {
        if !self.channels.set.load(Ordering::Acquire) {
            return None;
        }
        Some(self.channels.value.read().clone())
    }

    pub fn channels(&self) -> Vec<ChannelBody> {
        self.channels
            .value
            .read()
            .iter()
            .map(|c| ChannelBody {
                bank: c.bank.clone(),
                weight: c.weight,
            })
            .collect()
    }

    /// Replaces the weight table (`[]` restores the routing engine's defaults).
    pub fn put_channels(&self, body: Vec<ChannelBody>) -> Result<(), ControlError> {
        let mut seen = std::collections::HashSet::new();
        for (i, c) in body.iter().enumerate() {
            check_name(&format!("[{i}].bank"), &c.bank)?;
            if !seen.insert(c.bank.as_str()) {
                return Err(ControlError::invalid(
                    format!("[{i}].bank"),
                    format!("{:?} listed twice", c.bank),
                ));
            }
            if c.weight > 1_000_000 {
                return Err(ControlError::invalid(
                    format!("[{i}].weight"),
                    "must be <= 1000000",
                ));
            }
        }
        if !body.is_empty() && body.iter().all(|c| c.weight == 0) {
            return Err(ControlError::invalid(
                "[0].weight",
                "at least one channel needs a weight > 0",
            ));
        }
        let mut v = self.channels.value.write();
        *v = body
            .into_iter()
            .map(|c| ChannelWeight {
                bank: c.bank,
                weight: c.weight,
            })
            .collect();
        self.channels.set.store(!v.is_empty(), Ordering::Release);
        Ok(())
    }

    // ---- zones ---------------------------------------------------------------

    /// The zone for a user hash: buckets `hash % total` over the zones in name order.
    pub fn zone_for(&self, user_hash: u64) -> Option<String> {
        if !self.zones.set.load(Ordering::Acquire) {
            return None;
        }
        let z = self.zones.value.read();
        let total: u64 = z.iter().map(|(_, w)| *w as u64).sum();
        if total == 0 {
            return None;
        }
        let mut pick = user_hash % total;
        for (zone, w) in z.iter() {
            if pick < *w as u64 {
                return Some(zone.clone());
            }
            pick -= *w as u64;
        }
        None
    }

    pub fn zones(&self) -> BTreeMap<String, u32> {
        self.zones.value.read().iter().cloned().collect()
    }

    /// Replaces the split (`{}` restores the default split).
    pub fn put_zones(&self, body: BTreeMap<String, u32>) -> Result<(), ControlError> {
        for (k, w) in &body {
            check_name(k, k)?;
            if *w > 100 {
                return Err(ControlError::invalid(
                    k.clone(),
                    "a zone's share is a percentage, 0..=100",
                ));
            }
        }
        if !body.is_empty() && body.values().map(|w| *w as u64).sum::<u64>() != 100 {
            return Err(ControlError::invalid(
                "body",
                "zone shares must add up to 100",
            ));
        }
        let mut v = self.zones.value.write();
        *v = body.into_iter().collect();
        self.zones.set.store(!v.is_empty(), Ordering::Release);
        Ok(())
    }

    // ---- versions ------------------------------------------------------------

    pub fn version(&self, service: &str) -> Option<String> {
        if !self.versions.set.load(Ordering::Acquire) {
            return None;
        }
        self.versions.value.read().get(service).cloned()
    }

    pub fn versions(&self) -> BTreeMap<String, String> {
        self.versions
            .value
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Sets (or with `None` clears) one service's version.
    pub fn set_version(&self, service: &str, version: Option<String>) {
        let mut m = self.versions.value.write();
        match version {
            Some(v) => {
                m.insert(service.to_string(), v);
            }
            None => {
                m.remove(service);
            }
        }
        self.versions.set.store(!m.is_empty(), Ordering::Release);
    }

    pub fn check_versions(body: &BTreeMap<String, Option<String>>) -> Result<(), ControlError> {
        for (k, v) in body {
            check_name(k, k)?;
            if let Some(v) = v {
                if v.is_empty()
                    || v.len() > 64
                    || v.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(ControlError::invalid(
                        k.clone(),
                        "a version is 1..=64 bytes with no spaces",
                    ));
                }
            }
        }
        Ok(())
    }

    // ---- ledger --------------------------------------------------------------

    pub fn ledger_strategy(&self, account: &str) -> Option<LedgerStrategy> {
        if !self.ledger.set.load(Ordering::Acquire) {
            return None;
        }
        self.ledger.value.read().get(account).copied()
    }

    pub fn ledger(&self) -> BTreeMap<String, LedgerStrategy> {
        self.ledger
            .value
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Merges `body` (`null` restores the ledger's default for that account).
    pub fn put_ledger(
        &self,
        body: BTreeMap<String, Option<LedgerStrategy>>,
    ) -> Result<Vec<(String, Option<LedgerStrategy>)>, ControlError> {
        for k in body.keys() {
            check_name(k, k)?;
        }
        let mut m = self.ledger.value.write();
        let mut changed = Vec::new();
        for (k, v) in body {
            let before = m.get(&k).copied();
            match v {
                Some(s) => {
                    m.insert(k.clone(), s);
                }
                None => {
                    m.remove(&k);
                }
            }
            if before != v {
                changed.push((k, v));
            }
        }
        self.ledger.set.store(!m.is_empty(), Ordering::Release);
        Ok(changed)
    }
}
